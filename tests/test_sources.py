"""One data-source protocol for arrays and HDF5 files (estimator._sources)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sk_clustermass._utils import band_summary
from sk_clustermass.estimator._data import BatchIterator
from sk_clustermass.estimator._data_protocol import Batch, ClusterSource, ClusterView
from sk_clustermass.estimator._sources import (
    ArraySource,
    HDF5Source,
    as_source,
    check_sample_weight,
    prediction_source,
)
from sk_clustermass.estimator._streaming import StreamingBatchIterator
from sk_clustermass.io._hdf5 import HDF5ClusterDataset, write_hdf5

from .conftest import make_toy_clusters


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """The same 300 clusters as arrays and as a file, with weights 0..299."""
    X, y = make_toy_clusters(300, seed=3, size=12)
    path = tmp_path_factory.mktemp("sources") / "toy.h5"
    write_hdf5(path, X, y)
    weight = np.arange(300, dtype=np.float64)
    return as_source(X, y, weight), as_source(path, None, weight), X, y


def test_as_source_picks_the_implementation_once(both):
    memory, on_disk, _, _ = both
    assert isinstance(memory, ArraySource) and memory.iterator is BatchIterator
    assert isinstance(on_disk, HDF5Source) and on_disk.iterator is StreamingBatchIterator
    assert isinstance(as_source(HDF5ClusterDataset(on_disk.dataset.path), training=False),
                      HDF5Source)


def test_both_sources_agree_on_rows_statistics_and_targets(both):
    memory, on_disk, X, y = both
    assert memory.n_rows == on_disk.n_rows == 300
    assert memory.image_shape == on_disk.image_shape == (3, 12, 12)
    np.testing.assert_array_equal(on_disk.redshift, memory.redshift)
    np.testing.assert_allclose(on_disk.target, y)
    expected = band_summary(X["images"])
    for summary in (memory.summary(), on_disk.summary()):
        np.testing.assert_allclose(summary.mean, expected.mean, rtol=1e-12)
        np.testing.assert_allclose(summary.std, expected.std, rtol=1e-10)
        np.testing.assert_array_equal(summary.total_max, expected.total_max)


@pytest.mark.parametrize("which", [0, 1])
def test_split_views_carry_targets_and_weights_row_by_row(both, which):
    source = both[which]
    target = np.arange(300, dtype=np.float32)  # row index as the target
    weight = np.arange(300, dtype=np.float32) * 2
    train, valid = source.split(0.2, 0, target, weight, "cpu")
    rows = []
    for view in (train, valid):
        iterator = source.iterator(view, 50, shuffle=True,
                                   generator=torch.Generator().manual_seed(0),
                                   **{k.split("__")[1]: v for k, v in
                                      source.iterator_params("cpu").items()
                                      if k.startswith("iterator_train")})
        for batch in iterator:
            inputs, batch_target = batch
            assert sorted(inputs) == ["images", "redshift"]  # the weights travel beside
            np.testing.assert_array_equal(batch.weight.numpy(), 2 * batch_target.numpy())
            rows.append(batch_target.numpy())
    rows = np.concatenate(rows)
    assert sorted(rows.tolist()) == list(range(300))
    assert 40 <= len(valid) <= 80


def test_sources_and_their_views_declare_the_one_protocol(both):
    memory, on_disk, X, _ = both
    for source in (memory, on_disk):
        assert isinstance(source, ClusterSource)
        views = [*source.split(0.2, 0, np.zeros(300, np.float32), None, "cpu"), source.view()]
        assert all(isinstance(view, ClusterView) for view in views)
    assert isinstance(prediction_source(X), ClusterSource)
    assert isinstance(prediction_source(X).view(), ClusterView)


def test_zero_fraction_has_no_validation_view(both):
    for source in both[:2]:
        train, valid = source.split(0.0, 0, np.zeros(300, np.float32), None, "cpu")
        assert valid is None and len(train) == 300


def test_prediction_view_is_every_row_in_order_without_target(both):
    memory, on_disk, X, _ = both
    for source in (memory, on_disk):
        batches = list(source.view().inference_batches(64, "cpu"))
        images = torch.cat([inputs["images"] for inputs, _ in batches]).numpy()
        np.testing.assert_array_equal(images, X["images"])
        assert all(isinstance(batch, Batch) and batch.weight is None for batch in batches)
        assert all(target is None and sorted(inputs) == ["images", "redshift"]
                   for inputs, target in batches)


def test_fingerprint_arrays_include_weights_only_when_given(both):
    memory, on_disk, X, y = both
    # in memory: images, redshift, target, weight; on disk: the file (its images are
    # hashed as read), redshift, target, weight
    assert len(memory.fingerprint_arrays()) == 4 and len(on_disk.fingerprint_arrays()) == 4
    assert on_disk.fingerprint_arrays()[0] is on_disk.dataset
    assert len(as_source(X, y).fingerprint_arrays()) == 3


def test_hdf5_reading_thread_follows_the_device(both):
    on_disk = both[1]
    assert on_disk.iterator_params("cuda")["iterator_train__prefetch"] is True
    assert both[0].iterator_params("cuda") == {}


@pytest.mark.parametrize(
    ("weight", "match"),
    [
        (np.ones(5), "5 values but X has 4"),
        (np.array([1.0, -1.0, 1.0, 1.0]), "1 negative"),
        (np.zeros(4), "zero for every cluster"),
        (np.array([1.0, np.nan, 1.0, 1.0]), "NaN or infinite"),
        (np.ones((4, 2)), r"shape \(n_samples,\)"),
    ],
)
def test_bad_sample_weight_is_refused(weight, match):
    with pytest.raises(ValueError, match=match):
        check_sample_weight(weight, 4)


def test_file_without_target_needs_y(tmp_path):
    X, _ = make_toy_clusters(10, seed=1, size=8)
    path = tmp_path / "no_target.h5"
    write_hdf5(path, X, None)
    with pytest.raises(ValueError, match="pass y to fit"):
        as_source(path)
    assert as_source(path, training=False).target is None
