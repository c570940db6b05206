"""Hyper-parameters of ClusterMassRegressor: allowed values, checks, and what they build.

Everything here reads the estimator's constructor parameters (duck-typed ``est``) and
turns them into validation errors, skorch callbacks (early stopping, learning-rate
schedules, gradient clipping, progress bar) and optimizer settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from skorch.callbacks import EarlyStopping, GradientNormClipping, LRScheduler

from ._loss import LOSSES, REGULARIZE_TARGETS, REGULARIZERS
from ._module import PADDING_MODES, feature_map_sizes
from ._net import StopOnNonFiniteLoss
from ._precision import PRECISIONS

__all__ = [
    "DEVICES",
    "LR_SCHEDULES",
    "OPTIMIZERS",
    "check_choice",
    "check_positive",
    "lr_scheduler",
    "optimizer_params",
    "resolve_device",
    "training_callbacks",
    "validate_hyperparameters",
]

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}
LR_SCHEDULES = (None, "exponential", "cosine", "plateau")
DEVICES = ("cpu", "cuda", "auto")


def check_choice(name: str, value: Any, allowed: Sequence) -> None:
    """Raise ``ValueError`` naming the allowed values if ``value`` is not one of them."""
    if value not in allowed:
        message = f"{name}={value!r} is not supported; choose one of {list(allowed)}"
        raise ValueError(message)


def check_positive(name: str, value: Any, *, integer: bool = False, allow_zero=False) -> None:
    """Raise ``ValueError`` unless ``value`` is a (positive, or non-negative) number."""
    kind = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    ok = isinstance(value, kind) and not isinstance(value, bool)
    ok = ok and (value >= 0 if allow_zero else value > 0)
    if not ok:
        what = "an integer" if integer else "a number"
        bound = ">= 0" if allow_zero else "> 0"
        message = f"{name} must be {what} {bound}; got {value!r}"
        raise ValueError(message)


def validate_hyperparameters(est: Any, image_shape: tuple[int, int]) -> None:
    """Check every hyper-parameter, and that the feature map survives ``image_shape``."""
    check_choice("loss", est.loss, LOSSES)
    check_choice("regularizer", est.regularizer, REGULARIZERS)
    check_choice("regularize", est.regularize, REGULARIZE_TARGETS)
    check_choice("optimizer", est.optimizer, list(OPTIMIZERS))
    check_choice("lr_schedule", est.lr_schedule, LR_SCHEDULES)
    check_choice("padding", est.padding, PADDING_MODES)
    check_choice("device", est.device, DEVICES)
    check_choice("precision", est.precision, PRECISIONS)
    for name in ("n_filters", "kernel_size", "pool_size", "batch_size", "max_epochs"):
        check_positive(name, getattr(est, name), integer=True)
    check_positive("lr", est.lr)
    check_positive("regularization", est.regularization, allow_zero=True)
    check_positive("weight_decay", est.weight_decay, allow_zero=True)
    if not 0.0 <= est.dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1); got {est.dropout!r}")
    if not 0.0 <= est.validation_fraction < 1.0:
        message = f"validation_fraction must be in [0, 1); got {est.validation_fraction!r}"
        raise ValueError(message)
    needs_validation = est.patience is not None or est.lr_schedule == "plateau"
    if est.validation_fraction == 0 and needs_validation:
        message = (
            "early stopping (patience) and lr_schedule='plateau' need a validation "
            "split: set validation_fraction > 0, or patience=None"
        )
        raise ValueError(message)
    if est.patience is not None:
        check_positive("patience", est.patience, integer=True)
    for name in ("conv_layers", "dense_layers"):
        layers = getattr(est, name)
        if isinstance(layers, int | np.integer):
            message = f"{name} must be a tuple of ints, e.g. ({layers},); got {layers!r}"
            raise ValueError(message)
        for value in layers:
            check_positive(f"every entry of {name}", value, integer=True)
    if len(est.conv_layers) == 0:
        raise ValueError("conv_layers must have at least one block, e.g. (3, 2)")
    feature_map_sizes(
        image_shape,
        kernel_size=est.kernel_size,
        conv_layers=est.conv_layers,
        pool_size=est.pool_size,
        padding=est.padding,
    )

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

def optimizer_params(est: Any) -> dict:
    """skorch ``optimizer__*`` parameters for the chosen optimizer."""
    params = {"optimizer__weight_decay": est.weight_decay}
    if est.optimizer in ("sgd", "rmsprop"):
        params["optimizer__momentum"] = est.momentum
    return params


def _quiet(*args, **kwargs) -> None:
    """Sink that swallows skorch's early-stopping message (verbose=0)."""
