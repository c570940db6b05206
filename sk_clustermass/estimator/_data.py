"""In-memory tensors and batch iteration for training and inference.

skorch's default path indexes one sample at a time and collates: for image cubes that
costs more than the convolutions. Here the whole data set is held once as float32
tensors (sharing memory with the user's numpy arrays where possible), train and
validation parts are index views of the same tensors, and a batch is one
``index_select`` (or one slice when not shuffled).

A batch is a :class:`~._data_protocol.Batch`: ``(inputs, target)`` with ``inputs =
{'images', 'redshift'}`` (plus ``'exposure'`` when the network uses it, see
``use_exposure``) and, when the fit is weighted, the rows' loss weights in
``batch.weight``, beside the inputs: weights travel with their rows through every
shuffle and split exactly like the target.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from .._inputs import EXPOSURE_KEY, IMAGES_KEY, REDSHIFT_KEY
from ._data_protocol import STANDARDISED_KEY, Batch, ClusterView

__all__ = [
    "BatchIterator",
    "ClusterTensors",
    "gather_rows",
    "random_symmetry",
    "shuffled_split",
]

class ClusterTensors(Dataset, ClusterView):
    """Image, redshift, (exposure) and target tensors, optionally restricted to some rows.

    A :class:`~._data_protocol.ClusterView`: the training views of arrays in memory.

    Parameters
    ----------
    images : torch.Tensor of shape (n_samples, n_bands, height, width)
    redshift : torch.Tensor of shape (n_samples,)
    target : torch.Tensor of shape (n_samples,), optional
    rows : torch.Tensor of int64, optional
        Rows of the tensors that belong to this view; all rows if omitted.
    weight : torch.Tensor of shape (n_samples,), optional
        Per-row weights of the loss; batches carry them in ``batch.weight``.
    exposure : torch.Tensor of shape (n_samples,), optional
        Exposure times in s, for a network that uses them; batches carry them under
        ``EXPOSURE_KEY``.
    standardised : bool, default=False
        Whether ``images`` already hold the network's standardised input (see
        :mod:`._standardised`); batches then say so under ``STANDARDISED_KEY``.
    """

    def __init__(
        self,
        images: torch.Tensor,
        redshift: torch.Tensor,
        target: torch.Tensor | None = None,
        rows: torch.Tensor | None = None,
        weight: torch.Tensor | None = None,
        exposure: torch.Tensor | None = None,
        standardised: bool = False,
    ) -> None:
        self.images = images
        self.redshift = redshift
        self.target = target
        self.rows = rows
        self.weight = weight
        self.exposure = exposure
        self.standardised = standardised

    @classmethod
    def from_arrays(
        cls,
        images: np.ndarray,
        redshift: np.ndarray,
        target: np.ndarray | None = None,
        weight: np.ndarray | None = None,
        exposure: np.ndarray | None = None,
    ) -> ClusterTensors:
        """Wrap float32 numpy arrays without copying them."""

        def tensor(array: np.ndarray | None) -> torch.Tensor | None:
            if array is None:
                return None
            return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))

        return cls(tensor(images), tensor(redshift), tensor(target), weight=tensor(weight),
                   exposure=tensor(exposure))

    def __len__(self) -> int:
        return len(self.images) if self.rows is None else len(self.rows)

    def __getitem__(self, index: int):
        return self.take(torch.as_tensor([index]))

    def subset(self, rows: torch.Tensor) -> ClusterTensors:
        """A view on some of this view's rows (no data copied)."""
        base_rows = rows if self.rows is None else self.rows[rows]
        return ClusterTensors(self.images, self.redshift, self.target, base_rows, self.weight,
                              self.exposure, self.standardised)

    def to(self, device: torch.device | str) -> ClusterTensors:
        """Move the tensors to ``device`` once (no-op when already there)."""
        move = (lambda t: None if t is None else t.to(device))  # noqa: E731
        return ClusterTensors(
            move(self.images), move(self.redshift), move(self.target), move(self.rows),
            move(self.weight), move(self.exposure), self.standardised,
        )

    def inference_batches(self, batch_size: int, device: Any) -> BatchIterator:
        """In-order batches for prediction, the data moved to a GPU at once if they fit.

        The move is one copy when the images take less than a third of the free
        device memory; otherwise batches are moved one at a time by the caller.
        """
        dataset = self
        if str(device) != "cpu":
            free_bytes, _ = torch.cuda.mem_get_info(torch.device(device))
            if self.images.numel() * self.images.element_size() * 3 < free_bytes:
                dataset = self.to(device)
        return BatchIterator(dataset, batch_size)

    def take(self, index: torch.Tensor | slice) -> Batch:
        """Return the batch ``({'images', 'redshift'[, 'exposure']}, target)`` at ``index``,
        with the rows' loss weights (if any) in ``batch.weight``.

        ``index`` is a slice or an int64 tensor of positions within this view.
        """
        if self.rows is not None:
            index = self.rows[index]
        if isinstance(index, slice):
            pick = (lambda t: None if t is None else t[index])  # noqa: E731
        else:
            index = index.to(self.images.device)
            pick = (lambda t: None if t is None else gather_rows(t, index))  # noqa: E731
        inputs = {IMAGES_KEY: pick(self.images), REDSHIFT_KEY: pick(self.redshift)}
        if self.exposure is not None:
            inputs[EXPOSURE_KEY] = pick(self.exposure)
        if self.standardised:
            inputs[STANDARDISED_KEY] = True
        return Batch(inputs, pick(self.target), pick(self.weight))


def gather_rows(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``values.index_select(0, index)``, keeping a channels_last image tensor channels_last.

    ``index_select`` returns a contiguous (NCHW) result, which for channels_last
    images means a strided gather (6 times slower, measured) and a layout copy back.
    Gathering the rows of the ``(n, height, width, n_bands)`` storage keeps each row
    one contiguous block.
    """
    if (values.dim() == 4 and not values.is_contiguous()
            and values.is_contiguous(memory_format=torch.channels_last)):
        return values.permute(0, 2, 3, 1).index_select(0, index).permute(0, 3, 1, 2)
    return values.index_select(0, index)


def random_symmetry(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Apply one of the 8 symmetries of the square, drawn per cluster.

    Cluster images have no preferred orientation: horizontal flip, vertical flip and
    transpose (square images only), each drawn independently per cluster, generate
    the 8 flips and 90-degree rotations.

    Parameters
    ----------
    images : torch.Tensor of shape (batch, n_bands, height, width)
    generator : torch.Generator
        Source of randomness (seeded by the estimator's ``random_state``).

    Returns
    -------
    images : torch.Tensor
        A new tensor of the same shape.
    """
    n = images.shape[0]
    draws = torch.rand((3, n, 1, 1, 1), generator=generator, device=generator.device)
    draws = draws.to(images.device) < 0.5
    out = torch.where(draws[0], images.flip(-1), images)
    out = torch.where(draws[1], out.flip(-2), out)
    if images.shape[-1] == images.shape[-2]:
        out = torch.where(draws[2], out.transpose(-1, -2), out)
    return out


class BatchIterator:
    """Iterate over a :class:`ClusterTensors` view in batches.

    Parameters
    ----------
    dataset : ClusterTensors
    batch_size : int
    shuffle : bool, default=False
        Draw a new permutation every epoch from ``generator``.
    generator : torch.Generator, optional
        Seeded source of the permutations and augmentations.
    augment : bool, default=False
        Apply a random symmetry of the square to every cluster of every batch.
    """

    def __init__(
        self,
        dataset: ClusterTensors,
        batch_size: int,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
        augment: bool = False,
    ) -> None:
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.generator = generator
        self.augment = augment

    def __len__(self) -> int:
        return -(-len(self.dataset) // self.batch_size)

    def __iter__(self) -> Iterator[Batch]:
        n = len(self.dataset)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else None
        for start in range(0, n, self.batch_size):
            stop = min(start + self.batch_size, n)
            index = slice(start, stop) if order is None else order[start:stop]
            batch = self.dataset.take(index)
            if self.augment:
                batch[0][IMAGES_KEY] = random_symmetry(batch[0][IMAGES_KEY], self.generator)
            yield batch


def shuffled_split(
    n_samples: int, validation_fraction: float, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Shuffled, seeded split of ``range(n_samples)`` into train and validation rows.

    Both parts are returned sorted, so that un-shuffled passes read memory in order.
    """
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(n_samples, generator=generator)
    n_valid = max(1, round(validation_fraction * n_samples))
    if n_valid >= n_samples:
        message = (
            f"validation_fraction={validation_fraction} leaves no training data for "
            f"{n_samples} samples; lower it or pass more clusters."
        )
        raise ValueError(message)
    return order[n_valid:].sort().values, order[:n_valid].sort().values
