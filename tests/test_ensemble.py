"""Tests of the deep-ensemble meta-estimator (uncertainty/_ensemble.py)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sk_clustermass import ClusterMassRegressor, load_model, save_model
from sk_clustermass.metrics import scatter_dex
from sk_clustermass.preprocessing import LogStretch
from sk_clustermass.uncertainty import EnsembleRegressor, mixture_moments


class SeededOffset(RegressorMixin, BaseEstimator):
    """Linear fit plus an offset drawn from random_state, with a fixed width."""

    def __init__(self, width=0.1, random_state=None):
        self.width = width
        self.random_state = random_state

    def fit(self, X, y):
        self.model_ = LinearRegression().fit(X, y)
        self.offset_ = np.random.default_rng(self.random_state).normal(0.0, 0.2)
        return self

    def predict(self, X, return_std=False):
        mean = self.model_.predict(X) + self.offset_
        return (mean, np.full(len(mean), self.width)) if return_std else mean


@pytest.fixture
def linear_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    return X, 14.0 + 0.3 * X[:, 0] + rng.normal(0.0, 0.1, 300)


def test_mixture_moments_match_sampling_the_mixture():
    rng = np.random.default_rng(1)
    means = np.array([[14.0, 13.0], [14.3, 13.1], [13.8, 13.0]])
    stds = np.array([[0.1, 0.2], [0.2, 0.2], [0.1, 0.3]])
    mean, std = mixture_moments(means, stds)
    member = rng.integers(0, 3, (200_000, 2))
    draws = rng.normal(means[member, [0, 1]], stds[member, [0, 1]])
    np.testing.assert_allclose(mean, draws.mean(axis=0), atol=3e-3)
    np.testing.assert_allclose(std, draws.std(axis=0), rtol=1e-2)
    np.testing.assert_allclose(mixture_moments(means, None)[1], means.std(axis=0))


def test_members_get_distinct_seeds_and_the_spread_adds_to_the_width(linear_data):
    X, y = linear_data
    ensemble = EnsembleRegressor(SeededOffset(width=0.1), n_estimators=4, random_state=0)
    mean, std = ensemble.fit(X, y).predict(X, return_std=True)
    offsets = np.array([member.offset_ for member in ensemble.estimators_])
    assert len(set(ensemble.seeds_.tolist())) == 4 and len(set(offsets.tolist())) == 4
    assert [m.random_state for m in ensemble.estimators_] == ensemble.seeds_.tolist()
    np.testing.assert_allclose(std, np.sqrt(0.1**2 + offsets.var()))
    np.testing.assert_allclose(mean, ensemble.estimators_[0].model_.predict(X) + offsets.mean())
    again = EnsembleRegressor(SeededOffset(width=0.1), n_estimators=4, random_state=0)
    np.testing.assert_array_equal(again.fit(X, y).predict(X), mean)
    assert ensemble.estimator.random_state is None  # the template is not touched


def test_point_members_and_sklearn_contract(linear_data):
    X, y = linear_data
    points = EnsembleRegressor(LinearRegression(), n_estimators=2).fit(X, y)
    mean, std = points.predict(X, return_std=True)
    np.testing.assert_allclose(std, 0.0)  # identical members: no spread, no widths
    np.testing.assert_allclose(mean, LinearRegression().fit(X, y).predict(X))
    with pytest.raises(NotFittedError):
        EnsembleRegressor(SeededOffset()).predict(X)
    with pytest.raises(ValueError, match="n_estimators must be an integer >= 1"):
        EnsembleRegressor(SeededOffset(), n_estimators=0).fit(X, y)
    template = EnsembleRegressor(SeededOffset(), n_estimators=2, random_state=0)
    assert clone(template).get_params()["estimator__width"] == 0.1
    search = GridSearchCV(template, {"estimator__width": [0.05, 0.5], "n_estimators": [1, 3]},
                          cv=3).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert isinstance(search.best_estimator_, EnsembleRegressor)


# A bootstrap member may miss the brightest of 300 training clusters, and a held-out
# cluster be more than twice as bright as any it saw: predict rightly warns. This test
# is about the ensemble, not the domain.
@pytest.mark.filterwarnings("ignore::sk_clustermass.estimator.OutOfDomainWarning")
def test_cnn_ensemble_on_simulated_clusters_saves_and_loads(simulated_clusters, tiny_params,
                                                            tmp_path):
    X, y, _ = simulated_clusters
    base = make_pipeline(LogStretch(), ClusterMassRegressor(**dict(tiny_params, max_epochs=2)))
    ensemble = EnsembleRegressor(base, n_estimators=2, random_state=0).fit(X[:300], y[:300])
    mean, std = ensemble.predict(X[300:], return_std=True)
    members, member_stds = ensemble.predict_members(X[300:])
    assert members.shape == (2, 100) and not np.allclose(members[0], members[1])
    assert (std >= np.sqrt(np.mean(member_stds**2, axis=0)) - 1e-12).all()
    # averaging the means never increases the RMSE (convexity of the square)
    rmse = [np.sqrt(np.mean((m - y[300:]) ** 2)) for m in members]
    assert np.sqrt(np.mean((mean - y[300:]) ** 2)) <= np.mean(rmse) + 1e-12
    assert scatter_dex(y[300:], mean) < 0.6
    path = tmp_path / "ensemble.safetensors"
    save_model(ensemble, path)
    loaded = load_model(path)
    assert isinstance(loaded, EnsembleRegressor)
    for got, expected in zip(loaded.predict(X[300:], return_std=True), (mean, std)):
        np.testing.assert_array_equal(got, expected)
    assert loaded.get_params()["estimator__clustermassregressor__n_filters"] == 6


def test_foreign_members_cannot_be_saved_safely(linear_data, tmp_path):
    X, y = linear_data
    ensemble = EnsembleRegressor(SeededOffset(), n_estimators=2).fit(X, y)
    with pytest.raises(TypeError, match="SeededOffset"):
        save_model(ensemble, tmp_path / "model.safetensors")


@pytest.mark.slow  # the first parallel fit starts the worker processes (~10 s)
def test_parallel_members_equal_the_sequential_ones(linear_data):
    from sklearn.linear_model import SGDRegressor

    X, y = linear_data
    base = SGDRegressor(max_iter=5, tol=None)  # its shuffling follows random_state
    serial = EnsembleRegressor(base, n_estimators=3, random_state=0).fit(X, y)
    parallel = EnsembleRegressor(base, n_estimators=3, random_state=0, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(parallel.seeds_, serial.seeds_)
    for a, b in zip(parallel.estimators_, serial.estimators_):
        np.testing.assert_array_equal(a.coef_, b.coef_)
    assert len({tuple(m.coef_) for m in serial.estimators_}) == 3  # the seeds matter


@pytest.mark.parametrize("n_jobs", [0, 1.5, "2", True])
def test_invalid_n_jobs_is_named(linear_data, n_jobs):
    with pytest.raises(ValueError, match="n_jobs must be"):
        EnsembleRegressor(SeededOffset(), n_estimators=2, n_jobs=n_jobs).fit(*linear_data)


@pytest.mark.slow
def test_parallel_cnn_members_share_the_cores_and_match_the_sequential_ones():
    import joblib

    from tests.conftest import TINY, make_toy_clusters

    X, y = make_toy_clusters(60, seed=0)
    base = ClusterMassRegressor(**{**TINY, "max_epochs": 1})
    serial = EnsembleRegressor(base, n_estimators=2, random_state=0).fit(X, y)
    parallel = EnsembleRegressor(base, n_estimators=2, random_state=0, n_jobs=2).fit(X, y)
    assert [m.n_threads_ for m in parallel.estimators_] == [max(1, joblib.cpu_count() // 2)] * 2
    np.testing.assert_allclose(parallel.predict(X, return_std=True),
                               serial.predict(X, return_std=True), rtol=0, atol=1e-4)
