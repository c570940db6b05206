"""Helpers shared across sub-packages: atomic writes, signals, allocator tuning, thread
counts, checks, band statistics, Gaussian intervals.

Private to the library: nothing here is public API, but every name exported here may be
imported by any sub-package (and only these names).
"""

from ._atomic import (
    atomic_path,
    commit_temporary,
    discard_temporary,
    gzip_aware_target,
    name_max,
    new_temporary,
    resolve_destination,
)
from ._deprecation import moved_names
from ._interval import IntervalMixin, central_interval
from ._lazy import lazy_exports
from ._memory import malloc_tuned
from ._signals import raise_if_signalled, sigterm_as_keyboard_interrupt
from ._statistics import (
    TOTAL_TEST_RTOL,
    BandMoments,
    BandSummary,
    band_mean_std,
    band_summary,
    constant_cubes,
)
from ._threads import threads_per_job, torch_threads, usable_cores
from ._validation import (
    check_bool,
    check_choice,
    check_number,
    check_vector,
    describe_bounds,
)

__all__ = [
    "TOTAL_TEST_RTOL",
    "BandMoments",
    "BandSummary",
    "IntervalMixin",
    "atomic_path",
    "band_mean_std",
    "band_summary",
    "central_interval",
    "check_bool",
    "check_choice",
    "check_number",
    "check_vector",
    "commit_temporary",
    "constant_cubes",
    "describe_bounds",
    "discard_temporary",
    "gzip_aware_target",
    "lazy_exports",
    "malloc_tuned",
    "moved_names",
    "name_max",
    "new_temporary",
    "raise_if_signalled",
    "resolve_destination",
    "sigterm_as_keyboard_interrupt",
    "threads_per_job",
    "torch_threads",
    "usable_cores",
]
