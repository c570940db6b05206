"""The network's raw output as a mass and its width: the one place the target is restored.

The network predicts, per cluster, a standardised mean and (for the likelihood loss) the
log of a standardised width. :func:`mass_from_output` turns that into ``log10(M500c /
Msun)`` and dex, for numpy arrays (:meth:`ClusterMassRegressor.predict`) and torch
tensors (:class:`MassNetwork`, hence export and inspection) alike, with the same
operations in the same order, so both give the same numbers.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch

from ._loss import LOG_STD_MAX, LOG_STD_MIN

__all__ = ["mass_from_output"]

Array = TypeVar("Array", np.ndarray, torch.Tensor)


def mass_from_output(
    raw: Array,
    *,
    loss: str,
    y_mean: float,
    y_scale: float,
    std_scale: float,
    residual_std: float,
    min_std: float | None = None,
) -> tuple[Array, Array]:
    """Mean and standard deviation of ``log10(M500c / Msun)`` from the raw network output.

    Parameters
    ----------
    raw : ndarray or torch.Tensor of shape (n_samples, 2)
        The network's output: column 0 the standardised mean, column 1 the log of the
        standardised width (read only for ``loss='gaussian_nll'``), clipped to
        [``LOG_STD_MIN``, ``LOG_STD_MAX``] = [-10, 5] before use.
    loss : {'gaussian_nll', 'mse'}
        The regressor's loss. With ``'mse'`` the network has no width of its own and
        every cluster gets the validation residual ``residual_std``.
    y_mean, y_scale : float
        The target's standardisation (``y_mean_``, ``y_scale_``), in dex.
    std_scale : float
        The width calibration factor (``std_scale_``), dimensionless.
    residual_std : float
        The residual of the mean, in units of ``y_scale`` (``residual_std_``).
    min_std : float, optional
        Floor of the returned width, in dex (``predict`` uses ``MIN_STD_DEX`` = 1e-3);
        none by default.

    Returns
    -------
    mean : ndarray or torch.Tensor of shape (n_samples,)
        ``log10(M500c / Msun)``, of the same kind as ``raw``.
    std : ndarray or torch.Tensor of shape (n_samples,)
        Its standard deviation, in dex.

    Examples
    --------
    >>> import numpy as np
    >>> raw = np.array([[0.0, 0.0], [1.0, np.log(2.0)]])
    >>> mass_from_output(raw, loss="gaussian_nll", y_mean=14.0, y_scale=0.5,
    ...                  std_scale=1.0, residual_std=0.3)
    (array([14. , 14.5]), array([0.5, 1. ]))
    """
    xp = torch if isinstance(raw, torch.Tensor) else np  # the same calls in both
    mean = raw[:, 0] * y_scale + y_mean
    if loss == "mse":
        std = xp.full_like(mean, residual_std * y_scale)
    else:
        width = xp.exp(xp.clip(raw[:, 1], LOG_STD_MIN, LOG_STD_MAX))
        std = width * y_scale * std_scale
    if min_std is not None:
        std = xp.clip(std, min_std, None)
    return mean, std
