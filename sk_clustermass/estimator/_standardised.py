"""The training images standardised once per fit instead of once per batch.

The network's first step is ``(images - band_mean) / band_scale``, then a copy into
channels_last layout (:meth:`~._module.ClusterMassCNN._standardise`). In training every
batch of every epoch pays for it: a gather of the shuffled rows, the subtraction, the
division and the layout copy, four passes over a batch whose convolutions are thin
enough (10 -> 20 channels) that the passes show. The band constants are fixed for the
whole fit, so :func:`standardised_once` computes the quotient once, stored row by row
in channels_last order (``(n, height, width, n_bands)``) and in the dtype the first
convolution reads (float32, or bfloat16 under bfloat16 autocast). A batch is then one
gather of contiguous rows, already in the first convolution's layout.

The values are the same, element for element: the same float32 subtraction and
division, rounded once to the autocast dtype, as the per-batch path does. The copy
costs memory, so it is made only when it fits :func:`copy_budget_bytes`; otherwise,
and for data read in blocks from a file, training standardises per batch as before.
"""

from __future__ import annotations

import os
from typing import Any

import torch

from ._data import ClusterTensors
from ._precision import autocast

__all__ = ["copy_budget_bytes", "standardised_once"]

#: Share of the memory available now that the standardised copy may take.
MEMORY_SHARE = 0.25
#: Rows standardised per step while making the copy (bounds its temporaries).
ROWS_PER_STEP = 256


def _available_host_bytes() -> int:
    """Memory available to new allocations (Linux ``MemAvailable``), 0 if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0


def copy_budget_bytes(device: str | torch.device) -> int:
    """Largest standardised copy of the training images made on ``device``, in bytes.

    A quarter of the memory available now: host memory on the CPU (0 where the
    platform does not say), free device memory on a GPU.

    Parameters
    ----------
    device : str or torch.device

    Returns
    -------
    int
    """
    device = torch.device(device)
    if device.type == "cuda":
        free_bytes, _ = torch.cuda.mem_get_info(device)
        return int(MEMORY_SHARE * free_bytes)
    if device.type == "cpu":
        return int(MEMORY_SHARE * _available_host_bytes())
    return 0


def _input_dtype(precision: str, device: torch.device) -> torch.dtype:
    """The dtype the first convolution reads: the autocast dtype, else float32."""
    with autocast(precision, device):
        if torch.is_autocast_enabled(device.type):
            return torch.get_autocast_dtype(device.type)
    return torch.float32


def _standardise_rows(images: torch.Tensor, band_mean: torch.Tensor, band_scale: torch.Tensor,
                      dtype: torch.dtype) -> torch.Tensor:
    """``(images - band_mean) / band_scale`` as channels_last rows of ``dtype``."""
    n, n_bands, height, width = images.shape
    rows = torch.empty((n, height, width, n_bands), dtype=dtype, device=images.device)
    with torch.no_grad():
        for start in range(0, n, ROWS_PER_STEP):
            block = images[start : start + ROWS_PER_STEP]
            quotient = torch.sub(block, band_mean).div_(band_scale)
            rows[start : start + ROWS_PER_STEP].copy_(quotient.permute(0, 2, 3, 1))
    return rows.permute(0, 3, 1, 2)  # (n, n_bands, height, width), channels_last strides


def standardised_once(
    train: Any, valid: Any, module: torch.nn.Module, precision: str, device: str
) -> tuple[Any, Any]:
    """The training and validation views, over images standardised once if that pays.

    Parameters
    ----------
    train : ClusterView
        The training view skorch's loop reads.
    valid : ClusterView or None
        The validation view, None without one.
    module : torch.nn.Module
        The initialised network. Only a module whose class sets
        ``takes_standardised_images`` (:class:`~._module.ClusterMassCNN`) is given
        standardised images.
    precision : {'fp32', 'bf16'}
        The precision training runs in.
    device : str
        The device training runs on.

    Returns
    -------
    train, valid
        Views of one standardised copy of the images (batches carry
        ``STANDARDISED_KEY``), or the views given where the copy does not apply:
        data that are not float32 tensors in memory, a view of other images, a module
        that standardises its own way, or a copy larger than :func:`copy_budget_bytes`.
    """
    views = [train] if valid is None else [train, valid]
    if not (
        getattr(type(module), "takes_standardised_images", False)
        and all(type(view) is ClusterTensors and not view.standardised for view in views)
        and all(view.images is train.images for view in views)
    ):
        return train, valid
    images = train.images
    if images.dtype != torch.float32 or images.requires_grad or images.dim() != 4:
        return train, valid
    dtype = _input_dtype(precision, images.device)
    copy_bytes = images.numel() * dtype.itemsize
    if copy_bytes > copy_budget_bytes(images.device):
        return train, valid
    band_mean = module.band_mean.to(images.device)
    band_scale = module.band_scale.to(images.device)
    prepared = ClusterTensors(
        _standardise_rows(images, band_mean, band_scale, dtype), train.redshift,
        train.target, weight=train.weight, exposure=train.exposure, standardised=True,
    )
    views = [prepared if view.rows is None else prepared.subset(view.rows) for view in views]
    return views[0], (views[1] if valid is not None else None)
