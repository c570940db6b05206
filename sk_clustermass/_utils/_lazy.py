"""Names a package exports but imports only when first read (PEP 562).

``import sk_clustermass`` and the command line's ``--help`` and ``--version`` must not
pay for PyTorch; a package whose public names live in modules that import it sets
``__getattr__, __dir__ = lazy_exports(__name__, {...})`` and imports those modules when a
name is first read. ``from package import Name`` works as before, ``__all__`` and
``dir(package)`` list every name, and type checkers see the names through imports under
``if TYPE_CHECKING:`` next to the call.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    module_name: str,
    exports: Mapping[str, str],
    fallback: Callable[[str], Any] | None = None,
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module ``__getattr__`` and ``__dir__`` that import exported names on first use.

    Parameters
    ----------
    module_name : str
        The package that exports the names (its ``__name__``).
    exports : mapping of str to str
        Name -> the module that defines it, relative to the package (``'._regressor'``)
        or absolute. A name mapped to ``''`` is the sub-package ``module_name.name``.
    fallback : callable, optional
        ``__getattr__`` for the other names (e.g. :func:`moved_names`); by default they
        raise ``AttributeError``.

    Returns
    -------
    getattr : callable
        ``__getattr__(name)``: the object, imported once and then cached in the module.
    dir : callable
        ``__dir__()``: the module's names and the exported ones.
    """

    def __getattr__(name: str) -> Any:
        if name not in exports:
            if fallback is not None:
                return fallback(name)
            message = f"module {module_name!r} has no attribute {name!r}"
            raise AttributeError(message)
        home = exports[name]
        if home:
            value = getattr(importlib.import_module(home, module_name), name)
        else:
            value = importlib.import_module(f"{module_name}.{name}")
        setattr(sys.modules[module_name], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[module_name])) | set(exports))

    return __getattr__, __dir__
