"""Tests of the paired, repeated study comparison.

Covers ``studies/_paired.py`` (the comparison) and ``studies/_paired_study.py`` (the runs).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.model_selection import ParameterGrid

from sk_clustermass import ClusterMassRegressor, as_inputs
from sk_clustermass.preprocessing import GaussianSmoothing
from sk_clustermass.studies import (
    STANDARD_STUDIES,
    TimeBudget,
    _paired_study,
    default_pipeline,
    paired_comparison,
    run_fresh_check,
    run_paired_study,
    run_standard_study,
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

    monkeypatch.setattr(_paired_study, "_train_one", no_training)
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


def test_runs_are_shared_between_studies_by_configuration(tmp_path, monkeypatch):
    # Two studies that both contain dropout=0 share its runs through one runs folder;
    # a changed setting (here the number of epochs) is a different configuration.
    X, y = _toy()
    shared = tmp_path / "runs"
    run_paired_study(default_pipeline(**_TINY), {"regressor__dropout": [0.0, 0.3]}, X, y,
                     out_dir=tmp_path / "a", runs_dir=shared, seeds=(0,), cv=2, n_boot=20,
                     verbose=0)
    assert len(list(shared.glob("*.json"))) == 2
    trained = []
    original = _paired_study._train_one

    def counting(pipe, params, *args):
        trained.append(dict(params))
        return original(pipe, params, *args)

    monkeypatch.setattr(_paired_study, "_train_one", counting)
    run_paired_study(default_pipeline(**_TINY), {"regressor__dropout": [0.0, 0.5]}, X, y,
                     out_dir=tmp_path / "b", runs_dir=shared, seeds=(0,), cv=2, n_boot=20,
                     verbose=0)
    assert trained == [{"regressor__dropout": 0.5}]
    run_paired_study(default_pipeline(**{**_TINY, "max_epochs": 2}),
                     {"regressor__dropout": [0.0]}, X, y, out_dir=tmp_path / "c",
                     runs_dir=shared, seeds=(0,), cv=2, n_boot=20, verbose=0)
    assert trained[-1] == {"regressor__dropout": 0.0}


def test_configuration_key_sees_every_setting():
    pipe = default_pipeline(**_TINY)
    key = _paired_study.configuration_key
    assert key(pipe, {}) == key(default_pipeline(**_TINY), {})
    assert key(pipe, {}) == key(pipe, {"regressor__verbose": 1})
    # A setting at its default is left out: a parameter added to the library later
    # keeps the keys of saved runs valid.
    assert key(pipe, {}) == key(pipe, {"regressor__use_exposure": False})
    assert key(pipe, {}) != key(pipe, {"regressor__dropout": 0.1})
    assert key(pipe, {}) != key(pipe, {"stretch__method": "asinh"})
    assert key(pipe, {}) != key(pipe, {"smooth": GaussianSmoothing(1.0)})
    assert key(pipe, {"smooth": GaussianSmoothing(1.0)}) != key(
        pipe, {"smooth": GaussianSmoothing(2.0)})
    assert key(pipe, {"regressor__callbacks": [TimeBudget(30)]}) != key(
        pipe, {"regressor__callbacks": [TimeBudget(20)]})


def test_run_history_is_saved_for_learning_curves(tmp_path):
    X, y = _toy()
    run_paired_study(default_pipeline(**{**_TINY, "max_epochs": 3}),
                     {"regressor__dropout": [0.0]}, X, y, out_dir=tmp_path, seeds=(0,), cv=2,
                     n_boot=20, verbose=0)
    (path,) = (tmp_path / "runs").glob("*.json")
    run = json.loads(path.read_text())
    assert len(run["history"]) == 2  # one per fold
    assert [len(fold["train_loss"]) for fold in run["history"]] == [3, 3]
    assert all(np.isfinite(fold["dur"]).all() for fold in run["history"])


def test_time_budget_stops_training_and_restores_the_best_epoch():
    X, y = _toy(n=60)
    budget = TimeBudget(2.5)
    model = ClusterMassRegressor(**{**_TINY, "max_epochs": 20, "patience": 1000},
                                 validation_fraction=0.2, callbacks=[budget], random_state=0)
    # Durations come from skorch's history; replace them with 1 s per epoch.
    original = budget.on_epoch_end

    def one_second_epochs(net, **kwargs):
        net.history.record("dur", 1.0)
        original(net, **kwargs)

    budget.on_epoch_end = one_second_epochs
    model.fit(X, y)
    assert len(model.history_) == 3  # 1 + 1 + 1 >= 2.5 s
    assert budget.spent_ == pytest.approx(3.0)
    assert np.isfinite(model.predict(X)).all()


def test_time_budget_rejects_a_non_positive_budget():
    X, y = _toy()
    model = ClusterMassRegressor(**_TINY, callbacks=[TimeBudget(0)])
    with pytest.raises(ValueError, match="seconds > 0"):
        model.fit(X, y)


def test_standard_studies_are_well_formed():
    pipe = default_pipeline()
    for name, study in STANDARD_STUDIES.items():
        candidates = list(ParameterGrid(study.grid))
        assert study.reference in candidates, name
        assert study.lab_finding, name
        assert len(candidates) == len({_paired_study.configuration_key(pipe, c)
                                       for c in candidates}), name
        study.pipeline().set_params(**candidates[0])  # every name reaches the pipeline
    kernels = STANDARD_STUDIES["kernel_size"].grid + STANDARD_STUDIES["kernel_size_same"].grid
    assert all(len(grid["regressor__padding"]) == 1 for grid in kernels)  # fixed padding
    with pytest.raises(ValueError, match="unknown standard study"):
        run_standard_study("nope", *_toy(), out_dir="unused")


def test_fresh_test_set_trains_once_on_everything_and_scores_the_test(tmp_path):
    X, y = _toy(n=36)
    X_test, y_test = _toy(n=20, seed=5)
    result = run_paired_study(default_pipeline(**_TINY), {"regressor__dropout": [0.0, 0.3]},
                              X, y, out_dir=tmp_path, seeds=(0, 1), n_boot=20,
                              test=(X_test, y_test), verbose=0)
    assert result.residuals["dropout=0.3"].shape == (2, 20)
    (path, *_) = sorted((tmp_path / "runs").glob("*.json"))
    run = json.loads(path.read_text())
    assert run["cv"] == "fresh test set" and len(run["epochs"]) == 1
    # The residuals are those of the test clusters.
    np.testing.assert_allclose(result.residuals[run["label"]][run["seed"]],
                               np.round(np.array(run["mean"]), 5) - y_test, atol=1e-9)


def test_fresh_check_compares_the_improved_configuration_with_the_default(tmp_path):
    rng = np.random.default_rng(7)

    def data(n):
        return (as_inputs(rng.poisson(2.0, (n, 10, 50, 50)), rng.uniform(0.1, 1.0, n)),
                rng.uniform(13.0, 15.0, n))

    (X, y), (X_test, y_test) = data(24), data(10)
    tiny = {"n_filters": 2, "dense_layers": (8,), "max_epochs": 1, "patience": None}
    result = run_fresh_check(X, y, X_test, y_test, out_dir=tmp_path, overrides=tiny,
                             n_boot=20, verbose=0)
    table = result.comparison
    assert table["verdict"][0] == "reference"
    # Labels list the parameters by full name: merge, regressor__kernel_size, smooth.
    assert table["candidate"][0] == "merge=passthrough, kernel_size=2, smooth=passthrough"
    assert "BandMerge" in table["candidate"][1] and "kernel_size=4" in table["candidate"][1]
    assert result.residuals[table["candidate"][1]].shape == (2, 10)


def test_a_fresh_check_never_overwrites_the_cross_validated_run_of_a_configuration(tmp_path):
    # Same configuration and seed, other data: two files (a bug once overwrote one).
    X, y = _toy(n=36)
    X_test, y_test = _toy(n=20, seed=5)
    pipe, grid = default_pipeline(**_TINY), {"regressor__dropout": [0.0]}
    run_paired_study(pipe, grid, X, y, out_dir=tmp_path / "cv", runs_dir=tmp_path / "runs",
                     seeds=(0,), cv=2, n_boot=20, verbose=0)
    run_paired_study(pipe, grid, X, y, out_dir=tmp_path / "fresh", runs_dir=tmp_path / "runs",
                     seeds=(0,), n_boot=20, test=(X_test, y_test), verbose=0)
    runs = sorted((tmp_path / "runs").glob("*.json"))
    assert len(runs) == 2
    assert {json.loads(path.read_text())["cv"] for path in runs} == {2, "fresh test set"}


# ----------------------------------------------------------------- multiplicity (issue 30)
def test_holm_matches_the_step_down_definition_and_bonferroni_bounds_it():
    from sk_clustermass.studies import holm_adjusted

    rng = np.random.default_rng(4)
    p = rng.uniform(0, 0.2, 12)
    adjusted = holm_adjusted(p)
    m = p.size
    order = np.argsort(p)
    expected = np.maximum.accumulate(np.minimum(1, (m - np.arange(m)) * p[order]))
    np.testing.assert_allclose(adjusted[order], expected)
    assert np.all(adjusted >= p) and np.all(adjusted <= np.minimum(1, m * p) + 1e-12)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        holm_adjusted([0.1, 1.5])


def test_family_wise_error_is_controlled_under_the_null():
    # 20 candidates identical in distribution to the reference: raw 95% verdicts call
    # about one of them per page; Holm keeps pages with any false call near 5%.
    from sk_clustermass.studies import corrected_verdicts, paired_comparison

    rng = np.random.default_rng(0)
    raw_false, holm_false = [], []
    for _ in range(30):  # one seed: the bootstrap over seeds would add caution
        base = rng.normal(0, 0.15, (1, 300))
        residuals = {"ref": base}
        residuals |= {f"c{i}": rng.normal(0, 0.15, (1, 300)) for i in range(20)}
        table = paired_comparison(residuals, "ref", n_boot=400, random_state=None)
        page = corrected_verdicts(table)
        raw_false.append(np.isin(page["verdict"], ["better", "worse"]).sum())
        holm_false.append(np.isin(page["verdict_corrected"], ["better", "worse"]).any())
    assert np.mean(raw_false) > 0.3  # uncorrected: false calls on most pages
    assert np.mean(holm_false) <= 0.15


def test_corrected_interval_is_wider_and_a_real_effect_survives():
    from sk_clustermass.studies import corrected_verdicts, paired_comparison

    rng = np.random.default_rng(1)
    noise = rng.normal(0, 0.15, (3, 1500))
    residuals = {"ref": noise, "better": 0.8 * noise,
                 "same": rng.normal(0, 0.15, noise.shape)}
    table = paired_comparison(residuals, "ref", n_boot=1000, family_size=30)
    row = table.set_index("candidate").loc["better"]
    assert row["difference_low_corrected"] < row["difference_low"]
    assert row["difference_high_corrected"] > row["difference_high"]
    assert row["p_value"] < 0.002 and table["n_seeds"].eq(3).all()
    page = corrected_verdicts(table).set_index("candidate")
    assert page.loc["better", "verdict_corrected"] == "better"
    assert page.loc["same", "verdict_corrected"] == "too small to call"
    assert np.isnan(page.loc["ref", "p_holm"])


def _tiny_study():
    """24 small clusters, their masses and a one-epoch, two-filter pipeline."""
    from sk_clustermass.studies import default_pipeline

    rng = np.random.default_rng(0)
    X = as_inputs(rng.poisson(3.0, (24, 2, 12, 12)), rng.uniform(0.1, 1.0, 24))
    y = rng.uniform(13.0, 15.0, 24)
    pipe = default_pipeline(n_filters=2, kernel_size=3, conv_layers=(1,), pool_size=2,
                            dense_layers=(8,), max_epochs=1, patience=None)
    return X, y, pipe


def test_an_interrupted_fit_is_not_saved_as_a_finished_run(tmp_path, monkeypatch):
    """Ctrl-C in a study stopped skorch's loop, the fit returned under-trained with a
    TrainingInterruptedWarning, and the run was saved as finished: no longer."""
    import warnings

    from sk_clustermass.estimator import TrainingInterruptedWarning
    from sk_clustermass.studies import run_paired_study

    X, y, pipe = _tiny_study()
    real_fit = type(pipe).fit

    def interrupted_fit(self, *args, **kwargs):
        real_fit(self, *args, **kwargs)
        warnings.warn("training was interrupted after epoch 1", TrainingInterruptedWarning,
                      stacklevel=2)
        return self

    monkeypatch.setattr(type(pipe), "fit", interrupted_fit)
    with pytest.raises(KeyboardInterrupt, match="not saved"):
        run_paired_study(pipe, {"regressor__dropout": [0.0]}, X, y, out_dir=tmp_path,
                         seeds=(0,), cv=2, n_boot=10, verbose=0)
    assert not list((tmp_path / "runs").glob("*.json"))


def test_a_fit_that_diverges_after_good_epochs_is_kept_and_says_so(tmp_path, monkeypatch):
    """SGD at lr 0.03 diverged in one seed on the shipped sky and stopped the whole
    rerun. A fit that kept the weights of a sane epoch predicts with them (what a user
    of the set-up gets), and the run records in which epoch it diverged; a fit with no
    sane epoch still stops the study."""
    import json

    from sk_clustermass.estimator import NonFiniteLossError
    from sk_clustermass.studies import run_paired_study

    X, y, pipe = _tiny_study()
    real_fit = type(pipe).fit
    last_good = {"epoch": 1}

    def diverging_fit(self, *args, **kwargs):
        real_fit(self, *args, **kwargs)
        raise NonFiniteLossError("training diverged in epoch 2", last_good["epoch"])

    monkeypatch.setattr(type(pipe), "fit", diverging_fit)
    run_paired_study(pipe, {"regressor__dropout": [0.0]}, X, y, out_dir=tmp_path,
                     seeds=(0,), cv=2, n_boot=10, verbose=0)
    (saved,) = (tmp_path / "runs").glob("*.json")
    run = json.loads(saved.read_text())
    assert run["diverged_in_epoch"] == [2, 2]
    assert np.isfinite(run["mean"]).all()

    last_good["epoch"] = 0
    with pytest.raises(NonFiniteLossError):
        run_paired_study(pipe, {"regressor__dropout": [0.0]}, X, y,
                         out_dir=tmp_path / "again", seeds=(0,), cv=2, n_boot=10, verbose=0)
