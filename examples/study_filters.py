"""How many convolution filters does the network need?
===================================================

Each convolution filter is a small pattern detector slid across the X-ray image:
a peaked core, an edge, a smooth halo, a point source. More filters describe more
kinds of structure, but cost time and can overfit a small training set. This example
sweeps 1, 10, 20 and 40 filters (2x2 kernels) and compares the scatter of the
predicted masses. The lab report this project grew from found the scatter falling up
to about 80 filters.

**Run time**: about 8 minutes on 2 CPU cores for the quick version
(600 simulated clusters, a small grid, 12 epochs), which this script runs. The full
version, the lab's grid and epochs, is meant for a GPU (hours):
``run_study(..., mode="full")``, or from a shell::

    sk-clustermass study filters --mode full --device cuda

The script needs only the ``sk_clustermass`` package: download
it below and run ``python study_filters.py``.
"""

import matplotlib.pyplot as plt

from sk_clustermass.datasets import make_clusters
from sk_clustermass.studies import STUDIES, run_study

# sphinx_gallery_thumbnail_path = "_static/gallery/study_filters.png"

# %%
# Simulate 600 clusters at the depth of eFEDS: photon counts in 10 energy bands of
# 50 x 50 pixels and the redshift of each cluster in ``X``, the true masses
# ``log10(M500c / Msun)`` in ``y``.
X, y = make_clusters(n_samples=600, survey="efeds_lab", random_state=0)

# %%
# Run the quick version: each candidate is cross-validated (2 folds) on 75% of the
# clusters, and the best one is scored on the other 25%. The tables and figures are
# written to ``study_results/filters/``; running again loads the finished fits.
result = run_study("filters", X, y, mode="quick", out_dir="study_results/filters")
columns = ["label", "scatter_dex", "scatter_dex_std", "nll", "fit_time_s"]
print(result.table[columns].to_string(index=False, float_format="{:.3f}".format))
best = result.summary["held_out"]
print(f"\nbest: {result.summary['best_label']}, held-out scatter "
      f"{best['scatter_dex']:.3f} dex, 68% coverage {best['coverage_68']:.2f}")
print(f"the lab report's finding: {STUDIES['filters'].seed_finding}")

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
# .. image:: /_static/studies/filters.png
#    :alt: quick-mode figure of the filters study
#
# The answer
# ----------
# The standard mode of :doc:`/studies` answers the question on 4000 eFEDS-like
# clusters (haloes from the mass function, an eSASS-like selection), each candidate
# trained to convergence with two seeds on the same two folds as the reference, and a
# 95% paired-bootstrap interval on every difference of scatter: 5 and 10 filters
# scatter more than 20 (+0.009 and +0.006 dex, 95% intervals that exclude zero); 40
# filters differ from 20 by no more than 0.009 dex. The library's default is 20. About
# two hours on 2 CPU cores for all the standard studies together (``python
# examples/run_all_studies.py --standard``).
#
# .. image:: /_static/studies/standard_filters.png
#    :alt: standard-mode answer of the filters study
