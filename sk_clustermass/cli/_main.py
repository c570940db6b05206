"""The ``sk-clustermass`` command line: simulate, train, predict, evaluate, cutouts, study, demo.

Run ``sk-clustermass --help`` or ``sk-clustermass COMMAND --help`` for the options
and examples. Every command reads and writes the library's own files: HDF5 data sets
(:mod:`sk_clustermass.datasets`), safe ``.safetensors`` models
(:func:`sk_clustermass.save_model`), CSV tables and PNG/HTML reports.

Exit codes: 0 success; 2 bad input (a missing or malformed file, an unknown option
value), with one line on stderr saying what was wrong; 1 an internal error, a bug of
sk_clustermass (one line naming the exception; rerun with ``--traceback`` and report the
output); 130 interrupted.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import re
import sys
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from .._version import __version__
from ._common import PREPROCESSING, CLIError, Console
from ._options import (
    DeprecatedAlias,
    add_device_option,
    add_parameter_options,
    add_simulation_options,
    add_study_options,
)

__all__ = ["build_parser", "main"]

PROG = "sk-clustermass"
_LOGGER = logging.getLogger("sk_clustermass")
#: Exceptions whose message describes bad input: exit code 2, no traceback. Anything
#: else (a TypeError, KeyError, IndexError, ...) is a bug of ours: exit code 1.
BAD_INPUT = (CLIError, FileNotFoundError, IsADirectoryError, NotADirectoryError,
             PermissionError, ValueError)
#: Writes the system refused (errno -> why): the machine's limits, not a bug; exit code 2.
REFUSED_WRITES = {
    errno.EFBIG: "the file size limit (ulimit -f) or the file system's largest file is "
                 "reached",
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exhausted",
    errno.EROFS: "the file system is read-only",
    errno.ENAMETOOLONG: "a file name is longer than the file system allows",
}


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one line on stderr (exit code 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _Formatter(argparse.HelpFormatter):
    """Wraps descriptions to the terminal; keeps the examples of the epilog as written.

    The epilog is reStructuredText, so that the command-line reference (sphinx-argparse)
    shows every example block as a code block: a heading line ending in ``::``, a blank
    line, the indented block. The terminal shows the heading with one colon and no blank
    line after it.
    """

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("examples:"):
            text = re.sub(r"::\n\n", ":\n", text)
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def _epilog(text: str, more: Mapping[str, str] | None = None) -> str:
    """The examples as a reST literal block, then one literal block per ``more`` item.

    ``more`` maps a heading to a block (e.g. a config file's lines).
    """
    blocks = {"examples": text, **(more or {})}
    return "\n\n".join(f"{heading}::\n\n" + textwrap.indent(textwrap.dedent(block).strip("\n"),
                                                            "  ")
                       for heading, block in blocks.items())


def _add_command(
    commands: Any, common: argparse.ArgumentParser, name: str, *, summary: str,
    description: str, examples: str, more: Mapping[str, str] | None = None,
) -> argparse.ArgumentParser:
    """A sub-command with the common options, a one-line summary, a description and examples."""
    return commands.add_parser(name, parents=[common], help=summary, description=description,
                               epilog=_epilog(examples, more), formatter_class=_Formatter)


def _common(quiet_default: object = argparse.SUPPRESS) -> argparse.ArgumentParser:
    """Options every command takes, before or after the command name."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", default=quiet_default,
                        help="no progress bars or messages, only errors (wins over -v)")
    common.add_argument("-v", "--verbose", action="count",
                        default=0 if quiet_default is False else quiet_default,
                        help="log what the command does on stderr (-v: steps, -vv: details)")
    common.add_argument("--traceback", action="store_true", default=quiet_default,
                        help="show the full traceback of an error (for bug reports)")
    return common


def _add_model_input(parser: argparse.ArgumentParser) -> None:
    from ._predictions import add_table_options

    parser.add_argument("model", nargs="?",
                        help="fitted model: a .safetensors file from `train` (or --model)")
    parser.add_argument("data", help="clusters in the library's HDF5 format (from "
                        "`simulate` or `cutouts`)")
    add_table_options(parser)
    parser.add_argument("--allow-pickle", action="store_true",
                        help="accept a .joblib model (pickles run code: only your own files)")
    add_device_option(parser, "runs")


def _simulate_parser(commands, common) -> None:
    parser = _add_command(
        commands, common, "simulate", summary="simulate clusters into an HDF5 file",
        description="Simulate eROSITA-like image cubes (10 bands x 50 x 50 pixels) of "
        "galaxy clusters with known masses, streamed chunk by chunk into an HDF5 file "
        "(memory bounded by --chunk-size, any number of clusters).",
        examples="""
            sk-clustermass simulate -n 2000 -o clusters.h5
            sk-clustermass simulate -n 100000 --n-jobs -1 --chunk-size 2048 -o big.h5
            sk-clustermass simulate -n 5000 --survey erass1_lab --random-state 7 -o erass1.h5
            sk-clustermass simulate -n 2000 --survey efeds_survey -o efeds_like.h5
            sk-clustermass simulate -n 2000 --compression lzf -o portable.h5
        """)
    parser.add_argument("-n", "--n-samples", type=int, required=True,
                        help="number of clusters to write")
    parser.add_argument("-o", "--output", required=True, help="HDF5 file to write")
    add_simulation_options(parser)
    parser.add_argument("--chunk-size", type=int, default=1024,
                        help="clusters simulated per chunk, at most -n (default: 1024)")
    parser.add_argument("--mass-range", type=float, nargs=2, default=None,
                        metavar=("LOW", "HIGH"),
                        help="log10(M500c/Msun) range (13 15; 13 15.5 for the presets)")
    parser.add_argument("--redshift-range", type=float, nargs=2, default=None,
                        metavar=("LOW", "HIGH"), help="redshift range (0.01 1.5)")
    parser.add_argument("--sampling", default=None,
                        choices=("log-uniform", "mass-function"),
                        help="the prior on mass and redshift (default: log-uniform; "
                        "mass-function for the efeds_survey and erass1_survey presets)")
    parser.add_argument("--all-clusters", action="store_true",
                        help="keep undetected clusters too (flagged in the catalogue)")
    parser.add_argument("--compression", default="gzip",
                        choices=("gzip", "bitshuffle", "lzf", "none"),
                        help="HDF5 compression: gzip (readable by any h5py), bitshuffle "
                        "(bit shuffle + LZ4: smallest and fastest to read, for out-of-core "
                        "training; other programs need hdf5plugin), lzf or none "
                        "(default: gzip)")
    parser.set_defaults(func="run_simulate")


def _train_parser(commands, common) -> None:
    parser = _add_command(
        commands, common, "train", summary="train a CNN pipeline and save it",
        description="Train a preprocessing + ClusterMassRegressor pipeline on an HDF5 "
        "file or on freshly simulated clusters, and save it as a safe .safetensors file "
        "(load it with sk_clustermass.load_model). Hyper-parameters come from the "
        "options below, or a --config JSON/TOML file of ClusterMassRegressor parameter "
        "names (options given on the command line win).",
        examples="""
            sk-clustermass train clusters.h5 -o model.safetensors
            sk-clustermass train --simulate 3000 --max-epochs 40 --n-filters 32 -o m.safetensors
            sk-clustermass train clusters.h5 --config params.toml --device cuda -o m.safetensors
            sk-clustermass train clusters.h5 --checkpoint-dir ckpt/ -o m.safetensors  # resumable
        """, more={"a params.toml for --config (ClusterMassRegressor names, plus "
                   "preprocessing)": """
            n_filters = 40
            dense_layers = [256, 128, 64]
            lr_schedule = "cosine"
            preprocessing = "log-normalize"
        """})
    parser.add_argument("data", nargs="?", help="training clusters (HDF5 with true masses)")
    parser.add_argument("--simulate", type=int, metavar="N",
                        help="train on N freshly simulated clusters instead of a file")
    parser.add_argument("-o", "--output", default="model.safetensors",
                        help="model file to write (default: model.safetensors)")
    parser.add_argument("--joblib", metavar="PATH",
                        help="also save the pipeline with joblib (a pickle) here")
    parser.add_argument("--config", help="JSON or TOML file of hyper-parameters")
    parser.add_argument("--preprocessing", choices=PREPROCESSING,
                        help="transformers before the network (default: log, i.e. LogStretch)")
    parser.add_argument("--out-of-core", action="store_true",
                        help="stream DATA.h5 from disk while training (needs --preprocessing "
                        "none); for files larger than memory")
    add_simulation_options(parser)
    add_parameter_options(parser, exclude=("random_state",))
    parser.set_defaults(func="run_train")


def _predict_parser(commands, common) -> None:
    parser = _add_command(
        commands, common, "predict", summary="predict masses into a table with units",
        description="Predict log10(M500c/Msun) and its 1-sigma width for every cluster "
        "of an HDF5 file; writes an ECSV or FITS table with units and provenance (M500c "
        "with asymmetric 1-sigma bounds, R500c, the model's hash, the library version, "
        "the cosmology), or a plain CSV (id, redshift, mean, std) for a .csv output. The "
        "file is read in blocks, so it may be larger than memory.",
        examples="""
            sk-clustermass predict --model efeds clusters.h5 -o masses.ecsv
            sk-clustermass predict model.safetensors clusters.h5 --format fits -o masses.fits
            sk-clustermass predict model.safetensors survey.h5 --device cuda -o masses.csv
        """)
    _add_model_input(parser)
    parser.add_argument("-o", "--output", default=None,
                        help="table to write (default: predictions.ecsv, or "
                        "predictions.FORMAT with --format)")
    parser.set_defaults(func="run_predict")


def _evaluate_parser(commands, common) -> None:
    parser = _add_command(
        commands, common, "evaluate", summary="metrics and figures against true masses",
        description="Predict the clusters of an HDF5 file that holds their true masses and "
        "write metrics.csv (scatter in dex and ln M, bias, 68% coverage, NLL), "
        "predictions.csv, figures and an index.html report into a folder.",
        examples="""
            sk-clustermass evaluate model.safetensors test.h5 -o evaluation/
            sk-clustermass evaluate model.safetensors test.h5 --name "CNN, 40 filters" -o eval40/
        """)
    _add_model_input(parser)
    parser.add_argument("-o", "--output", default="evaluation",
                        help="folder to write (default: evaluation)")
    parser.add_argument("--name", default="model",
                        help="method name in the table (default: model)")
    parser.add_argument("--no-figures", action="store_true", help="only the tables")
    parser.set_defaults(func="run_evaluate")


def _cutouts_parser(commands, common) -> None:
    from ._cutouts import add_cutouts_arguments

    parser = _add_command(
        commands, common, "cutouts", summary="cubes from eROSITA event lists into HDF5",
        description="Cut one training-format cube (10 bands over 0.25-2.3 keV, 50 x 50 "
        "pixels of 24 arcsec) per catalogue position out of eSASS event lists and their "
        "exposure maps, and write them with the catalogue to an HDF5 file for `predict`. "
        "Positions near a tile edge are kept and flagged (column 'partial'); a position "
        "outside every file is an error.",
        examples="""
            sk-clustermass cutouts events.fits --exposure expmap.fits --catalog cat.fits -o c.h5
            sk-clustermass cutouts tile1_ev.fits tile2_ev.fits --exposure tile1_ex.fits \\
                tile2_ex.fits --catalog erass1cl.fits --layout erass1 -o clusters.h5
            sk-clustermass predict --model efeds c.h5 -o masses.ecsv
        """)
    add_cutouts_arguments(parser)


def _study_parser(commands, common) -> None:
    parser = _add_command(
        commands, common, "study", summary="run one of the lab's parameter studies",
        description="Run one of the seed lab's studies (a cross-validated grid over "
        "filters, kernel size, optimizer x learning rate, dropout, ...; see --list) with "
        "sk_clustermass.studies.run_study, and write its cv_results.csv, summary.json and "
        "figures into a folder. 'quick' runs on a laptop CPU in minutes, 'full' is the "
        "lab's grid and epochs, meant for a GPU. Without DATA.h5 or --simulate, the "
        "mode's default number of clusters is simulated.",
        examples="""
            sk-clustermass study --list
            sk-clustermass study filters -o study_filters/
            sk-clustermass study dropout clusters.h5 --mode full --device cuda -o dropout/
            sk-clustermass study kernel_size --simulate 2000 --max-epochs 20 -o kernels/
        """)
    parser.add_argument("name", nargs="?", help="the study to run (see --list)")
    parser.add_argument("data", nargs="?", help="clusters (HDF5 with true masses)")
    parser.add_argument("--list", action="store_true", help="list the studies and exit")
    parser.add_argument("--config", help="JSON or TOML file of fixed network parameters")
    add_study_options(parser)
    parser.set_defaults(func="run_study")


def _demo_parser(commands, common) -> None:
    from ._demo import DEFAULT_EPOCHS, DEFAULT_SAMPLES

    parser = _add_command(
        commands, common, "demo", summary="simulate, train, compare, write an HTML report",
        description="The whole job in one command: simulate an eFEDS-depth set of clusters, "
        "train the CNN pipeline and three classical competitors (gradient-boosted trees on "
        "aperture photometry, two scaling relations) on most of it, evaluate all four on "
        "held-out clusters, compare the scatters with paired-bootstrap intervals, and "
        "write a report folder (index.html with figures, summary.csv, predictions.csv, "
        "the saved model). The defaults take about a minute on an idle 2-core laptop.",
        examples="""
            sk-clustermass demo                           # writes demo_report/index.html
            sk-clustermass demo --n-samples 20000 --max-epochs 100 --device cuda
            sk-clustermass demo --quick -o /tmp/smoke    # seconds: a smoke test
        """)
    parser.add_argument("--n-samples", type=int, default=None,
                        help=f"clusters to simulate (default: {DEFAULT_SAMPLES})")
    parser.add_argument("--max-epochs", type=int, default=None,
                        help=f"most training epochs; early stopping may end sooner "
                        f"(default: {DEFAULT_EPOCHS})")
    parser.add_argument("--test-fraction", type=float, default=0.2,
                        help="fraction of clusters held out for evaluation (default: 0.2)")
    add_device_option(parser, "trains")
    parser.add_argument("-o", "--output", default="demo_report",
                        help="report folder (default: demo_report)")
    parser.add_argument("--out", dest="output", action=DeprecatedAlias, replacement="--output",
                        help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true",
                        help="tiny data and network, for tests (seconds; poor masses)")
    add_simulation_options(parser, survey_default=DEMO_SURVEY)
    parser.set_defaults(func="run_demo")


#: The demo's sky: the eFEDS-like survey preset, the closest to what users observe.
DEMO_SURVEY = "efeds_survey"


def build_parser() -> argparse.ArgumentParser:
    """The ``sk-clustermass`` argument parser with all its sub-commands."""
    parser = _Parser(
        prog=PROG, parents=[_common(False)],
        description="Galaxy-cluster masses from eROSITA-like X-ray images: simulate data, "
        "train and apply the CNN estimator, compare with scaling relations.",
        epilog=_epilog("""
            sk-clustermass demo                  # the whole job, report in demo_report/
            sk-clustermass simulate -n 5000 -o clusters.h5
            sk-clustermass train clusters.h5 --max-epochs 30 -o model.safetensors
            sk-clustermass predict model.safetensors new.h5 -o masses.csv
            sk-clustermass evaluate model.safetensors test.h5 -o evaluation/
            sk-clustermass COMMAND --help        # options of one command
        """),
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                     parser_class=_Parser)
    common = _common()
    for add in (_simulate_parser, _train_parser, _predict_parser, _evaluate_parser,
                _cutouts_parser, _study_parser, _demo_parser):
        add(commands, common)
    return parser


def _command(name: str):
    if name == "run_demo":
        from ._demo import run_demo

        return run_demo
    if name == "run_cutouts":
        from ._cutouts import run_cutouts

        return run_cutouts
    from . import _commands as _cli_commands

    return getattr(_cli_commands, name)


def _one_line(exc: BaseException) -> str:
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    return " ".join(text.split()) or type(exc).__name__


def setup_logging(verbose: int = 0, quiet: bool = False) -> int:
    """Send the library's log records to stderr at the level the options ask for.

    Parameters
    ----------
    verbose : int, default=0
        0: warnings only, 1 (``-v``): information, 2 or more (``-vv``): debugging.
    quiet : bool, default=False
        Errors only, whatever ``verbose`` says.

    Returns
    -------
    int
        The level set on the ``sk_clustermass`` logger.
    """
    if quiet:
        level = logging.ERROR
    else:
        level = (logging.WARNING, logging.INFO)[verbose] if verbose < 2 else logging.DEBUG
    _LOGGER.setLevel(level)
    if not any(isinstance(handler, _StderrHandler) for handler in _LOGGER.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(name)s: %(levelname)s: %(message)s"))
        _LOGGER.addHandler(handler)
    return level


class _StderrHandler(logging.StreamHandler):
    """Writes to ``sys.stderr`` as it is when a record comes (where the progress bars
    are), not as it was when the handler was made: a redirected stderr is followed."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script exits with it).

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        0 on success, 2 on bad input, 1 on an internal error (a bug), 130 when
        interrupted.
    """
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose, args.quiet)
    _LOGGER.info("%s %s", PROG, args.command)
    _LOGGER.debug("options: %s", {k: v for k, v in vars(args).items() if k != "func"})
    console = Console(quiet=args.quiet)
    prefix = f"{PROG} {args.command}: error:"
    try:
        return int(_command(args.func)(args, console) or 0)
    except KeyboardInterrupt as exc:
        detail = f": {exc}" if str(exc) else ""
        print(f"{PROG} {args.command}: interrupted{detail}", file=sys.stderr)
        return 130
    except BAD_INPUT as exc:
        if args.traceback:
            raise
        print(f"{prefix} {_one_line(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:
        if args.traceback:
            raise
        if exc.errno in REFUSED_WRITES:
            print(_refused_write(prefix, exc), file=sys.stderr)
            return 2
        print(_internal_error(prefix, exc), file=sys.stderr)
        return 1
    except Exception as exc:
        if args.traceback:
            raise
        print(_internal_error(prefix, exc), file=sys.stderr)
        return 1


def _refused_write(prefix: str, exc: OSError) -> str:
    """The one line of a write the system refused: why, and that nothing half-written stays."""
    name = errno.errorcode.get(exc.errno, str(exc.errno))
    return (f"{prefix} the system refused to write ({os.strerror(exc.errno)}, {name}): "
            f"{REFUSED_WRITES[exc.errno]}. No output was left half-written; free space, "
            "raise the limit or write elsewhere with -o")


def _internal_error(prefix: str, exc: BaseException) -> str:
    """The one line of an unexpected exception: a bug of ours, and how to report it."""
    return (f"{prefix} internal error (a bug in sk_clustermass, not in your input): "
            f"{type(exc).__name__}: {_one_line(exc)}. Please rerun the same command with "
            "--traceback and open an issue on the sk_clustermass project with its output")

