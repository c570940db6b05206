"""Shared command line of the study scripts (``examples/study_*.py``).

Each script names its study and calls :func:`main`. The options are those of
``sk-clustermass study`` (``--mode quick|full``, ``--simulate N``, ``-o/--output``,
``--random-state``, ``--max-epochs``, ``--device`` and every other network parameter),
from :func:`sk_clustermass.cli.add_study_options`.
"""

import argparse

from sk_clustermass.cli import add_study_options
from sk_clustermass.datasets import make_clusters
from sk_clustermass.studies import MODES, STUDIES, run_study


def parse_study_options(description, output, argv=None, parser=None):
    """The study options of ``argv``; the fixed network parameters as a dict."""
    parser = parser or argparse.ArgumentParser(description=description)
    add_study_options(parser, output=output)
    args = parser.parse_args(argv)
    params = {key[3:]: value for key, value in vars(args).items() if key.startswith("hp_")}
    return args, params


def main(study, argv=None):
    """Parse the options, simulate the clusters and run ``study``; print its table.

    Returns the :class:`~sk_clustermass.studies.StudyResult`, for scripts that print more.
    """
    args, params = parse_study_options(STUDIES[study].description,
                                       f"study_results/{study}", argv)
    n_samples = args.simulate or MODES[args.mode].n_samples
    X, y = make_clusters(n_samples, survey=args.survey, random_state=args.random_state,
                         n_jobs=args.n_jobs)
    result = run_study(study, X, y, mode=args.mode, out_dir=args.output, cv=args.cv,
                       n_jobs=args.n_jobs, random_state=args.random_state,
                       max_epochs=params.pop("max_epochs", None),
                       checkpoint_dir=params.pop("checkpoint_dir", None),
                       regressor_params=params)
    print(result.table.to_string(float_format="{:.3f}".format))
    print(f"\nseed's finding: {STUDIES[study].seed_finding}")
    return result
