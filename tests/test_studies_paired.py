"""Tests of the paired, repeated study comparison (studies/_paired.py, studies/_standard.py)."""

from __future__ import annotations

import numpy as np
import pytest

from sk_clustermass import as_inputs
from sk_clustermass.studies import (
    _standard,
    default_pipeline,
    paired_comparison,
    run_paired_study,
    verdict,
)


def test_verdict_follows_the_interval():
    assert verdict(-0.02, -0.001) == "better"
    assert verdict(0.001, 0.02) == "worse"
    assert verdict(-0.004, 0.007) == "no difference in scatter larger than 0.007 dex"


def test_paired_comparison_resolves_a_small_real_difference():
    # Candidate b adds 0.03 dex of independent noise to a's 0.15 dex residuals: its
    # scatter is higher by ~0.003 dex, far below the ~0.005 dex sampling error of either
    # scatter alone, but the pairing cancels the shared part.
    rng = np.random.default_rng(1)
    a = rng.normal(0.0, 0.15, (3, 2000))
    b = a + rng.normal(0.0, 0.03, a.shape)
    table = paired_comparison({"a": a, "b": b}, reference="a", n_boot=500).set_index("candidate")
    assert table.loc["b", "verdict"] == "worse"
    assert table.loc["b", "difference_low"] > 0
    # The value interval of b alone overlaps a's: ranking means could not tell.
    assert table.loc["b", "value_low"] < table.loc["a", "value_high"]
    assert table.loc["a", "verdict"] == "reference"


def test_paired_interval_covers_zero_under_the_null():
    # Two candidates that are equally good (independent seeds of the same model) must be
    # called different only about 5% of the time at 95% confidence.
    rng = np.random.default_rng(2)
    called = 0
    for _ in range(60):
        shared = rng.normal(0.0, 0.15, (2, 300))
        a = shared + rng.normal(0.0, 0.05, shared.shape)
        b = shared + rng.normal(0.0, 0.05, shared.shape)
        table = paired_comparison({"a": a, "b": b}, "a", n_boot=300,
                                  random_state=int(rng.integers(1 << 31)))
        called += table["verdict"].iloc[1] in ("better", "worse")
    assert called <= 9  # expected 3 of 60; 9 or more has probability < 1%


def test_bias_is_compared_by_absolute_value():
    rng = np.random.default_rng(3)
    a = rng.normal(0.0, 0.1, (2, 1500))
    table = paired_comparison({"a": a, "b": a - 0.05}, "a", metric="bias", n_boot=300)
    assert table["verdict"].iloc[1] == "worse"
    assert table["value"].iloc[1] == pytest.approx(abs(a.mean() - 0.05), abs=1e-9)


def test_paired_comparison_rejects_unpaired_input():
    rng = np.random.default_rng(4)
    with pytest.raises(ValueError, match="same seeds"):
        paired_comparison({"a": rng.normal(size=(2, 10)), "b": rng.normal(size=(3, 10))}, "a")
    with pytest.raises(ValueError, match="reference 'c'"):
        paired_comparison({"a": rng.normal(size=(2, 10))}, "c")
    with pytest.raises(ValueError, match="NaN"):
        paired_comparison({"a": np.full((1, 4), np.nan)}, "a")
    with pytest.raises(ValueError, match="metric"):
        paired_comparison({"a": rng.normal(size=(2, 10))}, "a", metric="median")


def _toy(n=36, seed=0):
    rng = np.random.default_rng(seed)
    X = as_inputs(rng.poisson(3.0, (n, 2, 12, 12)), rng.uniform(0.1, 1.0, n))
    return X, rng.uniform(13.0, 15.0, n)


_TINY = {"n_filters": 2, "kernel_size": 3, "conv_layers": (1,), "pool_size": 2,
         "dense_layers": (8,), "max_epochs": 1, "patience": None}


def test_run_paired_study_resumes_from_saved_runs(tmp_path, monkeypatch):
    X, y = _toy()
    pipe = default_pipeline(**_TINY)
    grid = {"regressor__dropout": [0.0, 0.3]}
    first = run_paired_study(pipe, grid, X, y, out_dir=tmp_path, seeds=(0, 1), cv=2,
                             n_boot=50, verbose=0)
    assert len(list((tmp_path / "runs").glob("*.json"))) == 4
    assert (tmp_path / "comparison.csv").exists()

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(_standard, "_train_one", no_training)
    again = run_paired_study(pipe, grid, X, y, out_dir=tmp_path, seeds=(0, 1), cv=2,
                             n_boot=50, verbose=0)
    np.testing.assert_array_equal(first.residuals["dropout=0.3"], again.residuals["dropout=0.3"])
    # Other data: the saved runs do not match and training is needed.
    X_other, y_other = _toy(seed=1)
    with pytest.raises(AssertionError, match="trained again"):
        run_paired_study(pipe, grid, X_other, y_other, out_dir=tmp_path, seeds=(0, 1), cv=2,
                         verbose=0)


def test_run_paired_study_seeds_and_reference(tmp_path):
    X, y = _toy()
    result = run_paired_study(default_pipeline(**_TINY), {"regressor__dropout": [0.0, 0.3]},
                              X, y, out_dir=tmp_path, seeds=(0, 1), cv=2, n_boot=50,
                              reference={"regressor__dropout": 0.3}, verbose=0)
    table = result.comparison.set_index("candidate")
    assert table.loc["dropout=0.3", "verdict"] == "reference"
    # Different seeds give different networks, so the residual rows differ.
    rows = result.residuals["dropout=0"]
    assert not np.array_equal(rows[0], rows[1])
    assert {"coverage_68", "fit_seconds", "loss_gap"} <= set(table.columns)
    with pytest.raises(ValueError, match="not a candidate"):
        run_paired_study(default_pipeline(**_TINY), {"regressor__dropout": [0.0]}, X, y,
                         out_dir=tmp_path, reference={"regressor__dropout": 0.9}, verbose=0)
