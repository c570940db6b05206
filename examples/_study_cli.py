"""Shared command line of the study scripts (``examples/study_*.py``).

Each script names its study and calls :func:`main`; the options are the same for all.
"""

import argparse
from pathlib import Path

from sk_clustermass.datasets import make_clusters
from sk_clustermass.studies import MODES, STUDIES, run_study


def main(study, argv=None):
    """Parse the options, simulate the clusters and run ``study``; print its table.

    Returns the :class:`~sk_clustermass.studies.StudyResult`, for scripts that print more.
    """
    parser = argparse.ArgumentParser(description=STUDIES[study].description)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick",
                      help="small grid, short training (default)")
    mode.add_argument("--full", dest="mode", action="store_const", const="full",
                      help="the report's grid and epochs (for a GPU)")
    parser.set_defaults(mode="quick")
    parser.add_argument("--n-samples", type=int, help="clusters to simulate "
                        "(default 600 quick, 8000 full)")
    parser.add_argument("--epochs", type=int, help="override the mode's epochs")
    parser.add_argument("--out", type=Path, default=Path("study_results") / study)
    parser.add_argument("--n-jobs", type=int, default=1, help="parallel fits")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    n_samples = args.n_samples or MODES[args.mode].n_samples
    X, y = make_clusters(n_samples, survey="efeds", random_state=args.seed,
                         n_jobs=args.n_jobs)
    result = run_study(study, X, y, mode=args.mode, out_dir=args.out, n_jobs=args.n_jobs,
                       random_state=args.seed, max_epochs=args.epochs,
                       regressor_params={"device": args.device})
    print(result.table.to_string(float_format="{:.3f}".format))
    print(f"\nseed's finding: {STUDIES[study].seed_finding}")
    return result

