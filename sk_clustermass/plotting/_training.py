"""Figures of a training run: loss curves.

Part of :mod:`sk_clustermass.plotting`, which re-exports the public functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.axes import Axes

from ._common import _axes


# ---------------------------------------------------------------------- training
def _history_of(source: Any) -> list[dict]:
    """The per-epoch records of a skorch History, net, estimator, pipeline or search."""
    obj = source
    for _ in range(4):  # search -> pipeline -> estimator -> net
        if hasattr(obj, "best_estimator_"):
            obj = obj.best_estimator_
        if hasattr(obj, "steps") and hasattr(obj, "_final_estimator"):
            obj = obj._final_estimator
        if hasattr(obj, "net_"):
            obj = obj.net_
        if hasattr(obj, "history") and not isinstance(obj, list | tuple):
            obj = obj.history
    if isinstance(obj, list | tuple) and all(isinstance(row, Mapping) for row in obj):
        return [dict(row) for row in obj]
    message = (
        "plot_loss_curves needs a fitted ClusterMassRegressor (or a Pipeline/GridSearchCV "
        "ending in one), a skorch net, or a skorch History (a list of per-epoch dicts); "
        f"got {type(source).__name__}. Is the estimator fitted?"
    )
    raise TypeError(message)


def _column(records: list[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
    """Epoch numbers and values of ``key`` for the epochs that have a finite value."""
    epochs, values = [], []
    for position, row in enumerate(records, start=1):
        value = row.get(key)
        if value is not None and np.isfinite(value):
            epochs.append(row.get("epoch", position))
            values.append(float(value))
    return np.asarray(epochs, dtype=float), np.asarray(values, dtype=float)


def plot_loss_curves(
    history: Any,
    ax: Axes | None = None,
    *,
    log_scale: bool = False,
    mark_best: bool = True,
) -> Axes:
    """Training and validation loss per epoch, with the best epoch marked.

    Parameters
    ----------
    history : skorch.History, estimator, Pipeline, GridSearchCV or list of dict
        A fitted :class:`~sk_clustermass.ClusterMassRegressor` (its ``history_``),
        a Pipeline or a fitted search whose (best) final step is one, a skorch net,
        or the history itself: one dict per epoch with ``'train_loss'`` and, if
        there was a validation split, ``'valid_loss'``.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if None.
    log_scale : bool, default=False
        Logarithmic loss axis (only sensible for positive losses such as MSE; the
        Gaussian negative log-likelihood becomes negative once the widths shrink).
    mark_best : bool, default=True
        Mark the epoch with the lowest validation loss (the weights early stopping
        restores), or the lowest training loss without a validation split.

    Returns
    -------
    ax : matplotlib.axes.Axes

    Raises
    ------
    TypeError
        If no history can be found in ``history``.
    ValueError
        If the history has no ``'train_loss'`` values.

    Notes
    -----
    The losses are those the network minimises: on the standardised target (zero
    mean, unit variance of ``log10 M500c`` in the training set), so an MSE of 0.1
    means a residual scatter of ``sqrt(0.1)`` training-set standard deviations.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sk_clustermass.plotting import plot_loss_curves
    >>> history = [{"epoch": 1, "train_loss": 1.0, "valid_loss": 0.9},
    ...            {"epoch": 2, "train_loss": 0.6, "valid_loss": 0.7},
    ...            {"epoch": 3, "train_loss": 0.4, "valid_loss": 0.8}]
    >>> ax = plot_loss_curves(history)
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['train', 'validation', 'best epoch 2']
    >>> plt.close(ax.figure)
    """
    records = _history_of(history)
    train_epochs, train = _column(records, "train_loss")
    if train.size == 0:
        message = "the history has no finite 'train_loss' values: has the model been trained?"
        raise ValueError(message)
    valid_epochs, valid = _column(records, "valid_loss")
    ax = _axes(ax)
    ax.plot(train_epochs, train, marker="." if train.size < 30 else None, label="train")
    if valid.size:
        ax.plot(valid_epochs, valid, marker="." if valid.size < 30 else None,
                label="validation")
    if mark_best:
        epochs, values = (valid_epochs, valid) if valid.size else (train_epochs, train)
        best = int(np.argmin(values))
        ax.plot([epochs[best]], [values[best]], linestyle="none", marker="*", markersize=12,
                color="C3", label=f"best epoch {epochs[best]:g}")
        ax.axvline(epochs[best], color="C3", linestyle=":", linewidth=1)
    if log_scale:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (standardised target)")
    ax.legend()
    return ax


