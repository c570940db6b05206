"""Train the pretrained eFEDS model shipped with the package, and record its metrics.

Run from the repository root (2 CPU cores, a few minutes)::

    PYTHONPATH=$PWD python benchmarks/train_pretrained.py

It simulates a training set with the eFEDS-like survey preset of
:func:`sk_clustermass.datasets.make_clusters` (``survey="efeds_survey"``: haloes from
the mass function, cool cores and mergers, an eSASS-like selection; no contaminants),
trains a small
``LogStretch + ClusterMassRegressor`` pipeline, and writes

- ``sk_clustermass/models/pretrained/efeds.safetensors`` (the model), and
- ``sk_clustermass/models/pretrained/efeds.json`` (training population, settings
  and the metrics on freshly simulated clusters that ``tests/test_pretrained.py``
  checks the shipped file reproduces).

It prints the training and evaluation times; they were not measured on a quiet
machine, so take them as rough.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1]))

from sklearn.pipeline import make_pipeline

from sk_clustermass import ClusterMassRegressor, __version__, save_model
from sk_clustermass.datasets import make_clusters
from sk_clustermass.metrics import bias_dex, interval_coverage, scatter_dex
from sk_clustermass.preprocessing import LogStretch

FOLDER = Path(__file__).parents[1] / "sk_clustermass" / "models" / "pretrained"
NAME = "efeds"  # the name users load it by
SURVEY = "efeds_survey"  # the simulation preset it is trained and tested on
N_TRAIN, TRAIN_SEED = 2000, 2026
N_TEST, TEST_SEED = 400, 777  # the test regenerates these clusters: keep it small
PARAMS = {
    "n_filters": 16,
    "dense_layers": (64, 32),
    "max_epochs": 25,
    "patience": 6,
    "batch_size": 64,
    "lr": 2e-3,
    "random_state": 0,
}


def evaluate(model, n_samples: int, seed: int) -> dict[str, float]:
    """Scatter, bias and 68% coverage on freshly simulated clusters."""
    X, y = make_clusters(n_samples, survey=SURVEY, random_state=seed)
    mean, std = model.predict(X, return_std=True)
    return {
        "scatter_dex": scatter_dex(y, mean),
        "bias_dex": bias_dex(y, mean),
        "coverage_68": interval_coverage(y, mean, std),
        "mean_std_dex": float(np.mean(std)),
    }


def main() -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    X, y = make_clusters(N_TRAIN, survey=SURVEY, random_state=TRAIN_SEED, n_jobs=1)
    simulated = time.perf_counter()
    model = make_pipeline(LogStretch(), ClusterMassRegressor(**PARAMS)).fit(X, y)
    trained = time.perf_counter()
    path = FOLDER / f"{NAME}.safetensors"
    save_model(model, path)
    metrics = evaluate(model, N_TEST, TEST_SEED)
    record = {
        "name": NAME,
        "library_version": __version__,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "training_population": {
            "simulator": "sk_clustermass.datasets.make_clusters",
            "survey": SURVEY, "n_samples": N_TRAIN, "random_state": TRAIN_SEED,
            "mass_range": [13.0, 15.5], "redshift_range": [0.01, 1.5],
            "sampling": "mass-function", "selection": "eSASS-like detection and extent",
            "morphology": "cool cores, relaxed, disturbed", "contaminants": False,
            "detected_only": True, "centre_on": "detection", "exposure_gradient": True,
        },
        "preprocessing": "LogStretch",
        "regressor_params": {k: list(v) if isinstance(v, tuple) else v
                             for k, v in PARAMS.items()},
        "epochs_trained": len(model[-1].history_),
        "test": {"n_samples": N_TEST, "random_state": TEST_SEED, "survey": SURVEY},
        "metrics": metrics,
    }
    (FOLDER / f"{NAME}.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(metrics, indent=2))
    print(f"file {path} ({path.stat().st_size / 1e3:.0f} kB); "
          f"simulation {simulated - start:.0f} s, training {trained - simulated:.0f} s "
          f"({record['epochs_trained']} epochs): rough times")


if __name__ == "__main__":
    main()
