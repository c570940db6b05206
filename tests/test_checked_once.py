"""Pixels are checked once per call (issue 24): the mark of _inputs.derived_inputs, the
transformers' proved bounds and the estimator's own passes."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from sk_clustermass import ClusterMassRegressor, _inputs, as_inputs
from sk_clustermass._inputs import checked_inputs, derived_inputs
from sk_clustermass.preprocessing import BandNormalizer, CenterCrop, LogStretch

from .conftest import TINY, make_toy_clusters


@pytest.fixture
def pixel_scans(monkeypatch):
    """Counts the full-array NaN/inf scans of image cubes (``_inputs._check_finite``)."""
    calls = []
    scan = _inputs._check_finite

    def counting(array, name):
        if name == "images" and array.ndim == 4:
            calls.append(array.shape)
        return scan(array, name)

    monkeypatch.setattr(_inputs, "_check_finite", counting)
    return calls


def _pipeline():
    return make_pipeline(LogStretch(), BandNormalizer(),
                         ClusterMassRegressor(**dict(TINY, max_epochs=1)))


def test_a_pipeline_fit_and_predict_scan_the_images_once_each(pixel_scans):
    # before issue 24: 5 scans in fit and 4 in predict
    X, y = make_toy_clusters(64, seed=1)
    pixel_scans.clear()
    model = _pipeline().fit(X, y)
    assert len(pixel_scans) == 1
    pixel_scans.clear()
    model.predict(X)
    assert len(pixel_scans) == 1


def test_in_place_corruption_after_a_first_fit_is_caught():
    X, y = make_toy_clusters(64, seed=1)
    model = _pipeline().fit(X, y)
    X["images"][5, 1, 2, 3] = np.nan
    with pytest.raises(ValueError, match=r"1 NaN or infinite value\(s\) \(first in sample 5\)"):
        model.fit(X, y)
    with pytest.raises(ValueError, match=r"1 NaN or infinite value\(s\) \(first in sample 5\)"):
        model.predict(X)


def test_the_estimator_checks_a_transformed_x_changed_in_place():
    X, y = make_toy_clusters(64, seed=1)
    Xt = LogStretch().fit_transform(X)
    Xt["images"][7, 0, 0, 0] = np.inf
    regressor = ClusterMassRegressor(**dict(TINY, max_epochs=1))
    with pytest.raises(ValueError, match=r"1 NaN or infinite value\(s\) \(first in sample 7\)"):
        regressor.fit(Xt, y)


def test_the_mark_is_trusted_once_and_only_for_its_own_array(pixel_scans):
    X = as_inputs(np.ones((3, 2, 4, 4)), [0.1, 0.2, 0.3])
    pixel_scans.clear()
    Xt = derived_inputs(X["images"] * 2, X, bound=2.0)
    assert checked_inputs(Xt) == (Xt, 2.0) and pixel_scans == []
    assert checked_inputs(Xt)[1] == np.inf and len(pixel_scans) == 1  # trusted once
    replaced = derived_inputs(X["images"] * 2, X, bound=2.0)
    replaced["images"] = np.full((3, 2, 4, 4), np.nan, dtype=np.float32)
    with pytest.raises(ValueError, match="NaN or infinite"):
        checked_inputs(replaced)
    for duplicate in (pickle.loads(pickle.dumps(derived_inputs(X["images"], X, 1.0))),
                      copy.deepcopy(derived_inputs(X["images"], X, 1.0)),
                      derived_inputs(X["images"], X, 1.0)[1:]):
        assert checked_inputs(duplicate)[1] == np.inf  # checked again, not trusted


def test_as_inputs_never_marks_what_it_returns_to_the_user(pixel_scans):
    X = as_inputs(np.ones((3, 2, 4, 4)), [0.1, 0.2, 0.3])
    pixel_scans.clear()
    checked_inputs(X)
    assert len(pixel_scans) == 1


def test_transformers_pass_the_mark_only_with_a_proved_bound(pixel_scans):
    X, _ = make_toy_clusters(16, seed=2)
    pixel_scans.clear()
    stretched = LogStretch().fit_transform(X)  # input scanned, output bounded by 89.5
    cropped = CenterCrop(size=10).fit_transform(stretched)
    BandNormalizer().fit_transform(cropped)
    assert len(pixel_scans) == 1
    pixel_scans.clear()
    LogStretch(scale=0.5).fit_transform(X)  # x / 0.5 could overflow: output scanned
    BandNormalizer().fit_transform(X)  # unbounded input: output scanned
    assert len(pixel_scans) == 4


def test_outputs_are_those_of_before():
    X, _ = make_toy_clusters(16, seed=2)
    for step in (LogStretch(), LogStretch(method="asinh", scale=0.5), BandNormalizer(),
                 CenterCrop(size=8)):
        out = step.fit_transform(X)
        expected = step._transform_images(X["images"])
        np.testing.assert_array_equal(out["images"], expected)
        assert out["redshift"] is X["redshift"]
