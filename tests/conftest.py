"""Shared fixtures: a small learnable toy task and tiny, fast estimator settings."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sk_clustermass import as_inputs

# Tiny settings for tests: fast on 2 CPU cores, still a real CNN.
TINY = {
    "n_filters": 6,
    "kernel_size": 3,
    "conv_layers": (2, 1),
    "pool_size": 2,
    "dense_layers": (32, 16),
    "max_epochs": 3,
    "patience": None,
    "batch_size": 32,
    "random_state": 0,
}


def make_toy_clusters(n_samples: int, seed: int = 0, size: int = 20, n_bands: int = 3):
    """Toy task where mass is recoverable: counts scale with mass, dim with redshift.

    A Gaussian blob whose expected total count is 400 (M / 1e14 Msun) / (1 + z)^2,
    split evenly over the bands, on a flat background of 0.05 counts per pixel, then
    Poisson noise. Returns raw counts X and y = log10 M.
    """
    rng = np.random.default_rng(seed)
    log_mass = rng.uniform(13.0, 15.0, n_samples)
    redshift = rng.uniform(0.05, 1.0, n_samples)
    total = 400.0 * 10 ** (log_mass - 14.0) / (1.0 + redshift) ** 2
    yy, xx = np.mgrid[:size, :size]
    centre = (size - 1) / 2
    profile = np.exp(-((xx - centre) ** 2 + (yy - centre) ** 2) / (2 * 3.0**2))
    profile /= profile.sum()
    expected = total[:, None, None, None] * profile / n_bands + 0.05
    expected = np.broadcast_to(expected, (n_samples, n_bands, size, size))
    images = rng.poisson(expected).astype(np.float32)
    return as_inputs(images, redshift), log_mass


@pytest.fixture(scope="session")
def toy_data():
    """300 toy clusters (raw counts) and their log10 masses."""
    return make_toy_clusters(300, seed=0)


@pytest.fixture(scope="session")
def tiny_params():
    return dict(TINY)


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device; none is visible to torch")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


@pytest.fixture(scope="session")
def simulated_clusters():
    """400 simulated eFEDS clusters (X, y, catalogue), shared by the uncertainty tests."""
    from sk_clustermass.datasets import make_clusters

    return make_clusters(400, random_state=0, return_catalog=True)
