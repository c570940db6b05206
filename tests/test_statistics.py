"""Per-band statistics accumulated in blocks (sk_clustermass._utils._statistics)."""

from __future__ import annotations

import numpy as np
import pytest

from sk_clustermass._utils import BandMoments, band_mean_std, band_summary


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
