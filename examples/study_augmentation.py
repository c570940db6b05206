"""Study: Augmentation (not in the seed lab report)
================================================

Random flips/90-degree rotations in training (``augment``) and averaging
over the 8 symmetries at prediction (``test_time_augmentation``), at an
equal number of epochs. Every candidate is also scored on held-out clusters.

Writes ``cv_results.csv``, ``summary.json`` and the figures (loss curves of the best
model, predicted vs true masses on held-out clusters, scatter vs the swept
parameter) to ``--output``. Rerunning with the same ``--output`` skips finished fits.

    python examples/study_augmentation.py                  # quick mode: minutes on a 2-core CPU
    python examples/study_augmentation.py --mode full --device cuda
"""

from _study_cli import main

if __name__ == "__main__":
    main("augmentation")
