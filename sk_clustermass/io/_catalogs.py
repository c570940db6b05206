"""Readers for the public eROSITA cluster catalogues.

:func:`read_cluster_catalog` reads a FITS table, an ECSV/CSV or a Feather file and
returns a :class:`pandas.DataFrame` with the library's column names next to the
original ones:

==================  ======  ===================================================
``name``            --      source name (when the catalogue has one)
``ra_deg``          deg     right ascension (J2000 / ICRS)
``dec_deg``         deg     declination
``z``               --      redshift
``M500c``           Msun    published mass, for comparison (when present)
``M500c_low``       Msun    lower 1-sigma bound of the published mass
``M500c_high``      Msun    upper 1-sigma bound of the published mass
==================  ======  ===================================================

Layouts name the columns to look for, first match wins:

- ``'efeds'``: the eFEDS cluster catalogue of Liu et al. (2022, A&A 661, A2) and
  its optical counterparts of Klein et al. (2022, A&A 661, A4; X-ray positions
  ``RA_CORR``/``DEC_CORR``), with weak-lensing informed masses of Chiu et al. (2022,
  A&A 661, A11) where they were joined;
- ``'erass1'``: the eRASS1 primary cluster catalogue of Bulbul et al. (2024, A&A 685,
  A106; ``RA``/``DEC``, ``BEST_Z``, ``M500`` with ``M500_L``/``M500_H``).

Masses take their unit from the table (FITS ``TUNIT``, ECSV units); a mass column
without a unit needs ``mass_unit`` (e.g. ``'1e14 Msun'``), except that values between
10 and 16 are read as ``log10(M/Msun)`` and values above 1e10 as Msun.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from pathlib import Path

import astropy.units as u
import numpy as np
import pandas as pd
from astropy.table import Table

__all__ = ["CATALOG_LAYOUTS", "read_cluster_catalog"]

#: layout -> standard column -> candidate source columns (first present wins).
CATALOG_LAYOUTS: dict[str, dict[str, tuple[str, ...]]] = {
    "efeds": {
        "name": ("Name", "NAME", "ID_SRC"),
        "ra_deg": ("RA_CORR", "RA"),
        "dec_deg": ("DEC_CORR", "DEC"),
        "z": ("z", "Z", "z_final", "BEST_Z", "z_BEST_COMB"),
        "M500c": ("M500c", "M500", "M500_WL"),
        "M500c_low": ("M500c_L", "M500_L", "M500c_low", "M500_WL_L"),
        "M500c_high": ("M500c_H", "M500_H", "M500c_high", "M500_WL_H"),
    },
    "erass1": {
        "name": ("NAME", "Name", "DETUID"),
        "ra_deg": ("RA", "RA_XFIT"),
        "dec_deg": ("DEC", "DEC_XFIT"),
        "z": ("BEST_Z", "z", "Z"),
        "M500c": ("M500", "M500c"),
        "M500c_low": ("M500_L", "M500c_L"),
        "M500c_high": ("M500_H", "M500c_H"),
    },
}
_REQUIRED = ("ra_deg", "dec_deg", "z")
_MASSES = ("M500c", "M500c_low", "M500c_high")
_FEATHER = (".feather", ".ftr", ".arrow")


def _read_table(path: Path) -> Table:
    name = path.name.lower()
    if name.endswith(_FEATHER) or _magic(path) in (b"ARROW1", b"FEA1"):
        with warnings.catch_warnings():  # reading a Feather V1 file is still supported
            warnings.filterwarnings("ignore", "Feather V1", DeprecationWarning)
            frame = pd.read_feather(path)
        return Table.from_pandas(frame)
    try:
        table = Table.read(path, format="ascii.ecsv" if name.endswith(".ecsv") else None)
    except Exception as exc:  # astropy raises many types for unknown formats
        message = (f"{str(path)!r} could not be read as a catalogue (FITS table, ECSV, "
                   f"CSV or Feather): {type(exc).__name__}: {exc}")
        raise ValueError(message) from exc
    table.convert_bytestring_to_unicode()
    return table


def _magic(path: Path) -> bytes:
    with open(path, "rb") as handle:
        start = handle.read(6)
    return start[:4] if start[:4] == b"FEA1" else start


def _detect_layout(table: Table) -> str:
    names = set(table.colnames)
    if "BEST_Z" in names and "RA" in names:
        return "erass1"
    return "efeds"


def _pick(table: Table, candidates: tuple[str, ...]) -> str | None:
    lower = {name.lower(): name for name in table.colnames}
    for candidate in candidates:
        if candidate in table.colnames:
            return candidate
        if candidate.lower() in lower:
            return lower[candidate.lower()]
    return None


def _mass_msun(column, source: str, mass_unit: str | None) -> np.ndarray:
    values = np.ma.filled(np.ma.asarray(column, dtype=np.float64), np.nan)
    unit = getattr(column, "unit", None)
    if mass_unit is not None:
        unit = u.Unit(mass_unit)
    if unit is not None and str(unit) not in ("", "dex"):
        try:
            return (values * u.Unit(unit)).to_value(u.Msun)
        except u.UnitConversionError as exc:
            message = f"mass column {source!r} has unit {unit}, not a mass; pass mass_unit"
            raise ValueError(message) from exc
    finite = values[np.isfinite(values)]
    if finite.size and np.all((finite > 10) & (finite < 16)):
        return 10.0**values
    if finite.size == 0 or np.all(finite > 1e10):
        return values
    message = (f"mass column {source!r} has no unit and values such as {finite[0]:g}; "
               "pass mass_unit (e.g. '1e14 Msun' or '1e13 Msun') as given in the "
               "catalogue's data model")
    raise ValueError(message)


def read_cluster_catalog(
    path: str | os.PathLike,
    layout: str = "auto",
    *,
    columns: Mapping[str, str] | None = None,
    mass_unit: str | None = None,
) -> pd.DataFrame:
    """Read a cluster catalogue into the library's columns (positions, z, masses).

    Parameters
    ----------
    path : str or os.PathLike
        FITS table, ECSV, CSV or Feather (V1 or V2) file.
    layout : {'auto', 'efeds', 'erass1'}, default='auto'
        Which published column layout to expect (see :data:`CATALOG_LAYOUTS`);
        'auto' takes 'erass1' when the table has ``BEST_Z`` and ``RA``, else 'efeds'.
    columns : mapping, optional
        Explicit source column per standard name, e.g. ``{"z": "Z_SPEC"}``; wins
        over the layout.
    mass_unit : str, optional
        Unit of the mass columns when the file does not state one.

    Returns
    -------
    pandas.DataFrame
        The original columns plus ``ra_deg``, ``dec_deg``, ``z`` and, when present,
        ``name``, ``M500c``, ``M500c_low``, ``M500c_high`` (Msun).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        For an unreadable file, an unknown layout, a missing position or redshift
        column, or masses of unknown unit.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from astropy.table import Table
    >>> from sk_clustermass.datasets import read_cluster_catalog
    >>> table = Table({"RA": [150.1], "DEC": [2.2], "BEST_Z": [0.3], "M500": [2.0]})
    >>> table["M500"].unit = "1e14 Msun"
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "erass1.fits"
    ...     table.write(path)
    ...     catalog = read_cluster_catalog(path)
    >>> catalog[["ra_deg", "dec_deg", "z"]].iloc[0].tolist(), f"{catalog['M500c'][0]:.3g}"
    ([150.1, 2.2, 0.3], '2e+14')
    """
    path = Path(path)
    if not path.is_file():
        message = f"catalogue {str(path)!r} does not exist (or is not a file)"
        raise FileNotFoundError(message)
    table = _read_table(path)
    if layout == "auto":
        layout = _detect_layout(table)
    if layout not in CATALOG_LAYOUTS:
        message = f"layout {layout!r} is unknown; choose 'auto' or one of {list(CATALOG_LAYOUTS)}"
        raise ValueError(message)
    chosen = {key: _pick(table, names) for key, names in CATALOG_LAYOUTS[layout].items()}
    for key, name in dict(columns or {}).items():
        if name not in table.colnames:
            message = f"columns[{key!r}] = {name!r} is not a column of {str(path)!r}"
            raise ValueError(message)
        chosen[key] = name
    missing = [key for key in _REQUIRED if chosen.get(key) is None]
    if missing:
        message = (f"{str(path)!r} ({layout} layout) has no column for {missing}; its "
                   f"columns are {table.colnames[:20]}. Name them with columns="
                   "{'ra_deg': ..., 'dec_deg': ..., 'z': ...}")
        raise ValueError(message)
    plain = [name for name in table.colnames if table[name].ndim == 1]
    frame = table[plain].to_pandas().reset_index(drop=True)
    for key in ("name", "ra_deg", "dec_deg", "z"):
        if chosen.get(key) is not None:
            values = table[chosen[key]]
            frame[key] = (np.asarray(values).astype(str) if key == "name"
                          else np.ma.filled(np.ma.asarray(values, dtype=np.float64), np.nan))
    for key in _MASSES:
        if chosen.get(key) is not None:
            frame[key] = _mass_msun(table[chosen[key]], chosen[key], mass_unit)
    return frame
