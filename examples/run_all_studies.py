"""Run every study, one after the other, on one set of simulated clusters
======================================================================

Simulates the clusters once, runs each study with :func:`sk_clustermass.studies.run_study`
into ``<out>/<study>/`` and writes ``<out>/all_studies.csv`` (one row per candidate of
every study) and ``<out>/best.csv`` (one row per study: the best candidate, its
cross-validated and held-out scatter, the coverage and the wall time). Interrupted?
Run the same command again: finished fits are loaded from their checkpoints::

    python examples/run_all_studies.py                          # quick: about 1.5 h on 2 CPU cores
    python examples/run_all_studies.py --studies loss redshift
    python examples/run_all_studies.py --mode full --device cuda  # days on a GPU
    python examples/run_all_studies.py --standard -o benchmarks/results/studies_standard

``--standard`` runs the standard-mode studies instead
(:data:`sk_clustermass.studies.STANDARD_STUDIES`: the survey preset, paired folds and
seeds, a confidence interval on every difference; about 2 hours on 2 CPU cores). Its
runs are saved one file per (candidate, seed) in ``<out>/runs/``, so an interrupted
run resumes, and committed runs reproduce the page without training. It writes
``<out>/<study>/comparison.csv`` per study, then trains the library default and the
improved configuration (:data:`sk_clustermass.studies.IMPROVED_STANDARD`) on all the
clusters and scores both on 2000 fresh ones (``<out>/fresh_check/``), and writes
``<out>/standard_summary.csv``.

``--sky`` picks the data of ``--standard``: ``studied`` (default) the pinned images the
committed page was measured on, ``current`` the survey preset the library ships with
five training seeds (:data:`sk_clustermass.studies.CURRENT_DATA`), ``second`` the same
preset with the group-scale L–M slope moved by its published uncertainty, for the
studies behind the improved configuration only
(:data:`sk_clustermass.studies.SECOND_SKY_DATA`). The summary gives every comparison
its raw interval, its Bonferroni-widened interval for the page's family of
comparisons and its Holm-corrected verdict
(:func:`sk_clustermass.studies.corrected_verdicts`).

    python examples/run_all_studies.py --standard --sky current -o results/current
    python examples/run_all_studies.py --standard --sky second -o results/second_sky

The options are those of ``sk-clustermass study``
(:func:`sk_clustermass.cli.add_study_options`).
"""

import argparse
import time
from pathlib import Path

import pandas as pd

from sk_clustermass.cli import add_study_options
from sk_clustermass.datasets import make_clusters
from sk_clustermass.studies import (
    MODES,
    STANDARD_SKIES,
    STANDARD_STUDIES,
    STUDIES,
    corrected_verdicts,
    make_standard_data,
    run_fresh_check,
    run_standard_study,
    run_study,
    standard_family_size,
)

#: Training data, fresh data and default studies of each ``--sky``.
SKIES = STANDARD_SKIES

# sphinx_gallery_thumbnail_path = "_static/gallery/run_all_studies.png"


def parse_study_options(parser, argv=None):
    """The options of ``argv``; the network parameters given (``--n-filters`` ...) as a dict."""
    add_study_options(parser, output="study_results")
    args = parser.parse_args(argv)
    params = {key[3:]: value for key, value in vars(args).items() if key.startswith("hp_")}
    return args, params


def run_standard(out, studies, overrides, n_samples=None, n_jobs=None, fresh=True,
                 sky="studied"):
    """Run the standard-mode ``studies`` (and the fresh check) of one sky into ``out``."""
    data, fresh_data, _ = SKIES[sky]
    n_samples = n_samples or data["n_samples"]
    family = standard_family_size(studies) if studies else 1
    start = time.perf_counter()
    X, y = make_standard_data(data, n_samples=n_samples, n_jobs=n_jobs)
    print(f"simulated {n_samples} clusters ({data['survey']}, sky {sky!r}) in "
          f"{time.perf_counter() - start:.0f} s; {len(data['seeds'])} seeds, {family} "
          "comparisons on the page", flush=True)
    tables = []
    for name in studies:
        result = run_standard_study(name, X, y, out_dir=out / name, runs_dir=out / "runs",
                                    overrides=overrides, data=data, family_size=family)
        table = result.comparison.assign(study=name)
        print(f"\n{name}: {STANDARD_STUDIES[name].question}")
        print(table[["candidate", "value", "seed_spread", "difference", "difference_low",
                     "difference_high", "p_value", "verdict", "epochs", "fit_seconds"]]
              .to_string(index=False, float_format="{:.4f}".format), flush=True)
        tables.append(table)
    page = corrected_verdicts(pd.concat(tables)) if tables else None
    if fresh:
        X_test, y_test = make_standard_data(fresh_data, n_jobs=n_jobs)
        result = run_fresh_check(X, y, X_test, y_test, out_dir=out / "fresh_check",
                                 runs_dir=out / "runs", overrides=overrides,
                                 seeds=data["seeds"])
        print(f"\nimproved vs library default on {len(y_test)} fresh clusters")
        print(result.comparison.to_string(index=False, float_format="{:.4f}".format))
        fresh_table = result.comparison.assign(study="fresh_check")
        page = fresh_table if page is None else pd.concat([page, fresh_table])
    if page is not None:
        page.to_csv(out / "standard_summary.csv", index=False, float_format="%.5g")
    print(f"\nall standard studies: {time.perf_counter() - start:.0f} s")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", nargs="+",
                        choices=sorted({*STUDIES, *STANDARD_STUDIES, "fresh_check"}),
                        help="which studies (default: all of the mode; with --standard, "
                        "'fresh_check' is the final check on fresh clusters)")
    parser.add_argument("--standard", action="store_true",
                        help="run the standard-mode studies (paired, with intervals)")
    parser.add_argument("--sky", choices=sorted(SKIES), default="studied",
                        help="with --standard: the pinned images of the committed page "
                        "('studied'), the shipped preset with five seeds ('current') or "
                        "the preset with a steeper group-scale L-M slope ('second')")
    args, params = parse_study_options(parser, argv)
    out = Path(args.output)
    if args.standard:
        names = args.studies or [*SKIES[args.sky][2], "fresh_check"]
        unknown = sorted(set(names) - {*STANDARD_STUDIES, "fresh_check"})
        if unknown:
            parser.error(f"not standard studies: {unknown}; choose from {list(STANDARD_STUDIES)}")
        out.mkdir(parents=True, exist_ok=True)
        run_standard(out, [name for name in names if name != "fresh_check"], params,
                     n_samples=args.simulate, n_jobs=args.n_jobs,
                     fresh="fresh_check" in names, sky=args.sky)
        return
    args.studies = args.studies or list(STUDIES)
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
