"""What the regressor builds from its 'callbacks' and 'execution' parameters.

Everything here reads the estimator's constructor parameters (duck-typed ``est``) and
turns them into skorch callbacks (early stopping, learning-rate schedules, gradient
clipping, progress bar) and the device. The parameters routed straight to the network,
the skorch net and the optimizer need no code: :func:`._parameters.routed_parameters`
hands them over. Allowed values and checks are the parameter table's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from skorch.callbacks import EarlyStopping, GradientNormClipping, LRScheduler

from ._net import StopOnNonFiniteLoss

__all__ = ["FUSED_OPTIMIZERS", "lr_scheduler", "optimizer_implementation", "resolve_device",
           "training_callbacks"]

#: Optimizers run as one fused kernel over all weights (``fused=True``) on the CPU and
#: CUDA. Adam's step for the default network's 221,894 weights took 460 us per batch
#: one tensor at a time, 340 us with ``foreach`` and 120 us fused (2 idle EPYC cores):
#: 1-2% of a training step. Fused and one-tensor-at-a-time updates agree to float32
#: rounding (6e-8 after 20 steps), not bit for bit.
FUSED_OPTIMIZERS = ("adam", "adamw")
_IMPLEMENTATION_CHOICES = {"fused", "foreach", "differentiable", "capturable"}


def resolve_device(est: Any) -> str:
    """The device to use: 'auto' resolved; a clear error if CUDA is asked for but absent."""
    if est.device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if est.device == "cuda" and not torch.cuda.is_available():
        message = (
            "device='cuda' but PyTorch sees no CUDA device (torch "
            f"{torch.__version__}). Install a CUDA build of torch, or use "
            "device='cpu' or device='auto'."
        )
        raise RuntimeError(message)
    return est.device


def optimizer_implementation(optimizer: str, device: str,
                             given: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Keyword arguments choosing how ``optimizer`` runs its step on ``device``.

    Parameters
    ----------
    optimizer : str
        A name of :data:`~._parameters.OPTIMIZERS`.
    device : str
        The resolved device ('cpu', 'cuda' or 'cuda:N').
    given : mapping, optional
        The optimizer's other keyword arguments: where they already choose an
        implementation (``fused``, ``foreach``, ``differentiable``, ``capturable``),
        nothing is added.

    Returns
    -------
    dict
        ``{"fused": True}`` for :data:`FUSED_OPTIMIZERS` on the CPU or CUDA, else empty.

    Examples
    --------
    >>> optimizer_implementation("adam", "cpu"), optimizer_implementation("sgd", "cpu")
    ({'fused': True}, {})
    """
    if given is not None and _IMPLEMENTATION_CHOICES & set(given):
        return {}
    if optimizer in FUSED_OPTIMIZERS and torch.device(device).type in ("cpu", "cuda"):
        return {"fused": True}
    return {}


def training_callbacks(est: Any) -> list:
    """skorch callbacks for the estimator's settings, the user's own last."""
    callbacks: list = [("stop_on_non_finite_loss", StopOnNonFiniteLoss())]
    if est.patience is not None:
        early = EarlyStopping(
            monitor="valid_loss", patience=est.patience, load_best=True,
            sink=print if est.verbose else _quiet,
        )
        callbacks.append(("early_stopping", early))
    schedule = lr_scheduler(est)
    if schedule is not None:
        callbacks.append(("lr_schedule", schedule))
    if est.grad_clip is not None:
        callbacks.append(("grad_clip", GradientNormClipping(est.grad_clip)))
    if est.verbose >= 2:
        from skorch.callbacks import ProgressBar

        callbacks.append(("progress_bar", ProgressBar()))
    return callbacks + list(est.callbacks or [])

def lr_scheduler(est: Any) -> LRScheduler | None:
    """The per-epoch learning-rate schedule, or None."""
    epochs = max(est.max_epochs - 1, 1)
    if est.lr_schedule == "exponential":
        final = est.lr / 10 if est.lr_final is None else est.lr_final
        gamma = (final / est.lr) ** (1.0 / epochs)
        return LRScheduler(policy="ExponentialLR", gamma=gamma)
    if est.lr_schedule == "cosine":
        final = 0.0 if est.lr_final is None else est.lr_final
        return LRScheduler(policy="CosineAnnealingLR", T_max=epochs, eta_min=final)
    if est.lr_schedule == "plateau":
        patience = max(2, (est.patience or 6) // 3)
        return LRScheduler(
            policy="ReduceLROnPlateau", monitor="valid_loss", factor=0.5, patience=patience
        )
    return None

def _quiet(*args, **kwargs) -> None:
    """Sink that swallows skorch's early-stopping message (verbose=0)."""
