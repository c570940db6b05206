"""Study: Convolution kernel size (seed lab report, section 4.2)
=============================================================

Sweeps ``kernel_size`` (1, 3, ..., 17 full; 1, 3, 5, 9 quick) at 10 filters.
Kernels of 5 px and more use ``padding='same'``: with 'valid' padding the
feature map of a 50x50 image would collapse before the last pooling.

Writes ``cv_results.csv``, ``summary.json`` and the figures (loss curves of the best
model, predicted vs true masses on held-out clusters, scatter vs the swept
parameter) to ``--output``. Rerunning with the same ``--output`` skips finished fits.

    python examples/study_kernel_size.py                  # quick mode: minutes on a 2-core CPU
    python examples/study_kernel_size.py --mode full --device cuda
"""

from _study_cli import main

if __name__ == "__main__":
    main("kernel_size")
