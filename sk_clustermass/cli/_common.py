"""Shared pieces of the ``sk-clustermass`` command line.

The error type whose message the command line prints as one line (:class:`CLIError`),
the console that honours ``--quiet``, configuration files, preprocessing presets,
reading data and models, block-wise prediction, and a per-epoch progress bar for
training. The options themselves are made in :mod:`._options`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm.auto import tqdm

from ..estimator import parameter_table
from ._options import command_line_parameters, nullable_parameters

__all__ = [
    "PREPROCESSING",
    "CLIError",
    "Console",
    "build_pipeline",
    "check_device",
    "cluster_ids",
    "is_pickle_name",
    "load_any_model",
    "open_dataset",
    "predict_blocks",
    "read_config",
    "regressor_params",
]

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")
#: The compressions joblib chooses by a name's end (``model.joblib.gz``): still pickles.
PICKLE_COMPRESSIONS = (".gz", ".bz2", ".xz", ".lzma", ".z")


def is_pickle_name(path: str | Path) -> bool:
    """Whether ``path`` names a joblib/pickle file, compressed or not (``.joblib.gz``)."""
    name = Path(path).name.lower()
    for compression in PICKLE_COMPRESSIONS:
        if name.endswith(compression):
            name = name[: -len(compression)]
            break
    return name.endswith(PICKLE_SUFFIXES)


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


# ----------------------------------------------------------------------------- config
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
    allowed = {parameter.name for parameter in command_line_parameters()}
    unknown = sorted(set(config) - allowed - {"preprocessing"})
    if unknown:
        message = (
            f"config file {str(path)!r} has unknown key(s) {unknown}; use ClusterMassRegressor "
            f"parameter names ({', '.join(sorted(allowed))}) or 'preprocessing'"
        )
        raise CLIError(message)
    tuples = {p.name for p in parameter_table() if p.kind == "ints"}
    nullable = nullable_parameters()
    for key, value in config.items():
        if key in tuples and isinstance(value, list):
            config[key] = tuple(value)
        elif key in nullable and isinstance(value, str) and value.lower() == "none":
            config[key] = None
    return config


def regressor_params(args: argparse.Namespace, config: dict[str, Any]) -> dict[str, Any]:
    """Hyper-parameters: the config file's, overridden by the options given."""
    params = {key: value for key, value in config.items() if key != "preprocessing"}
    params.update({key[3:]: value for key, value in vars(args).items()
                   if key.startswith("hp_")})
    return params


def check_device(device: str | None) -> str | None:
    """Fail early, before any simulation or training, when CUDA is asked for but absent.

    Returns the device to run on: 'auto' resolved to 'cuda' or 'cpu'.
    """
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        message = (f"--device cuda, but PyTorch {torch.__version__} sees no CUDA device; "
                   "install a CUDA build of torch (see the README), or use --device cpu/auto")
        raise CLIError(message)
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


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
    from sklearn.pipeline import make_pipeline

    from ..estimator import ClusterMassRegressor

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
    from ..models import load_model

    path = Path(path)
    if not path.is_file():
        raise CLIError(f"model file {str(path)!r} does not exist")
    check_device(device)
    if is_pickle_name(path):
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
    from ..io import HDF5ClusterDataset

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
def __getattr__(name: str) -> Any:
    # EpochProgressBar lives in ._progress (it imports skorch, hence torch); pickles
    # made before still name it here.
    if name == "EpochProgressBar":
        from ._progress import EpochProgressBar

        return EpochProgressBar
    message = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(message)
