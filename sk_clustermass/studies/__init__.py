"""The seed lab's hyper-parameter studies as data, and one helper that runs any of them.

Each study of the lab report the project grew from (the studies page of the
documentation retells it) is a :class:`Study` in the registry :data:`STUDIES`: the
parameter grid it sweeps, in a small ``'quick'`` version (a few minutes on a 2-core
CPU) and the report's ``'full'`` version (its grids and epochs, meant for a GPU), a
one-line description and the report's finding with its numbers. :func:`run_study`
runs one of them with :class:`~sklearn.model_selection.GridSearchCV` on the pipeline
of :func:`default_pipeline` and writes what the report showed: the cross-validation
table, the loss curves of the best model, predicted against true masses on held-out
clusters, and the scatter against the swept parameter. :func:`summarize_search`
turns a search into a readable table.

Parameter names in the grids are the pipeline's: ``'regressor__n_filters'`` for the
network, ``'stretch__method'`` or a whole step (``'smooth'``) for preprocessing.
Masses are ``log10(M500c / Msun)``; scatters are in dex.

Examples
--------
>>> from sk_clustermass.studies import STUDIES
>>> study = STUDIES["filters"]
>>> study.grid("quick")
[{'regressor__n_filters': [1, 10, 20, 40]}]
>>> sorted(STUDIES)[:3]
['augmentation', 'batch_size', 'dropout']
"""

from ._paired import corrected_verdicts, holm_adjusted, paired_comparison, verdict
from ._paired_study import PairedStudyResult, run_paired_study
from ._runner import (
    FULL_SETTINGS,
    MODES,
    QUICK_SETTINGS,
    SEED_DEFAULT,
    STUDIES,
    Study,
    StudyResult,
    default_pipeline,
    run_study,
    summarize_search,
)
from ._standard_studies import (
    CURRENT_DATA,
    FRESH_CURRENT_DATA,
    FRESH_TEST_DATA,
    IMPROVED_STANDARD,
    SECOND_SKY_DATA,
    SECOND_SKY_FRESH_DATA,
    SECOND_SKY_STUDIES,
    STANDARD_DATA,
    STANDARD_SETTINGS,
    STANDARD_SKIES,
    STANDARD_STUDIES,
    STUDIED_SIMULATION,
    StandardStudy,
    make_standard_data,
    run_fresh_check,
    run_standard_study,
    standard_family_size,
)
from ._time_budget import TimeBudget

__all__ = [
    "CURRENT_DATA",
    "FRESH_CURRENT_DATA",
    "FRESH_TEST_DATA",
    "FULL_SETTINGS",
    "IMPROVED_STANDARD",
    "MODES",
    "QUICK_SETTINGS",
    "SECOND_SKY_DATA",
    "SECOND_SKY_FRESH_DATA",
    "SECOND_SKY_STUDIES",
    "SEED_DEFAULT",
    "STANDARD_DATA",
    "STANDARD_SETTINGS",
    "STANDARD_SKIES",
    "STANDARD_STUDIES",
    "STUDIED_SIMULATION",
    "STUDIES",
    "PairedStudyResult",
    "StandardStudy",
    "Study",
    "StudyResult",
    "TimeBudget",
    "corrected_verdicts",
    "default_pipeline",
    "holm_adjusted",
    "make_standard_data",
    "paired_comparison",
    "run_fresh_check",
    "run_paired_study",
    "run_standard_study",
    "run_study",
    "standard_family_size",
    "summarize_search",
    "verdict",
]
