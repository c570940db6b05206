"""Numerical precision of training and inference: float32, or bfloat16 autocast.

With ``precision='bf16'`` the convolutions and dense layers run under
:func:`torch.autocast` with ``dtype=torch.bfloat16``: their inputs are cast to
bfloat16 (8 bits of mantissa, the exponent range of float32) and they run on the
CPU's AMX tiles or AVX-512 bf16 instructions, or on a GPU's tensor cores. What must
stay exact stays in float32: the weights the optimizer updates (master weights), the
per-band and redshift standardisation at the network's input, the output layer that
produces the mean and the log-width, the loss and its regularisation penalty, and
everything computed on the predictions afterwards (de-standardisation, metrics).
bfloat16 has the exponent range of float32, so no loss scaling is needed.

``precision='auto'`` takes bfloat16 where the hardware runs it natively and float32
elsewhere; :func:`bf16_supported` is the one place that decides.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import torch

from ._names import PRECISIONS

__all__ = [
    "CPU_BF16_FLAGS",
    "PRECISIONS",
    "autocast",
    "bf16_supported",
    "cpu_flags",
    "resolve_precision",
]


# x86 CPU flags (as /proc/cpuinfo spells them) of native bfloat16 arithmetic:
# AMX tiles (Sapphire Rapids and later) and AVX-512 BF16 (Cooper Lake, Zen 4 and later).
CPU_BF16_FLAGS = ("amx_bf16", "avx512_bf16")

_CPUINFO = Path("/proc/cpuinfo")


def cpu_flags(cpuinfo: Path = _CPUINFO) -> frozenset[str]:
    """The CPU feature flags the kernel reports (empty where there is no /proc/cpuinfo).

    Parameters
    ----------
    cpuinfo : Path, default=Path('/proc/cpuinfo')
        The file to read.

    Returns
    -------
    frozenset of str
        The words of the first ``flags`` line, e.g. ``{'avx2', 'avx512_bf16', ...}``.
    """
    try:
        text = cpuinfo.read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return frozenset(value.split())
    return frozenset()


def bf16_supported(device: str) -> bool:
    """Whether ``device`` runs bfloat16 matrix products natively.

    On a CPU: the kernel reports AMX-BF16 or AVX-512-BF16 (:data:`CPU_BF16_FLAGS`)
    and PyTorch dispatches to its AVX-512 kernels
    (:func:`torch.backends.cpu.get_cpu_capability`; ``ATEN_CPU_CAPABILITY=avx2``
    turns them off). On a GPU: :func:`torch.cuda.is_bf16_supported` (Ampere and later).

    Parameters
    ----------
    device : str
        A torch device string: ``'cpu'``, ``'cuda'``, ``'cuda:1'``.

    Returns
    -------
    bool
    """
    kind = torch.device(device).type
    if kind == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if kind != "cpu":
        return False
    capability = torch.backends.cpu.get_cpu_capability().upper()
    return capability.startswith("AVX512") and not cpu_flags().isdisjoint(CPU_BF16_FLAGS)


def resolve_precision(precision: str, device: str) -> str:
    """The precision a fit uses: ``'fp32'`` or ``'bf16'``, with ``'auto'`` resolved.

    Parameters
    ----------
    precision : {'fp32', 'bf16', 'auto'}
        The estimator's parameter. 'bf16' is honoured on any device (PyTorch
        emulates it where the hardware lacks it, slowly); 'auto' takes 'bf16' only
        where :func:`bf16_supported` says the device runs it natively.
    device : str
        The device the fit runs on (already resolved, e.g. ``'cpu'``).

    Returns
    -------
    str
        ``'fp32'`` or ``'bf16'``.

    Raises
    ------
    ValueError
        For any other value of ``precision``.

    Examples
    --------
    >>> resolve_precision("fp32", "cpu")
    'fp32'
    >>> resolve_precision("auto", "cpu") in ("fp32", "bf16")
    True
    """
    if precision not in PRECISIONS:
        message = (
            f"precision={precision!r} is not supported; choose 'fp32' (exact float32), "
            "'bf16' (bfloat16 autocast, float32 weights and loss) or 'auto' (bf16 where "
            "the CPU or GPU runs it natively)"
        )
        raise ValueError(message)
    if precision == "auto":
        return "bf16" if bf16_supported(device) else "fp32"
    return precision


def autocast(precision: str, device: str | torch.device) -> contextlib.AbstractContextManager:
    """The context to run the network in: bfloat16 autocast, or nothing at all for fp32.

    float32 gets a :func:`contextlib.nullcontext`, not a disabled autocast, so that
    its results stay bit-identical to those of a plain float32 run.

    Parameters
    ----------
    precision : {'fp32', 'bf16'}
        A resolved precision (see :func:`resolve_precision`).
    device : str or torch.device
        The device the network runs on.

    Returns
    -------
    context manager

    Examples
    --------
    >>> import torch
    >>> with autocast("bf16", "cpu"):
    ...     out = torch.nn.Linear(3, 2)(torch.ones(1, 3))
    >>> out.dtype
    torch.bfloat16
    """
    if precision != "bf16":
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)
