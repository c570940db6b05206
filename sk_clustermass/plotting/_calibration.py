"""Figures of the widths' calibration: PIT histogram, reliability curve, binned metrics.

Part of :mod:`sk_clustermass.plotting`, which re-exports the public functions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from numpy.typing import ArrayLike

from ..metrics import BINNED_METRICS, pit_values, reliability_curve
from ._common import _axes, _text_box

#: Ideal value of each binned figure of merit (drawn as a dotted line).
_IDEAL = {"bias_dex": 0.0, "coverage_68": 0.68, "coverage_95": 0.95, "pull_mean": 0.0,
          "pull_std": 1.0}


def plot_pit_histogram(
    y_true: ArrayLike,
    mean: ArrayLike,
    std: ArrayLike | float,
    ax: Axes | None = None,
    *,
    bins: int = 10,
    label: str | None = None,
) -> Axes:
    """Histogram of the probability integral transform against the uniform density.

    The PIT of a cluster is the predictive CDF at its true mass. Calibrated widths
    give a flat histogram; a U shape means over-confident widths, a hump
    under-confident ones, a slope a bias. The band shows the binomial 1-sigma
    spread of a flat histogram of the same size.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True ``log10(M500c / Msun)``.
    mean : array-like of shape (n_samples,)
        Predicted ``log10(M500c / Msun)``.
    std : array-like of shape (n_samples,) or float
        Predicted 1-sigma widths in dex, > 0.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if None.
    bins : int, default=10
        Number of bins over [0, 1].
    label : str, optional
        Legend label (to overlay methods, draw them with ``histtype='step'``).

    Returns
    -------
    ax : matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib.pyplot as plt
    >>> from sk_clustermass.plotting import plot_pit_histogram
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.uniform(13.0, 15.0, 500)
    >>> ax = plot_pit_histogram(truth, truth + rng.normal(0, 0.1, 500), 0.1)
    >>> len(ax.patches) >= 10
    True
    >>> plt.close(ax.figure)
    """
    pit = pit_values(y_true, mean, std)
    if not (isinstance(bins, int | np.integer) and bins >= 2):
        message = f"bins must be an integer >= 2; got {bins!r}"
        raise ValueError(message)
    ax = _axes(ax)
    n = pit.size
    spread = np.sqrt(bins * (1.0 - 1.0 / bins) / n)  # binomial, in units of the density
    ax.axhspan(1.0 - spread, 1.0 + spread, color="0.85", label="flat ± 1σ")
    ax.axhline(1.0, color="k", lw=1.0)
    ax.hist(pit, bins=bins, range=(0.0, 1.0), density=True, alpha=0.6, color="C0",
            edgecolor="C0", label=label or "PIT")
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel("PIT = predictive CDF at the true mass")
    ax.set_ylabel("density")
    _text_box(ax, [f"N = {n}"], loc="lower left")
    ax.legend(loc="upper right", fontsize="small")
    return ax


def plot_reliability(
    y_true: ArrayLike,
    mean: ArrayLike,
    std: ArrayLike | float,
    ax: Axes | None = None,
    *,
    label: str | None = None,
) -> Axes:
    """Coverage of the central intervals against their nominal probability.

    Points on the diagonal are calibrated; below it the widths are too narrow.
    Call once per method on the same ``ax`` to compare them.

    Parameters
    ----------
    y_true, mean : array-like of shape (n_samples,)
        True and predicted ``log10(M500c / Msun)``.
    std : array-like of shape (n_samples,) or float
        Predicted widths in dex, > 0.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if None.
    label : str, optional
        Legend label of the curve.

    Returns
    -------
    ax : matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sk_clustermass.plotting import plot_reliability
    >>> ax = plot_reliability([13.5, 14.0, 14.2], [13.6, 14.0, 14.0], 0.1, label="cnn")
    >>> [line.get_label() for line in ax.get_lines()]
    ['ideal', 'cnn']
    >>> plt.close(ax.figure)
    """
    curve = reliability_curve(y_true, mean, std, np.arange(1, 20) / 20.0)
    ax = _axes(ax, (4.5, 4.5))
    if not any(line.get_label() == "ideal" for line in ax.get_lines()):
        ax.plot([0, 1], [0, 1], color="k", lw=1.0, ls=":", label="ideal")
    ax.plot(curve["level"], curve["coverage"], marker="o", ms=3, label=label)
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_aspect("equal")
    ax.set_xlabel("nominal probability of the central interval")
    ax.set_ylabel("fraction of true masses inside")
    if label is not None:
        ax.legend(loc="upper left", fontsize="small")
    return ax


def plot_binned_metric(
    table: pd.DataFrame,
    metric: str = "coverage_68",
    ax: Axes | None = None,
) -> Axes:
    """One figure of merit against the bins of :func:`~sk_clustermass.metrics.binned_table`.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`~sk_clustermass.metrics.binned_table` (a ``method``
        column, one line each) or of :func:`~sk_clustermass.metrics.binned_metrics`.
    metric : str, default='coverage_68'
        One of :data:`~sk_clustermass.metrics.BINNED_METRICS`; drawn at the bin
        centres with its bootstrap error (``<metric>_err``) and its ideal value.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if None.

    Returns
    -------
    ax : matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sk_clustermass.metrics import binned_table
    >>> from sk_clustermass.plotting import plot_binned_metric
    >>> truth = [13.2, 13.4, 14.1, 14.3]
    >>> table = binned_table(truth, {"a": ([13.3, 13.5, 14.0, 14.2], 0.1)}, n_bootstrap=0)
    >>> ax = plot_binned_metric(table, "bias_dex")
    >>> [line.get_label() for line in ax.get_lines()][-1]
    'ideal'
    >>> plt.close(ax.figure)
    """
    if metric not in BINNED_METRICS:
        message = f"metric={metric!r} is not a binned metric; choose one of {list(BINNED_METRICS)}"
        raise ValueError(message)
    ax = _axes(ax)
    groups = table.groupby("method", sort=False) if "method" in table else [(None, table)]
    for method, rows in groups:
        centre = 0.5 * (rows["bin_low"] + rows["bin_high"])
        error = rows[f"{metric}_err"].fillna(0.0)
        ax.errorbar(centre, rows[metric], yerr=error, marker="o", ms=4, capsize=2,
                    label=method)
    if metric in _IDEAL:
        ax.axhline(_IDEAL[metric], color="k", lw=1.0, ls=":", label="ideal")
    ax.set_xlabel(table.attrs.get("by", "bin"))
    ax.set_ylabel(metric)
    if "method" in table:
        ax.legend(fontsize="small")
    return ax
