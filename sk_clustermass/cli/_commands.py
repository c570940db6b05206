"""The ``simulate``, ``train``, ``predict``, ``evaluate`` and ``study`` commands.

Each ``run_*`` function takes the parsed arguments and a
:class:`~sk_clustermass.cli._common.Console`, does its work and returns the exit code.
Bad input raises :class:`~sk_clustermass.cli._common.CLIError` (or one of the library's
``ValueError``/``FileNotFoundError``), which :func:`sk_clustermass.cli.main` prints on
one line.
"""

from __future__ import annotations

import argparse
import inspect
import time
from pathlib import Path
from typing import Any

import pandas as pd

from .._utils import atomic_path
from ._common import (
    PICKLE_SUFFIXES,
    CLIError,
    Console,
    build_pipeline,
    check_device,
    cluster_ids,
    is_pickle_name,
    open_dataset,
    predict_blocks,
    read_config,
    regressor_params,
)
from ._outputs import EVALUATION_FILES, STUDY_FILES, output_file, output_folder
from ._progress import EpochProgressBar

__all__ = ["run_evaluate", "run_predict", "run_simulate", "run_study", "run_train"]

#: The suffix of the models ``train`` writes (``save_model``'s safe format).
MODEL_SUFFIXES = (".safetensors",)


def _output_file(path: str | Path, *inputs: str | Path | None) -> Path:
    return output_file(path, inputs)


def _write_csv(table: pd.DataFrame, path: Path, **options: Any) -> None:
    """Write a CSV table atomically (never a half-written table under its name)."""
    with atomic_path(path) as temporary:
        table.to_csv(temporary, float_format="%.6g", **options)


def _simulate(n_samples: int, args: argparse.Namespace, console: Console):
    from ..simulate import make_clusters

    console.info(f"simulating {n_samples} {args.survey} clusters "
                 f"(random state {args.random_state})")
    X, y = make_clusters(n_samples, survey=args.survey, random_state=args.random_state,
                         n_jobs=args.n_jobs, progress=not console.quiet)
    return X, y


# ----------------------------------------------------------------------------- simulate
def run_simulate(args: argparse.Namespace, console: Console) -> int:
    """Simulate clusters into an HDF5 file, chunk by chunk."""
    from ..datasets import simulate_to_hdf5

    if Path(args.output).suffix.lower() not in (".h5", ".hdf5", ".hdf"):
        message = (f"output {args.output!r}: simulate writes the library's HDF5 format; name "
                   f"the file with .h5 (e.g. {Path(args.output).stem}.h5)")
        raise CLIError(message)
    output = _output_file(args.output)
    start = time.perf_counter()
    try:
        simulate_to_hdf5(
            output, args.n_samples, chunk_size=args.chunk_size, survey=args.survey,
            random_state=args.random_state, n_jobs=args.n_jobs, progress=not console.quiet,
            mass_range=None if args.mass_range is None else tuple(args.mass_range),
            redshift_range=None if args.redshift_range is None else tuple(args.redshift_range),
            sampling=args.sampling, detected_only=not args.all_clusters,
            compression=None if args.compression == "none" else args.compression,
        )
    except FileExistsError as exc:  # another simulate is writing the same file
        raise CLIError(str(exc)) from None
    size = output.stat().st_size / 1e6
    elapsed = time.perf_counter() - start
    console.info(f"wrote {args.n_samples} clusters to {output} ({size:.1f} MB) in {elapsed:.0f} s")
    return 0


# ----------------------------------------------------------------------------- train
def _data_source(args: argparse.Namespace):
    """The training file's dataset view (None with --simulate), checked before any work."""
    if (args.data is None) == (args.simulate is None):
        raise CLIError("give either a data file DATA.h5 or --simulate N (not both)")
    if args.simulate is not None:
        if args.simulate < 2:
            raise CLIError(f"--simulate needs at least 2 clusters; got {args.simulate}")
        return None
    return open_dataset(args.data, need_target=True)


def _training_data(args: argparse.Namespace, dataset, console: Console):
    """In-memory ``X, y`` from the file, or freshly simulated."""
    from ..io import read_hdf5

    if dataset is None:
        return _simulate(args.simulate, args, console)
    console.info(f"reading {len(dataset)} clusters from {args.data}")
    X, y, _ = read_hdf5(dataset.path)
    return X, y


def run_train(args: argparse.Namespace, console: Console) -> int:
    """Train a preprocessing + ClusterMassRegressor pipeline and save it."""
    from ..estimator import validate_parameters
    from ..models import save_model

    config = read_config(args.config) if args.config else {}
    params = regressor_params(args, config)
    params.setdefault("random_state", args.random_state)
    preprocessing = args.preprocessing or config.get("preprocessing", "log")
    model = build_pipeline(preprocessing, params)
    regressor = model[-1]
    check_device(regressor.device)
    output = output_file(args.output, (args.data, args.config), MODEL_SUFFIXES)
    if args.joblib:
        if not is_pickle_name(args.joblib):
            message = (f"--joblib {args.joblib!r}: name the pickle {' or '.join(PICKLE_SUFFIXES)}"
                       " (compressed: add .gz, .bz2 or .xz), e.g. model.joblib")
            raise CLIError(message)
        output_file(args.joblib, (args.data, args.config, args.output))
    dataset = _data_source(args)
    if args.out_of_core and (dataset is None or preprocessing != "none"):
        message = ("--out-of-core streams DATA.h5 straight into the network: it needs a "
                   "file and --preprocessing none")
        raise CLIError(message)
    # the simulator's images are 50 x 50 pixels
    shape = (10, 50, 50) if dataset is None else dataset.image_shape
    validate_parameters(regressor, shape[1:], n_bands=shape[0])  # before any data is read
    if args.out_of_core:
        X, y = str(dataset.path), None
    else:
        X, y = _training_data(args, dataset, console)
    n_clusters = len(dataset) if dataset is not None else len(y)
    regressor.set_params(callbacks=[EpochProgressBar(disable=console.quiet)])
    console.info(f"training on {n_clusters} clusters ({preprocessing} preprocessing, "
                 f"device {regressor.device})")
    start = time.perf_counter()
    _fit_or_interrupt(model, X, y, args)
    elapsed = time.perf_counter() - start
    regressor.set_params(callbacks=None)  # the progress bar is not part of the model
    save_model(model, output)
    if args.joblib:
        import joblib

        with atomic_path(_output_file(args.joblib)) as temporary:
            joblib.dump(model, temporary)
    valid = [row["valid_loss"] for row in regressor.history_ if "valid_loss" in row]
    best = f", best validation loss {min(valid):.3f}" if valid else ""
    console.info(f"trained {len(regressor.history_)} epochs in {elapsed:.0f} s{best}; "
                 f"saved {output}" + (f" and {args.joblib}" if args.joblib else ""))
    return 0


def _fit_or_interrupt(model: Any, X: Any, y: Any, args: argparse.Namespace) -> None:
    """Fit; if Ctrl-C or SIGTERM ended training early, save nothing and exit 130.

    The estimator keeps an interrupted fit usable (``TrainingInterruptedWarning``), but a
    command that then saved it under the final name would hand ``train && predict`` an
    under-trained model with exit status 0.
    """
    import warnings

    from ..estimator import TrainingInterruptedWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TrainingInterruptedWarning)
        model.fit(X, y)
    interrupted = False
    for warning in caught:
        if issubclass(warning.category, TrainingInterruptedWarning):
            interrupted = True
        else:  # every other warning goes on as if never caught
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno, source=warning.source)
    if interrupted:
        regressor = model[-1]
        resume = (" run the same command again to resume from --checkpoint-dir"
                  if regressor.checkpoint_dir is not None else
                  " give --checkpoint-dir to be able to resume an interrupted training")
        message = (f"training stopped after epoch {len(regressor.history_)} of "
                   f"{regressor.max_epochs}; no model was saved to {args.output} (it would "
                   f"be under-trained):{resume}")
        raise KeyboardInterrupt(message)


# ----------------------------------------------------------------------------- predict
def run_predict(args: argparse.Namespace, console: Console) -> int:
    """Predict masses for every cluster of an HDF5 file into a table with units."""
    from ._predictions import model_prior, resolve_model, table_path, write_predictions

    model_path_given = args.model if args.model_option is None else args.model_option
    if args.output is not None:  # never over an input, whatever its suffix says
        _output_file(args.output, model_path_given, args.data)
    output, kind = table_path(args.output, args.format, "predictions")
    output = _output_file(output, model_path_given, args.data)
    model, model_path, population = resolve_model(args, console)
    dataset = open_dataset(args.data)
    mean, std, redshift, _ = predict_blocks(model, dataset, console)
    predictions = {"id": cluster_ids(dataset), "redshift": redshift, "mean": mean, "std": std}
    write_predictions(output, kind, predictions, dataset, model_path, population,
                      prior=model_prior(model))
    console.info(f"wrote predictions for {len(mean)} clusters to {output} ({kind})")
    return 0


# ----------------------------------------------------------------------------- evaluate
#: The plausible true log10(M500c / Msun) of a cluster (1e10-1e17 Msun, as catalogues).
TRUE_MASS_RANGE = (10.0, 17.0)


def _check_true_masses(dataset: Any, path: str) -> None:
    """Refuse true masses that are not log10(M500c / Msun): in Msun, ln M, ..."""
    import warnings

    with warnings.catch_warnings():  # the error below says it, and says what to do
        warnings.simplefilter("ignore", UserWarning)
        y = dataset.read_target()
    low, high = TRUE_MASS_RANGE
    if y.min() < low or y.max() > high:
        message = (
            f"the true masses of {path!r} (log10_m500c) range from {y.min():.4g} to "
            f"{y.max():.4g}: not log10(M500c / Msun), which lies between {low:g} and "
            f"{high:g} (masses in Msun are ~1e14, natural logs ~32). Write the file again "
            "with y = np.log10(M500c / Msun)"
        )
        raise CLIError(message)


def run_evaluate(args: argparse.Namespace, console: Console) -> int:
    """Compare predictions with the true masses: metrics table, figures, HTML page."""
    from ..metrics import summary_table
    from ._calibration import binned_tables, console_table, report_tables, write_binned
    from ._figures import evaluation_figures, gallery_rows
    from ._predictions import model_prior, resolve_model, table_path, write_predictions
    from ._report import Report, write_report

    folder = output_folder(args.output, EVALUATION_FILES,
                           (args.model, args.model_option, args.data))
    model, model_path, population = resolve_model(args, console)
    dataset = open_dataset(args.data, need_target=True)
    _check_true_masses(dataset, args.data)  # before anything is written
    folder.mkdir(parents=True, exist_ok=True)
    mean, std, redshift, y = predict_blocks(model, dataset, console)
    predictions = {args.name: (mean, std)}
    table = summary_table(y, predictions)
    _write_csv(table, folder / "metrics.csv", index_label="method")
    _write_csv(pd.DataFrame({"id": cluster_ids(dataset), "redshift": redshift, "true": y,
                             "mean": mean, "std": std}), folder / "predictions.csv",
               index=False)
    binned = binned_tables(y, predictions, redshift)
    binned_files = write_binned(folder, binned)
    table_file, kind = table_path(str(folder / f"predictions.{args.format or 'ecsv'}"),
                                  args.format, "predictions")
    write_predictions(table_file, kind, {"id": cluster_ids(dataset), "redshift": redshift,
                                         "true": y, "mean": mean, "std": std},
                      dataset, model_path, population, prior=model_prior(model))
    figures = []
    if not args.no_figures:
        rows = gallery_rows(y)
        images = dataset.read(rows)[0]["images"]
        figures = evaluation_figures(folder, y, predictions, redshift, model=model,
                                     gallery=(rows, images), binned=binned)
    report = Report(
        title=f"sk_clustermass evaluation: {model_path.name} on {Path(args.data).name}",
        intro=f"{len(y)} clusters with known masses, predicted by {model_path}.",
        summary=table,
        summary_note="scatter = standard deviation of predicted - true log10 mass; "
                     "coverage = fraction of true masses within the central 68% (±1 "
                     "sigma) and 95% (±1.96 sigma) predicted intervals; pull std = "
                     "standard deviation of (true - mean) / sigma, 1 when calibrated.",
        tables=report_tables(binned),
        figures=figures,
        files=[("metrics.csv", "this table"),
               ("predictions.csv", "id, redshift, true, mean, std per cluster"),
               (table_file.name, "the same with units and provenance"), *binned_files],
    )
    write_report(report, folder)
    console.result(table.to_string(float_format=lambda v: f"{v:.4f}"))
    console.result(console_table(binned))
    console.info(f"wrote {folder / 'metrics.csv'}, predictions.csv, figures and index.html")
    return 0


# ----------------------------------------------------------------------------- study
def _studies_module():
    try:
        from .. import studies
    except ModuleNotFoundError as exc:
        if exc.name != "sk_clustermass.studies":
            raise
        message = ("the studies (sk_clustermass.studies) are not part of this installation "
                   "yet; update sk_clustermass to run them")
        raise CLIError(message) from None
    return studies


def _study_description(entry: Any) -> str:
    text = getattr(entry, "description", None) or inspect.getdoc(entry) or ""
    return text.strip().splitlines()[0] if text.strip() else ""


def run_study(args: argparse.Namespace, console: Console) -> int:
    """Run one of the lab's parameter studies and write its tables and figures."""
    studies = _studies_module()
    registry = studies.STUDIES
    if args.list or args.name is None:
        width = max(len(name) for name in registry)
        lines = [f"{name:<{width}}  {_study_description(entry)}"
                 for name, entry in registry.items()]
        print("\n".join(lines))
        return 0
    if args.name not in registry:
        raise CLIError(f"unknown study {args.name!r}; choose one of {', '.join(registry)}")
    output_folder(args.output, STUDY_FILES, (args.data, args.config))
    params = regressor_params(args, read_config(args.config) if args.config else {})
    check_device(params.get("device"))
    if args.data is None and args.simulate is None:
        args.simulate = studies.MODES[args.mode].n_samples
    X, y = _training_data(args, _data_source(args), console)
    params.pop("random_state", None)
    checkpoint_dir = params.pop("checkpoint_dir", None)
    max_epochs = params.pop("max_epochs", None)
    console.info(f"running study {args.name!r} ({args.mode} mode) on {len(y)} clusters")
    result = studies.run_study(
        args.name, X, y, mode=args.mode, out_dir=args.output, cv=args.cv,
        n_jobs=args.n_jobs, random_state=args.random_state, checkpoint_dir=checkpoint_dir,
        verbose=0 if console.quiet else 1, max_epochs=max_epochs, regressor_params=params,
    )
    console.result(result.table.to_string(max_rows=30, max_cols=8))
    console.info(f"results in {args.output}")
    return 0
