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


# ----------------------------------------------------------------------------- OGIP, axis 3
def test_band_edges_ship_as_an_ogip_ebounds_extension(tmp_path):
    from astropy.table import Table

    path = tmp_path / "c.fits"
    edges = [0.3, 0.5, 1.0, 2.0]  # unequal widths
    write_fits_cube(path, np.ones((3, 8, 8)), 0.2, band_edges_kev=edges)
    table = Table.read(path, hdu="EBOUNDS")
    assert table["CHANNEL"].tolist() == [1, 2, 3]
    assert table["E_MIN"].tolist() == edges[:-1] and table["E_MAX"].tolist() == edges[1:]
    assert str(table["E_MIN"].unit) == "keV" and str(table["E_MAX"].unit) == "keV"
    header = fits.getheader(path, extname="EBOUNDS")
    assert (header["HDUCLASS"], header["HDUCLAS1"], header["HDUCLAS2"]) == (
        "OGIP", "RESPONSE", "EBOUNDS")
    assert header["DETCHANS"] == 3 and header["CHANTYPE"] == "PI"
    # unequal bands: axis 3 is the band number, which EBOUNDS turns into energies
    cube = fits.getheader(path)
    assert cube["CTYPE3"] == "CHANNEL" and cube["WCSAXES"] == 3
    assert read_cube_header(path)["band_edges_kev"] == edges


def test_equal_bands_make_a_linear_energy_axis_without_mjdref(tmp_path):
    from astropy import units as u
    from astropy.wcs import WCS

    path = tmp_path / "c.fits"
    write_fits_cube(path, np.zeros((10, 50, 50)), 0.3, ra_deg=150.0, dec_deg=2.0)
    header = fits.getheader(path)
    assert header["CTYPE3"] == "ENER" and header["CUNIT3"] == "keV"
    assert "MJDREF" not in header  # a cube has no time axis
    spectral = WCS(header).spectral
    centres = spectral.pixel_to_world([0, 9]).to(u.keV).value
    np.testing.assert_allclose(centres, [0.3525, 2.1975], rtol=1e-6)  # via joules
    meta = read_cube_header(path)  # the celestial WCS is unchanged
    np.testing.assert_allclose([meta["ra_deg"], meta["dec_deg"]], [150.0, 2.0], atol=1e-9)


def test_files_without_ebounds_still_read_their_elo_ehi_cards(tmp_path):
    path = tmp_path / "old.fits"
    header = fits.Header()
    header["NBANDS"] = 2
    for key, value in {"ELO1": 0.5, "EHI1": 1.0, "ELO2": 1.0, "EHI2": 2.0}.items():
        header[key] = value
    fits.PrimaryHDU(np.ones((2, 4, 4), dtype=np.float32), header=header).writeto(path)
    assert read_cube_header(path)["band_edges_kev"] == [0.5, 1.0, 2.0]
