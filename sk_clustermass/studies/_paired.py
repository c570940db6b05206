"""Paired comparisons of study candidates: differences to a reference with intervals.

A study answers "is candidate A better than the reference?" only if the difference it
measures is larger than what the noise of training and of the finite test set can
produce. Every candidate of a standard-mode study is trained with the same seeds on the
same folds, so its out-of-fold residuals and the reference's are *paired*: the same
cluster, the same split, the same seed. Resampling clusters and seeds jointly for both
(a paired bootstrap) cancels most of the cluster-to-cluster variance and gives an
interval for the difference itself; the verdict follows from that interval, never from
ranking means.

A page of studies makes dozens of such comparisons, and at 95% each one has a 5% chance
of a false verdict. :func:`holm_adjusted` corrects a family of comparisons with the
Holm–Bonferroni step-down method (Holm 1979), which bounds the chance of *any* false
verdict (the family-wise error rate) without assuming the comparisons independent; they
are not, as they share the reference. The Benjamini–Hochberg alternative bounds only the
expected share of false verdicts, weaker than a reader citing one verdict needs.
:func:`paired_comparison` gives the bootstrap p-value of each difference and, for a
family of ``family_size`` comparisons, the Bonferroni-widened interval beside the raw
one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

__all__ = ["METRICS", "corrected_verdicts", "holm_adjusted", "paired_comparison", "verdict"]


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
    family_size: int = 1,
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
    family_size : int, default=1
        Number of comparisons of the family this table belongs to (e.g. every
        non-reference candidate of a page of studies): the ``*_corrected`` interval
        has coverage ``1 - (1 - confidence) / family_size`` (Bonferroni).

    Returns
    -------
    pandas.DataFrame
        One row per candidate (input order): ``candidate``, ``value`` (the metric,
        dex), ``value_low``/``value_high`` (its interval), ``seed_spread`` (standard
        deviation of the metric across seeds), ``n_seeds``, ``difference``
        (candidate minus reference, dex), ``difference_low``/``difference_high``,
        ``difference_low_corrected``/``difference_high_corrected``, ``p_value``
        (two-sided bootstrap p-value of a zero difference, at least
        ``1 / (n_boot + 1)``; 1 for the reference) and ``verdict`` (see
        :func:`verdict`; ``'reference'`` for the reference row).

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
    if not isinstance(family_size, int | np.integer) or family_size < 1:
        message = f"family_size must be a positive integer; got {family_size!r}"
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
    tail_corrected = tail / family_size
    rows = []
    for label, array in arrays.items():
        per_seed = signed(function(array))
        difference = draws[label] - draws[reference]
        low, high = np.percentile(difference, [tail, 100 - tail])
        low_c, high_c = np.percentile(difference, [tail_corrected, 100 - tail_corrected])
        value_low, value_high = np.percentile(draws[label], [tail, 100 - tail])
        is_reference = label == reference
        rows.append({
            "candidate": label,
            "value": float(per_seed.mean()),
            "value_low": float(value_low),
            "value_high": float(value_high),
            "seed_spread": float(per_seed.std(ddof=1)) if n_seeds > 1 else 0.0,
            "n_seeds": n_seeds,
            "difference": float(per_seed.mean() - signed(function(arrays[reference])).mean()),
            "difference_low": 0.0 if is_reference else float(low),
            "difference_high": 0.0 if is_reference else float(high),
            "difference_low_corrected": 0.0 if is_reference else float(low_c),
            "difference_high_corrected": 0.0 if is_reference else float(high_c),
            "p_value": 1.0 if is_reference else _bootstrap_p_value(difference),
            "verdict": "reference" if is_reference else verdict(low, high, what=metric),
        })
    return pd.DataFrame(rows)


def _bootstrap_p_value(draws: np.ndarray) -> float:
    """Two-sided p-value of a zero difference from its bootstrap draws."""
    n = len(draws)
    below = (np.count_nonzero(draws <= 0) + 1) / (n + 1)
    above = (np.count_nonzero(draws >= 0) + 1) / (n + 1)
    return float(min(1.0, 2.0 * min(below, above)))


def holm_adjusted(p_values: np.ndarray | list[float]) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values of a family of comparisons (Holm 1979).

    The ``k``-th smallest p-value is multiplied by ``m - k + 1`` (``m`` comparisons),
    made non-decreasing in that order and capped at 1. Rejecting where the adjusted
    p-value is below ``alpha`` keeps the chance of any false rejection below
    ``alpha``, whatever the dependence between the comparisons.

    Parameters
    ----------
    p_values : array-like of shape (m,)
        Raw p-values in [0, 1].

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, in the input order.

    Examples
    --------
    >>> from sk_clustermass.studies import holm_adjusted
    >>> holm_adjusted([0.01, 0.04, 0.03, 0.20]).round(3).tolist()
    [0.04, 0.09, 0.09, 0.2]
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1 or np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        message = "p_values must be a 1-d array of numbers in [0, 1]"
        raise ValueError(message)
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted


def corrected_verdicts(table: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """Add Holm-corrected verdicts to a page of paired comparisons.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of :func:`paired_comparison` tables, concatenated over the studies of a
        page (``p_value``, ``difference``, ``difference_low``/``_high`` and
        ``verdict`` columns); reference rows are left out of the family.
    alpha : float, default=0.05
        Family-wise error rate.

    Returns
    -------
    pandas.DataFrame
        A copy with ``p_holm`` (NaN on reference rows) and ``verdict_corrected``:
        ``'better'``/``'worse'`` where the adjusted p-value is below ``alpha`` (by
        the sign of the difference), otherwise ``'too small to call'``.

    Examples
    --------
    >>> import pandas as pd
    >>> from sk_clustermass.studies import corrected_verdicts
    >>> page = pd.DataFrame({
    ...     "verdict": ["reference", "better", "better", "worse", "no difference"],
    ...     "difference": [0.0, -0.02, -0.004, 0.01, 0.002],
    ...     "p_value": [1.0, 0.001, 0.03, 0.02, 0.3]})
    >>> corrected_verdicts(page)["verdict_corrected"].tolist()[1:3]
    ['better', 'too small to call']
    """
    if not 0 < alpha < 1:
        message = f"alpha must be in (0, 1); got {alpha!r}"
        raise ValueError(message)
    missing = {"verdict", "difference", "p_value"} - set(table.columns)
    if missing:
        message = (f"the table lacks the column(s) {sorted(missing)}; pass rows of "
                   "paired_comparison (recomputed with this version of the library)")
        raise ValueError(message)
    out = table.copy()
    family = (out["verdict"] != "reference").to_numpy()
    out["p_holm"] = np.nan
    out.loc[family, "p_holm"] = holm_adjusted(out.loc[family, "p_value"].to_numpy())
    called = family & (out["p_holm"] < alpha).to_numpy()
    sign = np.where(out["difference"] < 0, "better", "worse")
    out["verdict_corrected"] = np.where(
        ~family, "reference", np.where(called, sign, "too small to call"))
    return out
