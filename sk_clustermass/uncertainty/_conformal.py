"""Split-conformal recalibration of predicted widths, conditioned on the predicted mass.

A network's widths can be right on average and wrong where it matters (too narrow
at the low-mass end, where the population runs out). This meta-estimator keeps a
held-out calibration split, sorts its clusters into bins of predicted mass
(Mondrian conformal prediction: one calibration per category, Vovk et al. 2005,
"Algorithmic Learning in a Random World", ch. 4; Boström 2022, the crepes
package) and, in each bin, rescales the widths so that the normalised residuals
``|y - mean| / std`` of the calibration clusters reach the wanted coverage
(normalised conformal regression, Lei et al. 2018, JASA 113, 1094). Optionally it
also removes each bin's median residual.

We implement it here in a few lines rather than through MAPIE or crepes: both
return intervals for a chosen level, whereas the library's contract is a Gaussian
``(mean, std)`` per cluster, and both would be a new dependency for a quantile.

Part of :mod:`sk_clustermass.uncertainty`, which re-exports
:class:`ConformalWidthRegressor`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.stats import norm
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.model_selection import train_test_split
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_is_fitted
from skorch.helper import SliceDict

from .._inputs import as_inputs, check_target
from .._utils import IntervalMixin

__all__ = ["ConformalWidthRegressor", "conformal_quantile"]


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    """The split-conformal quantile of non-conformity scores.

    The ``ceil((n + 1) level)``-th smallest of the ``n`` scores: a new exchangeable
    score falls below it with probability at least ``level``. With fewer than
    ``ceil((n + 1) level)`` scores (``n < level / (1 - level)``, e.g. 19 for 0.95) no
    finite score guarantees ``level``, and the quantile is ``+inf``.

    Parameters
    ----------
    scores : ndarray of shape (n,)
        Non-conformity scores of the calibration clusters.
    level : float in (0, 1)
        Wanted coverage.

    Returns
    -------
    float
        The quantile; ``inf`` when ``n`` is too small for ``level``.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass.uncertainty import conformal_quantile
    >>> conformal_quantile(np.arange(1.0, 10.0), 0.68)   # ceil(10 * 0.68) = 7th
    7.0
    >>> conformal_quantile(np.arange(1.0, 10.0), 0.95)   # ceil(10 * 0.95) = 10 > 9
    inf
    """
    ordered = np.sort(np.asarray(scores, dtype=np.float64))
    rank = int(np.ceil((ordered.size + 1) * level))
    if rank > ordered.size:
        return float("inf")
    return float(ordered[rank - 1])


def _take(X: Any, rows: np.ndarray) -> Any:
    if isinstance(X, Mapping):
        X = X if isinstance(X, SliceDict) else as_inputs(X, counts=False)
        return X[rows]
    return _safe_indexing(X, rows)


class ConformalWidthRegressor(IntervalMixin, RegressorMixin, BaseEstimator):
    """Widths recalibrated on a held-out split, bin by bin in predicted mass.

    ``fit`` splits ``X, y`` (shuffled, seeded): ``estimator`` is trained on one
    part; on the other (the calibration split), the clusters are sorted into
    ``n_bins`` bins of predicted mass with equal numbers of clusters, and in each
    bin the widths are multiplied by ``scale_ = q / z``, with ``q`` the
    :func:`conformal_quantile` of ``|y - mean - shift| / std`` at ``level`` and
    ``z`` the Gaussian quantile of the same central probability (0.994 for
    0.68). With ``redshift_bins > 1`` each mass bin is split further into bins of
    redshift (equal-count edges over the calibration split); a cell with fewer than
    ``min_cell_size`` calibration clusters keeps the factor of its mass bin.
    ``predict`` applies the factor (and shift) of each cluster's cell.

    Parameters
    ----------
    estimator : estimator or Pipeline, optional
        A regressor whose ``predict`` accepts ``return_std=True``.
        ``ClusterMassRegressor()`` by default; an :class:`EnsembleRegressor`
        works too.
    calibration_fraction : float, default=0.2
        Fraction of the clusters kept for calibration (ignored with ``prefit``).
    n_bins : int, default=4
        Bins of predicted mass; each needs at least 20 calibration clusters.
    redshift_bins : int, default=1
        Bins of redshift within each mass bin; needs ``X["redshift"]``. The depth
        of a survey changes with distance, and the widths with it.
    min_cell_size : int, default=30
        Fewest calibration clusters for a (mass, redshift) cell to get its own
        factor.
    level : float, default=0.68
        Central probability at which the widths are calibrated. For Gaussian
        pulls every other level follows.
    recenter : bool, default=True
        Also subtract each bin's median residual from the means: this removes
        the bias in bins of predicted mass (not that in bins of true mass, which
        is regression to the mean of the training population).
    prefit : bool, default=False
        ``estimator`` is already fitted: use all of ``X, y`` for calibration.
    random_state : int, RandomState or None
        Seeds the split.

    Attributes
    ----------
    estimator_ : fitted estimator
        The wrapped regressor (``estimator`` itself with ``prefit``).
    bin_edges_ : ndarray of shape (n_bins - 1,)
        Inner edges of the predicted-mass bins, ``log10(M500c / Msun)``.
    redshift_edges_ : ndarray of shape (redshift_bins - 1,)
        Inner edges of the redshift bins.
    scale_ : ndarray of shape (n_bins, redshift_bins)
        Width factor per cell.
    shift_ : ndarray of shape (n_bins, redshift_bins)
        Added to the means per cell, dex (zeros without ``recenter``).
    n_calibration_ : int
        Number of calibration clusters.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import BayesianRidge
    >>> from sk_clustermass.uncertainty import ConformalWidthRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 1))
    >>> y = 14.0 + 0.3 * X[:, 0] + rng.normal(0, 0.05, 2000) * (2 + X[:, 0])
    >>> model = ConformalWidthRegressor(BayesianRidge(), n_bins=4, random_state=0)
    >>> mean, std = model.fit(X, y).predict(X, return_std=True)
    >>> bool(model.scale_[0, 0] < model.scale_[-1, 0])   # wider where the noise is larger
    True
    """

    def __init__(
        self,
        estimator: BaseEstimator | None = None,
        calibration_fraction: float = 0.2,
        n_bins: int = 4,
        redshift_bins: int = 1,
        min_cell_size: int = 30,
        level: float = 0.68,
        recenter: bool = True,
        prefit: bool = False,
        random_state: Any = None,
    ) -> None:
        self.estimator = estimator
        self.calibration_fraction = calibration_fraction
        self.n_bins = n_bins
        self.redshift_bins = redshift_bins
        self.min_cell_size = min_cell_size
        self.level = level
        self.recenter = recenter
        self.prefit = prefit
        self.random_state = random_state

    def _check_params(self, n_samples: int) -> int:
        if not (isinstance(self.level, float | int) and 0 < self.level < 1):
            message = f"level must be a probability in (0, 1), e.g. 0.68; got {self.level!r}"
            raise ValueError(message)
        if not (0 < self.calibration_fraction < 1):
            message = ("calibration_fraction must be in (0, 1), e.g. 0.2; got "
                       f"{self.calibration_fraction!r}")
            raise ValueError(message)
        n_cal = n_samples if self.prefit else round(n_samples * self.calibration_fraction)
        for name in ("n_bins", "redshift_bins", "min_cell_size"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 1):
                message = f"{name} must be an integer >= 1; got {value!r}"
                raise ValueError(message)
        if n_cal < 20 * self.n_bins:
            message = (
                f"{n_cal} calibration clusters cannot fill {self.n_bins} bins of at least "
                "20; use more clusters, a larger calibration_fraction or fewer n_bins"
            )
            raise ValueError(message)
        return n_cal

    def fit(self, X: Any, y: Any, **fit_params: Any) -> ConformalWidthRegressor:
        """Train the regressor on one split and calibrate its widths on the other.

        Parameters
        ----------
        X : skorch.helper.SliceDict or dict
            ``X["images"]`` of shape (n_samples, n_bands, height, width) and
            ``X["redshift"]`` of shape (n_samples,), or what ``estimator`` takes.
        y : array-like of shape (n_samples,)
            ``log10(M500c / Msun)``.
        **fit_params
            Passed to the regressor's ``fit`` (not used with ``prefit``).

        Returns
        -------
        self : ConformalWidthRegressor
        """
        y = check_target(y, len(y))
        n_cal = self._check_params(y.shape[0])
        if self.prefit:
            self.estimator_ = self.estimator
            check_is_fitted(self.estimator_)
            X_cal, y_cal = X, y
        else:
            train, cal = train_test_split(np.arange(y.shape[0]), test_size=n_cal,
                                          shuffle=True, random_state=self.random_state)
            base = self.estimator
            if base is None:
                from ..estimator import ClusterMassRegressor

                base = ClusterMassRegressor()
            self.estimator_ = clone(base).fit(_take(X, train), y[train], **fit_params)
            X_cal, y_cal = _take(X, cal), y[cal]
        mean, std = self.estimator_.predict(X_cal, return_std=True)
        redshift = self._redshift(X_cal)
        quantiles = np.linspace(0.0, 1.0, self.redshift_bins + 1)[1:-1]
        self.redshift_edges_ = np.quantile(redshift, quantiles)
        mean = np.asarray(mean, np.float64)
        self.bin_edges_ = np.quantile(mean, np.linspace(0.0, 1.0, self.n_bins + 1)[1:-1])
        self._calibrate(mean, np.asarray(std, np.float64), y_cal, self._cells(mean, redshift))
        self.n_calibration_ = int(y_cal.shape[0])
        return self

    def _redshift(self, X: Any) -> np.ndarray:
        if self.redshift_bins == 1:
            return np.zeros(len(X))
        if not (isinstance(X, Mapping) and "redshift" in X):
            message = ("redshift_bins > 1 needs X['redshift']: pass X as a SliceDict or dict "
                       "with 'images' and 'redshift', or set redshift_bins=1")
            raise ValueError(message)
        return np.asarray(X["redshift"], dtype=np.float64).ravel()

    def _cells(self, mean: np.ndarray, redshift: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (np.searchsorted(self.bin_edges_, mean, side="right"),
                np.searchsorted(self.redshift_edges_, redshift, side="right"))

    def _fit_cell(self, residual: np.ndarray, std: np.ndarray) -> tuple[float, float]:
        """(shift, scale) of one group of calibration clusters."""
        shift = float(np.median(residual)) if self.recenter else 0.0
        scores = np.abs(residual - shift) / std
        return shift, conformal_quantile(scores, self.level) / norm.ppf(0.5 + self.level / 2)

    def _calibrate(self, mean: np.ndarray, std: np.ndarray, y: np.ndarray,
                   cells: tuple[np.ndarray, np.ndarray]) -> None:
        mass_bin, z_bin = cells
        residual = y - mean
        self.shift_ = np.zeros((self.n_bins, self.redshift_bins))
        self.scale_ = np.ones((self.n_bins, self.redshift_bins))
        for k in range(self.n_bins):
            in_mass = mass_bin == k
            fallback = self._fit_cell(residual[in_mass], std[in_mass])
            for j in range(self.redshift_bins):
                inside = in_mass & (z_bin == j)
                enough = np.count_nonzero(inside) >= self.min_cell_size
                self.shift_[k, j], self.scale_[k, j] = (
                    self._fit_cell(residual[inside], std[inside]) if enough else fallback)
        self._warn_if_infinite()

    def _warn_if_infinite(self) -> None:
        """Warn when a cell had too few calibration clusters for a finite width."""
        cells = [(int(k), int(j)) for k, j in zip(*np.nonzero(np.isinf(self.scale_)))]
        if not cells:
            return
        needed = int(np.ceil(self.level / (1 - self.level) - 1e-9))
        message = (
            f"the (mass bin, redshift bin) cell(s) {cells} hold too few calibration "
            f"clusters for a conformal width at level={self.level} (at least {needed} "
            "are needed): their widths are infinite. Use more clusters, a larger "
            "calibration_fraction, fewer n_bins or a lower level."
        )
        warnings.warn(message, UserWarning, stacklevel=3)

    def predict(self, X: Any, return_std: bool = False):
        """Recentred means and recalibrated widths.

        Parameters
        ----------
        X : skorch.helper.SliceDict or dict
            Inputs of the clusters.
        return_std : bool, default=False
            Also return the recalibrated 1-sigma widths, in dex.

        Returns
        -------
        mean : ndarray of shape (n_samples,)
            ``log10(M500c / Msun)``.
        std : ndarray of shape (n_samples,)
            Only with ``return_std=True``.
        """
        check_is_fitted(self, "scale_")
        mean, std = self.estimator_.predict(X, return_std=True)
        mean = np.asarray(mean, np.float64)
        cell = self._cells(mean, self._redshift(X))
        mean = mean + self.shift_[cell]
        if not return_std:
            return mean
        return mean, np.asarray(std, np.float64) * self.scale_[cell]
