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
``f_cont``          --      probability that the source is a contaminant (MCMF)
==================  ======  ===================================================

Layouts name the columns to look for, first match wins:

- ``'efeds'``: the eFEDS cluster catalogue of Liu et al. (2022, A&A 661, A2) and
  its optical counterparts of Klein et al. (2022, A&A 661, A4; X-ray positions
  ``RA_CORR``/``DEC_CORR``), with weak-lensing informed masses of Chiu et al. (2022,
  A&A 661, A11) where they were joined;
- ``'erass1'``: the eRASS1 primary cluster catalogue of Bulbul et al. (2024, A&A 685,
  A106; ``RA``/``DEC``, ``BEST_Z``, ``M500`` with ``M500_L``/``M500_H``).

Masses take their unit from the table (FITS ``TUNIT``, ECSV units) or from
``mass_unit``: linear (``'Msun'``, ``'1e14 Msun'``, VizieR's ``'10+14Msun'``), log10
(``'dex(Msun)'``, ``'log(Msun)'``) and per little h (``'Msun/h'``, ``'log(Msun/h)'``,
converted with the ``h`` the catalogue states). A mass column without a unit is read
as Msun when every value is above 1e10; values between 10 and 16 could be log10 masses
or masses in 1e14 Msun and are refused as ambiguous. Every mass, however its unit was
found, must lie in the physical range 1e10-1e17 Msun, and lower and upper bounds must
bracket the mass. Positions come from ``RA``/``DEC`` (or VizieR's ``RAJ2000``/
``DEJ2000``) or, when a table has none, from IAU names (``eFEDS J093513.3+004746``).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from astropy.table import Table

from .._utils import check_choice, check_number
from ._catalog_masses import MASS_RANGE_MSUN
from ._iau_names import positions_from_names
from ._mass_units import MassUnit, masses_msun, parse_mass_unit

__all__ = ["CATALOG_LAYOUTS", "read_cluster_catalog"]

#: layout -> standard column -> candidate source columns (first present wins).
CATALOG_LAYOUTS: dict[str, dict[str, tuple[str, ...]]] = {
    "efeds": {
        "name": ("Name", "NAME", "ID_SRC"),
        "ra_deg": ("RA_CORR", "RA", "RAJ2000", "_RAJ2000"),
        "dec_deg": ("DEC_CORR", "DEC", "DEJ2000", "_DEJ2000"),
        "z": ("z", "Z", "z_final", "BEST_Z", "z_BEST_COMB"),
        "M500c": ("M500c", "M500", "M500_WL"),
        "M500c_low": ("M500c_L", "M500_L", "M500c_low", "M500_WL_L"),
        "M500c_high": ("M500c_H", "M500_H", "M500c_high", "M500_WL_H"),
        "f_cont": ("F_CONT_BEST_COMB", "F_CONT", "FCONT"),
    },
    "erass1": {
        "name": ("NAME", "Name", "DETUID"),
        "ra_deg": ("RA", "RA_XFIT", "RAJ2000", "_RAJ2000"),
        "dec_deg": ("DEC", "DEC_XFIT", "DEJ2000", "_DEJ2000"),
        "z": ("BEST_Z", "z", "Z"),
        "M500c": ("M500", "M500c"),
        "M500c_low": ("M500_L", "M500c_L"),
        "M500c_high": ("M500_H", "M500c_H"),
        "f_cont": ("F_CONT_BEST_COMB", "F_CONT", "FCONT"),
    },
}
_REQUIRED = ("ra_deg", "dec_deg", "z")
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
    if "BEST_Z" in names and names & {"RA", "RAJ2000", "_RAJ2000"}:
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


def _column_values(column) -> np.ndarray:
    return np.ma.filled(np.ma.asarray(column, dtype=np.float64), np.nan)


def _unit_text(column, key: str, mass_unit: str | Mapping[str, str] | None) -> str | None:
    """The unit of a mass column: ``mass_unit`` (for it, or for all), else the table's."""
    if isinstance(mass_unit, Mapping):
        if key in mass_unit:
            return str(mass_unit[key])
    elif mass_unit is not None:
        return str(mass_unit)
    unit = getattr(column, "unit", None)
    text = "" if unit is None else str(unit)
    return text if text.strip() else None


def _unitless_msun(values: np.ndarray, source: str) -> np.ndarray:
    finite = values[np.isfinite(values)]
    if finite.size == 0 or np.all(finite > MASS_RANGE_MSUN[0]):
        return masses_msun(values, MassUnit("Msun (no unit given)", 1.0, False, False),
                           source, None)
    if np.all((finite > 10) & (finite < 16)):
        message = (f"mass column {source!r} has no unit and values such as {finite[0]:g}: "
                   "they could be log10(M/Msun) or masses in 1e14 Msun. Pass mass_unit="
                   "'dex(Msun)' (or 'log(Msun/h)' with h=...) for log10 masses, or "
                   "mass_unit='1e14 Msun', as the catalogue's data model states")
        raise ValueError(message)
    message = (f"mass column {source!r} has no unit and values such as {finite[0]:g}; "
               "pass mass_unit (e.g. '1e14 Msun' or '1e13 Msun') as given in the "
               "catalogue's data model")
    raise ValueError(message)


def _mass_msun(column, key: str, source: str, mass_unit, h: float | None) -> np.ndarray:
    values = _column_values(column)
    text = _unit_text(column, key, mass_unit)
    if text is None:
        return _unitless_msun(values, source)
    return masses_msun(values, parse_mass_unit(text, source), source, h)


def _bound_msun(table: Table, chosen: dict, key: str, mass: np.ndarray, mass_unit,
                h: float | None, mass_bounds: str) -> np.ndarray:
    """A bound column in Msun; with ``mass_bounds='errors'``, mass -/+ the error."""
    source = chosen[key]
    if mass_bounds == "bounds":
        return _mass_msun(table[source], key, source, mass_unit, h)
    values = _column_values(table[source])
    text = _unit_text(table[source], key, mass_unit) or _unit_text(
        table[chosen["M500c"]], "M500c", mass_unit)
    sign = -1.0 if key == "M500c_low" else 1.0
    if text is not None and text.strip() == "dex":
        return mass * 10.0 ** (sign * values)
    if text is None:
        message = (f"error column {source!r} has no unit; pass mass_unit={{{key!r}: ...}} "
                   "(e.g. 'Msun/h', '1e14 Msun' or 'dex')")
        raise ValueError(message)
    unit = parse_mass_unit(text, source)
    if unit.log:
        message = (f"error column {source!r} has the log unit {text!r}; give errors of "
                   "log10 masses as 'dex', linear errors as a mass unit (e.g. 'Msun/h')")
        raise ValueError(message)
    if unit.per_h and h is None:
        message = f"error column {source!r} is in {text!r}, per little h; pass h (e.g. h=0.7)"
        raise ValueError(message)
    return mass + sign * values * unit.msun / (h if unit.per_h else 1.0)


def _check_brackets(frame: pd.DataFrame, chosen: dict, mass_bounds: str) -> None:
    """Refuse lower/upper bounds that do not bracket the mass."""
    for key in ("M500c_low", "M500c_high"):
        if key not in frame or "M500c" not in frame:
            continue
        low = key == "M500c_low"
        bound, mass = frame[key].to_numpy(), frame["M500c"].to_numpy()
        bad = np.isfinite(bound) & np.isfinite(mass) & (bound > mass if low else bound < mass)
        bad |= np.isfinite(bound) & (bound <= 0)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            fix = ("the columns hold 1-sigma bounds: check that they are the right ones" if
                   mass_bounds == "errors" else "if the columns hold 1-sigma errors rather "
                   "than bounds, pass mass_bounds='errors'")
            message = (f"{int(bad.sum())} row(s) have a {'lower' if low else 'upper'} bound "
                       f"{chosen[key]!r} {'above' if low else 'below'} the mass "
                       f"{chosen['M500c']!r} or not positive (first at row {first}: "
                       f"{bound[first]:.3g} against {mass[first]:.3g} Msun); {fix}")
            raise ValueError(message)


def _positions(table: Table, chosen: dict, path: Path, layout: str) -> None:
    """Fill ``ra_deg``/``dec_deg`` from IAU names when the table has no coordinates."""
    no_position = chosen.get("ra_deg") is None and chosen.get("dec_deg") is None
    from_names = no_position and chosen.get("name") is not None
    missing = [key for key in _REQUIRED if chosen.get(key) is None
               and not (from_names and key in ("ra_deg", "dec_deg"))]
    if missing:
        message = (f"{str(path)!r} ({layout} layout) has no column for {missing}; its "
                   f"columns are {table.colnames[:20]}. Name them with columns="
                   "{'ra_deg': ..., 'dec_deg': ..., 'z': ...}")
        raise ValueError(message)


def _drop_contaminants(frame: pd.DataFrame, chosen: dict, path: Path,
                       max_contamination: float | None) -> pd.DataFrame:
    if max_contamination is None:
        return frame
    check_number("max_contamination", max_contamination, low=0, high=1)
    if chosen.get("f_cont") is None:
        message = (f"max_contamination={max_contamination} needs a contamination "
                   f"probability column, and {str(path)!r} has none of "
                   f"{list(CATALOG_LAYOUTS['efeds']['f_cont'])}; name it with "
                   "columns={'f_cont': ...} or leave max_contamination=None")
        raise ValueError(message)
    keep = ~(frame["f_cont"].to_numpy() > max_contamination)  # unknown (NaN) stays
    return frame[keep].reset_index(drop=True)


def read_cluster_catalog(
    path: str | os.PathLike,
    layout: str = "auto",
    *,
    columns: Mapping[str, str] | None = None,
    mass_unit: str | Mapping[str, str] | None = None,
    h: float | None = None,
    mass_bounds: str = "bounds",
    max_contamination: float | None = None,
) -> pd.DataFrame:
    """Read a cluster catalogue into the library's columns (positions, z, masses).

    Parameters
    ----------
    path : str or os.PathLike
        FITS table, ECSV, CSV or Feather (V1 or V2) file.
    layout : {'auto', 'efeds', 'erass1'}, default='auto'
        Which published column layout to expect (see :data:`CATALOG_LAYOUTS`);
        'auto' takes 'erass1' when the table has ``BEST_Z`` and ``RA`` (or
        ``RAJ2000``), else 'efeds'.
    columns : mapping, optional
        Explicit source column per standard name, e.g. ``{"z": "Z_SPEC"}``; wins
        over the layout.
    mass_unit : str or mapping, optional
        Unit of the mass columns, overriding the file's: one string for all of them,
        or one per standard name (``{"M500c": "log(Msun/h)", "M500c_low": "Msun/h"}``).
        Linear (``'1e14 Msun'``), log10 (``'dex(Msun)'``, ``'log(Msun/h)'``) and
        per-h (``'Msun/h'``) units are understood; errors of log10 masses are
        ``'dex'``.
    h : float, optional
        The catalogue's ``H0 / (100 km/s/Mpc)`` (e.g. 0.7): masses in ``Msun/h`` are
        divided by it. Needed, and only used, when a mass unit is per h.
    mass_bounds : {'bounds', 'errors'}, default='bounds'
        What ``M500c_low``/``M500c_high`` columns hold: 1-sigma bounds, or 1-sigma
        errors (mass minus lower, upper minus mass; linear in a mass unit, or 'dex').
        Either way they come out as bounds in Msun, checked to bracket the mass.
    max_contamination : float in [0, 1], optional
        Drop the rows whose contamination probability (``f_cont``, from MCMF's
        ``F_CONT_BEST_COMB`` or ``F_CONT``) is above it, e.g. 0.2; rows with an
        unknown probability stay. None keeps every row.

    Returns
    -------
    pandas.DataFrame
        The original columns plus ``ra_deg``, ``dec_deg``, ``z`` and, when present,
        ``name``, ``M500c``, ``M500c_low``, ``M500c_high`` (Msun) and ``f_cont``.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        For an unreadable file, an unknown layout, a missing position or redshift
        column (names without IAU designations), masses of unknown, ambiguous or
        non-mass units, masses per h without ``h``, masses outside 1e10-1e17 Msun,
        bounds that do not bracket the mass, or ``max_contamination`` without a
        contamination column. The message names the column and the fix.

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
    check_choice("mass_bounds", mass_bounds, ("bounds", "errors"))
    if h is not None:
        check_number("h", h, low=0, low_inclusive=False, high=2)
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
    _positions(table, chosen, path, layout)
    plain = [name for name in table.colnames if table[name].ndim == 1]
    frame = table[plain].to_pandas().reset_index(drop=True)
    for key in ("name", "ra_deg", "dec_deg", "z", "f_cont"):
        if chosen.get(key) is not None:
            values = table[chosen[key]]
            frame[key] = (np.asarray(values).astype(str) if key == "name"
                          else _column_values(values))
    if chosen.get("ra_deg") is None:
        frame["ra_deg"], frame["dec_deg"] = positions_from_names(
            frame["name"].tolist(), chosen["name"])
    if chosen.get("M500c") is not None:
        frame["M500c"] = _mass_msun(table[chosen["M500c"]], "M500c", chosen["M500c"],
                                    mass_unit, h)
    for key in ("M500c_low", "M500c_high"):
        if chosen.get(key) is None:
            continue
        if mass_bounds == "errors" and chosen.get("M500c") is None:
            message = "mass_bounds='errors' needs the mass column too; name it with columns"
            raise ValueError(message)
        frame[key] = _bound_msun(table, chosen, key, frame.get("M500c"), mass_unit, h,
                                 mass_bounds)
    _check_brackets(frame, chosen, mass_bounds)
    return _drop_contaminants(frame, chosen, path, max_contamination)
