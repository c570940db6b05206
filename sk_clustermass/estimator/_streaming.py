"""Out-of-core training and inference from an HDF5 file larger than memory.

The file (our format, see :mod:`sk_clustermass.datasets`) is cut into blocks of
consecutive rows. An epoch visits the blocks in a fresh random order, reads
``buffer_blocks`` of them at a time in one sequential read each, shuffles the rows
inside the buffer and yields batches. Memory is bounded by two buffers, whatever the
size of the file.

Reading overlaps with training only where it does not compete with it: a background
thread reads the next buffer when the batches go to a GPU, or when torch's threads
leave a CPU core free. When torch already uses every core (the usual CPU setting),
a reading thread would steal cycles from its OpenMP workers (which spin while they
wait for one another) and cost more than it hides, so the buffers are read in the
training thread between steps instead. Either way a cluster costs about 0.065 ms to
read from a page-cached file written with ``compression="bitshuffle"`` (0.28 ms with
the default ``gzip``).
The buffers are allocated once per data view and refilled (fresh pages for every
buffer would cost more than the read itself).

The validation split is made of whole blocks, drawn at random (so a catalogue sorted
by mass is still split fairly).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import torch

from .._inputs import EXPOSURE_KEY, IMAGES_KEY, REDSHIFT_KEY
from ._data import random_symmetry
from ._data_protocol import Batch, ClusterView
from ._inference import pinned_transfer

__all__ = [
    "StreamingBatchIterator",
    "StreamingClusters",
    "block_split",
    "reading_thread",
    "spare_cpu_core",
]

DEFAULT_BLOCK_SIZE = 512


def spare_cpu_core() -> bool:
    """Whether this process may use more CPU cores than torch's intra-op threads."""
    try:
        n_cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        n_cores = os.cpu_count() or 1
    return n_cores > torch.get_num_threads()


def reading_thread(device: Any) -> bool:
    """Whether to read the next buffer in a background thread for this device.

    Yes on a GPU (the CPU is free while it trains) and where torch's threads leave a
    CPU core free; no when torch already uses every core.
    """
    return str(device) != "cpu" or spare_cpu_core()


def _blocks(n_rows: int, block_size: int) -> list[tuple[int, int]]:
    return [(start, min(start + block_size, n_rows)) for start in range(0, n_rows, block_size)]


def block_split(
    n_rows: int, validation_fraction: float, seed: int, block_size: int = DEFAULT_BLOCK_SIZE
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Split row blocks into training and validation blocks (seeded, shuffled).

    The validation part holds exactly ``round(validation_fraction * n_rows)`` rows (at
    least 1), as the in-memory split: the file is cut into about 20 blocks (of at most
    ``block_size`` rows), shuffled, and blocks go to validation until that count is
    reached, the last one cut to fit.

    Returns
    -------
    train_blocks, valid_blocks : list of (start, stop)
        Sorted row ranges; ``valid_blocks`` is empty for ``validation_fraction=0``.

    Raises
    ------
    ValueError
        If the validation part would leave no training row.

    Examples
    --------
    >>> train, valid = block_split(65, 0.1, seed=0)
    >>> sum(stop - start for start, stop in valid)
    6
    """
    if validation_fraction == 0:
        return _blocks(n_rows, block_size), []
    n_valid = max(1, round(validation_fraction * n_rows))
    if n_valid >= n_rows:
        message = (f"validation_fraction={validation_fraction} leaves no training data for "
                   f"{n_rows} samples; lower it or pass more clusters.")
        raise ValueError(message)
    blocks = _blocks(n_rows, min(block_size, max(1, n_rows // 20)))
    order = np.random.default_rng(seed).permutation(len(blocks))
    valid, train, missing = [], [], n_valid
    for index in order:
        start, stop = blocks[index]
        take = min(missing, stop - start)
        if take:
            valid.append((start, start + take))
        if start + take < stop:
            train.append((start + take, stop))
        missing -= take
    return sorted(train), sorted(valid)


class StreamingClusters(torch.utils.data.Dataset, ClusterView):
    """Blocks of rows of an HDF5 cluster file, read on demand.

    A :class:`~._data_protocol.ClusterView`: the views of a file, for training and
    prediction.

    Parameters
    ----------
    source : HDF5ClusterDataset
    blocks : list of (start, stop)
        Row ranges belonging to this view.
    target : ndarray of shape (n_rows,), optional
        Standardised targets for every row of the file; None for inference.
    weight : ndarray of shape (n_rows,), optional
        Loss weights for every row of the file; batches carry them in ``batch.weight``.
    exposure : ndarray of shape (n_rows,), optional
        Exposure times (s) of every row of the file, for a network that uses them;
        batches carry them under ``EXPOSURE_KEY``.
    """

    def __init__(
        self,
        source,
        blocks: list[tuple[int, int]],
        target: np.ndarray | None,
        weight: np.ndarray | None = None,
        exposure: np.ndarray | None = None,
    ) -> None:
        self.source = source
        self.blocks = blocks
        self.target = target
        self.weight = weight
        self.exposure = exposure
        self._buffers: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return sum(stop - start for start, stop in self.blocks)

    def __getitem__(self, index: int):  # pragma: no cover - batches come from read_blocks
        raise TypeError("StreamingClusters is read in blocks by StreamingBatchIterator")

    def _buffer(self, slot: int, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
        """Buffer ``slot``, grown to hold ``n_rows`` clusters; kept for the next reads.

        Reusing the same memory matters: filling freshly allocated pages costs more
        than decompressing the data into them.
        """
        images, redshift = self._buffers.get(slot, (None, None))
        if images is None or len(images) < n_rows:
            images = np.empty((n_rows, *self.source.image_shape), dtype=np.float32)
            redshift = np.empty(n_rows, dtype=np.float32)
            self._buffers[slot] = images, redshift
        return images[:n_rows], redshift[:n_rows]

    def release(self) -> None:
        """Free the read buffers (they are allocated again on the next read)."""
        self._buffers.clear()

    def inference_batches(self, batch_size: int, device: Any) -> StreamingBatchIterator:
        """In-order batches for prediction, read ahead in a thread where that pays, in
        page-locked memory for a CUDA device (so that their copies are asynchronous)."""
        return StreamingBatchIterator(self, batch_size, prefetch=reading_thread(device),
                                      pin_memory=pinned_transfer(device))

    def read_blocks(self, block_ids, slot: int = 0) -> tuple[torch.Tensor, ...]:
        """Read the given blocks into buffer ``slot`` and return tensors viewing it.

        Returns ``(images, redshift, target, weight, exposure)``, the last three None
        when the view has none. The images and redshifts view the buffer, and the next
        read into the same slot overwrites them: the batch iterator copies every batch
        out before that.
        """
        ranges = [self.blocks[block] for block in block_ids]
        images, redshift = self._buffer(slot, sum(stop - start for start, stop in ranges))
        offset = 0
        for start, stop in ranges:
            end = offset + stop - start
            self.source.read_into(start, images[offset:end], redshift[offset:end])
            offset = end

        def rows_of(per_row: np.ndarray | None) -> torch.Tensor | None:
            if per_row is None:
                return None
            return torch.from_numpy(np.concatenate([per_row[start:stop] for start, stop in ranges]))

        return (
            torch.from_numpy(images), torch.from_numpy(redshift), rows_of(self.target),
            rows_of(self.weight), rows_of(self.exposure),
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
    prefetch : bool or None, default=None
        Read the next buffer in a background thread while the current one is used.
        None: only if torch's threads leave a CPU core free (:func:`spare_cpu_core`);
        the estimator passes :func:`reading_thread` of its device.
    pin_memory : bool, default=False
        Copy in-order batches out of the buffer into page-locked memory (instead of
        ordinary memory), for asynchronous copies to a CUDA device.
    """

    def __init__(
        self,
        dataset: StreamingClusters,
        batch_size: int,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
        augment: bool = False,
        buffer_blocks: int = 4,
        prefetch: bool | None = None,
        pin_memory: bool = False,
    ) -> None:
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.generator = generator
        self.augment = augment
        self.buffer_blocks = buffer_blocks
        self.prefetch = prefetch
        self.pin_memory = pin_memory

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

    def __iter__(self) -> Iterator[Batch]:
        buffers = self._buffers()
        if not buffers:
            return
        prefetch = spare_cpu_core() if self.prefetch is None else self.prefetch
        if not prefetch:
            for buffer in buffers:
                yield from self._batches(*self.dataset.read_blocks(buffer))
            return
        # two buffers: the thread fills one while the batches come from the other
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hdf5-prefetch") as pool:
            pending = pool.submit(self.dataset.read_blocks, buffers[0], 0)
            for position in range(len(buffers)):
                rows = pending.result()
                if position + 1 < len(buffers):
                    slot = (position + 1) % 2
                    pending = pool.submit(self.dataset.read_blocks, buffers[position + 1], slot)
                yield from self._batches(*rows)

    def _batches(self, images, redshift, target, weight, exposure):
        n = len(images)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else None
        for start in range(0, n, self.batch_size):
            index = slice(start, start + self.batch_size)
            if order is not None:
                index = order[index]  # gathering copies the rows out of the buffer
                batch_images, batch_redshift = images[index], redshift[index]
            else:  # slices view the buffer, which the next read overwrites: copy them out
                copy = torch.Tensor.pin_memory if self.pin_memory else torch.Tensor.clone
                batch_images, batch_redshift = copy(images[index]), copy(redshift[index])
            if self.augment:
                batch_images = random_symmetry(batch_images, self.generator)
            inputs = {IMAGES_KEY: batch_images, REDSHIFT_KEY: batch_redshift}
            if exposure is not None:  # a copy already: concatenated from the file's column
                batch_exposure = exposure[index]
                if order is None and self.pin_memory:  # an asynchronous copy, as above
                    batch_exposure = batch_exposure.pin_memory()
                inputs[EXPOSURE_KEY] = batch_exposure
            yield Batch(inputs, None if target is None else target[index],
                        None if weight is None else weight[index])
