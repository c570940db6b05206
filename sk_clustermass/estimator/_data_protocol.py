"""The one data protocol of the estimator: what ``fit``, ``predict`` and streaming read.

Wherever the clusters live (numpy arrays in memory, an HDF5 file read in blocks), the
estimator talks to them through two roles declared here, and nothing else:

:class:`ClusterSource`
    A set of clusters as ``fit`` and ``predict`` see it: row count, image shape,
    redshifts, targets and sample weights (per-row arrays held *beside* the images,
    never as keys of ``X``), one pass of per-band statistics, and the
    :class:`ClusterView` objects the network reads (the train/validation split for
    ``fit``, every row in order for ``predict``). Implemented by
    :class:`~._sources.ArraySource` and :class:`~._sources.HDF5Source`.
:class:`ClusterView`
    Rows the network reads in batches: ``len(view)`` and
    :meth:`~ClusterView.inference_batches`, the in-order pass of prediction and of the
    width calibration. Implemented by :class:`~._data.ClusterTensors` (training views
    in memory), :class:`~._inference.ArrayBatches` (the prediction view of arrays) and
    :class:`~._streaming.StreamingClusters` (views of an HDF5 file).

Every view yields :class:`Batch` objects: skorch's ``(inputs, target)`` pair, with
``inputs = {"images", "redshift"[, "exposure"]}`` (what the module's ``forward``
takes; a training view whose images are already standardised adds
``STANDARDISED_KEY``) and the rows' loss weights in :attr:`Batch.weight`, beside the pair: the
network's inputs never carry them, and skorch's code and callbacks unpack a batch as
the 2-tuple they expect.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from .._utils import BandSummary

__all__ = ["STANDARDISED_KEY", "Batch", "ClusterSource", "ClusterView"]

#: Set (to True) in a batch's inputs when its images are already the network's
#: standardised input (training views prepared by :mod:`._standardised`); the net
#: passes it to the module as ``standardised=True``.
STANDARDISED_KEY = "standardised"


class Batch(tuple):
    """One batch: ``(inputs, target)`` as skorch unpacks it, and the rows' loss weights.

    Parameters
    ----------
    inputs : dict of str to torch.Tensor
        ``"images"`` (batch, n_bands, height, width), ``"redshift"`` (batch,) and, for
        a network that uses it, ``"exposure"`` (batch,) in s.
    target : torch.Tensor of shape (batch,) or None
        Standardised ``log10(M500c / Msun)``; None for prediction.
    weight : torch.Tensor of shape (batch,) or None, default=None
        Loss weights of the rows (mean 1 over the data set); None for an unweighted fit.

    Examples
    --------
    >>> import torch
    >>> batch = Batch({"images": torch.zeros(2, 1, 4, 4)}, torch.zeros(2), torch.ones(2))
    >>> inputs, target = batch
    >>> sorted(inputs), batch.weight.tolist()
    (['images'], [1.0, 1.0])
    """

    weight: torch.Tensor | None

    def __new__(cls, inputs: dict, target: torch.Tensor | None,
                weight: torch.Tensor | None = None) -> Batch:
        batch = super().__new__(cls, (inputs, target))
        batch.weight = weight
        return batch

    def __getnewargs__(self) -> tuple:
        return (*self, self.weight)


@runtime_checkable
class ClusterView(Protocol):
    """Rows of a :class:`ClusterSource` that the network reads in batches.

    Training views are also what skorch's batch iterator (the source's ``iterator``)
    is built over; every view can be read in order for prediction.
    """

    def __len__(self) -> int:
        """Number of rows in the view."""

    def inference_batches(self, batch_size: int, device: Any) -> Iterable[Batch]:
        """The view's rows in order, in :class:`Batch` es of at most ``batch_size`` rows.

        Parameters
        ----------
        batch_size : int
        device : str or torch.device
            Where the network runs: an implementation may move or stage the data
            for it (batches may already be on the device).
        """


@runtime_checkable
class ClusterSource(Protocol):
    """What ``fit`` and ``predict`` read from a set of clusters.

    Pixels are checked in the passes a source makes anyway: :meth:`summary` (``fit``)
    and the prediction pass over :meth:`view` (``predict``); :meth:`check_pixels` is
    only called on the error path, to build the detailed message.

    Attributes
    ----------
    n_rows : int
    image_shape : tuple of int
        ``(n_bands, height, width)``.
    redshift : ndarray of shape (n_rows,)
    target : ndarray of shape (n_rows,) or None
        ``log10(M500c / Msun)``; None for prediction.
    weight : ndarray of shape (n_rows,) or None
        Per-cluster loss weights (as given, >= 0); None for an unweighted fit.
    exposure : ndarray of shape (n_rows,) or None
        Exposure times in s, float32; None unless the network uses them.
    iterator : type
        The batch iterator skorch builds over this source's training views; it
        yields :class:`Batch` objects.
    """

    n_rows: int
    image_shape: tuple[int, int, int]
    redshift: np.ndarray
    target: np.ndarray | None
    weight: np.ndarray | None
    exposure: np.ndarray | None
    iterator: type

    def summary(self) -> BandSummary:
        """Per-band statistics and per-cluster band-total ranges of the images.

        Raises the input error (as :func:`~sk_clustermass.as_inputs` words it) if a
        pixel is NaN or infinite.
        """

    def split(
        self, fraction: float, seed: int, target: np.ndarray, weight: np.ndarray | None,
        device: str,
    ) -> tuple[ClusterView, ClusterView | None]:
        """Training view and validation view (None if ``fraction == 0``)."""

    def view(self) -> ClusterView:
        """Every row, without target, in order (for prediction)."""

    def check_pixels(self) -> None:
        """Raise the input error for NaN or infinite pixels (a pass found one)."""

    def iterator_params(self, device: str) -> dict:
        """Extra skorch ``iterator_train__*``/``iterator_valid__*`` settings."""

    def fingerprint_arrays(self) -> list[np.ndarray]:
        """The arrays that name this fit's checkpoints."""
