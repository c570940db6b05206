"""The ``sk-clustermass`` command line: one private module per sub-command family.

:func:`main` is the console script's entry point; :func:`build_parser` returns its
:class:`argparse.ArgumentParser` (the command-line reference is generated from it).
"""

from ._main import build_parser, main

__all__ = ["build_parser", "main"]
