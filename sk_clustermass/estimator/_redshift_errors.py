"""Redshift errors propagated into the predicted masses, by Monte Carlo over z.

Most eRASS1 redshifts are photometric (``sigma_z / (1 + z)`` of about 0.005-0.02),
and the network reads the redshift as exact. When ``X`` carries ``"redshift_err"``
(:func:`~sk_clustermass.as_inputs`), ``predict`` runs the network on
:data:`N_REDSHIFT_DRAWS` copies of ``X`` whose redshifts are drawn from
``N(z, redshift_err)`` (a fixed seed, the same draws for every call, redshifts kept
above :data:`MIN_REDSHIFT`) and combines the Gaussians by the law of total variance:
mean = mean of the means, variance = mean of the variances + variance of the means.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from skorch.helper import SliceDict

from .._inputs import REDSHIFT_ERR_KEY, REDSHIFT_KEY

__all__ = ["MIN_REDSHIFT", "N_REDSHIFT_DRAWS", "combine_draws", "redshift_draws",
           "without_redshift_errors"]

#: Redshift draws per prediction: the Monte Carlo error of the width is ~1/sqrt(2 * 16).
N_REDSHIFT_DRAWS = 16
#: Drawn redshifts are kept at or above this value (redshifts must be > 0).
MIN_REDSHIFT = 1e-3
_SEED = 26


def redshift_draws(X: Any) -> list[SliceDict] | None:
    """Copies of ``X`` at redshifts drawn from its errors; None without errors.

    Parameters
    ----------
    X : mapping or other
        The input of ``predict``. Only a mapping with a ``"redshift_err"`` that is
        positive somewhere has draws.

    Returns
    -------
    list of SliceDict or None
        :data:`N_REDSHIFT_DRAWS` inputs without ``"redshift_err"``, the other keys
        shared with ``X``; None when there is nothing to propagate (then ``predict``
        is exactly what it is without the key).
    """
    if not hasattr(X, "get") or X.get(REDSHIFT_ERR_KEY) is None:
        return None
    error = np.asarray(X[REDSHIFT_ERR_KEY], dtype=np.float64)
    if not (error > 0).any():
        return None
    redshift = np.asarray(X[REDSHIFT_KEY], dtype=np.float64)
    noise = np.random.default_rng(_SEED).standard_normal((N_REDSHIFT_DRAWS, len(redshift)))
    others = {key: X[key] for key in X if key not in (REDSHIFT_KEY, REDSHIFT_ERR_KEY)}
    drawn = np.maximum(redshift + error * noise, MIN_REDSHIFT).astype(np.float32)
    return [SliceDict(**others, **{REDSHIFT_KEY: z}) for z in drawn]


def without_redshift_errors(X: Any) -> SliceDict:
    """``X`` without its ``"redshift_err"``: the clusters at their given redshifts."""
    return SliceDict(**{key: X[key] for key in X if key != REDSHIFT_ERR_KEY})


def combine_draws(predictions: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple:
    """One Gaussian per cluster from the Gaussians of every redshift draw.

    Parameters
    ----------
    predictions : sequence of (mean, std)
        ``predict(draw, return_std=True)`` of every draw, arrays of shape (n_samples,).

    Returns
    -------
    mean, std : ndarray of shape (n_samples,)
        Mean of the means; square root of the mean variance plus the variance of the
        means (dex).

    Examples
    --------
    >>> import numpy as np
    >>> mean, std = combine_draws([(np.array([14.0]), np.array([0.3])),
    ...                            (np.array([14.8]), np.array([0.3]))])
    >>> float(mean[0]), round(float(std[0]), 3)
    (14.4, 0.5)
    """
    means = np.stack([mean for mean, _ in predictions])
    stds = np.stack([std for _, std in predictions])
    variance = np.mean(stds**2, axis=0) + np.var(means, axis=0)
    return means.mean(axis=0), np.sqrt(variance)
