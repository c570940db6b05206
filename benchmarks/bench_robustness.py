"""Robustness: train on one simulator configuration, test on others without retraining.

A network learns the simulation it is trained on, including what the simulation gets
wrong about the sky. Ntampaka et al. (2025, arXiv:2510.09748) found a 40% larger
scatter when a network trained on one simulation was tested on another. This script
trains once, on the default configuration of ``make_clusters`` for the chosen survey
(a survey preset such as ``efeds_survey``, or a lab population such as ``efeds``), a
small CNN pipeline (``LogStretch -> ClusterMassRegressor``) and the count-rate
relation, and tests both on clusters simulated with one physical or instrumental
assumption changed at a time. Every change is made to the survey's own default (the
preset's relations, morphology and selection stay as they are otherwise):

==================================  ===================================================
configuration                       change (``make_clusters`` knob)
==================================  ===================================================
in-domain                           none: a fresh draw of the training configuration
L-M normalisation +0.1 / -0.1 dex   ``relations.lm_norm_erg_s`` x 10^(+-0.1)
group L-M slope +0.3 / -0.3         ``relations.lm_slope_groups`` +-0.3 below
                                    ``lm_break_msun`` (presets: 1.66 -> 1.96 / 1.36,
                                    Lovisari et al. 2015; lab: 1.53 -> 1.83 / 1.23)
cosmology Planck 2018               ``cosmology=Planck18`` (astropy: H0 67.66, Omega_m
                                    0.310) and ``LinearPowerSpectrum(omega_b=0.049,
                                    sigma8=0.8102, n_s=0.9665)`` (Planck 2018 VI)
cosmology eRASS1                    Omega_m 0.29, sigma8 0.88 (S8 0.86; Ghirardini et
                                    al. 2024, A&A 689, A298), H0 = 70 as trained
optical centre (presets only)       ``centre_on='optical'``: cut-outs centred on an
                                    optical centre offset from the X-ray position by
                                    76 kpc on average (Seppi et al. 2023)
L-M scatter 0.15 / 0.30 dex (lab)   ``relations.sigma_log10_lx`` (0.20)
ambient L-M scatter 0.16 (presets)  ``morphology.sigma_log10_lx_ce`` (0.08 dex)
Malmquist-corrected L-M (lab)       ``lm_norm_erg_s=0.83e44, lm_slope=1.62`` (Pratt+09)
no core-radius correlation (lab)    ``GasProfile(rc_lx_correlation=0.0)`` (-0.5)
more central AGN                    ``AGNPopulation(central_fraction=0.3,
                                    central_log10_lx_mean=43.0)`` (10% at 10^42.5)
exposure x0.5, x1.5                 the survey's exposures scaled (``dataclasses.replace``)
other gas profile                   ``GasProfile(beta_mean=0.6)`` and core radii x5/3
                                    (lab ``rc_median_r500`` 0.25, presets
                                    ``morphology.rc_median_r500``): flatter, larger cores
lab-style smoothed                  the in-domain images Gaussian-smoothed by 1 pixel
                                    (``GaussianSmoothing``), as the lab's files were
==================================  ===================================================

Every test configuration is simulated with the same seed, so the random draws are
shared and most changes are paired (the detection cut can still keep different
clusters; a changed cosmology draws other masses). For each configuration and method
it prints the scatter, bias and 68% coverage on the test clusters and their change from
in-domain, and marks with ``*`` every change of the scatter or of the bias larger than
0.02 dex and than twice its statistical error (``?``: larger than 0.02 dex but within
the noise; use more test clusters). It then prints the change of the bias in bins of
true log10 M500c (13-13.5, 13.5-14, 14-14.5, 14.5-15), marked ``*`` above 0.03 dex and
twice its error. The Markdown tables printed at the end go into
``docs/uncertainties.md``; ``--update-docs docs/uncertainties.md`` writes them there
itself, under the ``<!-- robustness-table: ... -->`` and ``<!-- robustness-bins: ...
-->`` markers. It also prints the wall time of each step.

Run: ``python benchmarks/bench_robustness.py --survey efeds_survey`` (a few minutes on
2 CPU cores with the defaults); ``--quick`` for a smoke run.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import os
import platform
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from astropy.cosmology import FlatLambdaCDM, Planck18
from sklearn.pipeline import make_pipeline

from sk_clustermass import ClusterMassRegressor
from sk_clustermass.baselines import CountRateRelation
from sk_clustermass.datasets import make_clusters
from sk_clustermass.estimator import demo_parameters
from sk_clustermass.metrics import summary_table
from sk_clustermass.preprocessing import GaussianSmoothing, LogStretch
from sk_clustermass.simulate import (
    DEFAULT_COSMOLOGY,
    AGNPopulation,
    GasProfile,
    LinearPowerSpectrum,
    ScalingRelations,
    get_preset,
    get_survey,
)

#: The demo's network, and its smoke-test version (``--quick``).
NETWORK = demo_parameters()
QUICK_NETWORK = demo_parameters(quick=True)
#: Changes of scatter or bias above this are named systematics (issue 14).
SYSTEMATIC_DEX = 0.02
#: Changes of the bias in a bin of true mass above this are named (issue 26).
SYSTEMATIC_BIN_DEX = 0.03
#: Bins of true log10(M500c / Msun) for the per-bin bias shifts.
MASS_BINS = (13.0, 13.5, 14.0, 14.5, 15.0)

#: Planck 2018 (Planck Collaboration VI 2020, TT,TE,EE+lowE+lensing+BAO), as astropy
#: ships it; sigma8 and n_s from its metadata.
PLANCK18_SPECTRUM = LinearPowerSpectrum(omega_b=float(Planck18.Ob0),
                                        sigma8=float(Planck18.meta["sigma8"]),
                                        n_s=float(Planck18.meta["n"]))
#: eRASS1 cluster abundances (Ghirardini et al. 2024, A&A 689, A298, arXiv:2402.08458):
#: Omega_m = 0.29 +0.01 -0.02, sigma8 = 0.88 +- 0.02 (S8 = 0.86 +- 0.01). H0 is not
#: constrained by the counts: the simulator's 70 km/s/Mpc is kept, so this row changes
#: Omega_m and sigma8 only.
ERASS1_COSMOLOGY = FlatLambdaCDM(H0=DEFAULT_COSMOLOGY.H0, Om0=0.29,
                                 name="eRASS1 (Ghirardini+24)")
ERASS1_SPECTRUM = LinearPowerSpectrum(sigma8=0.88)


def survey_options(survey: str, factor: float) -> dict[str, Any]:
    """``make_clusters`` keywords for the survey with its exposures scaled by ``factor``.

    A preset is spelt out field by field (its depth replaced), so that only the
    exposure changes.
    """
    preset = get_preset(survey)
    depth = get_survey(survey) if preset is None else preset.survey
    scaled = dataclasses.replace(
        depth, exposure_vignetted_s=depth.exposure_vignetted_s * factor,
        exposure_unvignetted_s=depth.exposure_unvignetted_s * factor)
    if preset is None:
        return {"survey": scaled}
    fields = ("sampling", "mass_range", "redshift_range", "relations", "morphology",
              "selection", "centre_on", "exposure_gradient")
    return {"survey": scaled, **{name: getattr(preset, name) for name in fields}}


def _relations(base: ScalingRelations, **changes: Any) -> dict[str, ScalingRelations]:
    return {"relations": dataclasses.replace(base, **changes)}


def configurations(survey: str) -> dict[str, dict[str, Any]]:
    """Keyword arguments of ``make_clusters`` for each test configuration."""
    preset = get_preset(survey)
    base = ScalingRelations() if preset is None else preset.relations
    group_slope = base.lm_slope if base.lm_slope_groups is None else base.lm_slope_groups
    config: dict[str, dict[str, Any]] = {
        "in-domain": {},
        "L-M normalisation +0.1 dex": _relations(base, lm_norm_erg_s=base.lm_norm_erg_s
                                                 * 10**0.1),
        "L-M normalisation -0.1 dex": _relations(base, lm_norm_erg_s=base.lm_norm_erg_s
                                                 * 10**-0.1),
        f"group L-M slope {group_slope + 0.3:.2f} (+0.3)": _relations(
            base, lm_slope_groups=group_slope + 0.3),
        f"group L-M slope {group_slope - 0.3:.2f} (-0.3)": _relations(
            base, lm_slope_groups=group_slope - 0.3),
        "cosmology Planck 2018": {"cosmology": Planck18, "power_spectrum": PLANCK18_SPECTRUM},
        "cosmology eRASS1 (Om 0.29, s8 0.88)": {"cosmology": ERASS1_COSMOLOGY,
                                                "power_spectrum": ERASS1_SPECTRUM},
    }
    if preset is None:
        config.update({
            "L-M scatter 0.15 dex": _relations(base, sigma_log10_lx=0.15),
            "L-M scatter 0.30 dex": _relations(base, sigma_log10_lx=0.30),
            "Malmquist-corrected L-M": _relations(base, lm_norm_erg_s=0.83e44,
                                                  lm_slope=1.62),
            "no core-radius correlation": {"gas": GasProfile(rc_lx_correlation=0.0)},
            "other gas profile": {"gas": GasProfile(beta_mean=0.6, rc_median_r500=0.25)},
        })
    else:
        morphology = preset.morphology
        config.update({
            "optical centre (mean 76 kpc)": {"centre_on": "optical"},
            "ambient L-M scatter 0.16 dex": {"morphology": dataclasses.replace(
                morphology, sigma_log10_lx_ce=2 * morphology.sigma_log10_lx_ce)},
            "other gas profile": {
                "gas": GasProfile(beta_mean=0.6),
                "morphology": dataclasses.replace(morphology, rc_median_r500=tuple(
                    r * 5.0 / 3.0 for r in morphology.rc_median_r500))},
        })
    config.update({
        "more central AGN (30%, 1e43)": {
            "agn": AGNPopulation(central_fraction=0.3, central_log10_lx_mean=43.0)},
        "exposure x0.5": survey_options(survey, 0.5),
        "exposure x1.5": survey_options(survey, 1.5),
    })
    return config


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--survey", default="efeds_survey",
                        help="survey preset or lab population of make_clusters "
                             "(e.g. efeds_survey, erass1_survey, efeds)")
    parser.add_argument("--sampling", default=None,
                        help="make_clusters sampling ('log-uniform' or 'mass-function')")
    parser.add_argument("--n-train", type=int, default=3000)
    parser.add_argument("--n-test", type=int, default=1000, help="clusters per configuration")
    parser.add_argument("--max-epochs", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", default=None,
                        help="CSV file for the table (the per-bin table goes next to it, "
                             "with '_by_true_mass' added to the name)")
    parser.add_argument("--update-docs", default=None,
                        help="Markdown file whose marked tables to rewrite "
                             "(docs/uncertainties.md)")
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


def evaluate(predictions: dict[str, Any], y) -> pd.DataFrame:
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


def bias_by_true_mass(y: np.ndarray, predictions: dict[str, Any]) -> pd.DataFrame:
    """Bias, its error (scatter / sqrt(n)) and count per method and bin of true mass."""
    rows = []
    index = np.digitize(y, MASS_BINS)
    for method, (mean, _std) in predictions.items():
        residual = np.asarray(mean, dtype=np.float64) - y
        for k, (low, high) in enumerate(itertools.pairwise(MASS_BINS), start=1):
            inside = residual[index == k]
            n = len(inside)
            rows.append({"method": method, "bin": f"{low:g}-{high:g}", "n": n,
                         "bias_dex": inside.mean() if n else np.nan,
                         "bias_err": inside.std() / np.sqrt(n) if n > 1 else np.nan})
    return pd.DataFrame(rows)


def bin_shift_table(rows: list[pd.DataFrame]) -> pd.DataFrame:
    """Per-bin bias changes from in-domain, with unpaired errors and flags."""
    table = pd.concat(rows, ignore_index=True)
    reference = table[table["configuration"] == "in-domain"].set_index(["method", "bin"])
    key = pd.MultiIndex.from_frame(table[["method", "bin"]])
    table["d_bias_dex"] = table["bias_dex"].to_numpy() - reference["bias_dex"].reindex(
        key).to_numpy()
    table["d_bias_err"] = np.hypot(table["bias_err"].to_numpy(),
                                   reference["bias_err"].reindex(key).to_numpy())
    large = table["d_bias_dex"].abs() > SYSTEMATIC_BIN_DEX
    significant = table["d_bias_dex"].abs() > 2 * table["d_bias_err"]
    table["flag"] = np.where(large & significant, "*", np.where(large, "?", ""))
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


def markdown_bins(table: pd.DataFrame, method: str = "CNN") -> str:
    """Per-bin bias changes of one method as a Markdown table; bold above 0.03 dex."""
    part = table[table["method"] == method]
    bins = list(dict.fromkeys(part["bin"]))
    header = " | ".join(f"{b} (n)" for b in bins)
    lines = [f"| configuration | {header} |", "|---|" + "---|" * len(bins)]
    for configuration, rows in part.groupby("configuration", sort=False):
        cells = []
        for row in rows.itertuples(index=False):
            if configuration == "in-domain":
                text = f"bias {row.bias_dex:+.3f} ± {row.bias_err:.3f}"
            else:
                text = f"{row.d_bias_dex:+.3f} ± {row.d_bias_err:.3f}"
                text = f"**{text}**" if row.flag == "*" else text + (
                    " ?" if row.flag == "?" else "")
            cells.append(f"{text} ({row.n})")
        lines.append(f"| {configuration} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def update_docs(path: Path, tables: dict[str, str]) -> None:
    """Replace the Markdown table after each ``<!-- KEY -->`` marker of ``path``."""
    text = path.read_text()
    for key, table in tables.items():
        pattern = re.compile(rf"(<!-- {re.escape(key)} -->\n)(?:\|[^\n]*\n)*")
        if not pattern.search(text):
            message = f"{path} has no marker '<!-- {key} -->' followed by a table"
            raise ValueError(message)
        text = pattern.sub(lambda match, t=table: match.group(1) + t + "\n", text, count=1)
    path.write_text(text)


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
    del X_train
    epochs = len(models["CNN"][-1].history_)
    timings["train"] = time.perf_counter() - tick
    rows, bin_rows = [], []
    tick = time.perf_counter()

    def test(name: str, X, y) -> None:
        predictions = {method: model.predict(X, return_std=True)
                       for method, model in models.items()}
        rows.append(evaluate(predictions, y).rename_axis("method").reset_index()
                    .assign(configuration=name))
        bin_rows.append(bias_by_true_mass(y, predictions).assign(configuration=name))

    for name, changes in configurations(args.survey).items():
        X, y = simulate(args.n_test, args.seed + 1, args, **changes)
        test(name, X, y)
        if name == "in-domain":
            smoothed = GaussianSmoothing(sigma_pixels=1.0).fit_transform(X)
            test("lab-style smoothed", smoothed, y)
            del smoothed
    timings["simulate and test the configurations"] = time.perf_counter() - tick
    table = robustness_table(rows)
    bins = bin_shift_table(bin_rows)

    print(f"robustness benchmark: trained on the default {args.survey!r} configuration "
          f"(sampling {args.sampling or 'default'}), {args.n_train} training clusters, "
          f"{epochs} of at most {args.max_epochs} epochs; {args.n_test} test clusters per "
          f"configuration; seed {args.seed}")
    print(f"{platform.platform()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, device {args.device}\n")
    columns = ["configuration", "method", "n", "scatter_dex", "d_scatter_dex", "d_scatter_err",
               "relative_scatter", "bias_dex", "d_bias_dex", "d_bias_err", "coverage_68",
               "d_coverage_68", "flag"]
    print(table[columns].to_string(index=False, float_format=lambda v: f"{v:+.3f}"))
    print(f"\n* : change of scatter or bias above {SYSTEMATIC_DEX} dex and above twice its "
          f"statistical error: a named systematic. ? : above {SYSTEMATIC_DEX} dex but within "
          "the noise.")
    print("\nchange of the bias from in-domain per bin of true log10 M500c (unpaired errors):")
    bin_columns = ["configuration", "method", "bin", "n", "bias_dex", "d_bias_dex",
                   "d_bias_err", "flag"]
    print(bins[bin_columns].to_string(index=False, float_format=lambda v: f"{v:+.3f}"))
    print(f"\n* : above {SYSTEMATIC_BIN_DEX} dex and twice its error; ? : above "
          f"{SYSTEMATIC_BIN_DEX} dex but within the noise.")
    tables = {}
    for method in table["method"].unique():
        tables[f"robustness-table: {method}"] = markdown_budget(table, method)
        tables[f"robustness-bins: {method}"] = markdown_bins(bins, method)
    for key, markdown in tables.items():
        print(f"\n{key} (Markdown, for docs/uncertainties.md):")
        print(markdown)
    if args.out:
        table.to_csv(args.out, index=False, float_format="%.6g")
        out = Path(args.out)
        bins.to_csv(out.with_name(f"{out.stem}_by_true_mass{out.suffix}"), index=False,
                    float_format="%.6g")
    if args.update_docs:
        update_docs(Path(args.update_docs), tables)
        print(f"\nrewrote the marked tables of {args.update_docs}")
    timings["total"] = time.perf_counter() - start
    print("\nwall time: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))


if __name__ == "__main__":
    main()
