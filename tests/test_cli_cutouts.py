"""``sk-clustermass cutouts``, and the real-data path end to end.

A small synthetic event list and exposure map in the eSASS format, made from the
simulator's own photons, go through ``cutouts`` -> ``predict --model efeds`` -> an
ECSV table; the masses must equal those the shipped model predicts from the
simulator's cubes of the same clusters.
"""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import QTable, Table

from sk_clustermass.cli import main
from sk_clustermass.datasets import make_clusters, read_hdf5, write_mock_event_files
from sk_clustermass.models import load_pretrained

N_CLUSTERS = 5


@pytest.fixture(scope="module")
def survey(tmp_path_factory):
    """Simulated clusters, their photons as an event file + exposure map, a catalogue."""
    folder = tmp_path_factory.mktemp("survey")
    X, y = make_clusters(N_CLUSTERS, random_state=11, chunk_size=64)
    ra = 135.0 + np.arange(N_CLUSTERS) * 0.8  # 0.8 deg apart: the cutouts do not overlap
    dec = np.full(N_CLUSTERS, 1.5)
    write_mock_event_files(folder / "events.fits", folder / "expmap.fits", X, ra, dec,
                           random_state=0)
    catalog = Table({"Name": [f"eFEDS J{i}" for i in range(N_CLUSTERS)], "RA_CORR": ra,
                     "DEC_CORR": dec, "z": X["redshift"].astype(float)})
    catalog.write(folder / "catalog.fits")
    return folder, X, y


def _cutouts(folder, *extra) -> int:
    return main(["cutouts", str(folder / "events.fits"), "--exposure",
                 str(folder / "expmap.fits"), "--catalog", str(folder / "catalog.fits"),
                 *extra, "--quiet"])


def test_cutouts_writes_the_simulated_cubes(survey):
    folder, X, _ = survey
    assert _cutouts(folder, "-o", str(folder / "clusters.h5")) == 0
    X_cut, y_cut, catalog = read_hdf5(folder / "clusters.h5")
    np.testing.assert_array_equal(X_cut["images"], X["images"])
    np.testing.assert_array_equal(X_cut["redshift"], X["redshift"])
    assert y_cut is None  # observed clusters: no true masses
    assert catalog["id"].tolist() == [f"eFEDS J{i}" for i in range(N_CLUSTERS)]
    assert not catalog["partial"].any() and (catalog["coverage"] == 1).all()


def test_end_to_end_events_to_mass_table(survey):
    folder, X, _ = survey
    assert _cutouts(folder, "-o", str(folder / "e2e.h5")) == 0
    assert main(["predict", "--model", "efeds", str(folder / "e2e.h5"), "-o",
                 str(folder / "masses.ecsv"), "--quiet"]) == 0
    table = QTable.read(folder / "masses.ecsv")
    mean, std = load_pretrained("efeds").predict(X, return_std=True)
    np.testing.assert_allclose(table["log10_M500c"].value, mean, rtol=0, atol=1e-9)
    np.testing.assert_allclose(table["log10_M500c_std"].value, std, rtol=1e-9)
    assert str(table["M500c"].unit) == "solMass" and str(table["theta500c"].unit) == "arcmin"
    assert table.meta["training_population"]["survey"] == "efeds_survey"
    assert table.meta["model_file"] == "efeds.safetensors"
    assert table["id"].tolist() == [f"eFEDS J{i}" for i in range(N_CLUSTERS)]
    np.testing.assert_allclose(table["coord"].ra.deg, 135.0 + np.arange(N_CLUSTERS) * 0.8)


def test_cutouts_bad_inputs(survey, tmp_path, capsys):
    folder, _, _ = survey
    assert _cutouts(folder, "-o", str(tmp_path / "c.fits")) == 2
    assert "cutouts writes the library's HDF5 format" in capsys.readouterr().err
    far = Table({"RA": [10.0], "DEC": [-60.0], "z": [0.3]})
    far.write(tmp_path / "far.fits")
    code = main(["cutouts", str(folder / "events.fits"), "--exposure",
                 str(folder / "expmap.fits"), "--catalog", str(tmp_path / "far.fits"),
                 "-o", str(tmp_path / "far.h5"), "--quiet"])
    assert code == 2 and "outside every exposure map" in capsys.readouterr().err
    assert not (tmp_path / "far.h5").exists()


def test_cutouts_refuses_a_reversed_time_range(survey, tmp_path, capsys):
    """Issue 27.1: `--time-range 10 5` wrote all-zero cubes with exit code 0."""
    folder, _, _ = survey
    code = _cutouts(folder, "--time-range", "10", "5", "-o", str(tmp_path / "t.h5"))
    assert code == 2 and "START < STOP" in capsys.readouterr().err
    assert not (tmp_path / "t.h5").exists()


def test_cutouts_never_writes_over_its_inputs(survey, tmp_path, capsys):
    """Issue 27.4: `cutouts evin.h5 ... -o evin.h5` destroyed the event file."""
    folder, _, _ = survey
    events = tmp_path / "evin.h5"  # an event file (FITS) with an HDF5 name
    events.write_bytes((folder / "events.fits").read_bytes())
    before = events.read_bytes()
    code = main(["cutouts", str(events), "--exposure", str(folder / "expmap.fits"),
                 "--catalog", str(folder / "catalog.fits"), "-o", str(events), "--quiet"])
    assert code == 2 and "would destroy the input" in capsys.readouterr().err
    assert events.read_bytes() == before


@pytest.mark.parametrize("coverage", ["-1", "nan", "1.5"])
def test_cutouts_refuses_a_min_coverage_outside_0_1(survey, tmp_path, capsys, coverage):
    """Issue 27.14: `--min-coverage -1` and `nan` were accepted."""
    folder, _, _ = survey
    code = _cutouts(folder, "--min-coverage", coverage, "-o", str(tmp_path / "c.h5"))
    assert code == 2 and "--min-coverage must be a fraction" in capsys.readouterr().err
