"""Tests of the split-conformal width recalibration (uncertainty/_conformal.py)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV

from sk_clustermass import as_inputs, load_model, save_model
from sk_clustermass.baselines import CountRateRelation
from sk_clustermass.metrics import binned_metrics
from sk_clustermass.uncertainty import ConformalWidthRegressor, conformal_quantile


class ConstantWidth(RegressorMixin, BaseEstimator):
    """Linear fit claiming one width for every point, with an optional bias above 0."""

    def __init__(self, width=0.1, bias=0.0):
        self.width = width
        self.bias = bias

    def fit(self, X, y):
        self.model_ = LinearRegression().fit(X, y)
        return self

    def predict(self, X, return_std=False):
        mean = self.model_.predict(X) + self.bias * (X[:, 0] > 0)
        return (mean, np.full(len(mean), self.width)) if return_std else mean


def heteroscedastic(n, seed):
    """Noise 0.05 dex at low x growing to 0.3 dex at high x."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, (n, 1))
    noise = 0.05 + 0.125 * (X[:, 0] + 1.0)
    return X, 14.0 + 0.5 * X[:, 0] + rng.normal(0.0, 1.0, n) * noise


def test_conformal_quantile_is_the_finite_sample_rank():
    scores = np.arange(1.0, 101.0)
    assert conformal_quantile(scores, 0.68) == 69.0  # ceil(101 * 0.68) = 69
    assert conformal_quantile(scores, 0.99) == 100.0  # ceil(101 * 0.99) = 100: the last
    assert conformal_quantile(scores, 0.999) == np.inf  # ceil(101 * 0.999) = 101 > 100
    rng = np.random.default_rng(0)
    hits = [rng.random() <= conformal_quantile(rng.random(19), 0.9) for _ in range(4000)]
    assert np.mean(hits) == pytest.approx(0.9, abs=0.015)  # guaranteed >= 0.9, ~0.9


def test_too_few_scores_give_an_infinite_quantile_that_keeps_the_guarantee():
    # n = 18 < 0.95 / 0.05 = 19: the largest score would cover a new score only with
    # probability 18 / 19 = 0.947 < 0.95; +inf is the only quantile that keeps the level.
    assert conformal_quantile(np.arange(1.0, 20.0), 0.95) == 19.0  # n = 19 is enough
    assert conformal_quantile(np.arange(1.0, 19.0), 0.95) == np.inf
    rng = np.random.default_rng(1)
    hits = [rng.random() <= conformal_quantile(rng.random(18), 0.95) for _ in range(500)]
    assert all(hits)


def test_a_bin_with_too_few_calibration_clusters_gets_infinite_widths_and_a_warning():
    X, y = heteroscedastic(400, seed=4)  # 80 calibration clusters, 40 per bin
    model = ConformalWidthRegressor(ConstantWidth(0.1), n_bins=2, level=0.99,
                                    random_state=0)
    with pytest.warns(UserWarning, match=r"too few calibration clusters.*at least 99"):
        model.fit(X, y)
    assert np.isinf(model.scale_).all()
    mean, std = model.predict(X[:5], return_std=True)
    assert np.isfinite(mean).all() and np.isinf(std).all()
    finite = ConformalWidthRegressor(ConstantWidth(0.1), n_bins=2, level=0.95,
                                     random_state=0).fit(X, y)  # 40 >= 19: no warning
    assert np.isfinite(finite.scale_).all()


def test_widths_follow_the_noise_bin_by_bin():
    X, y = heteroscedastic(8000, seed=0)
    X_test, y_test = heteroscedastic(8000, seed=1)
    model = ConformalWidthRegressor(ConstantWidth(0.1), n_bins=8, random_state=0).fit(X, y)
    assert model.n_calibration_ == 1600 and model.bin_edges_.shape == (7,)
    assert model.scale_.shape == (8, 1)
    assert np.all(np.diff(model.scale_[:, 0]) > 0)  # noisier at larger predictions
    mean, std = model.predict(X_test, return_std=True)
    before = binned_metrics(y_test, *ConstantWidth(0.1).fit(X, y).predict(X_test, True),
                            by="predicted", bins=4, n_bootstrap=0)
    after = binned_metrics(y_test, mean, std, by="predicted", bins=4, n_bootstrap=0)
    assert before["coverage_68"].max() - before["coverage_68"].min() > 0.4
    np.testing.assert_allclose(after["coverage_68"], 0.68, atol=0.05)
    np.testing.assert_allclose(after["coverage_95"], 0.95, atol=0.03)
    np.testing.assert_allclose(after["pull_std"], 1.0, atol=0.1)


def test_recentering_removes_the_bias_in_predicted_mass_bins():
    X, y = heteroscedastic(6000, seed=2)
    X_test, y_test = heteroscedastic(6000, seed=3)
    biased = ConstantWidth(0.1, bias=0.2)  # +0.2 dex above the median prediction
    kept = ConformalWidthRegressor(biased, n_bins=2, recenter=False, random_state=0).fit(X, y)
    fixed = ConformalWidthRegressor(biased, n_bins=2, random_state=0).fit(X, y)
    assert np.count_nonzero(kept.shift_) == 0
    assert fixed.shift_[1, 0] == pytest.approx(-0.2, abs=0.03)
    worst = binned_metrics(y_test, kept.predict(X_test), by="predicted", bins=2,
                           n_bootstrap=0)["bias_dex"].abs().max()
    best = binned_metrics(y_test, fixed.predict(X_test), by="predicted", bins=2,
                          n_bootstrap=0)["bias_dex"].abs().max()
    assert worst > 0.15 and best < 0.03


class ImageMean(RegressorMixin, BaseEstimator):
    """Reads its 'prediction' from the single pixel of X['images']; one width for all."""

    def fit(self, X, y):
        self.fitted_ = True
        return self

    def predict(self, X, return_std=False):
        mean = X["images"][:, 0, 0, 0].astype(np.float64)
        return (mean, np.full(len(mean), 0.1)) if return_std else mean


def noisier_with_redshift(n, seed):
    rng = np.random.default_rng(seed)
    y, z = rng.uniform(13.0, 15.0, n), rng.uniform(0.05, 1.5, n)
    guess = y + rng.normal(0.0, 1.0, n) * (0.05 + 0.2 * z)
    return as_inputs(guess[:, None, None, None].astype(np.float32), z), y


def test_redshift_cells_follow_the_depth():
    X, y = noisier_with_redshift(6000, seed=8)
    X_test, y_test = noisier_with_redshift(6000, seed=9)
    model = ConformalWidthRegressor(ImageMean(), n_bins=1, redshift_bins=3, recenter=False,
                                    calibration_fraction=0.5, random_state=0).fit(X, y)
    assert model.scale_.shape == (1, 3) and np.all(np.diff(model.scale_[0]) > 0)
    mean, std = model.predict(X_test, return_std=True)
    table = binned_metrics(y_test, mean, std, by=X_test["redshift"], bins=3, n_bootstrap=0)
    np.testing.assert_allclose(table["coverage_68"], 0.68, atol=0.04)
    mass_only = ConformalWidthRegressor(ImageMean(), n_bins=1, random_state=0).fit(X, y)
    flat = binned_metrics(y_test, *mass_only.predict(X_test, return_std=True),
                          by=X_test["redshift"], bins=3, n_bootstrap=0)
    assert (flat["coverage_68"] - 0.68).abs().max() > 0.1
    # a sparse cell falls back on its mass bin
    sparse = ConformalWidthRegressor(ImageMean(), n_bins=1, redshift_bins=3,
                                     min_cell_size=5000, random_state=0).fit(X, y)
    np.testing.assert_allclose(sparse.scale_, mass_only.scale_[0, 0])
    with pytest.raises(ValueError, match="redshift_bins > 1 needs X"):
        ConformalWidthRegressor(ConstantWidth(), n_bins=1, redshift_bins=2).fit(
            *heteroscedastic(300, 0))


def test_prefit_calibrates_on_everything_and_checks_fitting():
    X, y = heteroscedastic(500, seed=4)
    base = ConstantWidth(0.1).fit(X, y)
    model = ConformalWidthRegressor(base, prefit=True, n_bins=2).fit(X, y)
    assert model.estimator_ is base and model.n_calibration_ == 500
    with pytest.raises(NotFittedError):
        ConformalWidthRegressor(ConstantWidth(), prefit=True, n_bins=2).fit(X, y)
    with pytest.raises(NotFittedError):
        ConformalWidthRegressor(ConstantWidth()).predict(X)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"level": 1.5}, "level must be a probability"),
        ({"calibration_fraction": 0.0}, "calibration_fraction must be in"),
        ({"n_bins": 0}, "n_bins must be an integer"),
        ({"redshift_bins": 0}, "redshift_bins must be an integer"),
        ({"n_bins": 10}, "cannot fill 10 bins"),
    ],
)
def test_bad_parameters_say_what_to_change(params, match):
    X, y = heteroscedastic(300, seed=5)
    with pytest.raises(ValueError, match=match):
        ConformalWidthRegressor(ConstantWidth(), **params).fit(X, y)


def test_grid_search_over_the_meta_parameters():
    X, y = heteroscedastic(1200, seed=6)
    template = ConformalWidthRegressor(ConstantWidth(), random_state=0)
    assert clone(template).get_params()["estimator__width"] == 0.1
    search = GridSearchCV(template, {"n_bins": [1, 3], "estimator__width": [0.05, 0.2]},
                          cv=2).fit(X, y)
    assert len(search.cv_results_["mean_test_score"]) == 4


def test_baseline_on_simulated_clusters_round_trips(simulated_clusters, tmp_path):
    X, y, _ = simulated_clusters
    relation = CountRateRelation().fit(X[:200], y[:200])
    model = ConformalWidthRegressor(relation, prefit=True, n_bins=2).fit(X[200:], y[200:])
    mean, std = model.predict(X[200:], return_std=True)
    # on its own calibration clusters the coverage reaches the level in every bin
    table = binned_metrics(y[200:], mean, std, by=relation.predict(X[200:]),
                           bins=[-np.inf, *model.bin_edges_, np.inf], n_bootstrap=0)
    assert table["n"].tolist() == [100, 100]
    assert ((table["coverage_68"] >= 0.68) & (table["coverage_68"] <= 0.70)).all()
    path = tmp_path / "conformal.safetensors"
    save_model(model, path)
    loaded = load_model(path)
    assert isinstance(loaded.estimator_, CountRateRelation)
    for got, expected in zip(loaded.predict(X[200:], return_std=True), (mean, std)):
        np.testing.assert_array_equal(got, expected)
