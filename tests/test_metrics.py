"""Tests of the figures of merit and the scorers in ``sk_clustermass.metrics``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from sk_clustermass.metrics import (
    SCORERS,
    bias_dex,
    coverage_scorer,
    gaussian_nll,
    interval_coverage,
    nll_scorer,
    pit_values,
    pulls,
    scatter_dex,
    scatter_scorer,
    sigma_ln_m,
    summary_table,
)


@pytest.fixture(scope="module")
def calibrated():
    """20,000 truths drawn from calibrated heteroscedastic Gaussian predictions."""
    rng = np.random.default_rng(1)
    mean = rng.uniform(13.0, 15.0, 20_000)
    std = rng.uniform(0.05, 0.4, 20_000)
    truth = rng.normal(mean, std)
    return truth, mean, std


class GaussianEcho(RegressorMixin, BaseEstimator):
    """Dummy: the mean is column 0 of X, the width a hyper-parameter."""

    def __init__(self, width: float = 1.0):
        self.width = width

    def fit(self, X, y):
        self.fitted_ = True
        return self

    def predict(self, X, return_std=False):
        mean = np.asarray(X)[:, 0]
        return (mean, np.full(mean.shape, self.width)) if return_std else mean


# ---------------------------------------------------------------------- known values
def test_point_metrics_known_values():
    truth = np.array([14.0, 14.0, 13.0, 13.0])
    pred = np.array([14.3, 14.1, 13.3, 13.1])  # residuals 0.3, 0.1, 0.3, 0.1
    assert scatter_dex(truth, pred) == pytest.approx(0.1)
    assert bias_dex(truth, pred) == pytest.approx(0.2)
    assert sigma_ln_m(truth, pred) == pytest.approx(0.1 * np.log(10.0))
    table = summary_table(truth, {"model": pred})
    assert table.loc["model", "rmse_dex"] == pytest.approx(np.sqrt(0.1**2 + 0.2**2))


def test_sign_conventions():
    # residuals are predicted - true (over-estimate: positive bias), pulls are
    # (true - mean) / std (over-estimate: negative pull, PIT below 0.5)
    assert bias_dex([14.0], [14.5]) > 0
    assert pulls([14.0], [14.5], [0.25])[0] == pytest.approx(-2.0)
    assert pit_values([14.0], [14.5], [0.25])[0] == pytest.approx(stats.norm.cdf(-2.0))


def test_nll_matches_scipy(calibrated):
    truth, mean, std = calibrated
    expected = -np.mean(stats.norm(mean, std).logpdf(truth))
    assert gaussian_nll(truth, mean, std) == pytest.approx(expected, rel=1e-12)
    # a single width broadcasts to every cluster
    assert gaussian_nll(truth, mean, 0.2) == pytest.approx(
        -np.mean(stats.norm.logpdf(truth, mean, 0.2)), rel=1e-12
    )


@pytest.mark.parametrize("level", [0.68, 0.95])
def test_calibrated_predictions_have_nominal_coverage(calibrated, level):
    truth, mean, std = calibrated
    tolerance = 4 * np.sqrt(level * (1 - level) / truth.size)  # 4 binomial sigmas
    assert interval_coverage(truth, mean, std, level) == pytest.approx(level, abs=tolerance)


def test_miscalibrated_widths_move_coverage(calibrated):
    truth, mean, std = calibrated
    assert interval_coverage(truth, mean, std / 2) < 0.5  # over-confident
    assert interval_coverage(truth, mean, std * 2) > 0.9  # under-confident


def test_pulls_and_pit_of_calibrated_predictions(calibrated):
    truth, mean, std = calibrated
    pull = pulls(truth, mean, std)
    assert abs(pull.mean()) < 0.03 and abs(pull.std() - 1.0) < 0.02
    pit = pit_values(truth, mean, std)
    assert pit.min() >= 0 and pit.max() <= 1
    assert stats.kstest(pit, "uniform").pvalue > 1e-3


# ---------------------------------------------------------------------- table
def test_summary_table_layout_and_point_predictions(calibrated):
    truth, mean, std = calibrated
    table = summary_table(truth, {"gaussian": (mean, std), "point": mean,
                                  "constant width": (mean, 0.2)})
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == [
        "scatter_dex", "sigma_lnM", "bias_dex", "rmse_dex", "coverage_68", "coverage_95",
        "pull_std", "nll", "n",
    ]
    assert list(table.index) == ["gaussian", "point", "constant width"]
    assert (table["n"] == truth.size).all()
    assert np.isnan(table.loc["point", "coverage_68"]) and np.isnan(table.loc["point", "nll"])
    assert table.loc["gaussian", "nll"] == pytest.approx(gaussian_nll(truth, mean, std))
    np.testing.assert_allclose(table["sigma_lnM"], np.log(10) * table["scatter_dex"])


@pytest.mark.parametrize(
    "predictions, match",
    [
        ({}, "non-empty dict"),
        ({"a": ([14.0, 14.0], [0.1, 0.1], [0.0])}, "tuple of length 3"),
        ({"a": [14.0]}, "aligned"),
    ],
)
def test_summary_table_rejects_bad_predictions(predictions, match):
    with pytest.raises(ValueError, match=match):
        summary_table([14.0, 14.0], predictions)


# ---------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: scatter_dex([14.0, 13.0], [14.0]), "aligned"),
        (lambda: gaussian_nll([14.0, 13.0], [14.0, 13.0], [0.1, 0.0]), "std must be > 0"),
        (lambda: interval_coverage([14.0], [14.0], [-0.1]), "std must be > 0"),
        (lambda: pulls([14.0, 13.0], [14.0, 13.0], [0.1, 0.1, 0.1]), "one width per cluster"),
        (lambda: bias_dex([14.0, np.nan], [14.0, 13.0]), "NaN"),
        (lambda: bias_dex([], []), "empty"),
        (lambda: scatter_dex(np.ones((2, 2)), np.ones((2, 2))), r"shape \(n_samples,\)"),
        (lambda: interval_coverage([14.0], [14.0], [0.1], level=68), r"in \(0, 1\)"),
    ],
)
def test_bad_inputs_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_column_vectors_are_accepted():
    truth = np.array([[14.0], [13.0]])
    assert scatter_dex(truth, truth.ravel() + 0.1) == pytest.approx(0.0)


# ---------------------------------------------------------------------- scorers
def _echo_data(n: int = 600, noise: float = 0.2, seed: int = 0):
    rng = np.random.default_rng(seed)
    truth = rng.uniform(13.0, 15.0, n)
    X = (truth + rng.normal(0.0, noise, n))[:, None]
    return X, truth


def test_scorers_values():
    X, y = _echo_data()
    model = GaussianEcho(width=0.2).fit(X, y)
    assert scatter_scorer(model, X, y) == pytest.approx(-scatter_dex(y, X[:, 0]))
    assert nll_scorer(model, X, y) == pytest.approx(-gaussian_nll(y, X[:, 0], 0.2))
    expected = -abs(interval_coverage(y, X[:, 0], 0.2) - 0.68)
    assert coverage_scorer(model, X, y) == pytest.approx(expected)
    assert set(SCORERS) == {"scatter", "nll", "coverage"}


def test_grid_search_picks_the_calibrated_width():
    X, y = _echo_data(noise=0.2)
    search = GridSearchCV(GaussianEcho(), {"width": [0.05, 0.2, 0.8]}, cv=KFold(3),
                          scoring=SCORERS, refit="nll")
    search.fit(X, y)
    assert search.best_params_ == {"width": 0.2}
    coverage = search.cv_results_["mean_test_coverage"]
    assert np.argmax(coverage) == 1
    # the scatter does not depend on the width
    assert np.ptp(search.cv_results_["mean_test_scatter"]) == pytest.approx(0.0, abs=1e-12)


def test_scatter_scorer_in_cross_val_score_with_point_estimator():
    X, y = _echo_data()
    scores = cross_val_score(DummyRegressor(), X, y, cv=3, scoring=SCORERS["scatter"])
    assert scores.shape == (3,) and (scores < 0).all()


def test_probabilistic_scorers_need_return_std():
    X, y = _echo_data(n=30)
    model = LinearRegression().fit(X, y)  # its predict has no return_std
    for scorer in (nll_scorer, coverage_scorer):
        with pytest.raises(TypeError, match="return_std"):
            scorer(model, X, y)
