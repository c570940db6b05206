"""Mock eSASS event lists and exposure maps from simulated cubes.

The simulator renders photon counts per pixel and band. :func:`write_mock_event_files`
turns those photons back into the files a survey releases: one ``EVENTS`` row per
photon (``RA``, ``DEC`` in deg, ``PI`` in eV, ``TIME``, ``FLAG``, ``PAT_TYP``,
``TM_NR``, the columns of the eSASS event-file data model) placed at random inside its
pixel and band, and an exposure map (s, celestial WCS) covering every position. Cutting
these files with :func:`make_cutouts` gives back the simulator's cubes exactly, which
is how the library tests its real-data path end to end, and how the "Your own data"
page can be followed without downloading a release.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from .._inputs import as_inputs
from .._utils import atomic_path, gzip_aware_target
from ..instrument import DEFAULT_BAND_EDGES_KEV, DEFAULT_PIXEL_ARCSEC
from ._event_cutouts import cutout_wcs

__all__ = ["write_mock_event_files"]

_EXPOSURE_PIXEL_ARCSEC = 16.0
_MARGIN_DEG = 0.5


def _field_wcs(ra: np.ndarray, dec: np.ndarray) -> tuple[WCS, tuple[int, int]]:
    """A TAN grid over all positions plus a margin, and its (height, width)."""
    centre_dec = float(np.mean(dec))
    ra_span = (np.ptp(ra) * np.cos(np.radians(centre_dec)) + 2 * _MARGIN_DEG)
    dec_span = np.ptp(dec) + 2 * _MARGIN_DEG
    scale = _EXPOSURE_PIXEL_ARCSEC / 3600.0
    width, height = int(np.ceil(ra_span / scale)), int(np.ceil(dec_span / scale))
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [float(np.mean(ra)), centre_dec]
    wcs.wcs.crpix = [(width + 1) / 2.0, (height + 1) / 2.0]
    wcs.wcs.cdelt = [-scale, scale]
    wcs.wcs.cunit = ["deg", "deg"]
    return wcs, (height, width)


def _photons(images: np.ndarray, ra: np.ndarray, dec: np.ndarray, edges: np.ndarray,
             pixel_arcsec: float, rng: np.random.Generator):
    """RA, Dec (deg) and energy (keV) of every photon of every cube."""
    ras, decs, energies = [], [], []
    size = images.shape[-1]
    for cube, ra0, dec0 in zip(images, ra, dec):
        counts = np.rint(cube).astype(np.int64)
        band, row, col = np.nonzero(counts)
        repeat = counts[band, row, col]
        band, row, col = (np.repeat(a, repeat) for a in (band, row, col))
        # inside the pixel and the band, away from their edges (no rounding across)
        x = col + rng.uniform(-0.45, 0.45, col.size)
        y = row + rng.uniform(-0.45, 0.45, row.size)
        low, high = edges[band], edges[band + 1]
        energy = low + (high - low) * rng.uniform(0.01, 0.99, band.size)
        wcs = cutout_wcs(ra0, dec0, image_size=size, pixel_arcsec=pixel_arcsec)
        world_ra, world_dec = wcs.pixel_to_world_values(x, y)
        ras.append(np.asarray(world_ra))
        decs.append(np.asarray(world_dec))
        energies.append(energy)
    return np.concatenate(ras), np.concatenate(decs), np.concatenate(energies)


def write_mock_event_files(
    events_path: str | os.PathLike,
    exposure_path: str | os.PathLike,
    X: Any,
    ra_deg: Sequence[float],
    dec_deg: Sequence[float],
    *,
    exposure_s: float = 1200.0,
    band_edges_kev: Sequence[float] = DEFAULT_BAND_EDGES_KEV,
    pixel_arcsec: float = DEFAULT_PIXEL_ARCSEC,
    random_state: int | None = None,
) -> int:
    """Write simulated cubes' photons as an eSASS-like event list and exposure map.

    Parameters
    ----------
    events_path : str or os.PathLike
        Event file to write (``EVENTS`` extension).
    exposure_path : str or os.PathLike
        Exposure map to write (primary image, s, TAN WCS).
    X : SliceDict or dict
        Cubes of photon counts (``X["images"]``, (n_clusters, n_bands, size, size)),
        e.g. from :func:`make_clusters`.
    ra_deg, dec_deg : sequence of float, shape (n_clusters,)
        Where each cube is centred on the sky (deg). Keep cubes apart (more than
        ``size * pixel_arcsec``) so that their photons do not mix.
    exposure_s : float, default=1200.0
        Exposure of the whole field, s (about the eFEDS median vignetted exposure).
    band_edges_kev : sequence of float, default=the lab's 10 bands over 0.25-2.3 keV
        Edges of the cubes' bands.
    pixel_arcsec : float, default=24.0
        Pixel size of the cubes, arcsec.
    random_state : int, optional
        Seeds where photons fall inside their pixel and band, and their times.

    Returns
    -------
    int
        Number of events written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pandas as pd
    >>> from sk_clustermass.datasets import (make_clusters, make_cutouts,
    ...                                      write_mock_event_files)
    >>> X, y = make_clusters(2, random_state=0, chunk_size=64)
    >>> catalog = pd.DataFrame({"ra_deg": [150.0, 151.0], "dec_deg": [2.0, 2.0],
    ...                         "z": X["redshift"]})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     events = pathlib.Path(folder) / "events.fits"
    ...     expmap = pathlib.Path(folder) / "expmap.fits"
    ...     n = write_mock_event_files(events, expmap, X, catalog["ra_deg"],
    ...                                catalog["dec_deg"], random_state=0)
    ...     cubes, table = make_cutouts(events, expmap, catalog)
    >>> bool((cubes["images"] == X["images"]).all()), int(table["n_events"].sum()) == n
    (True, True)
    """
    X = as_inputs(X)
    images = X["images"]
    ra, dec = np.asarray(ra_deg, dtype=np.float64), np.asarray(dec_deg, dtype=np.float64)
    if ra.shape != (len(images),) or dec.shape != (len(images),):
        message = (f"ra_deg and dec_deg need one value per cube ({len(images)}); got "
                   f"shapes {ra.shape} and {dec.shape}")
        raise ValueError(message)
    edges = np.asarray(band_edges_kev, dtype=np.float64)
    if edges.size != images.shape[1] + 1:
        message = (f"band_edges_kev has {edges.size} edges but the cubes have "
                   f"{images.shape[1]} bands; give n_bands + 1 edges")
        raise ValueError(message)
    rng = np.random.default_rng(random_state)
    event_ra, event_dec, energy = _photons(images, ra, dec, edges, pixel_arcsec, rng)
    n_events = event_ra.size
    columns = [
        fits.Column("TIME", "D", unit="s", array=np.sort(rng.uniform(0, 1e4, n_events))),
        fits.Column("RA", "D", unit="deg", array=event_ra),
        fits.Column("DEC", "D", unit="deg", array=event_dec),
        fits.Column("PI", "E", unit="eV", array=(energy * 1000.0).astype(np.float32)),
        fits.Column("FLAG", "J", array=np.zeros(n_events, dtype=np.int32)),
        fits.Column("PAT_TYP", "I", array=np.ones(n_events, dtype=np.int16)),
        fits.Column("TM_NR", "I", array=rng.integers(1, 8, n_events).astype(np.int16)),
    ]
    table = fits.BinTableHDU.from_columns(columns, name="EVENTS")
    table.header["TELESCOP"] = "eROSITA"
    table.header["CREATOR"] = "sk_clustermass.write_mock_event_files"
    with (atomic_path(events_path) as temporary,
          gzip_aware_target(temporary, events_path) as target):
        fits.HDUList([fits.PrimaryHDU(), table]).writeto(target, overwrite=True)
    wcs, shape = _field_wcs(ra, dec)
    header = wcs.to_header()
    header["BUNIT"] = "s"
    exposure = fits.PrimaryHDU(np.full(shape, exposure_s, dtype=np.float32), header)
    with (atomic_path(exposure_path) as temporary,
          gzip_aware_target(temporary, exposure_path) as target):
        exposure.writeto(target, overwrite=True)
    return n_events
