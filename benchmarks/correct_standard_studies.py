"""The standard studies' page with a multiplicity correction, from the committed runs.

A page of 33 comparisons at 95% should show one or two false verdicts by chance. This
script recomputes every study's paired comparison from the runs that
``examples/run_all_studies.py --standard`` saved (it trains nothing: a run that is
missing or does not match the data stops it), with enough bootstrap draws for
p-values small enough to survive the correction, and prints one row per comparison:

* the raw 95% paired-bootstrap interval of the scatter difference and its verdict;
* the interval widened for the page's family of comparisons (Bonferroni, 1 - 0.05/m);
* the bootstrap p-value, the Holm-Bonferroni adjusted p-value and the corrected
  verdict (``better``/``worse`` where the adjusted p-value is below 0.05, otherwise
  "too small to call");
* the spread of the scatter across training seeds.

It writes ``<results>/corrected_summary.csv`` and prints the Markdown table of
docs/studies.md.

    python benchmarks/correct_standard_studies.py                       # the committed page
    python benchmarks/correct_standard_studies.py --sky current --results <folder>
    python benchmarks/correct_standard_studies.py --sky current --results <folder> \\
        --second-results <second sky's folder>      # with the second sky's column
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd

from sk_clustermass.studies import (
    STANDARD_SKIES,
    STANDARD_STUDIES,
    _paired_study,
    corrected_verdicts,
    make_standard_data,
    run_standard_study,
    standard_family_size,
)

ROOT = Path(__file__).resolve().parents[1]


def _no_training(*args, **kwargs):
    message = ("a run is missing or does not match the data; this script only reads "
               "committed runs (run examples/run_all_studies.py --standard first)")
    raise RuntimeError(message)


def corrected_page(results: Path, sky: str, n_boot: int) -> pd.DataFrame:
    """Every finished study of ``results`` recomputed, with the page's correction."""
    data, _, names = STANDARD_SKIES[sky]
    names = [name for name in STANDARD_STUDIES
             if (results / name / "comparison.csv").exists()] or names
    family = standard_family_size(names)
    X, y = make_standard_data(data)
    original, _paired_study._train_one = _paired_study._train_one, _no_training
    tables = []
    try:
        with tempfile.TemporaryDirectory() as scratch:
            for name in names:
                result = run_standard_study(name, X, y, out_dir=Path(scratch) / name,
                                            runs_dir=results / "runs", verbose=0,
                                            data=data, n_boot=n_boot, family_size=family)
                tables.append(result.comparison.assign(study=name))
    finally:
        _paired_study._train_one = original
    return corrected_verdicts(pd.concat(tables, ignore_index=True))


def _second_sky_cell(second: pd.DataFrame | None, study: str, candidate: str) -> str:
    """The second sky's difference [95%] and corrected verdict, or a dash."""
    if second is None:
        return ""
    rows = second[(second["study"] == study) & (second["candidate"] == candidate)]
    if rows.empty:
        return " - |"
    row = rows.iloc[0]
    return (f" {row['difference']:+.4f} [{row['difference_low']:+.4f}, "
            f"{row['difference_high']:+.4f}], {row['verdict_corrected']} |")


def markdown(page: pd.DataFrame, second: pd.DataFrame | None = None) -> str:
    """The comparison rows as the Markdown table of docs/studies.md.

    With ``second`` (the second sky's corrected page), a last column gives its
    difference, raw interval and corrected verdict for the comparisons it repeats.
    """
    header = ("| study | candidate | difference (dex) [95%] | [family-wise 95%] | p | "
              "p (Holm) | verdict | corrected verdict | seed spread |")
    rule = "|---|---|---|---|---|---|---|---|---|"
    if second is not None:
        header += " second sky: difference [95%], corrected verdict |"
        rule += "---|"
    lines = [header, rule]
    for _, row in page[page["verdict"] != "reference"].iterrows():
        lines.append(
            f"| {row['study']} | {row['candidate']} | {row['difference']:+.4f} "
            f"[{row['difference_low']:+.4f}, {row['difference_high']:+.4f}] | "
            f"[{row['difference_low_corrected']:+.4f}, "
            f"{row['difference_high_corrected']:+.4f}] | {row['p_value']:.4f} | "
            f"{row['p_holm']:.4f} | {row['verdict']} | {row['verdict_corrected']} | "
            f"{row['seed_spread']:.4f} |"
            + _second_sky_cell(second, row["study"], row["candidate"]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=Path,
                        default=ROOT / "benchmarks" / "results" / "studies_standard")
    parser.add_argument("--sky", default="studied", choices=sorted(STANDARD_SKIES))
    parser.add_argument("--n-boot", type=int, default=20000)
    parser.add_argument("--second-results", type=Path, default=None,
                        help="the second sky's results folder: adds its column "
                        "(its own Holm correction, over its comparisons)")
    args = parser.parse_args(argv)
    page = corrected_page(args.results, args.sky, args.n_boot)
    second = None
    if args.second_results is not None:
        second = corrected_page(args.second_results, "second", args.n_boot)
        second.to_csv(args.second_results / "corrected_summary.csv", index=False,
                      float_format="%.5g")
    page.to_csv(args.results / "corrected_summary.csv", index=False, float_format="%.5g")
    compared = page[page["verdict"] != "reference"]
    raw = compared["verdict"].isin(["better", "worse"]).sum()
    kept = compared["verdict_corrected"].isin(["better", "worse"]).sum()
    print(f"{len(compared)} comparisons; {raw} called at 95% each, {kept} after the "
          f"Holm-Bonferroni correction (family-wise 5%); {args.n_boot} bootstrap draws\n")
    print(markdown(page, second))


if __name__ == "__main__":
    main()
