"""Names that moved: the old import path keeps working for one release, with a warning.

A package whose public names moved elsewhere sets ``__getattr__ = moved_names(__name__,
{...})``. The new home is imported by name only when an old name is read, so the package
graph that import-linter checks holds no edge for the alias (no import circle, no layer
inversion): the alias is a pointer for users' code, not a dependency of the library.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["REMOVED_IN", "moved_names"]

#: The release that drops the aliases.
REMOVED_IN = "0.3"


def moved_names(module_name: str, moves: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that resolves moved names and warns.

    Parameters
    ----------
    module_name : str
        The module that used to define the names (its ``__name__``).
    moves : mapping of str to str
        Old name -> new home, as ``'package.module'`` (same name there) or
        ``'package.module:NewName'``.

    Returns
    -------
    callable
        ``__getattr__(name)``: the moved object, after a ``FutureWarning`` that names
        the new import; ``AttributeError`` for any other name.
    """

    def __getattr__(name: str) -> Any:
        if name not in moves:
            message = f"module {module_name!r} has no attribute {name!r}"
            raise AttributeError(message)
        target_module, _, target_name = moves[name].partition(":")
        target_name = target_name or name
        message = (
            f"{module_name}.{name} moved to {target_module}.{target_name}; import it "
            f"from there (the old name is removed in sk_clustermass {REMOVED_IN})"
        )
        warnings.warn(message, FutureWarning, stacklevel=2)
        return getattr(importlib.import_module(target_module), target_name)

    return __getattr__
