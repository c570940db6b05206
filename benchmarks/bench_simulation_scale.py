"""Simulation at scale: ``simulate_to_hdf5`` with 1 and 2 workers, joblib and dask.

For N clusters (default 100,000; ``--n 1000000`` for the survey-scale run) it
streams the simulation to an HDF5 file with

1. ``n_jobs=1`` (in process),
2. ``n_jobs=2`` (joblib's default backend, loky processes),
3. ``n_jobs=2`` under joblib's dask backend on a ``LocalCluster`` of 2 single-thread
   workers bound to 127.0.0.1 (with ``--dask``; the same code runs on a SLURM
   cluster with more workers, see docs/scaling.md),

and prints for each the wall time, clusters/s, the CPU time per cluster of the main
process (all of the simulation with ``n_jobs=1``; with workers, what receiving,
checking, compressing and writing the chunks costs, the ceiling of a single-file
run), the speed-up over ``n_jobs=1``, the
peak resident memory of the process tree (flat in N: at most two chunks per worker
are in flight), the file size, and whether the output matches the first run (masses of all
rows and the images of 64 rows spread over the file).

It also prints the writer's ceiling: how many clusters/s one process can compress and
append to a file (already simulated chunks, written again and again). Chunks may be
simulated on any number of workers, but one process writes the file, so this rate
bounds a single-file run however large the cluster is. Files go to ``--workdir``
(about 6 kB per cluster with the default bitshuffle compression: 0.6 GB at 100,000,
6 GB at 1,000,000) and are deleted after each run.

Usage::

    python benchmarks/bench_simulation_scale.py                  # N = 100,000
    python benchmarks/bench_simulation_scale.py --quick          # N = 10,000
    python benchmarks/bench_simulation_scale.py --n 1000000 --jobs 2   # one long run

State the machine's other load with the figures: the 2-job speed-up is bounded by
the cores actually free.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import h5py
import numpy as np
import psutil

from sk_clustermass.datasets import HDF5ClusterWriter, make_clusters, simulate_to_hdf5


class PeakRSS:
    """Peak resident memory of this process and its children, polled every 0.2 s."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for process in [me, *me.children(recursive=True)]:
                try:
                    total += process.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(0.2)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()


def fingerprint(path: Path) -> str:
    """Hash of every mass and of the images of 64 rows spread over the file."""
    digest = hashlib.sha256()
    with h5py.File(path, "r") as file:
        digest.update(file["log10_m500c"][:].tobytes())
        n = len(file["images"])
        for row in np.linspace(0, n - 1, 64).astype(int):
            digest.update(file["images"][row].tobytes())
    return digest.hexdigest()[:16]


@contextmanager
def dask_cluster(n_workers: int) -> Iterator[None]:
    """A LocalCluster on 127.0.0.1, with joblib's dask backend active inside."""
    from distributed import Client, LocalCluster

    from sk_clustermass.distributed import dask_backend

    with (
        LocalCluster(n_workers=n_workers, threads_per_worker=1, host="127.0.0.1",
                     dashboard_address="127.0.0.1:0") as cluster,
        Client(cluster) as client,
        dask_backend(client, n_workers=n_workers),
    ):
        yield


def writer_ceiling(path: Path, n_rows: int = 10_240, chunk: int = 1024) -> float:
    """Clusters/s of HDF5ClusterWriter appending simulated chunks (default compression)."""
    X, y, catalog = make_clusters(chunk, random_state=1, return_catalog=True, progress=False)
    _, n_bands, height, width = X["images"].shape
    start = time.perf_counter()
    with HDF5ClusterWriter(path, n_bands=n_bands, height=height, width=width) as writer:
        for _ in range(n_rows // chunk):
            writer.append(X, y, catalog)
    rate = n_rows / (time.perf_counter() - start)
    path.unlink()
    return rate


def run_one(path: Path, n: int, n_jobs: int, chunk_size: int, use_dask: bool) -> dict:
    with dask_cluster(n_jobs) if use_dask else nullcontext():
        with PeakRSS() as memory:
            start, cpu_start = time.perf_counter(), time.process_time()
            simulate_to_hdf5(path, n, chunk_size=chunk_size, random_state=0, n_jobs=n_jobs,
                             progress=False)
            seconds = time.perf_counter() - start
            main_cpu_ms = (time.process_time() - cpu_start) / n * 1e3
    result = {"seconds": seconds, "rate": n / seconds, "peak_mib": memory.peak / 2**20,
              "main_cpu_ms": main_cpu_ms,
              "size_mib": path.stat().st_size / 2**20, "hash": fingerprint(path)}
    path.unlink()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="N = 10,000")
    parser.add_argument("--chunk-size", type=int, default=1024)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2],
                        help="joblib n_jobs values to run (default: 1 2)")
    parser.add_argument("--dask", action="store_true",
                        help="also run on a 2-worker dask LocalCluster")
    parser.add_argument("--workdir", default=tempfile.gettempdir())
    args = parser.parse_args()
    if args.quick:
        args.n = 10_000
    folder = Path(tempfile.mkdtemp(prefix="bench_sim_", dir=args.workdir))
    free = shutil.disk_usage(folder).free / 2**30
    print(f"N = {args.n}, chunk_size {args.chunk_size}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}, {free:.0f} GiB free in {folder.parent}")
    variants = [(f"n_jobs={jobs} (joblib)", jobs, False) for jobs in args.jobs]
    if args.dask:
        variants.append(("n_jobs=2 (dask, 2 workers)", 2, True))
    results = {}
    try:
        for name, jobs, use_dask in variants:
            result = run_one(folder / "sim.h5", args.n, jobs, args.chunk_size, use_dask)
            results[name] = result
            print(f"{name:28s} {result['seconds']:7.0f} s {result['rate']:7.0f} clusters/s  "
                  f"main process {result['main_cpu_ms']:.2f} CPU ms/cluster  "
                  f"peak RSS {result['peak_mib']:6.0f} MiB  file {result['size_mib']:6.0f} MiB "
                  f"({result['size_mib'] * 2**20 / args.n / 1e3:.1f} kB/cluster)  "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
        ceiling = writer_ceiling(folder / "writer.h5")
        print(f"writer ceiling (one process writes the file) {ceiling:7.0f} clusters/s")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    first = next(iter(results.values()))
    for name, result in results.items():
        speedup = result["rate"] / first["rate"]
        same = "identical" if result["hash"] == first["hash"] else "DIFFERENT"
        print(f"    {name:28s} speed-up {speedup:5.2f}x over the first, output {same}")


if __name__ == "__main__":  # required: the dask LocalCluster starts worker processes
    main()
