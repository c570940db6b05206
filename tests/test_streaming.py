"""Out-of-core training and prediction from HDF5 files."""

from __future__ import annotations

import numpy as np
import pytest

from sk_clustermass import ClusterMassRegressor
from sk_clustermass.estimator._streaming import (
    StreamingBatchIterator,
    StreamingClusters,
    block_split,
)
from sk_clustermass.io._hdf5 import HDF5ClusterDataset, write_hdf5

from .conftest import make_toy_clusters


@pytest.fixture(scope="module")
def toy_file(tmp_path_factory):
    X, y = make_toy_clusters(600, seed=5)
    path = tmp_path_factory.mktemp("h5") / "toy.h5"
    write_hdf5(path, X, y)
    return path, X, y


def test_block_split_is_seeded_and_disjoint():
    train, valid = block_split(5000, 0.2, seed=1, block_size=500)
    assert len(valid) == 4 and len(train) == 16  # 20 blocks of 250 rows
    rows = sorted(r for start, stop in train + valid for r in range(start, stop))
    assert rows == list(range(5000))
    assert block_split(5000, 0.2, seed=1, block_size=500) == (train, valid)
    assert block_split(5000, 0.2, seed=2, block_size=500) != (train, valid)


@pytest.mark.parametrize("n_rows", [2, 20, 64, 65, 100, 200, 1000, 5000])
@pytest.mark.parametrize("fraction", [0.1, 0.2, 0.5])
def test_block_split_holds_out_the_fraction_asked_for(n_rows, fraction):
    """Issue 27.3: 0.1 held out 98% of the rows at n = 65, and none at n <= 64."""
    train, valid = block_split(n_rows, fraction, seed=3)
    n_valid = sum(stop - start for start, stop in valid)
    assert n_valid == max(1, round(fraction * n_rows))
    rows = sorted(r for start, stop in train + valid for r in range(start, stop))
    assert rows == list(range(n_rows))


def test_block_split_refuses_to_leave_no_training_row():
    with pytest.raises(ValueError, match="leaves no training data"):
        block_split(1, 0.1, seed=0)


def test_fit_from_a_small_file(tmp_path, tiny_params):
    """Issue 27.3: fit from a file of <= 64 rows failed: 'valid_loss' was not found."""
    X, y = make_toy_clusters(40, seed=2)
    path = tmp_path / "small.h5"
    write_hdf5(path, X, y)
    model = ClusterMassRegressor(**dict(tiny_params, max_epochs=2)).fit(str(path))
    assert len(model.history_) == 2 and np.isfinite(model.history_[-1, "valid_loss"])


def _view_in_blocks_of_100(path, labelled=True):
    """The whole file as blocks of 100 rows; the target of each row is its index."""
    source = HDF5ClusterDataset(path)
    target = np.arange(len(source), dtype=np.float32) if labelled else None
    return StreamingClusters(source, block_split(len(source), 0.0, 0, block_size=100)[0],
                             target)


def test_iterator_visits_every_row_once_per_epoch(toy_file):
    path, _, _ = toy_file
    import torch

    dataset = _view_in_blocks_of_100(path)
    target = dataset.target
    iterator = StreamingBatchIterator(dataset, 64, shuffle=True,
                                      generator=torch.Generator().manual_seed(0),
                                      buffer_blocks=3)
    for _ in range(2):
        seen = np.concatenate([t.numpy() for _, t in iterator])
        assert sorted(seen.tolist()) == target.tolist()
        assert not np.array_equal(seen, target)  # shuffled


def test_reading_thread_does_not_change_the_batches(toy_file):
    """Prefetching in a thread (GPU, or a spare core) or reading in line: same batches."""
    path, _, _ = toy_file
    import torch

    dataset = _view_in_blocks_of_100(path)

    def epoch(prefetch):
        iterator = StreamingBatchIterator(dataset, 64, shuffle=True, augment=True,
                                          generator=torch.Generator().manual_seed(3),
                                          prefetch=prefetch)
        return [(x["images"].numpy(), t.numpy()) for x, t in iterator]

    threaded, in_line = epoch(True), epoch(False)
    assert len(threaded) == len(in_line) == 11  # buffers of 400 and 200 rows
    for (images_a, target_a), (images_b, target_b) in zip(threaded, in_line):
        np.testing.assert_array_equal(target_a, target_b)
        np.testing.assert_array_equal(images_a, images_b)


def test_read_buffers_are_reused_and_batches_own_their_memory(toy_file):
    path, X, _ = toy_file
    import torch

    dataset = _view_in_blocks_of_100(path, labelled=False)
    first, *_ = dataset.read_blocks([0, 1])
    again, *_ = dataset.read_blocks([2, 3])
    assert first.data_ptr() == again.data_ptr()  # same memory, refilled
    np.testing.assert_array_equal(again.numpy(), X["images"][200:400])
    # in-order batches (prediction) are copies: later reads do not change them
    batches = [x["images"] for x, _ in StreamingBatchIterator(dataset, 64, buffer_blocks=2)]
    np.testing.assert_array_equal(torch.cat(batches).numpy(), X["images"])
    dataset.release()
    assert dataset._buffers == {}


def test_fit_from_file_learns_and_matches_in_memory_prediction(toy_file, tiny_params):
    path, X, y = toy_file
    params = dict(tiny_params, max_epochs=25, patience=8, n_filters=8, dense_layers=(64, 32))
    model = ClusterMassRegressor(**params).fit(str(path))
    from_file = model.predict(path)
    np.testing.assert_allclose(from_file, model.predict(X), atol=1e-5)
    scatter = np.std(from_file - y)
    print(f"\nout-of-core toy fit: scatter {scatter:.3f} dex = {scatter / y.std():.2f} x std(y)")
    assert scatter < 0.5 * y.std()


def test_fit_from_file_is_deterministic(toy_file, tiny_params):
    path, _, _ = toy_file
    first = ClusterMassRegressor(**dict(tiny_params, augment=True)).fit(path).predict(path)
    second = ClusterMassRegressor(**dict(tiny_params, augment=True)).fit(path).predict(path)
    np.testing.assert_array_equal(first, second)


def test_file_without_target_needs_y(tmp_path, tiny_params):
    X, y = make_toy_clusters(50, seed=1)
    path = tmp_path / "no_target.h5"
    write_hdf5(path, X, None)
    with pytest.raises(ValueError, match="pass y to fit"):
        ClusterMassRegressor(**tiny_params).fit(path)
    model = ClusterMassRegressor(**dict(tiny_params, max_epochs=1)).fit(path, y)
    assert model.predict(path).shape == (50,)


def test_predict_file_with_other_bands_is_refused(toy_file, tiny_params, tmp_path):
    _, X, y = toy_file
    model = ClusterMassRegressor(**dict(tiny_params, max_epochs=1)).fit(X, y)
    other = tmp_path / "two_bands.h5"
    write_hdf5(other, {"images": X["images"][:20, :2], "redshift": X["redshift"][:20]}, None)
    with pytest.raises(ValueError, match="2 energy bands"):
        model.predict(other)


def test_weights_travel_with_the_rows_of_a_file(toy_file, tiny_params):
    path, X, _ = toy_file
    params = dict(tiny_params, max_epochs=2)
    plain = ClusterMassRegressor(**params).fit(path).predict(path)
    n_rows = len(X["redshift"])
    uniform = ClusterMassRegressor(**params).fit(path, sample_weight=np.full(n_rows, 3.0))
    np.testing.assert_array_equal(uniform.predict(path), plain)  # only ratios matter
    skewed = np.where(np.arange(n_rows) < 300, 1.0, 0.0)
    weighted = ClusterMassRegressor(**params).fit(path, sample_weight=skewed).predict(path)
    assert not np.array_equal(weighted, plain)
