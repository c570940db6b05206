"""Torch's thread count for the duration of a fit or a prediction.

``ClusterMassRegressor(n_threads=k)`` runs ``fit`` and ``predict`` with ``k`` torch
threads and gives the calling thread its former count back afterwards
(:func:`torch_threads`). With the default ``n_threads=None`` the count is torch's own:
one per core, or what the process was started with (``OMP_NUM_THREADS``). Inside
joblib's default (loky) worker processes that is already ``cores // n_jobs``, because
joblib starts them with the thread variables set so; the parameter is for the other
ways of running fits side by side (joblib's threading backend, a dask worker running
several tasks at once, a shared node), where each fit should get its share of the
cores, :func:`threads_per_job`.

OpenMP keeps one count per OS thread: setting it in the thread that fits changes that
thread's count (and the count later threads start with), not that of other threads
already running torch.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

__all__ = ["threads_per_job", "torch_threads", "usable_cores"]


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity; ``os.cpu_count()`` elsewhere).

    Returns
    -------
    int
        At least 1.

    Examples
    --------
    >>> usable_cores() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


def threads_per_job(n_jobs: int, cores: int | None = None) -> int:
    """Threads each of ``n_jobs`` concurrent jobs gets: ``max(1, cores // n_jobs)``.

    Parameters
    ----------
    n_jobs : int
        Jobs running at the same time on the same cores (> 0).
    cores : int, optional
        The cores they share; default :func:`usable_cores`.

    Returns
    -------
    int

    Examples
    --------
    >>> threads_per_job(2, cores=16), threads_per_job(4, cores=2)
    (8, 1)
    """
    if n_jobs < 1:
        message = f"n_jobs must be a positive integer; got {n_jobs!r}"
        raise ValueError(message)
    return max(1, (usable_cores() if cores is None else cores) // n_jobs)


@contextlib.contextmanager
def torch_threads(n_threads: int | None) -> Iterator[int]:
    """Run the block with ``n_threads`` torch threads (None: leave torch's count).

    Parameters
    ----------
    n_threads : int or None

    Yields
    ------
    int
        The count the block runs with.

    Examples
    --------
    >>> import torch
    >>> before = torch.get_num_threads()
    >>> with torch_threads(1) as n:
    ...     n, torch.get_num_threads()
    (1, 1)
    >>> torch.get_num_threads() == before
    True
    """
    import torch  # here: the command line imports this package without torch

    before = torch.get_num_threads()
    if n_threads is None or n_threads == before:
        yield before
        return
    torch.set_num_threads(n_threads)
    try:
        yield n_threads
    finally:
        torch.set_num_threads(before)
