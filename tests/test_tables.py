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
    assert table.meta["cosmology"]["H0_km_s_Mpc"] == 70.0
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
