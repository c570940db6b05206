"""What a cube's FITS header says about it: units, sky position, bands, exposure, pixels.

A cube written by :func:`~sk_clustermass.datasets.write_fits_cube` carries

- ``BUNIT = 'count'``: the pixels are photon counts;
- a celestial WCS (``WCSAXES = 2``, ``RA---TAN``/``DEC--TAN`` on FITS axes 1-2, i.e.
  numpy axes -1 and -2) centred on the cluster when its position is known: north up,
  east left, the position between the two middle pixels (see :func:`cutout_wcs`);
- ``PIXSCALE``: the pixel side in arcsec;
- the energy axis (FITS axis 3, numpy axis 0), when the band edges are known: for
  bands of equal width a linear spectral axis, ``CTYPE3 = 'ENER'``, ``CUNIT3 = 'keV'``,
  ``CRPIX3 = 1``, ``CRVAL3`` the centre of the first band and ``CDELT3`` the band width
  (plane i, 1-based, holds the counts between ``CRVAL3 + (i - 1.5) * CDELT3`` and
  ``CRVAL3 + (i - 0.5) * CDELT3``); otherwise ``CTYPE3 = 'CHANNEL'``, the band number
  (1 .. n_bands), whose energies the EBOUNDS extension gives. ``WCSAXES = 3`` then;
- ``NBANDS`` and ``ELO{i}``/``EHI{i}`` (i = 1 .. n_bands, keV): the edges of the
  energy band of plane i, as cards (what earlier versions wrote and read);
- ``EXPOSURE``: the exposure in s (median over the cube).

The band edges are also written as an OGIP ``EBOUNDS`` binary table (:func:`ebounds_hdu`,
columns ``CHANNEL``, ``E_MIN`` and ``E_MAX`` in keV; OGIP/92-002), the extension X-ray
tools read; ``astropy.table.Table.read(path, hdu="EBOUNDS")`` reads it back. The cube
has no time axis, so no ``MJDREF`` is written.

:func:`cube_header` builds these cards and :func:`read_cube_header` recovers them.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning

from ._event_cutouts import cutout_wcs

__all__ = ["cube_header", "ebounds_hdu", "read_cube_header"]

BUNIT = "count"
EBOUNDS = "EBOUNDS"


def cube_header(
    n_bands: int,
    image_size: int,
    *,
    ra_deg: float | None = None,
    dec_deg: float | None = None,
    band_edges_kev: Sequence[float] | None = None,
    pixel_arcsec: float | None = None,
    exposure_s: float | None = None,
) -> fits.Header:
    """Header cards describing one cube (see the module description).

    Parameters
    ----------
    n_bands, image_size : int
        Bands and pixels per side of the cube.
    ra_deg, dec_deg : float, optional
        Cluster position (deg); with ``pixel_arcsec``, gives the celestial WCS.
    band_edges_kev : sequence of float, optional
        ``n_bands + 1`` increasing edges in keV.
    pixel_arcsec : float, optional
        Pixel side, arcsec.
    exposure_s : float, optional
        Exposure, s.

    Returns
    -------
    astropy.io.fits.Header

    Raises
    ------
    ValueError
        If the band edges do not fit the number of bands, or only one of ``ra_deg``
        and ``dec_deg`` is given.
    """
    header = fits.Header()
    header["BUNIT"] = (BUNIT, "photon counts per pixel and band")
    if (ra_deg is None) != (dec_deg is None):
        raise ValueError("give both ra_deg and dec_deg (the cluster position), or neither")
    if pixel_arcsec is not None:
        header["PIXSCALE"] = (float(pixel_arcsec), "[arcsec] pixel side")
        if ra_deg is not None:
            wcs = cutout_wcs(ra_deg, dec_deg, image_size=image_size, pixel_arcsec=pixel_arcsec)
            header.update(wcs.to_header())
            if header.get("MJDREF") == 0:  # astropy's placeholder: the cube has no time axis
                del header["MJDREF"]
    if band_edges_kev is not None:
        edges = np.asarray(band_edges_kev, dtype=np.float64)
        if edges.shape != (n_bands + 1,) or not np.all(np.diff(edges) > 0):
            message = (f"band_edges_kev must be {n_bands + 1} increasing energies in keV "
                       f"(the cube has {n_bands} bands); got {band_edges_kev!r}")
            raise ValueError(message)
        header["NBANDS"] = (n_bands, "energy bands along FITS axis 3")
        for index in range(n_bands):
            header[f"ELO{index + 1}"] = (float(edges[index]), f"[keV] band {index + 1} low")
            header[f"EHI{index + 1}"] = (float(edges[index + 1]), f"[keV] band {index + 1} high")
        _add_energy_axis(header, edges)
    if exposure_s is not None:
        header["EXPOSURE"] = (float(exposure_s), "[s] exposure")
    return header


def _add_energy_axis(header: fits.Header, edges: np.ndarray) -> None:
    """WCS axis 3: linear energy for bands of equal width, the band number otherwise."""
    widths = np.diff(edges)
    header["WCSAXES"] = (3, "RA, Dec (when known) and energy band")
    if np.allclose(widths, widths[0], rtol=1e-9, atol=0.0):
        header["CTYPE3"] = ("ENER", "photon energy, linear: one plane per band")
        header["CUNIT3"] = ("keV", "unit of CRVAL3 and CDELT3")
        header["CRPIX3"] = (1.0, "the first band")
        header["CRVAL3"] = (float(edges[0] + edges[1]) / 2.0, "[keV] centre of band 1")
        header["CDELT3"] = (float(widths[0]), "[keV] band width")
    else:
        header["CTYPE3"] = ("CHANNEL", "band number; its energies: EBOUNDS extension")
        header["CRPIX3"] = (1.0, "the first band")
        header["CRVAL3"] = (1.0, "band 1")
        header["CDELT3"] = (1.0, "one band per plane")


def ebounds_hdu(band_edges_kev: Sequence[float]) -> fits.BinTableHDU:
    """The OGIP ``EBOUNDS`` extension of a cube's energy bands.

    Parameters
    ----------
    band_edges_kev : sequence of float
        ``n_bands + 1`` increasing edges in keV.

    Returns
    -------
    astropy.io.fits.BinTableHDU
        ``EXTNAME = 'EBOUNDS'``, one row per band: ``CHANNEL`` (1 .. n_bands, the plane
        along FITS axis 3), ``E_MIN`` and ``E_MAX`` (keV), with the OGIP keywords
        ``HDUCLASS = 'OGIP'``, ``HDUCLAS1 = 'RESPONSE'``, ``HDUCLAS2 = 'EBOUNDS'``,
        ``CHANTYPE = 'PI'`` and ``DETCHANS``.

    Examples
    --------
    >>> hdu = ebounds_hdu([0.5, 1.0, 2.0])
    >>> hdu.name, hdu.data["CHANNEL"].tolist(), hdu.data["E_MAX"].tolist()
    ('EBOUNDS', [1, 2], [1.0, 2.0])
    """
    edges = np.asarray(band_edges_kev, dtype=np.float64)
    n_bands = edges.size - 1
    columns = [
        fits.Column(name="CHANNEL", format="J", array=np.arange(1, n_bands + 1)),
        fits.Column(name="E_MIN", format="D", unit="keV", array=edges[:-1]),
        fits.Column(name="E_MAX", format="D", unit="keV", array=edges[1:]),
    ]
    hdu = fits.BinTableHDU.from_columns(columns, name=EBOUNDS)
    for key, value, comment in (
        ("HDUCLASS", "OGIP", "format conforms to OGIP standard"),
        ("HDUCLAS1", "RESPONSE", "dataset relates to spectral response"),
        ("HDUCLAS2", "EBOUNDS", "nominal energies of the channels"),
        ("HDUVERS", "1.2.0", "version of the format"),
        ("CHANTYPE", "PI", "channels: the cube's energy bands"),
        ("DETCHANS", n_bands, "number of channels (bands)"),
    ):
        hdu.header[key] = (value, comment)
    return hdu


def _ebounds_edges(hdul: fits.HDUList) -> list[float] | None:
    """Band edges from an EBOUNDS extension, None if there is none."""
    if EBOUNDS not in hdul:
        return None
    data = hdul[EBOUNDS].data
    order = np.argsort(data["CHANNEL"])
    low, high = np.asarray(data["E_MIN"])[order], np.asarray(data["E_MAX"])[order]
    return [float(v) for v in low] + [float(high[-1])]


def _edges(header: fits.Header) -> list[float] | None:
    n_bands = header.get("NBANDS")
    if n_bands is None:
        return None
    low = [header.get(f"ELO{i + 1}") for i in range(int(n_bands))]
    high = header.get(f"EHI{int(n_bands)}")
    if None in low or high is None:
        return None
    return [float(v) for v in low] + [float(high)]


def header_metadata(header: fits.Header, band_edges_kev: list[float] | None = None,
                    ) -> dict[str, Any]:
    """The values of :func:`read_cube_header` from a header already read.

    ``band_edges_kev``, from the EBOUNDS extension where there is one, wins over the
    ``ELO``/``EHI`` cards of the header.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        wcs = WCS(header, naxis=2) if "CTYPE1" in header else None
    celestial = wcs if wcs is not None and wcs.has_celestial else None
    ra = dec = None
    if celestial is not None:
        height, width = header.get("NAXIS2", 0), header.get("NAXIS1", 0)
        ra, dec = (float(v) for v in celestial.pixel_to_world_values((width - 1) / 2.0,
                                                                     (height - 1) / 2.0))
    pixel = header.get("PIXSCALE")
    return {
        "bunit": header.get("BUNIT"),
        "wcs": celestial,
        "ra_deg": ra,
        "dec_deg": dec,
        "band_edges_kev": band_edges_kev if band_edges_kev is not None else _edges(header),
        "pixel_arcsec": None if pixel is None else float(pixel),
        "exposure_s": None if header.get("EXPOSURE") is None else float(header["EXPOSURE"]),
    }


def read_cube_header(path: str | os.PathLike) -> dict[str, Any]:
    """Units, position, band edges, pixel scale and exposure of a FITS cube.

    Parameters
    ----------
    path : str or os.PathLike
        A cube written by :func:`write_fits_cube` (or any FITS cube: missing cards
        come back as None).

    Returns
    -------
    dict
        ``bunit`` (str), ``wcs`` (celestial :class:`astropy.wcs.WCS`), ``ra_deg`` and
        ``dec_deg`` (centre of the cube, deg), ``band_edges_kev`` (list of
        n_bands + 1 floats, keV), ``pixel_arcsec``, ``exposure_s``; None where the
        header does not say.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from sk_clustermass.datasets import read_cube_header, write_fits_cube
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "c.fits"
    ...     write_fits_cube(path, np.zeros((10, 50, 50)), 0.3, ra_deg=150.0, dec_deg=2.0,
    ...                     exposure_s=1200.0)
    ...     meta = read_cube_header(path)
    >>> meta["bunit"], round(meta["ra_deg"], 6), meta["pixel_arcsec"], meta["exposure_s"]
    ('count', 150.0, 24.0, 1200.0)
    >>> len(meta["band_edges_kev"]), meta["band_edges_kev"][0]
    (11, 0.25)

    The band edges come from the EBOUNDS extension, or, in files written before it, from
    the ``ELO``/``EHI`` cards.
    """
    path = Path(path)
    if not path.is_file():
        message = f"FITS file {str(path)!r} does not exist (or is not a file)"
        raise FileNotFoundError(message)
    with fits.open(path, memmap=False) as hdul:
        for hdu in hdul:
            if hdu.is_image and hdu.header.get("NAXIS", 0) == 3:
                return header_metadata(hdu.header, _ebounds_edges(hdul))
    message = f"{str(path)!r} has no 3-D image HDU (a cube of shape (n_bands, height, width))"
    raise ValueError(message)
