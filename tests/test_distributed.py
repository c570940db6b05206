"""Sweeps on a dask cluster started with the dask command line, and the helpers.

The cluster is what a SLURM or dask-jobqueue user runs: a ``dask scheduler`` and two
``dask worker`` processes, here all on 127.0.0.1 with every port chosen by the OS.
The test proves correctness (the same ``cv_results_`` as a local run with the same
seeds), not speed: on a 2-core machine distribution is slower than local training.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline

from sk_clustermass import ClusterMassRegressor
from sk_clustermass.distributed import TorchThreads, _require_distributed, dask_backend, preflight
from sk_clustermass.preprocessing import LogStretch

from .conftest import TINY, make_toy_clusters

needs_dask = pytest.mark.skipif(
    find_spec("distributed") is None, reason='needs pip install "sk_clustermass[distributed]"'
)

STARTUP_TIMEOUT = 60.0  # s; workers import torch on a shared 2-core machine


def _dask_cli() -> str:
    local = Path(sys.executable).with_name("dask")
    found = str(local) if local.exists() else shutil.which("dask")
    if found is None:
        pytest.skip("the dask command line is not installed next to this Python")
    return found


def _log_tail(path: Path, n_chars: int = 3000) -> str:
    text = path.read_text(errors="replace") if path.exists() else "(no log)"
    return f"--- {path.name} ---\n{text[-n_chars:]}"


def _stop(processes: list[subprocess.Popen]) -> None:
    """SIGTERM the processes, wait, then SIGKILL whatever is left (children too)."""
    import psutil

    family = []
    for process in processes:
        try:
            family += psutil.Process(process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            pass
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 20
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    _, alive = psutil.wait_procs(family, timeout=max(0.1, deadline - time.monotonic()))
    for child in alive:
        child.kill()
    psutil.wait_procs(alive, timeout=10)


@pytest.fixture(scope="module")
def cli_cluster(tmp_path_factory):
    """A scheduler and two one-thread workers on 127.0.0.1; yields a connected Client.

    The workers start with the scheduler and connect in the background (they wait for
    the scheduler file), so tests wait for them themselves; ``--preload`` makes them
    import the library (and torch) while the first test runs its local reference.
    """
    from distributed import Client

    dask = _dask_cli()
    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    env = dict(os.environ, DASK_TEMPORARY_DIRECTORY=str(folder))
    loopback = ["--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0"]
    commands = {
        "scheduler": [dask, "scheduler", *loopback, "--port", "0",
                      "--scheduler-file", str(scheduler_file)],
        **{
            f"worker{i}": [dask, "worker", *loopback, "--nthreads", "1", "--nworkers", "1",
                           "--local-directory", str(folder / f"worker{i}"),
                           "--preload", "sk_clustermass",
                           "--scheduler-file", str(scheduler_file)]
            for i in (1, 2)
        },
    }
    processes, client = [], None
    logs = [folder / f"{name}.log" for name in commands]
    try:
        for command, log in zip(commands.values(), logs):
            with log.open("w") as stream:
                processes.append(subprocess.Popen(command, stdout=stream,
                                                  stderr=subprocess.STDOUT, cwd=folder, env=env))
        _wait_for_file(scheduler_file, processes[0], logs[0])
        client = Client(scheduler_file=str(scheduler_file), timeout=STARTUP_TIMEOUT)
        client.register_plugin(TorchThreads(1))  # first, before any task runs torch
        client.logs = logs  # for error messages
        yield client
    finally:
        if client is not None:
            client.close()
        _stop(processes[1:])  # the workers first: a worker whose scheduler is gone
        _stop(processes[:1])  # can linger until its nanny kills it


def _wait_for_workers(client, n_workers: int = 2) -> None:
    try:
        client.wait_for_workers(n_workers, timeout=STARTUP_TIMEOUT)
    except TimeoutError:
        pytest.fail("dask workers did not connect:\n" + "\n".join(map(_log_tail, client.logs)))


def _wait_for_file(path: Path, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail("the dask scheduler did not start:\n" + _log_tail(log))
        time.sleep(0.1)


def _tiny_search() -> GridSearchCV:
    regressor = ClusterMassRegressor(**dict(TINY, max_epochs=2, validation_fraction=0.0))
    grid = {"clustermassregressor__lr": [1e-3, 3e-3]}
    return GridSearchCV(make_pipeline(LogStretch(), regressor), grid,
                        cv=KFold(2, shuffle=True, random_state=0), n_jobs=-1)


@needs_dask
def test_sweep_on_cli_cluster_matches_local_run(cli_cluster):
    X, y = make_toy_clusters(60, seed=3)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)  # the workers' count: results are then bit-identical
        local = _tiny_search().set_params(n_jobs=1).fit(X, y)
    finally:
        torch.set_num_threads(before)
    _wait_for_workers(cli_cluster)
    workers = sorted(cli_cluster.scheduler_info()["workers"])
    task_threads = [cli_cluster.submit(torch.get_num_threads, workers=[w], pure=False)
                    for w in workers]
    assert cli_cluster.gather(task_threads) == [1, 1]
    search = _tiny_search()
    with dask_backend(cli_cluster, scatter=[X, y], estimator=search, n_workers=2,
                      timeout=STARTUP_TIMEOUT):
        search.fit(X, y)
    for key in ("mean_test_score", "std_test_score", "split0_test_score"):
        np.testing.assert_allclose(search.cv_results_[key], local.cv_results_[key],
                                   rtol=1e-6, atol=1e-9)
    assert search.best_params_ == local.best_params_
    np.testing.assert_allclose(search.predict(X), local.predict(X), rtol=1e-6)
    assert torch.get_num_threads() == before


@needs_dask
def test_torch_threads_plugin_runs_on_every_worker(cli_cluster):
    _wait_for_workers(cli_cluster)
    # client.run executes in each worker's main thread, where setup() ran. (Task
    # threads that already ran torch keep their count: see TorchThreads' notes.)
    cli_cluster.register_plugin(TorchThreads(2))
    try:
        counts = cli_cluster.run(torch.get_num_threads)
        assert list(counts.values()) == [2, 2]
    finally:
        cli_cluster.register_plugin(TorchThreads(1))
    assert list(cli_cluster.run(torch.get_num_threads).values()) == [1, 1]


@needs_dask
def test_preflight_names_a_module_missing_on_the_cluster(cli_cluster, tmp_path, monkeypatch):
    # A callback from a module importable here but not on the scheduler or workers:
    # without the preflight, joblib's dask backend would hang.
    (tmp_path / "skcm_local_only.py").write_text(
        "from skorch.callbacks import Callback\n\nclass Probe(Callback):\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    from skcm_local_only import Probe

    estimator = ClusterMassRegressor(callbacks=[Probe()])
    _wait_for_workers(cli_cluster)
    start = time.monotonic()
    expected = r"scheduler .*No module named 'skcm_local_only'.*importable on the scheduler"
    with pytest.raises(RuntimeError, match=expected):
        preflight(cli_cluster, estimator, timeout=20)
    assert time.monotonic() - start < 20
    preflight(cli_cluster, ClusterMassRegressor(), n_workers=2, timeout=20)  # no error


@needs_dask
def test_dask_backend_times_out_clearly_without_enough_workers(cli_cluster):
    _wait_for_workers(cli_cluster)
    with pytest.raises(TimeoutError, match=r"only 2 of the 5 dask worker"):
        with dask_backend(cli_cluster, n_workers=5, timeout=1):
            pass


def test_missing_dask_raises_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    with pytest.raises(ImportError, match=r"pip install \"sk_clustermass\[distributed\]\""):
        _require_distributed()


def test_torch_threads_auto_gives_each_task_thread_its_share():
    """Issue 29: 'auto' divides the worker's cores among its task threads."""
    from sk_clustermass._utils import usable_cores

    class Worker:
        def __init__(self, nthreads):
            self.state = type("State", (), {"nthreads": nthreads})()

    plugin = TorchThreads("auto")
    assert plugin.threads_for(Worker(1)) == usable_cores()
    assert plugin.threads_for(Worker(usable_cores() * 2)) == 1
    before = torch.get_num_threads()
    try:
        plugin.setup(Worker(usable_cores()))
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_torch_threads_validates_and_sets_threads():
    with pytest.raises(ValueError, match="n_threads must be a positive integer or 'auto'"):
        TorchThreads(0)
    with pytest.raises(ValueError, match="got 'many'"):
        TorchThreads("many")
    before = torch.get_num_threads()
    try:
        TorchThreads(1).setup(worker=None)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


class _KillOneWorkerMidTask:
    """Watch the cluster from a thread; SIGKILL one worker while it runs a fit."""

    def __init__(self, client, pids: dict[str, int], running_for: float = 1.0) -> None:
        import threading

        self.client, self.pids, self.running_for = client, pids, running_for
        self.killed: tuple[str, int] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _watch(self) -> None:
        busy_since: dict[str, float] = {}
        while not self._stop.is_set() and self.killed is None:
            for address, keys in self.client.processing().items():
                if not keys or address not in self.pids:
                    busy_since.pop(address, None)
                    continue
                started = busy_since.setdefault(address, time.monotonic())
                if time.monotonic() - started >= self.running_for:
                    os.kill(self.pids[address], signal.SIGKILL)
                    self.killed = (address, self.pids[address])
                    return
            time.sleep(0.05)


@needs_dask
@pytest.mark.slow
def test_sweep_survives_a_worker_killed_mid_task(cli_cluster):
    X, y = make_toy_clusters(60, seed=5)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)  # the workers' count: results are then bit-identical
        local = _tiny_search().set_params(n_jobs=1).fit(X, y)
    finally:
        torch.set_num_threads(before)
    _wait_for_workers(cli_cluster)
    pids = cli_cluster.run(os.getpid)
    search = _tiny_search()
    with (dask_backend(cli_cluster, scatter=[X, y], estimator=search, n_workers=2,
                       timeout=STARTUP_TIMEOUT),
          _KillOneWorkerMidTask(cli_cluster, pids) as killer):
        search.fit(X, y)
    assert killer.killed is not None, "no fit ran long enough to be interrupted"
    for key in ("mean_test_score", "std_test_score", "split0_test_score", "split1_test_score"):
        np.testing.assert_allclose(search.cv_results_[key], local.cv_results_[key],
                                   rtol=1e-6, atol=1e-9)
    assert search.best_params_ == local.best_params_
    _wait_for_workers(cli_cluster)  # the nanny restarted the killed worker
    assert killer.killed[1] not in cli_cluster.run(os.getpid).values()
