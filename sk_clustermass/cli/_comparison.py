"""The demo's verdict: the CNN against the classical methods, with paired intervals.

A difference of scatter measured on a few hundred held-out clusters means little
without an interval. The methods predict the *same* clusters, so their residuals are
paired: one bootstrap resample of the clusters, used for every method, gives an
interval for each method's scatter and for its difference to the CNN
(:func:`sk_clustermass.studies.paired_comparison`). The headline quotes that
interval, and :func:`training_note` says when the CNN stopped at ``max_epochs`` while
its validation loss was still falling (a longer run would likely do better).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._report import ReportTable

__all__ = ["N_BOOTSTRAP", "comparison_table", "headline", "paired_scatter", "training_note"]

#: Bootstrap resamples of the held-out clusters behind the paired intervals.
N_BOOTSTRAP = 2000
#: Coverage of the intervals.
CONFIDENCE = 0.95
#: Training "still improving": the lowest validation loss came in this many last epochs.
LAST_EPOCHS = 3


def paired_scatter(y: np.ndarray, predictions: Mapping[str, tuple[np.ndarray, np.ndarray]],
                   reference: str = "CNN", random_state: int | None = 0) -> pd.DataFrame:
    """Every method's scatter and its difference to ``reference``, with paired intervals.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        True ``log10(M500c / Msun)`` of the held-out clusters.
    predictions : dict of str to (mean, std)
        Per method, predicted ``log10(M500c / Msun)`` for the same clusters.
    reference : str, default='CNN'
        The method the others are compared with.
    random_state : int or None, default=0
        Seed of the bootstrap.

    Returns
    -------
    pandas.DataFrame
        Indexed by method: ``scatter_dex`` and its ``scatter_low``/``scatter_high``,
        ``difference_dex`` (method minus reference; positive: the method scatters
        more) with ``difference_low``/``difference_high``, and ``verdict``
        (``'worse'``, ``'better'`` or no difference larger than the interval allows).
    """
    from ..studies import paired_comparison

    y = np.asarray(y, dtype=np.float64)
    residuals = {name: (np.asarray(mean, dtype=np.float64) - y)[None, :]
                 for name, (mean, _) in predictions.items()}
    table = paired_comparison(residuals, reference, metric="scatter", n_boot=N_BOOTSTRAP,
                              confidence=CONFIDENCE, random_state=random_state)
    table = table.rename(columns={"value": "scatter_dex", "value_low": "scatter_low",
                                  "value_high": "scatter_high",
                                  "difference": "difference_dex"})
    columns = ["scatter_dex", "scatter_low", "scatter_high", "difference_dex",
               "difference_low", "difference_high", "verdict"]
    return table.set_index("candidate")[columns].rename_axis("method")


def headline(paired: pd.DataFrame, n_clusters: int, reference: str = "CNN") -> str:
    """One sentence: the reference's scatter against the best other method's, with intervals.

    Parameters
    ----------
    paired : pandas.DataFrame
        Output of :func:`paired_scatter`.
    n_clusters : int
        Number of held-out clusters (named in the sentence).
    reference : str, default='CNN'

    Returns
    -------
    str

    Examples
    --------
    >>> import pandas as pd
    >>> paired = pd.DataFrame(
    ...     {"scatter_dex": [0.105, 0.124], "scatter_low": [0.100, 0.118],
    ...      "scatter_high": [0.110, 0.130], "difference_dex": [0.0, 0.019],
    ...      "difference_low": [0.0, 0.014], "difference_high": [0.0, 0.024]},
    ...     index=["CNN", "boosted trees"])
    >>> print(headline(paired, 1000))  # doctest: +NORMALIZE_WHITESPACE
    The CNN's mass scatter, 0.105 dex (95% interval 0.100-0.110), is 15% smaller than that
    of the best classical method (boosted trees, 0.124 dex, 0.118-0.130): its scatter
    minus the CNN's is +0.019 dex (95% interval 0.014 to 0.024; bootstrap over the 1000
    held-out clusters, the same resample for both methods), so the CNN is better.
    """
    ours = paired.loc[reference]
    others = paired.drop(index=reference)
    best = others["scatter_dex"].idxmin()
    theirs = others.loc[best]
    change = (theirs["scatter_dex"] - ours["scatter_dex"]) / theirs["scatter_dex"]
    size = f"{change:.0%} smaller than" if change > 0 else f"{-change:.0%} larger than"
    low, high = theirs["difference_low"], theirs["difference_high"]
    if low > 0:
        verdict = f"so the {reference} is better"
    elif high < 0:
        verdict = f"so the {reference} is worse"
    else:
        bound = max(abs(low), abs(high))
        verdict = (f"so the two do not differ by more than {bound:.3f} dex on these "
                   "clusters")
    return (f"The {reference}'s mass scatter, {ours['scatter_dex']:.3f} dex "
            f"({CONFIDENCE:.0%} interval {ours['scatter_low']:.3f}-{ours['scatter_high']:.3f}), "
            f"is {size} that of the best classical method ({best}, "
            f"{theirs['scatter_dex']:.3f} dex, {theirs['scatter_low']:.3f}-"
            f"{theirs['scatter_high']:.3f}): its scatter minus the {reference}'s is "
            f"{theirs['difference_dex']:+.3f} dex ({CONFIDENCE:.0%} interval {low:.3f} to "
            f"{high:.3f}; bootstrap over the {n_clusters} held-out clusters, the same "
            f"resample for both methods), {verdict}.")


def comparison_table(paired: pd.DataFrame, reference: str = "CNN") -> ReportTable:
    """The paired comparison as a report table, one row per method."""
    rows = []
    for method, row in paired.iterrows():
        is_reference = method == reference
        rows.append({
            "method": method,
            "scatter (dex)": f"{row['scatter_dex']:.3f}",
            f"{CONFIDENCE:.0%} interval":
                f"{row['scatter_low']:.3f} to {row['scatter_high']:.3f}",
            f"minus the {reference} (dex)":
                "–" if is_reference else f"{row['difference_dex']:+.3f}",
            "interval of the difference": "–" if is_reference else (
                f"{row['difference_low']:+.3f} to {row['difference_high']:+.3f}"),
            "verdict": "reference" if is_reference else _against(row["verdict"]),
        })
    note = (f"Scatter of predicted - true log10(M500c/Msun) per method and its difference "
            f"to the {reference}'s, with {CONFIDENCE:.0%} percentile intervals from "
            f"{N_BOOTSTRAP} paired bootstrap resamples of the held-out clusters (every "
            "resample the same clusters for every method, so the cluster-to-cluster "
            "variance common to all methods cancels in the differences). 'scatters "
            f"more' means the whole interval of the difference is above zero. The "
            f"{reference}'s interval does not include the spread over training seeds "
            "(one network was trained).")
    return ReportTable("paired-comparison", f"Paired comparison with the {reference}",
                       pd.DataFrame(rows), note)


def _against(verdict: str) -> str:
    if verdict == "worse":
        return "scatters more"
    if verdict == "better":
        return "scatters less"
    return verdict


def training_note(history: Sequence[Mapping[str, Any]], max_epochs: int) -> str:
    """A warning when training used every epoch and the validation loss was still falling.

    Parameters
    ----------
    history : sequence of dict
        The network's per-epoch records (``regressor.history_``), with ``valid_loss``.
    max_epochs : int
        The most epochs the fit was allowed.

    Returns
    -------
    str
        Empty when training stopped early or the lowest validation loss came more than
        :data:`LAST_EPOCHS` epochs before the end.

    Examples
    --------
    >>> history = [{"valid_loss": v} for v in (1.0, 0.8, 0.7, 0.65, 0.6)]
    >>> training_note(history, max_epochs=5)[:40]
    'Training used all 5 epochs (--max-epochs'
    >>> training_note(history[:3], max_epochs=5)
    ''
    """
    losses = np.array([row.get("valid_loss", np.nan) for row in history], dtype=np.float64)
    if len(losses) < max_epochs or len(losses) < 2 or not np.isfinite(losses).any():
        return ""
    best = int(np.nanargmin(losses))
    if best < len(losses) - LAST_EPOCHS:
        return ""
    return (f"Training used all {max_epochs} epochs (--max-epochs) and the validation loss "
            f"was still falling: its lowest value came at epoch {best + 1} of "
            f"{len(losses)}. The CNN is likely under-trained; a longer run "
            f"(--max-epochs {2 * max_epochs}) may lower its scatter.")
