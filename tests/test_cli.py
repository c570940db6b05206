"""The ``sk-clustermass`` command line, end to end on tiny sizes, and its bad-input errors.

The chain simulate -> train -> predict -> evaluate -> study -> demo runs each command
in a subprocess, as a user would, and checks what it wrote. The bad-input cases call
:func:`sk_clustermass.cli.main` in-process (the same code the console script runs),
which is faster; one case checks the subprocess's exit code and stderr as well.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from sk_clustermass.cli import build_parser, main

COMMANDS = ("simulate", "train", "predict", "evaluate", "cutouts", "study", "demo")
#: A tiny network: a few seconds per epoch on 60 clusters.
TINY_NETWORK = ["--n-filters", "4", "--kernel-size", "3", "--conv-layers", "1",
                "--pool-size", "4", "--dense-layers", "8", "--batch-size", "16",
                "--patience", "none", "--max-epochs", "2"]
HAVE_STUDIES = importlib.util.find_spec("sk_clustermass.studies") is not None


def _executable() -> list[str]:
    script = Path(sys.executable).with_name("sk-clustermass")
    return [str(script)] if script.exists() else [sys.executable, "-m", "sk_clustermass.cli"]


def run_cli(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    return subprocess.run([*_executable(), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def _ok(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A folder where `simulate` wrote 60 clusters and `train` a model on them."""
    folder = tmp_path_factory.mktemp("cli")
    _ok(run_cli("simulate", "-n", "60", "--chunk-size", "64", "--seed", "1",
                "-o", "data/clusters.h5", "--quiet", cwd=folder))
    _ok(run_cli("train", "data/clusters.h5", "-o", "model.safetensors", "--joblib",
                "model.joblib", *TINY_NETWORK, "--quiet", cwd=folder))
    return folder


# ----------------------------------------------------------------------------- end to end
def test_simulate_writes_a_readable_file(workdir):
    from sk_clustermass.datasets import read_hdf5

    X, y, catalog = read_hdf5(workdir / "data" / "clusters.h5")
    assert X["images"].shape == (60, 10, 50, 50)
    assert y.shape == (60,) and np.isfinite(y).all() and len(catalog) == 60


def test_simulate_compression_option(tmp_path):
    import h5py

    from sk_clustermass.datasets import read_hdf5

    for codec in ("lzf", "none"):
        path = tmp_path / f"{codec}.h5"
        assert main(["simulate", "-n", "5", "--chunk-size", "64", "--seed", "2",
                     "--compression", codec, "-o", str(path), "--quiet"]) == 0
        with h5py.File(path, "r") as file:
            assert file["images"].compression == (None if codec == "none" else codec)
    X_lzf, y_lzf, _ = read_hdf5(tmp_path / "lzf.h5")
    X_raw, y_raw, _ = read_hdf5(tmp_path / "none.h5")
    np.testing.assert_array_equal(X_lzf["images"], X_raw["images"])  # same clusters
    np.testing.assert_array_equal(y_lzf, y_raw)


def test_train_saves_safe_and_joblib_models(workdir):
    from sk_clustermass import load_model

    model = load_model(workdir / "model.safetensors")
    assert len(model[-1].history_) == 2
    assert model[-1].get_params()["n_filters"] == 4
    assert (workdir / "model.joblib").stat().st_size > 0


def test_predict_writes_finite_csv(workdir):
    result = run_cli("predict", "model.safetensors", "data/clusters.h5", "-o", "pred.csv",
                     cwd=workdir)
    _ok(result)
    table = pd.read_csv(workdir / "pred.csv")
    assert list(table.columns) == ["id", "redshift", "mean", "std"]
    assert len(table) == 60 and table["id"].is_unique
    assert np.isfinite(table[["redshift", "mean", "std"]].to_numpy()).all()
    assert (table["std"] > 0).all()
    assert "predict" in result.stderr  # the progress bar


def test_evaluate_writes_metrics_figures_and_report(workdir):
    result = run_cli("evaluate", "model.safetensors", "data/clusters.h5", "-o", "evaluation",
                     "--name", "tiny CNN", cwd=workdir)
    _ok(result)
    folder = workdir / "evaluation"
    metrics = pd.read_csv(folder / "metrics.csv", index_col="method")
    assert list(metrics.index) == ["tiny CNN"]
    assert np.isfinite(metrics[["scatter_dex", "bias_dex", "coverage_68"]].to_numpy()).all()
    assert "scatter_dex" in result.stdout  # the printed table
    for name in ("index.html", "predictions.csv", "predicted_vs_true.png", "pulls.png",
                 "residuals.png", "gallery.png", "loss_curves.png"):
        assert (folder / name).is_file(), name


def test_study_without_the_studies_module_is_a_clear_error(capsys, monkeypatch):
    import sk_clustermass

    monkeypatch.delattr(sk_clustermass, "studies", raising=False)
    monkeypatch.setitem(sys.modules, "sk_clustermass.studies", None)  # as if absent
    line = _error(capsys, "study", "filters")
    assert "sk_clustermass.studies" in line


@pytest.mark.skipif(not HAVE_STUDIES, reason="sk_clustermass.studies is not there yet")
def test_study_lists_the_studies(capsys):
    assert main(["study", "--list"]) == 0
    listing = capsys.readouterr().out
    assert "dropout" in listing and "filters" in listing


@pytest.mark.slow  # about 30 s: a 3-candidate x 2-fold grid search
@pytest.mark.skipif(not HAVE_STUDIES, reason="sk_clustermass.studies is not there yet")
def test_study_runs_a_tiny_grid(workdir):
    result = run_cli("study", "dropout", "data/clusters.h5", "-o", "study", "--quiet",
                     *TINY_NETWORK[:-2], "--max-epochs", "1", cwd=workdir)
    _ok(result)
    folder = workdir / "study"
    results = pd.read_csv(folder / "cv_results.csv")
    assert len(results) == 3  # dropout 0, 0.2, 0.5 in quick mode
    summary = json.loads((folder / "summary.json").read_text())
    assert np.isfinite(summary["held_out"]["scatter_dex"])
    assert (folder / "predicted_vs_true.png").is_file()


@pytest.mark.skipif(not HAVE_STUDIES, reason="sk_clustermass.studies is not there yet")
def test_study_rejects_unknown_names(capsys):
    line = _error(capsys, "study", "no-such-study")
    assert "unknown study" in line and "dropout" in line


def test_demo_quick_writes_the_report(tmp_path):
    result = run_cli("demo", "--quick", "--out", "report", "--quiet", cwd=tmp_path)
    _ok(result)
    assert result.stdout == "" and result.stderr == ""  # --quiet
    folder = tmp_path / "report"
    summary = pd.read_csv(folder / "summary.csv", index_col="method")
    assert list(summary.index) == ["CNN", "count-rate relation", "luminosity relation"]
    values = summary[["scatter_dex", "sigma_lnM", "bias_dex", "coverage_68"]].to_numpy()
    assert np.isfinite(values).all()
    predictions = pd.read_csv(folder / "predictions.csv")
    assert len(predictions) == summary["n"].iloc[0]
    for name in ("index.html", "model.safetensors", "loss_curves.png", "gallery.png",
                 "predicted_vs_true.png", "residuals.png", "pulls.png"):
        assert (folder / name).is_file(), name
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert "count-rate relation" in page and 'src="gallery.png"' in page


def test_config_file_and_options(tmp_path):
    from sk_clustermass.cli._common import read_config, regressor_params

    config = tmp_path / "params.toml"
    config.write_text('n_filters = 40\ndense_layers = [64, 32]\nregularizer = "none"\n'
                      'preprocessing = "log-normalize"\n')
    values = read_config(config)
    assert values["dense_layers"] == (64, 32) and values["regularizer"] is None
    args = build_parser().parse_args(["train", "--simulate", "10", "--n-filters", "8"])
    params = regressor_params(args, values)
    assert params == {"n_filters": 8, "dense_layers": (64, 32), "regularizer": None}


def test_train_out_of_core(workdir, tmp_path):
    from sk_clustermass import load_model

    output = tmp_path / "streamed.safetensors"
    code = main(["train", str(workdir / "data" / "clusters.h5"), "--out-of-core",
                 "--preprocessing", "none", *TINY_NETWORK, "-o", str(output), "--quiet"])
    assert code == 0
    model = load_model(output)
    assert [name for name, _ in model.steps] == ["clustermassregressor"]


# ----------------------------------------------------------------------------- help
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_examples(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert f"sk-clustermass {command}" in text and "examples:" in text


def test_parser_lists_every_command():
    text = build_parser().format_help()
    for command in COMMANDS:
        assert command in text


# ----------------------------------------------------------------------------- bad input
def _error(capsys, *argv: str) -> str:
    """Run main in-process; assert exit code 2 and a one-line message; return it."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    captured = capsys.readouterr()
    assert code == 2, captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    return lines[0]


def test_missing_data_file(capsys, tmp_path):
    line = _error(capsys, "predict", str(tmp_path / "m.safetensors"), str(tmp_path / "x.h5"))
    assert "does not exist" in line


def test_missing_training_file(capsys, tmp_path):
    line = _error(capsys, "train", str(tmp_path / "absent.h5"), "-o", str(tmp_path / "m"))
    assert "absent.h5" in line and "does not exist" in line


def test_wrong_file_format(capsys, workdir, tmp_path):
    fake = tmp_path / "notes.h5"
    fake.write_text("not hdf5")
    line = _error(capsys, "evaluate", str(workdir / "model.safetensors"), str(fake),
                  "-o", str(tmp_path / "out"))
    assert "notes.h5" in line and "HDF5" in line
    line = _error(capsys, "predict", str(fake), str(workdir / "data" / "clusters.h5"))
    assert "model" in line


def test_unknown_option_value(capsys):
    line = _error(capsys, "train", "--simulate", "50", "--loss", "huber")
    assert "--loss" in line and "gaussian_nll" in line


def test_invalid_hyperparameter_value(capsys, tmp_path):
    line = _error(capsys, "train", "--simulate", "50", "--dropout", "1.5",
                  "-o", str(tmp_path / "m.safetensors"))
    assert "dropout" in line


def test_missing_command(capsys):
    line = _error(capsys)
    assert "COMMAND" in line or "command" in line


def test_config_with_unknown_key(capsys, tmp_path):
    config = tmp_path / "params.json"
    config.write_text(json.dumps({"n_filter": 10}))
    line = _error(capsys, "train", "--simulate", "50", "--config", str(config))
    assert "n_filter" in line and "n_filters" in line


def test_config_that_does_not_parse(capsys, tmp_path):
    config = tmp_path / "params.toml"
    config.write_text("n_filters = = 3")
    line = _error(capsys, "train", "--simulate", "50", "--config", str(config))
    assert "TOML" in line


def test_pickle_needs_consent(capsys, workdir):
    line = _error(capsys, "predict", str(workdir / "model.joblib"),
                  str(workdir / "data" / "clusters.h5"))
    assert "--allow-pickle" in line


def test_evaluate_needs_true_masses(capsys, workdir, tmp_path):
    from sk_clustermass.datasets import read_hdf5, write_hdf5

    X, _, _ = read_hdf5(workdir / "data" / "clusters.h5", rows=slice(0, 5))
    unlabelled = tmp_path / "unlabelled.h5"
    write_hdf5(unlabelled, X, None)
    line = _error(capsys, "evaluate", str(workdir / "model.safetensors"), str(unlabelled))
    assert "true masses" in line


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_cuda_without_a_gpu_fails_before_any_work(capsys, tmp_path):
    line = _error(capsys, "demo", "--device", "cuda", "--out", str(tmp_path / "report"))
    assert "no CUDA device" in line
    assert not (tmp_path / "report").exists()


def test_demo_rejects_bad_sizes(capsys):
    line = _error(capsys, "demo", "--n-samples", "12")
    assert "too few clusters" in line


def test_bad_input_in_a_subprocess(tmp_path):
    result = run_cli("predict", "absent.safetensors", "absent.h5", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "sk-clustermass predict: error: model file 'absent.safetensors' does not exist"
    )
