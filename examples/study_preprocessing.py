"""Which preprocessing of the images helps?
========================================

The seed lab left this section (11) of its report empty. Before the network, the
photon counts can be stretched (log1p or asinh), smoothed with a Gaussian, summed
into soft, medium and hard bands, or have the local background subtracted. The quick
version tries each of these steps in the study's pipeline.

The quick version takes minutes on a 2-core CPU. The full one, with the report's grid
and epochs, is meant for a GPU: ``run_study(..., mode="full")``, or from a shell::

    sk-clustermass study preprocessing --mode full --device cuda
"""

import matplotlib.pyplot as plt

from sk_clustermass.datasets import make_clusters
from sk_clustermass.studies import STUDIES, run_study

# %%
# Simulate 600 clusters at the depth of eFEDS: photon counts in 10 energy bands of
# 50 x 50 pixels and the redshift of each cluster in ``X``, the true masses
# ``log10(M500c / Msun)`` in ``y``.
X, y = make_clusters(n_samples=600, survey="efeds", random_state=0)

# %%
# Run the quick version: each candidate is cross-validated (2 folds) on 75% of the
# clusters, and the best one is scored on the other 25%. The tables and figures are
# written to ``study_results/preprocessing/``; running again loads the finished fits.
result = run_study("preprocessing", X, y, mode="quick", out_dir="study_results/preprocessing")
columns = ["label", "scatter_dex", "scatter_dex_std", "nll", "fit_time_s"]
print(result.table[columns].to_string(index=False, float_format="{:.3f}".format))
best = result.summary["held_out"]
print(f"\nbest: {result.summary['best_label']}, held-out scatter "
      f"{best['scatter_dex']:.3f} dex, 68% coverage {best['coverage_68']:.2f}")
print(f"seed's finding: {STUDIES['preprocessing'].seed_finding}")

# %%
# The loss curves of the best model, its predicted against true masses on the held-out
# clusters, and the cross-validated scatter of every candidate (lower is better; the
# error bars are the spread over the folds).
fig, ax = plt.subplots(figsize=(12, 4))
ax.imshow(plt.imread(result.files["overview"]))
ax.set_axis_off()
plt.show()
