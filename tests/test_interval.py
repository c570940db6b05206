"""predict_interval: central Gaussian intervals of the regressors (_utils/_interval.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.linear_model import BayesianRidge
from sklearn.pipeline import make_pipeline

from sk_clustermass import ClusterMassRegressor
from sk_clustermass.metrics import interval_coverage
from sk_clustermass.preprocessing import LogStretch
from sk_clustermass.uncertainty import ConformalWidthRegressor, EnsembleRegressor
from tests.conftest import TINY, make_toy_clusters


def _tolerance(level: float, n_test: int, n_calibration: int) -> float:
    """Three standard deviations of a measured coverage for a calibrated model.

    The binomial noise of ``n_test`` held-out clusters, and that of the width scale
    fitted on ``n_calibration`` clusters: a relative error ``1 / sqrt(2 n)`` on the
    width moves the coverage by ``2 z phi(z)`` times it.
    """
    z = norm.ppf(0.5 + level / 2)
    binomial = level * (1 - level) / n_test
    scale = (2 * z * norm.pdf(z) / math.sqrt(2 * n_calibration)) ** 2
    return 3 * math.sqrt(binomial + scale)


def heteroscedastic(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, (n, 1))
    noise = 0.05 + 0.125 * (X[:, 0] + 1.0)
    return X, 14.0 + 0.5 * X[:, 0] + rng.normal(0.0, 1.0, n) * noise


@pytest.fixture(scope="module")
def small_model():
    X, y = make_toy_clusters(60, seed=0)
    return ClusterMassRegressor(**{**TINY, "max_epochs": 1}).fit(X, y), X


@pytest.mark.parametrize("level", [0.68, 0.9, 0.95])
def test_the_interval_is_mean_plus_minus_z_std(small_model, level):
    model, X = small_model
    mean, std = model.predict(X, return_std=True)
    lower, upper = model.predict_interval(X, level=level)
    z = norm.ppf(0.5 + level / 2)  # 0.994, 1.645, 1.960
    np.testing.assert_allclose(lower, mean - z * std, rtol=0, atol=1e-12)
    np.testing.assert_allclose(upper, mean + z * std, rtol=0, atol=1e-12)
    default = model.predict_interval(X)
    np.testing.assert_allclose(default[1] - default[0], 2 * norm.ppf(0.84) * std)


@pytest.mark.parametrize(
    ("level", "match"),
    [(0.0, "level must be a finite number > 0 and < 1"),
     (1.0, "level must be a finite number > 0 and < 1"),
     (-0.5, "got -0.5"),
     (float("nan"), "level must be"),
     ("0.68", "level must be"),
     (68, r"a percentage\? use 0.68")],
)
def test_invalid_levels_are_named(small_model, level, match):
    model, X = small_model
    with pytest.raises(ValueError, match=match):
        model.predict_interval(X, level=level)


def test_conformal_intervals_cover_the_level_on_held_out_data():
    X, y = heteroscedastic(5000, seed=0)
    X_test, y_test = heteroscedastic(4000, seed=1)
    model = ConformalWidthRegressor(BayesianRidge(), n_bins=4, random_state=0).fit(X, y)
    for level in (0.68, 0.95):
        lower, upper = model.predict_interval(X_test, level=level)
        coverage = np.mean((lower <= y_test) & (y_test <= upper))
        assert coverage == pytest.approx(level, abs=_tolerance(level, 4000, 250))
    # One width for all (BayesianRidge, even as an ensemble) over-covers the quiet half
    # and under-covers the noisy one; the conformal widths, fitted per mass bin, do not.
    ensemble = EnsembleRegressor(BayesianRidge(), n_estimators=2, random_state=0).fit(X, y)
    quiet = X_test[:, 0] < 0
    for name, fitted in (("ensemble", ensemble), ("conformal", model)):
        lower, upper = fitted.predict_interval(X_test, level=0.68)
        inside = (lower <= y_test) & (y_test <= upper)
        gap = inside[quiet].mean() - inside[~quiet].mean()
        assert (gap > 0.2) if name == "ensemble" else (abs(gap) < 0.06)


@pytest.mark.slow
def test_cnn_intervals_cover_the_level_on_held_out_simulated_clusters():
    from sk_clustermass.datasets import make_clusters

    X, y = make_clusters(1200, random_state=0)
    model = make_pipeline(LogStretch(), ClusterMassRegressor(**{**TINY, "max_epochs": 10}))
    model.fit(X[:600], y[:600])  # widths calibrated on its 20% validation split
    n_valid = round(600 * model[-1].validation_fraction)
    for level in (0.68, 0.95):
        lower, upper = model[-1].predict_interval(model[0].transform(X[600:]), level=level)
        coverage = np.mean((lower <= y[600:]) & (y[600:] <= upper))
        assert coverage == pytest.approx(level, abs=_tolerance(level, 600, n_valid))
        mean, std = model.predict(X[600:], return_std=True)
        assert coverage == interval_coverage(y[600:], mean, std, level)
