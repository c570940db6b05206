"""Helpers for running sweeps on a dask.distributed cluster through joblib.

scikit-learn's ``GridSearchCV`` and ``cross_val_score`` run unchanged on a dask
cluster under joblib's dask backend. This module holds only what removes
boilerplate or turns a known trap into a clear error:

- :class:`TorchThreads`, a worker plugin that sets PyTorch's thread count on every
  worker, including workers that join later (dask's nanny starts workers with
  ``OMP_NUM_THREADS=1``, so torch would otherwise train on one thread);
- :func:`preflight`, which checks that an estimator unpickles on the scheduler and
  on the workers. Without it, a package missing there makes joblib's dask backend
  hang with no error;
- :func:`dask_backend`, a context manager that waits for workers, runs the preflight
  and enters ``joblib.parallel_config(backend="dask", ...)``.

dask is optional: install it with ``pip install "sk_clustermass[distributed]"``.
This module imports without it, and every helper that needs it raises an
``ImportError`` that says how to install it.

Examples
--------
The pattern, with ``client`` connected to a scheduler (``Client("tcp://host:8786")``
or a ``LocalCluster``)::

    client.register_plugin(TorchThreads(4))
    search = GridSearchCV(pipeline, grid, cv=5, n_jobs=-1)
    with dask_backend(client, scatter=[X, y], estimator=search, n_workers=8):
        search.fit(X, y)
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import joblib

from ._utils import sigterm_as_keyboard_interrupt, threads_per_job

try:  # optional: the helpers raise a clear ImportError without it
    from distributed import WorkerPlugin as _WorkerPlugin
except ImportError:  # pragma: no cover - depends on the environment
    _WorkerPlugin = object

__all__ = ["TorchThreads", "dask_backend", "preflight"]

MIN_DISTRIBUTED = (2026, 7, 0)
_INSTALL_HINT = 'pip install "sk_clustermass[distributed]"'


def _require_distributed():
    """Import and return :mod:`distributed`, or raise an ImportError saying how to get it."""
    try:
        import distributed
    except ImportError as exc:
        message = (
            "this needs dask.distributed, an optional dependency of sk_clustermass; "
            f"install it with: {_INSTALL_HINT}"
        )
        raise ImportError(message) from exc
    version = tuple(int(part) for part in distributed.__version__.split(".")[:3]
                    if part.isdigit())
    if version < MIN_DISTRIBUTED:
        message = (
            f"distributed {distributed.__version__} is too old: versions before "
            "2026.7.0 scatter the skorch SliceDict X as a plain dict (workers then fail "
            f"with KeyError). Upgrade with: {_INSTALL_HINT} --upgrade"
        )
        raise ImportError(message)
    return distributed


class TorchThreads(_WorkerPlugin):
    """Worker plugin setting the number of PyTorch threads on every dask worker.

    dask's nanny starts worker processes with ``OMP_NUM_THREADS=1`` (and the MKL and
    OpenBLAS equivalents), so torch trains on a single thread unless told otherwise.
    Registered with ``client.register_plugin``, the plugin's :meth:`setup` runs on
    every current worker and on every worker that joins later.

    Parameters
    ----------
    n_threads : int or 'auto'
        Intra-op threads for torch in each worker process. With ``--nthreads 1``
        workers (one task at a time, the usual choice for training), give each
        worker the cores of its share of the machine: cores per node divided by
        workers per node. On a GPU worker 1–2 threads are enough. ``'auto'`` gives
        each task thread of a worker its share of the cores the worker process may
        run on: ``max(1, cores // worker_threads)``. That is right where each worker
        has its own cores (one worker per node, or workers pinned to their cores, as
        SLURM and dask-jobqueue jobs are); for several unpinned workers on one node (a
        ``LocalCluster``), give the count: cores per node // (workers x threads).

    Raises
    ------
    ValueError
        If ``n_threads`` is neither a positive integer nor 'auto'.

    Notes
    -----
    Register the plugin right after connecting, before any task has run torch on
    the workers. Thread counts are per OS thread in OpenMP, and torch fixes a
    thread's count the first time that thread runs torch code; a later
    registration changes it for new threads and for workers that join later, but not
    for a task thread that has already trained. To change the count on a cluster
    that has already run tasks, register the new plugin and then call
    ``client.restart()`` (registered plugins run again on the restarted workers).
    All instances share one plugin name, so registering another replaces the
    previous one.

    Examples
    --------
    >>> import torch
    >>> from sk_clustermass.distributed import TorchThreads
    >>> before = torch.get_num_threads()
    >>> TorchThreads(1).setup(worker=None)  # what every worker runs on registration
    >>> torch.get_num_threads()
    1
    >>> torch.set_num_threads(before)
    >>> class Worker:  # a worker process with 2 task threads
    ...     class state:
    ...         nthreads = 2
    >>> TorchThreads("auto").threads_for(Worker()) >= 1  # its cores // 2
    True

    With a client: ``client.register_plugin(TorchThreads(4))``.
    """

    idempotent = False

    def __init__(self, n_threads: int | str) -> None:
        valid = n_threads == "auto" or (
            isinstance(n_threads, int) and not isinstance(n_threads, bool) and n_threads >= 1)
        if not valid:
            message = f"n_threads must be a positive integer or 'auto'; got {n_threads!r}"
            raise ValueError(message)
        self.n_threads = n_threads
        self.name = "sk_clustermass-torch-threads"

    def threads_for(self, worker: Any) -> int:
        """The count :meth:`setup` sets on ``worker`` (``'auto'`` resolved there)."""
        if self.n_threads != "auto":
            return self.n_threads
        state = getattr(worker, "state", None)
        return threads_per_job(max(1, int(getattr(state, "nthreads", 1) or 1)))

    def setup(self, worker: Any) -> None:
        """Set torch's intra-op thread count in the worker process."""
        import torch

        torch.set_num_threads(self.threads_for(worker))

    def __repr__(self) -> str:
        return f"TorchThreads({self.n_threads})"


def _worker_addresses(client: Any) -> list[str]:
    return sorted(client.scheduler_info(n_workers=-1)["workers"])


def _wait_for_workers(client: Any, n_workers: int, timeout: float) -> None:
    try:
        client.wait_for_workers(n_workers, timeout=timeout)
    except TimeoutError as exc:
        have = len(_worker_addresses(client))
        message = (
            f"only {have} of the {n_workers} dask worker(s) asked for connected to "
            f"{client.scheduler.address} within {timeout:g} s. Start workers (`dask worker "
            "ADDRESS`, or cluster.scale(...) with dask-jobqueue, whose jobs may still be "
            "queued), or raise the timeout."
        )
        raise TimeoutError(message) from exc


def _unpickling_failure(where: str, exc: BaseException) -> RuntimeError:
    missing = getattr(exc, "name", None) if isinstance(exc, ImportError) else None
    fix = (
        f"make the module {missing!r} importable on the scheduler and on every worker "
        "(install the package that provides it, the same version as here)"
        if missing
        else "give the scheduler and the workers the same packages and versions as here"
    )
    message = (
        f"the estimator cannot be unpickled on the {where} ({type(exc).__name__}: {exc}); "
        f"joblib's dask backend would hang without an error. Fix: {fix}. Classes defined "
        "in the script being run (__main__) travel by value; classes from any other "
        "module need that module on the cluster."
    )
    return RuntimeError(message)


def preflight(
    client: Any, estimator: Any, *, n_workers: int = 1, timeout: float = 60.0
) -> None:
    """Check that ``estimator`` can be unpickled on the scheduler and on every worker.

    The dask scheduler deserialises the task graph, so every package the estimator
    references (sk_clustermass itself, a custom callback's module, ...) must be
    importable on the scheduler and on every worker. Where one is missing, joblib's
    dask backend hangs without an error; this check raises one instead, naming the
    missing module. It pickles the estimator with cloudpickle (as dask does),
    unpickles it with ``client.run_on_scheduler`` and with one task on each connected
    worker, after waiting for ``n_workers`` workers.

    Parameters
    ----------
    client : distributed.Client
        A client connected to the cluster.
    estimator : object
        What will be shipped to the workers: typically the ``GridSearchCV`` itself,
        or the pipeline it searches over.
    n_workers : int, default=1
        Wait for at least this many workers before checking.
    timeout : float, default=60.0
        Seconds to wait for the workers, and then for the check on them.

    Raises
    ------
    RuntimeError
        If the estimator does not unpickle on the scheduler or on a worker; the
        message names the exception (e.g. ``No module named 'mylab'``) and the fix.
    TimeoutError
        If fewer than ``n_workers`` workers connect within ``timeout``, or a worker
        does not answer within ``timeout``.
    ImportError
        If dask.distributed is not installed.

    Examples
    --------
    >>> from sk_clustermass.distributed import preflight
    >>> preflight(client, search, n_workers=4)  # doctest: +SKIP
    """
    distributed = _require_distributed()
    import cloudpickle  # a dependency of distributed

    _wait_for_workers(client, n_workers, timeout)
    blob = cloudpickle.dumps(estimator)
    try:
        client.run_on_scheduler(pickle.loads, blob)
    except Exception as exc:  # any failure of pickle.loads comes back here
        raise _unpickling_failure(f"dask scheduler {client.scheduler.address}", exc) from exc
    futures = {
        address: client.submit(pickle.loads, blob, workers=[address], pure=False,
                               allow_other_workers=False)
        for address in _worker_addresses(client)
    }
    try:
        distributed.wait(list(futures.values()), timeout=timeout)
    except TimeoutError as exc:
        message = (
            f"dask workers did not unpickle the estimator within {timeout:g} s; they may "
            "be busy or stuck importing. Check the worker logs, or raise the timeout."
        )
        raise TimeoutError(message) from exc
    try:
        for address, future in futures.items():
            if future.status == "error":
                raise _unpickling_failure(f"dask worker {address}", future.exception())
    finally:
        client.cancel(list(futures.values()))


@contextmanager
def dask_backend(
    client: Any,
    *,
    scatter: Sequence[Any] | None = None,
    estimator: Any = None,
    n_workers: int = 1,
    timeout: float = 60.0,
) -> Iterator[None]:
    """Run the joblib calls inside (``GridSearchCV.fit``, ...) on a dask cluster.

    Waits for ``n_workers`` workers, runs :func:`preflight` on ``estimator`` if it is
    given, then enters ``joblib.parallel_config(backend="dask", client=client,
    scatter=scatter)``.

    Parameters
    ----------
    client : distributed.Client
        A client connected to the cluster.
    scatter : sequence, optional
        Objects sent to the workers once, up front, instead of with every task:
        pass ``[X, y]`` so the data set is not shipped once per fit.
    estimator : object, optional
        Checked with :func:`preflight` before anything is submitted.
    n_workers : int, default=1
        Workers to wait for before starting.
    timeout : float, default=60.0
        Seconds to wait for the workers (and for the preflight).

    Yields
    ------
    None

    Raises
    ------
    TimeoutError, RuntimeError, ImportError
        As :func:`preflight`.

    Examples
    --------
    >>> from sk_clustermass.distributed import dask_backend
    >>> with dask_backend(client, scatter=[X, y], estimator=search):  # doctest: +SKIP
    ...     search.fit(X, y)
    """
    _require_distributed()
    if estimator is not None:
        preflight(client, estimator, n_workers=n_workers, timeout=timeout)
    else:
        _wait_for_workers(client, n_workers, timeout)
    scattered = None if scatter is None else list(scatter)
    with (joblib.parallel_config(backend="dask", client=client, scatter=scattered,
                                 wait_for_workers_timeout=timeout),
          sigterm_as_keyboard_interrupt()):  # kill/SLURM/docker stop act as Ctrl-C
        yield
