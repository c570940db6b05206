"""Figures of merit for predicted cluster masses, and ready-made scikit-learn scorers.

Every function takes the true masses and the predictions as ``log10(M500c / Msun)``,
arrays of shape (n_samples,). Residuals are ``predicted - true`` (positive: mass
over-estimated); pulls are ``(true - mean) / std``, the convention of DESIGN.md
section 7. Widths (``std``) are the 1-sigma Gaussian uncertainties in dex that
``predict(X, return_std=True)`` returns.

Point estimates
    :func:`scatter_dex` (standard deviation of the residuals, the seed's
    "standard deviation"), :func:`bias_dex` (their mean), :func:`sigma_ln_m`
    (the scatter in ln M, ``ln(10) * scatter_dex``, the unit of most papers).
Uncertainties
    :func:`gaussian_nll`, :func:`interval_coverage`, :func:`pulls`,
    :func:`pit_values`.
Tables and scorers
    :func:`summary_table` compares several predictions on the same clusters;
    :data:`scatter_scorer`, :func:`nll_scorer`, :func:`coverage_scorer` and the
    :data:`SCORERS` dict plug into ``GridSearchCV(scoring=...)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import norm
from sklearn.metrics import make_scorer

from ._utils import check_vector

__all__ = [
    "SCORERS",
    "bias_dex",
    "coverage_scorer",
    "gaussian_nll",
    "interval_coverage",
    "nll_scorer",
    "pit_values",
    "pulls",
    "scatter_dex",
    "scatter_scorer",
    "sigma_ln_m",
    "summary_table",
]

#: Columns of :func:`summary_table`, in order.
SUMMARY_COLUMNS = ("scatter_dex", "sigma_lnM", "bias_dex", "rmse_dex", "coverage_68", "nll", "n")


# ---------------------------------------------------------------------- validation


def _check_pair(y_true: ArrayLike, y_pred: ArrayLike, pred_name: str = "y_pred"):
    true = check_vector(y_true, "y_true")
    pred = check_vector(y_pred, pred_name)
    if true.shape != pred.shape:
        message = (
            f"y_true has {true.shape[0]} values but {pred_name} has {pred.shape[0]}; "
            "they must be aligned one-to-one, cluster by cluster"
        )
        raise ValueError(message)
    return true, pred


def _check_std(std: ArrayLike, n_samples: int) -> np.ndarray:
    width = np.asarray(std, dtype=np.float64)
    if width.ndim == 0:
        width = np.full(n_samples, float(width))
    width = check_vector(width, "std")
    if width.shape[0] != n_samples:
        message = (
            f"std has {width.shape[0]} values but y_true has {n_samples}; pass one width "
            "per cluster (or a single number for all)"
        )
        raise ValueError(message)
    if not (width > 0).all():
        n_bad = int(np.count_nonzero(width <= 0))
        message = (
            f"std must be > 0 for every cluster; {n_bad} value(s) are <= 0 "
            f"(min {width.min():.3g}). A zero width means a model claims certainty: "
            "floor it (np.maximum(std, 1e-6)) or check that you passed the widths, "
            "not variances or log-widths."
        )
        raise ValueError(message)
    return width


def _check_gaussian(y_true: ArrayLike, mean: ArrayLike, std: ArrayLike):
    true, centre = _check_pair(y_true, mean, "mean")
    return true, centre, _check_std(std, true.shape[0])


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


# ---------------------------------------------------------------------- tables
def _split_prediction(name: str, value: Any) -> tuple[Any, Any]:
    if isinstance(value, tuple):
        if len(value) != 2:
            message = (
                f"predictions[{name!r}] must be an array of means or a (mean, std) tuple; "
                f"got a tuple of length {len(value)}"
            )
            raise ValueError(message)
        return value
    return value, None


def summary_table(y_true: ArrayLike, predictions: Mapping[str, Any]) -> pd.DataFrame:
    """Compare several predictions of the same clusters, one row per method.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True ``log10(M500c / Msun)``.
    predictions : mapping of str to array-like or (mean, std) tuple
        For each method, its predicted means, or a tuple ``(mean, std)``; ``std``
        may be None (point predictions: then ``coverage_68`` and ``nll`` are NaN)
        or a single number (one width for all, as the baselines return).

    Returns
    -------
    pandas.DataFrame
        Indexed by method name, columns ``scatter_dex``, ``sigma_lnM``,
        ``bias_dex``, ``rmse_dex``, ``coverage_68``, ``nll`` and ``n`` (number of
        clusters).

    Examples
    --------
    >>> from sk_clustermass.metrics import summary_table
    >>> truth = [14.0, 14.0, 14.0, 14.0]
    >>> table = summary_table(truth, {"cnn": ([14.1, 13.9, 14.1, 13.9], 0.15),
    ...                               "relation": [14.2, 14.0, 14.2, 14.0]})
    >>> table[["scatter_dex", "bias_dex", "rmse_dex", "coverage_68"]].round(4)
              scatter_dex  bias_dex  rmse_dex  coverage_68
    cnn               0.1       0.0    0.1000          1.0
    relation          0.1       0.1    0.1414          NaN
    """
    if not isinstance(predictions, Mapping) or not predictions:
        message = (
            "predictions must be a non-empty dict mapping a method name to its means or "
            "to a (mean, std) tuple, e.g. {'cnn': (mean, std), 'count rate': mean}"
        )
        raise ValueError(message)
    true = check_vector(y_true, "y_true")
    rows = {}
    for name, value in predictions.items():
        mean, std = _split_prediction(name, value)
        _, centre = _check_pair(true, mean, f"predictions[{name!r}] mean")
        residual = centre - true
        row = {
            "scatter_dex": scatter_dex(true, centre),
            "sigma_lnM": sigma_ln_m(true, centre),
            "bias_dex": bias_dex(true, centre),
            "rmse_dex": float(np.sqrt(np.mean(residual**2))),
            "coverage_68": np.nan,
            "nll": np.nan,
            "n": true.shape[0],
        }
        if std is not None:
            row["coverage_68"] = interval_coverage(true, centre, std, 0.68)
            row["nll"] = gaussian_nll(true, centre, std)
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(SUMMARY_COLUMNS))


# ---------------------------------------------------------------------- scorers
#: Scorer for ``GridSearchCV(scoring=...)``: minus the scatter in dex (greater is better).
scatter_scorer = make_scorer(scatter_dex, greater_is_better=False)


def _predict_gaussian(estimator: Any, X: Any) -> tuple[np.ndarray, np.ndarray]:
    try:
        result = estimator.predict(X, return_std=True)
    except TypeError as exc:
        message = (
            f"{type(estimator).__name__}.predict does not accept return_std=True ({exc}); "
            "the NLL and coverage scorers need an estimator with Gaussian predictions, "
            "such as ClusterMassRegressor or the baselines. Use scatter_scorer instead."
        )
        raise TypeError(message) from exc
    if not (isinstance(result, tuple) and len(result) == 2):
        message = (
            f"{type(estimator).__name__}.predict(X, return_std=True) must return a "
            f"(mean, std) tuple; got {type(result).__name__}"
        )
        raise TypeError(message)
    return result


def nll_scorer(estimator: Any, X: Any, y_true: ArrayLike) -> float:
    """Scorer: minus the mean Gaussian negative log-likelihood (greater is better).

    Calls ``estimator.predict(X, return_std=True)``; use it as
    ``GridSearchCV(..., scoring=nll_scorer)`` or through :data:`SCORERS`.

    Parameters
    ----------
    estimator : fitted estimator
        Its ``predict`` must accept ``return_std=True`` and return ``(mean, std)``.
    X : skorch.helper.SliceDict or dict
        Inputs of the held-out clusters.
    y_true : array-like of shape (n_samples,)
        True ``log10(M500c / Msun)``.

    Returns
    -------
    float
        ``-gaussian_nll(y_true, mean, std)``.

    Raises
    ------
    TypeError
        If the estimator cannot return widths.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass.metrics import nll_scorer
    >>> class Constant:
    ...     def predict(self, X, return_std=False):
    ...         mean = np.full(len(X), 14.0)
    ...         return (mean, np.full(len(X), 1.0)) if return_std else mean
    >>> round(nll_scorer(Constant(), np.zeros((2, 1)), [14.0, 14.0]), 4)
    -0.9189
    """
    mean, std = _predict_gaussian(estimator, X)
    return -gaussian_nll(y_true, mean, std)


def coverage_scorer(estimator: Any, X: Any, y_true: ArrayLike) -> float:
    """Scorer: ``-|coverage_68 - 0.68|``, 0 for perfectly calibrated 1-sigma intervals.

    Calls ``estimator.predict(X, return_std=True)``; greater is better.

    Parameters
    ----------
    estimator : fitted estimator
        Its ``predict`` must accept ``return_std=True`` and return ``(mean, std)``.
    X : skorch.helper.SliceDict or dict
        Inputs of the held-out clusters.
    y_true : array-like of shape (n_samples,)
        True ``log10(M500c / Msun)``.

    Returns
    -------
    float
        In [-0.68, 0].

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass.metrics import coverage_scorer
    >>> class Constant:
    ...     def predict(self, X, return_std=False):
    ...         mean = np.full(len(X), 14.0)
    ...         return (mean, np.full(len(X), 0.1)) if return_std else mean
    >>> round(coverage_scorer(Constant(), np.zeros((4, 1)), [14.0, 14.0, 14.0, 15.0]), 2)
    -0.07
    """
    mean, std = _predict_gaussian(estimator, X)
    return -abs(interval_coverage(y_true, mean, std, 0.68) - 0.68)


#: Scorers by name for ``GridSearchCV(scoring=SCORERS, refit="scatter")``: ``"scatter"``
#: (minus the scatter in dex), ``"nll"`` (minus the mean NLL) and ``"coverage"``
#: (minus the distance of the 68% coverage from 0.68). All are greater-is-better.
SCORERS: dict[str, Any] = {
    "scatter": scatter_scorer,
    "nll": nll_scorer,
    "coverage": coverage_scorer,
}
