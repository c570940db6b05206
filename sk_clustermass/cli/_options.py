"""Command-line options shared by the sub-commands and the study scripts.

The estimator's training options are made from its parameter table
(:func:`add_parameter_options`): one option per parameter, named after it, reading the
values the table allows, with the estimator's default in its help. The data and study
options (:func:`add_simulation_options`, :func:`add_study_options`) are the same for
``sk-clustermass study`` and ``examples/run_all_studies.py``. Renamed options keep working for
one release through :class:`DeprecatedAlias`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ..estimator import Parameter, parameter_defaults, parameter_table

__all__ = [
    "DeprecatedAlias",
    "add_device_option",
    "add_parameter_options",
    "add_random_state_option",
    "add_simulation_options",
    "add_study_options",
    "command_line_parameters",
    "nullable_parameters",
]


def _int_tuple(text: str) -> tuple[int, ...]:
    parts = text.replace(" ", "").split(",")
    try:  # every part must be an integer: "3,,2" or "3," is a typo, not (3, 2)
        values = tuple(int(part) for part in parts)
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


def _float_or_none(text: str) -> float | None:
    if text.lower() == "none":
        return None
    try:
        return float(text)
    except ValueError:
        message = f"expected a number or 'none'; got {text!r}"
        raise argparse.ArgumentTypeError(message) from None


def _str_or_none(text: str) -> str | None:
    return None if text.lower() == "none" else text


def _argument_type(parameter: Parameter) -> Callable[[str], Any]:
    """How the command line reads a value of ``parameter`` (its kind in the table)."""
    if parameter.kind == "choice":
        return _choice(parameter.choices)
    nullable = {"int": _int_or_none, "float": _float_or_none, "path": _str_or_none}
    plain = {"int": int, "float": float, "path": str, "ints": _int_tuple, "random_state": int}
    if parameter.allow_none and parameter.kind in nullable:
        return nullable[parameter.kind]
    return plain[parameter.kind]


def _shown(value: Any) -> str:
    """A default as one writes it on the command line: 3,2 / none / yes."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple | list):
        return ",".join(str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def command_line_parameters() -> list[Parameter]:
    """The entries of the estimator's parameter table that the command line offers."""
    return [parameter for parameter in parameter_table() if parameter.cli]


def add_device_option(parser: argparse.ArgumentParser, what: str) -> None:
    """``--device``, with the choices and default of the estimator's ``device`` parameter.

    For the commands that run a network without training one (``predict``, ``demo``),
    which do not take every training option.
    """
    entry = next(parameter for parameter in parameter_table() if parameter.name == "device")
    parser.add_argument(entry.option, default=entry.default, choices=entry.choices,
                        help=f"where the network {what}; 'auto' takes a GPU if any "
                        f"(default: {entry.default})")


def add_parameter_options(
    parser: argparse.ArgumentParser, title: str | None = None, *, exclude: Sequence[str] = ()
) -> None:
    """Add one option per estimator parameter, made from the parameter table.

    Each option is named after its parameter (``--n-filters`` for ``n_filters``), reads
    the values the table allows, and its help is the table's description with the
    default of ``ClusterMassRegressor()``. Unset options stay out of the namespace
    (so that a ``--config`` file's values are not overridden); set ones are stored as
    ``hp_<parameter>``. ``exclude`` leaves out parameters that the command offers
    elsewhere (``--random-state`` also seeds the simulation).
    """
    defaults = parameter_defaults()
    group = parser.add_argument_group(title or (
        "network hyper-parameters (defaults of ClusterMassRegressor; options override "
        "--config)"
    ))
    for parameter in command_line_parameters():
        if parameter.name in exclude:
            continue
        text = parameter.description.replace("%", "%%")
        if parameter.name in defaults:
            text += f" (default: {_shown(defaults[parameter.name])})"
        if parameter.kind == "bool":
            group.add_argument(parameter.option, dest=f"hp_{parameter.name}",
                               action=argparse.BooleanOptionalAction,
                               default=argparse.SUPPRESS, help=text)
            continue
        kind = _argument_type(parameter)
        metavar = getattr(kind, "metavar", parameter.name.upper())
        group.add_argument(parameter.option, dest=f"hp_{parameter.name}", type=kind,
                           metavar=metavar, default=argparse.SUPPRESS, help=text)
        if parameter.renamed_from is not None:  # the old option, for one release
            group.add_argument("--" + parameter.renamed_from.replace("_", "-"),
                               dest=f"hp_{parameter.name}", type=kind, action=DeprecatedAlias,
                               replacement=parameter.option, default=argparse.SUPPRESS,
                               help=argparse.SUPPRESS)


class DeprecatedAlias(argparse.Action):
    """An old option name that still works for one release, with a note on stderr.

    Left out of ``--help`` (pass ``help=argparse.SUPPRESS``); the changelog lists them.

    Parameters
    ----------
    replacement : str
        The option to use instead, named in the note.
    **kwargs
        As for :meth:`argparse.ArgumentParser.add_argument` (``dest``, ``type``,
        ``const`` with ``nargs=0`` for a flag).
    """

    def __init__(self, option_strings: Sequence[str], dest: str, *, replacement: str,
                 **kwargs: Any) -> None:
        self.replacement = replacement
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        note = (f"{parser.prog}: note: {option_string} is deprecated and will be removed in "
                f"the next release; use {self.replacement}")
        print(note, file=sys.stderr)
        setattr(namespace, self.dest, self.const if self.nargs == 0 else values)


def add_random_state_option(parser: argparse.ArgumentParser, *, default: int = 0,
                            help: str = "seed of the simulation and of the training") -> None:
    """``--random-state N`` (dest ``random_state``), and ``--seed``, its deprecated alias."""
    parser.add_argument("--random-state", type=int, default=default, metavar="N",
                        help=f"{help} (default: {default})")
    parser.add_argument("--seed", dest="random_state", type=int, metavar="N",
                        action=DeprecatedAlias, replacement="--random-state",
                        help=argparse.SUPPRESS)


def nullable_parameters() -> set[str]:
    """Parameters for which a config file's ``"none"`` means None."""
    return {p.name for p in parameter_table()
            if p.allow_none or p.kind == "random_state" or None in p.choices}


#: ``--survey`` values: the lab's population at a survey's depth, or a survey-like sky.
SURVEY_CHOICES = ("efeds_lab", "erass1_lab", "efeds_survey", "erass1_survey")
#: Former names of the lab populations, still accepted (not listed in --help).
_SURVEY_ALIASES = {"efeds": "efeds_lab", "erass1": "erass1_lab"}


def _survey(text: str) -> str:
    """A ``--survey`` value; the former names 'efeds' and 'erass1' become the lab names."""
    name = _SURVEY_ALIASES.get(text.lower(), text.lower())
    if name not in SURVEY_CHOICES:
        message = f"invalid choice {text!r} (choose from {', '.join(SURVEY_CHOICES)})"
        raise argparse.ArgumentTypeError(message)
    return name


def add_simulation_options(parser: argparse.ArgumentParser, *, n_jobs_default: int = 1,
                           survey_default: str = "efeds_lab") -> None:
    """``--survey``, ``--random-state`` (and ``--seed``) and ``--n-jobs``."""
    parser.add_argument("--survey", default=survey_default, type=_survey,
                        metavar="{" + ",".join(SURVEY_CHOICES) + "}",
                        help="the simulated clusters: efeds_lab and erass1_lab are the "
                        "lab's population (log-uniform masses and redshifts, a simple "
                        "detection cut) at that survey's depth, instrument and background "
                        "(formerly named efeds and erass1, still accepted); efeds_survey "
                        "and erass1_survey draw a survey-like sky from the mass function "
                        "with cool cores, an eSASS-like selection and cut-outs centred on "
                        f"the detection (default: {survey_default})")
    add_random_state_option(parser)
    parser.add_argument("--n-jobs", type=int, default=n_jobs_default,
                        help="parallel processes (simulation, and fits in a study), -1 for all "
                        f"cores (default: {n_jobs_default})")


def add_study_options(parser: argparse.ArgumentParser, *, output: str = "study") -> None:
    """The options of a study run, shared by ``sk-clustermass study`` and the scripts.

    Adds ``--mode quick|full`` (and its deprecated spellings ``--quick``/``--full``),
    ``--simulate N`` (and ``--n-samples``), ``--cv``, ``-o/--output`` (and ``--out``),
    the simulation options of :func:`add_simulation_options`, and one option per
    network parameter (``--max-epochs``, ``--device``, ...; ``--epochs`` is a
    deprecated spelling of ``--max-epochs``), stored as ``hp_<parameter>`` when given.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        Where to add them.
    output : str, default='study'
        Default of ``--output``, the folder the study writes.
    """
    parser.add_argument("--mode", default="quick", choices=("quick", "full"),
                        help="quick (small grid and network, CPU) or full (default: quick)")
    for name in ("quick", "full"):
        parser.add_argument(f"--{name}", dest="mode", nargs=0, const=name,
                            action=DeprecatedAlias, replacement=f"--mode {name}",
                            help=argparse.SUPPRESS)
    parser.add_argument("--simulate", type=int, metavar="N",
                        help="run on N freshly simulated clusters (default: the mode's "
                        "number, 600 quick, 8000 full)")
    parser.add_argument("--n-samples", dest="simulate", type=int, metavar="N",
                        action=DeprecatedAlias, replacement="--simulate",
                        help=argparse.SUPPRESS)
    parser.add_argument("--cv", type=int, help="cross-validation folds (quick 2, full 3)")
    parser.add_argument("-o", "--output", default=output,
                        help=f"folder to write (default: {output})")
    parser.add_argument("--out", dest="output", action=DeprecatedAlias, replacement="--output",
                        help=argparse.SUPPRESS)
    add_simulation_options(parser)
    add_parameter_options(parser, "network parameters fixed during the study (the study's "
                          "own settings by default; the grid overrides them)",
                          exclude=("random_state",))
    parser.add_argument("--epochs", dest="hp_max_epochs", type=int, metavar="N",
                        default=argparse.SUPPRESS, action=DeprecatedAlias,
                        replacement="--max-epochs", help=argparse.SUPPRESS)
