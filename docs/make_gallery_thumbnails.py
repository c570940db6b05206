"""Write the gallery's thumbnails of the examples that the docs build does not run.

The ``study_*``, ``quickstart``, ``run_all_studies`` and ``distributed_sweep`` examples
take minutes to hours, so sphinx-gallery shows them without running them and has no
figure of theirs for the gallery card. Each gets a small PNG here, drawn from results
that are committed (``sphinx_gallery_thumbnail_path`` in the example points to it):

* ``study_<name>.png``: the study's answer, the scatter of each candidate with its 95%
  paired-bootstrap interval (standard mode,
  ``benchmarks/results/studies_standard/standard_summary.csv``); for ``augmentation``
  and ``improved``, which have no standard-mode run, the cross-validated scatter of
  the quick run (``docs/_static/studies/quick_results.csv``);
* ``quickstart.png``: predicted against true masses of held-out clusters
  (``benchmarks/results/quality_efeds_survey_predictions.csv``);
* ``run_all_studies.png``: every standard-mode difference to its study's reference;
* ``distributed_sweep.png``: a sketch of the fits of a grid search spread over workers.

Run from the repository root: ``python docs/make_gallery_thumbnails.py`` (seconds).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "_static" / "gallery"
STANDARD = ROOT / "benchmarks" / "results" / "studies_standard" / "standard_summary.csv"
QUICK = ROOT / "docs" / "_static" / "studies" / "quick_results.csv"
PREDICTIONS = ROOT / "benchmarks" / "results" / "quality_efeds_survey_predictions.csv"
#: Thumbnail size: sphinx-gallery shows cards of 400 x 280 pixels.
SIZE, DPI = (4.0, 2.8), 100
COLOURS = {"better": "#1a7f37", "worse": "#cf222e", "reference": "black"}
STANDARD_STUDIES = ("redshift", "loss", "filters", "dropout", "kernel_size", "preprocessing",
                    "optimizer", "batch_size", "regularizer")
QUICK_STUDIES = ("augmentation", "improved")


def _save(fig, name: str) -> None:
    for ax in fig.axes:
        ax.xaxis.set_major_locator(MaxNLocator(4))
    fig.savefig(OUT / f"{name}.png", dpi=DPI)
    plt.close(fig)


def _short(label: str) -> str:
    """Candidate labels short enough for a thumbnail."""
    replacements = {"regularization=": "", "regularizer=": "", "optimizer=": "",
                    ", padding=valid": "", "lr_schedule=exponential": "decay",
                    "=GaussianSmoothing": "", "=BandMerge": "", "=BackgroundSubtract": "",
                    "lr_final=0.0003, ": ""}
    for old, new in replacements.items():
        label = label.replace(old, new)
    return label if len(label) <= 22 else label[:21] + "…"


def standard_study(table: pd.DataFrame, study: str) -> None:
    rows = table[table["study"] == study].iloc[::-1]
    fig, ax = plt.subplots(figsize=SIZE, layout="constrained")
    for position, (_, row) in enumerate(rows.iterrows()):
        colour = COLOURS.get(row["verdict"], "grey")
        ax.errorbar(row["value"], position, xerr=[[row["value"] - row["value_low"]],
                                                  [row["value_high"] - row["value"]]],
                    fmt="o", color=colour, lw=3, capsize=0)
    reference = rows.loc[rows["verdict"] == "reference", "value"]
    if len(reference):
        ax.axvline(reference.iloc[0], color="black", lw=0.8, ls=":")
    ax.set_yticks(range(len(rows)), [_short(label) for label in rows["candidate"]])
    ax.set_xlabel("scatter (dex), 95% interval")
    ax.set_title(study.replace("_", " "))
    _save(fig, f"study_{study}")


def quick_study(table: pd.DataFrame, study: str) -> None:
    rows = table[table["study"] == study].iloc[::-1]
    fig, ax = plt.subplots(figsize=SIZE, layout="constrained")
    ax.errorbar(rows["cv_scatter_dex"], range(len(rows)), xerr=rows["cv_scatter_fold_std"],
                fmt="o", color="#0b5cad", lw=3, capsize=0)
    ax.set_yticks(range(len(rows)), [_short(label) for label in rows["candidate"]])
    ax.set_xlabel("cross-validated scatter (dex)")
    ax.set_title(f"{study} (quick run)")
    _save(fig, f"study_{study}")


def quickstart() -> None:
    data = pd.read_csv(PREDICTIONS)
    true, predicted = data["log10_M500c"], data["CNN, seed default mean"]
    fig, ax = plt.subplots(figsize=SIZE, layout="constrained")
    ax.scatter(true, predicted, s=3, alpha=0.4, color="#0b5cad", lw=0)
    limits = (13.2, 15.2)
    ax.plot(limits, limits, color="black", lw=0.8)
    ax.set(xlim=limits, ylim=limits, xlabel="true log10 M500c", ylabel="predicted")
    ax.set_title("held-out clusters")
    _save(fig, "quickstart")


def run_all_studies(table: pd.DataFrame) -> None:
    rows = table[(table["verdict"] != "reference")
                 & table["study"].isin(STANDARD_STUDIES)].sort_values("difference")
    fig, ax = plt.subplots(figsize=SIZE, layout="constrained")
    for position, (_, row) in enumerate(rows.iterrows()):
        colour = COLOURS.get(row["verdict"], "grey")
        ax.plot([row["difference_low"], row["difference_high"]], [position, position],
                color=colour, lw=2)
    ax.axvline(0, color="black", lw=0.8, ls=":")
    ax.set_yticks([])
    ax.set_xlim(-0.03, 0.06)
    ax.set_xlabel("scatter difference to the reference (dex)")
    ax.set_title(f"{len(rows)} candidates, 9 studies")
    _save(fig, "run_all_studies")


def distributed_sweep() -> None:
    """Fits of a grid search as tasks on workers over time: a sketch, not a measurement."""
    rng = np.random.default_rng(0)
    fig, ax = plt.subplots(figsize=SIZE, layout="constrained")
    colours = plt.get_cmap("tab10").colors
    for worker in range(4):
        start = 0.0
        for task in range(3):
            length = rng.uniform(0.8, 1.3)
            ax.barh(worker, length, left=start, color=colours[(3 * worker + task) % 10],
                    edgecolor="white")
            start += length
    ax.set_yticks(range(4), [f"worker {i}" for i in range(4)])
    ax.set_xticks([])
    ax.set_xlabel("time: one fit (candidate, fold) per bar")
    ax.set_title("GridSearchCV on a dask cluster")
    _save(fig, "distributed_sweep")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    standard = pd.read_csv(STANDARD)
    for study in STANDARD_STUDIES:
        standard_study(standard, study)
    quick = pd.read_csv(QUICK)
    for study in QUICK_STUDIES:
        quick_study(quick, study)
    quickstart()
    run_all_studies(standard)
    distributed_sweep()
    for path in sorted(OUT.glob("*.png")):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
