"""Exporting the network to ONNX
==============================

A fitted pipeline's network goes to an ONNX file with
:func:`~sk_clustermass.models.export_onnx` (target scaling and width calibration
included), to run where neither PyTorch nor this library is installed, e.g. with
onnxruntime. The transformers before the network are numpy code and are applied
first. Needs ``pip install onnx onnxscript onnxruntime`` (the ``export`` extra).
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import onnxruntime
from sklearn.pipeline import make_pipeline

from sk_clustermass import ClusterMassRegressor
from sk_clustermass.datasets import make_clusters
from sk_clustermass.models import export_onnx
from sk_clustermass.preprocessing import BandNormalizer, LogStretch

X, y = make_clusters(n_samples=300, survey="efeds_lab", random_state=3)
pipe = make_pipeline(LogStretch(), BandNormalizer(), ClusterMassRegressor(
    n_filters=4, kernel_size=3, conv_layers=(1,), dense_layers=(16,), max_epochs=3,
    patience=None, random_state=0)).fit(X, y)

path = export_onnx(pipe, Path(tempfile.mkdtemp()) / "cluster_mass.onnx")
session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
Xt = pipe[:-1].transform(X)  # the transformers, in numpy
mean, std = session.run(["log10_m500c", "sigma_dex"],
                        {"images": Xt["images"], "redshift": Xt["redshift"]})
expected_mean, expected_std = pipe.predict(X, return_std=True)
print(f"largest difference to predict: {np.abs(mean - expected_mean).max():.1e} dex (mean), "
      f"{np.abs(std - expected_std).max():.1e} dex (width)")

# %%
fig, ax = plt.subplots(figsize=(4, 4), layout="constrained")
ax.plot(expected_mean, mean, ".", ms=3)
ax.set_xlabel("pipeline.predict (log10 Msun)")
ax.set_ylabel("onnxruntime (log10 Msun)")
plt.show()
