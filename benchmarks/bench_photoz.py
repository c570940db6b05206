"""Photometric redshifts: how much the mass moves and the width grows with sigma_z.

Most eRASS1 redshifts are photometric, ``sigma_z / (1 + z)`` of about 0.005-0.02, and
the network reads the redshift as exact. This benchmark takes the shipped ``'efeds'``
model (``LogStretch -> ClusterMassRegressor``) and fresh, seeded clusters of the
preset it was trained on (``efeds_survey``, contaminants left out), and for
``sigma_z / (1 + z)`` = 0.005, 0.01 and 0.02 prints:

- at the true redshifts, with ``X["redshift_err"]`` (``predict`` propagates it by
  Monte Carlo over z: 16 seeded draws, total variance): the mass shift (mean of the
  draws' means minus the exact-z mean; median and rms, dex) and the width growth
  (median ratio of the widths, and the median added width in quadrature, dex);
- with redshifts scattered by ``sigma_z`` (what a photo-z catalogue gives): scatter
  and bias against the true masses and the 68% coverage, first with the redshift
  taken as exact, then with its error propagated.

Run: ``python benchmarks/bench_photoz.py`` (600 clusters, a few minutes on 2 CPU
cores; ``--quick``: 150 clusters, under a minute; ``--device cuda`` for a GPU).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sk_clustermass import as_inputs
from sk_clustermass.datasets import make_clusters
from sk_clustermass.models import load_pretrained, pretrained_info

SEED = 2626
LEVELS = (0.005, 0.01, 0.02)


def with_redshift(X, redshift: np.ndarray, error: np.ndarray | None = None):
    """``X`` at other redshifts, optionally with their 1-sigma errors."""
    return as_inputs(X["images"], redshift, redshift_err=error)


def figures(y: np.ndarray, mean: np.ndarray, std: np.ndarray) -> str:
    residual = mean - y
    coverage = np.mean(np.abs(residual) <= std)
    return (f"scatter {np.std(residual):.4f} dex, bias {np.mean(residual):+.4f} dex, "
            f"68% coverage {coverage:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=None, help="600 (150 with --quick)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--quick", action="store_true", help="150 clusters, smoke run")
    args = parser.parse_args()
    n_samples = args.n_samples or (150 if args.quick else 600)

    start = time.perf_counter()
    population = pretrained_info("efeds")["training_population"]
    X, y = make_clusters(n_samples, survey=population["survey"], random_state=SEED)
    model = load_pretrained("efeds", device=args.device)
    z = np.asarray(X["redshift"], dtype=np.float64)
    exact_mean, exact_std = model.predict(X, return_std=True)
    print(f"{len(y)} detected {population['survey']} clusters (seed {SEED}); the shipped "
          f"'efeds' model; exact redshifts: {figures(y, exact_mean, exact_std)}")
    rng = np.random.default_rng(SEED)
    for level in LEVELS:
        error = level * (1.0 + z)
        mean, std = model.predict(with_redshift(X, z, error), return_std=True)
        shift = mean - exact_mean
        added = np.sqrt(np.maximum(std**2 - exact_std**2, 0.0))
        print(f"sigma_z/(1+z) = {level}: at the true z, mass shift median {np.median(shift):+.4f}"
              f" rms {np.sqrt(np.mean(shift**2)):.4f} dex; width x{np.median(std / exact_std):.3f}"
              f" (median), +{np.median(added):.4f} dex in quadrature")
        photo_z = np.maximum(z + error * rng.standard_normal(len(z)), 1e-3)
        taken_exact = model.predict(with_redshift(X, photo_z), return_std=True)
        propagated = model.predict(with_redshift(X, photo_z, error), return_std=True)
        print(f"    photo-z taken as exact: {figures(y, *taken_exact)}")
        print(f"    photo-z with its error: {figures(y, *propagated)}")
    print(f"run time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
