"""Study: Regularizers (seed lab report, section 8)
================================================

No penalty, or an L1, L2 or L1L2 penalty of 1e-4 on the dense layers' kernels,
biases or outputs (quick: L1 and L2 kernel, L2 activity).

Writes ``cv_results.csv``, ``summary.json`` and the figures (loss curves of the best
model, predicted vs true masses on held-out clusters, scatter vs the swept
parameter) to ``--output``. Rerunning with the same ``--output`` skips finished fits.

    python examples/study_regularizer.py                  # quick mode: minutes on a 2-core CPU
    python examples/study_regularizer.py --mode full --device cuda
"""

from _study_cli import main

if __name__ == "__main__":
    main("regularizer")
