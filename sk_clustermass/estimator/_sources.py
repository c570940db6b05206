"""The two data sources of ``fit`` and ``predict``: arrays in memory or an HDF5 file.

``fit`` needs the same few things from its clusters wherever they live: how many rows
and of what image shape, the redshifts, targets and weights, one pass of per-band
statistics (:class:`~sk_clustermass._utils.BandSummary`), a train/validation split
into dataset views, and the batch iterator that reads those views. The
:class:`~._data_protocol.ClusterSource` protocol declares them; :func:`as_source`
picks the implementation once, from what the user passed, and neither ``fit`` nor
``predict`` branches on it again.

Pixels are checked once per call, in a pass the source makes anyway: the statistics
pass of ``fit`` (:meth:`ArraySource.summary`) and the prediction pass of ``predict``
(:class:`~._inference.InputScan`); the detailed error (how many values, the first
cluster holding one) is computed from the array at hand only when a pass found one.

- :class:`ArraySource`: ``X`` in memory. Training views are :class:`ClusterTensors`
  sharing the user's float32 arrays; the split is a shuffled, seeded split of the rows.
  The prediction view is :class:`~._inference.ArrayBatches`, which converts the user's
  arrays batch by batch (so :func:`prediction_source` leaves them as they are and
  leaves the pixel check to the prediction pass).
- :class:`HDF5Source`: a file in our HDF5 format, possibly larger than memory. Views
  are :class:`StreamingClusters` reading blocks into buffers allocated once per view;
  the split is made of whole blocks; whether a thread reads ahead follows
  :func:`reading_thread` of the device.

Targets and weights travel with their rows in both: they are per-row arrays (small
next to the images) handed to the views, which cut them exactly like the images. So
do the exposures, when the network uses them (``use_exposure``); otherwise a source
holds none, even if ``X`` has them, and its batches are exactly those of a source
built before exposures existed.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from .._inputs import check_pixels, check_target, unchecked_inputs
from .._utils import BandMoments, BandSummary, band_summary, check_vector
from ._data import BatchIterator, ClusterTensors, shuffled_split
from ._data_protocol import ClusterSource
from ._inference import ArrayBatches
from ._streaming import (
    DEFAULT_BLOCK_SIZE,
    StreamingBatchIterator,
    StreamingClusters,
    block_split,
    reading_thread,
)

__all__ = [
    "ArraySource",
    "FixedSplit",
    "HDF5Source",
    "as_source",
    "check_sample_weight",
    "prediction_source",
]


class ArraySource(ClusterSource):
    """Clusters held in memory as numpy arrays (a :class:`~._data_protocol.ClusterSource`).

    Parameters
    ----------
    images : ndarray of shape (n_rows, n_bands, height, width)
        float32 for training; any real dtype and layout for prediction. Not checked
        for NaN or infinite pixels: :meth:`summary` and the prediction pass do that.
    redshift : ndarray of shape (n_rows,), float32
    target : ndarray of shape (n_rows,), optional
    weight : ndarray of shape (n_rows,), optional
    exposure : ndarray of shape (n_rows,), float32, optional
        Only for a network that uses the exposure.
    """

    iterator = BatchIterator

    def __init__(
        self,
        images: np.ndarray,
        redshift: np.ndarray,
        target: np.ndarray | None = None,
        weight: np.ndarray | None = None,
        exposure: np.ndarray | None = None,
    ) -> None:
        self.images = images
        self.redshift = redshift
        self.target = target
        self.weight = weight
        self.exposure = exposure
        self.n_rows = len(images)
        self.image_shape = tuple(images.shape[1:])

    def summary(self) -> BandSummary:
        """The band statistics; their pass over the images is also the pixel check."""
        with np.errstate(invalid="ignore", over="ignore"):  # judged just below
            summary = band_summary(self.images)
        if not (np.isfinite(summary.mean).all() and np.isfinite(summary.std).all()):
            self.check_pixels()  # the error path: count the bad values for the message
        return summary

    def split(self, fraction, seed, target, weight, device):
        data = ClusterTensors.from_arrays(self.images, self.redshift, target, weight,
                                          self.exposure)
        if device != "cpu":
            data = data.to(device)
        if fraction == 0:
            return data, None
        train_rows, valid_rows = shuffled_split(self.n_rows, fraction, seed)
        return data.subset(train_rows), data.subset(valid_rows)

    def view(self) -> ArrayBatches:
        return ArrayBatches(self.images, self.redshift, self.exposure)

    def check_pixels(self) -> None:
        check_pixels(self.images)

    def iterator_params(self, device: str) -> dict:
        return {}

    def fingerprint_arrays(self) -> list[np.ndarray]:
        arrays = [self.images, self.redshift, self.target]
        arrays = arrays if self.weight is None else [*arrays, self.weight]
        return arrays if self.exposure is None else [*arrays, self.exposure]


class HDF5Source(ClusterSource):
    """Clusters in an HDF5 file of our format, read in blocks (out of core).

    A :class:`~._data_protocol.ClusterSource`; the file's reader refuses a block
    holding a NaN or infinite pixel as it reads it.

    Parameters
    ----------
    dataset : HDF5ClusterDataset
    target : ndarray of shape (n_rows,), optional
    weight : ndarray of shape (n_rows,), optional
    exposure : ndarray of shape (n_rows,), float32, optional
        The file's exposure column, only for a network that uses it.
    """

    iterator = StreamingBatchIterator

    def __init__(self, dataset, target: np.ndarray | None = None,
                 weight: np.ndarray | None = None,
                 exposure: np.ndarray | None = None) -> None:
        self.dataset = dataset
        self.target = target
        self.weight = weight
        self.exposure = exposure
        self.n_rows = len(dataset)
        self.image_shape = tuple(dataset.image_shape)

    @cached_property
    def _scan(self) -> tuple[BandSummary, np.ndarray]:
        """One pass over the file: band statistics and the redshift column."""
        moments = BandMoments(self.image_shape[0])
        redshift = np.empty(self.n_rows, dtype=np.float32)
        buffer = np.empty((min(DEFAULT_BLOCK_SIZE, self.n_rows), *self.image_shape),
                          dtype=np.float32)
        for start in range(0, self.n_rows, DEFAULT_BLOCK_SIZE):
            stop = min(start + DEFAULT_BLOCK_SIZE, self.n_rows)
            images = buffer[: stop - start]
            self.dataset.read_into(start, images, redshift[start:stop])
            moments.update(images)
        return moments.summary(), redshift

    @property
    def redshift(self) -> np.ndarray:
        return self._scan[1]

    def summary(self) -> BandSummary:
        return self._scan[0]

    def split(self, fraction, seed, target, weight, device):
        train_blocks, valid_blocks = block_split(self.n_rows, fraction, seed)
        train = StreamingClusters(self.dataset, train_blocks, target, weight, self.exposure)
        if not valid_blocks:
            return train, None
        return train, StreamingClusters(self.dataset, valid_blocks, target, weight,
                                        self.exposure)

    def view(self) -> StreamingClusters:
        blocks = block_split(self.n_rows, 0.0, 0)[0]
        return StreamingClusters(self.dataset, blocks, None, exposure=self.exposure)

    def check_pixels(self) -> None:
        """Nothing left to check: the reader refuses non-finite blocks as it reads them."""

    def iterator_params(self, device: str) -> dict:
        prefetch = reading_thread(device)
        return {"iterator_train__prefetch": prefetch, "iterator_valid__prefetch": prefetch}

    def fingerprint_arrays(self) -> list:
        # The file's images are hashed as they are read (fit_fingerprint reads the
        # dataset block by block), so other images never share a checkpoint.
        arrays = [self.dataset, self.redshift, self.target]
        arrays = arrays if self.weight is None else [*arrays, self.weight]
        return arrays if self.exposure is None else [*arrays, self.exposure]


def _missing_exposure(where: str, training: bool) -> ValueError:
    """The error for a network that uses the exposure and data that have none."""
    doing = "fit with use_exposure=True needs" if training else (
        "this model was fitted with use_exposure=True: predict needs")
    otherwise = "fit with use_exposure=False" if training else (
        "use a model fitted with use_exposure=False")
    message = (
        f"{doing} X['exposure'], the exposure time of every cluster in s, shape "
        f"(n_samples,); {where}. Pass exposure= to as_inputs (as_inputs(images, "
        f"redshift, exposure=...)) or write it into the HDF5 file, or {otherwise}."
    )
    return ValueError(message)


def _hdf5_dataset(X: Any):
    """The :class:`HDF5ClusterDataset` behind ``X`` if it is one or a path, else None."""
    from ..io import HDF5ClusterDataset

    if isinstance(X, HDF5ClusterDataset):
        return X
    if isinstance(X, str | os.PathLike) and Path(X).suffix.lower() in (".h5", ".hdf5"):
        return HDF5ClusterDataset(X)
    return None


def check_sample_weight(sample_weight: Any, n_rows: int) -> np.ndarray:
    """``sample_weight`` as float64 of shape (n_rows,): finite, >= 0, not all zero."""
    weight = check_vector("sample_weight", sample_weight)
    if len(weight) != n_rows:
        message = (
            f"sample_weight has {len(weight)} values but X has {n_rows} clusters; pass "
            "one weight per cluster"
        )
        raise ValueError(message)
    if (weight < 0).any():
        n_negative = int((weight < 0).sum())
        message = f"sample_weight has {n_negative} negative value(s); weights must be >= 0"
        raise ValueError(message)
    if not (weight > 0).any():
        message = "sample_weight is zero for every cluster; at least one must be > 0"
        raise ValueError(message)
    return weight


def _array_exposure(X: Any, exposure: np.ndarray | None, use_exposure: bool,
                    training: bool) -> np.ndarray | None:
    """``exposure`` (``X``'s, already checked) if the network uses it; refused if None."""
    if not use_exposure:
        return None
    if exposure is None:
        keys = sorted(map(str, X.keys()))
        raise _missing_exposure(f"X has the keys {keys}", training)
    return exposure


def _file_exposure(dataset: Any, use_exposure: bool, training: bool) -> np.ndarray | None:
    if not use_exposure:
        return None
    if not dataset.has_exposure:
        raise _missing_exposure(f"{str(dataset.path)!r} holds no /exposure dataset", training)
    return dataset.read_exposure()


def as_source(X: Any, y: Any = None, sample_weight: Any = None, *,
              training: bool = True, use_exposure: bool = False) -> ArraySource | HDF5Source:
    """The :class:`~._data_protocol.ClusterSource` for ``X`` (arrays, or an HDF5 file or path).

    The images' pixels are not read here: the source's :meth:`~ArraySource.summary`
    checks them in its pass.

    Parameters
    ----------
    X : SliceDict, dict, HDF5ClusterDataset or path to an HDF5 file
    y : array-like of shape (n_rows,), optional
        ``log10(M500c / Msun)``; in training, taken from the file if omitted there.
    sample_weight : array-like of shape (n_rows,), optional
    training : bool, default=True
        Whether a target is required.
    use_exposure : bool, default=False
        Whether the network reads the exposure: then ``X`` (or the file) must hold
        it; otherwise an exposure in ``X`` is ignored.

    Raises
    ------
    ValueError
        If ``use_exposure`` and ``X`` has no exposure, naming how to add it.
    """
    dataset = _hdf5_dataset(X)
    if dataset is None:
        images, redshift, exposure = unchecked_inputs(X)  # pixels: in summary()
        images = images.astype(np.float32, copy=False)
        exposure = _array_exposure(X, exposure, use_exposure, training)
        target = check_target(y, len(images)) if training else None
        weight = None
        if sample_weight is not None:
            weight = check_sample_weight(sample_weight, len(images))
        return ArraySource(images, redshift, target, weight, exposure)
    exposure = _file_exposure(dataset, use_exposure, training)
    if not training:
        return HDF5Source(dataset, exposure=exposure)
    if y is None and not dataset.has_target:
        message = (
            f"{dataset.path} holds no log10_m500c target: pass y to fit, or write the file "
            "with targets"
        )
        raise ValueError(message)
    target = dataset.read_target() if y is None else check_target(y, len(dataset))
    weight = None if sample_weight is None else check_sample_weight(sample_weight, len(dataset))
    return HDF5Source(dataset, target, weight, exposure)


def prediction_source(X: Any, *, use_exposure: bool = False) -> ArraySource | HDF5Source:
    """The :class:`~._data_protocol.ClusterSource` ``predict`` reads: ``X`` checked but
    for its pixels.

    In memory, the images keep their dtype and layout (see
    :func:`~sk_clustermass._inputs.unchecked_inputs`): the prediction pass converts them
    batch by batch and finds NaN or infinite pixels on the way, calling the source's
    ``check_pixels`` for the error. The redshifts and any exposures are checked here,
    as :func:`~sk_clustermass.as_inputs` checks them. An HDF5 file is read as in
    :func:`as_source`.

    Parameters
    ----------
    X : SliceDict, dict, HDF5ClusterDataset or path to an HDF5 file
    use_exposure : bool, default=False
        Whether the network reads the exposure: then ``X`` (or the file) must hold
        it; otherwise an exposure in ``X`` is checked but not used.

    Raises
    ------
    ValueError
        If ``use_exposure`` and ``X`` has no exposure, naming how to add it.
    """
    dataset = _hdf5_dataset(X)
    if dataset is not None:
        return HDF5Source(dataset, exposure=_file_exposure(dataset, use_exposure, False))
    images, redshift, exposure = unchecked_inputs(X)
    exposure = _array_exposure(X, exposure, use_exposure, training=False)
    return ArraySource(images, redshift, exposure=exposure)


class FixedSplit:
    """skorch ``train_split`` returning the training view and a fixed validation view."""

    def __init__(self, valid: Any) -> None:
        self.valid = valid

    def __call__(self, dataset, y=None, **kwargs):
        return dataset, self.valid
