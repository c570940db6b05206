"""Study: Redshift input (not in the seed lab report)
==================================================

The network with and without the redshift fed to its dense layers.

Writes ``cv_results.csv``, ``summary.json`` and the figures (loss curves of the best
model, predicted vs true masses on held-out clusters, scatter vs the swept
parameter) to ``--output``. Rerunning with the same ``--output`` skips finished fits.

    python examples/study_redshift.py                  # quick mode: minutes on a 2-core CPU
    python examples/study_redshift.py --mode full --device cuda
"""

from _study_cli import main

if __name__ == "__main__":
    main("redshift")
