"""Scoped tuning of glibc's allocator for training and inference loops.

Why: every training step allocates and frees activation buffers of several MB. glibc
serves blocks above its mmap threshold (128 kB, growing dynamically) with fresh
``mmap`` calls and returns freed heap tops to the OS above its trim threshold, so each
step pays page faults to zero new pages. On a 2-core machine this alone halves the
throughput of our CNN. Raising both thresholds for the duration of a loop lets glibc
reuse the same memory from step to step. The mmap threshold cannot be raised above
32 MiB (glibc's maximum on 64-bit), and one activation buffer of the default network
passes that from batch ~170 (float32) or ~340 (bfloat16) on: such blocks were still
mapped and unmapped at every batch, which made ``predict`` 2-3 times slower at batch
256 than at batch 64. So the block also stops glibc from serving any allocation by
``mmap`` (``M_MMAP_MAX = 0``): large blocks then come from the heap and are reused too.

What: :func:`malloc_tuned` sets ``M_MMAP_THRESHOLD`` to 32 MiB, ``M_TRIM_THRESHOLD``
to 1 GiB and ``M_MMAP_MAX`` to 0 on entry. On exit it sets the mmap settings back to
glibc's initial values (128 kB, 65536) and the trim threshold to :data:`KEEP_FREE_BYTES`
(256 MiB), and, when more than that of the heap is free and the block grew the
process's resident memory by more than that, calls ``malloc_trim(0)``, which gives the
cached memory back (the free pages inside the heap too, not only its top). Below that
the free memory stays with glibc, ready for the next block: a
``predict`` call would otherwise fault its activation buffers in afresh every time,
which cost 3-4% of predicting 4096 clusters (2 idle EPYC cores). The trim threshold is
what keeps it: with glibc's 128 kB, the first ``free`` after the block at the top of
the heap gave the memory back anyway (a ``predict`` of 4096 clusters leaves 90-160 MiB
free). glibc's own dynamic threshold rises to 64 MiB in a process like this, so 256 MiB
is the same policy with room for one prediction's buffers. The free heap alone is not
the test: glibc's count of free bytes (``mallinfo2().fordblks``) still includes the
pages a trim gave back, so after a ``fit`` had left 680 MiB free, "trim when more than
256 MiB is free" trimmed at the end of every later ``predict`` call, and each call
faulted its buffers in again (in ``bench_training.py``, which fits before it predicts,
80 trims in 80 prediction calls, an ad hoc count; fifth round, issue 29). The growth of the resident
memory (``/proc/self/statm``) says whether the block brought pages back in; where it
cannot be read, the growth of the free heap stands in. Where glibc has no
``mallinfo2`` (before 2.33) the trim is unconditional. (After any ``mallopt`` call
glibc stops adapting the mmap threshold dynamically; that is the only other lasting
difference, and it is harmless. Settings made with ``GLIBC_TUNABLES`` are replaced on
exit.) It is safe: glibc still maps memory where the heap cannot grow (threads' arenas
serve blocks above 64 MiB by ``mmap`` whatever the setting, and the main heap falls
back to ``mmap`` where ``brk`` fails). What the block allocates and keeps after it ends
lives on the heap rather than in its own mapping; the library's loops keep nothing
large (their inputs are converted before the block and their outputs are a few
numbers per cluster). It does nothing on systems without glibc, and nothing when
``enabled=False`` (``ClusterMassRegressor(malloc_tuning=False)``).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import os
import threading
from collections.abc import Iterator

__all__ = ["KEEP_FREE_BYTES", "malloc_tuned"]

#: Free heap memory a tuned block may leave with glibc when it ends (not trimmed), and
#: glibc's trim threshold after it.
KEEP_FREE_BYTES = 256 * 2**20

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_MMAP_MAX = -4
_GLIBC_DEFAULT_MMAP_MAX = 65536
_GLIBC_DEFAULT_THRESHOLD = 128 * 1024
_TUNED_MMAP_THRESHOLD = 32 * 1024 * 1024
_TUNED_TRIM_THRESHOLD = 1024 * 1024 * 1024

_lock = threading.Lock()
_depth = 0
# glibc's free heap bytes and the resident bytes when the outermost block began
_at_entry: tuple[int | None, int | None] = (None, None)


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


class _MallInfo2(ctypes.Structure):
    """glibc's ``struct mallinfo2`` (all fields ``size_t``)."""

    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
        "uordblks", "fordblks", "keepcost")]


def _free_heap_bytes(libc: ctypes.CDLL) -> int | None:
    """Bytes free in glibc's heaps (``mallinfo2().fordblks``); None without mallinfo2."""
    mallinfo2 = getattr(libc, "mallinfo2", None)
    if mallinfo2 is None:
        return None
    mallinfo2.restype = _MallInfo2
    return int(mallinfo2().fordblks)


_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _resident_bytes() -> int | None:
    """This process's resident memory in bytes (``/proc/self/statm``); None elsewhere."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * _PAGE_BYTES
    except (OSError, ValueError, IndexError):
        return None


def _give_back(libc: ctypes.CDLL, at_entry: tuple[int | None, int | None]) -> None:
    """Trim the heaps when the block left more than :data:`KEEP_FREE_BYTES` free and
    grew the process's resident memory by more than that.

    ``at_entry`` is ``(free heap bytes, resident bytes)`` when the outermost block
    began. Without a resident count the growth of the free heap stands in for it;
    without ``mallinfo2`` the trim is unconditional.
    """
    free = _free_heap_bytes(libc)
    if free is None:
        libc.malloc_trim(0)
        return
    free_at_entry, resident_at_entry = at_entry
    resident = _resident_bytes()
    if resident is not None and resident_at_entry is not None:
        grown = resident - resident_at_entry
    else:
        grown = free - (free_at_entry or 0)
    if free > KEEP_FREE_BYTES and grown > KEEP_FREE_BYTES:
        libc.malloc_trim(0)


def _set(trim: int, mmap: int, mmap_max: int) -> None:
    libc = _libc()
    if libc is not None:
        libc.mallopt(_M_TRIM_THRESHOLD, trim)
        libc.mallopt(_M_MMAP_THRESHOLD, mmap)
        libc.mallopt(_M_MMAP_MAX, mmap_max)


@contextlib.contextmanager
def malloc_tuned(enabled: bool = True) -> Iterator[None]:
    """Keep large allocations on the heap for the duration of the block.

    No block of memory is served by ``mmap`` inside (see the module's notes), so
    activation buffers are reused from batch to batch whatever their size.
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
    global _depth, _at_entry
    if not enabled or _libc() is None:
        yield
        return
    with _lock:
        if _depth == 0:
            _at_entry = (_free_heap_bytes(_libc()), _resident_bytes())
            _set(_TUNED_TRIM_THRESHOLD, _TUNED_MMAP_THRESHOLD, 0)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _set(KEEP_FREE_BYTES, _GLIBC_DEFAULT_THRESHOLD, _GLIBC_DEFAULT_MMAP_MAX)
                _give_back(_libc(), _at_entry)
