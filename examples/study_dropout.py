"""Study: Dropout rate (seed lab report, section 7)
================================================

Dropout after every dense layer at rates from 0 to 0.5 (quick: 0, 0.2, 0.5).

Writes ``cv_results.csv``, ``summary.json`` and the figures (loss curves of the best
model, predicted vs true masses on held-out clusters, scatter vs the swept
parameter) to ``--output``. Rerunning with the same ``--output`` skips finished fits.

    python examples/study_dropout.py                  # quick mode: minutes on a 2-core CPU
    python examples/study_dropout.py --mode full --device cuda
"""

from _study_cli import main

if __name__ == "__main__":
    main("dropout")
