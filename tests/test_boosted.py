"""Tests of the boosted-tree competitor (baselines/_boosted.py)."""

from __future__ import annotations

import numpy as np
import pytest

from sk_clustermass import as_inputs
from sk_clustermass.baselines import BoostedApertureRegressor

from .conftest import make_toy_clusters

# 20x20 toy images of 1' pixels: apertures of 1', 2', 3', background beyond 5'.
SMALL = {"radii_arcmin": (1.0, 2.0, 3.0), "background_annulus_arcmin": (5.0, None),
         "pixel_size_arcsec": 60.0}


def test_features_measure_net_counts_hardness_background_and_redshift():
    images = np.full((1, 2, 21, 21), 0.5)  # 0.5 counts per pixel per band of background
    images[0, 1, 10, 10] += 40.0            # a hard point source in the centre
    X = as_inputs(images, [0.3])
    features = BoostedApertureRegressor(**SMALL).features(X)
    np.testing.assert_allclose(features[0, :3], 40.0)  # net counts within every radius
    assert features[0, 3] == pytest.approx(1.0)        # all hard: (H - S) / (H + S) = 1
    assert features[0, 4] == pytest.approx(1.0)        # background, both bands
    assert features[0, 5] == pytest.approx(0.3)
    model = BoostedApertureRegressor(**SMALL)
    assert model._feature_names == ["net_counts_1arcmin", "net_counts_2arcmin",
                                    "net_counts_3arcmin", "hardness_ratio",
                                    "background_per_pixel", "redshift"]


def test_learns_the_toy_task_with_honest_widths():
    X, y = make_toy_clusters(900, seed=5)
    model = BoostedApertureRegressor(**SMALL, max_iter=100, random_state=0)
    model.fit(X[:600], y[:600])
    mean, std = model.predict(X[600:], return_std=True)
    residual = mean - y[600:]
    assert np.sqrt(np.mean(residual**2)) < 0.5 * np.std(y[600:])
    coverage = np.mean(np.abs(residual) < std)
    assert 0.5 < coverage < 0.9, coverage
    assert model.feature_names_[-1] == "redshift"


def test_bad_settings_say_what_to_change():
    X, y = make_toy_clusters(20, seed=1)
    with pytest.raises(ValueError, match="corners of the 20x20 images"):
        BoostedApertureRegressor().fit(X, y)  # 24" pixels: 6' lies beyond the corners
    with pytest.raises(ValueError, match="radii_arcmin must be"):
        BoostedApertureRegressor(**dict(SMALL, radii_arcmin=(1.0, -2.0))).fit(X, y)
    model = BoostedApertureRegressor(**SMALL, max_iter=5).fit(X, y)
    with pytest.raises(ValueError, match="2 energy bands but the model was fitted on 3"):
        model.predict(as_inputs(X["images"][:, :2], X["redshift"]))
