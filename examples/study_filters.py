"""Study: Number of convolution filters (seed lab report, section 4.1)
===================================================================

Sweeps ``n_filters`` (1, 10, ..., 90 in full mode; 1, 10, 20, 40 in quick
mode) at a 2x2 kernel.

Writes ``cv_results.csv``, ``summary.json`` and the figures (loss curves of the best
model, predicted vs true masses on held-out clusters, scatter vs the swept
parameter) to ``--output``. Rerunning with the same ``--output`` skips finished fits.

    python examples/study_filters.py                  # quick mode: minutes on a 2-core CPU
    python examples/study_filters.py --mode full --device cuda
"""

from _study_cli import main

if __name__ == "__main__":
    main("filters")
