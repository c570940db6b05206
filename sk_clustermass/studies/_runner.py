"""The study runner: :func:`run_study`, the default pipeline and the study settings.

Public names are re-exported and documented by :mod:`sk_clustermass.studies`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, ParameterGrid, train_test_split
from sklearn.pipeline import Pipeline

from .._utils import sigterm_as_keyboard_interrupt
from ..estimator import validate_parameters
from ..metrics import SCORERS
from ._outputs import (
    _hardware,
    _held_out,
    _labels,
    _log,
    _versions,
    _write_csv,
    _write_figures,
    _write_json,
    summarize_search,
)
from ._registry import (
    FULL_SETTINGS,
    MODES,
    QUICK_SETTINGS,
    SEED_DEFAULT,
    STUDIES,
    Grid,
    Study,
    _check_mode,
    _get_study,
    default_pipeline,
)

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
    candidates = list(ParameterGrid(grid))
    for params in candidates:
        try:
            candidate = clone(pipe).set_params(**params)
            validate_parameters(candidate.named_steps["regressor"], image_shape)
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

    from .._inputs import IMAGES_KEY, as_inputs, check_target

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
    with sigterm_as_keyboard_interrupt():  # kill/SLURM/docker stop act as Ctrl-C
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
