"""One-row-per-method comparison table of predictions of the same clusters.

Part of :mod:`sk_clustermass.metrics`, which re-exports the public functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from .._utils import check_vector
from ._checks import _check_pair
from ._scores import (
    bias_dex,
    gaussian_nll,
    interval_coverage,
    pulls,
    scatter_dex,
    sigma_ln_m,
)

#: Columns of :func:`summary_table`, in order.
SUMMARY_COLUMNS = (
    "scatter_dex", "sigma_lnM", "bias_dex", "rmse_dex", "coverage_68", "coverage_95",
    "pull_std", "nll", "n",
)


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
        may be None (point predictions: then the width columns are NaN)
        or a single number (one width for all, as the baselines return).

    Returns
    -------
    pandas.DataFrame
        Indexed by method name, columns ``scatter_dex``, ``sigma_lnM``,
        ``bias_dex``, ``rmse_dex``, ``coverage_68`` and ``coverage_95`` (fractions
        of truths inside the central 68% and 95% intervals), ``pull_std`` (standard
        deviation of the pulls, 1 when calibrated), ``nll`` and ``n`` (number of
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
    true = check_vector("y_true", y_true)
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
            "coverage_95": np.nan,
            "pull_std": np.nan,
            "nll": np.nan,
            "n": true.shape[0],
        }
        if std is not None:
            row["coverage_68"] = interval_coverage(true, centre, std, 0.68)
            row["coverage_95"] = interval_coverage(true, centre, std, 0.95)
            row["pull_std"] = float(np.std(pulls(true, centre, std)))
            row["nll"] = gaussian_nll(true, centre, std)
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(SUMMARY_COLUMNS))

