"""Precision: bf16 hardware detection, resolution, autocast, and what it does to fits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sk_clustermass import ClusterMassRegressor
from sk_clustermass.estimator import _precision, network_parameters
from sk_clustermass.estimator._module import ClusterMassCNN
from sk_clustermass.estimator._precision import (
    autocast,
    bf16_supported,
    cpu_flags,
    resolve_precision,
)
from sk_clustermass.models import load_model, save_model

from .conftest import TINY, make_toy_clusters

# Recorded on main (commit 723bd5d, before the precision parameter existed) with
# torch 2.13.0+cpu on an x86-64 AVX-512 CPU: the first six predicted means and widths
# of the fixed-seed fit in ``_reference_fit``. fp32 must reproduce them to 1e-5 dex.
MAIN_MEAN = [13.948998318614487, 13.968290837037264, 13.956565612369275,
             13.959949774782242, 13.943420146069766, 13.94511018258128]
MAIN_STD = [0.632355157818203, 0.589894724390217, 0.5968065065914833,
            0.5857605116079169, 0.630586634149217, 0.6258123444406029]


@pytest.fixture(scope="module")
def small_data():
    X, y = make_toy_clusters(96, seed=5, size=16, n_bands=2)
    return {"images": np.log1p(X["images"]), "redshift": X["redshift"]}, y


def _reference_fit(data, **changes) -> ClusterMassRegressor:
    X, y = data
    return ClusterMassRegressor(**dict(TINY, max_epochs=2, **changes)).fit(X, y)


# ------------------------------------------------------------------ detection
def test_cpu_flags_reads_the_flags_line(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512_bf16\nbugs\t: none\n")
    assert cpu_flags(cpuinfo) == {"fpu", "avx2", "avx512_bf16"}
    assert cpu_flags(tmp_path / "missing") == frozenset()


@pytest.mark.parametrize(
    ("flags", "capability", "expected"),
    [
        ({"avx512f", "amx_bf16", "amx_tile"}, "AVX512", True),
        ({"avx512f", "avx512_bf16"}, "AVX512", True),
        ({"avx512f", "avx512_bf16"}, "AVX2", False),  # ATEN_CPU_CAPABILITY=avx2
        ({"avx512f", "avx2"}, "AVX512", False),
        (set(), "DEFAULT", False),
    ],
)
def test_bf16_supported_on_cpu(monkeypatch, flags, capability, expected):
    monkeypatch.setattr(_precision, "cpu_flags", lambda: frozenset(flags))
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: capability)
    assert bf16_supported("cpu") is expected


@pytest.mark.parametrize("gpu_has_bf16", [True, False])
def test_bf16_supported_on_gpu(monkeypatch, gpu_has_bf16):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: gpu_has_bf16)
    assert bf16_supported("cuda:0") is gpu_has_bf16


@pytest.mark.parametrize("native", [True, False])
def test_auto_resolves_by_hardware_explicit_values_are_kept(monkeypatch, native):
    monkeypatch.setattr(_precision, "bf16_supported", lambda device: native)
    assert resolve_precision("auto", "cpu") == ("bf16" if native else "fp32")
    assert resolve_precision("fp32", "cpu") == "fp32"
    assert resolve_precision("bf16", "cpu") == "bf16"


def test_unknown_precision_is_a_clear_error(small_data):
    with pytest.raises(ValueError, match=r"precision='fp16'.*'fp32'.*'bf16'.*'auto'"):
        resolve_precision("fp16", "cpu")
    with pytest.raises(ValueError, match="precision='half'"):
        _reference_fit(small_data, precision="half")


# ------------------------------------------------------------------ autocast
def test_autocast_fp32_is_no_autocast_and_bf16_is():
    layer = torch.nn.Linear(3, 2)
    with autocast("fp32", "cpu"):
        assert not torch.is_autocast_enabled("cpu")
        assert layer(torch.ones(1, 3)).dtype == torch.float32
    with autocast("bf16", torch.device("cpu")):
        assert layer(torch.ones(1, 3)).dtype == torch.bfloat16


def test_network_head_and_redshift_stay_float32_under_autocast():
    torch.manual_seed(0)
    net = ClusterMassCNN(2, (16, 16), redshift_mean=0.5, redshift_scale=0.3,
                         **network_parameters(n_filters=4, kernel_size=3, conv_layers=(1,),
                                              pool_size=2, dense_layers=(8,)))
    images, redshift = torch.rand(5, 2, 16, 16), torch.rand(5)
    exact = net(images, redshift)
    with autocast("bf16", "cpu"):
        out = net(images, redshift)
    assert out.dtype == torch.float32
    assert not torch.equal(out, exact)  # the body did run in bfloat16
    torch.testing.assert_close(out, exact, atol=0.05, rtol=0.05)


# ------------------------------------------------------------------ the estimator
def test_fp32_fit_still_gives_the_numbers_of_before_bf16_existed(small_data):
    """fp32 fits are what they were before the precision option: values recorded with
    torch 2.13 on an AVX-512 CPU, compared with a tolerance, never bit for bit.

    Other CPUs (AMX, AVX2) and other torch builds sum in another order, which moves
    these values by ~1e-8 dex; switching the network to bfloat16 by mistake moves them
    by ~1e-2 dex. The tolerance (1e-5 dex, 1e-4 relative on the width) sits between.
    """
    model = _reference_fit(small_data)
    mean, std = model.predict(small_data[0], return_std=True)
    assert model.precision_ == "fp32"
    np.testing.assert_allclose(mean[:6], MAIN_MEAN, rtol=0, atol=1e-5)
    np.testing.assert_allclose(std[:6], MAIN_STD, rtol=1e-4)


def test_bf16_fit_keeps_float32_weights_and_is_close_and_deterministic(small_data):
    exact = _reference_fit(small_data).predict(small_data[0])
    first = _reference_fit(small_data, precision="bf16")
    assert first.precision_ == "bf16" and first.net_.precision == "bf16"
    assert all(p.dtype == torch.float32 for p in first.net_.module_.parameters())
    mean = first.predict(small_data[0])
    assert mean.dtype == np.float64
    assert not np.array_equal(mean, exact)
    assert np.abs(mean - exact).max() < 0.01  # dex, after two epochs on toy data
    again = _reference_fit(small_data, precision="bf16").predict(small_data[0])
    np.testing.assert_array_equal(again, mean)


def test_bf16_and_fp32_fits_never_share_a_checkpoint(small_data, tmp_path, monkeypatch):
    monkeypatch.setattr(_precision, "bf16_supported", lambda device: False)
    _reference_fit(small_data, checkpoint_dir=tmp_path)
    _reference_fit(small_data, checkpoint_dir=tmp_path, precision="auto")  # -> fp32
    assert len(list(tmp_path.iterdir())) == 1
    _reference_fit(small_data, checkpoint_dir=tmp_path, precision="bf16")
    assert len(list(tmp_path.iterdir())) == 2


def test_model_file_records_the_precision(small_data, tmp_path):
    model = _reference_fit(small_data, precision="bf16")
    save_model(model, tmp_path / "model.safetensors")
    loaded = load_model(tmp_path / "model.safetensors")
    assert loaded.precision == "bf16" and loaded.precision_ == "bf16"
    assert loaded.net_.precision == "bf16"
    np.testing.assert_array_equal(loaded.predict(small_data[0]),
                                  model.predict(small_data[0]))


@pytest.mark.gpu
def test_bf16_on_gpu_fits_and_matches_fp32(small_data):
    exact = _reference_fit(small_data, device="cuda").predict(small_data[0])
    model = _reference_fit(small_data, device="cuda", precision="auto")
    assert model.precision_ == ("bf16" if torch.cuda.is_bf16_supported() else "fp32")
    mean = model.predict(small_data[0])
    assert np.isfinite(mean).all() and np.abs(mean - exact).max() < 0.02
