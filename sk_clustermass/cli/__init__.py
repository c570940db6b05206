"""The ``sk-clustermass`` command line: one private module per sub-command family.

:func:`main` is the console script's entry point; :func:`build_parser` returns its
:class:`argparse.ArgumentParser` (the command-line reference is generated from it).
:func:`add_study_options` gives any script the options of ``sk-clustermass study``
(``examples/run_all_studies.py`` uses it), so that both read the same way.
"""

from ._main import build_parser, main
from ._options import add_study_options

__all__ = ["add_study_options", "build_parser", "main"]
