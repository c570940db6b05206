"""In-memory tensors and batches (estimator._data)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sk_clustermass.estimator._data import (
    BatchIterator,
    ClusterTensors,
    random_symmetry,
    shuffled_split,
)


@pytest.fixture
def tensors():
    images = np.arange(10 * 2 * 3 * 3, dtype=np.float32).reshape(10, 2, 3, 3)
    return ClusterTensors.from_arrays(images, np.linspace(0.1, 1, 10, dtype=np.float32),
                                      np.arange(10.0), np.arange(10.0) / 10), images


def test_from_arrays_shares_memory_with_float32_input(tensors):
    data, images = tensors
    images[0, 0, 0, 0] = -1.0
    assert data.images[0, 0, 0, 0] == -1.0


def test_subset_of_subset_maps_to_the_right_rows(tensors):
    data, _ = tensors
    view = data.subset(torch.tensor([2, 4, 6, 8])).subset(torch.tensor([1, 3]))
    batch = view.take(slice(0, 2))
    inputs, target = batch
    assert target.tolist() == [4.0, 8.0]
    assert batch.weight.tolist() == pytest.approx([0.4, 0.8])
    assert "sample_weight" not in inputs  # beside the inputs, not among them
    assert len(view) == 2


def test_take_by_index_and_by_slice_agree(tensors):
    data, _ = tensors
    by_slice, _ = data.take(slice(3, 6))
    by_index, _ = data.take(torch.arange(3, 6))
    for key in by_slice:
        torch.testing.assert_close(by_slice[key], by_index[key])


def test_no_weight_key_without_weights():
    data = ClusterTensors.from_arrays(np.zeros((2, 1, 2, 2), np.float32), np.zeros(2, np.float32))
    inputs, target = data.take(slice(0, 2))
    assert set(inputs) == {"images", "redshift"} and target is None


def test_iterator_shuffles_each_epoch_and_covers_every_row(tensors):
    data, _ = tensors
    iterator = BatchIterator(data, 4, shuffle=True, generator=torch.Generator().manual_seed(0))
    assert len(iterator) == 3
    epochs = [torch.cat([t for _, t in iterator]).tolist() for _ in range(2)]
    assert all(sorted(epoch) == list(range(10)) for epoch in epochs)
    assert epochs[0] != epochs[1]
    in_order = torch.cat([t for _, t in BatchIterator(data, 4)]).tolist()
    assert in_order == list(range(10))


def test_random_symmetry_draws_per_cluster_and_keeps_content():
    images = torch.rand(64, 2, 5, 5, generator=torch.Generator().manual_seed(1))
    out = random_symmetry(images, torch.Generator().manual_seed(2))
    torch.testing.assert_close(out.sum(dim=(2, 3)), images.sum(dim=(2, 3)))
    changed = (out != images).flatten(1).any(dim=1)
    assert 0 < int(changed.sum()) < 64  # some clusters kept, some transformed


def test_shuffled_split_is_seeded_sorted_and_disjoint():
    train, valid = shuffled_split(100, 0.2, seed=3)
    assert len(valid) == 20 and len(train) == 80
    assert sorted(train.tolist() + valid.tolist()) == list(range(100))
    assert train.tolist() == sorted(train.tolist())
    assert shuffled_split(100, 0.2, seed=3)[1].tolist() == valid.tolist()
    assert shuffled_split(100, 0.2, seed=4)[1].tolist() != valid.tolist()


def test_shuffled_split_refuses_to_leave_no_training_rows():
    with pytest.raises(ValueError, match="leaves no training data"):
        shuffled_split(1, 0.5, seed=0)
