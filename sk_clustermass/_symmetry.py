"""Test-time averaging over the 8 symmetries of a square image.

A cluster image has no preferred orientation, so the network's prediction should not
depend on flips and 90-degree rotations. Averaging the 8 predictions removes the
part that does; the spread between them joins the predicted width.
"""

from __future__ import annotations

import numpy as np
import torch

from ._data import ClusterTensors

__all__ = ["predict_with_symmetries", "square_symmetries"]


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


def predict_with_symmetries(net, data: ClusterTensors) -> tuple[np.ndarray, np.ndarray]:
    """Mean and log-width averaged over the symmetries of the images.

    The returned width combines the mean predicted variance and the variance of the
    8 means (law of total variance).

    Parameters
    ----------
    net : ClusterNet
        A fitted net.
    data : ClusterTensors
        Inputs without target.

    Returns
    -------
    mean, log_std : ndarray of shape (n_samples,)
        In standardised target units.
    """
    means, variances = [], []
    for images in square_symmetries(data.images):
        raw = net.predict_raw(ClusterTensors(images.contiguous(), data.redshift))
        means.append(raw[:, 0])
        variances.append(np.exp(2 * np.clip(raw[:, 1], -10.0, 5.0)))
    means_array = np.stack(means)
    variance = np.mean(variances, axis=0) + means_array.var(axis=0)
    return means_array.mean(axis=0), 0.5 * np.log(variance)
