"""Tables and figures of the standard-mode studies, from their saved runs.

Reads what ``examples/run_all_studies.py --standard`` wrote (default
``benchmarks/results/studies_standard``): each study's ``comparison.csv`` and the runs
in ``runs/``. Prints one markdown table per study (the numbers of docs/studies.md),
writes them to ``<results>/report.md`` and draws into ``docs/_static/studies/``:

* ``standard_<study>.png``: each candidate's scatter difference to the reference with
  its 95% paired-bootstrap interval;
* ``standard_learning_curves.png``: training and validation loss per epoch of the
  reference model (every fold and seed), to show it converged;
* ``standard_regularizer_gap.png``: the train/validation loss gap of the regularizer
  study's overfitting network, per candidate.

Run it again at any time: it trains nothing.

    python benchmarks/report_standard_studies.py
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sk_clustermass.plotting import plot_paired_comparison
from sk_clustermass.studies import STANDARD_STUDIES

ROOT = Path(__file__).resolve().parents[1]


def _table(comparison: pd.DataFrame) -> str:
    rows = ["| candidate | scatter (dex) | difference [95% interval] | verdict | 68% coverage "
            "| epochs | fit time (s) | valid − train loss (best epoch) |",
            "|---|---|---|---|---|---|---|---|"]
    for _, row in comparison.iterrows():
        interval = ("—" if row["verdict"] == "reference" else
                    f"{row['difference']:+.4f} [{row['difference_low']:+.4f}, "
                    f"{row['difference_high']:+.4f}]")
        rows.append(
            f"| {row['candidate']} | {row['value']:.4f} "
            f"[{row['value_low']:.4f}, {row['value_high']:.4f}] | {interval} | "
            f"{row['verdict']} | {row['coverage_68']:.3f} | {row['epochs']:.1f} | "
            f"{row['fit_seconds']:.0f} | {row['loss_gap']:.3f} |")
    return "\n".join(rows)


def _histories(runs: Path, label: str) -> list[dict]:
    found = []
    for path in sorted(runs.glob("*.json")):
        run = json.loads(path.read_text())
        if run.get("label") == label:
            found.extend(run["history"])
    return found


def _learning_curves(runs: Path, label: str, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    for i, history in enumerate(_histories(runs, label)):
        epochs = np.arange(1, len(history["train_loss"]) + 1)
        ax.plot(epochs, history["train_loss"], color="tab:blue", alpha=0.6,
                label="training" if i == 0 else None)
        ax.plot(epochs, history["valid_loss"], color="tab:orange", alpha=0.8,
                label="validation" if i == 0 else None)
        best = int(np.nanargmin(history["valid_loss"]))
        ax.plot(best + 1, history["valid_loss"][best], "k.", ms=8,
                label="best epoch (restored)" if i == 0 else None)
    ax.set_xlabel("epoch")
    ax.set_ylabel("Gaussian negative log-likelihood (standardised)")
    ax.set_title("reference model: every fold and seed", fontsize="medium")
    ax.legend()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _overfitting(runs: Path, comparison: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Final-epoch training and validation loss of each regularizer candidate."""
    rows = []
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    for colour, label in zip(plt.rcParams["axes.prop_cycle"].by_key()["color"],
                             comparison["candidate"]):
        histories = _histories(runs, label)
        train = np.mean([h["train_loss"] for h in histories], axis=0)
        valid = np.mean([h["valid_loss"] for h in histories], axis=0)
        epochs = np.arange(1, len(train) + 1)
        ax.plot(epochs, train, color=colour, ls="--")
        ax.plot(epochs, valid, color=colour, label=label)
        rows.append({"candidate": label, "final train loss": train[-1],
                     "final valid loss": valid[-1], "best valid loss": valid.min()})
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (mean of folds and seeds)")
    ax.set_title("regularizer study: validation (solid), training (dashed)", fontsize="medium")
    ax.legend(fontsize="x-small")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path,
                        default=ROOT / "benchmarks" / "results" / "studies_standard")
    parser.add_argument("--figures", type=Path, default=ROOT / "docs" / "_static" / "studies")
    args = parser.parse_args(argv)
    args.figures.mkdir(parents=True, exist_ok=True)
    sections, summary = [], []
    for name, study in STANDARD_STUDIES.items():
        path = args.results / name / "comparison.csv"
        if not path.exists():
            print(f"{name}: not run yet")
            continue
        comparison = pd.read_csv(path)
        sections.append(f"### {name}: {study.question}\n\n{_table(comparison)}\n")
        ax = plot_paired_comparison(comparison, title=name)
        ax.figure.savefig(args.figures / f"standard_{name}.png", dpi=110)
        plt.close(ax.figure)
        if name == "regularizer":
            losses = _overfitting(args.results / "runs", comparison,
                                  args.figures / "standard_regularizer_gap.png")
            sections.append(losses.to_markdown(index=False, floatfmt=".3f") + "\n")
        others = comparison[comparison["verdict"] != "reference"]
        for _, row in others.iterrows():
            summary.append({"study": name, "candidate": row["candidate"],
                            "difference": row["difference"],
                            "low": row["difference_low"], "high": row["difference_high"],
                            "verdict": row["verdict"]})
    runs = args.results / "runs"
    if (args.results / "redshift" / "comparison.csv").exists():
        _learning_curves(runs, "use_redshift=on",
                         args.figures / "standard_learning_curves.png")
    runs_seconds = [sum(json.loads(path.read_text())["fit_seconds"])
                    for path in sorted(runs.glob("*.json"))]
    sections.append(f"Runs: {len(runs_seconds)} (candidate, seed) runs, "
                    f"{sum(runs_seconds) / 3600:.2f} h of training in total.\n")
    report = "\n".join(sections)
    (args.results / "report.md").write_text(report)
    print(report)
    if summary:
        print(pd.DataFrame(summary).to_string(index=False, float_format="{:+.4f}".format))


if __name__ == "__main__":
    main()
