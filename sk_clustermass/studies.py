"""The seed lab's hyper-parameter studies as data, and one helper that runs any of them.

Each study of the lab report (``seed/lab_report_xray_cluster_mass.md``) is a
:class:`Study` in the registry :data:`STUDIES`: the parameter grid it sweeps, in a
small ``'quick'`` version (a few minutes on a 2-core CPU) and the report's ``'full'``
version (its grids and epochs, meant for a GPU), a one-line description and the
report's finding with its numbers. :func:`run_study` runs one of them with
:class:`~sklearn.model_selection.GridSearchCV` on the pipeline of
:func:`default_pipeline` and writes what the report showed: the cross-validation
table, the loss curves of the best model, predicted against true masses on held-out
clusters, and the scatter against the swept parameter. :func:`summarize_search`
turns a search into a readable table.

Parameter names in the grids are the pipeline's: ``'regressor__n_filters'`` for the
network, ``'stretch__method'`` or a whole step (``'smooth'``) for preprocessing.
Masses are ``log10(M500c / Msun)``; scatters are in dex.

Examples
--------
>>> from sk_clustermass.studies import STUDIES
>>> study = STUDIES["filters"]
>>> study.grid("quick")
[{'regressor__n_filters': [1, 10, 20, 40]}]
>>> sorted(STUDIES)[:3]
['augmentation', 'batch_size', 'dropout']
"""

from __future__ import annotations

import copy
import json
import os
import platform
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import GridSearchCV, KFold, ParameterGrid, train_test_split
from sklearn.pipeline import Pipeline

from ._regressor import ClusterMassRegressor
from .datasets._atomic import atomic_path
from .metrics import SCORERS, summary_table
from .plotting import plot_loss_curves, plot_predicted_vs_true, plot_scatter_vs_parameter
from .preprocessing import BackgroundSubtract, BandMerge, GaussianSmoothing, LogStretch

__all__ = [
    "FULL_SETTINGS",
    "MODES",
    "QUICK_SETTINGS",
    "SEED_DEFAULT",
    "STUDIES",
    "Study",
    "StudyResult",
    "default_pipeline",
    "run_study",
    "summarize_search",
]

Grid = list[dict[str, list[Any]]]

#: The seed's network and training set-up (report sections 4 and 6): 20 filters of
#: 2x2 in blocks of 3 and 2 convolutions with 4x4 max-pools, dense 512-256-128-64,
#: Adam at 1e-4, batches of 64, mean squared error.
SEED_DEFAULT: dict[str, Any] = {
    "n_filters": 20, "kernel_size": 2, "conv_layers": (3, 2), "pool_size": 4,
    "padding": "valid", "dense_layers": (512, 256, 128, 64), "optimizer": "adam",
    "lr": 1e-4, "batch_size": 64, "loss": "mse",
}

#: Regressor settings shared by every quick study: the library defaults (Gaussian
#: likelihood, Adam at 1e-3) trained 12 epochs. ``patience`` larger than the epochs
#: never stops training but restores the weights of the best validation epoch.
QUICK_SETTINGS: dict[str, Any] = {
    "max_epochs": 12, "patience": 1000, "validation_fraction": 0.15, "lr": 1e-3,
    "loss": "gaussian_nll", "batch_size": 64,
}

#: Regressor settings shared by every full study: the seed's, 200 epochs, no early stop.
FULL_SETTINGS: dict[str, Any] = {**SEED_DEFAULT, "max_epochs": 200, "patience": None}


@dataclass(frozen=True)
class _Mode:
    n_samples: int
    cv: int
    test_size: float


#: Default data size, folds and held-out fraction of each mode.
MODES: dict[str, _Mode] = {
    "quick": _Mode(n_samples=600, cv=2, test_size=0.25),
    "full": _Mode(n_samples=8000, cv=3, test_size=0.2),
}

_STEPS = ("background", "merge", "smooth", "stretch", "regressor")


@dataclass(frozen=True)
class Study:
    """One hyper-parameter study: grids per mode, settings, and the seed's finding.

    Parameters
    ----------
    name : str
        Key in :data:`STUDIES`.
    description : str
        What is swept, in one line.
    seed_finding : str
        What the lab report found, with its numbers.
    quick_grid, full_grid : list of dict
        ``GridSearchCV`` parameter grids (pipeline names, see
        :func:`default_pipeline`) of the quick and full modes.
    quick_settings, full_settings : dict
        Regressor parameters fixed during the study, on top of
        :data:`QUICK_SETTINGS` / :data:`FULL_SETTINGS`.
    plot_param : str, optional
        Parameter on the horizontal axis of the scatter figure; other swept
        parameters become separate lines. None: one category per candidate.
    candidate_labels : tuple of str, optional
        Names of the candidates, in grid order (for studies comparing a few
        complete configurations).
    evaluate_all : bool, default=False
        Also refit every candidate on the training split and score it on the
        held-out clusters (not just the best one).

    Examples
    --------
    >>> from sk_clustermass.studies import STUDIES
    >>> STUDIES["kernel_size"].settings("quick")["n_filters"]
    10
    """

    name: str
    description: str
    seed_finding: str
    quick_grid: Grid
    full_grid: Grid
    quick_settings: dict[str, Any] = field(default_factory=dict)
    full_settings: dict[str, Any] = field(default_factory=dict)
    plot_param: str | None = None
    candidate_labels: tuple[str, ...] | None = None
    evaluate_all: bool = False

    def grid(self, mode: str = "quick") -> Grid:
        """The parameter grid of ``mode``.

        Parameters
        ----------
        mode : {'quick', 'full'}, default='quick'

        Returns
        -------
        list of dict
            For ``GridSearchCV(param_grid=...)``; a fresh copy, safe to modify.
        """
        _check_mode(mode)
        return copy.deepcopy(self.quick_grid if mode == "quick" else self.full_grid)

    def settings(self, mode: str = "quick") -> dict[str, Any]:
        """Regressor parameters held fixed in ``mode``.

        Parameters
        ----------
        mode : {'quick', 'full'}, default='quick'

        Returns
        -------
        dict
            :data:`QUICK_SETTINGS` or :data:`FULL_SETTINGS`, updated with the
            study's own settings; keyword arguments of :func:`default_pipeline`.
        """
        _check_mode(mode)
        if mode == "quick":
            return {**QUICK_SETTINGS, **self.quick_settings}
        return {**FULL_SETTINGS, **self.full_settings}


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        message = f"mode={mode!r} is not supported; choose one of {list(MODES)}"
        raise ValueError(message)


def _r(name: str) -> str:
    return f"regressor__{name}"


def _kernel_grid(kernels: Sequence[int]) -> Grid:
    """Kernels up to 3 px with 'valid' padding; larger ones need 'same' on 50x50 px."""
    small = [k for k in kernels if k < 5]
    large = [k for k in kernels if k >= 5]
    grid = []
    if small:
        grid.append({_r("kernel_size"): small, _r("padding"): ["valid"]})
    if large:
        grid.append({_r("kernel_size"): large, _r("padding"): ["same"]})
    return grid


def _optimizer_grid(rates: Sequence[float]) -> Grid:
    """Adam and SGD at fixed rates, and both decaying from 10^-2.66 to 1e-3."""
    return [
        {_r("optimizer"): ["adam", "sgd"], _r("lr"): list(rates)},
        {_r("optimizer"): ["adam", "sgd"], _r("lr"): [10**-2.66],
         _r("lr_schedule"): ["exponential"], _r("lr_final"): [1e-3]},
    ]


def _regularizer_grid(pairs: Sequence[tuple[str, str]]) -> Grid:
    """No penalty, then one candidate per (penalty, target) pair."""
    grid: Grid = [{_r("regularizer"): [None]}]
    grid += [{_r("regularizer"): [kind], _r("regularize"): [target]} for kind, target in pairs]
    return grid


def _preprocessing_grid(full: bool) -> Grid:
    smooth, merge = GaussianSmoothing(sigma_pixels=1.0), BandMerge("soft-medium-hard")
    if not full:
        return [
            {"stretch__method": ["log1p", "asinh"]},
            {"smooth": [smooth]},
            {"merge": [merge]},
            {"background": [BackgroundSubtract()], "stretch__method": ["asinh"]},
        ]
    options = {"smooth": ["passthrough", smooth], "merge": ["passthrough", merge]}
    return [
        {"stretch__method": ["log1p", "asinh"], **options},
        {"background": [BackgroundSubtract()], "stretch__method": ["asinh"], **options},
    ]


# The improved model: what won its quick study, where the seed agrees or the quick
# study was clear. Adam at 10^-2.92 (~1.2e-3, optimizer) decaying tenfold; dropout 0.2
# (dropout; the seed's best too); 40 filters (filters: same scatter as 20, better
# likelihood) of 3x3 (kernel_size); batches of 16 (batch_size); background subtraction
# and an asinh stretch (preprocessing); flips and rotations (augmentation, which needs
# 30 epochs to pay off). No penalty: L1/L2 did not help in the regularizer study.
_LR_RATES = [float(rate) for rate in np.logspace(-5, -2.66, 10)]
_LIBRARY_DEFAULT = {
    "n_filters": 20, "kernel_size": 2, "padding": "valid", "optimizer": "adam", "lr": 1e-3,
    "lr_schedule": None, "lr_final": None, "batch_size": 64, "loss": "gaussian_nll",
    "dropout": 0.0, "regularizer": None, "augment": False, "test_time_augmentation": False,
}
_IMPROVED = {
    **_LIBRARY_DEFAULT, "n_filters": 40, "kernel_size": 3, "lr": _LR_RATES[8],
    "lr_schedule": "exponential", "lr_final": _LR_RATES[8] / 10, "batch_size": 16,
    "dropout": 0.2, "augment": True,
}
_SEED_CANDIDATE = {**_LIBRARY_DEFAULT, "lr": 1e-4, "loss": "mse"}
_COUNTS = {"background": ["passthrough"], "stretch__method": ["log1p"]}
_SIGNED = {"background": [BackgroundSubtract()], "stretch__method": ["asinh"]}


def _single(config: Mapping[str, Any], steps: Mapping[str, list]) -> dict[str, list[Any]]:
    return {**{_r(key): [value] for key, value in config.items()}, **steps}


_IMPROVED_GRID = [_single(_SEED_CANDIDATE, _COUNTS), _single(_LIBRARY_DEFAULT, _COUNTS),
                  _single(_IMPROVED, _SIGNED)]
_LATER = {"lr": 1e-3, "loss": "gaussian_nll", "patience": 30}

_REGISTRY = [
    Study(
        "filters", "number of convolution filters (kernel 2x2)",
        "More filters lowered the scatter up to about 80 (the model the report shows), "
        "beyond which it overfitted (Adam 1e-4, batch 64, MSE, 200 epochs; filters "
        "1, 10, ..., 90; no scatter values quoted).",
        [{_r("n_filters"): [1, 10, 20, 40]}],
        [{_r("n_filters"): [1, *range(10, 100, 10)]}],
        plot_param="n_filters",
    ),
    Study(
        "kernel_size", "convolution kernel size at 10 filters ('same' padding from 5 px)",
        "A kernel of about 4 px (10% of the image) gave the lowest scatter; larger kernels "
        "coarse-grained the 50x50 images and overfitted (the grid was 1, 3, ..., 17, "
        "so the quoted best of 4 is not on it).",
        _kernel_grid([1, 3, 5, 9]), _kernel_grid(range(1, 18, 2)),
        quick_settings={"n_filters": 10}, full_settings={"n_filters": 10},
        plot_param="kernel_size",
    ),
    Study(
        "optimizer", "Adam vs SGD x learning rate, and an exponentially decaying rate",
        "Adam at 10^-2.66 reached the lowest loss (epoch 877) but spiked; after 1000 "
        "epochs Adam at 1e-3 was best; the decay 10^-2.66 -> 1e-3 trained smoothly with "
        "Adam but lost to fixed rates with SGD; SGD was less noisy and slower (batch 512, "
        "MSE).",
        _optimizer_grid([_LR_RATES[i] for i in (4, 8, 9)]), _optimizer_grid(_LR_RATES),
        full_settings={"batch_size": 512, "max_epochs": 1000}, plot_param="lr",
    ),
    Study(
        "dropout", "dropout rate after every dense layer",
        "Dropout helped at once (scatter 0.2278 dex without, 0.205 at 0.05); 0.2 was best "
        "(0.2035), 0.1 gave 0.204, 0.3 0.206, 0.4 0.2139, 0.45 0.204, 0.5 0.205 "
        "(about 400-450 epochs).",
        [{_r("dropout"): [0.0, 0.2, 0.5]}],
        [{_r("dropout"): [0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.45, 0.5]}],
        full_settings={"lr": 1e-3, "max_epochs": 400}, plot_param="dropout",
    ),
    Study(
        "regularizer", "L1 / L2 / L1L2 penalty (1e-4) on dense kernels, biases or outputs",
        "L2 on the kernels was best (0.2073 dex vs 0.2102 without); L1 kernel 0.2141, "
        "L1L2 kernel 0.2246, L2 bias 0.2202, L2 activity about the same (400 epochs).",
        _regularizer_grid([("l1", "kernel"), ("l2", "kernel"), ("l2", "activity")]),
        _regularizer_grid([(kind, target) for kind in ("l1", "l2", "l1l2")
                           for target in ("kernel", "bias", "activity")]),
        quick_settings={"regularization": 1e-4},
        full_settings={"lr": 1e-3, "max_epochs": 400, "regularization": 1e-4},
    ),
    Study(
        "batch_size", "training batch size at equal epochs",
        "Not reported: the section is empty; the report trained with 64 (sections 4, 7, "
        "8) and 512 (section 6).",
        [{_r("batch_size"): [16, 64, 256]}],
        [{_r("batch_size"): [16, 32, 64, 128, 256, 512]}],
        full_settings={"lr": 1e-3}, plot_param="batch_size",
    ),
    Study(
        "preprocessing", "log1p vs asinh stretch, smoothing, soft/medium/hard bands, "
        "background subtraction",
        "Not reported: the section is empty; the lab's images were smoothed before "
        "training.",
        _preprocessing_grid(full=False), _preprocessing_grid(full=True),
        full_settings={"lr": 1e-3},
    ),
    Study(
        "loss", "mean squared error vs Gaussian negative log-likelihood",
        "Not reported: the 'LogLoss' section is empty; the report used MSE for its studies "
        "and set out to train with a likelihood-based loss.",
        [{_r("loss"): ["mse", "gaussian_nll"]}], [{_r("loss"): ["mse", "gaussian_nll"]}],
        full_settings=_LATER, plot_param="loss",
    ),
    Study(
        "redshift", "redshift fed to the dense layers or not",
        "Not tested: every model of the report took the redshift as a second input.",
        [{_r("use_redshift"): [False, True]}], [{_r("use_redshift"): [False, True]}],
        full_settings=_LATER, plot_param="use_redshift",
    ),
    Study(
        "augmentation", "random flips/rotations in training, 8-fold averaging at "
        "prediction, at equal epochs",
        "Not in the report (added by this library: a cluster image has no preferred "
        "orientation).",
        [{_r("augment"): [False, True], _r("test_time_augmentation"): [False, True]}],
        [{_r("augment"): [False, True], _r("test_time_augmentation"): [False, True]}],
        full_settings={**_LATER, "patience": None}, evaluate_all=True,
    ),
    Study(
        "improved", "the seed's set-up vs the library default vs the improved model",
        "The report set out to combine its best settings into a final model (its "
        "studies point to about 80 filters, kernel 4, Adam at 1e-3 or a decaying rate, "
        "dropout 0.2 and an L2 kernel penalty); that section was not written.",
        _IMPROVED_GRID, _IMPROVED_GRID,
        quick_settings={"max_epochs": 30}, full_settings={"patience": None},
        candidate_labels=("seed default", "library default", "improved"),
        evaluate_all=True,
    ),
]

#: The studies by name. See :class:`Study`.
STUDIES: dict[str, Study] = {study.name: study for study in _REGISTRY}


def _get_study(name: str) -> Study:
    if name not in STUDIES:
        message = f"unknown study {name!r}; the studies are {sorted(STUDIES)}"
        raise ValueError(message)
    return STUDIES[name]


# ---------------------------------------------------------------------- the pipeline
def default_pipeline(**regressor_params: Any) -> Pipeline:
    """LogStretch then ClusterMassRegressor, with empty slots for optional preprocessing.

    The steps are named ``'background'``, ``'merge'``, ``'smooth'`` (all
    ``'passthrough'``: they do nothing until a grid sets them, e.g.
    ``{'smooth': [GaussianSmoothing(1.0)]}``), ``'stretch'``
    (:class:`~sk_clustermass.preprocessing.LogStretch`, log1p) and ``'regressor'``
    (:class:`~sk_clustermass.ClusterMassRegressor`), so every study's grid reaches its
    parameters by name: ``'regressor__n_filters'``, ``'stretch__method'``.

    Parameters
    ----------
    **regressor_params
        Passed to :class:`~sk_clustermass.ClusterMassRegressor`.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Unfitted; takes ``X`` with photon counts in ``X["images"]``.

    Examples
    --------
    >>> from sk_clustermass.studies import default_pipeline
    >>> pipe = default_pipeline(n_filters=10, max_epochs=5)
    >>> [name for name, _ in pipe.steps]
    ['background', 'merge', 'smooth', 'stretch', 'regressor']
    >>> pipe.get_params()["regressor__n_filters"]
    10
    """
    regressor = ClusterMassRegressor(**regressor_params)
    steps = [(name, "passthrough") for name in _STEPS[:3]]
    return Pipeline([*steps, ("stretch", LogStretch()), ("regressor", regressor)])


# ---------------------------------------------------------------------- labels and tables
_MISSING = object()


def _is_missing(value: Any) -> bool:
    return value is _MISSING or value is np.ma.masked or value is pd.NA or (
        isinstance(value, float) and np.isnan(value))


def _format_value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, BaseEstimator):
        value = repr(value)
    if isinstance(value, str):
        return value.removesuffix("()")
    if isinstance(value, bool | np.bool_):
        return "on" if value else "off"
    if isinstance(value, float | np.floating):
        return f"{float(value):.3g}"
    return str(value)


def _candidate_params(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One dict of swept parameters per candidate (missing ones left out)."""
    if "params" in results:
        return [dict(p) for p in results["params"]]
    columns = [key for key in results if key.startswith("param_")]
    n = len(results[columns[0]]) if columns else 0
    rows = []
    for i in range(n):
        row = {key[len("param_"):]: results[key][i] for key in columns}
        rows.append({k: v for k, v in row.items() if not _is_missing(v)})
    return rows


def _varying_keys(params: list[dict[str, Any]]) -> list[str]:
    """Swept parameters that differ between candidates (or are missing in some)."""
    keys: list[str] = []
    for row in params:
        keys.extend(key for key in row if key not in keys)
    return [key for key in keys
            if len({repr(row.get(key, _MISSING)) for row in params}) > 1 or len(params) == 1]


_ABBREVIATIONS = {"test_time_augmentation": "tta"}


def _short(key: str) -> str:
    """``'regressor__lr'`` -> ``'lr'``, ``'stretch__method'`` -> ``'stretch.method'``."""
    short = key.removeprefix("regressor__").replace("__", ".")
    return _ABBREVIATIONS.get(short, short)


def _label(row: Mapping[str, Any], keys: Sequence[str], *, bare_first: bool = False) -> str:
    """``'n_filters=10, padding=same'`` from the values of ``keys`` in ``row``."""
    parts = []
    for key in keys:
        value = row.get(key, _MISSING)
        if _is_missing(value):
            continue
        if isinstance(value, BaseEstimator):
            parts.append(_format_value(value))
        elif isinstance(value, str) and value == "passthrough":
            parts.append(f"no {_short(key)}")
        elif bare_first and key == keys[0]:
            parts.append(_format_value(value))
        else:
            parts.append(f"{_short(key)}={_format_value(value)}")
    return ", ".join(parts) if parts else "default"


def _labels(results: Mapping[str, Any], keys: Sequence[str] | None = None,
            names: Sequence[str] | None = None) -> list[str]:
    params = _candidate_params(results)
    if names is not None and len(names) == len(params):
        return list(names)
    keys = _varying_keys(params) if keys is None else keys
    return [_label(row, keys) for row in params]


def summarize_search(search: Any, labels: Sequence[str] | None = None) -> pd.DataFrame:
    """A readable table of a study's grid search, best candidate first.

    Parameters
    ----------
    search : GridSearchCV, dict or pandas.DataFrame
        A fitted search scored with :data:`sk_clustermass.metrics.SCORERS`, its
        ``cv_results_``, or that table read back from ``cv_results.csv``.
    labels : sequence of str, optional
        Names of the candidates in grid order; by default built from the
        parameters that vary (``'n_filters=10'``).

    Returns
    -------
    pandas.DataFrame
        One row per candidate, indexed by its position in the grid, with
        ``label``, ``scatter_dex`` and ``scatter_dex_std`` (mean and spread over
        the folds, in dex), ``nll`` (mean Gaussian negative log-likelihood),
        ``coverage_error`` (mean ``|coverage_68 - 0.68|``), ``fit_time_s`` and
        ``rank``; the columns present depend on the scorers used.

    Raises
    ------
    TypeError
        If ``search`` is none of the above.

    Examples
    --------
    >>> from sk_clustermass.studies import summarize_search
    >>> results = {"params": [{"regressor__dropout": 0.0}, {"regressor__dropout": 0.2}],
    ...            "mean_test_scatter": [-0.25, -0.21], "std_test_scatter": [0.01, 0.02],
    ...            "rank_test_scatter": [2, 1], "mean_fit_time": [10.0, 11.0]}
    >>> summarize_search(results)[["label", "scatter_dex", "rank"]]
             label  scatter_dex  rank
    1  dropout=0.2         0.21     1
    0    dropout=0         0.25     2
    """
    results = search.cv_results_ if hasattr(search, "cv_results_") else search
    if isinstance(results, pd.DataFrame):
        results = {key: results[key].tolist() for key in results.columns}
    if not isinstance(results, Mapping):
        message = (
            "search must be a fitted GridSearchCV, its cv_results_ dict, or a DataFrame of "
            f"it (e.g. pd.read_csv('cv_results.csv')); got {type(search).__name__}"
        )
        raise TypeError(message)
    table = pd.DataFrame({"label": _labels(results, names=labels)})
    negated = {"scatter": "scatter_dex", "nll": "nll", "coverage": "coverage_error"}
    for key, column in negated.items():
        if f"mean_test_{key}" in results:
            table[column] = -np.asarray(results[f"mean_test_{key}"], dtype=float)
            if key == "scatter" and "std_test_scatter" in results:
                table["scatter_dex_std"] = np.asarray(results["std_test_scatter"], float)
    if "mean_fit_time" in results:
        table["fit_time_s"] = np.asarray(results["mean_fit_time"], dtype=float)
    for key in ("rank_test_scatter", "rank_test_score"):
        if key in results:
            table["rank"] = np.asarray(results[key], dtype=int)
            table = table.sort_values("rank", kind="stable")
            break
    return table


# ---------------------------------------------------------------------- figures
def _results_frame(results: Mapping[str, Any], *, as_text: bool = False) -> pd.DataFrame:
    """cv_results_ as a DataFrame; masked entries become NA, estimators text if asked."""
    columns = {}
    for key, value in results.items():
        if key == "params":
            continue
        if np.ma.isMaskedArray(value):
            mask = np.ma.getmaskarray(value)
            value = [pd.NA if m else v for v, m in zip(np.ma.getdata(value), mask)]
        value = list(value)
        if as_text and key.startswith("param_"):
            value = [v if _is_missing(v) or isinstance(v, int | float | bool | np.number)
                     else _format_value(v) for v in value]
        columns[key] = value
    return pd.DataFrame(columns)


def _full_key(keys: Sequence[str], short: str | None) -> str | None:
    if short is None:
        return None
    matches = [key for key in keys if key == short or key.endswith(f"__{short}")]
    return matches[0] if len(matches) == 1 else None


def _draw_scatter(ax: Axes, results: Mapping[str, Any], study: Study,
                  labels: Sequence[str]) -> None:
    frame = _results_frame(results)
    keys = _varying_keys(_candidate_params(results))
    x_key = None if study.candidate_labels else _full_key(keys, study.plot_param)
    frame = frame.drop(columns=[c for c in frame.columns
                                if c.startswith("param_") and c != f"param_{x_key}"])
    group = None
    if x_key is None:
        frame["param_candidate"] = list(labels)
        x_key = "candidate"
    else:
        others = [key for key in keys if key != x_key]
        if others:
            params = _candidate_params(results)
            group = _short(others[0])
            frame[f"param_{group}"] = [_label(r, others, bare_first=True) for r in params]
    x_values = frame[f"param_{x_key}"]
    numeric = pd.api.types.is_numeric_dtype(x_values) and not pd.api.types.is_bool_dtype(
        x_values)
    log_scale = bool(numeric and x_values.min() > 0 and x_values.max() >= 10 * x_values.min())
    plot_scatter_vs_parameter(frame, f"param_{x_key}", ax, group_by=group,
                              log_scale=log_scale)
    if not numeric:  # one line per part of a long label
        ticks = ax.get_xticklabels()
        ax.set_xticks(ax.get_xticks(), [t.get_text().replace(", ", "\n") for t in ticks],
                      fontsize="small")
    ax.set_title("cross-validated scatter (error bars: fold spread)", fontsize="medium")


def _draw(kind: str, ax: Axes, context: dict[str, Any]) -> None:
    if kind == "loss_curves":
        plot_loss_curves(context["best"], ax)
        ax.set_title(f"best: {context['best_label']}", fontsize="medium")
    elif kind == "predicted_vs_true":
        plot_predicted_vs_true(context["y_test"], context["mean"], context["std"], ax)
        ax.set_title("best model on held-out clusters", fontsize="medium")
    else:
        _draw_scatter(ax, context["results"], context["study"], context["labels"])


def _save(fig: Figure, path: Path, dpi: int) -> Path:
    with atomic_path(path) as temporary:
        fig.savefig(temporary, format="png", dpi=dpi)
    return path


def _write_figures(out_dir: Path, context: dict[str, Any], dpi: int) -> dict[str, Path]:
    """The three figures of the report, one file each, and the three side by side."""
    kinds = ("loss_curves", "predicted_vs_true", "scatter")
    files = {}
    for kind in kinds:
        fig = Figure(figsize=(5.6, 4.4), layout="constrained")
        _draw(kind, fig.add_subplot(), context)
        files[kind] = _save(fig, out_dir / f"{kind}.png", dpi)
    fig = Figure(figsize=(15.0, 4.6), layout="constrained")
    for kind, ax in zip(kinds, fig.subplots(1, 3)):
        _draw(kind, ax, context)
    fig.suptitle(f"study '{context['study'].name}' ({context['mode']} mode: "
                 f"{context['n_train']} training clusters, {context['epochs']} epochs)")
    files["overview"] = _save(fig, out_dir / "overview.png", max(dpi * 4 // 5, 50))
    return files


# ---------------------------------------------------------------------- outputs
def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return _format_value(value)


def _write_json(path: Path, payload: Mapping[str, Any]) -> Path:
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(_jsonable(payload), indent=2) + "\n")
    return path


def _write_csv(path: Path, results: Mapping[str, Any], labels: Sequence[str]) -> Path:
    frame = _results_frame(results, as_text=True)
    frame.insert(0, "label", list(labels))
    with atomic_path(path) as temporary:
        frame.to_csv(temporary, index=False, float_format="%.6g")
    return path


def _hardware(device: str) -> dict[str, Any]:
    info = {
        "platform": platform.platform(),
        "machine": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "device": device,
    }
    if hasattr(os, "sched_getaffinity"):
        info["cpus_available"] = len(os.sched_getaffinity(0))
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name()
    return info


def _versions() -> dict[str, str]:
    from . import __version__

    return {"sk_clustermass": __version__, "torch": torch.__version__,
            "scikit-learn": sklearn.__version__, "numpy": np.__version__}


def _held_out(model: Pipeline, X_test: Any, y_test: np.ndarray, label: str) -> dict:
    mean, std = model.predict(X_test, return_std=True)
    row = summary_table(y_test, {label: (mean, std)}).iloc[0].to_dict()
    row["n"] = int(row["n"])
    return {"label": label, **row, "mean": mean, "std": std}


def _log(verbose: int, start: float, message: str) -> None:
    if verbose:
        print(f"[{time.perf_counter() - start:7.1f} s] {message}", flush=True)


# ---------------------------------------------------------------------- running
@dataclass
class StudyResult:
    """What :func:`run_study` produced.

    Attributes
    ----------
    search : GridSearchCV
        The fitted search; ``best_estimator_`` was refitted on the training split.
    table : pandas.DataFrame
        :func:`summarize_search` of it, best first.
    summary : dict
        The content of ``summary.json`` (held-out metrics of the best model, and of
        every candidate for studies with ``evaluate_all``; sizes, timings, hardware).
    files : dict of str to Path
        ``cv_results``, ``summary``, ``loss_curves``, ``predicted_vs_true``,
        ``scatter`` and ``overview``.
    """

    search: GridSearchCV
    table: pd.DataFrame
    summary: dict[str, Any]
    files: dict[str, Path]


def _pipeline_for(study: Study, mode: str, overrides: Mapping[str, Any]) -> Pipeline:
    return default_pipeline(**{**study.settings(mode), **overrides})


def _check_grid(pipe: Pipeline, grid: Grid | dict, image_shape: tuple[int, int]) -> int:
    """Set every candidate on a clone of ``pipe`` and check its network; return the count.

    Fails before any training (not hours into a sweep) on a misspelt parameter, an
    unsupported value or an architecture whose feature map collapses on
    ``image_shape`` (e.g. a 9 px kernel with 'valid' padding on 50x50 images).
    """
    from ._hyperparameters import validate_hyperparameters

    candidates = list(ParameterGrid(grid))
    for params in candidates:
        try:
            candidate = clone(pipe).set_params(**params)
            validate_hyperparameters(candidate.named_steps["regressor"], image_shape)
        except ValueError as error:
            message = f"the grid candidate {params} is not valid: {error}"
            raise ValueError(message) from error
    return len(candidates)


def run_study(
    name: str,
    X: Any,
    y: Any,
    *,
    mode: str = "quick",
    out_dir: str | os.PathLike,
    cv: int | None = None,
    n_jobs: int | None = 1,
    random_state: int = 0,
    checkpoint_dir: str | os.PathLike | None = None,
    verbose: int = 1,
    max_epochs: int | None = None,
    regressor_params: Mapping[str, Any] | None = None,
    param_grid: Grid | dict | None = None,
    test_size: float | None = None,
    dpi: int = 90,
) -> StudyResult:
    """Run one study: grid search, held-out evaluation, figures, CSV and summary.

    The clusters are split once into a training part and a held-out part
    (``test_size``). :class:`~sklearn.model_selection.GridSearchCV` runs the study's
    grid on :func:`default_pipeline` over shuffled K folds of the training part,
    scored with :data:`sk_clustermass.metrics.SCORERS` (scatter, NLL, coverage),
    and refits the candidate with the lowest scatter on the whole training part.
    That model is scored on the held-out clusters. In ``out_dir`` it writes
    ``cv_results.csv``, ``summary.json``, ``loss_curves.png`` (best model),
    ``predicted_vs_true.png`` (held-out, with the 1:1 line and 1-sigma error bars),
    ``scatter.png`` (cross-validated scatter against the swept parameter, with the
    fold spread) and ``overview.png`` (the three side by side); every file is
    written atomically.

    Every fit checkpoints into its own sub-directory of ``checkpoint_dir``
    (named by a fingerprint of its parameters and data): running the same study
    again with the same directory loads the finished fits instead of training
    them, and resumes an unfinished one where it stopped.

    Parameters
    ----------
    name : str
        A key of :data:`STUDIES`.
    X : skorch.helper.SliceDict or dict
        ``X["images"]`` photon counts of shape (n_samples, n_bands, height, width)
        and ``X["redshift"]`` of shape (n_samples,), e.g. from
        :func:`~sk_clustermass.datasets.make_clusters`.
    y : array-like of shape (n_samples,)
        ``log10(M500c / Msun)``.
    mode : {'quick', 'full'}, default='quick'
        The study's small grid and short training, or the report's grid and epochs.
    out_dir : str or path
        Where the outputs go (created if needed).
    cv : int, optional
        Folds; default 2 in quick mode, 3 in full mode (:data:`MODES`).
    n_jobs : int, optional
        Parallel fits of the search (joblib).
    random_state : int, default=0
        Seeds the held-out split, the folds and every network.
    checkpoint_dir : str or path, optional
        Default ``out_dir / 'checkpoints'``.
    verbose : int, default=1
        0 silent, 1 one line per stage, 2 also the search's progress.
    max_epochs : int, optional
        Override the mode's number of epochs (e.g. 1 for a smoke test).
    regressor_params : dict, optional
        Further regressor parameters over the study's settings (``device``, or a
        smaller architecture for tests).
    param_grid : dict or list of dict, optional
        Replace the study's grid.
    test_size : float, optional
        Held-out fraction; default 0.25 in quick mode, 0.2 in full mode.
    dpi : int, default=90
        Resolution of the figures.

    Returns
    -------
    StudyResult
        The search, its summary table, the summary dict and the files written.

    Raises
    ------
    ValueError
        For an unknown study or mode.

    Examples
    --------
    A smoke run on toy clusters (the real studies take minutes):

    >>> import tempfile
    >>> import numpy as np
    >>> from sk_clustermass import as_inputs
    >>> from sk_clustermass.studies import run_study
    >>> rng = np.random.default_rng(0)
    >>> X = as_inputs(rng.poisson(3.0, (40, 2, 12, 12)), rng.uniform(0.1, 1.0, 40))
    >>> y = rng.uniform(13.0, 15.0, 40)
    >>> tiny = {"n_filters": 2, "kernel_size": 3, "conv_layers": (1,), "pool_size": 2,
    ...         "dense_layers": (8,)}
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     result = run_study("dropout", X, y, out_dir=folder, max_epochs=1,
    ...                        regressor_params=tiny, verbose=0)
    ...     sorted(path.name for path in result.files.values())[:3]
    ['cv_results.csv', 'loss_curves.png', 'overview.png']
    >>> list(result.table["label"].sort_values())
    ['dropout=0', 'dropout=0.2', 'dropout=0.5']
    """
    start = time.perf_counter()
    study = _get_study(name)
    _check_mode(mode)
    defaults = MODES[mode]
    cv = defaults.cv if cv is None else cv
    test_size = defaults.test_size if test_size is None else test_size
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    checkpoint_dir = out_dir / "checkpoints" if checkpoint_dir is None else checkpoint_dir
    overrides = {**(regressor_params or {}), "random_state": random_state,
                 "checkpoint_dir": str(checkpoint_dir)}
    if max_epochs is not None:
        overrides["max_epochs"] = max_epochs
    pipe = _pipeline_for(study, mode, overrides)
    grid = study.grid(mode) if param_grid is None else param_grid

    from ._inputs import IMAGES_KEY, as_inputs, check_target

    X = as_inputs(X)
    y = check_target(y, len(X[IMAGES_KEY]))
    n_candidates = _check_grid(pipe, grid, X[IMAGES_KEY].shape[2:])
    train, test = train_test_split(np.arange(len(y)), test_size=test_size,
                                   random_state=random_state)
    X_train, y_train, X_test, y_test = X[train], y[train], X[test], y[test]
    _log(verbose, start, f"study {name!r} ({mode}): {n_candidates} candidates x {cv} folds "
         f"on {len(train)} clusters, {len(test)} held out")

    search = GridSearchCV(
        pipe, grid, scoring=SCORERS, refit="scatter", n_jobs=n_jobs, error_score=np.nan,
        cv=KFold(cv, shuffle=True, random_state=random_state), verbose=max(verbose - 1, 0),
    )
    search.fit(X_train, y_train)
    labels = _labels(search.cv_results_, names=study.candidate_labels)
    best_label = labels[search.best_index_]
    table = summarize_search(search, labels=labels)
    _log(verbose, start, f"search done; best {best_label}")

    best = _held_out(search.best_estimator_, X_test, y_test, best_label)
    held_out_all = []
    if study.evaluate_all:
        for index, params in enumerate(search.cv_results_["params"]):
            if index == search.best_index_:
                held_out_all.append(best)
                continue
            model = clone(pipe).set_params(**params).fit(X_train, y_train)
            held_out_all.append(_held_out(model, X_test, y_test, labels[index]))
            _log(verbose, start, f"held-out refit {index + 1}/{n_candidates} done")

    context = {"study": study, "mode": mode, "best": search.best_estimator_,
               "best_label": best_label, "results": search.cv_results_, "labels": labels,
               "y_test": y_test, "mean": best["mean"], "std": best["std"],
               "n_train": len(train), "epochs": pipe.get_params()["regressor__max_epochs"]}
    files = {"cv_results": _write_csv(out_dir / "cv_results.csv", search.cv_results_, labels)}
    files.update(_write_figures(out_dir, context, dpi))
    regressor = search.best_estimator_[-1]
    summary = {
        "study": name, "mode": mode, "description": study.description,
        "seed_finding": study.seed_finding,
        "n_samples": len(y), "n_train": len(train), "n_test": len(test), "cv": cv,
        "n_candidates": n_candidates,
        "n_failed": int(np.isnan(search.cv_results_["mean_test_scatter"]).sum()),
        "settings": {k: v for k, v in {**study.settings(mode), **overrides}.items()
                     if k != "checkpoint_dir"},
        "grid": grid,
        "best_label": best_label,
        "best_params": search.best_params_,
        "cv_scatter_dex": {"mean": float(table["scatter_dex"].iloc[0]),
                           "std": float(table["scatter_dex_std"].iloc[0])},
        "held_out": _strip(best),
        "held_out_all": [_strip(row) for row in held_out_all],
        "candidates": table.to_dict(orient="records"),
        "epochs_trained": len(regressor.history_),
        # from the restored history, so it survives a resumed run (unlike wall_time_s)
        "best_train_time_s": round(sum(row.get("dur", 0.0) for row in regressor.history_), 1),
        "wall_time_s": round(time.perf_counter() - start, 1),
        "hardware": _hardware(regressor.device_),
        "versions": _versions(),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    files["summary"] = _write_json(out_dir / "summary.json", summary)
    _log(verbose, start, f"held-out scatter {best['scatter_dex']:.3f} dex, coverage "
         f"{best['coverage_68']:.2f}; outputs in {out_dir}")
    return StudyResult(search, table, summary, files)


def _strip(row: Mapping[str, Any]) -> dict[str, Any]:
    """A held-out result without the per-cluster arrays."""
    return {k: v for k, v in row.items() if k not in ("mean", "std")}
