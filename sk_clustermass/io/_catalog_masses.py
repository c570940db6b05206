"""Cluster masses in catalogues: the column names and the Msun check the readers share.

The lab's files (:mod:`._lab_files`) and FITS cubes (:mod:`._fits`) both take the
target ``log10(M500c / Msun)`` from a catalogue column ``M500c`` in solar masses;
:func:`catalog_masses_msun` refuses what is not (log10 masses, grams, broken rows).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["MASS_COLUMN", "MASS_RANGE_MSUN", "REDSHIFT_COLUMN", "catalog_masses_msun"]

#: Catalogue column of the cluster mass M500c, Msun.
MASS_COLUMN = "M500c"
#: Catalogue column of the redshift.
REDSHIFT_COLUMN = "z"
_MIN_PLAUSIBLE_MASS_MSUN = 1e8
#: Physical range of M500c in Msun. Galaxy groups begin near 1e13 Msun and the most
#: massive clusters known have M500c of about 1-2e15 Msun (Planck Collaboration 2016,
#: A&A 594, A27, the PSZ2 catalogue); a decade of margin either side keeps every real
#: halo and refuses masses in other units (grams: ~1e47, kg: ~1e44, 1e14 Msun: ~1).
MASS_RANGE_MSUN = (1e10, 1e17)


def catalog_masses_msun(catalog: pd.DataFrame, where: str) -> np.ndarray:
    """``M500c`` of a catalogue as float64, checked to be finite, positive and in Msun.

    Parameters
    ----------
    catalog : pandas.DataFrame
        Must hold the column :data:`MASS_COLUMN` (``'M500c'``).
    where : str
        What the catalogue is, for the error messages (e.g. its path).

    Returns
    -------
    ndarray of shape (n_rows,)
        M500c in Msun.

    Raises
    ------
    TypeError
        If the column is not numeric.
    ValueError
        If a mass is missing, not finite, not positive, or the masses look like
        another unit (log10(M), grams, kilograms): outside :data:`MASS_RANGE_MSUN`.
    """
    try:
        mass = catalog[MASS_COLUMN].to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        message = f"column '{MASS_COLUMN}' of {where} is not numeric ({exc})"
        raise TypeError(message) from exc
    bad = ~(np.isfinite(mass) & (mass > 0))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        message = (
            f"{int(bad.sum())} cluster(s) in {where} have a missing, non-finite or "
            f"non-positive '{MASS_COLUMN}' (first at row {first}: {mass[first]!r}); "
            "log10(M500c) needs masses > 0 in Msun. Drop those rows from both files."
        )
        raise ValueError(message)
    if np.median(mass) < _MIN_PLAUSIBLE_MASS_MSUN:
        message = (
            f"'{MASS_COLUMN}' in {where} has median {np.median(mass):.3g}, which is not a "
            "cluster mass in Msun (expected ~1e13-1e15): it looks like log10(M) or a mass "
            "in other units. Convert the column to Msun first."
        )
        raise ValueError(message)
    _check_mass_range(mass, where)
    return mass


def _check_mass_range(mass: np.ndarray, where: str) -> None:
    """Refuse masses outside :data:`MASS_RANGE_MSUN`: another unit, or a broken row."""
    low, high = MASS_RANGE_MSUN
    outside = (mass < low) | (mass > high)
    if outside.any():
        first = int(np.flatnonzero(outside)[0])
        message = (
            f"{int(outside.sum())} cluster(s) in {where} have '{MASS_COLUMN}' outside the "
            f"physical range {low:.0e}-{high:.0e} Msun (first at row {first}: "
            f"{mass[first]:.3g}); the column must hold M500c in solar masses (1e47 would "
            "be grams, 1e44 kilograms). Convert it to Msun or drop the broken rows."
        )
        raise ValueError(message)
