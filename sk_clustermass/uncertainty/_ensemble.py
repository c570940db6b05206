"""Deep ensembles: several copies of a regressor trained with different seeds, mixed.

A single network trained by likelihood learns the aleatoric width (the noise of the
data) but not the epistemic one (how much its own weights could differ). Training
the same network with ``n_estimators`` seeds and combining the Gaussian predictions
as an equal-weight mixture adds the spread of the means to the widths
(Lakshminarayanan, Pritzel & Blundell 2017, "Simple and scalable predictive
uncertainty estimation using deep ensembles", NeurIPS):

    mean = (1/M) sum_m mu_m
    var  = (1/M) sum_m sigma_m^2  +  (1/M) sum_m (mu_m - mean)^2

Part of :mod:`sk_clustermass.uncertainty`, which re-exports :class:`EnsembleRegressor`.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
from joblib import Parallel, cpu_count, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from .._utils import IntervalMixin, check_number

__all__ = ["EnsembleRegressor", "mixture_moments"]


def _set_random_states(estimator: BaseEstimator, seed: int) -> BaseEstimator:
    """Set every ``random_state`` parameter of ``estimator`` (and its steps) to ``seed``.

    Parameters
    ----------
    estimator : estimator or Pipeline
        Changed in place.
    seed : int

    Returns
    -------
    estimator
        The same object.
    """
    params = estimator.get_params(deep=True)
    seeds = {key: int(seed) for key in params
             if key == "random_state" or key.endswith("__random_state")}
    if seeds:
        estimator.set_params(**seeds)
    return estimator


def _fit_member(member: BaseEstimator, X: Any, y: Any, fit_params: dict,
                threads: int | None) -> BaseEstimator:
    """Fit one member; in a parallel worker, with ``threads`` threads for torch and BLAS."""
    if threads is None:
        return member.fit(X, y, **fit_params)
    torch = sys.modules.get("torch")  # imported with the member, if it is a network
    before = torch.get_num_threads() if torch is not None else None
    try:
        if torch is not None:
            torch.set_num_threads(threads)
        with threadpool_limits(limits=threads):
            return member.fit(X, y, **fit_params)
    finally:
        if torch is not None:
            torch.set_num_threads(before)


def mixture_moments(means: np.ndarray, stds: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of an equal-weight mixture of Gaussians.

    Parameters
    ----------
    means : ndarray of shape (n_members, n_samples)
        Means of the members, ``log10(M500c / Msun)``.
    stds : ndarray of shape (n_members, n_samples) or None
        Their 1-sigma widths in dex; None for point predictions (then only the
        spread of the means counts).

    Returns
    -------
    mean, std : ndarray of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass.uncertainty import mixture_moments
    >>> mean, std = mixture_moments(np.array([[14.0], [14.2]]), np.array([[0.1], [0.1]]))
    >>> mean.round(3), std.round(4)   # sqrt(0.1^2 + 0.1^2)
    (array([14.1]), array([0.1414]))
    """
    mean = means.mean(axis=0)
    variance = means.var(axis=0)
    if stds is not None:
        variance = variance + np.mean(stds**2, axis=0)
    return mean, np.sqrt(variance)


class EnsembleRegressor(IntervalMixin, RegressorMixin, BaseEstimator):
    """Several copies of a regressor, each trained with its own seed, as one mixture.

    Every member is a clone of ``estimator`` with all its ``random_state``
    parameters (those of a Pipeline's steps too) set to a seed drawn from
    ``random_state``; each is fitted on all of ``X, y``. The members differ by
    their initial weights, their shuffling and their validation split.
    ``predict(X, return_std=True)`` returns the moments of the equal-weight
    mixture of their Gaussian predictions (:func:`mixture_moments`).

    Parameters
    ----------
    estimator : estimator or Pipeline, optional
        The regressor to copy; its ``predict`` should accept ``return_std=True``
        (members without widths contribute only the spread of their means).
        ``ClusterMassRegressor()`` by default.
    n_estimators : int, default=5
        Number of members. Lakshminarayanan et al. (2017) found 5 enough for
        most of the gain.
    random_state : int, RandomState or None
        Draws the members' seeds; the same value gives the same ensemble.
    n_jobs : int or None, default=None
        Members fitted at once, in separate processes (joblib; -1 uses every core).
        Each worker runs torch and BLAS with ``max(1, cores // n_jobs)`` threads so
        that the workers together do not oversubscribe the cores. None or 1 fits
        them one after the other in this process. The members are the same either
        way (same seeds); on a CPU their weights agree to float32 rounding (thread
        counts change the order of sums).

    Attributes
    ----------
    estimators_ : list of fitted estimators
        The members, in order.
    seeds_ : ndarray of shape (n_estimators,)
        The seed of each member.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import BayesianRidge
    >>> from sk_clustermass.uncertainty import EnsembleRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = 14.0 + 0.3 * X[:, 0] + rng.normal(0, 0.1, 200)
    >>> ensemble = EnsembleRegressor(BayesianRidge(), n_estimators=3, random_state=0)
    >>> mean, std = ensemble.fit(X, y).predict(X[:2], return_std=True)
    >>> len(ensemble.estimators_), mean.shape, bool((std > 0.09).all())
    (3, (2,), True)
    """

    def __init__(
        self,
        estimator: BaseEstimator | None = None,
        n_estimators: int = 5,
        random_state: Any = None,
        n_jobs: int | None = None,
    ) -> None:
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _base(self) -> BaseEstimator:
        if self.estimator is None:
            from ..estimator import ClusterMassRegressor

            return ClusterMassRegressor()
        return self.estimator

    def fit(self, X: Any, y: Any, **fit_params: Any) -> EnsembleRegressor:
        """Fit every member on ``X, y``.

        Parameters
        ----------
        X : skorch.helper.SliceDict or dict
            ``X["images"]`` of shape (n_samples, n_bands, height, width) and
            ``X["redshift"]`` of shape (n_samples,), or what ``estimator`` takes.
        y : array-like of shape (n_samples,)
            ``log10(M500c / Msun)``.
        **fit_params
            Passed to every member's ``fit`` (e.g. ``sample_weight``).

        Returns
        -------
        self : EnsembleRegressor
        """
        count = self.n_estimators
        if not (isinstance(count, int | np.integer) and not isinstance(count, bool)
                and count >= 1):
            message = f"n_estimators must be an integer >= 1; got {count!r}"
            raise ValueError(message)
        rng = check_random_state(self.random_state)
        self.seeds_ = rng.randint(np.iinfo(np.int32).max, size=int(count))
        members = [_set_random_states(clone(self._base()), int(seed)) for seed in self.seeds_]
        n_jobs = min(self._n_workers(), len(members))
        if n_jobs == 1:
            self.estimators_ = [_fit_member(m, X, y, fit_params, None) for m in members]
            return self
        threads = max(1, cpu_count() // n_jobs)
        self.estimators_ = Parallel(n_jobs=n_jobs)(
            delayed(_fit_member)(member, X, y, fit_params, threads) for member in members
        )
        return self

    def _n_workers(self) -> int:
        """The number of parallel workers ``n_jobs`` asks for (1: sequential)."""
        check_number("n_jobs", self.n_jobs, integer=True, allow_none=True)
        if self.n_jobs == 0:
            message = ("n_jobs must be None, a positive number of workers or a negative "
                       "count from the number of cores (-1: all); got 0")
            raise ValueError(message)
        return 1 if self.n_jobs is None else effective_n_jobs(self.n_jobs)

    def predict_members(self, X: Any) -> tuple[np.ndarray, np.ndarray | None]:
        """Every member's predictions.

        Parameters
        ----------
        X : skorch.helper.SliceDict or dict
            Inputs of the clusters.

        Returns
        -------
        means : ndarray of shape (n_estimators, n_samples)
            ``log10(M500c / Msun)`` per member.
        stds : ndarray of shape (n_estimators, n_samples) or None
            Their widths in dex; None when the members give none.
        """
        check_is_fitted(self, "estimators_")
        means, stds = [], []
        for member in self.estimators_:
            try:
                mean, std = member.predict(X, return_std=True)
            except TypeError:  # a point regressor: no return_std
                mean, std = member.predict(X), None
            means.append(np.asarray(mean, dtype=np.float64))
            stds.append(std)
        if any(std is None for std in stds):
            return np.stack(means), None
        return np.stack(means), np.stack([np.asarray(s, dtype=np.float64) for s in stds])

    def predict(self, X: Any, return_std: bool = False):
        """Mixture mean, and optionally its width.

        Parameters
        ----------
        X : skorch.helper.SliceDict or dict
            Inputs of the clusters.
        return_std : bool, default=False
            Also return the mixture's standard deviation, in dex.

        Returns
        -------
        mean : ndarray of shape (n_samples,)
            ``log10(M500c / Msun)``.
        std : ndarray of shape (n_samples,)
            Only with ``return_std=True``: the square root of the mean of the
            members' variances plus the variance of their means.
        """
        mean, std = mixture_moments(*self.predict_members(X))
        return (mean, std) if return_std else mean
