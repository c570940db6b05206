"""Run every study of the seed lab report, one after the other, on one simulated data set
======================================================================================

Simulates the clusters once, runs each study with :func:`sk_clustermass.studies.run_study`
into ``<out>/<study>/`` and writes ``<out>/all_studies.csv`` (one row per candidate of
every study) and ``<out>/best.csv`` (one row per study: the best candidate, its
cross-validated and held-out scatter, the coverage and the wall time). Interrupted?
Run the same command again: finished fits are loaded from their checkpoints.

    python examples/run_all_studies.py                          # quick: about 1.5 h on 2 CPU cores
    python examples/run_all_studies.py --studies loss redshift
    python examples/run_all_studies.py --mode full --device cuda  # days on a GPU

The options are those of ``sk-clustermass study`` (see ``examples/_study_cli.py``).
"""

import argparse
import time
from pathlib import Path

import pandas as pd
from _study_cli import parse_study_options

from sk_clustermass.datasets import make_clusters
from sk_clustermass.studies import MODES, STUDIES, run_study


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", nargs="+", default=list(STUDIES), choices=list(STUDIES))
    args, params = parse_study_options(None, "study_results", argv, parser)
    out = Path(args.output)
    max_epochs = params.pop("max_epochs", None)
    checkpoint_dir = params.pop("checkpoint_dir", None)

    n_samples = args.simulate or MODES[args.mode].n_samples
    start = time.perf_counter()
    X, y = make_clusters(n_samples, survey=args.survey, random_state=args.random_state,
                         n_jobs=args.n_jobs)
    print(f"simulated {n_samples} clusters in {time.perf_counter() - start:.0f} s")

    tables, best = [], []
    for name in args.studies:
        result = run_study(name, X, y, mode=args.mode, out_dir=out / name, cv=args.cv,
                           n_jobs=args.n_jobs, random_state=args.random_state,
                           max_epochs=max_epochs, checkpoint_dir=checkpoint_dir,
                           regressor_params=params)
        tables.append(result.table.assign(study=name))
        held_out = result.summary["held_out"]
        best.append({"study": name, "best": result.summary["best_label"],
                     "cv_scatter_dex": result.summary["cv_scatter_dex"]["mean"],
                     "held_out_scatter_dex": held_out["scatter_dex"],
                     "held_out_coverage_68": held_out["coverage_68"],
                     "wall_time_s": result.summary["wall_time_s"]})
    out.mkdir(parents=True, exist_ok=True)
    pd.concat(tables).to_csv(out / "all_studies.csv", float_format="%.4g")
    best = pd.DataFrame(best)
    best.to_csv(out / "best.csv", index=False, float_format="%.4g")
    print(best.to_string(index=False, float_format="{:.3f}".format))


if __name__ == "__main__":
    main()
