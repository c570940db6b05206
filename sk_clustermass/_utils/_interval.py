"""Central intervals from Gaussian predictions: ``predict_interval`` for every regressor.

A regressor whose ``predict(X, return_std=True)`` returns a mean and a 1-sigma width
(``ClusterMassRegressor``, ``EnsembleRegressor``, ``ConformalWidthRegressor``) gets
``predict_interval(X, level)`` from :class:`IntervalMixin`: the two-sided central
interval ``mean ± z std`` with ``z = Phi^-1((1 + level) / 2)``, the interval that
:func:`sk_clustermass.metrics.interval_coverage` scores.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Any

import numpy as np

from ._validation import check_number

__all__ = ["IntervalMixin", "central_interval"]


def central_interval(
    mean: Any, std: Any, level: float = 0.68
) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of the central interval of probability ``level`` of Gaussians.

    Parameters
    ----------
    mean : array-like of shape (n_samples,)
        Means, ``log10(M500c / Msun)``.
    std : array-like of shape (n_samples,)
        1-sigma widths in dex (``inf`` gives an unbounded interval).
    level : float, default=0.68
        Probability inside the interval, in (0, 1): 0.68 gives ``mean ± 0.994 std``,
        0.95 ``mean ± 1.960 std``.

    Returns
    -------
    lower, upper : ndarray of shape (n_samples,)
        ``log10(M500c / Msun)``.

    Raises
    ------
    ValueError
        If ``level`` is not a number strictly between 0 and 1.
    """
    if isinstance(level, int | float | np.number) and 1 < level < 100:
        message = (f"level must be a probability in (0, 1), e.g. 0.68 or 0.95; got {level!r}"
                   f" (a percentage? use {level / 100:g})")
        raise ValueError(message)
    check_number("level", level, low=0, high=1, low_inclusive=False, high_inclusive=False)
    mean = np.asarray(mean, dtype=np.float64)
    half_width = NormalDist().inv_cdf(0.5 + level / 2.0) * np.asarray(std, dtype=np.float64)
    return mean - half_width, mean + half_width


class IntervalMixin:
    """Adds :meth:`predict_interval` to a regressor with ``predict(X, return_std=True)``."""

    def predict_interval(self, X: Any, level: float = 0.68) -> tuple[np.ndarray, np.ndarray]:
        """Central interval of the predicted Gaussian of every cluster.

        ``mean ± z std`` from ``predict(X, return_std=True)``, with
        ``z = Phi^-1((1 + level) / 2)``: for a calibrated model a fraction ``level``
        of the true masses falls inside (what
        :func:`sk_clustermass.metrics.interval_coverage` measures).

        Parameters
        ----------
        X : skorch.helper.SliceDict, dict, HDF5ClusterDataset or path to an HDF5 file
            As in ``predict``.
        level : float, default=0.68
            Probability of the interval, in (0, 1); 0.68 is the 1-sigma interval.

        Returns
        -------
        lower, upper : ndarray of shape (n_samples,)
            Bounds, ``log10(M500c / Msun)``.

        Raises
        ------
        ValueError
            If ``level`` is not in (0, 1) (checked before anything is predicted).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import BayesianRidge
        >>> from sk_clustermass.uncertainty import EnsembleRegressor
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(200, 1))
        >>> y = 14.0 + 0.3 * X[:, 0] + rng.normal(0, 0.1, 200)
        >>> model = EnsembleRegressor(BayesianRidge(), n_estimators=2, random_state=0)
        >>> lower, upper = model.fit(X, y).predict_interval(X, level=0.95)
        >>> round(float(np.mean((lower <= y) & (y <= upper))), 2)
        0.95
        """
        central_interval(0.0, 0.0, level)  # check level before the (slow) prediction
        mean, std = self.predict(X, return_std=True)
        return central_interval(mean, std, level)
