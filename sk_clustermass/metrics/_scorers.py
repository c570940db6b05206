"""Ready-made scikit-learn scorers built on the metrics.

Part of :mod:`sk_clustermass.metrics`, which re-exports the public names.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import make_scorer

from ._scores import gaussian_nll, interval_coverage, scatter_dex

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
