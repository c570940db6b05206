"""Tables, figures and files that :func:`~sk_clustermass.studies.run_study` writes.

:func:`summarize_search` is public and re-exported by :mod:`sk_clustermass.studies`.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline

from .._utils import atomic_path
from ..metrics import summary_table
from ..plotting import plot_loss_curves, plot_predicted_vs_true, plot_scatter_vs_parameter
from ._registry import Study

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
    from .._version import __version__

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


