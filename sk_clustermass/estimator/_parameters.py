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
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np

from .._utils import check_bool, check_choice, check_number, describe_bounds
from ._names import (
    LOSSES,
    OPTIMIZER_NAMES,
    PADDING_MODES,
    PRECISIONS,
    REGULARIZE_TARGETS,
    REGULARIZERS,
)
from ._network_size import check_network_size
from ._prior import PRIORS

__all__ = [
    "DEVICES",
    "GROUPS",
    "KINDS",
    "LR_SCHEDULES",
    "MAX_LEARNING_RATE",
    "OPTIMIZERS",
    "PARAMETERS",
    "ROUTES",
    "Parameter",
    "fingerprint_ignored",
    "fingerprint_parameters",
    "network_parameters",
    "parameter_defaults",
    "parameter_table",
    "parameter_table_markdown",
    "routed_parameters",
    "validate_parameters",
]


_OPTIMIZER_CLASSES = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD", "rmsprop": "RMSprop"}


class _Optimizers(Mapping):
    """The optimizer classes by name; ``torch.optim`` is imported at the first lookup.

    Its keys (:data:`._names.OPTIMIZER_NAMES`) need no torch, so the parameter table
    and the command line built from it do not load PyTorch.
    """

    def __getitem__(self, name: str) -> type:
        import torch.optim

        return getattr(torch.optim, _OPTIMIZER_CLASSES[name])

    def __iter__(self) -> Iterator[str]:
        return iter(OPTIMIZER_NAMES)

    def __len__(self) -> int:
        return len(OPTIMIZER_NAMES)

    def __repr__(self) -> str:
        return f"OPTIMIZERS({', '.join(OPTIMIZER_NAMES)})"


#: The optimizers by name: a read-only mapping of name -> ``torch.optim`` class.
OPTIMIZERS = _Optimizers()
#: Per-epoch learning-rate schedules (None: constant).
LR_SCHEDULES = (None, "exponential", "cosine", "plateau")
#: Where the network trains and predicts.
DEVICES = ("cpu", "cuda", "auto")

#: Largest learning rate accepted: a slip (1e3 for 1e-3, 1e300), not a setting; rates
#: that diverge below it end in NonFiniteLossError while training.
MAX_LEARNING_RATE = 100.0
#: The default of a renamed parameter's old name: "not given".
DEPRECATED = "deprecated"
#: Where a parameter's value goes (:attr:`Parameter.route`).
ROUTES = {
    "network": "keyword argument of the CNN module (ClusterMassCNN)",
    "net": "keyword argument of the skorch net (loss, penalty, loop)",
    "optimizer": "keyword argument of the torch optimizer",
    "callbacks": "the skorch callbacks the regressor builds",
    "data": "the data source: validation split, inputs, augmentation",
    "output": "what predict returns",
    "execution": "where and how the work runs",
    "checkpoint": "the training state on disk",
    "deprecated": "an old name of another parameter (renamed_to), kept for one release",
}
#: What a parameter holds; each kind has one check and one command-line form.
KINDS = ("int", "float", "bool", "choice", "ints", "path", "random_state", "callbacks",
         "deprecated")
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
    default : object
        The constructor's default: the one place it is written.
    description : str
        What it does, in one line (units included).
    group : str
        One of :data:`GROUPS`.
    route : str
        Where the value goes, one of :data:`ROUTES`: 'network' entries become keyword
        arguments of the CNN module, 'net' entries of the skorch net, 'optimizer'
        entries of the torch optimizer (``optimizer__<name>``); the other routes are
        read by the regressor itself (data split, callbacks, output, execution,
        checkpoints).
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
    late : bool, default=False
        Added after checkpoints existed: left out of the fingerprint while at its
        default, so the checkpoints of fits made before it still resume.
    cli : bool, default=True
        Whether the command line has an option for it (False only for Python
        objects, such as ``callbacks``).
    doc : str, default=''
        The text of the estimator's docstring (``description`` when empty).
    target : str, optional
        The keyword at the destination when it differs from ``name`` (the skorch net's
        ``compile_network`` for ``compile``).
    only_with : tuple, optional
        ``(other_parameter, values)``: routed only while that parameter has one of
        those values (``momentum`` reaches only 'sgd' and 'rmsprop').
    renamed_from, renamed_to : str, optional
        The old name of a renamed parameter, and (on the old name's 'deprecated'
        entry) the new one. An old name set by the user stands in for the new
        parameter for one release, with a ``FutureWarning``.
    """

    name: str
    kind: str
    default: Any
    description: str
    group: str
    route: str
    choices: tuple = ()
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True
    allow_none: bool = False
    min_items: int = 0
    fingerprint: bool = True
    late: bool = False
    cli: bool = True
    doc: str = ""
    target: str | None = None
    only_with: tuple | None = None
    renamed_from: str | None = None
    renamed_to: str | None = None

    @property
    def keyword(self) -> str:
        """The keyword at the destination (``target``, or the name itself)."""
        return self.target or self.name

    def applies(self, estimator: Any) -> bool:
        """Whether the value is routed for ``estimator``'s settings (see ``only_with``)."""
        if self.only_with is None:
            return True
        other, values = self.only_with
        return getattr(estimator, other) in values

    def value(self, estimator: Any) -> Any:
        """``estimator``'s value of this parameter (its old name's, where that was set)."""
        if self.renamed_from is not None:
            old = getattr(estimator, self.renamed_from, DEPRECATED)
            if not (isinstance(old, str) and old == DEPRECATED):
                return old
        return getattr(estimator, self.name)

    def routed_value(self, estimator: Any) -> Any:
        """``estimator``'s value as its destination takes it (an 'ints' as a tuple)."""
        value = self.value(estimator)
        return tuple(value) if self.kind == "ints" else value

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
            "deprecated": f"deprecated: use {self.renamed_to}",
        }
        text = texts[self.kind]
        return f"{text} or None" if self.allow_none and self.kind != "random_state" else text

    def check(self, value: Any) -> None:
        """Raise ``ValueError`` naming the parameter if ``value`` is not allowed."""
        if self.kind == "deprecated":
            return  # checked, if set, as the parameter it was renamed to
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


def _positive_int(name: str, default: Any, description: str, group: str, route: str,
                  **kwargs: Any) -> Parameter:
    return Parameter(name, "int", default, description, group, route, low=0,
                     low_inclusive=False, **kwargs)


def _fraction(name: str, default: Any, description: str, group: str, route: str,
              **kwargs: Any) -> Parameter:
    return Parameter(name, "float", default, description, group, route, low=0, high=1,
                     high_inclusive=False, **kwargs)


_ARCH, _LOSS, _REG, _OPT = GROUPS[:4]
_VALID, _AUG, _EXEC, _CKPT = GROUPS[4:]

#: The table, in the order of the constructor's arguments.
PARAMETERS: tuple[Parameter, ...] = (
    _positive_int("n_filters", 20, "filters in every convolution", _ARCH, "network"),
    _positive_int("kernel_size", 2, "side of the square convolution kernel, pixels", _ARCH,
                  "network"),
    Parameter("conv_layers", "ints", (3, 2), "convolutions per block; each block ends with "
              "a max-pool", _ARCH, "network", low=0, low_inclusive=False, min_items=1),
    _positive_int("pool_size", 4, "side of the max-pool window, pixels", _ARCH, "network"),
    Parameter("padding", "choice", "valid", "convolution padding; large kernels need "
              "'same'", _ARCH, "network", choices=PADDING_MODES,
              doc="Convolution padding. Kernels larger than a few pixels need 'same' on "
              "50x50 images; a configuration whose feature map collapses raises "
              "``ValueError``."),
    Parameter("dense_layers", "ints", (512, 256, 128, 64), "widths of the hidden dense "
              "layers", _ARCH, "network", low=0, low_inclusive=False),
    _fraction("dropout", 0.0, "dropout rate after every hidden dense layer", _REG, "network"),
    Parameter("negative_slope", "float", 0.01, "slope of the LeakyReLU activations below "
              "zero", _ARCH, "network", low=0, high=1, high_inclusive=False, late=True),
    Parameter("use_redshift", "bool", True, "feed the redshift to the dense part", _ARCH,
              "network"),
    # Routed by the data source: the network reads the exposure only when the source has it.
    Parameter("use_exposure", "bool", False, "also feed log10(exposure / 1 ks) to the dense "
              "part; needs X['exposure'] (s) in fit and predict", _ARCH, "data", late=True,
              doc="Also feed the exposure time of every cluster, ``X[\"exposure\"]`` in s, "
              "to the dense part, as ``log10(exposure / 1 ks)`` standardised with the "
              "training mean and standard deviation (like the redshift). ``fit`` and "
              "``predict`` then need ``X[\"exposure\"]`` (``as_inputs(images, redshift, "
              "exposure=...)``, or an ``exposure`` dataset in the HDF5 file). With False "
              "an exposure in ``X`` is ignored."),
    Parameter("loss", "choice", "gaussian_nll", "Gaussian likelihood (mean and width) or "
              "squared error", _LOSS, "net", choices=LOSSES, target="criterion",
              doc="Gaussian negative log-likelihood (mean and width), or mean squared "
              "error. With 'mse', ``return_std`` gives the residual scatter of the "
              "internal validation split (the same width for every cluster)."),
    Parameter("regularizer", "choice", None, "penalty on the hidden dense layers", _REG,
              "net", choices=REGULARIZERS),
    Parameter("regularizer_strength", "float", 1e-4, "strength of the penalty", _REG, "net",
              low=0, target="regularization", renamed_from="regularization"),
    Parameter("regularizer_target", "choice", "kernel", "what the penalty applies to", _REG,
              "net", choices=REGULARIZE_TARGETS, target="regularize", renamed_from="regularize",
              doc="What the penalty applies to: weights, biases or layer outputs."),
    Parameter("optimizer", "choice", "adam", "the training algorithm", _OPT, "net",
              choices=tuple(OPTIMIZERS)),
    Parameter("lr", "float", 1e-3, "(initial) learning rate", _OPT, "net", low=0,
              low_inclusive=False, high=MAX_LEARNING_RATE,
              doc="(Initial) learning rate, at most 100: a larger one is a slip (such as "
              "1e3 for 1e-3); one that makes training diverge stops it with "
              "``NonFiniteLossError``. The lab used 1e-3."),
    Parameter("momentum", "float", 0.9, "momentum of 'sgd' and 'rmsprop'", _OPT, "optimizer",
              low=0, high=1, high_inclusive=False, only_with=("optimizer", ("sgd", "rmsprop"))),
    Parameter("weight_decay", "float", 0.0, "weight decay of the optimizer", _REG,
              "optimizer", low=0,
              doc="Decoupled weight decay ('adamw') or L2 term of the optimizer."),
    Parameter("lr_schedule", "choice", None, "per-epoch learning-rate schedule", _OPT,
              "callbacks", choices=LR_SCHEDULES,
              doc="Per-epoch learning-rate schedule. 'exponential' and 'cosine' go from "
              "``lr`` to ``lr_final`` over ``max_epochs``; 'plateau' halves the rate when "
              "the validation loss stalls for ``max(2, patience // 3)`` epochs."),
    Parameter("lr_final", "float", None, "final rate of 'exponential' (default lr / 10) and "
              "'cosine' (default 0); below lr", _OPT, "callbacks", low=0, allow_none=True),
    _positive_int("batch_size", 64, "clusters per training step", _OPT, "net"),
    _positive_int("max_epochs", 100, "most epochs to train", _OPT, "net"),
    _positive_int("patience", 15, "early stopping: epochs without improvement of the "
                  "validation loss; None trains max_epochs", _VALID, "callbacks",
                  allow_none=True,
                  doc="Early stopping: stop after this many epochs without improvement of "
                  "the validation loss and restore the best weights. None trains "
                  "``max_epochs``."),
    _fraction("validation_fraction", 0.1, "shuffled, seeded fraction held out for early "
              "stopping and calibration", _VALID, "data",
              doc="Shuffled, seeded fraction of the training clusters held out for early "
              "stopping and the validation loss curve. 0 disables the split (then "
              "``patience`` must be None and ``lr_schedule`` not 'plateau')."),
    Parameter("augment", "bool", False, "random flips and 90-degree rotations while "
              "training", _AUG, "data"),
    Parameter("test_time_augmentation", "bool", False, "average predictions over the 8 "
              "symmetries of the square", _AUG, "output"),
    Parameter("grad_clip", "float", None, "bound on the gradient norm; None does not clip",
              _REG, "callbacks", low=0, low_inclusive=False, allow_none=True),
    Parameter("prior", "choice", "training", "mass prior of the predictions: the training "
              "set's population, or flat in log10 M over the training range", _LOSS, "data",
              choices=PRIORS, late=True,
              doc="The prior the predicted masses carry. 'training' (the posterior mean "
              "under the training set's own mass distribution) gives the best point "
              "estimate of one cluster. 'flat' weights the training clusters by the "
              "inverse of their (weighted) density in log10 M, combined with any "
              "``sample_weight``, so that the estimate is that of a prior flat in log10 M "
              "over the training range: no pull towards the crowded masses, what fits "
              "of scaling relations and mass functions need. The fitted model records "
              "it as ``prior_``; see docs/uncertainties.md."),
    Parameter("calibrate_std", "bool", True, "rescale the widths to unit pull variance on "
              "the validation split", _LOSS, "output",
              doc="After training, rescale the predicted widths by one factor so that the "
              "pulls ``(y - mean) / std`` on the internal validation split have unit "
              "variance (``std_scale_``). Networks trained by likelihood tend to be "
              "over-confident on new data; this keeps the 68% intervals honest. Needs "
              "``validation_fraction > 0``; ignored otherwise."),
    Parameter("malloc_tuning", "bool", True, "keep glibc from returning activation buffers "
              "to the OS while fitting (CPU speed)", _EXEC, "execution", fingerprint=False,
              doc="While fitting and predicting, keep glibc from returning activation "
              "buffers to the OS after every step, and from serving the large ones by "
              "``mmap`` (about 2x faster training on CPU, 2-3x faster prediction at "
              "large batches); the allocator's defaults are restored afterwards."),
    Parameter("n_threads", "int", None, "torch threads while fitting and predicting; None "
              "keeps torch's count", _EXEC, "execution", low=0, low_inclusive=False,
              allow_none=True, fingerprint=False,
              doc="Torch threads for ``fit`` and ``predict`` (the calling thread's former "
              "count comes back afterwards; the count used is ``n_threads_``). None keeps "
              "torch's count: one per core, or ``OMP_NUM_THREADS``; in the worker "
              "processes of joblib's default backend (``GridSearchCV(n_jobs=k)``) that is "
              "already ``cores // k``. Set it where fits share cores otherwise: joblib's "
              "threading backend, a dask worker with several task threads, a shared node "
              "(``cores // jobs``; see the performance page)."),
    Parameter("device", "choice", "cpu", "where to train and predict; 'auto' takes a GPU if "
              "any", _EXEC, "execution", choices=DEVICES, fingerprint=False),
    # The checkpoint fingerprint holds the resolved precision_ instead (bf16 only).
    Parameter("precision", "choice", "fp32", "fp32, or bf16 autocast with fp32 weights and "
              "loss; 'auto' takes bf16 where the CPU or GPU runs it natively", _EXEC,
              "execution", choices=PRECISIONS, fingerprint=False,
              doc="Arithmetic of the network in training and prediction. 'fp32' is float32 "
              "throughout (bit-identical repeated fits on the CPU). 'bf16' runs the "
              "convolutions and dense layers in bfloat16 autocast, on AMX or AVX-512-BF16 "
              "CPUs and recent GPUs several times faster in prediction and up to about "
              "twice as fast in training; the weights, the input standardisation, the "
              "output layer (mean and log-width) and the loss stay float32. 'auto' takes "
              "'bf16' where the hardware runs it natively, 'fp32' elsewhere (the choice is "
              "``precision_``). See the performance page for the measured speed and "
              "quality."),
    Parameter("compile", "bool", False, "run the network through torch.compile; eager (with "
              "a warning) where compilation fails", _EXEC, "net", fingerprint=False,
              target="compile_network",
              doc="Run the network's forward pass (in training and prediction) through "
              ":func:`torch.compile`; prediction runs a copy compiled with inductor's "
              "freezing (weights folded into the graph; recompiled when they change), "
              "which measured 1.2-1.3x eager prediction on a CPU. Also useful on a GPU, "
              "where a network this small is bound by Python and kernel launches; the "
              "first batches (and every new batch shape) pay the compilation. Where "
              "compilation fails (no C++ compiler, an unsupported Python, ...) the "
              "network runs uncompiled, with "
              "one :class:`~sk_clustermass.estimator.CompilationFallbackWarning`. The "
              "weights, checkpoints and saved models are those of an uncompiled network."),
    Parameter("random_state", "random_state", None, "seeds weights, the validation split, "
              "batch order, dropout and augmentation", _EXEC, "execution",
              doc="Seeds weight initialisation, the validation split, batch order, "
              "dropout and augmentation. With an int, repeated fits on the CPU are "
              "bit-identical."),
    # Not a command-line option: there -v/--verbose sets the logging level of the command.
    Parameter("verbose", "int", 0, "0 silent, 1 a table of losses per epoch, 2 also a "
              "progress bar", _EXEC, "execution", low=0, fingerprint=False, cli=False),
    Parameter("callbacks", "callbacks", None, "extra skorch callbacks (loggers, ...)", _EXEC,
              "callbacks", allow_none=True, fingerprint=False, cli=False,
              doc="Extra skorch callbacks (loggers, ...), as skorch takes them: instances, "
              "classes or ``(name, callback)`` pairs; ``set_params(callbacks__<name>__"
              "<param>=...)`` and ``GridSearchCV`` reach their parameters by those names "
              "(a class name for unnamed ones). skorch's ``EarlyStopping`` ends a fit as "
              "finished. A callback that ends training on "
              "purpose sets its attribute ``stopped_ = True`` and raises "
              "``KeyboardInterrupt`` (as :class:`~sk_clustermass.studies.TimeBudget` "
              "does); the fit then counts as finished rather than interrupted."),
    Parameter("checkpoint_dir", "path", None, "folder for the training state; a later fit "
              "resumes from it", _CKPT, "checkpoint", allow_none=True, fingerprint=False,
              doc="Save the full training state here (in a sub-directory named by a "
              "fingerprint of the hyper-parameters and data) every ``checkpoint_every`` "
              "epochs and at the end. A later ``fit`` with the same settings and data "
              "resumes from it to the same result as an uninterrupted run (CPU, fixed "
              "``random_state``), or, if that fit had finished, loads its final weights "
              "without training. This is also how a killed grid search resumes."),
    _positive_int("checkpoint_every", 1, "epochs between checkpoints", _CKPT, "checkpoint",
                  fingerprint=False),
    # Not a command-line option: `train` starts from no model (fine-tuning is a Python
    # recipe, docs/own_data.md); a warm fit cannot use checkpoint_dir.
    Parameter("warm_start", "bool", False, "continue from the fitted or loaded weights, "
              "keeping their standardisation; not with checkpoint_dir", _CKPT, "checkpoint",
              fingerprint=False, cli=False,
              doc="When the estimator is already fitted (or loaded with "
              ":func:`~sk_clustermass.load_model` / ``load_pretrained``), ``fit`` continues "
              "from its weights instead of initialising new ones: fine-tuning. The input "
              "and target standardisation of the first fit are kept, so the weights keep "
              "their meaning, and ``history_`` goes on with the new epochs (as skorch's "
              "``partial_fit``). The bands, image size and architecture must be those of the "
              "fitted network; cannot be combined with ``checkpoint_dir``."),
    # Old names, kept for one release: set, they stand in for the new parameter (with a
    # FutureWarning from validate_parameters).
    Parameter("regularization", "deprecated", DEPRECATED, "deprecated: use "
              "regularizer_strength", _REG, "deprecated", renamed_to="regularizer_strength",
              fingerprint=False, cli=False),
    Parameter("regularize", "deprecated", DEPRECATED, "deprecated: use regularizer_target",
              _REG, "deprecated", renamed_to="regularizer_target", fingerprint=False,
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


def parameter_defaults() -> dict[str, Any]:
    """Every parameter's default, read from the table.

    Returns
    -------
    dict
        ``{name: default}`` in signature order: what ``ClusterMassRegressor().get_params()``
        returns, without building an estimator (the command line, the studies and the
        docs read their defaults here).

    Examples
    --------
    >>> parameter_defaults()["n_filters"]
    20
    """
    return {parameter.name: parameter.default for parameter in parameter_table()}


def network_parameters(**overrides: Any) -> dict[str, Any]:
    """Keyword arguments of the CNN module at the table's defaults.

    Parameters
    ----------
    **overrides
        Values that replace defaults (architecture parameters only).

    Returns
    -------
    dict
        What ``ClusterMassRegressor()`` passes to
        :class:`~sk_clustermass.estimator._module.ClusterMassCNN` besides the
        data-dependent arguments (bands, image size, standardisation).

    Examples
    --------
    >>> network_parameters(n_filters=8)["n_filters"], network_parameters()["conv_layers"]
    (8, (3, 2))
    """
    defaults = {parameter.keyword: parameter.default for parameter in parameter_table()
                if parameter.route == "network"}
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        message = (f"{unknown} are not architecture parameters of the network; "
                   f"choose from {sorted(defaults)}")
        raise ValueError(message)
    return {**defaults, **overrides}


def routed_parameters(estimator: Any, route: str) -> dict[str, Any]:
    """The keyword arguments that ``estimator``'s settings send to one destination.

    Parameters
    ----------
    estimator : ClusterMassRegressor
        Any object with the table's parameters as attributes.
    route : str
        One of :data:`ROUTES` ('network', 'net', 'optimizer', ...).

    Returns
    -------
    dict
        ``{keyword: value}`` for the entries routed there (their ``target`` keyword,
        tuples for 'ints'), leaving out those whose ``only_with`` does not hold.
    """
    if route not in ROUTES:
        message = f"route must be one of {sorted(ROUTES)}; got {route!r}"
        raise ValueError(message)
    return {parameter.keyword: parameter.routed_value(estimator)
            for parameter in parameter_table()
            if parameter.route == route and parameter.applies(estimator)}


def fingerprint_ignored() -> frozenset[str]:
    """Names of the parameters that never change a checkpoint's fingerprint.

    Returns
    -------
    frozenset of str
        Settings of how a fit runs (device, verbosity, checkpointing) rather than of
        what it learns.
    """
    return frozenset(p.name for p in parameter_table() if not p.fingerprint)


def _same(value: Any, default: Any) -> bool:
    return type(value) is type(default) and value == default


def fingerprint_parameters(params: Mapping[str, Any]) -> dict[str, Any]:
    """The part of ``get_params()`` that names a fit's checkpoint.

    Leaves out the settings that do not change the weights (``fingerprint=False``)
    and the ``late`` parameters while at their default, and keeps renamed parameters
    under their old names, so that fits made before those parameters existed or were
    renamed keep their checkpoints.

    Parameters
    ----------
    params : mapping
        ``estimator.get_params()``.

    Returns
    -------
    dict
        The parameters to hash.
    """
    entries = {parameter.name: parameter for parameter in parameter_table()}
    kept = {}
    for name, value in params.items():
        entry = entries.get(name)
        if entry is not None and not entry.fingerprint:
            continue
        if entry is not None and entry.late and _same(value, entry.default):
            continue
        if entry is not None and entry.renamed_from is not None:
            # under the old name, so that checkpoints made before the rename resume
            old = params.get(entry.renamed_from, DEPRECATED)
            renamed = not (isinstance(old, str) and old == DEPRECATED)
            kept[entry.renamed_from] = old if renamed else value
            continue
        kept[name] = value
    return kept


def validate_parameters(estimator: Any, image_shape: tuple[int, int] | None = None,
                        n_bands: int = 10) -> None:
    """Check every parameter of ``estimator`` against the table, then the cross rules.

    Parameters
    ----------
    estimator : ClusterMassRegressor
        Any object with the table's parameters as attributes.
    image_shape : tuple of int, optional
        ``(height, width)`` of the images, in pixels: also check that the feature
        map does not collapse in the convolution blocks, and that the network is not too
        large to build (:func:`~sk_clustermass.estimator._network_size.check_network_size`),
        before anything is allocated.
    n_bands : int, default=10
        Bands of the images (with ``image_shape``).

    Raises
    ------
    ValueError
        Naming the parameter, the allowed values and how to fix it.
    """
    for parameter in parameter_table():
        parameter.check(parameter.value(estimator))
        if parameter.renamed_from is not None:
            _warn_old_name(estimator, parameter)
    _check_validation_split(estimator)
    _check_final_rate(estimator)
    if image_shape is not None:
        from ._module import feature_map_sizes  # imports torch: only when fitting

        feature_map_sizes(tuple(image_shape), kernel_size=estimator.kernel_size,
                          conv_layers=estimator.conv_layers, pool_size=estimator.pool_size,
                          padding=estimator.padding)
        check_network_size(estimator, tuple(image_shape), n_bands)


def _warn_old_name(estimator: Any, parameter: Parameter) -> None:
    old = getattr(estimator, parameter.renamed_from, DEPRECATED)
    if not (isinstance(old, str) and old == DEPRECATED):
        message = (f"{parameter.renamed_from} was renamed {parameter.name}; set "
                   f"{parameter.name}={old!r} instead (the old name is removed in "
                   "sk_clustermass 0.3)")
        warnings.warn(message, FutureWarning, stacklevel=4)


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
        Default value per name; the table's own (:func:`parameter_defaults`) by default.

    Returns
    -------
    str
        One table per group: parameter, default, allowed values, description.
    """
    if defaults is None:
        defaults = parameter_defaults()
    lines: list[str] = []
    for group in _groups(parameter_table()):
        lines += [f"**{group.capitalize()}**", "",
                  "| parameter | default | allowed values | description |", "|---|---|---|---|"]
        for parameter in (p for p in parameter_table()
                          if p.group == group and p.route != "deprecated"):
            default = repr(defaults[parameter.name]) if parameter.name in defaults else "—"
            lines.append(f"| `{parameter.name}` | `{default}` | {parameter.constraint} | "
                         f"{parameter.description} |")
        lines.append("")
    return "\n".join(lines)


def _groups(parameters: Iterable[Parameter]) -> list[str]:
    present = {p.group for p in parameters}
    return [g for g in GROUPS if g in present] + sorted(present - set(GROUPS))
