"""Helpers shared across sub-packages: atomic writes, allocator tuning, checks, band statistics.

Private to the library: nothing here is public API, but every name exported here may be
imported by any sub-package (and only these names).
"""

from ._atomic import atomic_path, commit_temporary, discard_temporary, new_temporary
from ._memory import malloc_tuned
from ._statistics import BandMoments, BandSummary, band_mean_std, band_summary
from ._validation import check_vector

__all__ = [
    "BandMoments",
    "BandSummary",
    "atomic_path",
    "band_mean_std",
    "band_summary",
    "check_vector",
    "commit_temporary",
    "discard_temporary",
    "malloc_tuned",
    "new_temporary",
]
