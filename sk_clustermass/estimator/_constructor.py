"""The regressor's constructor and the Parameters section of its docstring, from the table.

One entry of the parameter table (:mod:`._parameters`) is one constructor argument:
:func:`table_constructor` writes the ``__init__`` that stores every argument verbatim
(the way :mod:`dataclasses` writes theirs, with a real signature that scikit-learn's
``get_params``, ``clone`` and :func:`inspect.signature` read), and
:func:`parameters_docstring` writes the numpydoc ``Parameters`` section. Neither the
defaults nor the documentation of a parameter is typed anywhere else.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._parameters import Parameter

__all__ = ["PARAMETERS_PLACEHOLDER", "parameters_docstring", "table_constructor"]

#: The line of a class docstring that :func:`parameters_docstring` replaces.
PARAMETERS_PLACEHOLDER = "(one entry per row of the parameter table, written in below)"

# The annotation of each kind, for the generated signature.
_ANNOTATIONS: dict[str, Any] = {
    "int": int, "float": float, "bool": bool, "choice": str, "ints": tuple[int, ...],
    "path": "str | os.PathLike | None", "random_state": int | np.random.RandomState | None,
    "callbacks": "list | None", "deprecated": Any,
}
# The type column of each kind in numpydoc.
_DOC_TYPES = {
    "int": "int", "float": "float", "bool": "bool", "ints": "tuple of int",
    "path": "str or Path", "random_state": "int, RandomState instance or None",
    "callbacks": "list of skorch callbacks", "deprecated": "deprecated",
}


def table_constructor(parameters: Sequence[Parameter], owner: str) -> Callable[..., None]:
    """An ``__init__`` taking every parameter of the table, with its default.

    Parameters
    ----------
    parameters : sequence of Parameter
        The table, in signature order.
    owner : str
        The class's name (for ``__qualname__`` and tracebacks).

    Returns
    -------
    callable
        ``__init__(self, name=default, ...)`` that sets ``self.name = name`` for
        every entry and does nothing else (the scikit-learn contract).
    """
    names = [parameter.name for parameter in parameters]
    if len(set(names)) != len(names) or not all(name.isidentifier() for name in names):
        message = f"parameter names must be distinct identifiers; got {names}"
        raise ValueError(message)
    defaults = {f"_default_{name}": parameter.default
                for name, parameter in zip(names, parameters)}
    signature = ", ".join(f"{name}=_default_{name}" for name in names)
    body = "\n".join(f"    self.{name} = {name}" for name in names) or "    pass"
    source = f"def __init__(self, {signature}):\n{body}\n"
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<parameter table of {owner}>", "exec"), defaults, namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{owner}.__init__"
    init.__annotations__ = {parameter.name: _annotation(parameter) for parameter in parameters}
    init.__annotations__["return"] = None
    init.__doc__ = f"Store the parameters of {owner} verbatim (see the class docstring)."
    return init


def _annotation(parameter: Parameter) -> Any:
    annotation = _ANNOTATIONS[parameter.kind]
    if parameter.allow_none and parameter.kind in ("int", "float"):
        return annotation | None
    if parameter.kind == "choice" and None in parameter.choices:
        return str | None
    return annotation


def parameters_docstring(parameters: Sequence[Parameter], indent: int = 4) -> str:
    """The numpydoc ``Parameters`` entries of the table.

    Parameters
    ----------
    parameters : sequence of Parameter
        The table.
    indent : int, default=4
        Spaces before each name (the class docstring's indentation).

    Returns
    -------
    str
        ``name : type, default=value`` lines, each followed by its text (the entry's
        ``doc``, or its one-line description as a sentence).
    """
    pad = " " * indent
    lines: list[str] = []
    for parameter in parameters:
        lines.append(f"{pad}{parameter.name} : {_doc_type(parameter)}, "
                     f"default={parameter.default!r}")
        text = parameter.doc or _sentence(parameter.description)
        lines += textwrap.wrap(text, width=88, initial_indent=pad + "    ",
                               subsequent_indent=pad + "    ", break_on_hyphens=False)
    return "\n".join(lines)


def _doc_type(parameter: Parameter) -> str:
    if parameter.kind == "choice":
        return "{" + ", ".join(repr(choice) for choice in parameter.choices) + "}"
    text = _DOC_TYPES[parameter.kind]
    if parameter.allow_none and parameter.kind in ("int", "float", "ints"):
        text += " or None"
    return text


def _sentence(description: str) -> str:
    """The one-line description as a sentence: its first letter capitalised, a full stop."""
    first = next((i for i, char in enumerate(description) if char.isalpha()), 0)
    head, tail = description[:first + 1], description[first + 1:]
    return head[:-1] + head[-1:].upper() + tail + "."
