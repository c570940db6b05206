"""Mass units as catalogues write them: log10 columns, ``Msun/h``, VizieR's ``10+14Msun``.

Published cluster catalogues state masses in many ways: linear in solar masses or in
``1e14 Msun``, as ``log10`` (``dex(Msun)``, ``log(Msun)``, ``[Msun]``), and per
little ``h`` (``Msun/h``, ``h-1 Msun``, ``log(Msun/h)``), a convention in which a mass
``X Msun/h`` is ``X / h`` solar masses. :func:`parse_mass_unit` reads such a string
into a :class:`MassUnit`; :func:`masses_msun` converts values with it and refuses
results outside the physical range of cluster masses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import astropy.units as u
import numpy as np

from ._catalog_masses import MASS_RANGE_MSUN

__all__ = ["MassUnit", "masses_msun", "parse_mass_unit"]

_LOG = re.compile(r"^\s*(?:log10|log|lg|dex)\s*\((.*)\)\s*$|^\s*\[(.*)\]\s*$", re.IGNORECASE)
_PER_H = re.compile(r"/\s*h(?![a-z0-9])|(?<![a-z])h\s*(?:\^|\*\*)?\s*\{?\s*-1\s*\}?",
                    re.IGNORECASE)
_VIZIER_SCALE = re.compile(r"^\s*10\+?(\d+)\s*")


@dataclass(frozen=True)
class MassUnit:
    """A catalogue's mass unit.

    Parameters
    ----------
    text : str
        The unit as the catalogue wrote it.
    msun : float
        Solar masses per unit of the (linear) values.
    log : bool
        The column holds ``log10`` of the mass in that unit.
    per_h : bool
        The unit is per little h (``Msun/h``): masses are divided by ``h``.
    """

    text: str
    msun: float
    log: bool
    per_h: bool


def parse_mass_unit(text: str, column: str) -> MassUnit:
    """Read a catalogue's mass unit (``'Msun'``, ``'1e14 Msun'``, ``'log(Msun/h)'``, ...).

    Parameters
    ----------
    text : str
        The unit: an astropy mass unit, optionally scaled (``'1e14 Msun'``, VizieR's
        ``'10+14Msun'``), optionally per h (``'Msun/h'``, ``'h-1 Msun'``), optionally
        as log10 (``'dex(Msun)'``, ``'log(Msun/h)'``, ``'log10(Msun)'``, ``'[Msun]'``).
    column : str
        The column it belongs to, for the error message.

    Returns
    -------
    MassUnit

    Raises
    ------
    ValueError
        If the unit is not a mass unit, naming the column and the fix.

    Examples
    --------
    >>> unit = parse_mass_unit("log(Msun/h)", "M500")
    >>> unit.log, unit.per_h, unit.msun
    (True, True, 1.0)
    >>> parse_mass_unit("10+14Msun", "M500").msun == 1e14
    True
    """
    match = _LOG.match(text)
    inner = text if match is None else (match.group(1) or match.group(2) or "")
    per_h = _PER_H.search(inner) is not None
    inner = _PER_H.sub(" ", inner).strip(" *.")
    inner = _VIZIER_SCALE.sub(lambda m: f"1e{m.group(1)} ", inner) or "Msun"
    try:
        # 15 digits: astropy's conversion of '1e14 Msun' carries a rounding error
        msun = float(f"{u.Unit(inner).to(u.Msun):.15g}")
    except (ValueError, u.UnitConversionError) as exc:
        message = (f"mass column {column!r} has unit {text!r}, which is not a mass unit; "
                   "pass mass_unit, e.g. 'Msun', '1e14 Msun', 'Msun/h' with h=..., or "
                   "'dex(Msun)' for log10 masses")
        raise ValueError(message) from exc
    return MassUnit(text, msun, match is not None, per_h)


def masses_msun(values: np.ndarray, unit: MassUnit, column: str, h: float | None) -> np.ndarray:
    """Values of a mass column in solar masses, checked to be cluster masses.

    Parameters
    ----------
    values : ndarray of shape (n_rows,)
        The column, NaN where missing.
    unit : MassUnit
        Its unit (:func:`parse_mass_unit`).
    column : str
        Its name, for the error messages.
    h : float or None
        The Hubble parameter ``H0 / (100 km/s/Mpc)`` of a catalogue in ``Msun/h``.

    Returns
    -------
    ndarray of shape (n_rows,)
        Masses in Msun.

    Raises
    ------
    ValueError
        If the unit is per h and no ``h`` is given, or a converted mass lies outside
        :data:`~sk_clustermass.io.MASS_RANGE_MSUN` (e.g. log10 masses read as linear).
    """
    if unit.per_h and h is None:
        message = (f"mass column {column!r} is in {unit.text!r}, per little h; pass the "
                   "catalogue's h (H0 / 100 km/s/Mpc, e.g. h=0.7) to convert to Msun")
        raise ValueError(message)
    linear = 10.0**values if unit.log else values
    mass = linear * unit.msun / (h if unit.per_h else 1.0)
    _check_physical(values, mass, unit, column)
    return mass


def _check_physical(values: np.ndarray, mass: np.ndarray, unit: MassUnit, column: str) -> None:
    low, high = MASS_RANGE_MSUN
    finite = np.isfinite(mass)
    outside = finite & ((mass < low) | (mass > high))
    if not outside.any():
        return
    first = int(np.flatnonzero(outside)[0])
    looks_log = not unit.log and np.all((values[finite] > 10) & (values[finite] < 16.5))
    hint = (f"its values look like log10 masses: pass mass_unit='dex(Msun)' (or "
            f"'log(Msun/h)' with h=...) for {column!r}" if looks_log else
            f"pass the unit the catalogue states with mass_unit (e.g. '1e14 Msun') for "
            f"{column!r}")
    message = (f"mass column {column!r} read as {unit.text!r} gives {int(outside.sum())} "
               f"mass(es) outside the physical range {low:.0e}-{high:.0e} Msun (first at "
               f"row {first}: {values[first]:g} -> {mass[first]:.3g} Msun); {hint}")
    raise ValueError(message)
