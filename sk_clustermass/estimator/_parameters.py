"""The parameter table of ClusterMassRegressor: one entry per constructor parameter.

Each :class:`Parameter` says what values are allowed (type, range, choices), what the
parameter does in one line, where it belongs (architecture, optimisation, ...) and
whether it changes what a checkpoint holds. Everything else derives from the table:

- :func:`validate_parameters`, called by ``fit`` (and by the command line and the
  studies before any work), checks every entry and the rules that tie parameters
  together;
- the command line's training options (``sk-clustermass train --help``), named after
  the parameters, with the estimator's own defaults;
- :func:`parameter_table_markdown`, the table of ``docs/estimator.md``;
- :func:`fingerprint_ignored`, the parameters left out of a checkpoint's fingerprint.

The idea is scikit-learn's ``_parameter_constraints``, written as data that the docs
and the command line can read too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np
import torch

from .._utils import check_bool, check_choice, check_number, describe_bounds
from ._loss import LOSSES, REGULARIZE_TARGETS, REGULARIZERS
from ._module import PADDING_MODES, feature_map_sizes
from ._precision import PRECISIONS

__all__ = [
    "DEVICES",
    "GROUPS",
    "KINDS",
    "LR_SCHEDULES",
    "OPTIMIZERS",
    "PARAMETERS",
    "Parameter",
    "fingerprint_ignored",
    "parameter_table",
    "parameter_table_markdown",
    "validate_parameters",
]

#: The optimizers by name.
OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}
#: Per-epoch learning-rate schedules (None: constant).
LR_SCHEDULES = (None, "exponential", "cosine", "plateau")
#: Where the network trains and predicts.
DEVICES = ("cpu", "cuda", "auto")
#: What a parameter holds; each kind has one check and one command-line form.
KINDS = ("int", "float", "bool", "choice", "ints", "path", "random_state", "callbacks")
#: Headings of the docs table, in order.
GROUPS = ("architecture", "loss and uncertainty", "regularisation", "optimisation",
          "validation and early stopping", "augmentation", "execution", "checkpoints")


@dataclass(frozen=True)
class Parameter:
    """One constructor parameter of :class:`~sk_clustermass.ClusterMassRegressor`.

    Parameters
    ----------
    name : str
        The constructor argument (and ``get_params`` key).
    kind : {'int', 'float', 'bool', 'choice', 'ints', 'path', 'random_state', 'callbacks'}
        What it holds; 'ints' is a tuple of integers, 'path' a folder.
    description : str
        What it does, in one line (units included).
    group : str
        One of :data:`GROUPS`.
    choices : tuple, default=()
        The allowed values of a 'choice' (None may be one of them).
    low, high : float, optional
        Bounds of an 'int' or 'float' (of every entry of an 'ints').
    low_inclusive, high_inclusive : bool, default=True
        Whether the bound itself is allowed.
    allow_none : bool, default=False
        None is allowed too.
    min_items : int, default=0
        Fewest entries of an 'ints'.
    fingerprint : bool, default=True
        Whether the value is part of a checkpoint's fingerprint (False for settings
        that do not change the trained weights, such as ``verbose``).
    cli : bool, default=True
        Whether the command line has an option for it (False only for Python
        objects, such as ``callbacks``).
    """

    name: str
    kind: str
    description: str
    group: str
    choices: tuple = ()
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True
    allow_none: bool = False
    min_items: int = 0
    fingerprint: bool = True
    cli: bool = True

    @property
    def option(self) -> str:
        """The command-line option: ``'--n-filters'`` for ``n_filters``."""
        return "--" + self.name.replace("_", "-")

    @property
    def constraint(self) -> str:
        """The allowed values in words, e.g. ``'int > 0'`` or ``"{'valid', 'same'}"``."""
        bounds = describe_bounds(self.low, self.high, self.low_inclusive, self.high_inclusive)
        texts = {
            "int": f"int {bounds}".rstrip(),
            "float": f"float {bounds}".rstrip(),
            "bool": "bool",
            "choice": "{" + ", ".join(repr(c) for c in self.choices) + "}",
            "ints": f"tuple of int {bounds}".rstrip(),
            "path": "path (str)",
            "random_state": "int, RandomState or None",
            "callbacks": "list of skorch callbacks",
        }
        text = texts[self.kind]
        return f"{text} or None" if self.allow_none and self.kind != "random_state" else text

    def check(self, value: Any) -> None:
        """Raise ``ValueError`` naming the parameter if ``value`` is not allowed."""
        if value is None and (self.allow_none or self.kind == "random_state"):
            return
        bounds = {"low": self.low, "high": self.high, "low_inclusive": self.low_inclusive,
                  "high_inclusive": self.high_inclusive}
        if self.kind in ("int", "float"):
            check_number(self.name, value, integer=self.kind == "int",
                         allow_none=self.allow_none, **bounds)
        elif self.kind == "bool":
            check_bool(self.name, value)
        elif self.kind == "choice":
            check_choice(self.name, value, self.choices)
        elif self.kind == "ints":
            self._check_ints(value, bounds)
        else:
            self._check_object(value)

    def _check_ints(self, value: Any, bounds: dict) -> None:
        if not isinstance(value, list | tuple):
            example = f"({value},)" if isinstance(value, Integral) else "(3, 2)"
            message = f"{self.name} must be a tuple of ints, e.g. {example}; got {value!r}"
            raise ValueError(message)
        if len(value) < self.min_items:
            message = (f"{self.name} must have at least {self.min_items} entry, "
                       f"e.g. (3, 2); got {value!r}")
            raise ValueError(message)
        for entry in value:
            check_number(f"every entry of {self.name}", entry, integer=True, **bounds)

    def _check_object(self, value: Any) -> None:
        valid = {
            "path": isinstance(value, str | os.PathLike),
            "random_state": isinstance(value, np.random.RandomState) or (
                isinstance(value, Integral) and not isinstance(value, bool)
                and 0 <= value < 2**32),
            "callbacks": isinstance(value, list | tuple),
        }[self.kind]
        if not valid:
            expected = {
                "path": "a str or path",
                "random_state": "an int in [0, 2**32), a numpy RandomState or None",
                "callbacks": "a list of skorch callbacks",
            }[self.kind]
            if self.allow_none and self.kind != "random_state":
                expected += " or None"
            message = f"{self.name} must be {expected}; got {value!r}"
            raise ValueError(message)


def _positive_int(name: str, description: str, group: str, **kwargs: Any) -> Parameter:
    return Parameter(name, "int", description, group, low=0, low_inclusive=False, **kwargs)


def _fraction(name: str, description: str, group: str) -> Parameter:
    return Parameter(name, "float", description, group, low=0, high=1, high_inclusive=False)


_ARCH, _LOSS, _REG, _OPT = GROUPS[:4]
_VALID, _AUG, _EXEC, _CKPT = GROUPS[4:]

#: The table, in the order of the constructor's arguments.
PARAMETERS: tuple[Parameter, ...] = (
    _positive_int("n_filters", "filters in every convolution", _ARCH),
    _positive_int("kernel_size", "side of the square convolution kernel, pixels", _ARCH),
    Parameter("conv_layers", "ints", "convolutions per block; each block ends with a "
              "max-pool", _ARCH, low=0, low_inclusive=False, min_items=1),
    _positive_int("pool_size", "side of the max-pool window, pixels", _ARCH),
    Parameter("padding", "choice", "convolution padding; large kernels need 'same'", _ARCH,
              choices=PADDING_MODES),
    Parameter("dense_layers", "ints", "widths of the hidden dense layers", _ARCH,
              low=0, low_inclusive=False),
    _fraction("dropout", "dropout rate after every hidden dense layer", _REG),
    Parameter("use_redshift", "bool", "feed the redshift to the dense part", _ARCH),
    # Fits with False keep the checkpoint fingerprints of before the parameter existed.
    Parameter("use_exposure", "bool", "also feed log10(exposure / 1 ks) to the dense part; "
              "needs X['exposure'] (s) in fit and predict", _ARCH),
    Parameter("loss", "choice", "Gaussian likelihood (mean and width) or squared error",
              _LOSS, choices=LOSSES),
    Parameter("regularizer", "choice", "penalty on the hidden dense layers", _REG,
              choices=REGULARIZERS),
    Parameter("regularization", "float", "strength of the penalty", _REG, low=0),
    Parameter("regularize", "choice", "what the penalty applies to", _REG,
              choices=REGULARIZE_TARGETS),
    Parameter("optimizer", "choice", "the training algorithm", _OPT, choices=tuple(OPTIMIZERS)),
    Parameter("lr", "float", "(initial) learning rate", _OPT, low=0, low_inclusive=False),
    Parameter("momentum", "float", "momentum of 'sgd' and 'rmsprop'", _OPT, low=0, high=1,
              high_inclusive=False),
    Parameter("weight_decay", "float", "weight decay of the optimizer", _REG, low=0),
    Parameter("lr_schedule", "choice", "per-epoch learning-rate schedule", _OPT,
              choices=LR_SCHEDULES),
    Parameter("lr_final", "float", "final rate of 'exponential' (default lr / 10) and "
              "'cosine' (default 0); below lr", _OPT, low=0, allow_none=True),
    _positive_int("batch_size", "clusters per training step", _OPT),
    _positive_int("max_epochs", "most epochs to train", _OPT),
    _positive_int("patience", "early stopping: epochs without improvement of the validation "
                  "loss; None trains max_epochs", _VALID, allow_none=True),
    _fraction("validation_fraction", "shuffled, seeded fraction held out for early stopping "
              "and calibration", _VALID),
    Parameter("augment", "bool", "random flips and 90-degree rotations while training", _AUG),
    Parameter("test_time_augmentation", "bool", "average predictions over the 8 symmetries "
              "of the square", _AUG),
    Parameter("grad_clip", "float", "bound on the gradient norm; None does not clip", _REG,
              low=0, low_inclusive=False, allow_none=True),
    Parameter("calibrate_std", "bool", "rescale the widths to unit pull variance on the "
              "validation split", _LOSS),
    Parameter("malloc_tuning", "bool", "keep glibc from returning activation buffers to "
              "the OS while fitting (CPU speed)", _EXEC, fingerprint=False),
    Parameter("device", "choice", "where to train and predict; 'auto' takes a GPU if any",
              _EXEC, choices=DEVICES, fingerprint=False),
    # The checkpoint fingerprint holds the resolved precision_ instead (bf16 only).
    Parameter("precision", "choice", "fp32, or bf16 autocast with fp32 weights and loss; "
              "'auto' takes bf16 where the CPU or GPU runs it natively", _EXEC,
              choices=PRECISIONS, fingerprint=False),
    Parameter("compile", "bool", "run the network through torch.compile; eager (with a "
              "warning) where compilation fails", _EXEC, fingerprint=False),
    Parameter("random_state", "random_state", "seeds weights, the validation split, batch "
              "order, dropout and augmentation", _EXEC),
    # Not a command-line option: there -v/--verbose sets the logging level of the command.
    Parameter("verbose", "int", "0 silent, 1 a table of losses per epoch, 2 also a "
              "progress bar", _EXEC, low=0, fingerprint=False, cli=False),
    Parameter("callbacks", "callbacks", "extra skorch callbacks (loggers, ...)", _EXEC,
              allow_none=True, fingerprint=False, cli=False),
    Parameter("checkpoint_dir", "path", "folder for the training state; a later fit "
              "resumes from it", _CKPT, allow_none=True, fingerprint=False),
    _positive_int("checkpoint_every", "epochs between checkpoints", _CKPT, fingerprint=False),
    # Not a command-line option: `train` starts from no model (fine-tuning is a Python
    # recipe, docs/own_data.md); a warm fit cannot use checkpoint_dir.
    Parameter("warm_start", "bool", "continue from the fitted or loaded weights, keeping "
              "their standardisation; not with checkpoint_dir", _CKPT, fingerprint=False,
              cli=False),
)


def parameter_table() -> tuple[Parameter, ...]:
    """The current table (:data:`PARAMETERS`), read when called.

    Returns
    -------
    tuple of Parameter
        One entry per constructor parameter of
        :class:`~sk_clustermass.ClusterMassRegressor`, in signature order.
    """
    return PARAMETERS


def fingerprint_ignored() -> frozenset[str]:
    """Names of the parameters that do not change a checkpoint's fingerprint.

    Returns
    -------
    frozenset of str
        Settings of how a fit runs (device, verbosity, checkpointing) rather than of
        what it learns.
    """
    return frozenset(p.name for p in parameter_table() if not p.fingerprint)


def validate_parameters(estimator: Any, image_shape: tuple[int, int] | None = None) -> None:
    """Check every parameter of ``estimator`` against the table, then the cross rules.

    Parameters
    ----------
    estimator : ClusterMassRegressor
        Any object with the table's parameters as attributes.
    image_shape : tuple of int, optional
        ``(height, width)`` of the images, in pixels: also check that the feature
        map does not collapse in the convolution blocks.

    Raises
    ------
    ValueError
        Naming the parameter, the allowed values and how to fix it.
    """
    for parameter in parameter_table():
        parameter.check(getattr(estimator, parameter.name))
    _check_validation_split(estimator)
    _check_final_rate(estimator)
    if image_shape is not None:
        feature_map_sizes(tuple(image_shape), kernel_size=estimator.kernel_size,
                          conv_layers=estimator.conv_layers, pool_size=estimator.pool_size,
                          padding=estimator.padding)


def _check_validation_split(est: Any) -> None:
    needs_validation = est.patience is not None or est.lr_schedule == "plateau"
    if est.validation_fraction == 0 and needs_validation:
        message = (
            "early stopping (patience) and lr_schedule='plateau' need a validation "
            "split: set validation_fraction > 0, or patience=None"
        )
        raise ValueError(message)


def _check_final_rate(est: Any) -> None:
    """A decaying schedule must decay: 0 <= lr_final < lr (> 0 for 'exponential')."""
    if est.lr_final is None or est.lr_schedule not in ("exponential", "cosine"):
        return
    too_low = est.lr_final <= 0 if est.lr_schedule == "exponential" else est.lr_final < 0
    if too_low or est.lr_final >= est.lr:
        low = "> 0" if est.lr_schedule == "exponential" else ">= 0"
        message = (
            f"lr_final={est.lr_final!r} with lr_schedule={est.lr_schedule!r} must be {low} "
            f"and below lr={est.lr!r}; lower lr_final, or leave it None for the default"
        )
        raise ValueError(message)


def parameter_table_markdown(defaults: Mapping[str, Any] | None = None) -> str:
    """The table of parameters of ``docs/estimator.md``, as Markdown.

    Parameters
    ----------
    defaults : mapping, optional
        Default value per name; ``ClusterMassRegressor().get_params()`` by default.

    Returns
    -------
    str
        One table per group: parameter, default, allowed values, description.
    """
    if defaults is None:
        from ._regressor import ClusterMassRegressor

        defaults = ClusterMassRegressor().get_params()
    lines: list[str] = []
    for group in _groups(parameter_table()):
        lines += [f"**{group.capitalize()}**", "",
                  "| parameter | default | allowed values | description |", "|---|---|---|---|"]
        for parameter in (p for p in parameter_table() if p.group == group):
            default = repr(defaults[parameter.name]) if parameter.name in defaults else "—"
            lines.append(f"| `{parameter.name}` | `{default}` | {parameter.constraint} | "
                         f"{parameter.description} |")
        lines.append("")
    return "\n".join(lines)


def _groups(parameters: Iterable[Parameter]) -> list[str]:
    present = {p.group for p in parameters}
    return [g for g in GROUPS if g in present] + sorted(present - set(GROUPS))
