"""Does the standard studies' pick still hold on today's survey preset?

The committed standard studies (docs/studies.md) ran on ``efeds_survey`` cut-outs
centred on the true halo centre with a flat exposure (``STUDIED_SIMULATION``). The
preset now centres its cut-outs on the detected position and tilts them by the
exposure map's gradient. This script repeats the studies' final check on such data:
the library default against the improved configuration (``IMPROVED_STANDARD``),
trained with the standard settings and seeds on 4000 clusters of today's preset
(``random_state=2026``) and scored on 2000 fresh ones (``random_state=2027``), with the
same paired bootstrap.

Runs are saved one JSON per (configuration, seed) in
``benchmarks/results/studies_current_preset/runs``, so an interrupted run resumes and a
finished one reprints without training.

Run: ``python benchmarks/fresh_check_current_preset.py`` (about 6 minutes on 2 idle
CPU cores).
"""

from __future__ import annotations

import time
from pathlib import Path

from sk_clustermass.studies import (
    FRESH_TEST_DATA,
    STANDARD_DATA,
    make_standard_data,
    run_fresh_check,
)

OUT = Path(__file__).parent / "results" / "studies_current_preset"


def main() -> None:
    start = time.perf_counter()
    # the standard data sets without the studies' pinned simulator options
    X, y = make_standard_data({**STANDARD_DATA, "simulation": {}})
    X_test, y_test = make_standard_data({**FRESH_TEST_DATA, "simulation": {}})
    print(f"today's {STANDARD_DATA['survey']} preset (cut-outs centred on the detection, "
          f"exposure gradient): {len(y)} training and {len(y_test)} fresh clusters",
          flush=True)
    result = run_fresh_check(X, y, X_test, y_test, out_dir=OUT / "fresh_check",
                             runs_dir=OUT / "runs")
    print(result.comparison.to_string(index=False, float_format="{:.4f}".format))
    print(f"wall time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
