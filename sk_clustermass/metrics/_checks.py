"""Input checks shared by the metrics: aligned vectors of truths, means and widths.

Part of :mod:`sk_clustermass.metrics`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .._utils import check_vector


def _check_pair(y_true: ArrayLike, y_pred: ArrayLike, pred_name: str = "y_pred"):
    true = check_vector("y_true", y_true)
    pred = check_vector(pred_name, y_pred)
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
    width = check_vector("std", width)
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

