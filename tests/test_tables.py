"""Mass tables: units, asymmetric bounds, R500, provenance, ECSV/FITS and suffix checks."""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable

from sk_clustermass.models import mass_table, table_format, write_mass_table
from sk_clustermass.simulate import r500_kpc


@pytest.fixture
def table(tmp_path):
    model = tmp_path / "model.safetensors"
    model.write_bytes(b"weights")
    return mass_table([14.0, 13.0], [0.1, 0.3], [0.2, 0.8], ids=["a", "b"],
                      y_true=[14.1, 12.9], model_path=model,
                      training_population={"survey": "efeds", "n_samples": 10})


def test_columns_units_and_bounds(table):
    assert table["M500c"].unit == u.Msun and table["R500c"].unit == u.kpc
    assert table["theta500c"].unit == u.arcmin
    np.testing.assert_allclose(table["M500c"].value, [1e14, 1e13])
    np.testing.assert_allclose(table["M500c_low"].value, [10**13.9, 10**12.7])
    np.testing.assert_allclose(table["M500c_high"].value, [10**14.1, 10**13.3])
    # asymmetric in M: the upper bound is further from the median than the lower one
    assert np.all(table["M500c_high"] - table["M500c"] > table["M500c"] - table["M500c_low"])
    np.testing.assert_allclose(table["R500c"].value, r500_kpc([1e14, 1e13], [0.2, 0.8]))
    assert table["log10_M500c_true"].unit == u.dex(u.Msun)


def test_provenance(table):
    import hashlib

    assert table.meta["model_sha256"] == hashlib.sha256(b"weights").hexdigest()
    assert table.meta["model_file"] == "model.safetensors"
    assert table.meta["cosmology"].H0 == 70.0 * u.km / u.s / u.Mpc
    assert table.meta["training_population"]["survey"] == "efeds"
    assert "library_version" in table.meta


@pytest.mark.parametrize("suffix", [".ecsv", ".fits"])
def test_round_trip(table, tmp_path, suffix):
    path = tmp_path / f"masses{suffix}"
    assert write_mass_table(table, path) == suffix[1:]
    back = QTable.read(path)
    np.testing.assert_allclose(back["M500c"].to_value(u.Msun), table["M500c"].value)
    assert back["R500c"].unit == u.kpc
    np.testing.assert_allclose(np.asarray(back["log10_M500c"].value), [14.0, 13.0])
    meta = back.meta
    sha = meta["model_sha256"] if suffix == ".ecsv" else meta["MODELSHA"]
    assert sha == table.meta["model_sha256"]


def test_format_and_suffix_must_agree(table, tmp_path):
    with pytest.raises(ValueError, match="has a fits suffix but the format asked for is ecsv"):
        write_mass_table(table, tmp_path / "m.fits", format="ecsv")
    assert not (tmp_path / "m.fits").exists()
    with pytest.raises(ValueError, match="cannot tell the table format"):
        table_format("masses.txt")
    assert table_format("masses.txt", "fits") == "fits"
    with pytest.raises(ValueError, match="unknown"):
        table_format("m.ecsv", "votable")


def test_text_ids_from_hdf5_are_written_as_text(tmp_path):
    table = mass_table([14.0, 13.0], [0.1, 0.1], [0.2, 0.3],
                       ids=np.array([b"eFEDS J1", b"eFEDS J2"], dtype=object))
    write_mass_table(table, tmp_path / "m.ecsv")
    assert QTable.read(tmp_path / "m.ecsv")["id"].tolist() == ["eFEDS J1", "eFEDS J2"]
    with pytest.raises(ValueError, match="one identifier per cluster"):
        mass_table([14.0], [0.1], [0.2], ids=["a", "b"])


def test_bad_vectors():
    with pytest.raises(ValueError, match="std has 1 values"):
        mass_table([14.0, 13.0], [0.1], [0.2, 0.3])


# ----------------------------------------------------------------------------- astropy-native
def test_cosmology_round_trips_with_every_parameter(tmp_path):
    from astropy.cosmology import Planck18

    from sk_clustermass.models import cosmology_from_json

    table = mass_table([14.0], [0.1], [0.3], cosmology=Planck18)
    assert write_mass_table(table, tmp_path / "m.ecsv") == "ecsv"
    back = QTable.read(tmp_path / "m.ecsv").meta["cosmology"]
    assert back.is_equivalent(Planck18) and back.name == "Planck18"
    for name in ("Ob0", "Neff"):
        assert getattr(back, name) == getattr(Planck18, name), name
    assert back.Tcmb0 == Planck18.Tcmb0 and np.all(back.m_nu == Planck18.m_nu)
    write_mass_table(table, tmp_path / "m.fits")
    header_cosmology = cosmology_from_json(QTable.read(tmp_path / "m.fits").meta["COSMO"])
    assert header_cosmology.is_equivalent(Planck18) and header_cosmology.name == "Planck18"
    assert header_cosmology.Ob0 == Planck18.Ob0


def test_positions_are_a_skycoord_in_ecsv_and_ra_dec_in_fits(tmp_path):
    from astropy.coordinates import SkyCoord

    table = mass_table([14.0, 13.5], [0.1, 0.2], [0.3, 0.4], ra_deg=[150.0, 10.5],
                       dec_deg=[2.0, -30.25])
    assert isinstance(table["coord"], SkyCoord) and table["coord"].frame.name == "icrs"
    write_mass_table(table, tmp_path / "m.ecsv")
    coord = QTable.read(tmp_path / "m.ecsv")["coord"]
    assert isinstance(coord, SkyCoord)
    np.testing.assert_allclose(coord.ra.deg, [150.0, 10.5])
    np.testing.assert_allclose(coord.dec.deg, [2.0, -30.25])
    write_mass_table(table, tmp_path / "m.fits")
    back = QTable.read(tmp_path / "m.fits")
    assert back.colnames[:3] == ["id", "RA", "DEC"] and back["RA"].unit == u.deg
    np.testing.assert_allclose(back["DEC"].value, [2.0, -30.25])


def test_positions_need_both_coordinates():
    with pytest.raises(ValueError, match="both ra_deg and dec_deg"):
        mass_table([14.0], [0.1], [0.3], ra_deg=[150.0])
