"""Per-band statistics accumulated in blocks (sk_clustermass._utils._statistics)."""

from __future__ import annotations

import numpy as np
import pytest

from sk_clustermass._utils import BandMoments, band_mean_std, band_summary, constant_cubes
from sk_clustermass._utils._statistics import N_PROBE_PIXELS


def test_band_statistics_in_chunks_match_numpy():
    rng = np.random.default_rng(0)
    images = rng.normal(1e4, 3.0, size=(700, 2, 2, 3)).astype(np.float32)
    mean, std = band_mean_std(images)
    np.testing.assert_allclose(mean, images.astype(np.float64).mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(std, images.astype(np.float64).std(axis=(0, 2, 3)), rtol=1e-9)


@pytest.mark.parametrize("chunk", [1, 3, 64, 1000])
def test_result_does_not_depend_on_the_block_size(chunk):
    rng = np.random.default_rng(1)
    images = rng.gamma(2.0, 5.0, size=(97, 3, 4, 5)).astype(np.float32)
    reference = band_summary(images, chunk=97)
    summary = band_summary(images, chunk=chunk)
    np.testing.assert_allclose(summary.mean, reference.mean, rtol=1e-12)
    np.testing.assert_allclose(summary.std, reference.std, rtol=1e-10)
    assert summary.n_clusters == 97


def test_uneven_blocks_fed_by_hand_match_one_block():
    rng = np.random.default_rng(2)
    images = rng.normal(size=(10, 2, 3, 3)).astype(np.float32)
    moments = BandMoments(2)
    for start, stop in [(0, 1), (1, 7), (7, 7), (7, 10)]:
        moments.update(images[start:stop])
    np.testing.assert_allclose(moments.summary().std, images.std(axis=(0, 2, 3)), rtol=1e-6)


def test_per_cluster_band_totals_are_recorded():
    images = np.zeros((3, 2, 2, 2), dtype=np.float32)
    images[1, 0] = 5.0  # cluster 1, band 0 totals 20
    images[2, 1] = -1.0  # cluster 2, band 1 totals -4
    summary = band_summary(images, chunk=2)
    np.testing.assert_array_equal(summary.total_min, [0.0, -4.0])
    np.testing.assert_array_equal(summary.total_max, [20.0, 0.0])


def test_constant_band_has_zero_std_and_unit_scale():
    summary = band_summary(np.full((4, 1, 2, 2), 7.0, dtype=np.float32))
    assert summary.std.tolist() == [0.0]
    assert summary.scale.tolist() == [1.0]


def test_empty_input_is_refused():
    with pytest.raises(ValueError, match="no clusters"):
        BandMoments(2).summary()


def _constant_by_extremes(images: np.ndarray) -> np.ndarray:
    """The obvious definition: every band's maximum equals its minimum."""
    pixels = images.reshape(len(images), images.shape[1], -1)
    return (pixels.max(axis=-1) == pixels.min(axis=-1)).all(axis=1)


def test_constant_cubes_agrees_with_the_per_band_extremes_on_tricky_cubes():
    rng = np.random.default_rng(3)
    images = rng.poisson(0.5, (40, 3, 9, 9)).astype(np.float32)
    images[[0, 5, 9]] = 0.0  # empty cubes
    images[12] = np.arange(3, dtype=np.float32).reshape(3, 1, 1)  # constant per band
    images[17] = 2.0
    images[17, 2, 4, 5] = 7.0  # one pixel off the probes differs: not constant
    images[21] = 1.0
    images[21, 1, 0, 0] = np.nan  # NaN is never equal: not constant
    images[25] = np.inf  # infinite but constant
    images[30] = 0.0
    images[30, 0, -1, -1] = -0.0  # signed zero is still equal
    expected = _constant_by_extremes(images)
    assert expected.tolist().count(True) == 6  # 0, 5, 9, 12, 25 and 30
    np.testing.assert_array_equal(constant_cubes(images), expected)
    np.testing.assert_array_equal(constant_cubes(images.astype(np.float64)), expected)
    with np.errstate(invalid="ignore"):  # inf - inf in the totals of cube 25
        totals = images.sum(axis=(2, 3), dtype=np.float64)
    np.testing.assert_array_equal(constant_cubes(images, totals), expected)


def test_constant_cubes_checks_every_pixel_not_only_the_probed_ones():
    images = np.zeros((1, 1, 50, 50))
    probed = np.unique(np.linspace(0, 2499, N_PROBE_PIXELS).astype(int))
    for index in range(2500):
        if index not in probed:
            images.reshape(-1)[index] = 1.0
            break
    assert not constant_cubes(images)[0]
    assert constant_cubes(np.zeros((0, 2, 4, 4))).shape == (0,)


def test_the_total_test_lets_no_constant_cube_through_unchecked():
    """Float32 sums of a constant band differ from n_pixels * value by rounding; a
    cube whose totals match but whose pixels differ is still not constant."""
    rng = np.random.default_rng(5)
    values = rng.uniform(0.0, 1e4, (50, 10, 1, 1)).astype(np.float32)
    images = np.broadcast_to(values, (50, 10, 50, 50)).copy()
    totals = images.reshape(50, 10, -1).sum(axis=-1)  # float32 rounding
    assert constant_cubes(images, totals).all()
    images[7, 3, 10, 10] += 1.0
    images[7, 3, 20, 20] -= 1.0  # same total, not constant
    assert constant_cubes(images, images.reshape(50, 10, -1).sum(-1)).tolist().count(False) == 1
