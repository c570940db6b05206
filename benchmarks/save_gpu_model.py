"""Train a small model on the GPU and save it (safe format) with its GPU predictions.

Used by ``run_gpu_checks.sh``; ``tests/test_persistence.py`` has the CPU side: a
model trained on a GPU must load on a CPU and predict the same masses.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1]))

from sk_clustermass import ClusterMassRegressor, save_model
from tests.conftest import TINY, make_toy_clusters

out = Path(sys.argv[1])
X, y = make_toy_clusters(300, seed=0)
model = ClusterMassRegressor(**dict(TINY, device="cuda", max_epochs=5)).fit(X, y)
mean, std = model.predict(X, return_std=True)
save_model(model, out / "gpu_model.safetensors")
np.savez(out / "gpu_predictions.npz", mean=mean, std=std)
print("saved GPU model; first predictions", np.round(mean[:3], 4), "device", model.device_)
