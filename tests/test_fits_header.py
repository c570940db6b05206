"""FITS cube headers: units, WCS, band edges, exposure and pixel scale, written and read."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from sk_clustermass.datasets import (
    cutout_wcs,
    read_cube_header,
    read_fits_cubes,
    write_fits_cube,
)


def test_header_round_trip(tmp_path):
    path = tmp_path / "c.fits"
    edges = np.linspace(0.5, 2.0, 4)
    write_fits_cube(path, np.ones((3, 20, 20)), 0.4, ra_deg=35.5, dec_deg=-4.25,
                    band_edges_kev=edges, pixel_arcsec=12.0, exposure_s=900.0)
    meta = read_cube_header(path)
    assert meta["bunit"] == "count"
    np.testing.assert_allclose([meta["ra_deg"], meta["dec_deg"]], [35.5, -4.25], atol=1e-9)
    np.testing.assert_allclose(meta["band_edges_kev"], edges)
    assert meta["pixel_arcsec"] == 12.0 and meta["exposure_s"] == 900.0
    expected = cutout_wcs(35.5, -4.25, image_size=20, pixel_arcsec=12.0)
    np.testing.assert_allclose(meta["wcs"].pixel_to_world_values(3, 17),
                               expected.pixel_to_world_values(3, 17))
    X, _, _ = read_fits_cubes([path])  # the cube itself still reads as before
    assert X["images"].shape == (1, 3, 20, 20)


def test_defaults_follow_the_library_conventions(tmp_path):
    path = tmp_path / "c.fits"
    write_fits_cube(path, np.zeros((10, 50, 50)), 0.3)
    meta = read_cube_header(path)
    assert meta["wcs"] is None and meta["ra_deg"] is None  # no position, no WCS
    assert meta["pixel_arcsec"] == 24.0 and meta["band_edges_kev"][-1] == 2.3
    header = fits.getheader(path)
    assert header["NBANDS"] == 10 and header["BUNIT"] == "count"
    write_fits_cube(path, np.zeros((4, 50, 50)), 0.3)  # other bands: edges unknown
    assert read_cube_header(path)["band_edges_kev"] is None


def test_header_errors(tmp_path):
    with pytest.raises(ValueError, match="band_edges_kev must be 4"):
        write_fits_cube(tmp_path / "c.fits", np.zeros((3, 8, 8)), 0.3, band_edges_kev=[1, 2])
    with pytest.raises(ValueError, match="both ra_deg and dec_deg"):
        write_fits_cube(tmp_path / "c.fits", np.zeros((3, 8, 8)), 0.3, ra_deg=1.0)
    fits.PrimaryHDU(np.zeros((4, 4))).writeto(tmp_path / "flat.fits")
    with pytest.raises(ValueError, match="no 3-D image"):
        read_cube_header(tmp_path / "flat.fits")
