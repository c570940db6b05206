"""Figures of what a model uses: group importances and saliency maps.

Part of :mod:`sk_clustermass.plotting`, which re-exports the public functions.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._common import _axes
from ._images import _image_cube, _stretched

_KIND_COLOURS = {"band": "tab:blue", "redshift": "tab:orange", "ring": "tab:green"}


def plot_group_importance(result: Any, ax: Axes | None = None) -> Axes:
    """Horizontal bars of permutation importances, bands, redshift and rings apart.

    Parameters
    ----------
    result : sklearn.utils.Bunch
        What :func:`sk_clustermass.inspection.group_permutation_importance` returns
        (``importances_mean``, ``importances_std``, ``names``, ``kinds``).
    ax : matplotlib Axes, optional

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn.utils import Bunch
    >>> from sk_clustermass.plotting import plot_group_importance
    >>> result = Bunch(importances_mean=np.array([0.1, 0.02]),
    ...                importances_std=np.array([0.01, 0.01]),
    ...                names=["band 0", "redshift"], kinds=["band", "redshift"])
    >>> len(plot_group_importance(result).patches)
    2
    """
    mean = np.asarray(result.importances_mean, dtype=float)
    std = np.asarray(result.importances_std, dtype=float)
    names, kinds = list(result.names), list(result.kinds)
    ax = _axes(ax, figsize=(5.0, 0.25 * len(names) + 1.2))
    positions = np.arange(len(names))[::-1]
    colours = [_KIND_COLOURS.get(kind, "0.5") for kind in kinds]
    ax.barh(positions, mean, xerr=std, color=colours, alpha=0.85)
    ax.set_yticks(positions, names)
    ax.axvline(0.0, color="0.3", lw=0.8)
    ax.set_xlabel("drop in score when shuffled")
    return ax


def plot_saliency(
    images: Any,
    maps: np.ndarray,
    *,
    index: int = 0,
    stretch: str = "log",
    panel_size: float = 3.0,
) -> Figure:
    """One cluster's image beside its saliency map, both summed over the bands.

    Parameters
    ----------
    images : X, or array-like of shape (n_samples, n_bands, height, width)
        The clusters the maps were computed for (counts, for display).
    maps : ndarray of shape (n_samples, n_bands, height, width)
        From :func:`sk_clustermass.inspection.saliency_maps`, in dex.
    index : int, default=0
        Which cluster to show.
    stretch : {'log', 'asinh', 'linear'}, default='log'
        Display stretch of the image.
    panel_size : float, default=3.0
        Side of each panel in inches.

    Returns
    -------
    fig : matplotlib Figure
        Two panels: the image, and the map on a symmetric blue-red scale (red:
        these pixels raise the predicted mass).
    """
    cube = _image_cube(images)[index]
    saliency = np.asarray(maps, dtype=float)[index].sum(axis=0)
    fig, (left, right) = plt.subplots(1, 2, figsize=(2.2 * panel_size, panel_size),
                                      layout="constrained")
    left.imshow(_stretched(cube.sum(axis=0), stretch), origin="lower", cmap="magma")
    left.set_title("counts, all bands")
    limit = float(np.abs(saliency).max()) or 1.0
    shown = right.imshow(saliency, origin="lower", cmap="RdBu_r", vmin=-limit, vmax=limit)
    right.set_title("attribution (dex)")
    fig.colorbar(shown, ax=right, shrink=0.8)
    for ax in (left, right):
        ax.set_xticks([])
        ax.set_yticks([])
    return fig
