"""Study: Batch size (seed lab report, section 10, left empty there)
=================================================================

Batch sizes 16 to 512 (quick: 16, 64, 256) at an equal number of epochs.

Writes ``cv_results.csv``, ``summary.json`` and the figures (loss curves of the best
model, predicted vs true masses on held-out clusters, scatter vs the swept
parameter) to ``--output``. Rerunning with the same ``--output`` skips finished fits.

    python examples/study_batch_size.py                  # quick mode: minutes on a 2-core CPU
    python examples/study_batch_size.py --mode full --device cuda
"""

from _study_cli import main

if __name__ == "__main__":
    main("batch_size")
