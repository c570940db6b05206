"""Does the size of the convolution kernel matter?
===============================================

The kernel is the patch of pixels each filter sees at once (a pixel is 24
arcsec, an image 20 arcmin across). Small kernels see the cluster's core; large ones its
extent and the background around it. This example tries 1, 3, 5 and 9 px; kernels of
5 px and more use 'same' padding, because 'valid' padding would shrink the feature
maps to nothing before the last pooling. The lab report found about 4 px best.

**Run time**: about 6 minutes on 2 CPU cores for the quick version
(600 simulated clusters, a small grid, 12 epochs), which this script runs. The full
version, the lab's grid and epochs, is meant for a GPU (hours):
``run_study(..., mode="full")``, or from a shell::

    sk-clustermass study kernel_size --mode full --device cuda

The script needs only the ``sk_clustermass`` package: download
it below and run ``python study_kernel_size.py``.
"""

import matplotlib.pyplot as plt

from sk_clustermass.datasets import make_clusters
from sk_clustermass.studies import STUDIES, run_study

# sphinx_gallery_thumbnail_path = "_static/gallery/study_kernel_size.png"

# %%
# Simulate 600 clusters at the depth of eFEDS: photon counts in 10 energy bands of
# 50 x 50 pixels and the redshift of each cluster in ``X``, the true masses
# ``log10(M500c / Msun)`` in ``y``.
X, y = make_clusters(n_samples=600, survey="efeds_lab", random_state=0)

# %%
# Run the quick version: each candidate is cross-validated (2 folds) on 75% of the
# clusters, and the best one is scored on the other 25%. The tables and figures are
# written to ``study_results/kernel_size/``; running again loads the finished fits.
result = run_study("kernel_size", X, y, mode="quick", out_dir="study_results/kernel_size")
columns = ["label", "scatter_dex", "scatter_dex_std", "nll", "fit_time_s"]
print(result.table[columns].to_string(index=False, float_format="{:.3f}".format))
best = result.summary["held_out"]
print(f"\nbest: {result.summary['best_label']}, held-out scatter "
      f"{best['scatter_dex']:.3f} dex, 68% coverage {best['coverage_68']:.2f}")
print(f"the lab report's finding: {STUDIES['kernel_size'].seed_finding}")

# %%
# The loss curves of the best model, its predicted against true masses on the held-out
# clusters, and the cross-validated scatter of every candidate (lower is better; the
# error bars are the spread over the folds).
fig, ax = plt.subplots(figsize=(12, 4))
ax.imshow(plt.imread(result.files["overview"]))
ax.set_axis_off()
plt.show()

# %%
# What running it gives
# ---------------------
# One run of this script drew the figure below (the quick results of :doc:`/studies`).
# With 450 training clusters and 12 epochs, the differences between candidates are
# mostly within the noise of training: the quick version shows how a study runs, not
# the answer.
#
# .. image:: /_static/studies/kernel_size.png
#    :alt: quick-mode figure of the kernel_size study
#
# The answer
# ----------
# The standard mode of :doc:`/studies` answers the question on 4000 eFEDS-like
# clusters (haloes from the mass function, an eSASS-like selection), each candidate
# trained to convergence with two seeds on the same two folds as the reference, and a
# 95% paired-bootstrap interval on every difference of scatter: at 'valid' padding and
# 20 filters, kernels of 3 and 4 px beat 2 px (-0.006 and -0.012 dex); at 'same'
# padding and 10 filters, 5 and 7 px beat 3 px (-0.010 and -0.009 dex). Larger kernels
# help, up to about 4-5 px (1.6-2 arcmin). About two hours on 2 CPU cores for all the
# standard studies together (``python examples/run_all_studies.py --standard``).
#
# .. image:: /_static/studies/standard_kernel_size.png
#    :alt: standard-mode answer of the kernel_size study
#
# .. image:: /_static/studies/standard_kernel_size_same.png
#    :alt: standard-mode answer of the kernel_size study
