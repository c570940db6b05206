"""Helpers shared across sub-packages: atomic file writes and allocator tuning.

Private to the library: nothing here is public API, but every name exported here may be
imported by any sub-package (and only these names).
"""

from ._atomic import atomic_path
from ._memory import malloc_tuned

__all__ = ["atomic_path", "malloc_tuned"]
