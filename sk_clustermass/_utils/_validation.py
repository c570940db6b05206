"""Checks on user input shared by every sub-package, with errors that say how to fix them."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["check_vector"]


def check_vector(values: ArrayLike, name: str) -> np.ndarray:
    """``values`` as a finite, non-empty float64 vector of shape (n_samples,).

    A column of shape (n_samples, 1) is flattened; anything else raises ``ValueError``
    naming ``name`` and what was wrong.
    """
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        message = f"{name} must have shape (n_samples,); got shape {array.shape}"
        raise ValueError(message)
    if array.size == 0:
        message = f"{name} is empty; at least one cluster is needed"
        raise ValueError(message)
    if not np.isfinite(array).all():
        n_bad = int(np.count_nonzero(~np.isfinite(array)))
        message = f"{name} contains {n_bad} NaN or infinite value(s); remove those clusters"
        raise ValueError(message)
    return array
