"""A grid search of a pipeline on a dask cluster, through joblib's dask backend
============================================================================

The same ``GridSearchCV`` that runs on one machine runs on a dask.distributed cluster:
only the joblib backend changes. Each candidate/fold fit is one task on one worker.

Run it against a cluster that is already running::

    dask scheduler --scheduler-file sched.json &                  # anywhere
    dask worker --scheduler-file sched.json --nthreads 1 &        # one per GPU/core share
    python examples/distributed_sweep.py --scheduler-file sched.json
    python examples/distributed_sweep.py --scheduler tcp://10.0.0.1:8786

or let the script start a cluster of N local worker processes, bound to 127.0.0.1::

    python examples/distributed_sweep.py --local 2

Workers and threads
-------------------
- Start workers with ``--nthreads 1``: one fit at a time per worker process. A fit
  parallelises inside torch; two fits in one process would fight for its threads.
- Torch threads per worker: dask's nanny starts workers with ``OMP_NUM_THREADS=1``,
  so torch uses one thread unless told otherwise. ``--torch-threads`` registers
  :class:`sk_clustermass.distributed.TorchThreads`, which sets the count on every
  worker, also on workers that join later. On a CPU node, give each worker
  (cores per node) / (workers per node); on a GPU worker 1-2 threads are enough.
- One worker per GPU: start one ``dask worker`` per GPU, each seeing only its GPU,
  and pass ``--device cuda``::

      CUDA_VISIBLE_DEVICES=0 dask worker --scheduler-file sched.json --nthreads 1 &
      CUDA_VISIBLE_DEVICES=1 dask worker --scheduler-file sched.json --nthreads 1 &

  (With ``--local N --device cuda`` the script does this itself: worker i sees GPU i.)
  Every worker then trains on "its" ``cuda:0``. With dask-jobqueue on SLURM, use one
  job per GPU, or ``processes=<GPUs per node>`` and a per-worker
  ``CUDA_VISIBLE_DEVICES`` (see docs/scaling.md).

The scheduler and every worker must be able to import sk_clustermass, torch and any
module the estimator uses: the script checks that first (``preflight``), because the
joblib dask backend otherwise hangs without an error. ``X`` and ``y`` are scattered
to the workers once, not shipped with every task.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline

from sk_clustermass import ClusterMassRegressor
from sk_clustermass.datasets import make_clusters
from sk_clustermass.distributed import TorchThreads, dask_backend
from sk_clustermass.preprocessing import LogStretch

# sphinx_gallery_thumbnail_path = "_static/gallery/distributed_sweep.png"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--scheduler", metavar="ADDRESS", help="e.g. tcp://10.0.0.1:8786")
    where.add_argument("--scheduler-file", metavar="PATH", help="written by dask scheduler")
    where.add_argument("--local", type=int, metavar="N", help="start N local workers")
    parser.add_argument("--nworkers", type=int, default=None,
                        help="workers to wait for (default: --local N, else 1)")
    parser.add_argument("--torch-threads", type=int, default=1, help="per worker")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    parser.add_argument("--n-samples", type=int, default=600, help="simulated clusters")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds to wait for workers (queued batch jobs may be slow)")
    return parser.parse_args()


def local_cluster(n_workers: int, device: str):
    """N single-thread worker processes on 127.0.0.1; worker i sees GPU i with cuda."""
    from distributed import LocalCluster, Nanny, Scheduler, SpecCluster

    if device != "cuda":
        return LocalCluster(n_workers=n_workers, threads_per_worker=1, host="127.0.0.1",
                            dashboard_address="127.0.0.1:0")
    workers = {
        i: {"cls": Nanny, "options": {"nthreads": 1, "host": "127.0.0.1",
                                      "env": {"CUDA_VISIBLE_DEVICES": str(i)}}}
        for i in range(n_workers)
    }
    scheduler = {"cls": Scheduler, "options": {"host": "127.0.0.1",
                                                "dashboard_address": "127.0.0.1:0"}}
    return SpecCluster(workers=workers, scheduler=scheduler)


def search(args: argparse.Namespace) -> GridSearchCV:
    regressor = ClusterMassRegressor(
        n_filters=8, dense_layers=(64, 32), max_epochs=args.epochs, patience=None,
        device=args.device, random_state=0,
    )
    grid = {
        "logstretch__method": ["log1p", "asinh"],
        "clustermassregressor__lr": [3e-4, 1e-3],
    }
    return GridSearchCV(make_pipeline(LogStretch(), regressor), grid,
                        cv=KFold(3, shuffle=True, random_state=0), n_jobs=-1,
                        scoring="neg_root_mean_squared_error")


def main() -> None:
    args = parse_args()
    from distributed import Client

    X, y = make_clusters(args.n_samples, random_state=0, progress=False)
    cluster = local_cluster(args.local, args.device) if args.local else None
    if cluster is not None:
        client = Client(cluster)
    elif args.scheduler_file:
        client = Client(scheduler_file=args.scheduler_file)
    else:
        client = Client(args.scheduler)
    n_workers = args.nworkers or args.local or 1
    print(f"dashboard: {client.dashboard_link}")
    try:
        # Register before any task runs torch: see TorchThreads' notes.
        client.register_plugin(TorchThreads(args.torch_threads))
        gs = search(args)
        start = time.perf_counter()
        with dask_backend(client, scatter=[X, y], estimator=gs, n_workers=n_workers,
                          timeout=args.timeout):
            gs.fit(X, y)
        elapsed = time.perf_counter() - start
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    n_fits = len(gs.cv_results_["params"]) * gs.n_splits_
    print(f"{n_fits} fits on {n_workers} worker(s) in {elapsed:.0f} s")
    columns = ["params", "mean_test_score", "std_test_score", "mean_fit_time",
               "rank_test_score"]
    with pd.option_context("display.width", 120, "display.max_colwidth", 70):
        print(pd.DataFrame(gs.cv_results_)[columns].to_string(index=False))
    print(f"best: {gs.best_params_}, RMSE {-gs.best_score_:.3f} dex "
          f"(std of y: {np.std(y):.3f} dex)")


if __name__ == "__main__":  # required: LocalCluster starts worker processes
    main()
