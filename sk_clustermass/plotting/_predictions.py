"""Figures of predictions: predicted against true masses, residuals, pulls.

Part of :mod:`sk_clustermass.plotting`, which re-exports the public functions.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from numpy.typing import ArrayLike

from ..metrics import bias_dex, interval_coverage, pulls, scatter_dex, sigma_ln_m
from ._common import MASS_LABEL, _axes, _text_box, _vector


# ---------------------------------------------------------------------- predictions
def plot_predicted_vs_true(
    y_true: ArrayLike,
    mean: ArrayLike,
    std: ArrayLike | float | None = None,
    ax: Axes | None = None,
    *,
    annotate: bool = True,
    label: str | None = None,
    limits: tuple[float, float] | None = None,
) -> Axes:
    """Predicted against true mass, with the 1:1 line and error bars.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True ``log10(M500c / Msun)``.
    mean : array-like of shape (n_samples,)
        Predicted ``log10(M500c / Msun)``.
    std : array-like of shape (n_samples,) or float, optional
        Predicted 1-sigma widths in dex (``predict(X, return_std=True)``), drawn
        as vertical error bars; the 68% coverage is then annotated too.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if None.
    annotate : bool, default=True
        Write the scatter (dex and ln M), the bias, the number of clusters and,
        with ``std``, the 68% interval coverage on the panel.
    label : str, optional
        Legend label of the points (for overlaying several methods on one ``ax``).
    limits : (float, float), optional
        Range of both axes in log10(M500c / Msun); pass the same to the panels of
        several methods so they compare at a glance. From the data by default.

    Returns
    -------
    ax : matplotlib.axes.Axes

    Raises
    ------
    ValueError
        On arrays of different lengths, non-finite values or widths <= 0.

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib.pyplot as plt
    >>> from sk_clustermass.plotting import plot_predicted_vs_true
    >>> truth = np.array([13.2, 13.6, 14.0, 14.4, 14.8])
    >>> ax = plot_predicted_vs_true(truth, truth + [0.1, -0.1, 0.0, 0.1, -0.1], std=0.15)
    >>> print(ax.texts[0].get_text())
    scatter 0.089 dex ($\\sigma_{\\ln M}$ 0.206)
    bias +0.000 dex
    N = 5
    68% coverage 1.00
    >>> plt.close(ax.figure)
    """
    true = _vector(y_true, "y_true")
    centre = _vector(mean, "mean", true.shape[0])
    width = None
    if std is not None:
        coverage = interval_coverage(true, centre, std, 0.68)  # also validates the widths
        width = np.broadcast_to(np.asarray(std, dtype=np.float64), true.shape)
    ax = _axes(ax, figsize=(4.8, 4.5))
    if width is not None:
        ax.errorbar(true, centre, yerr=width, fmt="o", markersize=3, elinewidth=0.7,
                    alpha=0.6, label=label)
    else:
        ax.scatter(true, centre, s=10, alpha=0.6, label=label)
    if limits is None:
        low = min(true.min(), centre.min())
        high = max(true.max(), centre.max())
        pad = 0.05 * (high - low) if high > low else 0.5
        limits = (low - pad, high + pad)
    ax.plot(limits, limits, color="k", linestyle="--", linewidth=1, label="1:1")
    ax.set_xlim(limits)
    ax.set_ylim(limits)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel(f"true {MASS_LABEL}")
    ax.set_ylabel(f"predicted {MASS_LABEL}")
    if annotate:
        lines = [
            f"scatter {scatter_dex(true, centre):.3f} dex "
            f"($\\sigma_{{\\ln M}}$ {sigma_ln_m(true, centre):.3f})",
            f"bias {bias_dex(true, centre):+.3f} dex",
            f"N = {true.shape[0]}",
        ]
        if width is not None:
            lines.append(f"68% coverage {coverage:.2f}")
        _text_box(ax, lines)
    if label is not None:
        ax.legend(loc="lower right")
    return ax


def residual_limits(*residuals: ArrayLike, floor_dex: float = 0.3) -> tuple[float, float]:
    """A symmetric residual range that shows the bulk of clusters, not the outliers.

    1.2 times the 99th percentile of ``|residual|``, the largest over all the residual
    arrays given (one per method: pass them all to share one range between panels),
    and at least ``floor_dex``. The worst 1% of a method's clusters may fall outside.

    Parameters
    ----------
    *residuals : array-like of shape (n_samples,)
        Residuals ``predicted - true`` in dex.
    floor_dex : float, default=0.3
        Smallest half-range in dex.

    Returns
    -------
    (low, high) : tuple of float
        In dex, ``low = -high``.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass.plotting import residual_limits
    >>> bulk = np.random.default_rng(0).normal(0.0, 0.1, 1000)
    >>> low, high = residual_limits(np.append(bulk, [-2.5, 3.0]))
    >>> bool(0.3 <= high < 1.0), low == -high
    (True, True)
    """
    half = floor_dex
    for values in residuals:
        array = _vector(values, "residuals")
        half = max(half, 1.2 * float(np.percentile(np.abs(array), 99.0)))
    return -half, half


def _mark_outliers(ax: Axes, x: np.ndarray, residual: np.ndarray, low: float,
                   high: float) -> None:
    """Clusters beyond the residual range as triangles on its edge, and their count."""
    below, above = residual < low, residual > high
    for mask, edge, marker in ((below, low, "v"), (above, high, "^")):
        if mask.any():
            ax.scatter(x[mask], np.full(np.count_nonzero(mask), edge), marker=marker,
                       s=28, color="C3", clip_on=False, zorder=3)
    n_out = int(np.count_nonzero(below | above))
    if n_out:
        _text_box(ax, [f"{n_out} outside ±{high:.2f} dex (triangles)"], loc="lower left")


def _running_percentiles(
    x: np.ndarray, values: np.ndarray, n_bins: int, min_per_bin: int
) -> tuple[np.ndarray, np.ndarray]:
    """Bin centres and (16, 50, 84) percentiles of ``values`` in equal-count bins of x."""
    edges = np.unique(np.quantile(x, np.linspace(0.0, 1.0, n_bins + 1)))
    which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, max(len(edges) - 2, 0))
    centres, stats = [], []
    for b in range(max(len(edges) - 1, 1)):
        inside = which == b
        if np.count_nonzero(inside) >= min_per_bin:
            centres.append(np.median(x[inside]))
            stats.append(np.percentile(values[inside], [16.0, 50.0, 84.0]))
    return np.asarray(centres), np.asarray(stats).reshape(-1, 3)


def plot_residuals(
    y_true: ArrayLike,
    mean: ArrayLike,
    against: ArrayLike | None = None,
    label: str | None = None,
    ax: Axes | None = None,
    *,
    n_bins: int = 10,
    min_per_bin: int = 5,
    ylim: tuple[float, float] | None = None,
) -> Axes:
    """Residuals ``mean - y_true`` against mass or redshift, with running percentiles.

    Each cluster is a point; the running median and the 16-84 percentile band are
    computed in ``n_bins`` bins holding equal numbers of clusters, so that a
    mass-dependent bias (small masses over-estimated, large ones under-estimated:
    regression to the mean) or a redshift trend stands out.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True ``log10(M500c / Msun)``.
    mean : array-like of shape (n_samples,)
        Predicted ``log10(M500c / Msun)``.
    against : array-like of shape (n_samples,), optional
        The quantity on the horizontal axis, e.g. the redshifts ``X["redshift"]``.
        The true mass if None.
    label : str, optional
        Horizontal-axis label; defaults to the mass label when ``against`` is None
        and to ``"x"`` otherwise (pass e.g. ``"redshift"``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if None.
    n_bins : int, default=10
        Number of equal-count bins of the running statistics.
    min_per_bin : int, default=5
        Bins with fewer clusters are left out of the running statistics.
    ylim : (float, float), optional
        Range of the residual axis in dex; by default
        :func:`residual_limits` of these residuals, which keeps a few outliers from
        squashing the bulk. Clusters outside the range are drawn on its edge as red
        triangles pointing outwards, and their number is written on the panel.

    Returns
    -------
    ax : matplotlib.axes.Axes

    Raises
    ------
    ValueError
        On arrays of different lengths, non-finite values or ``n_bins < 1``.

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib.pyplot as plt
    >>> from sk_clustermass.plotting import plot_residuals
    >>> rng = np.random.default_rng(0)
    >>> truth, z = rng.uniform(13.0, 15.0, 200), rng.uniform(0.05, 1.5, 200)
    >>> ax = plot_residuals(truth, truth + rng.normal(0, 0.1, 200), z, "redshift")
    >>> ax.get_xlabel(), len(ax.get_lines())  # running median and the zero line
    ('redshift', 2)
    >>> plt.close(ax.figure)
    """
    true = _vector(y_true, "y_true")
    centre = _vector(mean, "mean", true.shape[0])
    if against is None:
        x = true
        label = f"true {MASS_LABEL}" if label is None else label
    else:
        x = _vector(against, "against", true.shape[0])
        label = "x" if label is None else label
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        message = f"n_bins must be an integer >= 1; got {n_bins!r}"
        raise ValueError(message)
    residual = centre - true
    low, high = residual_limits(residual) if ylim is None else ylim
    ax = _axes(ax)
    inside = (residual >= low) & (residual <= high)
    ax.scatter(x[inside], residual[inside], s=8, alpha=0.4, color="C0", label="clusters")
    _mark_outliers(ax, x, residual, low, high)
    ax.set_ylim(low, high)
    ax.axhline(0.0, color="k", linestyle="--", linewidth=1)
    bins, stats = _running_percentiles(x, residual, int(n_bins), int(min_per_bin))
    if bins.size:
        ax.fill_between(bins, stats[:, 0], stats[:, 2], color="C1", alpha=0.3,
                        label="16–84%")
        ax.plot(bins, stats[:, 1], color="C1", marker="o", markersize=4, label="median")
    ax.set_xlabel(label)
    ax.set_ylabel(f"predicted - true {MASS_LABEL}")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_pulls(
    y_true: ArrayLike,
    mean: ArrayLike,
    std: ArrayLike | float,
    ax: Axes | None = None,
    *,
    bins: int = 30,
    limit: float = 5.0,
) -> Axes:
    """Histogram of the pulls ``(y_true - mean) / std`` against the unit Gaussian.

    For calibrated widths the pulls follow N(0, 1): a histogram wider than the
    curve means over-confident widths, a narrower one under-confident widths, and
    an offset a bias. The panel states the mean and standard deviation of the pulls
    and the 68% interval coverage (ideal 0.68).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True ``log10(M500c / Msun)``.
    mean : array-like of shape (n_samples,)
        Predicted ``log10(M500c / Msun)``.
    std : array-like of shape (n_samples,) or float
        Predicted 1-sigma widths in dex, all > 0.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if None.
    bins : int, default=30
        Number of histogram bins over ``[-limit, limit]``.
    limit : float, default=5.0
        Half-width of the histogram range; pulls beyond it are counted in the
        outermost bins (and their number is written on the panel).

    Returns
    -------
    ax : matplotlib.axes.Axes

    Raises
    ------
    ValueError
        On arrays of different lengths, non-finite values or widths <= 0.

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib.pyplot as plt
    >>> from sk_clustermass.plotting import plot_pulls
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.uniform(13.0, 15.0, 500)
    >>> ax = plot_pulls(truth, truth + rng.normal(0, 0.1, 500), 0.1)
    >>> len(ax.patches), [line.get_label() for line in ax.get_lines()]
    (30, ['N(0, 1)'])
    >>> plt.close(ax.figure)
    """
    values = pulls(y_true, mean, std)
    coverage = interval_coverage(y_true, mean, std, 0.68)
    if not limit > 0:
        message = f"limit must be > 0 (in units of sigma); got {limit!r}"
        raise ValueError(message)
    ax = _axes(ax)
    clipped = np.clip(values, -limit, limit)
    heights, _, _ = ax.hist(clipped, bins=bins, range=(-limit, limit), density=True,
                            color="C0", alpha=0.6, label="pulls")
    grid = np.linspace(-limit, limit, 401)
    ax.plot(grid, np.exp(-0.5 * grid**2) / np.sqrt(2.0 * np.pi), color="k", label="N(0, 1)")
    ax.set_ylim(0.0, 1.4 * max(float(np.max(heights)), 0.4))  # room for the text
    lines = [
        f"mean {values.mean():+.2f}, std {values.std():.2f}",
        f"68% coverage {coverage:.2f} (ideal 0.68)",
        f"N = {values.size}",
    ]
    n_outside = int(np.count_nonzero(np.abs(values) > limit))
    if n_outside:
        lines.append(f"{n_outside} beyond ±{limit:g} (in the end bins)")
    _text_box(ax, lines)
    ax.set_xlabel("pull (true - mean) / std")
    ax.set_ylabel("density")
    ax.legend(loc="upper right", fontsize="small")
    return ax


