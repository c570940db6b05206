"""Figures of parameter studies: scatter against a swept hyper-parameter.

Part of :mod:`sk_clustermass.plotting`, which re-exports the public functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from ._common import _axes


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




_COMPARISON_COLUMNS = ("candidate", "difference", "difference_low", "difference_high",
                       "verdict")
_VERDICT_COLOURS = {"better": "tab:green", "worse": "tab:red", "reference": "black"}


def plot_paired_comparison(comparison: pd.DataFrame, ax: Axes | None = None, *,
                           title: str | None = None, what: str = "scatter") -> Axes:
    """Each candidate's difference to the reference, with its confidence interval.

    One horizontal bar per candidate, from ``difference_low`` to ``difference_high``,
    with a dot at the measured ``difference``; green if the whole interval is below
    zero (better), red if above (worse), grey if it contains zero. The reference sits
    at zero.

    Parameters
    ----------
    comparison : pandas.DataFrame
        A table of :func:`sk_clustermass.studies.paired_comparison` (or the
        ``comparison`` of :func:`sk_clustermass.studies.run_paired_study`): columns
        ``candidate``, ``difference``, ``difference_low``, ``difference_high`` and
        ``verdict``, differences in dex.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if None.
    title : str, optional
        Title of the panel.
    what : str, default='scatter'
        Name of the figure of merit, for the axis label.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> from sk_clustermass.plotting import plot_paired_comparison
    >>> table = pd.DataFrame({"candidate": ["a", "b"], "difference": [0.0, -0.01],
    ...                       "difference_low": [0.0, -0.02],
    ...                       "difference_high": [0.0, -0.003],
    ...                       "verdict": ["reference", "better"]})
    >>> ax = plot_paired_comparison(table)
    >>> [label.get_text() for label in ax.get_yticklabels()]
    ['a', 'b']
    >>> plt.close(ax.figure)
    """
    missing = [name for name in _COMPARISON_COLUMNS if name not in comparison]
    if missing:
        message = (f"comparison lacks the columns {missing}; pass the table of "
                   "paired_comparison or run_paired_study")
        raise ValueError(message)
    ax = _axes(ax, figsize=(7.0, 1.2 + 0.4 * len(comparison)))
    positions = np.arange(len(comparison))[::-1]
    for y, (_, row) in zip(positions, comparison.iterrows()):
        colour = _VERDICT_COLOURS.get(row["verdict"], "tab:grey")
        ax.plot([row["difference_low"], row["difference_high"]], [y, y], color=colour, lw=3,
                solid_capstyle="butt")
        ax.plot(row["difference"], y, "o", color=colour, ms=5)
    ax.axvline(0.0, color="black", lw=0.8, ls=":")
    ax.set_yticks(positions, [str(label) for label in comparison["candidate"]])
    ax.set_xlabel(f"{what} difference to the reference (dex)")
    ax.xaxis.set_major_locator(MaxNLocator(6))
    if title:
        ax.set_title(title, fontsize="medium")
    return ax
