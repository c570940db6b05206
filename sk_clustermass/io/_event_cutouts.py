"""Training-format cubes from eROSITA event lists and exposure maps.

The files are read by :func:`read_events` and :func:`read_exposure_map` (columns and
units there). Each catalogue position becomes a cube in the library's training format:
``n_bands`` energy bands (default: the lab's 10 bands over 0.25-2.3 keV) by ``image_size`` x
``image_size`` pixels of ``pixel_arcsec`` (default 50 x 50 pixels of 24"), on a
gnomonic (TAN) grid centred on the position with north up and east left, the
position at the centre of the image (between the two middle pixels), as in the
simulator. Where several files cover a position (neighbouring sky tiles, which
overlap), every cutout pixel takes its photons and its exposure from one file only,
the one with the largest exposure there, so overlaps are never counted twice.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np
import pandas as pd
from astropy.coordinates import SkyCoord
from astropy.wcs import WCS
from astropy.wcs.utils import proj_plane_pixel_area
from skorch.helper import SliceDict

from .._inputs import as_inputs
from .._utils import check_number
from ..instrument import DEFAULT_BAND_EDGES_KEV, DEFAULT_IMAGE_SIZE, DEFAULT_PIXEL_ARCSEC
from ._event_lists import DEFAULT_FLAG_MASK, ExposureMap, read_events, read_exposure_map

__all__ = ["cutout_wcs", "make_cutouts"]

#: A file whose events fall off their own exposure map more often than this is refused.
_MISMATCH_FRACTION = 0.02
#: A cube without photons is refused where its files' mean event rates and its exposure
#: predict at least this many (Poisson chance of none: 5e-5).
_EXPECTED_COUNTS = 10.0


def cutout_wcs(ra_deg: float, dec_deg: float, *, image_size: int = DEFAULT_IMAGE_SIZE,
               pixel_arcsec: float = DEFAULT_PIXEL_ARCSEC) -> WCS:
    """The TAN grid of one cutout: centred on the position, north up, east left.

    Parameters
    ----------
    ra_deg, dec_deg : float
        Centre of the cutout (J2000, deg).
    image_size : int, default=50
        Pixels per side.
    pixel_arcsec : float, default=24.0
        Pixel size, arcsec.

    Returns
    -------
    astropy.wcs.WCS
        Celestial WCS whose pixel (0, 0) is the first element of the numpy image;
        the centre ``(ra_deg, dec_deg)`` falls at pixel ``((image_size - 1) / 2,) * 2``.

    Examples
    --------
    >>> from sk_clustermass.datasets import cutout_wcs
    >>> wcs = cutout_wcs(150.0, 2.0)
    >>> [round(float(v), 6) for v in wcs.pixel_to_world_values(24.5, 24.5)]
    [150.0, 2.0]
    """
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [float(ra_deg), float(dec_deg)]
    wcs.wcs.crpix = [(image_size + 1) / 2.0, (image_size + 1) / 2.0]
    wcs.wcs.cdelt = [-pixel_arcsec / 3600.0, pixel_arcsec / 3600.0]
    wcs.wcs.cunit = ["deg", "deg"]
    wcs.wcs.radesys = "ICRS"
    wcs.pixel_shape = (image_size, image_size)
    return wcs


def _check_match(events: pd.DataFrame, exposure: ExposureMap, events_path: str) -> None:
    """Refuse an exposure map on which the file's own events do not land."""
    if events.empty:
        return
    step = max(1, len(events) // 20000)  # a sample is enough to tell
    sample = events.iloc[::step]
    coords = SkyCoord(sample["ra_deg"].to_numpy(), sample["dec_deg"].to_numpy(), unit="deg")
    off = float(np.mean(exposure.sample(coords) <= 0))
    if off > _MISMATCH_FRACTION:
        message = (
            f"exposure map {exposure.path!r} does not match event file {events_path!r}: "
            f"{off:.0%} of its events fall outside the map or on zero exposure (WCS "
            "mismatch, or the map of another tile or band). Pass the exposure maps in "
            "the same order as the event files."
        )
        raise ValueError(message)


def _band_rate(table: pd.DataFrame, exposure: ExposureMap, events_path: str,
               edges: np.ndarray, pixel_arcsec: float) -> float:
    """The file's mean event rate in the bands, per cutout pixel and second of exposure.

    Raises ``ValueError`` when the file gives no photon in the bands although its
    exposure map has exposure: an empty EVENTS table, filters that drop every event,
    or energies in the wrong unit would otherwise give empty cubes.
    """
    seconds = float(np.sum(exposure.data[np.isfinite(exposure.data) & (exposure.data > 0)]))
    if seconds == 0:
        return 0.0
    if table.empty:
        message = (f"event file {events_path!r} gives no events (an empty EVENTS table, or "
                   "time_range, flag_mask, patterns or cameras drop every event) although "
                   f"its exposure map {exposure.path!r} has exposure: the cubes would be "
                   "empty. Check the file and the filters.")
        raise ValueError(message)
    energy = table["energy_kev"].to_numpy()
    n_inside = int(np.count_nonzero((energy >= edges[0]) & (energy < edges[-1])))
    if n_inside == 0:
        message = (f"none of the {len(table)} events of {events_path!r} has an energy in "
                   f"the bands ({edges[0]:g}-{edges[-1]:g} keV): they span "
                   f"{energy.min():.3g}-{energy.max():.3g} keV. PI must be in eV, as eSASS "
                   "writes it (a PI column in keV reads 1000 times too low); fix the "
                   "column, or pass band_edges_kev that match the file's energies.")
        raise ValueError(message)
    map_pixel_deg2 = float(proj_plane_pixel_area(exposure.wcs.celestial))
    return n_inside / seconds * (pixel_arcsec / 3600.0) ** 2 / map_pixel_deg2


def _check_not_empty(sources: list[_Source], rates: list[float], event_paths) -> None:
    """Refuse a cube without photons where its exposure predicts some."""
    for index, source in enumerate(sources):
        if source.counts.any():
            continue
        owned = source.owner >= 0
        expected = float(np.sum(source.exposure[owned]
                                * np.asarray(rates)[source.owner[owned]]))
        if expected >= _EXPECTED_COUNTS:
            message = (f"catalogue row {index} has no photon in its cutout, where its "
                       f"exposure and the mean event rate of {[str(p) for p in event_paths]} "
                       f"predict about {expected:.0f}: the events do not reach this position "
                       "(a mismatched file, or a time_range or filter that drops the photons "
                       "there while the exposure map counts all times). Check the files and "
                       "filters, or drop the row.")
            raise ValueError(message)


def _positions(catalog: pd.DataFrame, ra_column: str, dec_column: str) -> SkyCoord:
    missing = [name for name in (ra_column, dec_column) if name not in catalog.columns]
    if missing:
        message = (f"catalog lacks the position column(s) {missing} (it has "
                   f"{list(catalog.columns)[:12]}); read it with read_cluster_catalog or "
                   "pass ra_column/dec_column")
        raise ValueError(message)
    ra = catalog[ra_column].to_numpy(dtype=np.float64)
    dec = catalog[dec_column].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(ra) & np.isfinite(dec)) | (np.abs(dec) > 90)
    if bad.any():
        rows = np.flatnonzero(bad)
        first = int(rows[0])
        message = (f"{rows.size} of {len(ra)} catalogue row(s) have no valid position "
                   f"({ra_column!r}, {dec_column!r}: finite degrees, |Dec| <= 90), first row "
                   f"{first} (RA {ra[first]}, Dec {dec[first]}); drop them, e.g. "
                   f"catalog.dropna(subset=[{ra_column!r}, {dec_column!r}])")
        raise ValueError(message)
    return SkyCoord(ra, dec, unit="deg")


@dataclass
class _Source:
    """Accumulates one cutout: counts, exposure and, per pixel, the owning file."""

    wcs: WCS
    pixel_coords: SkyCoord
    counts: np.ndarray
    exposure: np.ndarray
    owner: np.ndarray


def _bin_events(source: _Source, events: pd.DataFrame, owner: int, edges: np.ndarray) -> None:
    """Add to ``source`` the events of file ``owner`` on the pixels it owns."""
    if events.empty:
        return
    x, y = source.wcs.world_to_pixel_values(events["ra_deg"].to_numpy(),
                                            events["dec_deg"].to_numpy())
    col, row = np.floor(x + 0.5).astype(int), np.floor(y + 0.5).astype(int)
    band = np.searchsorted(edges, events["energy_kev"].to_numpy(), side="right") - 1
    n_bands, size = source.counts.shape[0], source.counts.shape[1]
    keep = ((col >= 0) & (col < size) & (row >= 0) & (row < size)
            & (band >= 0) & (band < n_bands))
    col, row, band = col[keep], row[keep], band[keep]
    mine = source.owner[row, col] == owner
    np.add.at(source.counts, (band[mine], row[mine], col[mine]), 1.0)


def make_cutouts(
    events: str | os.PathLike | Sequence[str | os.PathLike],
    exposure_maps: str | os.PathLike | Sequence[str | os.PathLike],
    catalog: pd.DataFrame,
    *,
    band_edges_kev: Sequence[float] = DEFAULT_BAND_EDGES_KEV,
    image_size: int = DEFAULT_IMAGE_SIZE,
    pixel_arcsec: float = DEFAULT_PIXEL_ARCSEC,
    time_range: Sequence[float] | None = None,
    flag_mask: int = DEFAULT_FLAG_MASK,
    patterns: Iterable[int] | None = None,
    cameras: Iterable[int] | None = None,
    min_coverage: float = 0.0,
    ra_column: str = "ra_deg",
    dec_column: str = "dec_deg",
    redshift_column: str = "z",
) -> tuple[SliceDict, pd.DataFrame]:
    """Cut a training-format cube out of eROSITA event lists at every catalogue position.

    Parameters
    ----------
    events : path or sequence of paths
        eSASS event files (see :func:`read_events`), one per sky tile or observation.
    exposure_maps : path or sequence of paths
        One exposure map (s, celestial WCS) per event file, in the same order.
    catalog : pandas.DataFrame
        One row per cluster with ``ra_column``, ``dec_column`` (deg) and
        ``redshift_column`` (e.g. from :func:`read_cluster_catalog`).
    band_edges_kev : sequence of float, default=the lab's 10 bands over 0.25-2.3 keV
        Increasing band edges, keV (``n_bands + 1`` values).
    image_size : int, default=50
        Pixels per side of each cube.
    pixel_arcsec : float, default=24.0
        Pixel size, arcsec (the simulator's and the lab's).
    time_range, flag_mask, patterns, cameras
        Event filters, see :func:`read_events`.
    min_coverage : float, default=0.0
        Positions whose cutout has exposure on a smaller fraction of its pixels raise
        ``ValueError``; the default only refuses positions outside every file.
        Partly covered cutouts are kept and flagged (``partial`` column); their
        uncovered pixels hold no counts and have ``exposure`` 0, they are not filled.
    ra_column, dec_column, redshift_column : str
        Catalogue columns of the position (deg) and redshift.

    Returns
    -------
    X : skorch.helper.SliceDict
        ``X["images"]`` float32 (n_clusters, n_bands, image_size, image_size), photon
        counts; ``X["redshift"]`` float32 (n_clusters,); ``X["exposure"]`` float32
        (n_clusters,), the catalogue's ``exposure_s`` (an input of models with
        ``use_exposure=True``).
    catalog : pandas.DataFrame
        The input rows, plus ``coverage`` (fraction of pixels with exposure),
        ``partial`` (coverage < 1), ``exposure_s`` (median exposure of the covered
        pixels, s), ``n_events`` (counts in the cube) and ``n_files`` (files used).

    Raises
    ------
    ValueError
        For events without the needed columns, an exposure map without a WCS or that
        does not match its events, a position outside every file (or below
        ``min_coverage``), or bad band edges; and where the cubes would be empty
        although the exposure maps promise photons: a file that gives no events (an
        empty EVENTS table, a reversed ``time_range``, filters that drop everything),
        none in the bands (``PI`` in keV instead of eV), or a cube without a photon
        where its exposure and its files' mean event rates predict ten or more.
    """
    check_number("min_coverage", min_coverage, low=0.0, high=1.0)
    event_paths, map_paths = _path_list(events), _path_list(exposure_maps)
    if len(event_paths) != len(map_paths):
        message = (f"got {len(event_paths)} event file(s) but {len(map_paths)} exposure "
                   "map(s); give one exposure map per event file, in the same order")
        raise ValueError(message)
    edges = _edges(band_edges_kev)
    if redshift_column not in catalog.columns:
        message = (f"catalog has no redshift column {redshift_column!r}; the network needs "
                   "a redshift per cluster (pass redshift_column)")
        raise ValueError(message)
    if len(catalog) == 0:
        message = ("the catalogue has no rows: give at least one cluster (RA, Dec, redshift) "
                   "to cut out")
        raise ValueError(message)
    centres = _positions(catalog, ra_column, dec_column)
    sources = _empty_sources(centres, len(edges) - 1, image_size, pixel_arcsec)
    maps = [read_exposure_map(path) for path in map_paths]
    for index, source in enumerate(sources):  # each pixel's owner: the most exposure
        stack = np.stack([m.sample(source.pixel_coords) for m in maps])
        source.owner = np.where(stack.max(axis=0) > 0, stack.argmax(axis=0), -1)
        source.exposure = stack.max(axis=0)
        if not (source.owner >= 0).any():
            message = (f"catalogue row {index} (RA {centres[index].ra.deg:.5f}, Dec "
                       f"{centres[index].dec.deg:.5f} deg) lies outside every exposure map "
                       f"({[str(p) for p in map_paths]}); drop it or add the tile's files")
            raise ValueError(message)
    reach = pixel_arcsec * image_size / np.sqrt(2.0) * u.arcsec
    rates = []
    for owner, (event_path, exposure) in enumerate(zip(event_paths, maps)):
        table = read_events(event_path, time_range=time_range, flag_mask=flag_mask,
                            patterns=patterns, cameras=cameras)
        rates.append(_band_rate(table, exposure, str(event_path), edges, pixel_arcsec))
        _check_match(table, exposure, str(event_path))
        coords = SkyCoord(table["ra_deg"].to_numpy(), table["dec_deg"].to_numpy(), unit="deg")
        near_source, near_event, _, _ = coords.search_around_sky(centres, reach)
        for index in np.unique(near_source):
            rows = near_event[near_source == index]
            _bin_events(sources[index], table.iloc[rows], owner, edges)
    _check_not_empty(sources, rates, event_paths)
    return _result(sources, catalog, redshift_column, min_coverage)


def _path_list(paths: Any) -> list[Path]:
    if isinstance(paths, str | os.PathLike):
        return [Path(paths)]
    path_list = [Path(path) for path in paths]
    if not path_list:
        raise ValueError("no file given: pass at least one event file and exposure map")
    return path_list


def _edges(band_edges_kev: Sequence[float]) -> np.ndarray:
    edges = np.asarray(band_edges_kev, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2 or not np.all(np.diff(edges) > 0) or edges[0] < 0:
        message = (f"band_edges_kev must be >= 2 increasing energies in keV; got "
                   f"{band_edges_kev!r}")
        raise ValueError(message)
    return edges


def _empty_sources(centres: SkyCoord, n_bands: int, size: int, pixel_arcsec: float):
    rows, cols = np.mgrid[0:size, 0:size]
    sources = []
    for centre in centres:
        wcs = cutout_wcs(centre.ra.deg, centre.dec.deg, image_size=size,
                         pixel_arcsec=pixel_arcsec)
        pixel_coords = wcs.pixel_to_world(cols, rows)
        sources.append(_Source(wcs, pixel_coords, np.zeros((n_bands, size, size)),
                               np.zeros((size, size)), np.full((size, size), -1)))
    return sources


def _result(sources: list[_Source], catalog: pd.DataFrame, redshift_column: str,
            min_coverage: float) -> tuple[SliceDict, pd.DataFrame]:
    out = catalog.reset_index(drop=True).copy()
    coverage = np.array([float(np.mean(s.owner >= 0)) for s in sources])
    low = np.flatnonzero(coverage < min_coverage)
    if low.size:
        message = (f"{low.size} position(s) (first: row {low[0]}) have exposure on less "
                   f"than min_coverage={min_coverage} of their cutout (coverage "
                   f"{coverage[low[0]]:.2f}); lower min_coverage or drop them")
        raise ValueError(message)
    out["coverage"] = coverage
    out["partial"] = coverage < 1.0
    out["exposure_s"] = [float(np.median(s.exposure[s.owner >= 0])) for s in sources]
    out["n_events"] = [int(s.counts.sum()) for s in sources]
    out["n_files"] = [int(np.unique(s.owner[s.owner >= 0]).size) for s in sources]
    images = np.stack([s.counts for s in sources]).astype(np.float32)
    X = as_inputs(images, out[redshift_column].to_numpy(dtype=np.float64),
                  exposure=out["exposure_s"].to_numpy(dtype=np.float64))
    return X, out
