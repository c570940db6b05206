"""Study: Convolution kernel size (seed lab report, section 4.2).

Sweeps ``kernel_size`` (1, 3, ..., 17 full; 1, 3, 5, 9 quick) at 10 filters.
Kernels of 5 px and more use ``padding='same'``: with 'valid' padding the
feature map of a 50x50 image would collapse before the last pooling.

Writes ``cv_results.csv``, ``summary.json`` and the figures (loss curves of the best
model, predicted vs true masses on held-out clusters, scatter vs the swept
parameter) to ``--out``. Rerunning with the same ``--out`` skips finished fits.

    python examples/study_kernel_size.py --quick            # minutes on a 2-core CPU
    python examples/study_kernel_size.py --full --device cuda
"""

import argparse
from pathlib import Path

from sk_clustermass.datasets import make_clusters
from sk_clustermass.studies import MODES, STUDIES, run_study

STUDY = "kernel_size"


def main(argv=None):
    parser = argparse.ArgumentParser(description=STUDIES[STUDY].description)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick",
                      help="small grid, short training (default)")
    mode.add_argument("--full", dest="mode", action="store_const", const="full",
                      help="the report's grid and epochs (for a GPU)")
    parser.set_defaults(mode="quick")
    parser.add_argument("--n-samples", type=int, help="clusters to simulate "
                        "(default 600 quick, 8000 full)")
    parser.add_argument("--epochs", type=int, help="override the mode's epochs")
    parser.add_argument("--out", type=Path, default=Path("study_results") / STUDY)
    parser.add_argument("--n-jobs", type=int, default=1, help="parallel fits")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    n_samples = args.n_samples or MODES[args.mode].n_samples
    X, y = make_clusters(n_samples, survey="efeds", random_state=args.seed,
                         n_jobs=args.n_jobs)
    result = run_study(STUDY, X, y, mode=args.mode, out_dir=args.out, n_jobs=args.n_jobs,
                       random_state=args.seed, max_epochs=args.epochs,
                       regressor_params={"device": args.device})
    print(result.table.to_string(float_format="{:.3f}".format))
    print(f"\nseed's finding: {STUDIES[STUDY].seed_finding}")


if __name__ == "__main__":
    main()
