"""A 2-job grid search against its fits run one after another, on the same cores.

``GridSearchCV(ClusterMassRegressor(...), grid, n_jobs=2)`` runs two fits at once. On a
machine with few cores that only pays if the two fits share the cores instead of each
asking for all of them: joblib's default (loky) backend starts its workers with
``cores // n_jobs`` threads, and ``ClusterMassRegressor(n_threads=k)`` sets the count
for the other backends. This script times, in one run and interleaved:

- ``sequential``: ``n_jobs=1``, the fits one after another, each with all the threads
  torch has here;
- ``loky, 2 jobs``: ``n_jobs=2`` with joblib's default backend (each fit gets
  ``cores // 2`` threads, as every fit reports through its ``n_threads_``);
- ``threads, 2 jobs, n_threads=cores//2``: ``n_jobs=2`` in joblib's threading backend;
- ``loky, 2 jobs, n_threads=cores`` (oversubscribed): each fit asks for every core,
  what happens without the thread limit (once, last).

The grid has two candidates and one split, so every search is two fits (no refit).
The loky workers are started once before the timed rounds (their start-up, printed
first, is paid once per session). It prints the seconds of every search, the threads
each fit used, and the ratio sequential / parallel (above 1: the parallel search is
faster). Run: ``python benchmarks/bench_sweep.py`` (about 2 minutes on 2 idle cores),
``--quick`` for a smoke run. On shared machines also try ``OMP_WAIT_POLICY=PASSIVE``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import joblib
from sklearn.model_selection import GridSearchCV, ShuffleSplit

sys.path.insert(0, str(Path(__file__).parent))

from bench_training import make_data

from sk_clustermass import ClusterMassRegressor, as_inputs
from sk_clustermass._utils import threads_per_job, usable_cores


def threads_used(estimator, X, y) -> float:
    """A 'score' that reports the torch threads the fit ran with."""
    return float(estimator.n_threads_)


def search(X, y, epochs: int, n_jobs: int, backend: str = "loky",
           n_threads: int | None = None) -> tuple[float, list[int]]:
    """Seconds of one 2-fit grid search, and the threads of its fits."""
    model = ClusterMassRegressor(max_epochs=epochs, patience=None, validation_fraction=0.0,
                                 n_threads=n_threads, random_state=0)
    grid = GridSearchCV(model, {"lr": [1e-3, 3e-4]}, n_jobs=n_jobs, refit=False,
                        cv=ShuffleSplit(n_splits=1, test_size=0.25, random_state=0),
                        scoring={"r2": "r2", "threads": threads_used})
    start = time.perf_counter()
    with joblib.parallel_config(backend=backend):
        grid.fit(X, y)
    seconds = time.perf_counter() - start
    return seconds, [int(t) for t in grid.cv_results_["mean_test_threads"]]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-samples", type=int, default=2048)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved timed rounds")
    parser.add_argument("--quick", action="store_true", help="512 clusters, 1 round")
    args = parser.parse_args(argv)
    if args.quick:
        args.n_samples, args.epochs, args.rounds = 512, 2, 1
    cores = usable_cores()
    images, redshift, y = make_data(args.n_samples)
    X = as_inputs(images, redshift, counts=False)
    print(f"{cores} cores, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}, "
          f"{args.n_samples} clusters, {args.epochs} epochs per fit, 2 fits per search",
          flush=True)
    seconds, _ = search(X, y, 1, n_jobs=2)
    print(f"loky workers started (first 2-job search, 1 epoch): {seconds:.1f} s", flush=True)
    variants = {
        "sequential (n_jobs=1)": dict(n_jobs=1),
        "loky, 2 jobs": dict(n_jobs=2),
        f"threads, 2 jobs, n_threads={threads_per_job(2, cores)}":
            dict(n_jobs=2, backend="threading", n_threads=threads_per_job(2, cores)),
    }
    times = {name: [] for name in variants}
    threads = {}
    for round_ in range(args.rounds):
        names = list(variants) if round_ % 2 == 0 else list(variants)[::-1]
        for name in names:
            seconds, threads[name] = search(X, y, args.epochs, **variants[name])
            times[name].append(seconds)
            print(f"  {name}: {seconds:.1f} s (threads per fit {threads[name]})", flush=True)
    name = f"loky, 2 jobs, n_threads={cores} (oversubscribed)"
    seconds, threads[name] = search(X, y, args.epochs, n_jobs=2, n_threads=cores)
    times[name] = [seconds]
    print(f"  {name}: {seconds:.1f} s (threads per fit {threads[name]})", flush=True)
    base = times["sequential (n_jobs=1)"]
    print(f"\n{'search':<44}{'seconds':>9}{'sequential / this':>19}  threads per fit")
    for name, values in times.items():
        ratios = [b / v for b, v in zip(base, values)] if len(values) == len(base) else [
            statistics.median(base) / values[0]]
        print(f"{name:<44}{statistics.median(values):9.1f}"
              f"{statistics.median(ratios):18.2f}x  {threads[name]}")


if __name__ == "__main__":
    main()
