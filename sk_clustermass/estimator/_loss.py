"""Losses and penalties: the Gaussian likelihood, MSE, and Keras-style regularisers.

The network predicts, for every cluster, the mean ``mu`` and ``s = log(sigma)`` of a
Gaussian on the (standardised) target. The default loss is its negative
log-likelihood per cluster, ``0.5 * ((y - mu) / sigma)**2 + log(sigma)`` (the constant
``0.5 * log(2 pi)`` dropped), averaged over the batch. ``MSE`` ignores the width.
Both take optional per-cluster weights: the batch mean becomes ``mean(w * loss)``; with
weights rescaled to mean 1 over the data set (as the estimator does), the epoch's loss
is the weighted mean ``sum(w * loss) / sum(w)``, i.e. a weighted likelihood.

The regularisers reproduce the seed lab's Keras study the PyTorch way: an ``l1``,
``l2`` or ``l1l2`` penalty of a given strength on the dense layers' kernels (weights),
biases or activities (outputs), added to the data loss in training.
"""

from __future__ import annotations

import torch
from torch import nn

from ._names import LOSSES, REGULARIZE_TARGETS, REGULARIZERS

__all__ = [
    "LOSSES",
    "REGULARIZERS",
    "REGULARIZE_TARGETS",
    "GaussianNLLLoss",
    "MeanSquaredErrorLoss",
    "penalty",
]


# Bounds on log(sigma) of the standardised target: sigma between ~5e-5 and ~150 std(y).
# They only stop a diverging width from producing inf/NaN in early epochs.
LOG_STD_MIN, LOG_STD_MAX = -10.0, 5.0


class GaussianNLLLoss(nn.Module):
    """Gaussian negative log-likelihood of ``y`` given a predicted mean and log-width.

    Examples
    --------
    >>> import torch
    >>> loss = GaussianNLLLoss()
    >>> float(loss(torch.tensor([[0.0, 0.0]]), torch.tensor([1.0])))
    0.5
    """

    def forward(
        self, y_pred: torch.Tensor, y_true: torch.Tensor, weight: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Mean negative log-likelihood over the batch.

        Parameters
        ----------
        y_pred : torch.Tensor of shape (batch, 2)
            Mean and log standard deviation.
        y_true : torch.Tensor of shape (batch,)
        weight : torch.Tensor of shape (batch,), optional
            Per-cluster weights (>= 0); the result is ``mean(weight * nll)``.
        """
        mean = y_pred[:, 0]
        log_std = y_pred[:, 1].clamp(LOG_STD_MIN, LOG_STD_MAX)
        z = (y_true.reshape(-1).to(mean.dtype) - mean) * torch.exp(-log_std)
        return _weighted_mean(0.5 * z.square() + log_std, weight)


class MeanSquaredErrorLoss(nn.Module):
    """Mean squared error of the predicted mean; the width column is ignored.

    Examples
    --------
    >>> import torch
    >>> float(MeanSquaredErrorLoss()(torch.tensor([[0.0, 3.0]]), torch.tensor([2.0])))
    4.0
    """

    def forward(
        self, y_pred: torch.Tensor, y_true: torch.Tensor, weight: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Mean over the batch of ``weight * (y_true - mean)**2`` (weight 1 if omitted)."""
        error = (y_pred[:, 0] - y_true.reshape(-1).to(y_pred.dtype)).square()
        return _weighted_mean(error, weight)


def _weighted_mean(values: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
    if weight is None:
        return values.mean()
    return (values * weight.reshape(-1).to(values.dtype)).mean()


def _norm(tensors: list[torch.Tensor], kind: str) -> torch.Tensor:
    l1 = sum(t.abs().sum() for t in tensors) if kind in ("l1", "l1l2") else 0.0
    l2 = sum(t.square().sum() for t in tensors) if kind in ("l2", "l1l2") else 0.0
    return l1 + l2


def penalty(
    dense: nn.ModuleList,
    activations: list[torch.Tensor],
    *,
    kind: str,
    target: str,
    strength: float,
) -> torch.Tensor:
    """Regularisation penalty on the hidden dense layers.

    Parameters
    ----------
    dense : torch.nn.ModuleList of torch.nn.Linear
        The hidden dense layers.
    activations : list of torch.Tensor
        Their outputs on the current batch (used when ``target='activity'``).
    kind : {'l1', 'l2', 'l1l2'}
        Sum of absolute values, of squares, or both.
    target : {'kernel', 'bias', 'activity'}
        What is penalised. Activities are summed over features and averaged over the
        batch, as Keras does.
    strength : float
        Multiplier of the penalty (the same for the L1 and L2 parts).

    Returns
    -------
    penalty : torch.Tensor
        A scalar to add to the loss.

    Examples
    --------
    >>> import torch
    >>> layers = torch.nn.ModuleList([torch.nn.Linear(2, 1)])
    >>> with torch.no_grad():
    ...     _ = layers[0].weight.fill_(2.0)
    >>> float(penalty(layers, [], kind="l2", target="kernel", strength=0.5).detach())
    4.0
    """
    if target == "kernel":
        return strength * _norm([layer.weight for layer in dense], kind)
    if target == "bias":
        return strength * _norm([layer.bias for layer in dense], kind)
    batch = max(len(activations[0]), 1) if activations else 1
    return strength * _norm(list(activations), kind) / batch
