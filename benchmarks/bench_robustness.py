"""Robustness: train on one simulator configuration, test on others without retraining.

A network learns the simulation it is trained on, including what the simulation gets
wrong about the sky. Ntampaka et al. (2025, arXiv:2510.09748) found a 40% larger
scatter when a network trained on one simulation was tested on another. This script
trains once, on the default configuration of ``make_clusters`` for the chosen survey
preset, a small CNN pipeline (``LogStretch -> ClusterMassRegressor``) and the
count-rate relation, and tests both on clusters simulated with one physical or
instrumental assumption changed at a time:

============================  ===================================================
configuration                 change (``make_clusters`` knob)
============================  ===================================================
in-domain                     none: a fresh draw of the training configuration
L–M scatter 0.15 dex          ``ScalingRelations(sigma_log10_lx=0.15)`` (0.20)
L–M scatter 0.30 dex          ``ScalingRelations(sigma_log10_lx=0.30)``
Malmquist-corrected L–M       ``lm_norm_erg_s=0.83e44, lm_slope=1.62`` (Pratt+09)
no core-radius correlation    ``GasProfile(rc_lx_correlation=0.0)`` (-0.5)
more central AGN              ``AGNPopulation(central_fraction=0.3,
                              central_log10_lx_mean=43.0)`` (10% at 10^42.5)
exposure x0.5, x1.5           the survey's exposures scaled (``dataclasses.replace``)
other gas profile             ``GasProfile(beta_mean=0.6, rc_median_r500=0.25)``
                              (2/3 and 0.15: flatter profiles, larger cores)
lab-style smoothed            the in-domain images Gaussian-smoothed by 1 pixel
                              (``GaussianSmoothing``), as the lab's files were
============================  ===================================================

Every test configuration is simulated with the same seed, so the masses, redshifts
and most random draws are shared and the changes are paired (the detection cut can
still keep different clusters). For each configuration and method it prints the
scatter, bias and 68% coverage on the test clusters and their change from in-domain,
and marks with ``*`` every change of the scatter or of the bias larger than 0.02 dex
and than twice its statistical error (``?``: larger than 0.02 dex but within the
noise; use more test clusters). The starred rows are the systematics to report: the
Markdown table printed at the end goes into ``docs/uncertainties.md``. It also prints the
wall time of each step (to be read on a quiet machine).

Run: ``python benchmarks/bench_robustness.py --survey efeds`` (about 6 minutes on 2
CPU cores with the defaults); ``--quick`` for a smoke run.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import time
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.pipeline import make_pipeline

from sk_clustermass import ClusterMassRegressor
from sk_clustermass.baselines import CountRateRelation
from sk_clustermass.datasets import make_clusters
from sk_clustermass.estimator import demo_parameters
from sk_clustermass.metrics import summary_table
from sk_clustermass.preprocessing import GaussianSmoothing, LogStretch
from sk_clustermass.simulate import (
    AGNPopulation,
    GasProfile,
    ScalingRelations,
    get_survey,
)

#: The demo's network, and its smoke-test version (``--quick``).
NETWORK = demo_parameters()
QUICK_NETWORK = demo_parameters(quick=True)
#: Changes of scatter or bias above this are named systematics (issue 14).
SYSTEMATIC_DEX = 0.02


def scaled_exposure(survey: str, factor: float):
    preset = get_survey(survey)
    return dataclasses.replace(
        preset, exposure_vignetted_s=preset.exposure_vignetted_s * factor,
        exposure_unvignetted_s=preset.exposure_unvignetted_s * factor)


def configurations(survey: str) -> dict[str, dict[str, Any]]:
    """Keyword arguments of ``make_clusters`` for each test configuration."""
    return {
        "in-domain": {},
        "L-M scatter 0.15 dex": {"relations": ScalingRelations(sigma_log10_lx=0.15)},
        "L-M scatter 0.30 dex": {"relations": ScalingRelations(sigma_log10_lx=0.30)},
        "Malmquist-corrected L-M": {
            "relations": ScalingRelations(lm_norm_erg_s=0.83e44, lm_slope=1.62)},
        "no core-radius correlation": {"gas": GasProfile(rc_lx_correlation=0.0)},
        "more central AGN (30%, 1e43)": {
            "agn": AGNPopulation(central_fraction=0.3, central_log10_lx_mean=43.0)},
        "exposure x0.5": {"survey": scaled_exposure(survey, 0.5)},
        "exposure x1.5": {"survey": scaled_exposure(survey, 1.5)},
        "other gas profile": {"gas": GasProfile(beta_mean=0.6, rc_median_r500=0.25)},
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--survey", default="efeds",
                        help="survey preset of make_clusters (e.g. efeds, erass1)")
    parser.add_argument("--sampling", default=None,
                        help="make_clusters sampling ('log-uniform' or 'mass-function')")
    parser.add_argument("--n-train", type=int, default=3000)
    parser.add_argument("--n-test", type=int, default=1000, help="clusters per configuration")
    parser.add_argument("--max-epochs", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", default=None, help="CSV file for the table")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.n_train, args.n_test, args.max_epochs = 300, 100, 2
    return args


def simulate(n: int, seed: int, args: argparse.Namespace, **changes: Any):
    options = {"survey": args.survey, "random_state": seed, "n_jobs": -1}
    if args.sampling is not None:
        options["sampling"] = args.sampling
    return make_clusters(n, **{**options, **changes})


def evaluate(models: dict[str, Any], X, y) -> pd.DataFrame:
    predictions = {name: model.predict(X, return_std=True) for name, model in models.items()}
    return summary_table(y, predictions)[["scatter_dex", "bias_dex", "coverage_68", "n"]]


def robustness_table(rows: list[pd.DataFrame]) -> pd.DataFrame:
    """Stack per-configuration tables; add the changes from in-domain and the flags."""
    table = pd.concat(rows, ignore_index=True)
    reference = table[table["configuration"] == "in-domain"].set_index("method")
    for column in ("scatter_dex", "bias_dex", "coverage_68"):
        table[f"d_{column}"] = table[column] - table["method"].map(reference[column])
    table["relative_scatter"] = table["scatter_dex"] / table["method"].map(
        reference["scatter_dex"]) - 1.0
    # statistical errors of the changes, unpaired (conservative): scatter / sqrt(2n) for
    # a scatter and scatter / sqrt(n) for a bias, for each of the two sets
    reference_error = table["method"].map(reference["scatter_dex"] / reference["n"] ** 0.5)
    error = table["scatter_dex"] / table["n"] ** 0.5
    table["d_scatter_err"] = ((error**2 + reference_error**2) / 2.0) ** 0.5
    table["d_bias_err"] = (error**2 + reference_error**2) ** 0.5
    large = ((table["d_scatter_dex"].abs() > SYSTEMATIC_DEX)
             | (table["d_bias_dex"].abs() > SYSTEMATIC_DEX))
    significant = ((table["d_scatter_dex"].abs() > 2 * table["d_scatter_err"])
                   | (table["d_bias_dex"].abs() > 2 * table["d_bias_err"]))
    table["systematic"] = large & significant
    table["flag"] = np.where(table["systematic"], "*", np.where(large, "?", ""))
    return table


def markdown_budget(table: pd.DataFrame, method: str = "CNN") -> str:
    """The systematics budget of one method as a Markdown table (for docs)."""
    lines = ["| configuration | scatter (dex) | change | change (%) | bias (dex) | change | "
             "68% coverage | systematic |",
             "|---|---|---|---|---|---|---|---|"]
    verdicts = {"*": "yes", "?": "within noise", "": ""}
    for row in table[table["method"] == method].itertuples(index=False):
        lines.append(
            f"| {row.configuration} | {row.scatter_dex:.3f} | {row.d_scatter_dex:+.3f} "
            f"± {row.d_scatter_err:.3f} | {100 * row.relative_scatter:+.0f} | "
            f"{row.bias_dex:+.3f} | {row.d_bias_dex:+.3f} ± {row.d_bias_err:.3f} | "
            f"{row.coverage_68:.2f} | {verdicts[row.flag]} |")
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    start = time.perf_counter()
    timings: dict[str, float] = {}
    tick = time.perf_counter()
    X_train, y_train = simulate(args.n_train, args.seed, args)
    timings["simulate training set"] = time.perf_counter() - tick
    network = dict(QUICK_NETWORK if args.quick else NETWORK, max_epochs=args.max_epochs,
                   device=args.device, random_state=0)
    tick = time.perf_counter()
    models = {"CNN": make_pipeline(LogStretch(), ClusterMassRegressor(**network)),
              "count-rate relation": CountRateRelation()}
    for model in models.values():
        model.fit(X_train, y_train)
    timings["train"] = time.perf_counter() - tick
    rows = []
    tick = time.perf_counter()
    in_domain = None
    for name, changes in configurations(args.survey).items():
        X, y = simulate(args.n_test, args.seed + 1, args, **changes)
        if name == "in-domain":
            in_domain = (X, y)
        rows.append(evaluate(models, X, y).rename_axis("method").reset_index()
                    .assign(configuration=name))
    X, y = in_domain
    smoothed = GaussianSmoothing(sigma_pixels=1.0).fit_transform(X)
    rows.append(evaluate(models, smoothed, y).rename_axis("method").reset_index()
                .assign(configuration="lab-style smoothed"))
    timings["simulate and test the configurations"] = time.perf_counter() - tick
    table = robustness_table(rows)

    print(f"robustness benchmark: trained on the default {args.survey!r} configuration "
          f"(sampling {args.sampling or 'default'}), {args.n_train} training clusters, "
          f"{args.max_epochs} epochs; {args.n_test} test clusters per configuration; "
          f"seed {args.seed}")
    print(f"{platform.platform()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, device {args.device}\n")
    columns = ["configuration", "method", "n", "scatter_dex", "d_scatter_dex", "d_scatter_err",
               "relative_scatter", "bias_dex", "d_bias_dex", "d_bias_err", "coverage_68",
               "d_coverage_68", "flag"]
    print(table[columns].to_string(index=False, float_format=lambda v: f"{v:+.3f}"))
    print(f"\n* : change of scatter or bias above {SYSTEMATIC_DEX} dex and above twice its "
          "statistical error: a named systematic. ? : above 0.02 dex but within the noise.")
    for method in table["method"].unique():
        print(f"\nsystematics budget, {method} (Markdown, for docs/uncertainties.md):")
        print(markdown_budget(table, method))
    if args.out:
        table.to_csv(args.out, index=False, float_format="%.6g")
    timings["total"] = time.perf_counter() - start
    print("\nwall time: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))


if __name__ == "__main__":
    main()
