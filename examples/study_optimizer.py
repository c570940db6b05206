"""Study: Optimizer and learning rate (seed lab report, section 6)
===============================================================

Adam and SGD at 10 learning rates from 1e-5 to 10^-2.66 (quick: 10^-3.96,
10^-2.92 and 10^-2.66), plus an exponential decay from 10^-2.66 to 1e-3 for both.

Writes ``cv_results.csv``, ``summary.json`` and the figures (loss curves of the best
model, predicted vs true masses on held-out clusters, scatter vs the swept
parameter) to ``--output``. Rerunning with the same ``--output`` skips finished fits.

    python examples/study_optimizer.py                  # quick mode: minutes on a 2-core CPU
    python examples/study_optimizer.py --mode full --device cuda
"""

from _study_cli import main

if __name__ == "__main__":
    main("optimizer")
