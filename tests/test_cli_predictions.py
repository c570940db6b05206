"""``predict``/``evaluate`` tables (--format, --model) and the output-suffix checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from astropy.table import QTable

from sk_clustermass import ClusterMassRegressor, save_model
from sk_clustermass.cli import main
from sk_clustermass.datasets import make_clusters, write_hdf5
from tests.conftest import TINY


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tables")
    X, y, catalog = make_clusters(12, random_state=3, chunk_size=64, return_catalog=True)
    catalog = catalog[["sim_id", "z"]].assign(ra_deg=np.linspace(10, 11, 12),
                                             dec_deg=-5.0, partial=False)
    write_hdf5(folder / "c.h5", X, y, catalog)
    model = ClusterMassRegressor(**{**TINY, "max_epochs": 1, "patience": None,
                                    "random_state": 0}).fit(X, y)
    save_model(model, folder / "m.safetensors")
    return folder, model, X, y


def _error(capsys, *argv) -> str:
    assert main([*argv, "--quiet"]) == 2
    return capsys.readouterr().err.strip()


@pytest.mark.parametrize("output, fmt", [("p.ecsv", None), ("p.fits", None),
                                         ("p.fits", "fits"), ("p.tbl", "ecsv")])
def test_predict_writes_tables_with_units(files, output, fmt):
    folder, model, X, _ = files
    extra = [] if fmt is None else ["--format", fmt]
    path = folder / output
    assert main(["predict", str(folder / "m.safetensors"), str(folder / "c.h5"), "-o",
                 str(path), *extra, "--quiet"]) == 0
    table = QTable.read(path, format="ascii.ecsv" if fmt == "ecsv" else None)
    mean, std = model.predict(X, return_std=True)
    np.testing.assert_allclose(np.asarray(table["log10_M500c"].value), mean, rtol=1e-6)
    np.testing.assert_allclose(table["M500c_high"].value, 10 ** (mean + std), rtol=1e-6)
    assert str(table["M500c"].unit) == "solMass" and str(table["R500c"].unit) == "kpc"
    # positions carried over: a SkyCoord in ECSV, RA/DEC columns in FITS
    ra = table["coord"].ra.deg if path.suffix != ".fits" else table["RA"].value
    np.testing.assert_allclose(ra, np.linspace(10, 11, 12))
    assert len(table) == 12 and len(set(table["id"].tolist())) == 12


def test_predict_plain_csv_keeps_the_old_columns(files):
    folder, _, _, _ = files
    assert main(["predict", str(folder / "m.safetensors"), str(folder / "c.h5"), "-o",
                 str(folder / "p.csv"), "--quiet"]) == 0
    assert list(pd.read_csv(folder / "p.csv").columns) == ["id", "redshift", "mean", "std"]


def test_suffix_disagreeing_with_format_is_an_error(files, capsys):
    folder, _, _, _ = files
    model, data = str(folder / "m.safetensors"), str(folder / "c.h5")
    line = _error(capsys, "predict", model, data, "-o", str(folder / "x.fits"),
                  "--format", "ecsv")
    assert "has a fits suffix but the format asked for is ecsv" in line
    line = _error(capsys, "predict", model, data, "-o", str(folder / "x.csv"), "--format",
                  "fits")
    assert ".csv suffix but --format fits" in line
    assert not (folder / "x.fits").exists() and not (folder / "x.csv").exists()
    line = _error(capsys, "predict", model, data, "--model", model)
    assert "either as the MODEL argument or with --model" in line


def test_simulate_refuses_a_non_hdf5_suffix(tmp_path, capsys):
    line = _error(capsys, "simulate", "-n", "5", "-o", str(tmp_path / "y.fits"))
    assert "simulate writes the library's HDF5 format" in line and "y.h5" in line
    assert not (tmp_path / "y.fits").exists()


def test_evaluate_writes_the_unit_table(files):
    folder, _, _, y = files
    assert main(["evaluate", str(folder / "m.safetensors"), str(folder / "c.h5"), "-o",
                 str(folder / "ev"), "--no-figures", "--format", "fits", "--quiet"]) == 0
    table = QTable.read(folder / "ev" / "predictions.fits")
    np.testing.assert_allclose(np.asarray(table["log10_M500c_true"]), y)


def test_the_mass_table_of_predict_records_the_models_prior():
    from types import SimpleNamespace

    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    from sk_clustermass.cli._predictions import model_prior

    flat = SimpleNamespace(prior_="flat")
    assert model_prior(flat) == "flat"
    assert model_prior(Pipeline([("prep", FunctionTransformer()), ("model", flat)])) == "flat"
    assert model_prior(SimpleNamespace()) is None  # a model from before the prior existed


def test_a_local_file_named_efeds_does_not_shadow_the_shipped_model(files, tmp_path,
                                                                    monkeypatch, capsys):
    """Issue 27.11: a file named `efeds` in the current folder was loaded instead of the
    shipped model, silently. The bare name is the shipped model (with a warning);
    ./efeds is the file."""
    from sk_clustermass.models import load_pretrained

    folder, _, X, _ = files
    monkeypatch.chdir(tmp_path)
    (tmp_path / "efeds").write_bytes((folder / "m.safetensors").read_bytes())
    assert main(["predict", "--model", "efeds", str(folder / "c.h5"), "-o", "p.csv"]) == 0
    assert "give ./efeds to load it" in capsys.readouterr().err  # the warning
    shipped = load_pretrained("efeds").predict(X)
    np.testing.assert_allclose(pd.read_csv("p.csv")["mean"], shipped, rtol=1e-5)
    assert main(["predict", "--model", "./efeds", str(folder / "c.h5"), "-o", "q.csv",
                 "--quiet"]) == 0
    local = pd.read_csv("q.csv")["mean"].to_numpy()
    assert not np.allclose(local, shipped, rtol=1e-3)  # the local (tiny) model


def test_joblib_gz_is_a_pickle_refused_without_allow_pickle(files, tmp_path, capsys):
    """Issue 27.14: model.joblib.gz was not recognised as a pickle, even with
    --allow-pickle (it went to the safetensors reader)."""
    import joblib

    folder, model, X, _ = files
    path = tmp_path / "model.joblib.gz"
    joblib.dump(model, path)
    assert "pickle" in _error(capsys, "predict", str(path), str(folder / "c.h5"), "-o",
                              str(tmp_path / "p.csv"))
    assert main(["predict", str(path), str(folder / "c.h5"), "--allow-pickle", "-o",
                 str(tmp_path / "p.csv"), "--quiet"]) == 0
    np.testing.assert_allclose(pd.read_csv(tmp_path / "p.csv")["mean"], model.predict(X),
                               rtol=1e-5)
