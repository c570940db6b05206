"""``sk-clustermass demo``: simulate, train the CNN and the baselines, report.

The steps, each timed and shown with a progress bar:

1. simulate ``n_samples`` eFEDS-depth clusters (:func:`~sk_clustermass.datasets.make_clusters`);
2. split them, shuffled and seeded, into training and held-out clusters;
3. fit the classical competitors: gradient-boosted trees on aperture photometry
   (:class:`~sk_clustermass.baselines.BoostedApertureRegressor`) and the two scaling
   relations, :class:`~sk_clustermass.baselines.CountRateRelation` and
   :class:`~sk_clustermass.baselines.LuminosityRelation`;
4. train ``LogStretch -> ClusterMassRegressor`` with early stopping;
5. predict the held-out clusters with all four and compare them
   (:func:`~sk_clustermass.metrics.summary_table`, and per bin of true mass, predicted
   mass and redshift with :func:`~sk_clustermass.metrics.binned_table`); the
   classical methods give each cluster its own width; the headline compares the
   CNN's scatter with the best classical method's, with a paired-bootstrap interval
   (:mod:`._comparison`), and a note says when training ran out of epochs while the
   validation loss was still falling;
6. write the report folder: ``index.html`` and its PNG figures, ``summary.csv``,
   ``paired_comparison.csv``, ``binned_*.csv``, ``predictions.csv`` and the model as
   ``model.safetensors``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..estimator import demo_parameters
from ._common import CLIError, Console, build_pipeline, check_device

if TYPE_CHECKING:  # the parser reads this module's defaults without pandas
    import pandas as pd

__all__ = ["DEFAULT_EPOCHS", "DEFAULT_SAMPLES", "QUICK", "run_demo"]

#: Clusters simulated by default (with the demo network: about a minute on 2 idle CPU
#: cores).
DEFAULT_SAMPLES = 5000
#: Most epochs by default (early stopping may end training before).
DEFAULT_EPOCHS = 20
#: ``--quick``: a smoke test in seconds (the masses are poor), with the network of
#: ``demo_parameters(quick=True)``.
QUICK: dict[str, Any] = {"n_samples": 200, "max_epochs": 2}
METHODS = ("CNN", "boosted trees", "count-rate relation", "luminosity relation")
SURVEY_NAMES = {"efeds_lab": "eFEDS", "erass1_lab": "eRASS1",
                "efeds_survey": "eFEDS-like survey",
                "erass1_survey": "eRASS1-like survey"}


class _Timer:
    """Wall time of each step, for the report."""

    def __init__(self) -> None:
        self.steps: dict[str, float] = {}
        self.start = time.perf_counter()

    @contextmanager
    def step(self, name: str):
        start = time.perf_counter()
        yield
        self.steps[name] = time.perf_counter() - start

    @property
    def total(self) -> float:
        return time.perf_counter() - self.start


def _settings(args: argparse.Namespace) -> tuple[int, dict[str, Any]]:
    # None means "not given": an explicit 0 must reach the checks below, not the default
    n_samples = args.n_samples if args.n_samples is not None else (
        QUICK["n_samples"] if args.quick else DEFAULT_SAMPLES)
    max_epochs = args.max_epochs if args.max_epochs is not None else (
        QUICK["max_epochs"] if args.quick else DEFAULT_EPOCHS)
    network = demo_parameters(quick=args.quick)
    if not 0.0 < args.test_fraction < 1.0:
        raise CLIError(f"--test-fraction must be between 0 and 1; got {args.test_fraction}")
    n_test = round(n_samples * args.test_fraction)
    if n_samples < 20 or n_test < 10 or n_samples - n_test < 10:
        message = (f"--n-samples {n_samples} with --test-fraction {args.test_fraction} leaves "
                   "too few clusters; the demo needs at least 10 to train and 10 to test")
        raise CLIError(message)
    if max_epochs < 1:
        raise CLIError(f"--max-epochs must be >= 1; got {max_epochs}")
    check_device(args.device)
    network.update(max_epochs=max_epochs, device=args.device, random_state=args.random_state)
    return n_samples, network


def _fit_models(X_train, y_train, network: dict[str, Any], console: Console, timer: _Timer):
    from threadpoolctl import threadpool_limits

    from ..baselines import BoostedApertureRegressor, CountRateRelation, LuminosityRelation
    from ._progress import EpochProgressBar

    baselines = {"boosted trees": BoostedApertureRegressor(random_state=network["random_state"]),
                 "count-rate relation": CountRateRelation(),
                 "luminosity relation": LuminosityRelation()}
    # One OpenMP thread for the boosted trees (the same trees): on a busy 2-core machine
    # two spinning threads took 122 s to fit them on 4000 clusters, one thread 6 s.
    with timer.step("fit the classical methods"), console.bar(total=len(baselines),
                                                               desc="classical methods") as bar, \
            threadpool_limits(limits=1, user_api="openmp"):
        for model in baselines.values():
            model.fit(X_train, y_train)
            bar.update(1)
    progress = EpochProgressBar("train CNN", disable=console.quiet)
    cnn = build_pipeline("log", {**network, "callbacks": [progress]})
    console.info(f"training the CNN on {len(y_train)} clusters "
                 f"(up to {network['max_epochs']} epochs, device {network['device']})")
    with timer.step("train the CNN"):
        cnn.fit(X_train, y_train)
    cnn[-1].set_params(callbacks=None)  # the progress bar is not part of the model
    return {"CNN": cnn, **baselines}


def _predictions_table(ids, redshift, y, predictions) -> pd.DataFrame:
    import pandas as pd

    columns: dict[str, Any] = {"id": ids, "redshift": redshift, "true": y}
    for method, (mean, std) in predictions.items():
        key = method.split()[0].lower().replace("-", "_")
        columns[f"{key}_mean"], columns[f"{key}_std"] = mean, std
    return pd.DataFrame(columns)


def _command_line(args: argparse.Namespace) -> str:
    parts = ["sk-clustermass", "demo"]
    if args.quick:
        parts.append("--quick")
    for option, value, default in (("--n-samples", args.n_samples, None),
                                   ("--max-epochs", args.max_epochs, None),
                                   ("--random-state", args.random_state, 0),
                                   ("--survey", args.survey, "efeds_survey"),
                                   ("--device", args.device, "cpu"),
                                   ("--test-fraction", args.test_fraction, 0.2),
                                   ("--output", args.output, "demo_report")):
        if value != default:
            parts += [option, str(value)]
    return shlex.join(parts)


def _details(outcome: _Outcome, timer: _Timer) -> dict[str, str]:
    import torch

    from .._version import __version__

    args = outcome.args
    regressor = outcome.models["CNN"][-1]
    params = regressor.get_params()
    epochs = len(regressor.history_)
    stopped = " (early stopping)" if epochs < params["max_epochs"] else ""
    arch = ", ".join(f"{key}={params[key]}" for key in
                     ("n_filters", "kernel_size", "conv_layers", "pool_size", "dense_layers"))
    details = {
        "data": f"{outcome.n_samples} simulated {SURVEY_NAMES[args.survey]} clusters "
                f"(seed {args.random_state}), {outcome.n_train} for training, "
                f"{len(outcome.y_test)} held out",
        "CNN": f"LogStretch -> ClusterMassRegressor({arch}), {params['loss']} loss, "
               f"{params['optimizer']} lr {params['lr']:g} ({params['lr_schedule']} schedule), "
               f"batch {params['batch_size']}, early-stopping patience {params['patience']} "
               f"on a {params['validation_fraction']:.0%} validation split"
               + (", random flips and rotations in training" if params["augment"] else ""),
        "classical methods": "boosted trees: scikit-learn's HistGradientBoostingRegressor "
                             "on the net counts within 1', 2' and 4', a hardness ratio, the "
                             "background and the redshift (widths from 16% and 84% quantile "
                             "models); count-rate and luminosity relations: log-linear fits "
                             "of the mass on the net count rate or the rest-frame 0.5-2 keV "
                             "luminosity and E(z), on the training clusters",
        "training": f"{epochs} of at most {params['max_epochs']} epochs{stopped}, "
                    f"device {regressor.device_}, {torch.get_num_threads()} torch threads",
        "width calibration": f"std_scale_ = {regressor.std_scale_:.2f}",
        "cosmology": "flat LCDM, H0 = 70 km/s/Mpc, Om0 = 0.3 (distances, R500c, "
                     "luminosities of the simulator and the baselines)",
        "selection": _selection_text(args.survey),
    }
    details.update({f"time: {step}": f"{seconds:.0f} s" for step, seconds in timer.steps.items()})
    details["time: total"] = f"{timer.total:.0f} s ({os.cpu_count()} CPU cores visible)"
    details["sk_clustermass"] = __version__
    return details


def _selection_text(survey: str) -> str:
    """How the demo's clusters were drawn and selected, in words."""
    if survey.endswith("_survey"):
        return ("haloes drawn from the mass function over 10^13-10^15.5 Msun and z "
                f"0.01-1.5, kept if they pass the {SURVEY_NAMES[survey]}'s eSASS-like "
                "detection and extent selection (DET_LIKE >= 6, EXT_LIKE >= 6); cool "
                "cores and disturbed clusters; cut-outs centred on the detected position; "
                "contaminants left out")
    return ("clusters drawn log-uniform in mass and redshift and kept if they pass the "
            f"{SURVEY_NAMES[survey]} detection cut (net counts in the detection aperture "
            "above the survey's extent limit)")


@dataclass
class _Outcome:
    """What the demo measured: held-out clusters, fitted models, their predictions."""

    args: argparse.Namespace
    n_samples: int
    n_train: int
    ids: np.ndarray
    X_test: Any
    y_test: np.ndarray
    models: dict[str, Any]
    predictions: dict[str, tuple[np.ndarray, np.ndarray]]
    table: pd.DataFrame
    binned: dict[str, pd.DataFrame]
    paired: pd.DataFrame
    folder: Path

    @property
    def training_note(self) -> str:
        """The note of :func:`._comparison.training_note` on the CNN's training."""
        from ._comparison import training_note

        regressor = self.models["CNN"][-1]
        return training_note(regressor.history_, regressor.max_epochs)


def _simulate_and_split(args, n_samples: int, console: Console, timer: _Timer):
    from sklearn.model_selection import train_test_split

    from ..simulate import make_clusters

    console.info(f"simulating {n_samples} {SURVEY_NAMES[args.survey]} clusters "
                 f"(seed {args.random_state})")
    with timer.step("simulate"):
        X, y, catalog = make_clusters(n_samples, survey=args.survey, random_state=args.random_state,
                                      n_jobs=args.n_jobs, return_catalog=True,
                                      progress=not console.quiet)
    train, test = train_test_split(np.arange(n_samples), test_size=args.test_fraction,
                                   shuffle=True, random_state=args.random_state)
    return X, y, catalog["sim_id"].to_numpy(), train, test


def _report(outcome: _Outcome, figures: list, timer: _Timer):
    from ._calibration import report_tables, write_binned
    from ._comparison import comparison_table, headline
    from ._report import Report

    args, n_test = outcome.args, len(outcome.y_test)
    intro = (f"{outcome.n_samples} mock eROSITA clusters at {SURVEY_NAMES[args.survey]} "
             "depth (10 energy bands, 50 x 50 pixels of 24 arcsec, redshift known). A "
             "convolutional network and three classical methods (gradient-boosted trees on "
             "aperture photometry and two scaling relations) were trained on "
             f"{outcome.n_train} of them; everything below is measured on the other "
             f"{n_test}, which no model saw in training.")
    note = ("scatter: standard deviation of predicted - true log10(M500c/Msun); σ_lnM = "
            "ln(10) x scatter; bias: mean of predicted - true; 68% coverage: fraction of "
            "true masses within ±1 predicted sigma (ideal 0.68), 95% coverage within ±1.96 "
            "sigma (ideal 0.95); pull std: standard deviation of (true - mean) / sigma "
            "(ideal 1); NLL: mean Gaussian negative log-likelihood. Best value per column "
            "in green. The CNN's masses are posterior means under the training "
            "population (prior='training'): they shrink towards its typical mass; "
            "prior='flat' gives estimates for fitting scaling relations (see "
            "docs/uncertainties.md, 'The prior, made explicit').")
    files = [("summary.csv", "the summary table"),
             ("paired_comparison.csv", "scatter of every method and its difference to "
                                       "the CNN's, with paired-bootstrap intervals"),
             ("predictions.csv", "true and predicted masses of every held-out cluster"),
             ("model.safetensors", "the trained CNN pipeline; load it with "
                                   "sk_clustermass.load_model"),
             *write_binned(outcome.folder, outcome.binned)]
    return Report(title="sk_clustermass demo: cluster masses from X-ray images", intro=intro,
                  summary=outcome.table, highlight=headline(outcome.paired, n_test),
                  warnings=[text for text in (outcome.training_note,) if text],
                  summary_note=note,
                  tables=[comparison_table(outcome.paired), *report_tables(outcome.binned)],
                  figures=figures,
                  details=_details(outcome, timer), files=files, command=_command_line(args))


def _write_outputs(folder: Path, outcome: _Outcome, console: Console, timer: _Timer) -> Path:
    """summary.csv, predictions.csv, model.safetensors, the figures and index.html."""
    from ..models import save_model
    from ._figures import evaluation_figures, gallery_rows
    from ._report import write_report

    X_test, y_test = outcome.X_test, outcome.y_test
    with console.bar(total=3, desc="report") as bar:
        outcome.table.to_csv(folder / "summary.csv", index_label="method", float_format="%.6g")
        outcome.paired.to_csv(folder / "paired_comparison.csv", float_format="%.6g")
        _predictions_table(outcome.ids, X_test["redshift"], y_test, outcome.predictions
                           ).to_csv(folder / "predictions.csv", index=False, float_format="%.6g")
        save_model(outcome.models["CNN"], folder / "model.safetensors")
        bar.update(1)
        rows = gallery_rows(y_test)
        with timer.step("draw the figures"):
            figures = evaluation_figures(folder, y_test, outcome.predictions, X_test["redshift"],
                                         model=outcome.models["CNN"],
                                         gallery=(rows, X_test["images"][rows]),
                                         binned=outcome.binned)
        bar.update(1)
        index = write_report(_report(outcome, figures, timer), folder)
        bar.update(1)
    return index


def run_demo(args: argparse.Namespace, console: Console) -> int:
    """Run the demo and write its report folder; returns the exit code."""
    from ..metrics import summary_table
    from ._calibration import binned_tables, console_table
    from ._comparison import headline, paired_scatter

    n_samples, network = _settings(args)
    folder = Path(args.output)
    if folder.exists() and not folder.is_dir():
        raise CLIError(f"--output {str(folder)!r} exists and is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    timer = _Timer()
    X, y, ids, train, test = _simulate_and_split(args, n_samples, console, timer)
    models = _fit_models(X[train], y[train], network, console, timer)
    X_test, y_test = X[test], y[test]
    with timer.step("predict the held-out clusters"):
        predictions = {name: model.predict(X_test, return_std=True)
                       for name, model in models.items()}
    with timer.step("binned figures of merit"):
        binned = binned_tables(y_test, predictions, X_test["redshift"], args.random_state)
    with timer.step("paired bootstrap"):
        paired = paired_scatter(y_test, predictions, random_state=args.random_state)
    outcome = _Outcome(args, n_samples, len(train), ids[test], X_test, y_test, models,
                       predictions, summary_table(y_test, predictions), binned, paired,
                       folder)
    index = _write_outputs(folder, outcome, console, timer)
    console.result(outcome.table.to_string(float_format=lambda v: f"{v:.3f}"))
    console.result(console_table(binned))
    console.result(headline(paired, len(y_test)))
    if outcome.training_note:
        console.result(f"note: {outcome.training_note}")
    console.info(f"demo finished in {timer.total:.0f} s; open {index}")
    return 0
