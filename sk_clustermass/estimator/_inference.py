"""The prediction pass: the user's arrays to device batches, checked on the way.

``predict`` reads its input once. :class:`ArrayBatches` cuts the arrays into float32
batches in order without copying the whole array: a batch of a float32, C-contiguous
array is a view of it, and any other dtype or layout is converted one batch at a time
(so a float64 cube never gets a full-size float32 twin); the redshifts and, for a
network that uses them, the exposures come along in the same batches. On a CUDA device
the batches go through two page-locked (pinned) host buffers and are copied with
``non_blocking=True`` (:class:`PinnedStaging`): the host fills the next buffer while the
device computes on the current batch.

:class:`InputScan` looks at every batch where it already is (on the device, before the
network): the per-band total of each cluster, reduced to its extremes, and the redshift
range, for the out-of-domain warning. A NaN or infinite pixel makes its band total
non-finite, so the same sums are the pixel check. On the CPU a bad batch raises at
once; on a GPU the extremes stay on the device and are read back once, after the last
batch, so the check never stalls the device's queue. The error is then the one
:func:`~sk_clustermass._inputs.as_inputs` gives, counted over the whole input.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._inputs import EXPOSURE_KEY, IMAGES_KEY, REDSHIFT_KEY
from .._utils import TOTAL_TEST_RTOL, constant_cubes
from ._data_protocol import Batch, ClusterView

__all__ = [
    "CPU_CHUNK_BYTES",
    "ArrayBatches",
    "InputRanges",
    "InputScan",
    "PinnedStaging",
    "band_totals",
    "cpu_chunk_size",
    "pinned_transfer",
]

#: Host buffers a pinned transfer cycles through: one filled while the other is copied.
PINNED_SLOTS = 2

#: Size aimed at for the largest activation of one forward pass in CPU inference.
CPU_CHUNK_BYTES = 16 * 2**20


def cpu_chunk_size(image_shape: tuple[int, ...], module: torch.nn.Module) -> int:
    """Clusters per forward pass in CPU inference, whatever the batch read.

    Every pass over a batch (the pixel check, the standardisation, each layer) reads
    what the previous one wrote; while a batch's largest activation stays within the
    CPU's caches (:data:`CPU_CHUNK_BYTES`, 16 MiB: 83 clusters of the default network
    on 50x50 pixels), those reads do not go to memory. Larger batches ran up to 1.7
    times slower per cluster (measured with ``predict`` at batch 1024 against 64), so
    on the CPU each batch is run in equal chunks of at most this size (a batch of 256
    in four chunks of 64). On a GPU the batch is run whole.

    Parameters
    ----------
    image_shape : tuple of int
        ``(n, n_bands, height, width)`` of a batch (``n`` is ignored).
    module : torch.nn.Module
        The network; its widest convolution sets the size of an activation.

    Returns
    -------
    int
        At least 1.

    Examples
    --------
    >>> import torch
    >>> cpu_chunk_size((256, 10, 50, 50), torch.nn.Conv2d(10, 20, 2))
    83
    """
    channels = [layer.out_channels for layer in module.modules()
                if isinstance(layer, torch.nn.Conv2d)]
    widest = max([image_shape[1], *channels])
    per_cluster = widest * image_shape[2] * image_shape[3] * 4  # float32 bytes
    return max(1, CPU_CHUNK_BYTES // per_cluster)


def pinned_transfer(device: Any) -> bool:
    """Whether batches go to ``device`` through pinned host buffers: on CUDA devices only.

    Parameters
    ----------
    device : str or torch.device

    Returns
    -------
    bool

    Examples
    --------
    >>> pinned_transfer("cpu"), pinned_transfer("cuda:0")
    (False, True)
    """
    return torch.device(device).type == "cuda"


def _pinned_empty(shape: tuple[int, ...]) -> torch.Tensor:
    """A page-locked float32 host buffer (needs a CUDA runtime)."""
    return torch.empty(shape, dtype=torch.float32, pin_memory=True)


def _copy_done_event() -> Any:
    """An event to record on the current CUDA stream after a copy."""
    return torch.cuda.Event()


class PinnedStaging:
    """Page-locked host buffers through which batches are copied to a CUDA device.

    A batch is converted to float32 while it is copied into a free buffer (one pass over
    its memory, whatever its dtype and layout) and sent with ``non_blocking=True``; so
    are its per-cluster columns (the redshift, and the exposure where the network uses
    it). A buffer is refilled only once the event recorded after its last copy has
    completed, so the host never overwrites data still being read by the device.

    Parameters
    ----------
    device : str or torch.device
        A CUDA device.
    batch_shape : tuple of int
        ``(batch_size, n_bands, height, width)``: the largest batch.
    n_slots : int, default=2
        Buffers to cycle through.
    """

    def __init__(self, device: Any, batch_shape: tuple[int, ...],
                 n_slots: int = PINNED_SLOTS) -> None:
        self.device = torch.device(device)
        self._batch_shape = tuple(batch_shape)
        self._images = [_pinned_empty(self._batch_shape) for _ in range(n_slots)]
        # per slot, one buffer per column (redshift, exposure), made at first use
        self._columns: list[list[torch.Tensor]] = [[] for _ in range(n_slots)]
        self._events: list[Any] = [None] * n_slots
        self._next = 0

    def send(self, images: np.ndarray, *columns: np.ndarray) -> tuple[torch.Tensor, ...]:
        """Start copying one batch to the device; returns the device tensors.

        Parameters
        ----------
        images : ndarray of shape (n, n_bands, height, width), any real dtype
        *columns : ndarray of shape (n,)
            The batch's per-cluster values: the redshift, then the exposure if the
            network uses it.

        Returns
        -------
        images, *columns : torch.Tensor
            float32, on the device, in the order given (their copies may still be in
            flight: use them on the current stream).
        """
        slot = self._next
        self._next = (slot + 1) % len(self._images)
        if self._events[slot] is not None:
            self._events[slot].synchronize()  # the copy that last read this buffer is done
        buffers = self._columns[slot]
        while len(buffers) < len(columns):
            buffers.append(_pinned_empty(self._batch_shape[:1]))
        n_rows = len(images)
        host = [self._images[slot][:n_rows], *(buffer[:n_rows] for buffer in buffers)]
        for target, values in zip(host, (images, *columns)):
            np.copyto(target.numpy(), values, casting="same_kind")
        on_device = tuple(tensor.to(self.device, non_blocking=True)
                          for tensor in host[: 1 + len(columns)])
        event = _copy_done_event()
        event.record()
        self._events[slot] = event
        return on_device


def _float32_tensor(array: np.ndarray) -> torch.Tensor:
    """A float32 C-contiguous tensor of ``array``: a view when it already is one."""
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))


class ArrayBatches(ClusterView):
    """In-order float32 batches of in-memory arrays, for prediction.

    A :class:`~._data_protocol.ClusterView`: the prediction view of arrays in memory.

    Parameters
    ----------
    images : ndarray of shape (n_samples, n_bands, height, width)
        Any real dtype and memory layout; converted batch by batch.
    redshift : ndarray of shape (n_samples,)
    exposure : ndarray of shape (n_samples,), optional
        Exposure times in s, only for a network that uses them; batches then carry
        them under ``EXPOSURE_KEY``.
    """

    def __init__(self, images: np.ndarray, redshift: np.ndarray,
                 exposure: np.ndarray | None = None) -> None:
        self.images = images
        self.redshift = redshift
        self.exposure = exposure

    def __len__(self) -> int:
        return len(self.images)

    def backing_arrays(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(images, redshift)`` if the CPU batches' images are views of these arrays
        (float32, C-contiguous images), else None: an :class:`InputScan` may then read
        the batches' rows from them later (``rows_of``)."""
        if self.images.dtype == np.float32 and self.images.flags.c_contiguous:
            return self.images, self.redshift
        return None

    def inference_batches(self, batch_size: int, device: Any) -> Iterator[Batch]:
        """Batches ``({'images', 'redshift'[, 'exposure']}, None)`` in order.

        On the CPU the tensors view the arrays where they are float32 and C-contiguous
        (else they are converted copies of one batch); on a CUDA device they are on the
        device, copied asynchronously through :class:`PinnedStaging`.
        """
        n_rows, batch_size = len(self.images), int(batch_size)
        keys = [REDSHIFT_KEY]
        columns = [self.redshift]
        if self.exposure is not None:
            keys.append(EXPOSURE_KEY)
            columns.append(self.exposure)
        send = None
        if pinned_transfer(device):
            shape = (min(batch_size, n_rows), *self.images.shape[1:])
            send = PinnedStaging(device, shape).send
        for start in range(0, n_rows, batch_size):
            images = self.images[start : start + batch_size]
            values = [column[start : start + batch_size] for column in columns]
            if send is None:
                images = _float32_tensor(images)
                values = [_float32_tensor(column) for column in values]
            else:
                images, *values = send(images, *values)
            yield Batch({IMAGES_KEY: images, **dict(zip(keys, values))}, None)


@dataclass(frozen=True)
class InputRanges:
    """What the prediction pass saw of its input.

    Attributes
    ----------
    total_min, total_max : ndarray of shape (n_bands,)
        Smallest and largest per-cluster total of each band, float64, in the images'
        units (what :func:`~._domain.far_outside` reads of a summary).
    redshift : ndarray of shape (2,)
        Smallest and largest redshift, float64.
    cube_total : ndarray of shape (2,) or None
        Smallest and largest per-cluster total over every band, float64.
    n_flat : int
        Number of clusters whose images are spatially constant in every band.
    """

    total_min: np.ndarray
    total_max: np.ndarray
    redshift: np.ndarray
    cube_total: np.ndarray | None = None
    n_flat: int = 0


def band_totals(images: torch.Tensor) -> torch.Tensor:
    """Per-cluster, per-band sums of a batch, as float64, on the batch's device.

    On the CPU the sums are torch's float32 sums (blocked, so the relative error stays
    about 1e-7, plenty for the out-of-domain rule; 6 times faster than numpy's on 2
    cores), redone in float64 for a batch where they are not finite, so that a float32
    overflow of finite pixels is not taken for an infinite pixel. On a GPU they are
    float64 sums.

    Parameters
    ----------
    images : torch.Tensor of shape (n, n_bands, height, width)

    Returns
    -------
    torch.Tensor of shape (n, n_bands), float64

    Examples
    --------
    >>> import torch
    >>> band_totals(torch.ones(2, 3, 4, 4))[0].tolist()
    [16.0, 16.0, 16.0]
    """
    flat = images.reshape(images.shape[0], images.shape[1], -1)
    if flat.device.type != "cpu":
        return flat.sum(dim=-1, dtype=torch.float64)
    totals = flat.sum(dim=-1)
    if not bool(torch.isfinite(totals).all()):  # a NaN or infinite pixel, or overflow
        return flat.sum(dim=-1, dtype=torch.float64)
    return totals.to(torch.float64)


def _count_constant_cubes(images: torch.Tensor, totals: torch.Tensor) -> torch.Tensor:
    """How many clusters of a batch are spatially constant in every band (0-d tensor).

    On the CPU :func:`~sk_clustermass._utils.constant_cubes`, tested first against the
    band totals (one pixel read per band; the per-band minimum and maximum took a
    fifth of a prediction); on a GPU a per-band minimum and maximum, which is cheap
    there and needs no host synchronisation.
    """
    if images.device.type == "cpu":
        return torch.tensor(int(constant_cubes(images.numpy(), totals.numpy()).sum()))
    pixel_low, pixel_high = torch.aminmax(images.flatten(2), dim=-1)
    return (pixel_low == pixel_high).all(1).sum()


#: Clusters whose host totals :class:`InputScan` keeps before reducing them to extremes
#: (80 bytes a cluster with 10 bands: 0.3 MiB).
HOST_ROWS_PER_REDUCTION = 4096


class InputScan:
    """Band-total extremes and redshift range of the batches of a prediction pass.

    Parameters
    ----------
    on_non_finite : callable
        Called when a NaN or infinite pixel is found; it should raise the input error
        (the source's ``check_pixels``). If it returns, a generic ``ValueError`` is raised.
    check_each_batch : bool, optional
        Check every batch as it comes (raising before the network sees a bad batch),
        rather than once in :meth:`ranges`. Default: on the CPU, where the check costs
        no synchronisation.
    rows_of : tuple of ndarray, optional
        ``(images, redshift)``: in-memory arrays whose rows the batches shown to
        :meth:`observe_centred` are views of (float32, C-contiguous images, as
        :meth:`ArrayBatches.backing_arrays` gives). The scan then only sums each
        batch as it comes, and does the rest of its bookkeeping (the empty-cube test,
        the redshifts) on the arrays' rows every :data:`HOST_ROWS_PER_REDUCTION`
        clusters. A batch that is not a run of the images' rows is dealt with at once,
        as without ``rows_of``.

    Examples
    --------
    >>> import torch
    >>> scan = InputScan(on_non_finite=lambda: None)
    >>> scan.update(torch.ones(2, 1, 2, 2), torch.tensor([0.2, 0.4]))
    >>> ranges = scan.ranges()
    >>> ranges.total_max.tolist(), ranges.redshift.round(3).tolist()
    ([4.0], [0.2, 0.4])
    """

    def __init__(self, on_non_finite: Callable[[], None],
                 check_each_batch: bool | None = None,
                 rows_of: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        self.on_non_finite = on_non_finite
        self.check_each_batch = check_each_batch
        self.rows_of = rows_of
        # smallest and largest of each band's total, the whole-cube total, the redshift
        self._low: torch.Tensor | None = None
        self._high: torch.Tensor | None = None
        self._n_flat: torch.Tensor | None = None  # number of spatially constant cubes
        # the same, from batches observed on the host (:meth:`observe_centred`)
        self._host_low: np.ndarray | None = None
        self._host_high: np.ndarray | None = None
        self._host_n_flat = 0
        # Rows observed on the host and not yet reduced, in buffers made once (a small
        # array kept per batch would sit between the network's large buffers on the
        # heap and fragment it): float32 sums, float64 totals, redshifts.
        self._sums: torch.Tensor | None = None
        self._totals: np.ndarray | None = None
        self._redshift: np.ndarray | None = None
        self._n_host_rows = 0  # rows filled in the buffers
        self._n_pending = 0  # of which the last ones have sums only (rows_of)
        self._pending_start = 0  # the rows_of row of the first pending row
        self._pixel_offset: np.ndarray | None = None  # n_pixels * band_mean, float64
        self._total_atol: np.ndarray | None = None

    def update(self, images: torch.Tensor, redshift: torch.Tensor,
               totals: torch.Tensor | None = None,
               n_flat: torch.Tensor | None = None) -> None:
        """Add one batch (on any device; no host synchronisation off the CPU).

        ``totals`` (float64 band totals) and ``n_flat`` (the number of constant cubes)
        are given where already computed (:meth:`observe_centred`); by default they are
        computed here.
        """
        if totals is None:
            totals = band_totals(images)
        columns = torch.cat([totals, totals.sum(1, keepdim=True),
                             redshift.reshape(-1, 1).to(torch.float64)], dim=1)
        low, high = torch.aminmax(columns, dim=0)  # NaN propagates
        if n_flat is None:
            n_flat = _count_constant_cubes(images, totals)
        if self._low is None:
            self._low, self._high, self._n_flat = low, high, n_flat
        else:
            self._low = torch.minimum(self._low, low)
            self._high = torch.maximum(self._high, high)
            self._n_flat = self._n_flat + n_flat
        check = self.check_each_batch
        if check is None:
            check = images.device.type == "cpu"
        if check and not bool(torch.isfinite(totals).all()):
            self._fail()

    def observe_centred(self, images: torch.Tensor, centred: torch.Tensor,
                        band_mean: torch.Tensor, redshift: torch.Tensor) -> None:
        """Add one batch (CPU tensors) from the network's own first pass over it.

        ``centred`` is ``images - band_mean``, just written by the network's input
        standardisation and still in the caches: the band totals are its sums plus
        ``n_pixels * band_mean`` (float32 sums, float64 sum), so the scan does not read
        the batch from memory a second time (reading it first cost 2-6% of a CPU
        prediction). A batch whose sums are not finite is summed again from
        ``images`` in float64, as :func:`band_totals` does.

        Per batch the sums and a test that they are finite run here (torch calls,
        whose code the network keeps warm). The rest, the totals and the empty-cube
        test, runs on the batch at once, or, with ``rows_of``, on the arrays' rows
        every :data:`HOST_ROWS_PER_REDUCTION` clusters. Each numpy call on these small
        arrays costs microseconds in a loop, but tens of microseconds between two
        layers of the network, whose kernels have pushed numpy's code and data out of
        the caches (a finiteness test of 640 sums took 55 us there against 1.5 us in a
        loop; 2-core EPYC, ad hoc): done per batch, the bookkeeping cost 2-3% of a
        prediction.

        Parameters
        ----------
        images : torch.Tensor of shape (n, n_bands, height, width)
            The batch as given to the network.
        centred : torch.Tensor, same shape, float32
            ``images - band_mean``.
        band_mean : torch.Tensor of shape (1, n_bands, 1, 1)
        redshift : torch.Tensor of shape (n,)
        """
        n, n_bands, height, width = centred.shape
        if self._pixel_offset is None:  # the same network, hence band_mean, all pass
            mean = band_mean.reshape(n_bands).numpy().astype(np.float64)
            self._pixel_offset = height * width * mean
            self._total_atol = TOTAL_TEST_RTOL * height * width * np.abs(mean)
        if self._sums is None or self._n_host_rows + n > len(self._sums):
            self._reduce_host_rows()
            if self._sums is None or n > len(self._sums):
                self._make_buffers(max(n, HOST_ROWS_PER_REDUCTION), n_bands)
        rows = slice(self._n_host_rows, self._n_host_rows + n)
        sums = self._sums[rows]
        # The one pass over the batch is this sum, written into the buffer.
        torch.sum(centred.reshape(n, n_bands, height * width), dim=-1, out=sums)
        if not math.isfinite(float(sums.sum())):  # NaN, infinity or overflow
            self.update(images, redshift)  # as band_totals: summed again in float64
            return
        first_row = self._row_in_arrays(images)
        if first_row != self._pending_start + self._n_pending:  # not the next row
            self._settle_pending()
        if first_row is None:
            self._settle(rows, images.numpy().reshape(n, n_bands, height * width),
                         redshift.numpy())
        else:  # settled later, from the arrays
            if self._n_pending == 0:
                self._pending_start = first_row
            self._n_pending += n
        self._n_host_rows += n

    def _make_buffers(self, n_rows: int, n_bands: int) -> None:
        self._sums = torch.empty((n_rows, n_bands))
        self._totals = np.empty((n_rows, n_bands))
        self._redshift = np.empty(n_rows)

    def _row_in_arrays(self, images: torch.Tensor) -> int | None:
        """The row of ``rows_of``'s images that the batch starts at, if it is a run of
        them (the same memory); else None."""
        if self.rows_of is None or not images.is_contiguous() or images.dtype != torch.float32:
            return None
        array = self.rows_of[0]
        if images.shape[1:] != array.shape[1:] or len(images) == 0:
            return None
        row_bytes = array.strides[0]
        offset = images.data_ptr() - array.ctypes.data
        if offset % row_bytes or not 0 <= offset // row_bytes <= len(array) - len(images):
            return None
        return offset // row_bytes

    def _settle(self, rows: slice, pixels: np.ndarray, redshift: np.ndarray) -> None:
        """Totals, empty-cube test and redshifts of buffer ``rows`` (summed already).

        ``pixels`` (shape ``(n, n_bands, n_pixels)``) and ``redshift`` are the rows'
        images and float32 redshifts.
        """
        totals = self._totals[rows]
        np.add(self._sums[rows].numpy(), self._pixel_offset, out=totals)
        # A constant band's float32 sum of (value - mean) is off by rounding of order
        # n_pixels * |mean| * 1e-7, even where the value is 0 (an empty cube): the
        # empty-cube test allows for it (_total_atol), and the totals of the cubes it
        # finds constant are set to their exact value, n_pixels times the first pixel.
        flat = np.flatnonzero(constant_cubes(pixels, totals, self._total_atol))
        if flat.size:
            totals[flat] = pixels.shape[-1] * pixels[flat, :, 0]
            self._host_n_flat += len(flat)
        # A copy: a batch's tensors may be views of a buffer the next batch reuses.
        self._redshift[rows] = redshift

    def _settle_pending(self) -> None:
        """Settle the rows that have sums only, from the ``rows_of`` arrays."""
        if not self._n_pending:
            return
        images, redshift = self.rows_of
        start, n = self._pending_start, self._n_pending
        first = self._n_host_rows - n
        pixels = images[start : start + n].reshape(n, images.shape[1], -1)
        # as ArrayBatches gives them: float32, whatever the array's dtype
        z = np.asarray(redshift[start : start + n], dtype=np.float32)
        self._settle(slice(first, first + n), pixels, z)
        self._n_pending = 0

    def _reduce_host_rows(self) -> None:
        """Fold the buffered host rows into the running extremes and empty the buffers."""
        self._settle_pending()
        n = self._n_host_rows
        if not n:
            return
        self._n_host_rows = 0
        totals = self._totals[:n]
        n_bands = totals.shape[1]
        columns = np.empty((n, n_bands + 2))
        columns[:, :n_bands] = totals
        columns[:, n_bands] = totals.sum(axis=1)
        columns[:, n_bands + 1] = self._redshift[:n]
        low, high = columns.min(axis=0), columns.max(axis=0)  # NaN propagates
        if self._host_low is None:
            self._host_low, self._host_high = low, high
        else:
            np.minimum(self._host_low, low, out=self._host_low)
            np.maximum(self._host_high, high, out=self._host_high)

    def ranges(self) -> InputRanges:
        """The extremes over every batch; raises the input error on a non-finite pixel."""
        self._reduce_host_rows()
        parts = []  # (low, high, n_flat) of the device batches, then of the host ones
        if self._low is not None:
            values = torch.cat([self._low, self._high,
                                self._n_flat.reshape(1).to(torch.float64)]).cpu().numpy()
            n_columns = len(self._low)  # the bands, the whole cube, the redshift
            parts.append((values[:n_columns], values[n_columns : 2 * n_columns],
                          int(values[-1])))
        if self._host_low is not None:
            parts.append((self._host_low, self._host_high, self._host_n_flat))
        if not parts:
            raise ValueError("no clusters were predicted: pass at least one cluster")
        low = np.minimum.reduce([part[0] for part in parts])
        high = np.maximum.reduce([part[1] for part in parts])
        n_flat = sum(part[2] for part in parts)
        n_bands = len(low) - 2
        if not (np.isfinite(low[:n_bands]).all() and np.isfinite(high[:n_bands]).all()):
            self._fail()
        return InputRanges(low[:n_bands], high[:n_bands], np.array([low[-1], high[-1]]),
                           cube_total=np.array([low[-2], high[-2]]), n_flat=n_flat)

    def _fail(self) -> None:
        self.on_non_finite()
        message = ("images contains NaN or infinite value(s). Remove or repair those "
                   "clusters (e.g. replace masked pixels by 0 counts) before predicting.")
        raise ValueError(message)
