"""The ``sk-clustermass`` command line, end to end on tiny sizes, and its bad-input errors.

The chain simulate -> train -> predict -> evaluate -> study -> demo runs each command
in a subprocess, as a user would, and checks what it wrote. The bad-input cases call
:func:`sk_clustermass.cli.main` in-process (the same code the console script runs),
which is faster; one case checks the subprocess's exit code and stderr as well.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
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
    _ok(run_cli("simulate", "-n", "60", "--chunk-size", "64", "--random-state", "1",
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
        assert main(["simulate", "-n", "5", "--chunk-size", "64", "--random-state", "2",
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
                 "residuals.png", "gallery.png", "loss_curves.png", "calibration.png",
                 "binned_metrics.png"):
        assert (folder / name).is_file(), name
    predictions = pd.read_csv(folder / "predictions.csv")
    by_mass = pd.read_csv(folder / "binned_true_mass.csv")
    assert by_mass["n"].sum() == len(predictions)
    assert (by_mass["bin_high"] - by_mass["bin_low"]).eq(0.5).all()
    by_z = pd.read_csv(folder / "binned_redshift.csv")
    assert len(by_z) == 4 and by_z["coverage_95_err"].notna().all()
    assert "per bin of redshift" in result.stdout
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert 'id="binned-predicted-mass"' in page and 'src="calibration.png"' in page


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
    result = run_cli("demo", "--quick", "-o", "report", "--quiet", cwd=tmp_path)
    _ok(result)
    assert result.stdout == "" and result.stderr == ""  # --quiet
    folder = tmp_path / "report"
    summary = pd.read_csv(folder / "summary.csv", index_col="method")
    assert list(summary.index) == ["CNN", "boosted trees", "count-rate relation",
                                   "luminosity relation"]
    values = summary[["scatter_dex", "sigma_lnM", "bias_dex", "coverage_68"]].to_numpy()
    assert np.isfinite(values).all()
    predictions = pd.read_csv(folder / "predictions.csv")
    assert len(predictions) == summary["n"].iloc[0]
    for name in ("index.html", "model.safetensors", "loss_curves.png", "gallery.png",
                 "predicted_vs_true.png", "residuals.png", "pulls.png", "calibration.png",
                 "binned_metrics.png"):
        assert (folder / name).is_file(), name
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert "count-rate relation" in page and 'src="gallery.png"' in page
    assert "Per bin of true log10 M500c" in page
    assert "prior=&#x27;training&#x27;" in page or "prior='training'" in page  # issue 26
    # the headline carries the paired-bootstrap interval; the table and its CSV too
    assert "95% interval" in page and "the same resample for both methods" in page
    assert "Paired comparison with the CNN" in page
    paired = pd.read_csv(folder / "paired_comparison.csv", index_col="method")
    assert list(paired.index) == list(summary.index)
    assert (paired["scatter_low"] <= paired["scatter_high"]).all()
    # two epochs of the quick network: used all of them with the loss still falling
    assert 'class="warning">Training used all 2 epochs' in page
    binned = pd.read_csv(folder / "binned_predicted_mass.csv")
    assert set(binned["method"]) == set(summary.index)
    # the baselines give each cluster its own width (intrinsic + Poisson)
    assert predictions["count_rate_std"].nunique() > 1


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


def test_precision_option(capsys):
    from sk_clustermass.cli._common import regressor_params

    args = build_parser().parse_args(["train", "--simulate", "10", "--precision", "bf16"])
    assert regressor_params(args, {}) == {"precision": "bf16"}
    line = _error(capsys, "train", "--simulate", "10", "--precision", "fp16")
    assert "--precision" in line and "bf16" in line


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
    line = _error(capsys, "train", str(tmp_path / "absent.h5"),
                  "-o", str(tmp_path / "m.safetensors"))
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
    line = _error(capsys, "demo", "--device", "cuda", "--output", str(tmp_path / "report"))
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


def test_user_error_exits_2_and_says_what_was_wrong(capsys, tmp_path):
    line = _error(capsys, "simulate", "-n", "3", "-o", str(tmp_path / "sim.fits"))
    assert "HDF5" in line and "internal error" not in line


@pytest.mark.parametrize("error", [TypeError("unsupported operand"), KeyError("images"),
                                   IndexError("index 3 is out of bounds"),
                                   AttributeError("no attribute 'x'")])
def test_internal_error_exits_1_as_a_bug_with_how_to_report_it(capsys, monkeypatch, tmp_path,
                                                               error):
    from sk_clustermass.cli import _commands

    def broken(args, console):
        raise error

    monkeypatch.setattr(_commands, "run_simulate", broken)
    code = main(["simulate", "-n", "3", "-o", str(tmp_path / "s.h5")])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(lines) == 1 and "Traceback" not in lines[0]
    assert "internal error" in lines[0] and "bug" in lines[0]
    assert type(error).__name__ in lines[0]
    assert "--traceback" in lines[0] and "open an issue" in lines[0]


def test_internal_error_with_traceback_raises(monkeypatch, tmp_path):
    from sk_clustermass.cli import _commands

    def broken(args, console):
        raise TypeError("unsupported operand")

    monkeypatch.setattr(_commands, "run_simulate", broken)
    with pytest.raises(TypeError, match="unsupported operand"):
        main(["simulate", "-n", "3", "-o", str(tmp_path / "s.h5"), "--traceback"])


def test_simulate_survey_preset(tmp_path):
    import json

    import h5py

    from sk_clustermass.datasets import read_hdf5

    path = tmp_path / "efeds_like.h5"
    assert main(["simulate", "-n", "4", "--chunk-size", "256", "--survey", "efeds_survey",
                 "-o", str(path), "--quiet"]) == 0
    _, y, catalog = read_hdf5(path)
    assert len(y) == 4 and catalog["detected"].all() and "EXT_LIKE" in catalog
    with h5py.File(path, "r") as file:
        settings = json.loads(file.attrs["simulation_settings"])
    assert settings["sampling"] == "mass-function" and settings["selection"] is not None
# ----------------------------------------------------------------------------- renamed options
@pytest.mark.parametrize(("argv", "dest", "value", "new"), [
    (["simulate", "-n", "5", "-o", "x.h5", "--seed", "7"], "random_state", 7, "--random-state"),
    (["train", "x.h5", "--seed", "3"], "random_state", 3, "--random-state"),
    (["study", "dropout", "--seed", "5"], "random_state", 5, "--random-state"),
    (["demo", "--out", "folder"], "output", "folder", "--output"),
])
def test_old_option_names_still_work_with_a_note(capsys, argv, dest, value, new):
    args = build_parser().parse_args(argv)
    assert getattr(args, dest) == value
    note = capsys.readouterr().err
    assert "deprecated" in note and new in note


def test_new_option_names_need_no_note(capsys):
    args = build_parser().parse_args(["demo", "-o", "folder", "--random-state", "2"])
    assert (args.output, args.random_state) == ("folder", 2)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("command", ["simulate", "train", "study", "demo"])
def test_random_state_is_spelt_like_the_parameter(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    assert "--random-state N" in capsys.readouterr().out


def _options_in(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", text))


def test_study_scripts_and_the_study_command_share_their_options(capsys):
    from sk_clustermass.cli import add_study_options

    script = argparse.ArgumentParser(prog="study_x.py")
    add_study_options(script)
    with pytest.raises(SystemExit):
        main(["study", "--help"])
    command = _options_in(capsys.readouterr().out)
    # and DATA.h5; -v/--verbose is the logging level every command has
    only_command = {"--list", "--config", "--quiet", "--traceback", "--verbose"}
    assert command - _options_in(script.format_help()) == only_command
    for option in ("--mode", "--output", "--random-state", "--max-epochs", "--simulate"):
        assert option in command


def test_study_scripts_accept_their_old_spellings(capsys):
    from sk_clustermass.cli import add_study_options

    parser = argparse.ArgumentParser()
    add_study_options(parser)
    args = parser.parse_args(["--full", "--n-samples", "40", "--epochs", "3", "--out", "o",
                              "--seed", "9"])
    assert (args.mode, args.simulate, args.hp_max_epochs) == ("full", 40, 3)
    assert (args.output, args.random_state) == ("o", 9)
    notes = capsys.readouterr().err
    for old in ("--full", "--n-samples", "--epochs", "--out", "--seed"):
        assert f"note: {old} is deprecated" in notes
# ----------------------------------------------------------------------------- own inputs
@pytest.mark.parametrize("target", ["data", "model", "model-link"])
def test_predict_never_writes_over_its_inputs(capsys, workdir, tmp_path, target):
    data, model = workdir / "data" / "clusters.h5", workdir / "model.safetensors"
    before = {path: path.read_bytes() for path in (data, model)}
    output = {"data": data, "model": model}.get(target)
    if target == "model-link":
        output = tmp_path / "link.csv"
        output.symlink_to(model)
    line = _error(capsys, "predict", str(model), str(data), "-o", str(output))
    assert "would destroy the input" in line
    assert {path: path.read_bytes() for path in before} == before


def test_evaluate_never_writes_over_its_inputs(capsys, workdir, tmp_path):
    folder = tmp_path / "evaluation"
    folder.mkdir()
    data = folder / "predictions.csv"  # an input that has the name of an output
    data.write_bytes((workdir / "data" / "clusters.h5").read_bytes())
    line = _error(capsys, "evaluate", str(workdir / "model.safetensors"), str(data),
                  "-o", str(folder))
    assert "would destroy the input" in line
    assert data.read_bytes() == (workdir / "data" / "clusters.h5").read_bytes()


@pytest.mark.parametrize("name", ["index.html", "predictions.ecsv", "predictions.fits",
                                  "binned_mass.csv", "pulls.png", "calibration.png"])
def test_evaluate_never_writes_over_a_model_given_with_the_option(capsys, workdir, tmp_path,
                                                                  name):
    """Issue 27.4: `evaluate --model DIR/index.html -o DIR` destroyed the model, and
    predictions.ecsv/.fits, binned_*.csv and the figures were not protected."""
    folder = tmp_path / "evaluation"
    folder.mkdir()
    model = folder / name
    model.write_bytes((workdir / "model.safetensors").read_bytes())
    line = _error(capsys, "evaluate", "--model", str(model),
                  str(workdir / "data" / "clusters.h5"), "-o", str(folder))
    assert "would destroy the input" in line
    assert model.read_bytes() == (workdir / "model.safetensors").read_bytes()


def test_evaluate_never_writes_through_a_link_to_its_input(capsys, workdir, tmp_path):
    folder = tmp_path / "evaluation"
    folder.mkdir()
    (folder / "metrics.csv").symlink_to(workdir / "model.safetensors")
    line = _error(capsys, "evaluate", str(workdir / "model.safetensors"),
                  str(workdir / "data" / "clusters.h5"), "-o", str(folder))
    assert "would destroy the input" in line


def test_study_refuses_an_existing_file_and_its_inputs_as_outputs(capsys, workdir, tmp_path):
    """Issue 27.14: `study -o existing_file` exited 1 with a FileExistsError."""
    existing = tmp_path / "results.txt"
    existing.write_text("keep")
    line = _error(capsys, "study", "filters", str(workdir / "data" / "clusters.h5"),
                  "-o", str(existing))
    assert "is an existing file" in line and existing.read_text() == "keep"
    config = tmp_path / "summary.json"
    config.write_text("{}")
    line = _error(capsys, "study", "filters", str(workdir / "data" / "clusters.h5"),
                  "--config", str(config), "-o", str(tmp_path))
    assert "would destroy the input" in line


@pytest.mark.parametrize("name", ["model.csv", "model.h5"])
def test_train_refuses_an_output_that_is_not_a_model_file(capsys, workdir, tmp_path, name):
    """Issue 27.14: `train -o model.csv` wrote a safetensors file named .csv."""
    line = _error(capsys, "train", str(workdir / "data" / "clusters.h5"),
                  "-o", str(tmp_path / name), *TINY_NETWORK)
    assert ".safetensors" in line
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [("--max-epochs", "0", "--max-epochs must be >= 1; got 0"),
     ("--n-samples", "0", "--n-samples 0 with --test-fraction")],
)
def test_demo_refuses_zero_instead_of_taking_the_default(capsys, tmp_path, option, value,
                                                         expected):
    """Issue 27.14: `demo --max-epochs 0` ran 20 epochs, `--n-samples 0` 5000 clusters."""
    line = _error(capsys, "demo", option, value, "-o", str(tmp_path / "demo"))
    assert expected in line


@pytest.mark.parametrize("layers", ["3,,2", "3,", ",3", "3,a"])
def test_layer_lists_with_gaps_are_refused(capsys, workdir, tmp_path, layers):
    """Issue 27.14: `--conv-layers 3,,2` was read as (3, 2)."""
    line = _error(capsys, "train", str(workdir / "data" / "clusters.h5"), "--conv-layers",
                  layers, "-o", str(tmp_path / "m.safetensors"))
    assert "comma-separated integers" in line


def test_train_never_writes_over_its_data(capsys, workdir):
    data = workdir / "data" / "clusters.h5"
    before = data.read_bytes()
    line = _error(capsys, "train", str(data), "-o", str(data), *TINY_NETWORK)
    assert "would destroy the input" in line
    assert data.read_bytes() == before


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_simulate_refuses_a_fifo_and_follows_a_symlink(capsys, tmp_path):
    fifo = tmp_path / "pipe.h5"
    os.mkfifo(fifo)
    line = _error(capsys, "simulate", "-n", "3", "-o", str(fifo), "--quiet")
    assert "FIFO" in line
    real = tmp_path / "real.h5"
    link = tmp_path / "link.h5"
    link.symlink_to(real)
    assert main(["simulate", "-n", "3", "--chunk-size", "64", "-o", str(link), "--quiet"]) == 0
    assert link.is_symlink() and real.stat().st_size > 0


# ----------------------------------------------------------------------------- interrupted
def _start_simulate(folder: Path) -> subprocess.Popen:
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([*_executable(), "simulate", "-n", "20000", "--chunk-size", "64",
                             "-o", "out.h5", "--quiet"], cwd=folder, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_temporary(folder: Path, process: subprocess.Popen, timeout: float = 240) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not list(folder.glob(".tmp-*")):
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "simulate never started writing"
        time.sleep(0.1)
    time.sleep(0.5)


@pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals")
def test_sigterm_during_simulate_exits_cleanly_and_leaves_nothing(tmp_path):
    import signal

    process = _start_simulate(tmp_path)
    try:
        _wait_for_temporary(tmp_path, process)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals")
def test_sigterm_during_train_exits_130_and_saves_no_model(workdir, tmp_path, capsys,
                                                           monkeypatch):
    """Issue 27.6: train exited 0 after SIGTERM and saved a model trained for 1 of 3
    epochs, reporting "trained 2 epochs"; `train && predict` carried on with it."""
    import signal

    from sk_clustermass.cli._common import EpochProgressBar

    def terminate(self, net, **kwargs):  # SIGTERM, as `kill` sends, after epoch 1
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(EpochProgressBar, "on_epoch_end", terminate)
    output = tmp_path / "model.safetensors"
    code = main(["train", str(workdir / "data" / "clusters.h5"), "-o", str(output),
                 *TINY_NETWORK, "--max-epochs", "3", "--quiet"])
    err = capsys.readouterr().err
    assert code == 130, err
    assert "interrupted: training stopped after epoch 1 of 3" in err
    assert "no model was saved" in err
    assert not output.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals")
def test_debris_of_a_killed_simulate_is_removed_by_the_next_run(tmp_path):
    import signal

    process = _start_simulate(tmp_path)
    try:
        _wait_for_temporary(tmp_path, process)
        process.send_signal(signal.SIGKILL)  # nothing can clean up after this one
        process.communicate(timeout=120)
    finally:
        process.kill()
    assert len(list(tmp_path.glob(".tmp-*"))) == 1
    assert main(["simulate", "-n", "3", "--chunk-size", "64", "-o", str(tmp_path / "out.h5"),
                 "--quiet"]) == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.h5"]


@pytest.mark.slow
def test_second_simulate_to_the_same_path_fails_cleanly_never_interleaves(tmp_path, capsys):
    from sk_clustermass.datasets import read_hdf5

    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    options = ["--chunk-size", "64", "--seed", "7", "--quiet", "-n", "1000"]
    first = subprocess.Popen([*_executable(), "simulate", *options, "-o", "out.h5"],
                             cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_temporary(tmp_path, first)
        # a second writer (this process) while the first one runs
        line = _error(capsys, "simulate", "-n", "5", "--chunk-size", "64", "--quiet",
                      "-o", str(tmp_path / "out.h5"))
        assert first.poll() is None, "the first writer finished too soon to overlap"
    finally:
        _, first_err = first.communicate(timeout=900)
    assert first.returncode == 0, first_err
    assert "another writer" in line and f"process {first.pid})" in line
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.h5"]
    X, y, _ = read_hdf5(tmp_path / "out.h5")  # the first run's file, whole
    assert main(["simulate", *options, "-o", str(tmp_path / "alone.h5")]) == 0
    X_alone, y_alone, _ = read_hdf5(tmp_path / "alone.h5")
    np.testing.assert_array_equal(X["images"], X_alone["images"])
    np.testing.assert_array_equal(y, y_alone)
@pytest.mark.parametrize("command", COMMANDS)
def test_help_texts_have_no_formatting_artefacts(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = capsys.readouterr().out
    assert "%%" not in text and "%(" not in text
    assert "-v, --verbose" in text


def test_verbose_logs_to_stderr_and_quiet_wins(tmp_path, capsys):
    import logging

    path = tmp_path / "clusters.h5"
    assert main(["simulate", "-n", "8", "-o", str(path), "-v", "--quiet"]) == 0
    assert "INFO" not in capsys.readouterr().err
    assert main(["-vv", "simulate", "-n", "8", "-o", str(tmp_path / "b.h5")]) == 0
    err = capsys.readouterr().err
    assert "sk_clustermass: INFO: sk-clustermass simulate" in err
    assert "sk_clustermass: DEBUG: options:" in err
    assert logging.getLogger("sk_clustermass").level == logging.DEBUG
    assert main(["simulate", "-n", "8", "-o", str(tmp_path / "c.h5")]) == 0
    assert "INFO" not in capsys.readouterr().err
    assert logging.getLogger("sk_clustermass").level == logging.WARNING


def test_demo_runs_on_the_survey_preset_and_simulate_keeps_the_plain_depth():
    parser = build_parser()
    assert parser.parse_args(["demo"]).survey == "efeds_survey"
    # 'efeds', the lab population's former name, is read as its new name
    assert parser.parse_args(["demo", "--survey", "efeds"]).survey == "efeds_lab"
    assert parser.parse_args(["simulate", "-n", "5", "-o", "x.h5"]).survey == "efeds_lab"
