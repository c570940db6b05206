"""Paired comparisons of study candidates: differences to a reference with intervals.

A study answers "is candidate A better than the reference?" only if the difference it
measures is larger than what the noise of training and of the finite test set can
produce. Every candidate of a standard-mode study is trained with the same seeds on the
same folds, so its out-of-fold residuals and the reference's are *paired*: the same
cluster, the same split, the same seed. Resampling clusters and seeds jointly for both
(a paired bootstrap) cancels most of the cluster-to-cluster variance and gives an
interval for the difference itself; the verdict follows from that interval, never from
ranking means.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

__all__ = ["METRICS", "paired_comparison", "verdict"]


def _scatter(residuals: np.ndarray) -> np.ndarray:
    return residuals.std(axis=-1)


def _bias(residuals: np.ndarray) -> np.ndarray:
    return residuals.mean(axis=-1)


def _rms(residuals: np.ndarray) -> np.ndarray:
    return np.sqrt(np.mean(residuals**2, axis=-1))


#: Figures of merit over the last axis of a residual array (dex); all "lower is better"
#: except ``bias``, which is compared by its absolute value.
METRICS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "scatter": _scatter,
    "rms": _rms,
    "bias": _bias,
}


def verdict(low: float, high: float, *, what: str = "scatter") -> str:
    """Words for an interval on ``candidate - reference`` of a lower-is-better figure.

    Parameters
    ----------
    low, high : float
        Ends of the confidence interval of the difference, in dex.
    what : str, default='scatter'
        Name of the figure, used in the sentence.

    Returns
    -------
    str
        ``'better'`` if the whole interval is below zero, ``'worse'`` if above, and
        otherwise ``'no difference larger than X dex'`` with X the larger end.

    Examples
    --------
    >>> verdict(-0.031, -0.004)
    'better'
    >>> verdict(-0.006, 0.009)
    'no difference in scatter larger than 0.009 dex'
    """
    if high < 0:
        return "better"
    if low > 0:
        return "worse"
    bound = max(abs(low), abs(high))
    return f"no difference in {what} larger than {bound:.3f} dex"


def _bootstrap_draws(
    n_seeds: int, n_clusters: int, n_boot: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    seeds = rng.integers(0, n_seeds, size=(n_boot, n_seeds))
    clusters = rng.integers(0, n_clusters, size=(n_boot, n_clusters))
    return seeds, clusters


def _resampled(
    residuals: np.ndarray, seeds: np.ndarray, clusters: np.ndarray,
    metric: Callable[[np.ndarray], np.ndarray], chunk: int = 128,
) -> np.ndarray:
    """The metric, averaged over seeds, for every bootstrap draw (bounded memory)."""
    values = np.empty(len(seeds))
    for start in range(0, len(seeds), chunk):
        stop = start + chunk
        block = residuals[seeds[start:stop, :, None], clusters[start:stop, None, :]]
        values[start:stop] = metric(block).mean(axis=1)
    return values


def _check_residuals(residuals: Mapping[str, np.ndarray], reference: str) -> dict:
    if reference not in residuals:
        message = (f"reference {reference!r} is not one of the candidates "
                   f"{list(residuals)}; pass the label of the setting to compare against")
        raise ValueError(message)
    arrays = {label: np.atleast_2d(np.asarray(r, dtype=np.float64))
              for label, r in residuals.items()}
    shape = arrays[reference].shape
    for label, array in arrays.items():
        if array.shape != shape:
            message = (f"candidate {label!r} has residuals of shape {array.shape} but the "
                       f"reference has {shape}: a paired comparison needs the same seeds "
                       "(rows) and the same clusters (columns) for every candidate")
            raise ValueError(message)
        if not np.isfinite(array).all():
            message = f"candidate {label!r} has NaN or infinite residuals"
            raise ValueError(message)
    return arrays


def paired_comparison(
    residuals: Mapping[str, np.ndarray],
    reference: str,
    *,
    metric: str = "scatter",
    n_boot: int = 2000,
    confidence: float = 0.95,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Each candidate's figure of merit and its difference to the reference, with intervals.

    Parameters
    ----------
    residuals : mapping of str to array of shape (n_seeds, n_clusters)
        Out-of-fold ``predicted - true`` in dex (``log10(M500c / Msun)``) for every
        candidate: row ``s`` comes from training seed ``s``, column ``i`` is cluster
        ``i``; the same seeds and clusters for every candidate (paired).
    reference : str
        Label of the candidate the others are compared with.
    metric : {'scatter', 'rms', 'bias'}, default='scatter'
        Figure of merit per seed, then averaged over seeds. ``'bias'`` is compared
        by its absolute value.
    n_boot : int, default=2000
        Bootstrap draws. Each draw resamples the clusters and the seeds with
        replacement, the same draw for every candidate.
    confidence : float, default=0.95
        Coverage of the percentile intervals.
    random_state : int or None, default=0
        Seed of the bootstrap.

    Returns
    -------
    pandas.DataFrame
        One row per candidate (input order): ``candidate``, ``value`` (the metric,
        dex), ``value_low``/``value_high`` (its interval), ``seed_spread`` (standard
        deviation of the metric across seeds), ``difference`` (candidate minus
        reference, dex), ``difference_low``/``difference_high`` and ``verdict``
        (see :func:`verdict`; ``'reference'`` for the reference row).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> noise = rng.normal(0, 0.15, (3, 800))
    >>> table = paired_comparison({"a": noise, "b": 1.3 * noise, "c": noise + 1e-4},
    ...                           reference="a", n_boot=300)
    >>> list(table["verdict"])[:2]
    ['reference', 'worse']
    """
    if metric not in METRICS:
        message = f"metric={metric!r} is not supported; choose one of {list(METRICS)}"
        raise ValueError(message)
    if not 0 < confidence < 1:
        message = f"confidence must be in (0, 1); got {confidence!r}"
        raise ValueError(message)
    arrays = _check_residuals(residuals, reference)
    n_seeds, n_clusters = arrays[reference].shape
    rng = np.random.default_rng(random_state)
    seeds, clusters = _bootstrap_draws(n_seeds, n_clusters, n_boot, rng)
    function = METRICS[metric]
    signed = (lambda v: np.abs(v)) if metric == "bias" else (lambda v: v)
    draws = {label: signed(_resampled(array, seeds, clusters, function))
             for label, array in arrays.items()}
    tail = 100 * (1 - confidence) / 2
    rows = []
    for label, array in arrays.items():
        per_seed = signed(function(array))
        difference = draws[label] - draws[reference]
        low, high = np.percentile(difference, [tail, 100 - tail])
        value_low, value_high = np.percentile(draws[label], [tail, 100 - tail])
        is_reference = label == reference
        rows.append({
            "candidate": label,
            "value": float(per_seed.mean()),
            "value_low": float(value_low),
            "value_high": float(value_high),
            "seed_spread": float(per_seed.std(ddof=1)) if n_seeds > 1 else 0.0,
            "difference": float(per_seed.mean() - signed(function(arrays[reference])).mean()),
            "difference_low": 0.0 if is_reference else float(low),
            "difference_high": 0.0 if is_reference else float(high),
            "verdict": "reference" if is_reference else verdict(low, high, what=metric),
        })
    return pd.DataFrame(rows)
