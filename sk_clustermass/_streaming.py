"""Out-of-core training and inference from an HDF5 file larger than memory.

The file (our format, see :mod:`sk_clustermass.datasets`) is cut into blocks of
consecutive rows. An epoch visits the blocks in a fresh random order, reads
``buffer_blocks`` of them at a time in one sequential read each (a background thread
reads the next buffer while the network trains on the current one), shuffles the
rows inside the buffer and yields batches. Memory is bounded by two buffers,
whatever the size of the file. The validation split is made of whole blocks, drawn
at random (so a catalogue sorted by mass is still split fairly).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ._data import random_symmetry
from ._inputs import IMAGES_KEY, REDSHIFT_KEY, check_target

__all__ = [
    "StreamingBatchIterator",
    "StreamingClusters",
    "as_streaming_source",
    "block_split",
    "streaming_statistics",
]

DEFAULT_BLOCK_SIZE = 512


def as_streaming_source(X: Any):
    """The :class:`HDF5ClusterDataset` behind ``X`` if it is one or a path, else None."""
    from .datasets._hdf5 import HDF5ClusterDataset

    if isinstance(X, HDF5ClusterDataset):
        return X
    if isinstance(X, str | os.PathLike) and Path(X).suffix.lower() in (".h5", ".hdf5"):
        return HDF5ClusterDataset(X)
    return None


def _blocks(n_rows: int, block_size: int) -> list[tuple[int, int]]:
    return [(start, min(start + block_size, n_rows)) for start in range(0, n_rows, block_size)]


def block_split(
    n_rows: int, validation_fraction: float, seed: int, block_size: int = DEFAULT_BLOCK_SIZE
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Split row blocks into training and validation blocks (seeded, shuffled).

    Small files are cut into about 20 blocks (of at least 64 rows), so that the
    validation share stays close to ``validation_fraction``.

    Returns
    -------
    train_blocks, valid_blocks : list of (start, stop)
    """
    if validation_fraction == 0:
        return _blocks(n_rows, block_size), []
    # ~20 blocks or more (of at least 64 rows), so that the validation share is close
    # to the fraction asked for
    blocks = _blocks(n_rows, min(block_size, max(64, n_rows // 20)))
    order = np.random.default_rng(seed).permutation(len(blocks))
    n_valid = min(max(1, round(validation_fraction * len(blocks))), len(blocks) - 1)
    valid = sorted(blocks[i] for i in order[:n_valid])
    train = sorted(blocks[i] for i in order[n_valid:])
    return train, valid


class StreamingClusters(torch.utils.data.Dataset):
    """Blocks of rows of an HDF5 cluster file, read on demand.

    Parameters
    ----------
    source : HDF5ClusterDataset
    blocks : list of (start, stop)
        Row ranges belonging to this view.
    target : ndarray of shape (n_rows,), optional
        Standardised targets for every row of the file; None for inference.
    """

    def __init__(self, source, blocks: list[tuple[int, int]], target: np.ndarray | None) -> None:
        self.source = source
        self.blocks = blocks
        self.target = target

    def __len__(self) -> int:
        return sum(stop - start for start, stop in self.blocks)

    def __getitem__(self, index: int):  # pragma: no cover - batches come from read_blocks
        raise TypeError("StreamingClusters is read in blocks by StreamingBatchIterator")

    def read_blocks(self, block_ids) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Read the given blocks into one buffer of tensors."""
        images, redshift, target = [], [], []
        for block in block_ids:
            start, stop = self.blocks[block]
            X, _ = self.source.read(slice(start, stop))
            images.append(X[IMAGES_KEY])
            redshift.append(X[REDSHIFT_KEY])
            if self.target is not None:
                target.append(self.target[start:stop])
        return (
            torch.from_numpy(np.concatenate(images)),
            torch.from_numpy(np.concatenate(redshift)),
            torch.from_numpy(np.concatenate(target)) if target else None,
        )


class StreamingBatchIterator:
    """Batches from a :class:`StreamingClusters` view with block-level shuffling.

    Parameters
    ----------
    dataset : StreamingClusters
    batch_size : int
    shuffle : bool, default=False
        Random block order each epoch, and random rows within each buffer.
    generator : torch.Generator, optional
    augment : bool, default=False
        Random symmetry of the square per cluster.
    buffer_blocks : int, default=4
        Blocks read and shuffled together.
    """

    def __init__(
        self,
        dataset: StreamingClusters,
        batch_size: int,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
        augment: bool = False,
        buffer_blocks: int = 4,
    ) -> None:
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.generator = generator
        self.augment = augment
        self.buffer_blocks = buffer_blocks

    def __len__(self) -> int:
        return -(-len(self.dataset) // self.batch_size)

    def _buffers(self) -> list[list[int]]:
        n_blocks = len(self.dataset.blocks)
        if self.shuffle:
            order = torch.randperm(n_blocks, generator=self.generator).tolist()
        else:
            order = list(range(n_blocks))
        step = self.buffer_blocks
        return [order[i : i + step] for i in range(0, n_blocks, step)]

    def __iter__(self) -> Iterator[tuple[dict, torch.Tensor | None]]:
        buffers = self._buffers()
        if not buffers:
            return
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hdf5-prefetch") as pool:
            pending = pool.submit(self.dataset.read_blocks, buffers[0])
            for position in range(len(buffers)):
                images, redshift, target = pending.result()
                if position + 1 < len(buffers):
                    pending = pool.submit(self.dataset.read_blocks, buffers[position + 1])
                yield from self._batches(images, redshift, target)

    def _batches(self, images, redshift, target):
        n = len(images)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else None
        for start in range(0, n, self.batch_size):
            index = slice(start, start + self.batch_size)
            if order is not None:
                index = order[index]
            batch_images = images[index]
            if self.augment:
                batch_images = random_symmetry(batch_images, self.generator)
            inputs = {IMAGES_KEY: batch_images, REDSHIFT_KEY: redshift[index]}
            yield inputs, None if target is None else target[index]


def streaming_statistics(source, y: np.ndarray | None, block_size: int = DEFAULT_BLOCK_SIZE):
    """One pass over the file: per-band image mean/std, redshift and target arrays.

    Returns
    -------
    band_mean, band_std : ndarray of shape (n_bands,)
    redshift : ndarray of shape (n_rows,)
    y : ndarray of shape (n_rows,)
        ``log10(M500c / Msun)`` from the file, or the given ``y`` checked against it.
    """
    n_rows = len(source)
    if y is None and not source.has_target:
        message = (
            f"{source.path} holds no log10_m500c target: pass y to fit, or write the file "
            "with targets"
        )
        raise ValueError(message)
    given = None if y is None else check_target(y, n_rows)
    total = total_sq = 0.0
    redshift, target = [], []
    for start, stop in _blocks(n_rows, block_size):
        X, block_y = source.read(slice(start, stop))
        images = X[IMAGES_KEY].astype(np.float64)
        total = total + images.sum(axis=(0, 2, 3))
        total_sq = total_sq + np.square(images).sum(axis=(0, 2, 3))
        redshift.append(X[REDSHIFT_KEY])
        if given is None:
            target.append(block_y)
    count = n_rows * source.image_shape[1] * source.image_shape[2]
    mean = total / count
    std = np.sqrt(np.maximum(total_sq / count - mean**2, 0.0))
    targets = given if given is not None else np.concatenate(target)
    return mean, np.where(std > 0, std, 1.0), np.concatenate(redshift), targets
