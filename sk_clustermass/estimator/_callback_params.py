"""The user's skorch callbacks as nested parameters: ``callbacks__<name>__<param>``.

skorch names every callback (a ``(name, callback)`` pair keeps its name; an instance
or class is named after its class, with ``_1``, ``_2``, ... when several share it)
and lets ``set_params(callbacks__<name>__<param>=value)`` reach it. The regressor's
``callbacks`` parameter is a plain list, so scikit-learn alone would not see inside
it; these helpers give the regressor's ``get_params(deep=True)`` and ``set_params``
the same names as skorch, the way a :class:`~sklearn.pipeline.Pipeline` exposes its
steps: a callback instance is changed in place (a clone of the estimator has its own
copies), a replaced callback gives a new list.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

__all__ = ["PREFIX", "callback_params", "named_callbacks", "set_callback_params"]

#: The prefix of the nested callback keys.
PREFIX = "callbacks__"


def _entry_name(entry: Any) -> tuple[str, Any, bool]:
    """(name, callback, named_by_user) of one entry of ``callbacks``, as skorch reads it."""
    if isinstance(entry, tuple | list):
        if len(entry) != 2 or not isinstance(entry[0], str):
            message = ("every entry of callbacks must be a skorch callback (an instance or "
                       f"class) or a (name, callback) pair with a str name; got {entry!r}")
            raise ValueError(message)
        return entry[0], entry[1], True
    name = entry.__name__ if isinstance(entry, type) else type(entry).__name__
    return name, entry, False


def named_callbacks(callbacks: Sequence | None) -> list[tuple[str, Any]]:
    """The user's callbacks with the names skorch gives them.

    Parameters
    ----------
    callbacks : list or None
        The regressor's ``callbacks``: callback instances or classes, or
        ``(name, callback)`` pairs.

    Returns
    -------
    list of (str, callback)
        In the order given; unnamed callbacks sharing a class name are numbered
        ``_1``, ``_2``, ... as skorch does.

    Raises
    ------
    ValueError
        If two pairs carry the same name (skorch refuses them too).

    Examples
    --------
    >>> from skorch.callbacks import EarlyStopping, GradientNormClipping
    >>> from sk_clustermass import ClusterMassRegressor
    >>> model = ClusterMassRegressor(callbacks=[
    ...     ("es", EarlyStopping()), GradientNormClipping(), GradientNormClipping()])
    >>> [key for key in model.get_params() if key.count("__") == 1]
    ['callbacks__es', 'callbacks__GradientNormClipping_1', 'callbacks__GradientNormClipping_2']
    """
    entries = [_entry_name(entry) for entry in callbacks or []]
    counts = Counter(name for name, _, _ in entries)
    for name, _, by_user in entries:
        if by_user and counts[name] > 1:
            message = (f"two callbacks are named {name!r}; give every (name, callback) "
                       "pair its own name")
            raise ValueError(message)
    seen: Counter = Counter()
    named = []
    for name, callback, _ in entries:
        if counts[name] > 1:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        named.append((name, callback))
    return named


def callback_params(callbacks: Sequence | None) -> dict[str, Any]:
    """The nested entries of ``get_params(deep=True)`` for the user's callbacks.

    Parameters
    ----------
    callbacks : list or None
        The regressor's ``callbacks``.

    Returns
    -------
    dict
        ``callbacks__<name>`` for every callback and ``callbacks__<name>__<param>``
        for every parameter of a callback instance (a class has none yet).
    """
    params: dict[str, Any] = {}
    if not isinstance(callbacks, list | tuple):  # None, or an invalid value fit will name
        return params
    for name, callback in named_callbacks(callbacks):
        params[PREFIX + name] = callback
        if not isinstance(callback, type) and hasattr(callback, "get_params"):
            for key, value in callback.get_params(deep=True).items():
                params[f"{PREFIX}{name}__{key}"] = value
    return params


def _unknown(name: str, names: list[str]) -> ValueError:
    known = ", ".join(repr(n) for n in names) or "none"
    message = (f"no callback is named {name!r} (the callbacks are named {known}); name a "
               "callback with a (name, callback) pair, e.g. callbacks=[('es', "
               "EarlyStopping())], or use its class name")
    return ValueError(message)


def set_callback_params(callbacks: Sequence | None, params: dict[str, Any]) -> list:
    """Apply ``callbacks__<name>[__<param>]`` settings; return the new ``callbacks`` list.

    Parameters
    ----------
    callbacks : list or None
        The regressor's ``callbacks``; not changed (its callback instances are, as a
        Pipeline's steps are by ``set_params``).
    params : dict
        Keys without the ``callbacks__`` prefix: ``<name>`` replaces that callback
        (None switches it off, as in skorch), ``<name>__<param>`` sets a parameter
        of it. A callback
        given as a class is created with the parameters set.

    Returns
    -------
    list
        The callbacks, in the same order and with the same names.

    Raises
    ------
    ValueError
        If no callback has that name.
    """
    named = named_callbacks(callbacks)
    names = [name for name, _ in named]
    entries = list(callbacks or [])
    replaced, nested = {}, {}
    for key, value in params.items():
        name, _, param = key.partition("__")
        if name not in names:
            raise _unknown(name, names)
        if param:
            nested.setdefault(name, {})[param] = value
        else:
            replaced[name] = value
    for index, (name, callback) in enumerate(named):
        if name in replaced:
            callback = replaced[name]
        if name in nested and callback is not None:
            if isinstance(callback, type):
                callback = callback(**nested[name])
            else:
                callback.set_params(**nested[name])
        entries[index] = _entry(entries[index], name, callback)
    return entries


def _entry(old: Any, name: str, callback: Any) -> Any:
    """The entry holding ``callback`` in place of ``old``, under the same name.

    An unnamed entry stays unnamed while the name skorch would give it is unchanged;
    otherwise (another class, or None, which skorch skips) it becomes a pair.
    """
    if isinstance(old, tuple | list):
        return (old[0], callback)
    if callback is old:
        return old
    same_class = callback is not None and _entry_name(callback)[0] == _entry_name(old)[0]
    return callback if same_class else (name, callback)
