"""FITS image cubes, one cluster per file, through :mod:`astropy.io.fits`.

Each file holds one cube of shape ``(n_bands, height, width)`` in numpy order (FITS
axes ``NAXIS1 = width``, ``NAXIS2 = height``, ``NAXIS3 = n_bands``) in its first
3-D image HDU. The redshift is read from a header keyword (``REDSHIFT`` by default,
then ``Z``) or taken from a catalogue. Files are written with ``CHECKSUM`` and
``DATASUM`` keywords, and reading verifies them, so a damaged file is reported
instead of read silently.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from astropy.io import fits
from skorch.helper import SliceDict

from .._inputs import as_inputs, check_target
from .._utils import atomic_path, gzip_aware_target
from ..instrument import DEFAULT_BAND_EDGES_KEV, DEFAULT_PIXEL_ARCSEC
from ._catalog_masses import MASS_COLUMN, MASS_RANGE_MSUN, REDSHIFT_COLUMN, catalog_masses_msun
from ._fits_header import cube_header, ebounds_hdu
from ._fits_size import check_declared_size

__all__ = ["read_fits_cubes", "write_fits_cube"]

TARGET_COLUMN = "log10_m500c"
PATH_COLUMN = "path"
_FALLBACK_KEYWORDS = ("REDSHIFT", "Z")
_DAMAGE_MARKERS = ("checksum", "datasum", "truncat", "corrupt")
_MIN_PIXELS_TO_JUDGE = 8


def write_fits_cube(
    path: str | os.PathLike,
    image: Any,
    redshift: float | None = None,
    *,
    header: fits.Header | Mapping[str, Any] | None = None,
    redshift_keyword: str = "REDSHIFT",
    ra_deg: float | None = None,
    dec_deg: float | None = None,
    band_edges_kev: Sequence[float] | None = None,
    pixel_arcsec: float | None = DEFAULT_PIXEL_ARCSEC,
    exposure_s: float | None = None,
) -> None:
    """Write one cluster's cube to a FITS file, atomically and with checksums.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file (``.fits``; ``.fits.gz`` is gzip-compressed).
    image : array-like of shape (n_bands, height, width)
        One cube, channels first, stored as float32 in the primary HDU.
    redshift : float, optional
        Cluster redshift (> 0), stored under ``redshift_keyword``.
    header : astropy.io.fits.Header or dict, optional
        Extra header cards (e.g. ``{"OBJECT": "cluster 17", "BUNIT": "count"}``);
        structural keywords (``NAXIS`` ...) are ignored, ``redshift`` wins over a card
        of the same name.
    redshift_keyword : str, default='REDSHIFT'
        Header keyword for the redshift.
    ra_deg, dec_deg : float, optional
        Cluster position (deg): the header gets a celestial TAN WCS centred on it.
    band_edges_kev : sequence of float, optional
        ``n_bands + 1`` band edges (keV), written as an OGIP ``EBOUNDS`` extension
        (``CHANNEL``, ``E_MIN``, ``E_MAX``), as the energy axis of the WCS (``CTYPE3``)
        and as ``ELO{i}``/``EHI{i}`` cards; by default the library's 10 bands over
        0.25-2.3 keV for a 10-band cube, none otherwise.
    pixel_arcsec : float or None, default=24.0
        Pixel side (arcsec), written as ``PIXSCALE``.
    exposure_s : float, optional
        Exposure (s), written as ``EXPOSURE``.

    Every file also gets ``BUNIT = 'count'``; :func:`read_cube_header` reads these
    cards back.

    Raises
    ------
    ValueError
        If ``image`` is not one finite 3-D cube or ``redshift`` is not > 0.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from astropy.io import fits
    >>> from sk_clustermass.datasets import write_fits_cube
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "cluster_0.fits"
    ...     write_fits_cube(path, np.zeros((10, 50, 50)), 0.3, header={"OBJECT": "c0"})
    ...     header = fits.getheader(path)
    >>> header["NAXIS3"], header["REDSHIFT"], header["OBJECT"]
    (10, 0.3, 'c0')
    """
    cube = np.asarray(image)
    if cube.ndim != 3:
        message = (
            f"image must be one cube of shape (n_bands, height, width), channels first; "
            f"got shape {cube.shape}. Write one file per cluster."
        )
        raise ValueError(message)
    z_value = None if redshift is None else _scalar_redshift(redshift)
    # The placeholder 1.0 only lets as_inputs check the image when no redshift is given.
    checked = as_inputs(cube[np.newaxis], [1.0 if z_value is None else z_value], counts=False)
    hdu = fits.PrimaryHDU(data=checked["images"][0])
    if band_edges_kev is None and cube.shape[0] == len(DEFAULT_BAND_EDGES_KEV) - 1:
        band_edges_kev = DEFAULT_BAND_EDGES_KEV
    hdu.header.update(cube_header(cube.shape[0], cube.shape[-1], ra_deg=ra_deg,
                                  dec_deg=dec_deg, band_edges_kev=band_edges_kev,
                                  pixel_arcsec=pixel_arcsec, exposure_s=exposure_s))
    if header is not None:
        extra = header if isinstance(header, fits.Header) else fits.Header(dict(header))
        hdu.header.extend(extra, strip=True, update=True)
    if redshift is not None:
        hdu.header[redshift_keyword] = (z_value, "cluster redshift")
    hdus = [hdu] if band_edges_kev is None else [hdu, ebounds_hdu(band_edges_kev)]
    with atomic_path(path) as temporary, gzip_aware_target(temporary, path) as target:
        fits.HDUList(hdus).writeto(target, overwrite=True, checksum=True)


def _scalar_redshift(redshift: Any) -> float:
    try:
        return float(redshift)
    except (TypeError, ValueError) as exc:
        message = f"redshift must be one number (the cluster's redshift); got {redshift!r}"
        raise TypeError(message) from exc


def _as_path_list(paths: Any) -> list[Path]:
    if isinstance(paths, str | os.PathLike):
        return [Path(paths)]
    if not isinstance(paths, Iterable):
        message = f"paths must be a path or an iterable of paths; got {type(paths).__name__}"
        raise TypeError(message)
    path_list = [Path(path) for path in paths]
    if not path_list:
        raise ValueError("paths is empty: give at least one FITS file")
    return path_list


def _check_channels_first(shape: tuple[int, ...], path: Path) -> None:
    """Refuse a cube stored channels last (height, width, n_bands) in numpy order."""
    bands, height, width = shape
    # square images stored (h, w, bands) show as (h, h, bands) with fewer bands than
    # pixels; shapes below 8 pixels are too small to tell one order from the other
    if not (bands == height > width and height >= _MIN_PIXELS_TO_JUDGE):
        return
    message = (
        f"{str(path)!r} holds a cube of numpy shape {shape}, which reads as {bands} bands "
        f"of {height} x {width} pixels but looks like a channels-last cube ({bands} x "
        f"{height} pixels in {width} bands). FITS cubes must have NAXIS3 = n_bands "
        "(numpy shape (n_bands, height, width)): write them with "
        "np.moveaxis(cube, -1, 0)."
    )
    raise ValueError(message)


def _first_cube(hdul: fits.HDUList, path: Path) -> tuple[np.ndarray, fits.Header] | None:
    """Data and header of the first 3-D image HDU, or None if there is none."""
    for hdu in hdul:
        is_image = isinstance(hdu, fits.PrimaryHDU | fits.ImageHDU | fits.CompImageHDU)
        if is_image and hdu.header.get("NAXIS", 0) == 3:
            check_declared_size(hdu.header, path, tiled=isinstance(hdu, fits.CompImageHDU))
            _check_channels_first(hdu.shape, path)
            return np.array(hdu.data, dtype=np.float32), hdu.header.copy()
    return None


def _read_cube(path: Path) -> tuple[np.ndarray, fits.Header]:
    """Read the first 3-D image of ``path``, verifying its checksums if present."""
    if not path.is_file():
        message = f"FITS file {str(path)!r} does not exist (or is not a file)"
        raise FileNotFoundError(message)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with fits.open(path, memmap=False, checksum=True) as hdul:
                found = _first_cube(hdul, path)
                shapes = [hdu.shape if hdu.is_image else None for hdu in hdul]
        except (OSError, ValueError, TypeError, IndexError, KeyError, MemoryError) as exc:
            if isinstance(exc, ValueError) and str(path) in str(exc):
                raise  # our own check, already naming the file
            message = (
                f"{str(path)!r} could not be read as FITS ({type(exc).__name__}: {exc}); "
                "it may be truncated or not a FITS file"
            )
            raise ValueError(message) from exc
    damage = [str(w.message).strip() for w in caught if _is_damage(w.message)]
    if damage:
        message = f"{str(path)!r} is damaged ({damage[0]}); write or copy the file again"
        raise ValueError(message)
    for warning in caught:  # anything else is the caller's business: pass it on
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    if found is None:
        message = (
            f"{str(path)!r} has no 3-D image HDU of shape (n_bands, height, width); "
            f"its HDUs have shapes {shapes}"
        )
        raise ValueError(message)
    return found


def _is_damage(message: Warning | str) -> bool:
    text = str(message).lower()
    return any(marker in text for marker in _DAMAGE_MARKERS)


def _header_redshift(header: fits.Header, keywords: tuple[str, ...], path: Path) -> float:
    """The first of ``keywords`` set in ``header``, as a float (NaN if none is)."""
    for keyword in keywords:
        if keyword in header:
            value = header[keyword]
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                break
            try:
                return float(value)
            except ValueError:
                break
    else:
        return float("nan")
    message = f"{str(path)!r}: header keyword {keyword!r} = {value!r} is not a redshift"
    raise ValueError(message)


def _path_keys(entry: str) -> str:
    """Key to match a catalogue entry: the file name for bare names, else the full path."""
    as_path = Path(entry)
    if as_path.parent == Path("."):
        return as_path.name
    return os.path.abspath(os.path.normpath(entry))


def _align_catalog(
    catalog: pd.DataFrame | None, column: str | None, paths: list[Path]
) -> pd.DataFrame | None:
    """Catalogue rows in the order of ``paths`` (by position, or matched by ``column``)."""
    if catalog is None:
        if column is not None:
            raise ValueError("catalog_path_column was given without a catalog")
        return None
    if not isinstance(catalog, pd.DataFrame):
        message = f"catalog must be a pandas DataFrame or None; got {type(catalog).__name__}"
        raise TypeError(message)
    if column is None:
        if len(catalog) != len(paths):
            message = (
                f"catalog has {len(catalog)} rows but {len(paths)} files were given; "
                "without catalog_path_column its rows must follow the files one to one. "
                "Pass catalog_path_column to match rows to files by name."
            )
            raise ValueError(message)
        return catalog.reset_index(drop=True)
    if column not in catalog.columns:
        message = f"catalog_path_column {column!r} is not a column of the catalog"
        raise ValueError(message)
    keys = [_path_keys(str(entry)) for entry in catalog[column]]
    positions: dict[str, int] = {}
    for position, key in enumerate(keys):
        if key in positions:
            message = f"catalog column {column!r} lists {key!r} more than once"
            raise ValueError(message)
        positions[key] = position
    rows = []
    for path in paths:
        match = positions.get(os.path.abspath(path), positions.get(path.name))
        if match is None:
            message = (
                f"{str(path)!r} has no row in the catalog (column {column!r} holds neither "
                "its full path nor its file name)"
            )
            raise ValueError(message)
        rows.append(match)
    return catalog.iloc[rows].reset_index(drop=True)


def _target_from(catalog: pd.DataFrame | None) -> np.ndarray | None:
    if catalog is None:
        return None
    if TARGET_COLUMN in catalog.columns:
        with warnings.catch_warnings():  # the range check below is stricter: its error
            warnings.simplefilter("ignore", UserWarning)  # alone, not a warning first
            target = check_target(catalog[TARGET_COLUMN].to_numpy(), len(catalog))
        low, high = np.log10(MASS_RANGE_MSUN)
        outside = np.flatnonzero((target < low) | (target > high))
        if outside.size:
            message = (
                f"{outside.size} catalogue row(s) have '{TARGET_COLUMN}' outside the "
                f"physical range {low:.0f}-{high:.0f} (first at row {outside[0]}: "
                f"{target[outside[0]]:.3g}); it must be log10(M500c / Msun)"
            )
            raise ValueError(message)
        return target
    if MASS_COLUMN in catalog.columns:
        return check_target(np.log10(catalog_masses_msun(catalog, "the catalog")), len(catalog))
    return None


def read_fits_cubes(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    redshift: Any = None,
    redshift_keyword: str = "REDSHIFT",
    catalog: pd.DataFrame | None = None,
    catalog_path_column: str | None = None,
) -> tuple[SliceDict, np.ndarray | None, pd.DataFrame]:
    """Read one cube per FITS file into ``X`` (and ``y`` when a catalogue has masses).

    Parameters
    ----------
    paths : path or iterable of paths
        FITS files, one cluster each; the first 3-D image HDU of each is read, as
        (n_bands, height, width). All cubes must have the same shape. ``CHECKSUM`` /
        ``DATASUM`` keywords, when present, are verified.
    redshift : array-like of shape (n_files,), optional
        Redshifts in the order of ``paths``. Takes precedence over every other source.
    redshift_keyword : str, default='REDSHIFT'
        Header keyword to read the redshift from; ``REDSHIFT`` and ``Z`` are tried next.
        Used when neither ``redshift`` nor a catalogue column ``z`` is given.
    catalog : pandas.DataFrame, optional
        Per-cluster metadata. Its column ``z`` (if any) gives the redshifts, its column
        ``log10_m500c`` or else ``M500c`` (Msun) gives ``y``. Rows follow ``paths`` one
        to one unless ``catalog_path_column`` is given.
    catalog_path_column : str, optional
        Catalogue column naming each row's file, by full path (relative paths resolved
        against the current directory) or by bare file name; rows are then matched to
        ``paths`` and may be in any order, and extra rows are ignored.

    Returns
    -------
    X : skorch.helper.SliceDict
        ``X["images"]`` float32 (n_files, n_bands, height, width), ``X["redshift"]``
        float32 (n_files,).
    y : ndarray of shape (n_files,) or None
        ``log10(M500c / Msun)`` from the catalogue; None without one.
    catalog : pandas.DataFrame
        The catalogue rows in the order of ``paths`` (fresh RangeIndex); without a
        catalogue, a frame with the columns ``path`` and ``z``.

    Raises
    ------
    FileNotFoundError
        If a file does not exist.
    ValueError
        For a corrupt, truncated or non-FITS file, a file without a 3-D image, cubes
        whose band count or size differ (naming the file), a missing redshift, or a
        catalogue that does not match the files.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from sk_clustermass.datasets import read_fits_cubes, write_fits_cube
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     paths = [pathlib.Path(folder) / f"c{i}.fits" for i in range(3)]
    ...     for i, path in enumerate(paths):
    ...         write_fits_cube(path, np.full((10, 50, 50), i), redshift=0.1 * (i + 1))
    ...     X, y, catalog = read_fits_cubes(paths)
    >>> X["images"].shape, X["redshift"], y is None
    ((3, 10, 50, 50), array([0.1, 0.2, 0.3], dtype=float32), True)
    """
    path_list = _as_path_list(paths)
    aligned = _align_catalog(catalog, catalog_path_column, path_list)
    keywords = (redshift_keyword, *(k for k in _FALLBACK_KEYWORDS if k != redshift_keyword))
    images: np.ndarray | None = None
    header_redshift = np.full(len(path_list), np.nan)
    for index, path in enumerate(path_list):
        cube, header = _read_cube(path)
        if images is None:
            images = np.empty((len(path_list), *cube.shape), dtype=np.float32)
        elif cube.shape != images.shape[1:]:
            message = (
                f"{str(path)!r} holds a cube of shape {cube.shape} (n_bands, height, width) "
                f"but {str(path_list[0])!r} has {images.shape[1:]}; all files must have "
                "the same bands and image size (rebin or crop them first)"
            )
            raise ValueError(message)
        if not np.isfinite(cube).all():
            message = (
                f"{str(path)!r} has NaN or infinite pixels; replace blank pixels (e.g. by "
                "0 counts) before reading it as training data"
            )
            raise ValueError(message)
        images[index] = cube
        header_redshift[index] = _header_redshift(header, keywords, path)
    if redshift is not None:
        z_values = redshift
    elif aligned is not None and REDSHIFT_COLUMN in aligned.columns:
        z_values = aligned[REDSHIFT_COLUMN].to_numpy()
    else:
        missing = np.flatnonzero(np.isnan(header_redshift))
        if missing.size:
            message = (
                f"{str(path_list[missing[0]])!r} (and {missing.size - 1} other file(s)) "
                f"has no redshift: none of the header keywords {list(keywords)} is set. "
                "Pass redshift=..., a catalog with a 'z' column, or the right "
                "redshift_keyword."
            )
            raise ValueError(message)
        z_values = header_redshift
    X = as_inputs(images, z_values, counts=False)
    if aligned is None:
        aligned = pd.DataFrame(
            {PATH_COLUMN: [str(path) for path in path_list], REDSHIFT_COLUMN: X["redshift"]}
        )
    return X, _target_from(aligned if catalog is not None else None), aligned
