"""The training domain and the out-of-domain warning's rule (estimator._domain)."""

from __future__ import annotations

import numpy as np
import pytest

from sk_clustermass._utils import band_summary
from sk_clustermass.estimator import OutOfDomainWarning
from sk_clustermass.estimator._domain import count_ranges, domain_ranges, far_outside

BANDS = np.array([[100.0, 300.0], [0.0, 0.0]])  # band 1 was empty in every training cluster
REDSHIFT = np.array([0.1, 0.9])


def _summary(totals):
    """Summary of clusters whose per-band totals are ``totals`` (n, n_bands), 2x2 pixels,
    each total in one pixel (so that no cube is spatially constant unless all zero)."""
    totals = np.asarray(totals, dtype=np.float32)
    images = np.zeros((*totals.shape, 2, 2), dtype=np.float32)
    images[:, :, 0, 0] = totals
    return band_summary(images)


def test_ranges_are_per_band_totals_and_redshifts():
    bands, redshift = domain_ranges(_summary([[100, 0], [300, 0]]), np.array([0.9, 0.1]))
    np.testing.assert_allclose(bands, BANDS)
    np.testing.assert_allclose(redshift, REDSHIFT)


def test_count_ranges_are_cube_totals_exposures_and_flat_cubes():
    summary = _summary([[100, 5], [300, 0], [0, 0]])
    total, exposure, n_flat = count_ranges(summary, np.array([600.0, 1200.0, 900.0]))
    np.testing.assert_allclose(total, [0, 300])
    np.testing.assert_allclose(exposure, [600, 1200])
    assert n_flat == 1  # the empty cube
    assert count_ranges(summary, None)[1] is None


@pytest.mark.parametrize(
    ("totals", "z", "expected"),
    [
        ([[250, 0]], [0.5], []),
        # margins: a factor 2 beyond either end of positive ranges (band 1 reaches 0)
        ([[50.1, 0], [599, 0]], [0.051, 1.79], []),
        ([[610, 0]], [0.5], ["band 0 total per cluster up to 610 (fit saw 100 to 300)"]),
        ([[49, 0]], [0.5], ["band 0 total per cluster down to 49 (fit saw 100 to 300)"]),
        ([[250, 1]], [0.5], ["band 1 total per cluster up to 1 (fit saw 0 to 0)"]),
        ([[250, 0]], [1.9], ["redshift up to 1.9 (fit saw 0.1 to 0.9)"]),
        ([[250, 0]], [1e-6], ["redshift down to 1e-06 (fit saw 0.1 to 0.9)"]),
        ([[250, 0]], [-0.9], ["redshift down to -0.9 (fit saw 0.1 to 0.9)"]),
    ],
)
def test_far_outside_rule(totals, z, expected):
    assert far_outside(BANDS, REDSHIFT, _summary(totals), np.array(z)) == expected


@pytest.mark.parametrize(
    ("totals", "exposure", "expected"),
    [
        ([[250, 0]], [700.0], []),
        ([[250, 0], [0, 0]], [700.0, 700.0],
         ["band 0 total per cluster down to 0 (fit saw 100 to 300)",
          "total per cluster down to 0 (fit saw 100 to 300)",
          "1 cluster(s) with spatially constant images (empty or filled cubes; fit saw none)"]),
        ([[250, 0]], [0.7], ["exposure (s) down to 0.7 (fit saw 600 to 1.2e+03)"]),
        ([[250, 0]], [1.2e6], ["exposure (s) up to 1.2e+06 (fit saw 600 to 1.2e+03)"]),
    ],
)
def test_far_outside_cube_totals_flat_cubes_and_exposure(totals, exposure, expected):
    problems = far_outside(BANDS, REDSHIFT, _summary(totals), np.array([0.5]),
                           total_range=np.array([100.0, 300.0]),
                           exposure_range=np.array([600.0, 1200.0]),
                           exposure=np.array(exposure), n_flat_seen=0)
    assert problems == expected


def test_flat_cubes_do_not_warn_when_fit_saw_some():
    problems = far_outside(np.array([[0.0, 300.0]]), REDSHIFT, _summary([[0.0]]),
                           np.array([0.5]), n_flat_seen=3)
    assert problems == []


def test_negative_ranges_keep_the_additive_rule():
    """Images standardised before the estimator have negative totals: no log rule."""
    seen = np.array([[-10.0, 10.0]])
    assert far_outside(seen, REDSHIFT, _summary([[150.0]]), np.array([0.5])) == []
    assert far_outside(seen, REDSHIFT, _summary([[200.0]]), np.array([0.5])) == [
        "band 0 total per cluster up to 200 (fit saw -10 to 10)"]


def test_warning_class_is_a_user_warning():
    assert issubclass(OutOfDomainWarning, UserWarning)
