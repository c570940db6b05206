"""The inference kernels of the convolution blocks (estimator/_fused_inference.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from sk_clustermass import ClusterMassRegressor
from sk_clustermass.estimator import _fused_inference, network_parameters
from sk_clustermass.estimator._fused_inference import inference_features, strided_max_pool
from sk_clustermass.estimator._module import ClusterMassCNN

from .conftest import TINY, make_toy_clusters

needs_fused_kernel = pytest.mark.skipif(
    not _fused_inference.FUSED_CONVOLUTION, reason="this torch build has no fused kernel")


def _network(**changes) -> ClusterMassCNN:
    torch.manual_seed(0)
    parameters = dict(network_parameters(), **changes)
    net = ClusterMassCNN(10, (50, 50), **parameters)
    return net.to(memory_format=torch.channels_last).eval()


def _batch(n: int = 6, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, 10, 50, 50, generator=generator).contiguous(
        memory_format=torch.channels_last)


@pytest.fixture
def spies(monkeypatch):
    """Counts of the pooling and fused-convolution kernels called."""
    calls = {"pool": 0, "fused": 0}
    pool, fused = _fused_inference.strided_max_pool, _fused_inference.fused_convolution

    def counted_pool(*args):
        calls["pool"] += 1
        return pool(*args)

    def counted_fused(*args):
        calls["fused"] += 1
        return fused(*args)

    monkeypatch.setattr(_fused_inference, "strided_max_pool", counted_pool)
    monkeypatch.setattr(_fused_inference, "fused_convolution", counted_fused)
    return calls


# ---------------------------------------------------------------- the pool
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("window", [1, 2, 3, 4, (2, 3)])
@pytest.mark.parametrize("size", [(47, 47), (9, 9), (8, 13), (3, 5)])
def test_strided_pool_is_the_max_pool(dtype, window, size):
    x = torch.randn(3, 5, *size).to(dtype).contiguous(memory_format=torch.channels_last)
    x[0, 0, 0, 0] = float("nan")
    x[1, 2, :2, :2] = float("-inf")
    x[2, 1] = 0.0  # ties everywhere
    pool = nn.MaxPool2d(window)
    if any(side < width for side, width in zip(size, torch.nn.modules.utils._pair(window))):
        with pytest.raises(RuntimeError, match="too small"):  # the module's own error
            strided_max_pool(pool, x)
        return
    expected = pool(x)
    got = strided_max_pool(pool, x)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    torch.testing.assert_close(got, expected, rtol=0, atol=0, equal_nan=True)


@pytest.mark.parametrize("pool", [nn.MaxPool2d(3, stride=2), nn.MaxPool2d(2, padding=1),
                                  nn.MaxPool2d(2, ceil_mode=True), nn.MaxPool2d(2, dilation=2)])
def test_other_pools_run_as_the_module(pool):
    x = torch.randn(2, 3, 11, 11)
    torch.testing.assert_close(strided_max_pool(pool, x), pool(x), rtol=0, atol=0)


# ---------------------------------------------------------------- the whole stack
@pytest.mark.parametrize("changes", [
    {},
    {"negative_slope": 0.0},
    {"negative_slope": -0.2},  # the written order: every activation before its pool
    {"padding": "same", "kernel_size": 3},
    pytest.param({"padding": "same"},  # an even kernel: padding oneDNN cannot express
                 marks=pytest.mark.filterwarnings("ignore:Using padding='same'")),
    {"pool_size": 3, "kernel_size": 3},
])
def test_float32_features_are_those_of_the_layers_bit_for_bit(changes, spies):
    net = _network(**changes)
    images = _batch()
    with torch.inference_mode():
        expected = net.features(images)
        got = inference_features(net.features, images)
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
    assert spies["pool"] == 2  # the kernels ran
    assert spies["fused"] == 0  # not fused in float32 (FUSED_DTYPES)


@needs_fused_kernel
def test_bfloat16_fuses_each_convolution_with_its_activation(spies):
    net = _network()
    images = _batch()
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        expected = net.features(images)
        got = inference_features(net.features, images)
    assert got.dtype == expected.dtype == torch.bfloat16
    assert spies["fused"] == 5 and spies["pool"] == 2
    # the activation applied before rounding, not after: within bfloat16's rounding
    torch.testing.assert_close(got.float(), expected.float(), rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("case", ["gradients", "hook", "other layer", "global hook"])
def test_the_layers_run_as_written_where_the_kernels_do_not_apply(case, spies):
    net = _network()
    images = _batch()
    seen = []
    handles = []
    if case == "hook":
        handles.append(net.features[2].register_forward_hook(lambda *args: seen.append(1)))
    if case == "global hook":
        handles.append(nn.modules.module.register_module_forward_hook(
            lambda *args: seen.append(1)))
    if case == "other layer":
        net.features[1] = nn.ReLU()
    try:
        if case == "gradients":
            got = inference_features(net.features, images.requires_grad_())
            assert got.requires_grad
        else:
            with torch.inference_mode():
                got = inference_features(net.features, images)
    finally:
        for handle in handles:
            handle.remove()
    assert spies == {"pool": 0, "fused": 0}
    if case in ("hook", "global hook"):
        assert seen  # the probe saw its layer


def test_the_module_runs_the_kernels_only_when_asked(spies):
    net = _network()
    images, redshift = _batch(), torch.full((6,), 0.3)
    with torch.inference_mode():
        plain = net(images, redshift)
        assert spies["pool"] == 0
        asked = net(images, redshift, inference_kernels=True)
    assert spies["pool"] == 2
    torch.testing.assert_close(asked, plain, rtol=0, atol=0)


# ---------------------------------------------------------------- through predict
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_predict_runs_the_kernels(precision, spies):
    X, y = make_toy_clusters(40, seed=3)
    model = ClusterMassRegressor(**dict(TINY, max_epochs=1, precision=precision)).fit(X, y)
    spies["pool"] = spies["fused"] = 0
    with_kernels = model.predict(X)
    assert spies["pool"] > 0
    if precision == "bf16" and _fused_inference.FUSED_CONVOLUTION:
        assert spies["fused"] > 0
    # the module as written, the same loop otherwise
    type(model.net_.module_).takes_inference_kernels = False
    try:
        written = model.predict(X)
    finally:
        type(model.net_.module_).takes_inference_kernels = True
    if precision == "fp32":
        np.testing.assert_array_equal(with_kernels, written)
    else:
        np.testing.assert_allclose(with_kernels, written, atol=0.02)


@needs_fused_kernel
def test_a_failing_fused_kernel_falls_back_to_the_layers_for_good(monkeypatch, spies):
    def refuses(*args):
        spies["fused"] += 1
        raise RuntimeError("mkldnn bf16 path needs the cpu support avx512bw")

    monkeypatch.setattr(_fused_inference, "fused_convolution", refuses)
    monkeypatch.setattr(_fused_inference, "FUSED_CONVOLUTION", True)
    net = _network()
    images = _batch()
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        expected = net.features(images)
        first = inference_features(net.features, images)
        second = inference_features(net.features, images)
    torch.testing.assert_close(first, expected, rtol=0, atol=0)
    torch.testing.assert_close(second, expected, rtol=0, atol=0)
    assert spies["fused"] == 1  # tried once, then the layers
    assert not _fused_inference.FUSED_CONVOLUTION


def test_no_fusion_where_onednn_has_no_bfloat16(monkeypatch, spies):
    monkeypatch.setattr(_fused_inference, "FUSED_CONVOLUTION", False)
    net = _network()
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        inference_features(net.features, _batch())
    assert spies == {"pool": 2, "fused": 0}


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_a_genuine_error_is_the_layers_own(monkeypatch, precision):
    monkeypatch.setattr(_fused_inference, "FUSED_CONVOLUTION",
                        _fused_inference.FUSED_CONVOLUTION)
    fused_before = _fused_inference.FUSED_CONVOLUTION
    net = _network()
    with torch.inference_mode(), pytest.raises(RuntimeError, match="channels"), \
            torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
        inference_features(net.features, torch.randn(2, 7, 50, 50))  # 7 bands, not 10
    assert _fused_inference.FUSED_CONVOLUTION == fused_before  # not the kernel's fault
