"""Checks on user input shared by every sub-package, with errors that say how to fix them.

The one family of parameter checks: :func:`check_choice`, :func:`check_number` and
:func:`check_bool` serve the regressor's parameter table, the transformers, the
baselines and the simulator alike, so every wrong value reads the same way
(``"n_filters must be an integer >= 1; got 0"``). Every check takes the name first,
then the value: ``check_number("lr", lr, low=0)``, ``check_vector("y_true", y_true)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["check_bool", "check_choice", "check_number", "check_vector", "describe_bounds"]


def check_vector(name: str, values: ArrayLike) -> np.ndarray:
    """``values`` as a finite, non-empty float64 vector of shape (n_samples,).

    A column of shape (n_samples, 1) is flattened; anything else raises ``ValueError``
    naming ``name`` and what was wrong.
    """
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        message = f"{name} must have shape (n_samples,); got shape {array.shape}"
        raise ValueError(message)
    if array.size == 0:
        message = f"{name} is empty; at least one cluster is needed"
        raise ValueError(message)
    if not np.isfinite(array).all():
        n_bad = int(np.count_nonzero(~np.isfinite(array)))
        message = f"{name} contains {n_bad} NaN or infinite value(s); remove those clusters"
        raise ValueError(message)
    return array


def check_choice(name: str, value: Any, allowed: Sequence) -> None:
    """Raise ``ValueError`` naming the allowed values when ``value`` is not one of them.

    Strings compare by value (numpy strings too); other values must also have the
    option's type, so ``1`` does not stand for ``True`` and an array never matches.
    ``None`` may be one of the choices.

    Parameters
    ----------
    name : str
        The parameter's name, as the user wrote it.
    value : object
        The value to check.
    allowed : sequence
        The accepted values.
    """
    if any(_same(value, option) for option in allowed):
        return
    message = f"{name}={value!r} is not supported; choose one of {list(allowed)}"
    raise ValueError(message)


def check_bool(name: str, value: Any) -> None:
    """Raise ``ValueError`` unless ``value`` is ``True`` or ``False`` (numpy's too)."""
    if not isinstance(value, bool | np.bool_):
        message = f"{name} must be True or False; got {value!r}"
        raise ValueError(message)


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    integer: bool = False,
    allow_none: bool = False,
) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite real (or integer) within bounds.

    Booleans are not numbers here; numpy scalars are.

    Parameters
    ----------
    name : str
        The parameter's name, as the user wrote it.
    value : object
        The value to check.
    low, high : float, optional
        Bounds; None leaves that side open.
    low_inclusive, high_inclusive : bool, default=True
        Whether ``value`` may equal ``low`` (``high``).
    integer : bool, default=False
        Require an integer (``int`` or a numpy integer).
    allow_none : bool, default=False
        Accept ``None`` as well.

    Raises
    ------
    ValueError
        Naming the parameter, what it must be and what it got, e.g.
        ``"dropout must be a finite number >= 0 and < 1; got 1.5"``.
    """
    if value is None and allow_none:
        return
    if _in_bounds(value, low, high, low_inclusive, high_inclusive, integer):
        return
    what = "an integer" if integer else "a finite number"
    bounds = describe_bounds(low, high, low_inclusive, high_inclusive)
    text = f"{what} {bounds}".rstrip()
    if allow_none:
        text += " or None"
    message = f"{name} must be {text}; got {value!r}"
    raise ValueError(message)


def describe_bounds(
    low: float | None, high: float | None, low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> str:
    """``'>= 0 and < 1'``, ``'> 0'`` or ``''``: the bounds of :func:`check_number` in words."""
    parts = []
    if low is not None:
        parts.append(f"{'>=' if low_inclusive else '>'} {low:g}")
    if high is not None:
        parts.append(f"{'<=' if high_inclusive else '<'} {high:g}")
    return " and ".join(parts)


def _same(value: Any, option: Any) -> bool:
    """``value == option`` for strings (numpy's too) and None; same type otherwise."""
    if value is option:
        return True
    if isinstance(option, str):
        return isinstance(value, str) and value == option
    if option is None or isinstance(value, np.ndarray) or type(value) is not type(option):
        return False
    try:
        return bool(value == option)
    except (TypeError, ValueError):
        return False


def _in_bounds(
    value: Any, low: float | None, high: float | None, low_inclusive: bool,
    high_inclusive: bool, integer: bool,
) -> bool:
    kind = Integral if integer else Real
    if isinstance(value, bool | np.bool_) or not isinstance(value, kind):
        return False
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        return False
    if not math.isfinite(number):
        return False
    if low is not None and (number < low if low_inclusive else number <= low):
        return False
    return high is None or (number <= high if high_inclusive else number < high)
