"""Paired, repeated study runs: every candidate on the same folds with the same seeds.

:func:`run_paired_study` trains each candidate of a grid once per seed on fixed K folds
and keeps its out-of-fold predictions for every cluster. Each (candidate, seed) run is
saved as a small JSON file under ``out_dir/runs/`` (or a shared ``runs_dir``) as soon
as it finishes, so a killed study resumes where it stopped and the per-run results can
be committed and shared. A run is named by its complete configuration (every parameter
of the pipeline, the seed, the data and the folds), so studies that share a setting,
such as the reference model, share its runs through one ``runs_dir``.
The comparison (:func:`~sk_clustermass.studies.paired_comparison`) then gives each
candidate's difference to the reference with a confidence interval and a verdict.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import KFold, ParameterGrid
from sklearn.pipeline import Pipeline

from .._inputs import IMAGES_KEY, REDSHIFT_KEY, as_inputs, check_target
from .._utils import atomic_path
from ..estimator import NonFiniteLossError, TrainingInterruptedWarning, parameter_table
from ._outputs import _format_value, _jsonable, _log, _write_json
from ._paired import paired_comparison

__all__ = ["PairedStudyResult", "run_paired_study"]

_RUN_FORMAT = 2
_DECIMALS = 5


@dataclass
class PairedStudyResult:
    """What :func:`run_paired_study` produced.

    Attributes
    ----------
    comparison : pandas.DataFrame
        :func:`~sk_clustermass.studies.paired_comparison` of the scatter, plus each
        candidate's 68% coverage, mean fit time (s) and train/validation loss gap.
    residuals : dict of str to ndarray of shape (n_seeds, n_samples)
        Out-of-fold ``predicted - true`` (dex) of every candidate.
    files : dict of str to Path
        ``comparison`` (CSV), ``summary`` (JSON) and ``runs`` (the folder of runs).
    """

    comparison: pd.DataFrame
    residuals: dict[str, np.ndarray]
    files: dict[str, Path]


def _data_fingerprint(X: Any, y: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in (X[IMAGES_KEY], X[REDSHIFT_KEY], y):
        contiguous = np.ascontiguousarray(array)
        digest.update(str((contiguous.dtype, contiguous.shape)).encode())
        digest.update(memoryview(contiguous).cast("B"))
    return digest.hexdigest()[:16]


def candidate_label(params: Mapping[str, Any]) -> str:
    """A short readable label of a candidate: ``'n_filters=10, dropout=0.2'``.

    Renamed parameters keep the names of the committed runs' tables until those runs
    are redone (``regularization`` for ``regularizer_strength``).
    """
    if not params:
        return "default"
    named = {key.rsplit("__", 1)[0] + "__" + _key_name(key.split("__")[-1]) if "__" in key
             else _key_name(key): value for key, value in params.items()}
    parts = [f"{key.split('__')[-1]}={_format_value(value)}"
             for key, value in sorted(named.items())]
    return ", ".join(parts)


# Parameters renamed since runs were saved count under their old names in the keys.
_NAMES_IN_KEYS = {p.name: p.renamed_from for p in parameter_table() if p.renamed_from}


def _key_name(name: str) -> str:
    return _NAMES_IN_KEYS.get(name, name)


def configuration_key(pipe: Pipeline, params: Mapping[str, Any]) -> str:
    """A digest of the settings of ``pipe`` with ``params`` set.

    Every step counts by its class and by the parameters that differ from the class's
    defaults (``verbose`` aside), so two studies that train the same configuration get
    the same key and share a run, any change of a setting or a step changes it, and a
    parameter added to the library later (at a default that keeps today's behaviour)
    leaves the keys of saved runs valid.
    """
    model = clone(pipe).set_params(**params)
    rows = []
    for step_name, step in model.steps:
        if not isinstance(step, BaseEstimator):
            rows.append(f"{step_name}={step!r}")
            continue
        rows.append(f"{step_name}={type(step).__name__}")
        signature = inspect.signature(type(step).__init__).parameters
        params = step.get_params(deep=False)
        for name, value in sorted(params.items(), key=lambda item: _key_name(item[0])):
            default = signature[name].default if name in signature else inspect.Parameter.empty
            if name == "verbose" or repr(value) == repr(default):
                continue
            text = configuration_key(Pipeline([("step", value)]), {}) if isinstance(
                value, BaseEstimator) else repr(value)
            rows.append(f"{step_name}__{_key_name(name)}={text}")
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]


def _run_path(runs: Path, key: str, fingerprint: str, seed: int) -> Path:
    """``<configuration>-<data>-seed<seed>.json``: one file per run, never shared."""
    data = hashlib.sha256(fingerprint.encode()).hexdigest()[:8]
    return runs / f"{key}-{data}-seed{seed}.json"


def _write_run(path: Path, run: Mapping[str, Any]) -> None:
    """One line of compact JSON: runs are committed, so their size matters."""
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(_jsonable(run), separators=(",", ":")) + "\n")


def _load_run(path: Path, expected: Mapping[str, Any]) -> dict | None:
    if not path.exists():
        return None
    run = json.loads(path.read_text())
    same = all(run.get(name) == value for name, value in expected.items())
    return run if same else None


def _loss_gap(pipe: Pipeline) -> float:
    """Validation minus training loss at the best epoch (NaN without a validation split)."""
    history = pipe[-1].history_
    valid = [row.get("valid_loss", np.nan) for row in history]
    if not valid or not np.isfinite(valid).any():
        return float("nan")
    best = int(np.nanargmin(valid))
    return float(valid[best] - history[best]["train_loss"])


def _history(pipe: Pipeline) -> dict[str, list[float]]:
    """Per-epoch training and validation loss and duration (s) of a fitted pipeline."""
    rows = pipe[-1].history_
    return {name: [round(float(row.get(name, np.nan)), 4) for row in rows]
            for name in ("train_loss", "valid_loss", "dur")}


def _train_one(pipe: Pipeline, params: Mapping[str, Any], seed: int,
               splits: Iterable[tuple[Any, np.ndarray, Any, np.ndarray]],
               n_predicted: int) -> dict[str, Any]:
    """Fit once per split; predict its clusters; gather the predictions in one array."""
    mean, std = np.empty(n_predicted), np.empty(n_predicted)
    fit_seconds, gaps, epochs, histories, diverged = [], [], [], [], []
    for X_fit, y_fit, X_predict, where in splits:
        model = clone(pipe).set_params(**params, regressor__random_state=seed)
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", TrainingInterruptedWarning)
            try:
                model.fit(X_fit, y_fit)
                diverged.append(None)
            except NonFiniteLossError as error:
                if error.last_good_epoch == 0:
                    raise
                # What a user of this set-up gets: the weights of the last sane epoch,
                # which predict. The run records the divergence and its epoch.
                diverged.append(error.last_good_epoch + 1)
        for warning in caught:
            if issubclass(warning.category, TrainingInterruptedWarning):
                # Ctrl-C or SIGTERM stopped this fit: an under-trained run must not be
                # saved as a finished one. Stop the study; a rerun resumes from here.
                message = f"training interrupted (seed {seed}); this run was not saved"
                raise KeyboardInterrupt(message)
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno, source=warning.source)
        fit_seconds.append(time.perf_counter() - start)
        mean[where], std[where] = model.predict(X_predict, return_std=True)
        gaps.append(_loss_gap(model))
        epochs.append(len(model[-1].history_))
        histories.append(_history(model))
    return {"mean": np.round(mean, _DECIMALS).tolist(), "std": np.round(std, _DECIMALS).tolist(),
            "fit_seconds": fit_seconds, "loss_gap": gaps, "epochs": epochs,
            "history": histories, "diverged_in_epoch": diverged}


def _fold_splits(X: Any, y: np.ndarray, folds: Sequence[tuple[np.ndarray, np.ndarray]]
                 ) -> Iterator[tuple[Any, np.ndarray, Any, np.ndarray]]:
    for train, test in folds:  # sliced one fold at a time, not all at once
        yield X[train], y[train], X[test], test


def run_paired_study(
    pipe: Pipeline,
    param_grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Sequence[Any]]],
    X: Any,
    y: Any,
    *,
    out_dir: str | os.PathLike,
    runs_dir: str | os.PathLike | None = None,
    reference: Mapping[str, Any] | None = None,
    seeds: Sequence[int] = (0, 1, 2),
    cv: int = 3,
    fold_seed: int = 0,
    n_boot: int = 2000,
    confidence: float = 0.95,
    test: tuple[Any, Any] | None = None,
    verbose: int = 1,
    family_size: int = 1,
) -> PairedStudyResult:
    """Train every candidate with every seed on the same folds; compare with intervals.

    Parameters
    ----------
    pipe : sklearn.pipeline.Pipeline
        The pipeline whose last step (named ``'regressor'``) predicts with
        ``return_std``; e.g. :func:`~sk_clustermass.studies.default_pipeline`.
    param_grid : dict or list of dict
        Candidates, as for :class:`~sklearn.model_selection.GridSearchCV`.
    X : skorch.helper.SliceDict or dict
        ``X["images"]`` of shape (n_samples, n_bands, height, width) and
        ``X["redshift"]`` of shape (n_samples,).
    y : array-like of shape (n_samples,)
        ``log10(M500c / Msun)``.
    out_dir : str or path
        Where ``comparison.csv`` and ``summary.json`` go (and ``runs/`` by default).
    runs_dir : str or path, optional
        Where each (candidate, seed) run is saved and looked up; default
        ``out_dir/runs``. Point several studies at one folder to share the runs of
        the configurations they have in common.
    reference : dict, optional
        The candidate to compare against (one of the grid's parameter sets); default
        the first candidate.
    seeds : sequence of int, default=(0, 1, 2)
        Training seeds (``regressor__random_state``); the same for every candidate.
    cv : int, default=3
        Folds; every cluster gets one out-of-fold prediction per seed.
    fold_seed : int, default=0
        Seed of the shuffled folds, the same for every candidate and seed.
    n_boot : int, default=2000
        Bootstrap draws of the paired comparison.
    confidence : float, default=0.95
        Coverage of the intervals.
    test : (X_test, y_test), optional
        Fresh clusters: each (candidate, seed) is then trained once on all of ``X``
        and scored on ``X_test`` (``cv`` and ``fold_seed`` are not used), and the
        residuals are those of the test clusters.
    verbose : int, default=1
        0 silent, 1 one line per finished run.
    family_size : int, default=1
        Comparisons of the family (page) this study belongs to: the comparison
        table's ``*_corrected`` interval is Bonferroni-widened for that many
        (:func:`~sk_clustermass.studies.paired_comparison`).

    Returns
    -------
    PairedStudyResult

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from sk_clustermass import as_inputs
    >>> from sk_clustermass.studies import default_pipeline, run_paired_study
    >>> rng = np.random.default_rng(0)
    >>> X = as_inputs(rng.poisson(3.0, (48, 2, 12, 12)), rng.uniform(0.1, 1.0, 48))
    >>> y = rng.uniform(13.0, 15.0, 48)
    >>> pipe = default_pipeline(n_filters=2, kernel_size=3, conv_layers=(1,), pool_size=2,
    ...                         dense_layers=(8,), max_epochs=1, patience=None)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     result = run_paired_study(pipe, {"regressor__dropout": [0.0, 0.5]}, X, y,
    ...                               out_dir=folder, seeds=(0, 1), cv=2, n_boot=50,
    ...                               verbose=0)
    >>> list(result.comparison["candidate"])
    ['dropout=0', 'dropout=0.5']
    >>> result.residuals["dropout=0.5"].shape
    (2, 48)
    """
    start = time.perf_counter()
    X = as_inputs(X)
    y = check_target(y, len(X[IMAGES_KEY]))
    candidates = list(ParameterGrid(param_grid))
    labels = [candidate_label(params) for params in candidates]
    reference_label = labels[0] if reference is None else candidate_label(reference)
    if reference_label not in labels:
        message = (f"reference {dict(reference)} is not a candidate of the grid; "
                   f"candidates: {labels}")
        raise ValueError(message)
    out_dir = Path(out_dir)
    runs = out_dir / "runs" if runs_dir is None else Path(runs_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    runs.mkdir(parents=True, exist_ok=True)
    fingerprint = _data_fingerprint(X, y)
    folds = list(KFold(cv, shuffle=True, random_state=fold_seed).split(y))
    if test is not None:
        X_test = as_inputs(test[0])
        y_test = check_target(test[1], len(X_test[IMAGES_KEY]))
        fingerprint = f"{fingerprint}+{_data_fingerprint(X_test, y_test)}"
        cv, fold_seed = "fresh test set", None

    def splits() -> Iterable[tuple[Any, np.ndarray, Any, np.ndarray]]:
        if test is None:
            return _fold_splits(X, y, folds)
        return [(X, y, X_test, np.arange(len(y_test)))]

    scored = y if test is None else y_test
    results: dict[str, list[dict]] = {label: [] for label in labels}
    for params, label in zip(candidates, labels):
        key = configuration_key(pipe, params)
        for seed in seeds:
            path = _run_path(runs, key, fingerprint, seed)
            expected = {"format": _RUN_FORMAT, "configuration": key, "seed": seed,
                        "data": fingerprint, "cv": cv, "fold_seed": fold_seed}
            run = _load_run(path, expected)
            if run is None:
                run = {**expected, "label": label, "params": params,
                       **_train_one(pipe, params, seed, splits(), len(scored))}
                _write_run(path, run)
                _log(verbose, start, f"{label}, seed {seed}: done "
                     f"({sum(run['fit_seconds']):.0f} s, epochs {run['epochs']})")
            results[label].append(run)
    return _compare(results, scored, reference_label, out_dir, runs, n_boot, confidence,
                    family_size, {"seeds": list(seeds), "cv": cv, "fold_seed": fold_seed,
                     "n_samples": len(y), "n_scored": len(scored), "data": fingerprint,
                     "grid": _jsonable(param_grid)})


def _compare(results: dict[str, list[dict]], y: np.ndarray, reference: str, out_dir: Path,
             runs: Path, n_boot: int, confidence: float, family_size: int,
             context: dict[str, Any]) -> PairedStudyResult:
    residuals = {label: np.array([run["mean"] for run in rows]) - y
                 for label, rows in results.items()}
    table = paired_comparison(residuals, reference, n_boot=n_boot, confidence=confidence,
                              family_size=family_size)
    extra = []
    for label, rows in results.items():
        std = np.array([run["std"] for run in rows])
        inside = np.abs(residuals[label]) <= std
        extra.append({
            "coverage_68": float(inside.mean()),
            "fit_seconds": float(np.mean([np.mean(run["fit_seconds"]) for run in rows])),
            "epochs": float(np.mean([np.mean(run["epochs"]) for run in rows])),
            "loss_gap": float(np.nanmean([np.nanmean(run["loss_gap"]) for run in rows]))
            if any(np.isfinite(run["loss_gap"]).any() for run in rows) else float("nan"),
        })
    table = pd.concat([table, pd.DataFrame(extra)], axis=1)
    comparison = out_dir / "comparison.csv"
    with atomic_path(comparison) as temporary:
        table.to_csv(temporary, index=False, float_format="%.5g")
    summary = {**context, "reference": reference, "confidence": confidence,
               "n_boot": n_boot, "comparison": table.to_dict(orient="records")}
    files = {"comparison": comparison, "summary": _write_json(out_dir / "summary.json", summary),
             "runs": runs}
    return PairedStudyResult(table, residuals, files)
