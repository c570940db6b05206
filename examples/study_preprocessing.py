"""Study: Preprocessing (seed lab report, section 11, left empty there)
====================================================================

log1p vs asinh stretch, Gaussian smoothing, soft/medium/hard band merging
and background subtraction, as steps of the study pipeline.

Writes ``cv_results.csv``, ``summary.json`` and the figures (loss curves of the best
model, predicted vs true masses on held-out clusters, scatter vs the swept
parameter) to ``--output``. Rerunning with the same ``--output`` skips finished fits.

    python examples/study_preprocessing.py                  # quick mode: minutes on a 2-core CPU
    python examples/study_preprocessing.py --mode full --device cuda
"""

from _study_cli import main

if __name__ == "__main__":
    main("preprocessing")
