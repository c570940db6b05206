"""Scoped tuning of glibc's allocator for training and inference loops.

Why: every training step allocates and frees activation buffers of several MB. glibc
serves blocks above its mmap threshold (128 kB, growing dynamically) with fresh
``mmap`` calls and returns freed heap tops to the OS above its trim threshold, so each
step pays page faults to zero new pages. On a 2-core machine this alone halves the
throughput of our CNN. Raising both thresholds for the duration of a loop lets glibc
reuse the same memory from step to step.

What: :func:`malloc_tuned` sets ``M_MMAP_THRESHOLD`` to 32 MiB (glibc's maximum on
64-bit) and ``M_TRIM_THRESHOLD`` to 1 GiB on entry, and on exit sets them back to
glibc's initial values (128 kB) and calls ``malloc_trim(0)`` to give the cached
memory back. (After any ``mallopt`` call glibc stops adapting the mmap threshold
dynamically; that is the only lasting difference, and it is harmless.) It does
nothing on systems without glibc, and nothing when ``enabled=False``
(``ClusterMassRegressor(malloc_tuning=False)``).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import threading
from collections.abc import Iterator

__all__ = ["malloc_tuned"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_GLIBC_DEFAULT_THRESHOLD = 128 * 1024
_TUNED_MMAP_THRESHOLD = 32 * 1024 * 1024
_TUNED_TRIM_THRESHOLD = 1024 * 1024 * 1024

_lock = threading.Lock()
_depth = 0


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt  # noqa: B018 - probe: only glibc (and a few others) have it
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def _set(trim: int, mmap: int) -> None:
    libc = _libc()
    if libc is not None:
        libc.mallopt(_M_TRIM_THRESHOLD, trim)
        libc.mallopt(_M_MMAP_THRESHOLD, mmap)


@contextlib.contextmanager
def malloc_tuned(enabled: bool = True) -> Iterator[None]:
    """Keep large allocations on the heap for the duration of the block.

    Re-entrant and thread-safe: the defaults come back when the outermost block ends.

    Parameters
    ----------
    enabled : bool, default=True
        If False, do nothing.

    Examples
    --------
    >>> with malloc_tuned():
    ...     pass
    """
    global _depth
    if not enabled or _libc() is None:
        yield
        return
    with _lock:
        if _depth == 0:
            _set(_TUNED_TRIM_THRESHOLD, _TUNED_MMAP_THRESHOLD)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _set(_GLIBC_DEFAULT_THRESHOLD, _GLIBC_DEFAULT_THRESHOLD)
                _libc().malloc_trim(0)
