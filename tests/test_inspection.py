"""What a fitted model uses: permutation importance of groups, saliency maps."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from sk_clustermass import ClusterMassRegressor, as_inputs
from sk_clustermass.estimator import OutOfDomainWarning
from sk_clustermass.inspection import (
    group_permutation_importance,
    radial_rings,
    saliency_maps,
)
from sk_clustermass.preprocessing import LogStretch

from .conftest import TINY, make_toy_clusters


class _OnlyBandOne:
    """A 'model' whose prediction is the total counts of band 1 in the central ring."""

    def predict(self, X):
        images = X["images"]
        centre = radial_rings(images.shape[2:], 2)[0]
        return np.log10(1.0 + images[:, 1][:, centre].sum(axis=1))


def test_rings_cover_the_image_once():
    masks = radial_rings((20, 16), 4)
    np.testing.assert_array_equal(np.sum(masks, axis=0), np.ones((20, 16)))
    assert masks[0][9, 7] and masks[-1][0, 0]  # the centre first, the corners last


def test_permutation_importance_finds_the_band_and_ring_used():
    X, _ = make_toy_clusters(80, seed=2)
    model = _OnlyBandOne()
    y = model.predict(X)
    result = group_permutation_importance(model, X, y, n_rings=2, n_repeats=3,
                                          random_state=0)
    assert result.names == ["band 0", "band 1", "band 2", "redshift", "ring 0", "ring 1"]
    assert result.importances.shape == (6, 3)
    importance = dict(zip(result.names, result.importances_mean))
    assert importance["band 1"] > 0.05 and importance["ring 0"] > 0.05
    for unused in ("band 0", "band 2", "redshift", "ring 1"):
        assert importance[unused] == 0.0


def test_permutation_importance_on_a_fitted_pipeline():
    X, y = make_toy_clusters(60, seed=3)
    pipe = make_pipeline(LogStretch(), ClusterMassRegressor(**TINY)).fit(X, y)
    result = group_permutation_importance(pipe, X, y, n_repeats=2, random_state=0)
    assert np.isfinite(result.importances).all()
    again = group_permutation_importance(pipe, X, y, n_repeats=2, random_state=0)
    np.testing.assert_array_equal(result.importances, again.importances)


@pytest.fixture(scope="module")
def pipe_and_data():
    X, y = make_toy_clusters(60, seed=4)
    return make_pipeline(LogStretch(), ClusterMassRegressor(**TINY)).fit(X, y), X


def test_integrated_gradients_complete_to_the_prediction_difference(pipe_and_data):
    pipe, X = pipe_and_data
    maps = saliency_maps(pipe, X[:3], n_steps=64)
    assert maps.shape == (3, *X["images"].shape[1:])
    zero = as_inputs(np.zeros_like(X["images"][:3]), X["redshift"][:3])
    with pytest.warns(OutOfDomainWarning, match="spatially constant"):  # an empty cube
        at_zero = pipe[-1].predict(zero)
    expected = pipe[-1].predict(pipe[:-1].transform(X[:3])) - at_zero
    np.testing.assert_allclose(maps.sum(axis=(1, 2, 3)), expected, atol=2e-3)


def test_gradient_maps_and_bad_method(pipe_and_data):
    pipe, X = pipe_and_data
    maps = saliency_maps(pipe, X[:2], method="gradient")
    assert maps.shape == (2, *X["images"].shape[1:]) and np.abs(maps).max() > 0
    with pytest.raises(ValueError, match="method='smoothgrad'"):
        saliency_maps(pipe, X[:2], method="smoothgrad")
