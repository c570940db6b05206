"""Exporting a fitted network: torch.export and ONNX, checked against predict."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline

from sk_clustermass import ClusterMassRegressor
from sk_clustermass.baselines import CountRateRelation
from sk_clustermass.estimator import MassNetwork
from sk_clustermass.models import export_onnx, export_torch
from sk_clustermass.preprocessing import LogStretch

from .conftest import TINY, make_toy_clusters

# torch's ONNX exporter still calls a pytree API that torch itself deprecated.
pytestmark = pytest.mark.filterwarnings("ignore:.*LeafSpec.*:FutureWarning")


@pytest.fixture(scope="module")
def fitted():
    X, y = make_toy_clusters(60, seed=5)
    pipe = make_pipeline(LogStretch(), ClusterMassRegressor(
        **dict(TINY, max_epochs=2, validation_fraction=0.2, test_time_augmentation=True)))
    return pipe.fit(X, y), X


def _tensors(X):
    return torch.from_numpy(X["images"]), torch.from_numpy(X["redshift"])


def test_mass_network_matches_predict(fitted):
    pipe, X = fitted
    Xt = pipe[:-1].transform(X)
    mean, std = MassNetwork(pipe[-1])(*_tensors(Xt))
    expected_mean, expected_std = pipe.predict(X, return_std=True)
    np.testing.assert_allclose(mean.detach().numpy(), expected_mean, atol=1e-5)
    np.testing.assert_allclose(std.detach().numpy(), expected_std, rtol=1e-5)


def test_torch_export_has_a_dynamic_batch(fitted):
    pipe, X = fitted
    Xt = pipe[:-1].transform(X)
    program = export_torch(pipe, Xt[:4])
    mean, _ = program.module()(*_tensors(Xt[:7]))  # another batch size than the example
    np.testing.assert_allclose(mean.detach().numpy(), pipe.predict(X[:7]), atol=1e-5)


def test_onnx_round_trip_matches_predict(fitted, tmp_path):
    pytest.importorskip("onnxscript")
    onnxruntime = pytest.importorskip("onnxruntime")
    pipe, X = fitted
    Xt = pipe[:-1].transform(X)
    path = export_onnx(pipe, tmp_path / "model.onnx")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    mean, std = session.run(["log10_m500c", "sigma_dex"],
                            {"images": Xt["images"], "redshift": Xt["redshift"]})
    expected_mean, expected_std = pipe.predict(X, return_std=True)
    np.testing.assert_allclose(mean, expected_mean, atol=1e-5)
    np.testing.assert_allclose(std, expected_std, rtol=1e-5)


def test_export_refuses_what_has_no_network():
    with pytest.raises(TypeError, match="only a ClusterMassRegressor"):
        export_torch(CountRateRelation())
    with pytest.raises(NotFittedError):
        export_torch(ClusterMassRegressor())
