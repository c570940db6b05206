"""Tests of sk_clustermass.studies: the registry of grids, run_study's outputs and resuming.

The registry tests build every candidate of every study (both modes) without training.
The run tests train a tiny network for one epoch on toy clusters. The slow test runs
every example script in quick mode on a few simulated clusters.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from sklearn.base import clone
from sklearn.model_selection import ParameterGrid

from sk_clustermass.preprocessing import BackgroundSubtract, BandMerge, GaussianSmoothing
from sk_clustermass.studies import (
    MODES,
    STUDIES,
    default_pipeline,
    run_study,
    summarize_search,
)
from sk_clustermass.studies._outputs import _draw_scatter
from sk_clustermass.studies._runner import _check_grid

from .conftest import make_toy_clusters

NAMES = ["filters", "kernel_size", "optimizer", "dropout", "regularizer", "batch_size",
         "preprocessing", "loss", "redshift", "augmentation", "improved"]
# A network small enough for 20x20 toy images and a 1-epoch fit in a fraction of a second.
TINY_NET = {"n_filters": 3, "kernel_size": 3, "conv_layers": (1, 1), "pool_size": 2,
            "dense_layers": (8,), "batch_size": 16}
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _candidates(name: str, mode: str) -> list[dict]:
    return list(ParameterGrid(STUDIES[name].grid(mode)))


def _values(name: str, mode: str, key: str) -> list:
    return [params[f"regressor__{key}"] for params in _candidates(name, mode)
            if f"regressor__{key}" in params]


# ---------------------------------------------------------------------- the registry
def test_registry_holds_every_study_with_its_texts():
    assert list(STUDIES) == NAMES
    for name, study in STUDIES.items():
        assert study.name == name
        assert study.description and study.seed_finding
        assert set(MODES) == {"quick", "full"}


@pytest.mark.parametrize("mode", ["quick", "full"])
@pytest.mark.parametrize("name", NAMES)
def test_every_candidate_is_a_valid_pipeline(name, mode):
    study = STUDIES[name]
    pipe = default_pipeline(**study.settings(mode))
    # set_params for every candidate, then every choice, number and the feature-map
    # sizes of its network on 50x50 px images
    assert _check_grid(pipe, study.grid(mode), (50, 50)) == len(_candidates(name, mode)) > 0
    for params in _candidates(name, mode):
        regressor = clone(pipe).set_params(**params).named_steps["regressor"]
        if regressor.kernel_size >= 5:
            assert regressor.padding == "same", params


def test_a_bad_grid_fails_before_training(tmp_path):
    pipe = default_pipeline()
    with pytest.raises(ValueError, match=r"candidate .*'valid'.*kernel"):
        _check_grid(pipe, {"regressor__kernel_size": [9], "regressor__padding": ["valid"]},
                    (50, 50))
    with pytest.raises(ValueError, match="n_filter"):
        _check_grid(pipe, {"regressor__n_filter": [9]}, (50, 50))


def test_quick_grids_are_small_and_short():
    for name in NAMES:
        assert len(_candidates(name, "quick")) <= 8, name
        assert 8 <= STUDIES[name].settings("quick")["max_epochs"] <= 30, name
        assert len(_candidates(name, "full")) >= len(_candidates(name, "quick")), name


def test_full_grids_are_the_seeds():
    assert _values("filters", "full", "n_filters") == [1, 10, 20, 30, 40, 50, 60, 70, 80, 90]
    assert set(_values("filters", "full", "kernel_size") or [2]) == {2}
    assert sorted(_values("kernel_size", "full", "kernel_size")) == list(range(1, 18, 2))
    assert STUDIES["kernel_size"].settings("full")["n_filters"] == 10
    constant = [p for p in _candidates("optimizer", "full") if "regressor__lr_schedule" not in p]
    rates = sorted({p["regressor__lr"] for p in constant})
    np.testing.assert_allclose(rates, np.logspace(-5, -2.66, 10))
    assert {p["regressor__optimizer"] for p in constant} == {"adam", "sgd"}
    decay = [p for p in _candidates("optimizer", "full") if "regressor__lr_schedule" in p]
    assert {p["regressor__optimizer"] for p in decay} == {"adam", "sgd"}
    for params in decay:
        assert params["regressor__lr_schedule"] == "exponential"
        assert params["regressor__lr"] == pytest.approx(10**-2.66)
        assert params["regressor__lr_final"] == pytest.approx(1e-3)
    dropout = _values("dropout", "full", "dropout")
    assert min(dropout) == 0.0 and max(dropout) == 0.5 and 0.2 in dropout
    penalties = {(p["regressor__regularizer"], p.get("regressor__regularizer_target"))
                 for p in _candidates("regularizer", "full")}
    assert (None, None) in penalties and len(penalties) == 10
    assert STUDIES["regularizer"].settings("full")["regularizer_strength"] == 1e-4
    assert set(_values("loss", "full", "loss")) == {"mse", "gaussian_nll"}
    assert set(_values("redshift", "full", "use_redshift")) == {True, False}
    assert len(_candidates("augmentation", "full")) == 4


def test_preprocessing_grid_covers_the_choices():
    steps = {type(v) for p in _candidates("preprocessing", "full") for v in p.values()}
    assert {GaussianSmoothing, BandMerge, BackgroundSubtract} <= steps
    methods = {p.get("stretch__method", "log1p") for p in _candidates("preprocessing", "full")}
    assert methods == {"log1p", "asinh"}
    for params in _candidates("preprocessing", "full"):  # signed images need asinh
        if "background" in params:
            assert params["stretch__method"] == "asinh"


def test_grids_are_copies():
    grid = STUDIES["dropout"].grid("quick")
    grid[0]["regressor__dropout"].append(0.9)
    assert 0.9 not in STUDIES["dropout"].grid("quick")[0]["regressor__dropout"]


def test_default_pipeline_steps_and_parameters():
    pipe = default_pipeline(n_filters=7)
    assert [name for name, _ in pipe.steps] == [
        "background", "merge", "smooth", "stretch", "regressor"]
    assert pipe.get_params()["regressor__n_filters"] == 7
    assert pipe.get_params()["stretch__method"] == "log1p"


def test_unknown_study_or_mode_is_a_clear_error(tmp_path):
    X, y = make_toy_clusters(10)
    with pytest.raises(ValueError, match=r"unknown study 'filter'.*'filters'"):
        run_study("filter", X, y, out_dir=tmp_path, verbose=0)
    with pytest.raises(ValueError, match=r"mode='medium'.*'quick', 'full'"):
        run_study("filters", X, y, mode="medium", out_dir=tmp_path, verbose=0)
    with pytest.raises(ValueError, match="mode="):
        STUDIES["filters"].grid("medium")


# ---------------------------------------------------------------------- running a study
def _run(out_dir: Path, X, y, **kwargs):
    options = {"out_dir": out_dir, "max_epochs": 1, "regressor_params": TINY_NET,
               "verbose": 0, "cv": 2}
    return run_study("filters", X, y, param_grid={"regressor__n_filters": [2, 3]},
                     **{**options, **kwargs})


@pytest.fixture(scope="module")
def toy():
    return make_toy_clusters(60, seed=4)


@pytest.fixture(scope="module")
def study_run(toy, tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("study")
    return out_dir, _run(out_dir, *toy)


def test_run_study_writes_the_table_figures_and_summary(study_run):
    out_dir, result = study_run
    names = {"cv_results.csv", "summary.json", "loss_curves.png", "predicted_vs_true.png",
             "scatter.png", "overview.png"}
    assert names <= {path.name for path in out_dir.iterdir()}
    assert {path.name for path in result.files.values()} == names
    for name in names - {"cv_results.csv", "summary.json"}:
        data = (out_dir / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) < 150_000
    assert not list(out_dir.glob(".tmp-*"))  # atomic writes leave no temporary file
    table = pd.read_csv(out_dir / "cv_results.csv")
    assert len(table) == 2
    assert list(table["label"]) == ["n_filters=2", "n_filters=3"]
    for key in ("scatter", "nll", "coverage"):
        assert np.isfinite(table[f"mean_test_{key}"]).all()
    summary = json.loads((out_dir / "summary.json").read_text())
    assert summary["study"] == "filters" and summary["mode"] == "quick"
    assert summary["n_samples"] == 60 and summary["n_test"] == 15 and summary["cv"] == 2
    assert summary["best_label"] in {"n_filters=2", "n_filters=3"}
    assert summary["held_out"]["scatter_dex"] > 0
    assert 0 <= summary["held_out"]["coverage_68"] <= 1
    assert summary["epochs_trained"] == 1 and summary["wall_time_s"] > 0
    assert summary["hardware"]["device"] == "cpu"
    assert summary["seed_finding"] == STUDIES["filters"].seed_finding


def test_run_study_resumes_from_its_checkpoints(study_run, toy):
    out_dir, first = study_run
    checkpoints = sorted((out_dir / "checkpoints").rglob("*"))
    files = [path for path in checkpoints if path.is_file()]
    assert len({path.parent for path in files}) == 5  # 2 candidates x 2 folds + refit
    stamps = {path: path.stat().st_mtime_ns for path in files}
    second = _run(out_dir, *toy)
    assert sorted((out_dir / "checkpoints").rglob("*")) == checkpoints
    assert {path: path.stat().st_mtime_ns for path in files} == stamps  # nothing retrained
    np.testing.assert_allclose(second.search.cv_results_["mean_test_scatter"],
                               first.search.cv_results_["mean_test_scatter"])


def test_summarize_search_reads_the_csv_back(study_run):
    out_dir, result = study_run
    from_csv = summarize_search(pd.read_csv(out_dir / "cv_results.csv"))
    columns = ["label", "scatter_dex", "scatter_dex_std", "nll", "coverage_error", "rank"]
    pd.testing.assert_frame_equal(from_csv[columns], result.table[columns], rtol=1e-5)
    assert list(result.table.columns) == ["label", "scatter_dex", "scatter_dex_std", "nll",
                                          "coverage_error", "fit_time_s", "rank"]
    assert result.table["rank"].tolist() == [1, 2]
    with pytest.raises(TypeError, match="GridSearchCV"):
        summarize_search([1, 2])


def test_evaluate_all_scores_every_candidate_on_held_out(toy, tmp_path):
    result = run_study("augmentation", *toy, out_dir=tmp_path, max_epochs=1,
                       regressor_params=TINY_NET, verbose=0,
                       param_grid={"regressor__test_time_augmentation": [False, True]})
    rows = result.summary["held_out_all"]
    assert len(rows) == 2
    assert {row["label"] for row in rows} == set(result.table["label"])
    assert all(row["n"] == 15 and row["scatter_dex"] > 0 for row in rows)


@pytest.mark.parametrize("name", ["optimizer", "regularizer", "preprocessing", "improved"])
def test_scatter_figure_for_grouped_and_categorical_grids(name):
    candidates = _candidates(name, "quick")
    rng = np.random.default_rng(0)
    results = {"params": candidates,
               "mean_test_scatter": -rng.uniform(0.1, 0.3, len(candidates)),
               "std_test_scatter": rng.uniform(0.0, 0.02, len(candidates))}
    for key in {k for p in candidates for k in p}:
        results[f"param_{key}"] = np.ma.masked_array(
            [p.get(key) for p in candidates], mask=[key not in p for p in candidates],
            dtype=object)
    labels = STUDIES[name].candidate_labels or [str(i) for i in range(len(candidates))]
    ax = Figure().add_subplot()
    _draw_scatter(ax, results, STUDIES[name], labels)
    assert ax.get_ylabel() == "scatter (dex)"
    if name == "optimizer":  # one line per optimizer and schedule, log rate axis
        assert ax.get_xscale() == "log"
        assert len(ax.get_legend().get_texts()) == 5  # 4 groups and the best star


# ---------------------------------------------------------------------- the examples
def _study_examples() -> list[Path]:
    return sorted(EXAMPLES.glob("study_*.py"))


def test_every_study_has_a_self_contained_example():
    """One gallery example per study, importing only public names of installed packages
    (no helper module beside it), running its study through run_study."""
    assert {path.stem.removeprefix("study_") for path in _study_examples()} == set(STUDIES)
    for path in _study_examples():
        tree = ast.parse(path.read_text())
        title = ast.get_docstring(tree).splitlines()
        assert title[0].endswith("?") and set(title[1]) == {"="}, path.name
        modules = [node.module for node in ast.walk(tree)
                   if isinstance(node, ast.ImportFrom)]
        modules += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names]
        for module in modules:
            assert module and importlib.util.find_spec(module.split(".")[0]), module
            assert not any(part.startswith("_") for part in module.split(".")), module
        assert f'run_study("{path.stem.removeprefix("study_")}"' in path.read_text()


@pytest.mark.slow
@pytest.mark.parametrize("script", [path.name for path in _study_examples()])
# 40 clusters trained for 1 epoch: held-out clusters outside that tiny training set are
# extrapolations, which predict rightly warns about; not a failure of the example.
@pytest.mark.filterwarnings("ignore::sk_clustermass.estimator.OutOfDomainWarning")
def test_example_script_runs_in_quick_mode(script, tmp_path, monkeypatch, capsys):
    """Each example as a user runs it, on 40 clusters for 1 epoch instead of 600 for 12."""
    import runpy

    import sk_clustermass.datasets
    import sk_clustermass.studies

    make_clusters, run = sk_clustermass.datasets.make_clusters, sk_clustermass.studies.run_study
    monkeypatch.setattr(sk_clustermass.datasets, "make_clusters",
                        lambda n_samples, **options: make_clusters(40, **options))
    monkeypatch.setattr(sk_clustermass.studies, "run_study",
                        lambda *args, **options: run(*args, **options, max_epochs=1, verbose=0))
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    assert "the lab report's finding" in capsys.readouterr().out
    name = script.removeprefix("study_").removesuffix(".py")
    for output in ("cv_results.csv", "summary.json", "overview.png", "scatter.png"):
        assert (tmp_path / "study_results" / name / output).is_file(), output


@pytest.mark.slow
def test_run_all_studies_runs_a_selection(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    command = [sys.executable, str(EXAMPLES / "run_all_studies.py"), "--mode", "quick",
               "--studies", "loss", "redshift", "--simulate", "40", "--max-epochs", "1",
               "--output", str(tmp_path)]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    best = pd.read_csv(tmp_path / "best.csv")
    assert list(best["study"]) == ["loss", "redshift"]
    assert (tmp_path / "loss" / "summary.json").is_file()
    assert len(pd.read_csv(tmp_path / "all_studies.csv")) == 4


@pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals")
def test_sigterm_during_the_search_stops_like_ctrl_c(toy, tmp_path, monkeypatch):
    import signal
    import time

    from sk_clustermass.studies import _runner

    class TerminatedSearch(_runner.GridSearchCV):
        def fit(self, X, y=None, **params):
            os.kill(os.getpid(), signal.SIGTERM)  # what kill, SLURM or docker stop send
            time.sleep(5)
            raise AssertionError("SIGTERM did not stop the search")  # pragma: no cover

    monkeypatch.setattr(_runner, "GridSearchCV", TerminatedSearch)
    with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
        _run(tmp_path, *toy)


def test_standard_rerun_on_the_current_sky_writes_corrected_verdicts(tmp_path, capsys):
    """Issue 30: the rerun uses the shipped preset, five seeds and the page's
    multiplicity correction (a tiny network on 24 clusters, one epoch)."""
    spec = importlib.util.spec_from_file_location("run_all_studies",
                                                  EXAMPLES / "run_all_studies.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.SKIES["current"][0]["simulation"] == {}
    tiny = {"n_filters": 2, "conv_layers": (1,), "dense_layers": (8,), "max_epochs": 1,
            "patience": None, "kernel_size": 3, "pool_size": 2}
    module.run_standard(tmp_path, ["loss", "redshift"], tiny, n_samples=24, fresh=False,
                        sky="current")
    page = pd.read_csv(tmp_path / "standard_summary.csv")
    assert set(page["n_seeds"]) == {5}
    assert {"p_value", "p_holm", "verdict_corrected", "difference_low_corrected"} <= set(
        page.columns)
    compared = page[page["verdict"] != "reference"]
    assert len(compared) == 2  # loss=mse and use_redshift=False: a family of 2
    assert (compared["p_holm"] >= compared["p_value"]).all()
    assert "2 comparisons on the page" in capsys.readouterr().out
