"""Shared pieces of the ``sk-clustermass`` command line.

The error type whose message the command line prints as one line (:class:`CLIError`),
the console that honours ``--quiet``, the table of the estimator's hyper-parameters
as command-line options, configuration files, preprocessing presets, reading data and
models, block-wise prediction, and a per-epoch progress bar for training.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline, make_pipeline
from skorch.callbacks import Callback
from tqdm.auto import tqdm

from ..estimator import PRECISIONS, ClusterMassRegressor
from ..estimator._hyperparameters import DEVICES, LR_SCHEDULES, OPTIMIZERS
from ..estimator._loss import LOSSES, REGULARIZE_TARGETS, REGULARIZERS
from ..estimator._module import PADDING_MODES

__all__ = [
    "HYPERPARAMETERS",
    "PREPROCESSING",
    "CLIError",
    "Console",
    "EpochProgressBar",
    "add_hyperparameter_options",
    "build_pipeline",
    "check_device",
    "cluster_ids",
    "load_any_model",
    "open_dataset",
    "predict_blocks",
    "read_config",
    "regressor_params",
]

PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")


class CLIError(Exception):
    """Bad input: the command line prints the message on one line and exits with 2."""


@dataclass
class Console:
    """Where the commands talk: information on stderr, silenced by ``--quiet``."""

    quiet: bool = False

    def info(self, message: str) -> None:
        """Print a progress or status line to stderr, unless quiet."""
        if not self.quiet:
            print(message, file=sys.stderr, flush=True)

    def result(self, text: str) -> None:
        """Print a result (a table) to stdout, unless quiet."""
        if not self.quiet:
            print(text, flush=True)

    def bar(self, **kwargs: Any) -> tqdm:
        """A tqdm progress bar on stderr, disabled when quiet."""
        return tqdm(disable=self.quiet, file=sys.stderr, **kwargs)


# ----------------------------------------------------------------------------- options
def _int_tuple(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        values = ()
    if not values:
        message = f"expected comma-separated integers such as 3,2; got {text!r}"
        raise argparse.ArgumentTypeError(message)
    return values


def _choice(options: tuple) -> Callable[[str], Any]:
    """Argument type for a choice that may include None (written 'none')."""
    names = ["none" if option is None else option for option in options]

    def convert(text: str) -> Any:
        if text.lower() not in names:
            message = f"invalid choice {text!r} (choose from {', '.join(names)})"
            raise argparse.ArgumentTypeError(message)
        return None if text.lower() == "none" else text.lower()

    convert.__name__ = "choice"
    convert.metavar = "{" + ",".join(names) + "}"  # type: ignore[attr-defined]
    return convert


def _int_or_none(text: str) -> int | None:
    if text.lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        message = f"expected an integer or 'none'; got {text!r}"
        raise argparse.ArgumentTypeError(message) from None


#: (option, ClusterMassRegressor parameter, argparse type or "flag", help)
HYPERPARAMETERS: list[tuple[str, str, Any, str]] = [
    ("--n-filters", "n_filters", int, "filters per convolution (20)"),
    ("--kernel-size", "kernel_size", int, "side of the convolution kernel, pixels (2)"),
    ("--conv-layers", "conv_layers", _int_tuple, "convolutions per block, e.g. 3,2 (3,2)"),
    ("--pool-size", "pool_size", int, "side of the max-pool window, pixels (4)"),
    ("--padding", "padding", _choice(PADDING_MODES), "valid or same (valid)"),
    ("--dense-layers", "dense_layers", _int_tuple, "dense widths, e.g. 512,256,128,64"),
    ("--dropout", "dropout", float, "dropout rate after every dense layer (0)"),
    ("--use-redshift", "use_redshift", "flag", "feed the redshift to the network (yes)"),
    ("--loss", "loss", _choice(LOSSES), "gaussian_nll or mse (gaussian_nll)"),
    ("--regularizer", "regularizer", _choice(REGULARIZERS), "none, l1, l2 or l1l2 (none)"),
    ("--regularization", "regularization", float, "regulariser strength (1e-4)"),
    ("--regularize", "regularize", _choice(REGULARIZE_TARGETS), "kernel, bias or activity"),
    ("--optimizer", "optimizer", _choice(tuple(OPTIMIZERS)), "adam, adamw, sgd or rmsprop"),
    ("--lr", "lr", float, "(initial) learning rate (1e-3)"),
    ("--momentum", "momentum", float, "momentum of sgd and rmsprop (0.9)"),
    ("--weight-decay", "weight_decay", float, "weight decay (0)"),
    ("--lr-schedule", "lr_schedule", _choice(LR_SCHEDULES),
     "none, exponential, cosine or plateau (none)"),
    ("--lr-final", "lr_final", float, "final rate of exponential/cosine schedules"),
    ("--batch-size", "batch_size", int, "clusters per training step (64)"),
    ("--max-epochs", "max_epochs", int, "most epochs to train (100)"),
    ("--patience", "patience", _int_or_none, "early-stopping patience in epochs, or none (15)"),
    ("--validation-fraction", "validation_fraction", float,
     "fraction held out for early stopping (0.1)"),
    ("--augment", "augment", "flag", "random flips/rotations while training (no)"),
    ("--test-time-augmentation", "test_time_augmentation", "flag",
     "average predictions over the 8 symmetries (no)"),
    ("--grad-clip", "grad_clip", float, "clip the gradient norm to this value"),
    ("--device", "device", _choice(DEVICES), "cpu, cuda or auto (cpu)"),
    ("--precision", "precision", _choice(PRECISIONS),
     "fp32, bf16 or auto: bf16 where the CPU/GPU has it (fp32)"),
    ("--checkpoint-dir", "checkpoint_dir", str,
     "save training state here every epoch; a rerun resumes from it"),
    ("--checkpoint-every", "checkpoint_every", int, "epochs between checkpoints (1)"),
]
_NULLABLE = {"regularizer", "lr_schedule", "lr_final", "patience", "grad_clip",
             "checkpoint_dir", "random_state"}
_TUPLES = {"conv_layers", "dense_layers"}


def add_hyperparameter_options(parser: argparse.ArgumentParser, title: str | None = None) -> None:
    """Add one option per hyper-parameter; unset options stay out of the namespace."""
    group = parser.add_argument_group(title or (
        "network hyper-parameters (defaults of ClusterMassRegressor in brackets; "
        "options override --config)"
    ))
    for option, param, kind, text in HYPERPARAMETERS:
        if kind == "flag":
            group.add_argument(option, dest=f"hp_{param}", action=argparse.BooleanOptionalAction,
                               default=argparse.SUPPRESS, help=text)
        else:
            metavar = getattr(kind, "metavar", param.upper())
            group.add_argument(option, dest=f"hp_{param}", type=kind, metavar=metavar,
                               default=argparse.SUPPRESS, help=text)


def read_config(path: str | Path) -> dict[str, Any]:
    """Hyper-parameters from a JSON or TOML file (by suffix; ``.toml`` or JSON otherwise).

    Keys are :class:`ClusterMassRegressor` parameter names, plus ``preprocessing``;
    lists become tuples and the string ``"none"`` becomes None where None is allowed.
    """
    path = Path(path)
    if not path.is_file():
        raise CLIError(f"config file {str(path)!r} does not exist")
    text = path.read_text(encoding="utf-8")
    try:
        config = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        kind = "TOML" if path.suffix == ".toml" else "JSON"
        raise CLIError(f"config file {str(path)!r} is not valid {kind}: {exc}") from None
    if not isinstance(config, dict):
        raise CLIError(f"config file {str(path)!r} must hold a table of parameter = value")
    allowed = set(ClusterMassRegressor().get_params()) - {"callbacks", "verbose"}
    unknown = sorted(set(config) - allowed - {"preprocessing"})
    if unknown:
        message = (
            f"config file {str(path)!r} has unknown key(s) {unknown}; use ClusterMassRegressor "
            f"parameter names ({', '.join(sorted(allowed))}) or 'preprocessing'"
        )
        raise CLIError(message)
    for key, value in config.items():
        if key in _TUPLES and isinstance(value, list):
            config[key] = tuple(value)
        elif key in _NULLABLE and isinstance(value, str) and value.lower() == "none":
            config[key] = None
    return config


def regressor_params(args: argparse.Namespace, config: dict[str, Any]) -> dict[str, Any]:
    """Hyper-parameters: the config file's, overridden by the options given."""
    params = {key: value for key, value in config.items() if key != "preprocessing"}
    params.update({key[3:]: value for key, value in vars(args).items()
                   if key.startswith("hp_")})
    return params


def check_device(device: str | None) -> None:
    """Fail early, before any simulation or training, when CUDA is asked for but absent."""
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        message = (f"--device cuda, but PyTorch {torch.__version__} sees no CUDA device; "
                   "install a CUDA build of torch (see the README), or use --device cpu/auto")
        raise CLIError(message)


# ----------------------------------------------------------------------------- models
def _preprocessing_steps(name: str) -> list:
    from ..preprocessing import BandNormalizer, LogStretch

    presets = {
        "log": [LogStretch()],
        "log-normalize": [LogStretch(), BandNormalizer()],
        "asinh": [LogStretch(method="asinh")],
        "none": [],
    }
    return presets[name]


#: Preprocessing presets of ``train --preprocessing``.
PREPROCESSING = ("log", "log-normalize", "asinh", "none")


def build_pipeline(preprocessing: str, params: dict[str, Any]) -> Pipeline:
    """``make_pipeline(*preset, ClusterMassRegressor(**params))``, parameters checked."""
    if preprocessing not in PREPROCESSING:
        message = f"preprocessing {preprocessing!r} is unknown; choose one of {PREPROCESSING}"
        raise CLIError(message)
    try:
        regressor = ClusterMassRegressor(**params)
    except TypeError as exc:
        raise CLIError(f"bad hyper-parameter: {exc}") from None
    return make_pipeline(*_preprocessing_steps(preprocessing), regressor)


def load_any_model(path: str | Path, *, allow_pickle: bool = False, device: str = "cpu"):
    """A fitted model from a ``.safetensors`` file, or a joblib pickle when allowed."""
    from ..estimator import load_model

    path = Path(path)
    if not path.is_file():
        raise CLIError(f"model file {str(path)!r} does not exist")
    check_device(device)
    if path.suffix.lower() in PICKLE_SUFFIXES:
        if not allow_pickle:
            message = (
                f"{str(path)!r} is a pickle (joblib) file, which runs code when loaded; pass "
                "--allow-pickle if you made it yourself, or use the .safetensors file"
            )
            raise CLIError(message)
        import joblib

        return joblib.load(path)
    return load_model(path, device=device)


def open_dataset(path: str | Path, *, need_target: bool = False):
    """An :class:`HDF5ClusterDataset` view of ``path`` (the file is checked, not read)."""
    from ..datasets import HDF5ClusterDataset

    dataset = HDF5ClusterDataset(path)
    if need_target and not dataset.has_target:
        message = (
            f"{str(path)!r} holds no true masses (log10_m500c); this command needs them. "
            "Use `sk-clustermass predict` for unlabelled clusters."
        )
        raise CLIError(message)
    return dataset


def predict_blocks(model: Any, dataset: Any, console: Console, *, block: int = 2048):
    """Predict every cluster of ``dataset``, reading it block by block.

    Returns
    -------
    mean, std, redshift : ndarray of shape (n_samples,)
        Predicted ``log10(M500c / Msun)``, its width in dex, and the redshifts.
    y : ndarray of shape (n_samples,) or None
        True masses if the file holds them.
    """
    n = len(dataset)
    mean, std, redshift = np.empty(n), np.empty(n), np.empty(n)
    y = np.empty(n) if dataset.has_target else None
    with console.bar(total=n, unit="cluster", desc="predict") as bar:
        for start in range(0, n, block):
            stop = min(start + block, n)
            X, y_block = dataset.read(slice(start, stop))
            mean[start:stop], std[start:stop] = model.predict(X, return_std=True)
            redshift[start:stop] = X["redshift"]
            if y is not None:
                y[start:stop] = y_block
            bar.update(stop - start)
    return mean, std, redshift, y


def cluster_ids(dataset: Any) -> np.ndarray:
    """The catalogue's ``sim_id`` (or ``id``) column if there is one, else row numbers."""
    import h5py

    for column in ("id", "sim_id"):
        if column in dataset.columns:
            with h5py.File(dataset.path, "r") as file:  # one column, not the catalogue
                return np.asarray(file[f"catalog/{column}"][:])
    return np.arange(len(dataset))


# ----------------------------------------------------------------------------- training
class EpochProgressBar(Callback):
    """skorch callback: one tqdm bar over the epochs, with the latest losses.

    Parameters
    ----------
    desc : str, default='train'
        Label of the bar.
    disable : bool, default=False
        No bar (``--quiet``).
    """

    def __init__(self, desc: str = "train", disable: bool = False) -> None:
        self.desc = desc
        self.disable = disable

    def initialize(self) -> EpochProgressBar:
        self.bar_ = None
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs) -> None:
        self.bar_ = tqdm(total=net.max_epochs, initial=len(net.history), unit="epoch",
                         desc=self.desc, disable=self.disable, file=sys.stderr)

    def on_epoch_end(self, net, **kwargs) -> None:
        row = net.history[-1]
        losses = {key.split("_")[0]: f"{row[key]:.3f}" for key in ("train_loss", "valid_loss")
                  if key in row}
        self.bar_.set_postfix(losses, refresh=False)
        self.bar_.update(1)

    def on_train_end(self, net, X=None, y=None, **kwargs) -> None:
        if self.bar_ is not None:
            self.bar_.close()
        self.bar_ = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["bar_"] = None
        return state
