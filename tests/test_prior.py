"""Tests of the mass prior (estimator/_prior.py, ClusterMassRegressor(prior=...))."""

from __future__ import annotations

import numpy as np
import pytest

from sk_clustermass import ClusterMassRegressor, load_model, save_model
from sk_clustermass.estimator._parameters import fingerprint_parameters
from sk_clustermass.estimator._prior import prior_weights
from sk_clustermass.models import mass_table


def _skewed_masses(seed: int = 0) -> np.ndarray:
    """A survey-like training set: density falling as 10**(-0.6 (log10 M - 13))."""
    u = np.random.default_rng(seed).random(4000)
    slope, span = 0.6 * np.log(10.0), 2.0
    return 13.0 - np.log1p(-u * (1.0 - np.exp(-slope * span))) / slope


def test_flat_prior_weights_make_the_weighted_masses_flat():
    y = _skewed_masses()
    edges = np.linspace(y.min(), y.max(), 5)
    counts = np.histogram(y, edges)[0]
    assert counts[0] > 5 * counts[-1]  # the sample is far from flat
    weight = prior_weights("flat", y)
    assert weight.mean() == pytest.approx(1.0)
    weighted = np.histogram(y, edges, weights=weight)[0]
    np.testing.assert_allclose(weighted / weighted.mean(), 1.0, atol=0.1)


def test_flat_prior_combines_with_sample_weight():
    y = _skewed_masses(1)
    user = np.where(np.arange(y.size) % 4 == 0, 0.0, 1.0 + (y > 14.0))
    weight = prior_weights("flat", y, user)
    assert (weight[user == 0] == 0).all()
    edges = np.linspace(y.min(), y.max(), 5)
    weighted = np.histogram(y, edges, weights=weight)[0]
    np.testing.assert_allclose(weighted / weighted.mean(), 1.0, atol=0.1)


def test_training_prior_leaves_the_weights_alone():
    y = _skewed_masses()
    user = np.linspace(0.5, 2.0, y.size)
    assert prior_weights("training", y) is None
    assert prior_weights("training", y, user) is user
    with pytest.raises(ValueError, match="prior='jeffreys' is not supported"):
        prior_weights("jeffreys", y)


def test_flat_prior_is_the_fit_with_flat_prior_weights(toy_data, tiny_params):
    X, y = toy_data
    X, y = X[:200], y[:200]
    skew = np.where(y > 14.2, 0.2, 1.0)  # a training population skewed to low masses
    plain = ClusterMassRegressor(**tiny_params).fit(X, y, sample_weight=skew)
    flat = ClusterMassRegressor(prior="flat", **tiny_params).fit(X, y, sample_weight=skew)
    by_hand = ClusterMassRegressor(**tiny_params).fit(
        X, y, sample_weight=prior_weights("flat", y, skew))
    assert plain.prior_ == "training" and flat.prior_ == "flat"
    np.testing.assert_array_equal(flat.predict(X), by_hand.predict(X))
    assert not np.array_equal(flat.predict(X), plain.predict(X))


def test_prior_is_checked_and_late_in_the_fingerprint(toy_data, tiny_params):
    X, y = toy_data
    with pytest.raises(ValueError, match="prior"):
        ClusterMassRegressor(prior="uniform", **tiny_params).fit(X[:50], y[:50])
    default = fingerprint_parameters(ClusterMassRegressor().get_params())
    assert "prior" not in default  # checkpoints made before the parameter still resume
    flat = fingerprint_parameters(ClusterMassRegressor(prior="flat").get_params())
    assert flat["prior"] == "flat"


def test_prior_survives_the_model_file(toy_data, tiny_params, tmp_path):
    X, y = toy_data
    model = ClusterMassRegressor(prior="flat", **tiny_params).fit(X[:100], y[:100])
    save_model(model, tmp_path / "model.safetensors")
    loaded = load_model(tmp_path / "model.safetensors")
    assert loaded.prior == "flat" and loaded.prior_ == "flat"
    np.testing.assert_array_equal(loaded.predict(X[:20]), model.predict(X[:20]))


def test_mass_table_records_the_prior():
    table = mass_table([14.0], [0.1], [0.3], prior="flat")
    assert table.meta["prior"] == "flat"
    assert "prior" not in mass_table([14.0], [0.1], [0.3]).meta
    with pytest.raises(ValueError, match="prior='posterior' is not supported"):
        mass_table([14.0], [0.1], [0.3], prior="posterior")


def test_a_nearly_empty_mass_bin_cannot_dominate_the_loss():
    y = np.r_[np.full(990, 13.1), np.full(10, 14.9)]
    weight = prior_weights("flat", y)
    assert weight.max() / weight.min() == pytest.approx(20.0)
