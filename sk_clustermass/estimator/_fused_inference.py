"""Inference kernels for the convolution blocks, used by the estimator's prediction loop.

Two layers of the feature stack have a faster form when no gradient is needed:

- **A convolution followed by a LeakyReLU**, in bfloat16, runs as one oneDNN primitive
  with the activation as a *post-op* (``mkldnn::_convolution_pointwise``, the kernel inductor's
  CPU fusion calls): the activation is applied while the convolution's output is still
  in registers, instead of in a second pass over the whole activation map. The
  activation is applied before the result is rounded to bfloat16 rather than after,
  which may change the last bit of a negative output. In float32 the fused kernel
  measured slower than the two layers in a whole prediction, so there they stay two
  (:data:`FUSED_DTYPES`).
- **A max-pool whose window equals its stride** (no padding, no dilation) is the
  elementwise maximum of the window's strided views, first along the rows and then
  along the columns: the same values, NaN included. PyTorch's CPU max-pool kernel in a
  channels_last layout is slower, in bfloat16 three times slower.

Measured ad hoc on a 2-core AVX-512 EPYC without AMX, batch 64, one layer alone: the pool of
the default network's first block (20 x 47 x 47 to 20 x 11 x 11) takes 0.25 ms instead
of 0.42 ms in float32 and 0.27 ms instead of 0.80 ms in bfloat16; folding the
activation into a 20 -> 20 convolution saves 0.07 ms of 2.1 ms in float32 (alone; in a
whole prediction it lost 1-3%, ad hoc) and 0.10 ms of 1.2 ms in bfloat16. What the
kernels give a whole ``predict`` is measured by
``benchmarks/bench_training_ablations.py`` (docs/performance.md).

The estimator's prediction loop asks for these kernels
(``ClusterMassCNN.forward(..., inference_kernels=True)``); the module called directly
runs its layers as written. Even when asked, the layers run as written wherever the
kernels do not apply: with gradients, off the CPU, while compiled, exported or traced
(the compiler fuses on its own), when a layer or the whole stack carries hooks (a
probe of feature maps sees every layer), for layers other than ``Conv2d``,
``LeakyReLU`` and ``MaxPool2d``, for padding oneDNN cannot express symmetrically, and
where this build of PyTorch has no oneDNN or no fused kernel, or oneDNN no bfloat16 on
this CPU (older AVX2 ones), or the fused kernel once failed.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.modules.utils import _pair

__all__ = [
    "FUSED_DTYPES",
    "fused_convolution",
    "fused_kernel_available",
    "inference_features",
    "strided_max_pool",
]

_SUPPORTED_DTYPES = (torch.float32, torch.bfloat16)
#: The dtypes in which a convolution and its activation run as one fused kernel. Not
#: float32: there the fused kernel made a whole prediction 1-3% slower than the two
#: layers (while the two-layer pair alone was 3% faster), against 5% faster in bfloat16
#: (2-core AVX-512 EPYC, batch 64, ad hoc interleaved runs).
FUSED_DTYPES = (torch.bfloat16,)
_LAYER_TYPES = (nn.Conv2d, nn.LeakyReLU, nn.MaxPool2d)


def fused_kernel_available() -> bool:
    """Whether this PyTorch build has oneDNN and its fused convolution kernel."""
    if not torch.backends.mkldnn.is_available():
        return False
    try:
        torch.ops.mkldnn._convolution_pointwise  # noqa: B018 (raises if the op is absent)
    except (AttributeError, RuntimeError):
        return False
    return True


def _bfloat16_kernels() -> bool:
    """Whether oneDNN runs bfloat16 on this CPU (AVX-512 BF16 or AMX; not on AVX2)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


#: Whether :func:`inference_features` may call oneDNN's fused convolution (looked up
#: once; set to False for the rest of the process if the kernel ever fails).
FUSED_CONVOLUTION = fused_kernel_available() and _bfloat16_kernels()


def _symmetric_padding(conv: nn.Conv2d) -> list[int] | None:
    """The convolution's padding as oneDNN's symmetric ``[pad_h, pad_w]``, or None.

    ``'same'`` with an even kernel pads one pixel more on one side than the other,
    which the fused kernel cannot express; nor can padding modes other than zeros.
    """
    if conv.padding_mode != "zeros" or conv.groups != 1:
        return None
    if conv.padding == "valid":
        return [0, 0]
    if conv.padding == "same":
        pads = []
        for kernel, dilation in zip(conv.kernel_size, conv.dilation):
            total = dilation * (kernel - 1)
            if total % 2:
                return None
            pads.append(total // 2)
        return pads
    return [int(pad) for pad in conv.padding]


def _global_hooks() -> bool:
    """Whether forward hooks are registered for every module (``register_module_*``)."""
    module = nn.modules.module
    return bool(getattr(module, "_global_forward_hooks", None)
                or getattr(module, "_global_forward_pre_hooks", None))


def _has_hooks(module: nn.Module) -> bool:
    """Whether the module itself carries forward or backward hooks."""
    return bool(module._forward_hooks or module._forward_pre_hooks or module._backward_hooks)


def _tracing() -> bool:
    """Whether the forward pass is being compiled, exported or traced."""
    return torch.compiler.is_compiling() or torch.jit.is_tracing()


def _kernels_apply(features: nn.Sequential, images: torch.Tensor) -> bool:
    """Whether this forward pass may run through the inference kernels at all."""
    return (
        images.device.type == "cpu"
        and not torch.is_grad_enabled()
        and not images.requires_grad
        and not _tracing()
        and not _global_hooks()
        and not _has_hooks(features)
        and all(type(layer) in _LAYER_TYPES and not _has_hooks(layer) for layer in features)
    )


def _compute_dtype(images: torch.Tensor) -> torch.dtype:
    """The dtype the convolutions run in: autocast's where it is on, else the input's."""
    if torch.is_autocast_enabled("cpu"):
        return torch.get_autocast_dtype("cpu")
    return images.dtype


def _max_of_strided_views(x: torch.Tensor, window: int, dim: int) -> torch.Tensor:
    """Elementwise maximum of ``x``'s ``window`` strided views along ``dim``.

    ``x``'s length along ``dim`` is a multiple of ``window``; the result is that length
    divided by ``window``.
    """
    if window == 1:
        return x
    index: list[slice] = [slice(None)] * x.dim()

    def view(offset: int) -> torch.Tensor:
        index[dim] = slice(offset, None, window)
        return x[tuple(index)]

    out = torch.maximum(view(0), view(1))
    for offset in range(2, window):
        torch.maximum(out, view(offset), out=out)
    return out


def strided_max_pool(pool: nn.MaxPool2d, x: torch.Tensor) -> torch.Tensor:
    """``pool(x)`` as maxima of strided views where the window equals the stride.

    Other pools (padding, dilation, ``ceil_mode``, indices, overlapping windows), and
    images smaller than the window, run as the module.
    """
    window = _pair(pool.kernel_size)
    stride = _pair(pool.stride if pool.stride is not None else pool.kernel_size)
    if (window != stride or _pair(pool.padding) != (0, 0) or _pair(pool.dilation) != (1, 1)
            or pool.ceil_mode or pool.return_indices):
        return pool(x)
    rows, columns = x.shape[-2] // window[0], x.shape[-1] // window[1]
    if rows == 0 or columns == 0:
        return pool(x)  # the module's error: the image is smaller than the window
    x = x[..., : rows * window[0], : columns * window[1]]
    return _max_of_strided_views(_max_of_strided_views(x, window[0], -2), window[1], -1)


def inference_features(features: nn.Sequential, images: torch.Tensor) -> torch.Tensor:
    """Run ``features`` on ``images`` through the inference kernels where they apply.

    Parameters
    ----------
    features : torch.nn.Sequential
        The network's convolution blocks: ``Conv2d``, ``LeakyReLU`` and ``MaxPool2d``
        layers (anything else, or a hook, runs the whole stack as written).
    images : torch.Tensor of shape (batch, channels, height, width)
        The standardised batch, float32 or bfloat16.

    Returns
    -------
    torch.Tensor
        What ``features(images)`` returns: the same values in float32; in bfloat16 an
        activation folded into its convolution is applied before rounding.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> stack = nn.Sequential(nn.Conv2d(2, 3, 2), nn.LeakyReLU(0.01), nn.MaxPool2d(2))
    >>> images = torch.randn(4, 2, 9, 9)
    >>> with torch.no_grad():
    ...     same = torch.allclose(inference_features(stack, images), stack(images))
    >>> same
    True
    """
    global FUSED_CONVOLUTION
    dtype = _compute_dtype(images)
    if dtype not in _SUPPORTED_DTYPES or not _kernels_apply(features, images):
        return features(images)
    fuse = FUSED_CONVOLUTION and dtype in FUSED_DTYPES
    try:
        return _run_kernels(list(features), images, dtype, fuse)
    except RuntimeError:
        if not fuse:
            raise
        # The layers raise their own error if the fault was not the kernel's; if they
        # run, oneDNN refused the fused kernel (a CPU or build it does not support),
        # and the layers run from now on.
        out = features(images)
        FUSED_CONVOLUTION = False
        return out


def _run_kernels(layers: list[nn.Module], images: torch.Tensor, dtype: torch.dtype,
                 fuse: bool) -> torch.Tensor:
    """The layers in order, pools as strided maxima, convolutions fused if ``fuse``."""
    x = images
    index = 0
    while index < len(layers):
        layer = layers[index]
        index += 1
        if type(layer) is nn.MaxPool2d:
            x = strided_max_pool(layer, x)
            continue
        padding = _symmetric_padding(layer) if fuse and type(layer) is nn.Conv2d else None
        if padding is None:
            x = layer(x)
            continue
        follower = layers[index] if index < len(layers) else None
        slope = follower.negative_slope if type(follower) is nn.LeakyReLU else None
        index += int(slope is not None)
        x = fused_convolution(layer, x.to(dtype), padding, slope)
    return x


def fused_convolution(conv: nn.Conv2d, x: torch.Tensor, padding: list[int],
                      negative_slope: float | None) -> torch.Tensor:
    """``conv(x)``, then a LeakyReLU of ``negative_slope`` if given, as one oneDNN kernel.

    The weights and bias are cast to ``x``'s dtype; ``padding`` is the symmetric
    padding (:func:`_symmetric_padding`).
    """
    bias = None if conv.bias is None else conv.bias.to(x.dtype)
    fused = negative_slope is not None
    return torch.ops.mkldnn._convolution_pointwise(
        x, conv.weight.to(x.dtype), bias, padding, list(conv.stride), list(conv.dilation),
        conv.groups, "leaky_relu" if fused else "none",
        [negative_slope] if fused else [], "",
    )
