"""Bad input at every public entry point: how many cases get a clear error, and what the others do.

Runs every case of ``tests/bad_input_cases.py`` and ``tests/bad_input_limits.py`` (the
library's entry points, then the ``sk-clustermass`` command line in subprocesses) and
prints the count of clear errors and of each kind of failure: unclear, silent-wrong,
data-loss, crash, hang; exit status 1 unless every case is clear.

Run: ``python tests/bad_input_report.py`` (``-v`` lists every case, ``--no-cli`` skips
the command-line cases).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``tests`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.bad_input_cases import (
    CATEGORIES,
    category,
    cli_cases,
    library_cases,
    run_case,
    run_cli_case,
)
from tests.bad_input_limits import limit_cases, limit_cli_cases


def main(argv: list[str] | None = None) -> int:
    """Run the cases, print the failures (every case with ``-v``); 0 when all are clear."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="list every case")
    parser.add_argument("--no-cli", action="store_true", help="skip the command-line cases")
    args = parser.parse_args(argv)
    results: list[tuple[str, str, bool, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for case in library_cases(folder) + limit_cases(folder):
            clear, detail = run_case(case)
            results.append((case.entry, case.what, clear, detail))
        if not args.no_cli:
            for case in [*cli_cases(folder), *limit_cli_cases(folder)]:
                what, cli_args = (case[0], case[1]) if isinstance(case, tuple) else (
                    case.what, case.args)
                clear, detail = run_cli_case(case)
                entry = "python" if getattr(case, "python", None) else "sk-clustermass"
                results.append((f"{entry} {cli_args[0] if cli_args else ''}", what, clear,
                                detail))
    counts = dict.fromkeys(("clear", *reversed(CATEGORIES)), 0)
    for entry, what, clear, detail in results:
        counts[category(clear, detail)] += 1
        if args.verbose or not clear:
            print(f"{'ok  ' if clear else 'FAIL'} {entry:20s} {what:34s} {detail}")
    print(f"bad-input cases tried: {len(results)}; clear errors: {counts['clear']}; "
          + "; ".join(f"{name}: {counts[name]}" for name in reversed(CATEGORIES)))
    return 0 if counts["clear"] == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
