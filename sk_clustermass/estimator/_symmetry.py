"""Test-time averaging over the 8 symmetries of a square image.

A cluster image has no preferred orientation, so the network's prediction should not
depend on flips and 90-degree rotations. Averaging the 8 predictions removes the
part that does; the spread between them joins the predicted width.
"""

from __future__ import annotations

import torch

from ._loss import LOG_STD_MAX, LOG_STD_MIN

__all__ = ["combine_outputs", "square_symmetries"]


def square_symmetries(images: torch.Tensor) -> list[torch.Tensor]:
    """The 8 images obtained by flips and 90-degree rotations (4 if not square).

    Parameters
    ----------
    images : torch.Tensor of shape (n, n_bands, height, width)

    Returns
    -------
    list of torch.Tensor
        The identity first.

    Examples
    --------
    >>> import torch
    >>> len(square_symmetries(torch.zeros(1, 1, 4, 4)))
    8
    >>> len(square_symmetries(torch.zeros(1, 1, 4, 5)))
    4
    """
    flips = [images, images.flip(-1), images.flip(-2), images.flip(-1).flip(-2)]
    if images.shape[-1] != images.shape[-2]:
        return flips
    return flips + [image.transpose(-1, -2) for image in flips]


def combine_outputs(outputs: list[torch.Tensor]) -> torch.Tensor:
    """Combine ``(mean, log_std)`` outputs over symmetries into one ``(mean, log_std)``.

    The mean is averaged; the variance is the mean predicted variance plus the
    variance of the means (law of total variance).

    Parameters
    ----------
    outputs : list of torch.Tensor of shape (batch, 2)

    Returns
    -------
    torch.Tensor of shape (batch, 2)

    Examples
    --------
    >>> import torch
    >>> out = combine_outputs([torch.tensor([[1.0, 0.0]]), torch.tensor([[3.0, 0.0]])])
    >>> [round(v, 4) for v in out[0].tolist()]
    [2.0, 0.3466]
    """
    stacked = torch.stack(outputs)
    means = stacked[..., 0]
    variances = torch.exp(2 * stacked[..., 1].clamp(LOG_STD_MIN, LOG_STD_MAX))
    variance = variances.mean(dim=0) + means.var(dim=0, unbiased=False)
    return torch.stack([means.mean(dim=0), 0.5 * torch.log(variance)], dim=1)
