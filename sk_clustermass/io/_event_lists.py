"""Reading eROSITA event lists and exposure maps (eSASS data products).

An eSASS event file has an ``EVENTS`` binary-table extension with one row per
photon; :func:`read_events` reads the columns ``RA`` and ``DEC`` (J2000, deg), ``PI``
(calibrated energy, eV) and, for filtering, ``TIME`` (s), ``FLAG`` (bit mask),
``PAT_TYP`` (or ``PATTERN``) and ``TM_NR`` (camera 1-7), as described in the eSASS
data-product pages of the Early Data Release and DR1 ("eROSITA FITS event file
format", erosita.mpe.mpg.de/edr/DataAnalysis/prod_descript/EventFiles_edr.html;
"eSASS standard extensions", erosita.mpe.mpg.de/dr1/eSASS4DR1/). An exposure map
(:func:`read_exposure_map`) is a 2-D FITS image in seconds with a celestial WCS, what
eSASS ``expmap`` writes.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning

from ._fits_size import check_declared_size

__all__ = ["DEFAULT_FLAG_MASK", "ExposureMap", "read_events", "read_exposure_map"]

#: Rejection mask on the FLAG column used by default (eSASS ``evtool flag=0xc00fff30``,
#: the value of the public eFEDS imaging; pass ``flag_mask=0`` to keep every event).
DEFAULT_FLAG_MASK = 0xC00FFF30
_REQUIRED = ("RA", "DEC", "PI")
_PATTERN_COLUMNS = ("PAT_TYP", "PATTERN")
#: PI (eV) below which a whole file of photons must be in keV: eROSITA's band starts at
#: 200 eV (0.2 keV), and keV values of 0.2-10 never reach it.
_MIN_PLAUSIBLE_MAX_PI_EV = 20.0
#: Units of the PI column (TUNIT, lower case) and their factor to keV.
_PI_UNITS_TO_KEV = {"": 1e-3, "ev": 1e-3, "kev": 1.0}
#: astropy's warning for a header that declares more data than the file holds.
_TRUNCATED = "File may have been truncated"


def _existing(path: str | os.PathLike, what: str) -> Path:
    path = Path(path)
    if not path.is_file():
        message = f"{what} {str(path)!r} does not exist (or is not a file)"
        raise FileNotFoundError(message)
    return path



@dataclass
class ExposureMap:
    """An exposure map: the image in seconds, its celestial WCS and its file name."""

    data: np.ndarray
    wcs: WCS
    path: str

    def sample(self, coords: SkyCoord) -> np.ndarray:
        """Exposure (s) at ``coords`` (nearest pixel); 0 outside the map."""
        x, y = (np.asarray(v, dtype=np.float64) for v in self.wcs.world_to_pixel(coords))
        finite = np.isfinite(x) & np.isfinite(y)  # far from the projection centre: NaN
        col = np.rint(np.where(finite, x, -1.0)).astype(int)
        row = np.rint(np.where(finite, y, -1.0)).astype(int)
        height, width = self.data.shape
        inside = finite & (col >= 0) & (col < width) & (row >= 0) & (row < height)
        values = np.zeros(np.shape(col), dtype=np.float64)
        values[inside] = self.data[row[inside], col[inside]]
        return np.where(np.isfinite(values), values, 0.0)


def read_exposure_map(path: str | os.PathLike) -> ExposureMap:
    """Read an exposure map: the first 2-D image HDU with a celestial WCS.

    Parameters
    ----------
    path : str or os.PathLike
        FITS file (eSASS ``expmap`` output), exposure in seconds.

    Returns
    -------
    ExposureMap
        ``data`` of shape (height, width) in s, ``wcs`` (celestial, 2-D), ``path``.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it has no 2-D image, its header declares more data than the file holds, its
        header has no celestial WCS, or it has pixels of infinite or negative exposure.
    """
    path = _existing(path, "exposure map")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)  # eSASS headers use old keywords
        warnings.filterwarnings("ignore", _TRUNCATED)  # the declared size is checked below
        with fits.open(path, memmap=False) as hdul:
            for hdu in hdul:
                if hdu.is_image and hdu.header.get("NAXIS", 0) == 2:
                    check_declared_size(hdu.header, path,
                                        tiled=isinstance(hdu, fits.CompImageHDU),
                                        what="an exposure map")
                    wcs = WCS(hdu.header)
                    data = np.asarray(hdu.data, dtype=np.float64)
                    break
            else:
                message = (f"exposure map {str(path)!r} has no 2-D image HDU; give the "
                           "eSASS expmap output (an image in seconds)")
                raise ValueError(message)
    if not wcs.has_celestial or wcs.naxis != 2:
        message = (f"exposure map {str(path)!r} has no celestial WCS (CTYPE1/2 such as "
                   "RA---SIN/DEC--SIN, CRVAL, CRPIX, CDELT): positions cannot be placed on it")
        raise ValueError(message)
    bad = np.isinf(data) | (data < 0)  # NaN: blank pixels, no exposure
    if bad.any():
        message = (f"exposure map {str(path)!r} has {int(bad.sum())} pixel(s) of infinite or "
                   "negative exposure; an exposure map holds seconds >= 0 (0 or blank where "
                   "nothing was observed): give the eSASS expmap output")
        raise ValueError(message)
    return ExposureMap(data, wcs, str(path))


def _check_time_range(time_range: Sequence[float]) -> None:
    values = np.asarray(time_range, dtype=np.float64).ravel()
    if values.size != 2 or not np.isfinite(values).all() or values[0] >= values[1]:
        message = (f"time_range must be two finite times (s) START < STOP; got "
                   f"{list(time_range)!r}: an empty or reversed range keeps no event")
        raise ValueError(message)


def read_events(
    path: str | os.PathLike,
    *,
    time_range: Sequence[float] | None = None,
    flag_mask: int = DEFAULT_FLAG_MASK,
    patterns: Iterable[int] | None = None,
    cameras: Iterable[int] | None = None,
) -> pd.DataFrame:
    """Read and filter the ``EVENTS`` extension of an eSASS event file.

    Parameters
    ----------
    path : str or os.PathLike
        Event file with an ``EVENTS`` extension holding at least ``RA``, ``DEC``
        (deg) and ``PI`` (eV).
    time_range : (float, float), optional
        Keep events with ``start <= TIME < stop`` (s, in the file's time system);
        needs a ``TIME`` column.
    flag_mask : int, default=0xC00FFF30
        Drop events whose ``FLAG`` has any of these bits set (0 keeps all; without
        a ``FLAG`` column nothing is dropped).
    patterns : iterable of int, optional
        Keep only these pattern types (``PAT_TYP`` or ``PATTERN`` column), e.g.
        ``range(1, 5)`` for valid single to quadruple patterns.
    cameras : iterable of int, optional
        Keep only these telescope modules (``TM_NR`` column, 1-7).

    Returns
    -------
    pandas.DataFrame
        Columns ``ra_deg``, ``dec_deg``, ``energy_kev``, one row per kept event.

    Raises
    ------
    ValueError
        If there is no ``EVENTS`` extension, its header declares more rows than the file
        holds, a needed column is missing, ``time_range`` is not two finite times with
        start < stop, or ``PI`` is not in eV: a ``PI`` column with ``TUNIT = 'keV'`` is
        converted, one without a unit whose values are all below 20 (keV, not eV) is
        refused.
    """
    path = _existing(path, "event file")
    if time_range is not None:
        _check_time_range(time_range)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", _TRUNCATED)  # the declared size is checked below
        return _read_events(path, time_range, flag_mask, patterns, cameras)


def _read_events(path: Path, time_range: Sequence[float] | None, flag_mask: int,
                 patterns: Iterable[int] | None, cameras: Iterable[int] | None
                 ) -> pd.DataFrame:
    with fits.open(path, memmap=True) as hdul:
        if "EVENTS" not in hdul:
            names = [hdu.name for hdu in hdul]
            message = (f"event file {str(path)!r} has no EVENTS extension (its HDUs: "
                       f"{names}); give an eSASS event list")
            raise ValueError(message)
        check_declared_size(hdul["EVENTS"].header, path, tiled=False, what="an EVENTS table")
        table = hdul["EVENTS"].data
        columns = [name.upper() for name in table.columns.names]
        needed = list(_REQUIRED)
        if time_range is not None:
            needed.append("TIME")
        if cameras is not None:
            needed.append("TM_NR")
        missing = [name for name in needed if name not in columns]
        pattern_column = next((name for name in _PATTERN_COLUMNS if name in columns), None)
        if patterns is not None and pattern_column is None:
            missing.append("PAT_TYP")
        if missing:
            message = (f"event file {str(path)!r}: the EVENTS extension lacks the column(s) "
                       f"{missing} (it has {columns}); eSASS event lists have RA, DEC "
                       "(deg), PI (eV), TIME, FLAG, PAT_TYP and TM_NR")
            raise ValueError(message)
        keep = np.asarray(table["PI"]) > 0  # other pixels of a pattern carry negative PI
        if time_range is not None:
            start, stop = (float(value) for value in time_range)
            time = np.asarray(table["TIME"])
            keep &= (time >= start) & (time < stop)
        if flag_mask and "FLAG" in columns:
            keep &= (np.asarray(table["FLAG"]).astype(np.int64) & int(flag_mask)) == 0
        if patterns is not None:
            keep &= np.isin(np.asarray(table[pattern_column]), list(patterns))
        if cameras is not None:
            keep &= np.isin(np.asarray(table["TM_NR"]), list(cameras))
        energy_kev = _energy_kev(table, keep, path)
        return pd.DataFrame({
            "ra_deg": np.asarray(table["RA"], dtype=np.float64)[keep],
            "dec_deg": np.asarray(table["DEC"], dtype=np.float64)[keep],
            "energy_kev": energy_kev,
        })


def _energy_kev(table: fits.FITS_rec, keep: np.ndarray, path: Path) -> np.ndarray:
    """The kept events' energies in keV, from ``PI`` in eV (or keV where TUNIT says so)."""
    unit = (table.columns["PI"].unit or "").strip().lower()
    if unit not in _PI_UNITS_TO_KEV:
        message = (f"event file {str(path)!r}: the PI column is in {unit!r}; eSASS event lists "
                   "give PI in eV (TUNIT 'eV'); keV is converted, other units are not")
        raise ValueError(message)
    pi = np.asarray(table["PI"], dtype=np.float64)[keep]
    if unit != "kev" and pi.size and pi.max() < _MIN_PLAUSIBLE_MAX_PI_EV:
        message = (f"event file {str(path)!r}: every PI value is below "
                   f"{_MIN_PLAUSIBLE_MAX_PI_EV:g} (largest {pi.max():.3g}): the energies look "
                   "like keV, but PI must be in eV (eSASS: 0.2-10 keV are 200-10000 eV). "
                   "Multiply the column by 1000, or set its unit to keV (TUNIT = 'keV')")
        raise ValueError(message)
    return pi * _PI_UNITS_TO_KEV[unit]
