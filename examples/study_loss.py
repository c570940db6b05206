"""Study: Loss function (seed lab report, section 5, left empty there)
===================================================================

Mean squared error vs the Gaussian negative log-likelihood (mean and width).

Writes ``cv_results.csv``, ``summary.json`` and the figures (loss curves of the best
model, predicted vs true masses on held-out clusters, scatter vs the swept
parameter) to ``--output``. Rerunning with the same ``--output`` skips finished fits.

    python examples/study_loss.py                  # quick mode: minutes on a 2-core CPU
    python examples/study_loss.py --mode full --device cuda
"""

from _study_cli import main

if __name__ == "__main__":
    main("loss")
