"""Helpers shared by the plotting modules.

Part of :mod:`sk_clustermass.plotting`, which re-exports the public functions.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from numpy.typing import ArrayLike

from .._utils import check_vector

#: Axis label of ``log10(M500c / Msun)``, in matplotlib's mathtext.
MASS_LABEL = r"$\log_{10}(M_{500c}/M_\odot)$"

_STRETCHES = ("log", "asinh", "linear")


# ---------------------------------------------------------------------- helpers
def _axes(ax: Axes | None, figsize: tuple[float, float] = (5.0, 4.0)) -> Axes:
    """The given axes, or the axes of a new figure."""
    if ax is not None:
        if not isinstance(ax, Axes):
            message = f"ax must be a matplotlib Axes or None; got {type(ax).__name__}"
            raise TypeError(message)
        return ax
    _, new_ax = plt.subplots(figsize=figsize, layout="constrained")
    return new_ax


def _vector(values: ArrayLike, name: str, n_samples: int | None = None) -> np.ndarray:
    """A finite, non-empty 1-D float array (as the metrics check it), of a given length."""
    array = check_vector(name, values)
    if n_samples is not None and array.shape[0] != n_samples:
        message = (
            f"{name} has {array.shape[0]} values but y_true has {n_samples}; they must "
            "be aligned one-to-one, cluster by cluster"
        )
        raise ValueError(message)
    return array


def _text_box(ax: Axes, lines: Sequence[str], loc: str = "upper left") -> None:
    """Write ``lines`` in a corner of ``ax``, in axes coordinates."""
    x, ha = (0.03, "left") if "left" in loc else (0.97, "right")
    y, va = (0.97, "top") if "upper" in loc else (0.03, "bottom")
    ax.text(
        x, y, "\n".join(lines), transform=ax.transAxes, ha=ha, va=va, fontsize="small",
        bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.8, "edgecolor": "0.8"},
    )


