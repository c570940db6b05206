"""Cost per returned cluster of the efeds_survey preset: this checkout against another.

The survey issue asks that the calibrated preset cost at most 1.5 times what the preset
cost before it. This script times ``make_clusters(n, survey='efeds_survey')`` (images
included, one job, one thread) in fresh processes, alternating between this checkout
and another one (``--against``: a folder holding an older ``sk_clustermass``, e.g. a
``git worktree`` of the commit before the recalibration), and prints the CPU time per
returned cluster of each (median of the rounds) and their ratio.

    git worktree add /tmp/before a4855a2
    OMP_NUM_THREADS=1 python benchmarks/bench_simulation_versions.py --against /tmp/before

Run it on a quiet machine: the ratio is what counts, and the rounds are interleaved so
that slow drifts of the machine cancel.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

_SNIPPET = """
import json, time
from sk_clustermass.datasets import make_clusters
make_clusters(64, survey="efeds_survey", random_state=1)  # imports and caches
start = time.process_time()
X, y = make_clusters({n}, survey="efeds_survey", random_state={seed})
print(json.dumps({{"cpu_s": time.process_time() - start, "returned": len(y)}}))
"""


def time_once(checkout: Path, n: int, seed: int) -> dict:
    """CPU seconds and returned clusters of one run in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(checkout), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", _SNIPPET.format(n=n, seed=seed)],
                          env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--against", type=Path, required=True,
                        help="folder of the other checkout (its sk_clustermass is imported)")
    parser.add_argument("--n", type=int, default=2000, help="clusters asked for per run")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    if not (args.against / "sk_clustermass").is_dir():
        parser.error(f"{args.against} holds no sk_clustermass package")
    per_cluster: dict[str, list[float]] = {"this": [], "other": []}
    for round_ in range(args.rounds):
        for name, checkout in (("this", ROOT), ("other", args.against)):
            run = time_once(checkout, args.n, seed=100 + round_)
            per_cluster[name].append(1e3 * run["cpu_s"] / run["returned"])
    this, other = (float(np.median(per_cluster[k])) for k in ("this", "other"))
    print(f"make_clusters({args.n}, survey='efeds_survey'), 1 job, 1 thread, CPU per "
          f"returned cluster, median of {args.rounds} interleaved rounds")
    print(f"  this checkout ({ROOT}): {this:.2f} ms")
    print(f"  other ({args.against}): {other:.2f} ms")
    print(f"  ratio this / other: {this / other:.2f}")


if __name__ == "__main__":
    main()
