"""Bad input at every public entry point: how many cases get a clear error.

Runs every case of ``tests/bad_input_cases.py`` (the library's entry points, then the
``sk-clustermass`` command line in subprocesses) and prints the count of clear errors;
exit status 1 if any error is unclear.

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

from tests.bad_input_cases import cli_cases, library_cases, run_case, run_cli_case


def main(argv: list[str] | None = None) -> int:
    """Run the cases, print the failures (every case with ``-v``); 0 when all are clear."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="list every case")
    parser.add_argument("--no-cli", action="store_true", help="skip the command-line cases")
    args = parser.parse_args(argv)
    results: list[tuple[str, str, bool, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for case in library_cases(folder):
            clear, detail = run_case(case)
            results.append((case.entry, case.what, clear, detail))
        if not args.no_cli:
            for what, cli_args in cli_cases(folder):
                clear, detail = run_cli_case(cli_args)
                results.append(("sk-clustermass " + cli_args[0], what, clear, detail))
    n_clear = sum(clear for *_, clear, _ in results)
    for entry, what, clear, detail in results:
        if args.verbose or not clear:
            print(f"{'ok  ' if clear else 'FAIL'} {entry:20s} {what:34s} {detail}")
    print(f"bad-input cases tried: {len(results)}; clear errors: {n_clear}; "
          f"unclear: {len(results) - n_clear}")
    return 0 if n_clear == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
