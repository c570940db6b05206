"""Figures of merit of one set of predictions: scatter, bias, NLL, pulls, PIT, coverage.

Part of :mod:`sk_clustermass.metrics`, which re-exports the public functions.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm

from ._checks import _check_gaussian, _check_pair


# ---------------------------------------------------------------------- point metrics
def scatter_dex(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Scatter of the residuals ``y_pred - y_true``: their standard deviation, in dex.

    The population standard deviation (``ddof=0``), which does not include the bias:
    see :func:`bias_dex` and the ``rmse_dex`` column of :func:`summary_table`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True ``log10(M500c / Msun)``.
    y_pred : array-like of shape (n_samples,)
        Predicted ``log10(M500c / Msun)``.

    Returns
    -------
    float
        Scatter in dex (a factor ``10**scatter`` in mass).

    Examples
    --------
    >>> from sk_clustermass.metrics import scatter_dex
    >>> round(scatter_dex([14.0, 14.0, 14.0, 14.0], [14.1, 13.9, 14.1, 13.9]), 6)
    0.1
    """
    true, pred = _check_pair(y_true, y_pred)
    return float(np.std(pred - true))


def bias_dex(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean residual ``y_pred - y_true`` in dex (positive: masses over-estimated).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted ``log10(M500c / Msun)``.

    Returns
    -------
    float

    Examples
    --------
    >>> from sk_clustermass.metrics import bias_dex
    >>> round(bias_dex([14.0, 13.0], [14.2, 13.0]), 6)
    0.1
    """
    true, pred = _check_pair(y_true, y_pred)
    return float(np.mean(pred - true))


def sigma_ln_m(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Scatter in natural-log mass, ``sigma_lnM = ln(10) * scatter_dex``.

    Papers quote either; 0.1 dex is 0.230 in ln M, about a 23% mass scatter.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted ``log10(M500c / Msun)``.

    Returns
    -------
    float

    Examples
    --------
    >>> from sk_clustermass.metrics import sigma_ln_m
    >>> round(sigma_ln_m([14.0, 14.0], [14.1, 13.9]), 4)
    0.2303
    """
    return float(np.log(10.0) * scatter_dex(y_true, y_pred))


# ---------------------------------------------------------------------- uncertainties
def gaussian_nll(y_true: ArrayLike, mean: ArrayLike, std: ArrayLike) -> float:
    """Mean negative log-likelihood of the truths under Gaussian predictions.

    ``-mean(log N(y_true | mean, std))`` with the density in 1/dex, constant term
    included (so a perfect width-0.1 prediction scores about -1.38, not 0).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True ``log10(M500c / Msun)``.
    mean : array-like of shape (n_samples,)
        Predicted means, same units.
    std : array-like of shape (n_samples,) or float
        Predicted 1-sigma widths in dex, all > 0.

    Returns
    -------
    float
        Lower is better.

    Raises
    ------
    ValueError
        On mismatched lengths or a width <= 0.

    Examples
    --------
    >>> from sk_clustermass.metrics import gaussian_nll
    >>> round(gaussian_nll([14.0], [14.0], [1.0]), 4)   # 0.5 ln(2 pi)
    0.9189
    """
    true, centre, width = _check_gaussian(y_true, mean, std)
    return float(-np.mean(norm.logpdf(true, loc=centre, scale=width)))


def pulls(y_true: ArrayLike, mean: ArrayLike, std: ArrayLike) -> np.ndarray:
    """Pulls ``(y_true - mean) / std``: N(0, 1) for calibrated Gaussian predictions.

    A pull distribution wider than 1 means over-confident widths, narrower
    under-confident; a shifted one a bias.

    Parameters
    ----------
    y_true, mean : array-like of shape (n_samples,)
        True and predicted ``log10(M500c / Msun)``.
    std : array-like of shape (n_samples,) or float
        Predicted widths in dex, > 0.

    Returns
    -------
    ndarray of shape (n_samples,)

    Examples
    --------
    >>> from sk_clustermass.metrics import pulls
    >>> pulls([14.2, 13.9], [14.0, 14.0], [0.1, 0.2]).round(6)
    array([ 2. , -0.5])
    """
    true, centre, width = _check_gaussian(y_true, mean, std)
    return (true - centre) / width


def pit_values(y_true: ArrayLike, mean: ArrayLike, std: ArrayLike) -> np.ndarray:
    """Probability integral transform: the predictive CDF at the truth.

    ``Phi((y_true - mean) / std)``; uniform on [0, 1] when the Gaussian predictions
    are calibrated. A U-shaped histogram means over-confident widths, a hump
    under-confident ones, a slope a bias.

    Parameters
    ----------
    y_true, mean : array-like of shape (n_samples,)
        True and predicted ``log10(M500c / Msun)``.
    std : array-like of shape (n_samples,) or float
        Predicted widths in dex, > 0.

    Returns
    -------
    ndarray of shape (n_samples,), values in [0, 1]

    Examples
    --------
    >>> from sk_clustermass.metrics import pit_values
    >>> pit_values([14.0, 14.1], [14.0, 14.0], 0.1).round(4)
    array([0.5   , 0.8413])
    """
    return norm.cdf(pulls(y_true, mean, std))


def interval_coverage(
    y_true: ArrayLike, mean: ArrayLike, std: ArrayLike, level: float = 0.68
) -> float:
    """Fraction of truths inside the central Gaussian interval of probability ``level``.

    The interval is ``mean ± z std`` with ``z = Phi^-1((1 + level) / 2)`` (z = 0.994
    for 0.68, 1.960 for 0.95). Calibrated predictions give a coverage close to
    ``level``; lower means over-confident widths.

    Parameters
    ----------
    y_true, mean : array-like of shape (n_samples,)
        True and predicted ``log10(M500c / Msun)``.
    std : array-like of shape (n_samples,) or float
        Predicted widths in dex, > 0.
    level : float, default=0.68
        Probability of the interval, in (0, 1).

    Returns
    -------
    float
        Coverage in [0, 1].

    Examples
    --------
    >>> from sk_clustermass.metrics import interval_coverage
    >>> interval_coverage([14.0, 14.05, 14.5, 13.0], [14.0] * 4, 0.1)
    0.5
    """
    if not (isinstance(level, int | float | np.floating) and 0 < level < 1):
        message = f"level must be a probability in (0, 1), e.g. 0.68 or 0.95; got {level!r}"
        raise ValueError(message)
    true, centre, width = _check_gaussian(y_true, mean, std)
    half_width = norm.ppf(0.5 + level / 2.0) * width
    return float(np.mean(np.abs(true - centre) <= half_width))

