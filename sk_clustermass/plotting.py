"""Figures for training runs, predictions and parameter studies.

Every function draws with matplotlib and never calls ``plt.show``: it returns what
it drew on, so the same code works in a notebook, a script on a headless machine
(the Agg backend) and a report writer. Single-panel functions take an optional
``ax`` and return that :class:`~matplotlib.axes.Axes` (a new figure is made with
:func:`matplotlib.pyplot.subplots` when ``ax`` is None; ``ax.figure`` saves it);
:func:`plot_cluster_gallery` returns the :class:`~matplotlib.figure.Figure` it makes.
Close figures you no longer need with ``plt.close(fig)``, especially in loops.

Training
    :func:`plot_loss_curves`: training and validation loss per epoch.
Predictions (masses as ``log10(M500c / Msun)``, widths in dex)
    :func:`plot_predicted_vs_true`, :func:`plot_residuals`, :func:`plot_pulls`.
Parameter studies
    :func:`plot_scatter_vs_parameter`: scatter against a swept hyper-parameter from
    ``GridSearchCV.cv_results_``.
Images
    :func:`plot_cluster_gallery` (counts summed over bands) and
    :func:`plot_band_spectrum` (counts per band against energy).

The figures of merit written on the panels (scatter, bias, coverage, pulls) come from
:mod:`sk_clustermass.metrics`, so they are the numbers its scorers report. Residuals
are ``predicted - true`` and pulls ``(true - mean) / std``, as there.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")  # no window: for scripts, tests and servers
>>> import io
>>> import matplotlib.pyplot as plt
>>> from sk_clustermass.plotting import plot_predicted_vs_true
>>> ax = plot_predicted_vs_true([13.5, 14.0, 14.5], [13.6, 14.0, 14.4])
>>> ax.figure.savefig(io.BytesIO(), format="png")  # or a file name: "pred_vs_true.png"
>>> plt.close(ax.figure)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from ._inputs import IMAGES_KEY
from .metrics import bias_dex, interval_coverage, pulls, scatter_dex, sigma_ln_m

__all__ = [
    "plot_band_spectrum",
    "plot_cluster_gallery",
    "plot_loss_curves",
    "plot_predicted_vs_true",
    "plot_pulls",
    "plot_residuals",
    "plot_scatter_vs_parameter",
]

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
    """A finite 1-D float array, optionally of a given length."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1 or array.size == 0:
        message = f"{name} must be a non-empty array of shape (n_samples,); got {array.shape}"
        raise ValueError(message)
    if n_samples is not None and array.shape[0] != n_samples:
        message = (
            f"{name} has {array.shape[0]} values but y_true has {n_samples}; they must "
            "be aligned one-to-one, cluster by cluster"
        )
        raise ValueError(message)
    if not np.isfinite(array).all():
        n_bad = int(np.count_nonzero(~np.isfinite(array)))
        message = f"{name} contains {n_bad} NaN or infinite value(s); remove those clusters"
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


# ---------------------------------------------------------------------- training
def _history_of(source: Any) -> list[dict]:
    """The per-epoch records of a skorch History, net, estimator, pipeline or search."""
    obj = source
    for _ in range(4):  # search -> pipeline -> estimator -> net
        if hasattr(obj, "best_estimator_"):
            obj = obj.best_estimator_
        if hasattr(obj, "steps") and hasattr(obj, "_final_estimator"):
            obj = obj._final_estimator
        if hasattr(obj, "net_"):
            obj = obj.net_
        if hasattr(obj, "history") and not isinstance(obj, list | tuple):
            obj = obj.history
    if isinstance(obj, list | tuple) and all(isinstance(row, Mapping) for row in obj):
        return [dict(row) for row in obj]
    message = (
        "plot_loss_curves needs a fitted ClusterMassRegressor (or a Pipeline/GridSearchCV "
        "ending in one), a skorch net, or a skorch History (a list of per-epoch dicts); "
        f"got {type(source).__name__}. Is the estimator fitted?"
    )
    raise TypeError(message)


def _column(records: list[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
    """Epoch numbers and values of ``key`` for the epochs that have a finite value."""
    epochs, values = [], []
    for position, row in enumerate(records, start=1):
        value = row.get(key)
        if value is not None and np.isfinite(value):
            epochs.append(row.get("epoch", position))
            values.append(float(value))
    return np.asarray(epochs, dtype=float), np.asarray(values, dtype=float)


def plot_loss_curves(
    history: Any,
    ax: Axes | None = None,
    *,
    log_scale: bool = False,
    mark_best: bool = True,
) -> Axes:
    """Training and validation loss per epoch, with the best epoch marked.

    Parameters
    ----------
    history : skorch.History, estimator, Pipeline, GridSearchCV or list of dict
        A fitted :class:`~sk_clustermass.ClusterMassRegressor` (its ``history_``),
        a Pipeline or a fitted search whose (best) final step is one, a skorch net,
        or the history itself: one dict per epoch with ``'train_loss'`` and, if
        there was a validation split, ``'valid_loss'``.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if None.
    log_scale : bool, default=False
        Logarithmic loss axis (only sensible for positive losses such as MSE; the
        Gaussian negative log-likelihood becomes negative once the widths shrink).
    mark_best : bool, default=True
        Mark the epoch with the lowest validation loss (the weights early stopping
        restores), or the lowest training loss without a validation split.

    Returns
    -------
    ax : matplotlib.axes.Axes

    Raises
    ------
    TypeError
        If no history can be found in ``history``.
    ValueError
        If the history has no ``'train_loss'`` values.

    Notes
    -----
    The losses are those the network minimises: on the standardised target (zero
    mean, unit variance of ``log10 M500c`` in the training set), so an MSE of 0.1
    means a residual scatter of ``sqrt(0.1)`` training-set standard deviations.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sk_clustermass.plotting import plot_loss_curves
    >>> history = [{"epoch": 1, "train_loss": 1.0, "valid_loss": 0.9},
    ...            {"epoch": 2, "train_loss": 0.6, "valid_loss": 0.7},
    ...            {"epoch": 3, "train_loss": 0.4, "valid_loss": 0.8}]
    >>> ax = plot_loss_curves(history)
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['train', 'validation', 'best epoch 2']
    >>> plt.close(ax.figure)
    """
    records = _history_of(history)
    train_epochs, train = _column(records, "train_loss")
    if train.size == 0:
        message = "the history has no finite 'train_loss' values: has the model been trained?"
        raise ValueError(message)
    valid_epochs, valid = _column(records, "valid_loss")
    ax = _axes(ax)
    ax.plot(train_epochs, train, marker="." if train.size < 30 else None, label="train")
    if valid.size:
        ax.plot(valid_epochs, valid, marker="." if valid.size < 30 else None,
                label="validation")
    if mark_best:
        epochs, values = (valid_epochs, valid) if valid.size else (train_epochs, train)
        best = int(np.argmin(values))
        ax.plot([epochs[best]], [values[best]], linestyle="none", marker="*", markersize=12,
                color="C3", label=f"best epoch {epochs[best]:g}")
        ax.axvline(epochs[best], color="C3", linestyle=":", linewidth=1)
    if log_scale:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (standardised target)")
    ax.legend()
    return ax


# ---------------------------------------------------------------------- predictions
def plot_predicted_vs_true(
    y_true: ArrayLike,
    mean: ArrayLike,
    std: ArrayLike | float | None = None,
    ax: Axes | None = None,
    *,
    annotate: bool = True,
    label: str | None = None,
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
    ax = _axes(ax)
    ax.scatter(x, residual, s=8, alpha=0.4, color="C0", label="clusters")
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


# ---------------------------------------------------------------------- studies
def _param_column(results: pd.DataFrame, param_name: str) -> str:
    """The cv_results_ column of ``param_name`` (full name, or a unique ``__`` suffix)."""
    for candidate in (param_name, f"param_{param_name}"):
        if candidate in results.columns and candidate.startswith("param_"):
            return candidate
    matches = [c for c in results.columns
               if c.startswith("param_") and c.endswith(f"__{param_name}")]
    if len(matches) == 1:
        return matches[0]
    available = [c[len("param_"):] for c in results.columns if c.startswith("param_")]
    what = "matches several parameters" if matches else "is not a swept parameter"
    message = f"{param_name!r} {what}; the search swept {available}"
    raise KeyError(message)


def _score_columns(results: pd.DataFrame, score_key: str) -> tuple[str, str | None]:
    for key in (score_key, "score"):
        column = f"mean_test_{key}"
        if column in results.columns:
            spread = f"std_test_{key}"
            return column, spread if spread in results.columns else None
    scores = [c[len("mean_test_"):] for c in results.columns if c.startswith("mean_test_")]
    message = (
        f"cv_results has no 'mean_test_{score_key}' nor 'mean_test_score' column; its "
        f"scores are {scores}. Pass score_key= one of them."
    )
    raise KeyError(message)


def _as_results(cv_results: Any) -> pd.DataFrame:
    if isinstance(cv_results, pd.DataFrame):
        return cv_results.reset_index(drop=True)
    if hasattr(cv_results, "cv_results_"):
        cv_results = cv_results.cv_results_
    if isinstance(cv_results, Mapping):
        columns = {}
        for key, value in cv_results.items():
            if np.ma.isMaskedArray(value):
                # masked: the parameter does not apply to that candidate (list of grids)
                mask = np.ma.getmaskarray(value)
                value = [pd.NA if m else v for v, m in zip(np.ma.getdata(value), mask)]
            columns[key] = list(value)
        return pd.DataFrame(columns)
    message = (
        "cv_results must be GridSearchCV.cv_results_ (a dict), a DataFrame of it, or a "
        f"fitted search; got {type(cv_results).__name__}"
    )
    raise TypeError(message)


def _is_numeric(values: Sequence[Any]) -> bool:
    return all(
        isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)
        for v in values
    )


def plot_scatter_vs_parameter(
    cv_results: Any,
    param_name: str,
    ax: Axes | None = None,
    *,
    score_key: str = "scatter",
    group_by: str | None = None,
    negate: bool | None = None,
    ylabel: str | None = None,
    log_scale: bool | None = None,
    show_folds: bool = True,
) -> Axes:
    """Cross-validated score (by default the scatter) against a swept parameter.

    One point per value of the parameter with error bars of the standard deviation
    over the folds, the individual folds as faint dots, and the best value starred.

    Parameters
    ----------
    cv_results : dict, pandas.DataFrame or fitted search
        ``GridSearchCV.cv_results_`` (or ``RandomizedSearchCV``'s), a DataFrame made
        from it (e.g. read back from the CSV a study wrote), or the search itself.
    param_name : str
        The swept parameter: its full name
        (``'clustermassregressor__n_filters'``), with or without the ``param_``
        prefix, or the part after the last ``__`` when that is unambiguous
        (``'n_filters'``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if None.
    score_key : str, default='scatter'
        Which score to plot: the columns ``mean_test_<score_key>`` and
        ``std_test_<score_key>`` (multi-metric scoring such as
        ``scoring=sk_clustermass.metrics.SCORERS``), falling back to
        ``mean_test_score`` for single-metric searches.
    group_by : str, optional
        Another swept parameter (e.g. ``'optimizer'`` in an optimizer x learning
        rate grid): one line per value of it. Without it, where several rows share
        a value of ``param_name``, the best-scoring row is shown.
    negate : bool, optional
        Plot minus the score. scikit-learn scores are greater-is-better, so the
        scatter scorer returns minus the scatter; None negates when every score is
        <= 0, which shows the scatter (or RMSE) itself.
    ylabel : str, optional
        Vertical-axis label; ``'scatter (dex)'`` for the (negated) scatter score,
        otherwise the score's name. Pass it for single-metric searches, e.g.
        ``ylabel='scatter (dex)'`` with ``scoring=scatter_scorer``.
    log_scale : bool, optional
        Logarithmic parameter axis; None chooses it for positive numeric values
        spanning a factor 50 or more (learning rates, regularisation strengths).
    show_folds : bool, default=True
        Draw the score of every fold (``split<k>_test_<score_key>`` columns).

    Returns
    -------
    ax : matplotlib.axes.Axes

    Raises
    ------
    KeyError
        If the parameter or the score is not in ``cv_results``; the message lists
        what is.
    TypeError
        If ``cv_results`` is not a results table.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sk_clustermass.plotting import plot_scatter_vs_parameter
    >>> results = {"param_clustermassregressor__n_filters": [10, 20, 40],
    ...            "mean_test_scatter": [-0.20, -0.15, -0.16],
    ...            "std_test_scatter": [0.02, 0.01, 0.02]}
    >>> ax = plot_scatter_vs_parameter(results, "n_filters")
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('n_filters', 'scatter (dex)')
    >>> plt.close(ax.figure)
    """
    results = _as_results(cv_results)
    column = _param_column(results, param_name)
    mean_column, std_column = _score_columns(results, score_key)
    key = mean_column[len("mean_test_"):]
    split_columns = sorted(
        (c for c in results.columns if c.startswith("split") and c.endswith(f"_test_{key}")),
        key=lambda c: int(c[len("split"):].split("_", 1)[0]),
    )
    results = results.loc[~results[column].map(_is_missing)]
    if results.empty:
        message = f"no candidate of cv_results has a value for {column[len('param_'):]!r}"
        raise ValueError(message)
    scores = results[mean_column].to_numpy(dtype=float)
    if negate is None:
        negate = bool(np.all(scores[np.isfinite(scores)] <= 0))
    sign = -1.0 if negate else 1.0
    group_column = None if group_by is None else _param_column(results, group_by)
    groups = [(None, results)] if group_column is None else list(
        results.groupby(results[group_column].map(repr), sort=False)
    )
    numeric = _is_numeric(list(results[column]))
    positions: dict[str, int] = {}
    for value in results[column]:
        positions.setdefault(repr(value), len(positions))
    ax = _axes(ax)
    best_x, best_score, best_raw = None, None, -np.inf
    for index, (group_value, part) in enumerate(groups):
        # where several rows share a parameter value, keep the best-scoring one
        part = part.assign(_key=part[column].map(repr),
                           _raw=part[mean_column].to_numpy(dtype=float))
        keep = part.sort_values("_raw", ascending=False, kind="stable").drop_duplicates("_key")
        if numeric:
            xs = keep[column].to_numpy(dtype=float)
        else:
            xs = keep["_key"].map(positions).to_numpy(dtype=float)
        order = np.argsort(xs, kind="stable")
        keep, xs = keep.iloc[order], xs[order]
        raw = keep["_raw"].to_numpy()
        ys = sign * raw
        errors = keep[std_column].to_numpy(dtype=float) if std_column else None
        color = f"C{index % 10}"
        name = None
        if group_column is not None:
            name = f"{group_column[len('param_'):].rsplit('__', 1)[-1]}={_tick_label(group_value)}"
        # lines join numeric values only: between categories they would suggest a trend
        ax.errorbar(xs, ys, yerr=errors, fmt="o-" if numeric else "o", color=color,
                    capsize=3, label=name)
        if show_folds and split_columns:
            folds = sign * keep[split_columns].to_numpy(dtype=float)
            ax.plot(np.repeat(xs, folds.shape[1]), folds.ravel(), linestyle="none",
                    marker=".", color=color, alpha=0.35)
        finite = np.isfinite(raw)
        if finite.any() and raw[finite].max() > best_raw:
            best = int(np.nanargmax(np.where(finite, raw, -np.inf)))
            best_raw, best_x, best_score = raw[best], xs[best], ys[best]
    if best_x is not None:
        ax.plot([best_x], [best_score], linestyle="none", marker="*", markersize=14,
                color="C3", label="best")
    if not numeric:
        ax.set_xticks(list(positions.values()), [_tick_label(r) for r in positions])
        ax.set_xlim(-0.5, len(positions) - 0.5)
    elif log_scale or (log_scale is None and _wants_log(list(results[column]))):
        ax.set_xscale("log")
    short = column[len("param_"):].rsplit("__", 1)[-1]
    ax.set_xlabel(short)
    if ylabel is None:
        name = "mean test score" if key == "score" else key
        ylabel = "scatter (dex)" if key == "scatter" and negate else (
            f"minus {name}" if negate else name)
    ax.set_ylabel(ylabel)
    ax.legend(loc="best", fontsize="small")
    return ax


def _tick_label(text: str) -> str:
    """A parameter value's repr, without the quotes of strings."""
    return text.strip("'\"")


def _is_missing(value: Any) -> bool:
    """Whether a cv_results_ entry is absent (masked, or NaN after a CSV round trip)."""
    return value is pd.NA or (isinstance(value, float) and np.isnan(value))


def _wants_log(values: Sequence[Any]) -> bool:
    array = np.asarray(values, dtype=float)
    array = array[np.isfinite(array)]
    return bool(array.size and array.min() > 0 and array.max() / array.min() >= 50)


# ---------------------------------------------------------------------- images
def _image_cube(images: Any) -> np.ndarray:
    """(n, n_bands, h, w) float array from X, a 4-D, a 3-D (one cluster) or 2-D array."""
    if isinstance(images, Mapping) or hasattr(images, "keys"):
        try:
            images = images[IMAGES_KEY]
        except KeyError as exc:
            message = f"X has no {IMAGES_KEY!r} key; pass X or X['images']"
            raise KeyError(message) from exc
    cube = np.asarray(images, dtype=np.float64)
    if cube.ndim == 2:
        cube = cube[np.newaxis, np.newaxis]
    elif cube.ndim == 3:
        cube = cube[np.newaxis]
    if cube.ndim != 4 or 0 in cube.shape:
        message = (
            "images must have shape (n_samples, n_bands, height, width) (or one "
            f"cluster's (n_bands, height, width)); got {np.shape(images)}"
        )
        raise ValueError(message)
    return cube


def _stretched(image: np.ndarray, stretch: str) -> np.ndarray:
    if stretch == "log":
        return np.log10(1.0 + np.clip(image, 0.0, None))
    if stretch == "asinh":
        return np.arcsinh(image)
    return image


def plot_cluster_gallery(
    images: Any,
    titles: Sequence[str] | None = None,
    ncols: int = 4,
    stretch: str = "log",
    *,
    colorbar: bool = True,
    cmap: str = "magma",
    shared_scale: bool = True,
    panel_size: float = 2.2,
) -> Figure:
    """A grid of cluster images, counts summed over the energy bands.

    Parameters
    ----------
    images : X, or array-like of shape (n_samples, n_bands, height, width)
        Photon counts per pixel (``X["images"]`` before preprocessing); ``X`` itself
        is accepted, and one cluster's ``(n_bands, height, width)`` cube too. Show a
        handful: slice ``X[:8]`` first.
    titles : sequence of str, optional
        One title per image (e.g. true and predicted masses).
    ncols : int, default=4
        Panels per row.
    stretch : {'log', 'asinh', 'linear'}, default='log'
        Display stretch of the summed counts: ``log10(1 + counts)``,
        ``asinh(counts)`` (for background-subtracted images, which can be
        negative) or the counts themselves.
    colorbar : bool, default=True
        Add one colorbar (shared scale) or one per panel.
    cmap : str, default='magma'
        Matplotlib colormap.
    shared_scale : bool, default=True
        One colour scale for all panels, so brightness compares between clusters;
        False scales each panel to its own range.
    panel_size : float, default=2.2
        Side of one panel in inches.

    Returns
    -------
    fig : matplotlib.figure.Figure
        With one image axes per cluster (unused grid cells hidden).

    Raises
    ------
    ValueError
        On a wrong shape, a wrong number of titles, ``ncols < 1`` or an unknown
        ``stretch``.

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib.pyplot as plt
    >>> from sk_clustermass.plotting import plot_cluster_gallery
    >>> cubes = np.random.default_rng(0).poisson(1.0, (5, 10, 50, 50))
    >>> fig = plot_cluster_gallery(cubes, titles=[f"cluster {i}" for i in range(5)], ncols=3)
    >>> sum(len(ax.images) for ax in fig.axes)
    5
    >>> plt.close(fig)
    """
    cube = _image_cube(images)
    if stretch not in _STRETCHES:
        message = f"stretch={stretch!r} is not supported; choose one of {list(_STRETCHES)}"
        raise ValueError(message)
    if isinstance(ncols, bool) or not isinstance(ncols, int | np.integer) or ncols < 1:
        message = f"ncols must be an integer >= 1; got {ncols!r}"
        raise ValueError(message)
    n = cube.shape[0]
    if titles is not None and len(titles) != n:
        message = f"got {len(titles)} titles for {n} images; pass one title per image"
        raise ValueError(message)
    maps = _stretched(cube.sum(axis=1), stretch)
    ncols = int(min(ncols, n))
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(panel_size * ncols + (0.6 if colorbar else 0.0),
                               panel_size * nrows + (0.3 if titles is not None else 0.0)),
        squeeze=False, layout="constrained",
    )
    vmin, vmax = (float(maps.min()), float(maps.max())) if shared_scale else (None, None)
    shown = []
    for index, ax in enumerate(axes.ravel()):
        if index >= n:
            ax.set_axis_off()
            continue
        shown.append(ax.imshow(maps[index], origin="lower", cmap=cmap, vmin=vmin, vmax=vmax,
                               interpolation="nearest"))
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(str(titles[index]), fontsize="small")
        if colorbar and not shared_scale:
            fig.colorbar(shown[-1], ax=ax, shrink=0.8)
    if colorbar and shared_scale:
        unit = {"log": "log10(1 + counts)", "asinh": "asinh(counts)", "linear": "counts"}
        fig.colorbar(shown[0], ax=axes, shrink=0.8, label=f"{unit[stretch]} per pixel")
    return fig


def plot_band_spectrum(
    images: Any,
    band_edges_kev: ArrayLike | None = None,
    ax: Axes | None = None,
    *,
    labels: Sequence[str] | None = None,
    per_kev: bool = True,
    log_scale: bool = True,
) -> Axes:
    """Counts per energy band, summed over the pixels, as a step spectrum per cluster.

    Parameters
    ----------
    images : X, or array-like of shape (n_samples, n_bands, height, width)
        Photon counts per pixel; one cluster's ``(n_bands, height, width)`` cube is
        accepted too. Every cluster is one line: pass a few.
    band_edges_kev : array-like of shape (n_bands + 1,), optional
        Increasing band edges in keV; the library's 10 bands over 0.25-2.3 keV
        (:data:`sk_clustermass.preprocessing.BAND_EDGES_KEV`) if None.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if None.
    labels : sequence of str, optional
        Legend label of each cluster.
    per_kev : bool, default=True
        Divide by the band width: counts per keV, comparable between bands of
        different widths. False plots counts per band.
    log_scale : bool, default=True
        Logarithmic counts axis (zero-count bands are then not drawn).

    Returns
    -------
    ax : matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If the edges are not increasing or their number is not ``n_bands + 1``,
        or the number of labels differs from the number of clusters.

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib.pyplot as plt
    >>> from sk_clustermass.plotting import plot_band_spectrum
    >>> cubes = np.random.default_rng(0).poisson(2.0, (2, 10, 50, 50))
    >>> ax = plot_band_spectrum(cubes, labels=["hot", "cool"])
    >>> len(ax.get_lines()), ax.get_xlabel()
    (2, 'energy (keV)')
    >>> plt.close(ax.figure)
    """
    cube = _image_cube(images)
    n, n_bands = cube.shape[:2]
    if band_edges_kev is None:
        from .preprocessing import BAND_EDGES_KEV

        band_edges_kev = BAND_EDGES_KEV
    edges = np.asarray(band_edges_kev, dtype=np.float64).ravel()
    if edges.size != n_bands + 1 or not np.all(np.diff(edges) > 0):
        message = (
            f"band_edges_kev must hold n_bands + 1 = {n_bands + 1} increasing energies in "
            f"keV for images with {n_bands} bands; got {edges.size} values. Pass the edges "
            "of your bands (after a BandMerge, e.g. [0.25, 0.865, 1.48, 2.3])."
        )
        raise ValueError(message)
    if labels is not None and len(labels) != n:
        message = f"got {len(labels)} labels for {n} clusters; pass one label per cluster"
        raise ValueError(message)
    counts = cube.sum(axis=(2, 3))
    if per_kev:
        counts = counts / np.diff(edges)
    ax = _axes(ax)
    centres = 0.5 * (edges[1:] + edges[:-1])
    for index in range(n):
        color = f"C{index % 10}"
        label = None if labels is None else str(labels[index])
        ax.stairs(counts[index], edges, baseline=None, color=color, linewidth=1.5)
        ax.plot(centres, counts[index], linestyle="none", marker="o", markersize=3,
                color=color, label=label)
    if log_scale and np.any(counts > 0):
        ax.set_yscale("log")
    ax.set_xlabel("energy (keV)")
    ax.set_ylabel("counts per keV" if per_kev else "counts per band")
    if labels is not None:
        ax.legend(fontsize="small")
    return ax
