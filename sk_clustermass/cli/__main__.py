"""``python -m sk_clustermass.cli``: the same as the ``sk-clustermass`` console script."""

import sys

from ._main import main

sys.exit(main())
