"""The training domain and the out-of-domain warning's rule (estimator._domain)."""

from __future__ import annotations

import numpy as np
import pytest

from sk_clustermass._utils import band_summary
from sk_clustermass.estimator import OutOfDomainWarning
from sk_clustermass.estimator._domain import domain_ranges, far_outside

BANDS = np.array([[100.0, 300.0], [0.0, 0.0]])  # band 1 was empty in every training cluster
REDSHIFT = np.array([0.1, 0.9])


def _summary(totals):
    """Summary of clusters whose per-band totals are ``totals`` (n, n_bands), 2x2 pixels."""
    totals = np.asarray(totals, dtype=np.float32)
    return band_summary(np.repeat(totals[:, :, None, None] / 4, 2, 2).repeat(2, 3))


def test_ranges_are_per_band_totals_and_redshifts():
    bands, redshift = domain_ranges(_summary([[100, 0], [300, 0]]), np.array([0.9, 0.1]))
    np.testing.assert_allclose(bands, BANDS)
    np.testing.assert_allclose(redshift, REDSHIFT)


@pytest.mark.parametrize(
    ("totals", "z", "expected"),
    [
        ([[250, 0]], [0.5], []),
        # margins: max(extent, magnitude) of the range for redshifts, 9 times that for bands
        ([[2990, 0], [0, 0]], [0.0, 1.6], []),
        ([[3010, 0]], [0.5], ["band 0 total per cluster 3.01e+03 (fit saw 100 to 300)"]),
        ([[-2610, 0]], [0.5], ["band 0 total per cluster -2.61e+03 (fit saw 100 to 300)"]),
        ([[250, 1]], [0.5], ["band 1 total per cluster 1 (fit saw 0 to 0)"]),
        ([[250, 0]], [1.9], ["redshift up to 1.9 (fit saw 0.1 to 0.9)"]),
        ([[250, 0]], [-0.9], ["redshift down to -0.9 (fit saw 0.1 to 0.9)"]),
    ],
)
def test_far_outside_rule(totals, z, expected):
    assert far_outside(BANDS, REDSHIFT, _summary(totals), np.array(z)) == expected


def test_warning_class_is_a_user_warning():
    assert issubclass(OutOfDomainWarning, UserWarning)
