"""predict's one pass over the data: same numbers, same errors, less work (issue 18).

Covers the prediction data path (estimator._inference), the fused pixel check and
out-of-domain summary, the compile option's fallback (estimator._compile) and the
selection of the pinned, asynchronous host-to-device copies (tested on the CPU with
stand-ins for the CUDA pieces; the ``gpu`` tests run them for real).
"""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest
import torch

from sk_clustermass import ClusterMassRegressor, as_inputs
from sk_clustermass._utils import band_summary
from sk_clustermass.datasets import write_hdf5
from sk_clustermass.estimator import CompilationFallbackWarning, OutOfDomainWarning, _inference
from sk_clustermass.estimator._compile import CompiledModule
from sk_clustermass.estimator._data import BatchIterator, ClusterTensors
from sk_clustermass.estimator._domain import far_outside
from sk_clustermass.estimator._inference import (
    ArrayBatches,
    InputScan,
    PinnedStaging,
    pinned_transfer,
)
from sk_clustermass.estimator._output import mass_from_output
from sk_clustermass.estimator._regressor import MIN_STD_DEX
from sk_clustermass.estimator._streaming import StreamingClusters
from sk_clustermass.estimator._symmetry import combine_outputs, square_symmetries

from .conftest import TINY, make_toy_clusters

SETTINGS = dict(TINY, max_epochs=2)  # batch_size 32: 120 clusters are 4 batches


@pytest.fixture(scope="module")
def data():
    return make_toy_clusters(120, seed=5)


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return ClusterMassRegressor(**SETTINGS).fit(X, y)


# ---------------------------------------------------------------- same numbers
# The first mean of model.predict(X) on the fixture's 120 toy clusters, recorded at the
# base commit 4d6b42e (before the single-pass predict) with torch 2.13 on an AVX-512 CPU.
# Compared with a tolerance: other CPUs and torch builds round float32 sums differently
# (an AMX CPU differs by 9e-9 dex), while a broken predict path moves it by far more.
# The bit-for-bit comparisons below recompute the reference on the machine at hand.
BASE_COMMIT_FIRST_MEAN = {False: float.fromhex("0x1.bdd2669dcea41p+3"),
                          True: float.fromhex("0x1.bdfa00401c178p+3")}


@pytest.mark.parametrize("symmetries", [False, True], ids=["plain", "test_time_augmentation"])
def test_fp32_predictions_are_those_of_the_base_commit(data, fitted, symmetries):
    X, y = data
    model = fitted
    if symmetries:
        model = ClusterMassRegressor(**dict(SETTINGS, test_time_augmentation=True)).fit(X, y)
    mean = model.predict(X)
    assert mean[0] == pytest.approx(BASE_COMMIT_FIRST_MEAN[symmetries], rel=0, abs=1e-5)


def _mass_and_width(model, raw):
    """The network's raw (mean, log-width) output as log10 mass and width, as predict does."""
    return mass_from_output(
        raw.numpy().astype(np.float64), loss=model.loss, y_mean=model.y_mean_,
        y_scale=model.y_scale_, std_scale=model.std_scale_, residual_std=model.residual_std_,
        min_std=MIN_STD_DEX,
    )


def _plain_loop(model, images, redshift):
    """The predict of the base commit, written out: whole-array float32 conversion,
    in-order batches, the module under no_grad (the plain standardisation)."""
    net = model.net_
    data = ClusterTensors.from_arrays(np.asarray(images, dtype=np.float32),
                                      np.asarray(redshift, dtype=np.float32))
    net.module_.eval()
    with torch.no_grad():
        raw = torch.cat([net.module_(inputs["images"], inputs["redshift"])
                         for inputs, _ in BatchIterator(data, net.batch_size)])
    return _mass_and_width(model, raw)


@pytest.mark.parametrize(
    "convert",
    [
        lambda images: images,
        lambda images: images.astype(np.float64),
        lambda images: np.moveaxis(np.moveaxis(images, 1, -1).copy(), -1, 1),  # strided
        lambda images: images.astype(np.int64),  # counts
    ],
    ids=["float32", "float64", "channels-last-view", "int64"],
)
def test_predict_equals_the_plain_loop_bit_for_bit(data, fitted, convert):
    X, _ = data
    images = convert(X["images"])
    mean, std = fitted.predict({"images": images, "redshift": X["redshift"]}, return_std=True)
    expected_mean, expected_std = _plain_loop(fitted, images, X["redshift"])
    np.testing.assert_array_equal(mean, expected_mean)
    np.testing.assert_array_equal(std, expected_std)
    np.testing.assert_array_equal(fitted.predict(X), expected_mean)


def test_bf16_predictions_are_close_to_fp32(data, fitted):
    X, _ = data
    bf16 = copy.deepcopy(fitted)
    bf16.net_.precision = "bf16"
    bf16.net_.module_.to(memory_format=torch.channels_last)
    mean32, std32 = fitted.predict(X, return_std=True)
    mean16, std16 = bf16.predict(X, return_std=True)
    assert not np.array_equal(mean16, mean32)  # it did run in bfloat16
    # bfloat16 keeps 8 bits of mantissa: a few 1e-3 dex, far below the 0.1-0.2 dex scatter
    assert np.abs(mean16 - mean32).max() < 0.02
    np.testing.assert_allclose(std16, std32, rtol=0.05)


def test_the_data_are_read_once(data, fitted, monkeypatch, tmp_path):
    """No separate statistics pass: the summary of fit is not computed at predict."""
    X, y = data
    path = tmp_path / "clusters.h5"
    write_hdf5(path, X, y)
    expected = fitted.predict(X)

    def second_pass(*args, **kwargs):
        raise AssertionError("predict made a second pass over the images")

    monkeypatch.setattr("sk_clustermass._utils._statistics.BandMoments.update", second_pass)
    np.testing.assert_array_equal(fitted.predict(X), expected)
    np.testing.assert_allclose(fitted.predict(path), expected, rtol=1e-12)


def test_batches_view_float32_arrays_and_convert_others_one_batch_at_a_time(data):
    X, _ = data
    images = X["images"]
    batches = list(ArrayBatches(images, X["redshift"]).inference_batches(50, "cpu"))
    assert [len(inputs["images"]) for inputs, _ in batches] == [50, 50, 20]
    assert all(np.shares_memory(inputs["images"].numpy(), images) for inputs, _ in batches)
    doubles = images.astype(np.float64)
    for start, (inputs, target) in zip(range(0, 120, 50),
                                       ArrayBatches(doubles, X["redshift"])
                                       .inference_batches(50, "cpu")):
        assert target is None and inputs["images"].dtype == torch.float32
        assert inputs["images"].is_contiguous()
        np.testing.assert_array_equal(inputs["images"].numpy(), images[start : start + 50])


# ---------------------------------------------------------------- same errors
def _error(call) -> BaseException:
    with pytest.raises((ValueError, KeyError, TypeError)) as caught:
        call()
    return caught.value


def _with_pixel(images, index, value):
    images = images.copy()
    images[index] = value
    return images


@pytest.mark.parametrize(
    ("index", "value", "dtype"),
    [
        ((40, 0, 0, 0), np.nan, np.float32),  # second batch
        ((119, 2, 5, 5), np.inf, np.float32),  # last batch
        ((3, 1, 2, 2), -np.inf, np.float32),
        ((70, 0, 9, 9), 1e300, np.float64),  # finite in float64, infinite in float32
    ],
)
def test_bad_pixels_get_the_error_of_as_inputs(data, fitted, index, value, dtype):
    X, _ = data
    images = _with_pixel(X["images"].astype(dtype), index, value)
    z = X["redshift"]
    with warnings.catch_warnings():
        # 1e300 overflows in the float32 cast; as_inputs warns about that too
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = _error(lambda: as_inputs(images, z, counts=False))
        got = _error(lambda: fitted.predict({"images": images, "redshift": z}))
    assert type(got) is type(expected) and str(got) == str(expected)
    assert f"(first in sample {index[0]})" in str(got)


def test_a_bad_batch_raises_before_the_network_sees_it(data, fitted):
    X, _ = data
    images = _with_pixel(X["images"], (40, 0, 0, 0), np.nan)  # row 40: the second batch
    calls = []
    # The scan reads each batch in the network's standardisation, before any layer:
    # the first convolution must see the first batch only.
    first_layer = fitted.net_.module_.features[0]
    hook = first_layer.register_forward_pre_hook(lambda module, args: calls.append(1))
    try:
        with pytest.raises(ValueError, match=r"1 NaN or inf.* \(first in sample 40\)"):
            fitted.predict({"images": images, "redshift": X["redshift"]})
    finally:
        hook.remove()
    assert len(calls) == 1  # the first batch only


@pytest.mark.parametrize(
    "bad",
    [
        lambda X: {"images": X["images"]},
        lambda X: {"images": X["images"][:, 0], "redshift": X["redshift"]},
        lambda X: {"images": X["images"], "redshift": X["redshift"][:-1]},
        lambda X: {"images": X["images"], "redshift": np.where(
            np.arange(120) == 7, np.nan, X["redshift"])},
        lambda X: {"images": X["images"], "redshift": np.zeros(120)},
        lambda X: {"images": X["images"], "redshift": X["redshift"][None]},
        lambda X: {"images": X["images"].astype(str), "redshift": X["redshift"]},
        lambda X: {"images": X["images"] + 1j, "redshift": X["redshift"]},
        lambda X: X["images"],
    ],
    ids=["no-redshift", "3-d", "length", "nan-z", "zero-z", "2-d-z", "strings", "complex",
         "array-only"],
)
def test_malformed_inputs_get_the_error_of_as_inputs(data, fitted, bad):
    X, _ = data
    wrong = bad(X)
    expected = _error(lambda: as_inputs(wrong, counts=False))
    got = _error(lambda: fitted.predict(wrong))
    assert type(got) is type(expected) and str(got) == str(expected)


def test_deferred_check_raises_after_the_last_batch():
    """The GPU path: extremes stay on the device and are judged once, at the end."""
    raised = []

    def on_non_finite():
        raised.append(True)
        raise ValueError("images contains 1 NaN or infinite value(s) (first in sample 2).")

    scan = InputScan(on_non_finite, check_each_batch=False)
    scan.update(torch.ones(2, 3, 4, 4), torch.tensor([0.1, 0.2]))
    bad = torch.ones(2, 3, 4, 4)
    bad[0, 1, 2, 2] = float("nan")
    scan.update(bad, torch.tensor([0.3, 0.4]))
    scan.update(torch.ones(2, 3, 4, 4), torch.tensor([0.5, 0.6]))  # NaN is kept
    assert raised == []
    with pytest.raises(ValueError, match="first in sample 2"):
        scan.ranges()


def test_scan_sees_what_the_statistics_pass_saw(data):
    X, _ = data
    scan = InputScan(on_non_finite=lambda: None)
    with torch.inference_mode():
        for inputs, _ in ArrayBatches(X["images"], X["redshift"]).inference_batches(32, "cpu"):
            scan.update(inputs["images"], inputs["redshift"])
    ranges, summary = scan.ranges(), band_summary(X["images"])
    np.testing.assert_allclose(ranges.total_min, summary.total_min, rtol=1e-6)
    np.testing.assert_allclose(ranges.total_max, summary.total_max, rtol=1e-6)
    np.testing.assert_array_equal(ranges.redshift, [X["redshift"].min(), X["redshift"].max()])


def test_huge_finite_pixels_are_not_taken_for_infinite_ones():
    scan = InputScan(on_non_finite=lambda: None)
    images = torch.full((2, 1, 4, 4), 3e37)  # float32 totals overflow; float64 ones do not
    scan.update(images, torch.tensor([0.1, 0.2]))
    np.testing.assert_allclose(scan.ranges().total_max, [16 * 3e37], rtol=1e-6)


def test_out_of_domain_warning_is_unchanged(data, fitted):
    X, _ = data
    bright = X["images"] * 1e6
    far_z = X["redshift"] * 20
    expected = far_outside(fitted.band_total_range_, fitted.redshift_range_,
                           band_summary(bright), far_z)
    assert expected  # bands and redshift
    with pytest.warns(OutOfDomainWarning) as record:
        fitted.predict({"images": bright, "redshift": far_z})
    message = str(record[0].message)
    assert all(problem in message for problem in expected)


# ---------------------------------------------------------------- compile
def test_compile_is_off_by_default():
    assert ClusterMassRegressor().compile is False


def _broken_compile(*args, **kwargs):
    raise RuntimeError("InvalidCxxCompiler: no working C++ compiler found")


def test_compile_falls_back_to_eager_with_one_warning(data, fitted, monkeypatch):
    X, y = data
    monkeypatch.setattr(torch, "compile", _broken_compile)
    model = ClusterMassRegressor(**dict(SETTINGS, compile=True))
    with pytest.warns(CompilationFallbackWarning, match="no working C\\+\\+ compiler") as record:
        model.fit(X, y)
        first = model.predict(X)
    assert len(record) == 1
    np.testing.assert_array_equal(model.predict(X), first)  # no second warning
    np.testing.assert_array_equal(first, fitted.predict(X))  # eager: as compile=False


def test_a_compiled_call_that_fails_falls_back_too(monkeypatch):
    def fails_when_called(*args, **kwargs):
        raise RuntimeError("BackendCompilerFailed: inductor crashed")

    monkeypatch.setattr(torch, "compile", lambda module, **kwargs: fails_when_called)
    module = torch.nn.Linear(3, 1)
    wrapped = CompiledModule(module)
    x = torch.ones(2, 3)
    with pytest.warns(CompilationFallbackWarning, match="inductor crashed"):
        out = wrapped(x)
    torch.testing.assert_close(out, module(x), rtol=0, atol=0)
    assert wrapped.failed
    wrapped(x)  # eager from now on, silently


def test_compiled_forward_runs_training_and_prediction(data, fitted, monkeypatch):
    X, y = data
    calls = []

    def fake_compile(module, **kwargs):
        def compiled(*args, **kwargs):
            calls.append(torch.is_inference_mode_enabled())
            return module(*args, **kwargs)

        return compiled

    monkeypatch.setattr(torch, "compile", fake_compile)
    model = ClusterMassRegressor(**dict(SETTINGS, compile=True)).fit(X, y)
    assert False in calls and True in calls  # training steps and calibration/prediction
    n_calls = len(calls)
    np.testing.assert_array_equal(model.predict(X), fitted.predict(X))
    assert len(calls) == n_calls + 4  # 120 clusters in batches of 32
    # the module itself stays plain: same state dict keys, picklable without the graph
    assert set(model.net_.module_.state_dict()) == set(fitted.net_.module_.state_dict())
    assert "compiled_" in vars(model.net_) and "compiled_" not in model.net_.__getstate__()
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict(X),
                                  fitted.predict(X))


def _recording_compile(record):
    """A stand-in for torch.compile that records inductor's freezing flag at each call."""
    from torch._inductor import config

    def fake_compile(module, **kwargs):
        record.append(("compile", module))

        def compiled(*args, **kwargs):
            record.append(("call", config.freezing))
            return module(*args, **kwargs)

        return compiled

    return fake_compile


def test_inference_runs_a_frozen_copy_compiled_again_when_the_weights_change(monkeypatch):
    """Issue 29: predict compiles with inductor freezing, scoped to the call."""
    from torch._inductor import config

    record = []
    monkeypatch.setattr(torch, "compile", _recording_compile(record))
    module = torch.nn.Linear(3, 1)
    wrapped = CompiledModule(module)
    x = torch.ones(2, 3)
    with torch.inference_mode():
        first = wrapped.inference(x)
        wrapped.inference(x)
    assert [kind for kind, _ in record] == ["compile", "call", "call"]
    assert record[1][1] is True and not config.freezing  # frozen inside, restored after
    copy_ = record[0][1]
    assert copy_ is not module and not copy_.training
    torch.testing.assert_close(first, module(x).detach(), rtol=0, atol=0)
    with torch.no_grad():
        module.weight.add_(1.0)  # as an optimizer step does
    with torch.inference_mode():
        second = wrapped.inference(x)
    assert [kind for kind, _ in record].count("compile") == 2  # a fresh frozen copy
    torch.testing.assert_close(second, module(x).detach(), rtol=0, atol=0)
    assert "_frozen" in vars(wrapped) and pickle.loads(pickle.dumps(wrapped))._frozen is None


def test_frozen_inference_that_fails_falls_back_with_one_warning(monkeypatch):
    def fails_when_called(*args, **kwargs):
        raise RuntimeError("BackendCompilerFailed: freezing crashed")

    monkeypatch.setattr(torch, "compile", lambda module, **kwargs: fails_when_called)
    module = torch.nn.Linear(3, 1)
    wrapped = CompiledModule(module)
    x = torch.ones(2, 3)
    with pytest.warns(CompilationFallbackWarning, match="freezing crashed"):
        with torch.inference_mode():
            out = wrapped.inference(x)
    torch.testing.assert_close(out, module(x).detach(), rtol=0, atol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wrapped.inference(x)  # eager from now on, silently
        wrapped(x)  # the training path too


@pytest.mark.slow
@pytest.mark.filterwarnings(
    "ignore:.*torch.jit.script_method.*deprecated:DeprecationWarning",
    "ignore:.*torch.jit.script_method.*deprecated:FutureWarning",
)
def test_real_compilation_gives_the_eager_predictions():
    """torch.compile for real (about a minute of compilation on 2 CPU cores).

    Prediction runs the frozen graph (issue 29): within float32 tolerance of eager,
    for full and partial batches (70 clusters in batches of 32), and again after the
    weights change.
    """
    X, y = make_toy_clusters(70, seed=1)
    settings = dict(TINY, max_epochs=1)
    compiled = ClusterMassRegressor(**settings, compile=True).fit(X, y)
    eager = ClusterMassRegressor(**settings).fit(X, y)
    np.testing.assert_allclose(compiled.predict(X), eager.predict(X), rtol=0, atol=1e-5)
    assert not compiled.net_.compiled_.failed
    assert compiled.net_.compiled_._frozen is not None
    with torch.no_grad():  # new weights in place: the frozen graph must follow them
        for name, tensor in compiled.net_.module_.state_dict().items():
            tensor.copy_(eager.net_.module_.state_dict()[name] * 1.01)
            eager.net_.module_.state_dict()[name].mul_(1.01)
    np.testing.assert_allclose(compiled.predict(X), eager.predict(X), rtol=0, atol=1e-5)


# ---------------------------------------------------------------- pinned copies
def test_pinned_transfer_only_for_cuda_devices():
    assert not pinned_transfer("cpu")
    assert pinned_transfer("cuda") and pinned_transfer(torch.device("cuda", 1))


def test_cpu_prediction_never_pins(data, fitted, monkeypatch):
    X, _ = data
    expected = fitted.predict(X)

    def no_pinning(*args, **kwargs):
        raise AssertionError("pinned memory on the CPU path")

    monkeypatch.setattr(_inference, "PinnedStaging", no_pinning)
    monkeypatch.setattr(_inference, "_pinned_empty", no_pinning)
    monkeypatch.setattr(torch.Tensor, "pin_memory", no_pinning)
    np.testing.assert_array_equal(fitted.predict(X), expected)


def test_cuda_batches_go_through_pinned_staging(data, monkeypatch):
    X, _ = data
    made, sent = [], []

    class Staging:
        def __init__(self, device, batch_shape):
            made.append((str(device), batch_shape))

        def send(self, images, redshift):
            sent.append((images.dtype, len(images)))
            return torch.zeros(len(images)), torch.zeros(len(redshift))

    monkeypatch.setattr(_inference, "PinnedStaging", Staging)
    view = ArrayBatches(X["images"].astype(np.float64), X["redshift"])
    batches = list(view.inference_batches(50, "cuda"))
    assert made == [("cuda", (50, 3, 20, 20))]
    assert sent == [(np.float64, 50), (np.float64, 50), (np.float64, 20)]  # converted there
    assert len(batches) == 3


def test_pinned_staging_converts_and_reuses_a_buffer_only_after_its_copy(monkeypatch):
    events = []

    class Event:
        def __init__(self):
            self.recorded = self.waited = False
            events.append(self)

        def record(self):
            self.recorded = True

        def synchronize(self):
            assert self.recorded
            self.waited = True

    monkeypatch.setattr(_inference, "_pinned_empty", lambda shape: torch.empty(shape))
    monkeypatch.setattr(_inference, "_copy_done_event", Event)
    staging = PinnedStaging("cpu", (4, 2, 3, 3))  # "cpu": .to() keeps the host buffer
    rng = np.random.default_rng(0)
    images, redshift = rng.random((10, 2, 3, 3)), rng.random(10)
    for start in range(0, 10, 4):
        got, z = staging.send(images[start : start + 4], redshift[start : start + 4])
        np.testing.assert_array_equal(got.numpy(), images[start : start + 4].astype(np.float32))
        np.testing.assert_array_equal(z.numpy(), redshift[start : start + 4].astype(np.float32))
    # the third batch reused the first buffer: it waited for the first copy, no other
    assert [event.waited for event in events] == [True, False, False]


def test_file_batches_are_pinned_only_for_cuda(data, tmp_path):
    X, y = data
    path = tmp_path / "clusters.h5"
    write_hdf5(path, X, y)
    from sk_clustermass.datasets import HDF5ClusterDataset

    view = StreamingClusters(HDF5ClusterDataset(path), [(0, 120)], None)
    assert view.inference_batches(32, "cuda").pin_memory is True
    assert view.inference_batches(32, "cpu").pin_memory is False


@pytest.mark.gpu
def test_cuda_prediction_matches_cpu_and_keeps_the_errors(data):
    X, y = data
    model = ClusterMassRegressor(**dict(SETTINGS, device="cuda")).fit(X, y)
    mean = model.predict(X)
    doubles = {"images": X["images"].astype(np.float64), "redshift": X["redshift"]}
    np.testing.assert_array_equal(model.predict(doubles), mean)
    cpu = copy.deepcopy(model)
    cpu.net_.device = "cpu"
    cpu.net_.module_.to("cpu")
    np.testing.assert_allclose(cpu.predict(X), mean, atol=1e-4)
    images = _with_pixel(X["images"], (40, 0, 0, 0), np.nan)
    expected = _error(lambda: as_inputs(images, X["redshift"], counts=False))
    got = _error(lambda: model.predict({"images": images, "redshift": X["redshift"]}))
    assert str(got) == str(expected)


# ---------------------------------------------------------------- the exposure
# A model fitted with use_exposure=True reads X["exposure"] in the same single pass:
# ArrayBatches, the pinned staging, the HDF5 batches and the compiled forward carry it.
@pytest.fixture(scope="module")
def exposure_data(data):
    X, y = data
    rng = np.random.default_rng(11)
    exposure = np.exp(rng.uniform(np.log(300.0), np.log(3000.0), len(y)))
    return as_inputs(X["images"], X["redshift"], exposure=exposure), y


@pytest.fixture(scope="module")
def exposure_fitted(exposure_data):
    X, y = exposure_data
    return ClusterMassRegressor(**dict(SETTINGS, use_exposure=True)).fit(X, y)


def _module_reference(model, images, redshift, exposure):
    """What predict should return, computed by the module itself in eval mode: the
    whole arrays as float32, in-order batches of the net's batch size, no_grad."""
    net = model.net_
    images = torch.from_numpy(np.asarray(images, dtype=np.float32))
    redshift = torch.from_numpy(np.asarray(redshift, dtype=np.float32))
    exposure = torch.from_numpy(np.asarray(exposure, dtype=np.float32))
    net.module_.eval()
    with torch.no_grad():
        raw = torch.cat([
            net.module_(images[start : start + net.batch_size],
                        redshift[start : start + net.batch_size],
                        exposure[start : start + net.batch_size])
            for start in range(0, len(images), net.batch_size)
        ])
    return _mass_and_width(model, raw)


@pytest.mark.parametrize(
    "convert",
    [lambda images: images, lambda images: images.astype(np.float64)],
    ids=["float32", "float64"],
)
def test_predict_with_exposure_equals_the_module_in_eval_mode(
    exposure_data, exposure_fitted, convert
):
    X, _ = exposure_data
    model = exposure_fitted
    assert model.net_.module_.use_exposure
    images = convert(X["images"])
    given = {"images": images, "redshift": X["redshift"], "exposure": X["exposure"]}
    mean, std = model.predict(given, return_std=True)
    expected_mean, expected_std = _module_reference(model, images, X["redshift"],
                                                    X["exposure"])
    np.testing.assert_array_equal(mean, expected_mean)
    np.testing.assert_array_equal(std, expected_std)
    np.testing.assert_array_equal(model.predict(X), expected_mean)
    # the exposure reached the network: other exposures, other predictions
    longer = dict(given, exposure=X["exposure"] * 1.5)  # within the domain
    assert not np.array_equal(model.predict(longer), mean)
    np.testing.assert_array_equal(
        model.predict(longer),
        _module_reference(model, images, X["redshift"], longer["exposure"])[0],
    )


def test_predict_with_exposure_and_test_time_augmentation(exposure_data, exposure_fitted):
    X, _ = exposure_data
    model = copy.deepcopy(exposure_fitted)
    model.test_time_augmentation = True
    images = torch.from_numpy(X["images"])
    redshift, exposure = torch.from_numpy(X["redshift"]), torch.from_numpy(X["exposure"])
    module, size = model.net_.module_.eval(), model.net_.batch_size
    with torch.no_grad():
        raw = torch.cat([
            combine_outputs([module(view, redshift[rows], exposure[rows])
                             for view in square_symmetries(images[rows])])
            for rows in (slice(start, start + size) for start in range(0, len(images), size))
        ]).numpy().astype(np.float64)
    np.testing.assert_allclose(model.predict(X), raw[:, 0] * model.y_scale_ + model.y_mean_,
                               rtol=0, atol=1e-12)


def test_predict_without_exposure_raises_the_clear_error(exposure_data, exposure_fitted):
    X, _ = exposure_data
    calls = []
    hook = exposure_fitted.net_.module_.register_forward_pre_hook(
        lambda module, args: calls.append(1))
    plain = {"images": X["images"], "redshift": X["redshift"]}
    try:
        for given in (plain, as_inputs(X["images"], X["redshift"]),
                      dict(plain, images=X["images"].astype(np.float64))):
            with pytest.raises(ValueError, match=(
                    r"this model was fitted with use_exposure=True: predict needs "
                    r"X\['exposure'\].*keys \['images', 'redshift'\].*Pass exposure= to "
                    r"as_inputs.*or use a model fitted with use_exposure=False")):
                exposure_fitted.predict(given)
    finally:
        hook.remove()
    assert calls == []  # refused before the network ran


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (lambda e: e[:-1], r"exposure must have shape \(n_samples,\) = \(120,\)"),
        (lambda e: np.where(np.arange(120) == 50, np.nan, e), "exposure contains 1 NaN"),
        (lambda e: np.where(np.arange(120) == 7, 0.0, e), "exposure must be > 0 s"),
        (lambda e: e.astype(str), "exposure"),
    ],
    ids=["length", "nan", "zero", "strings"],
)
def test_predict_with_invalid_exposure_gets_the_error_of_as_inputs(
    exposure_data, exposure_fitted, fitted, bad, match
):
    X, _ = exposure_data
    wrong = {"images": X["images"], "redshift": X["redshift"], "exposure": bad(X["exposure"])}
    expected = _error(lambda: as_inputs(wrong, counts=False))
    assert expected.args and isinstance(expected, (ValueError, TypeError))
    for model in (exposure_fitted, fitted):  # checked as as_inputs does, used or not
        got = _error(lambda model=model: model.predict(wrong))
        assert type(got) is type(expected) and str(got) == str(expected)
    with pytest.raises((ValueError, TypeError), match=match):
        exposure_fitted.predict(wrong)


def test_exposure_of_a_model_without_it_is_ignored_by_predict(exposure_data, fitted):
    X, _ = exposure_data
    assert not fitted._uses_exposure()
    np.testing.assert_array_equal(fitted.predict(X), fitted.predict(
        {"images": X["images"], "redshift": X["redshift"]}))


def test_hdf5_predict_reads_the_file_exposure(exposure_data, exposure_fitted, tmp_path):
    X, y = exposure_data
    path = tmp_path / "with_exposure.h5"
    write_hdf5(path, X, y)
    np.testing.assert_allclose(exposure_fitted.predict(path), exposure_fitted.predict(X),
                               rtol=1e-12)
    plain = tmp_path / "plain.h5"
    write_hdf5(plain, as_inputs(X["images"], X["redshift"]), y)
    with pytest.raises(ValueError, match=r"predict needs X\['exposure'\].*holds no /exposure"):
        exposure_fitted.predict(plain)


def test_array_batches_carry_the_exposure(exposure_data):
    X, _ = exposure_data
    batches = list(ArrayBatches(X["images"].astype(np.float64), X["redshift"], X["exposure"])
                   .inference_batches(50, "cpu"))
    assert [sorted(inputs) for inputs, _ in batches] == [["exposure", "images", "redshift"]] * 3
    got = torch.cat([inputs["exposure"] for inputs, _ in batches]).numpy()
    np.testing.assert_array_equal(got, X["exposure"])
    assert all(inputs["exposure"].dtype == torch.float32 for inputs, _ in batches)
    without = next(iter(ArrayBatches(X["images"], X["redshift"]).inference_batches(50, "cpu")))
    assert "exposure" not in without[0]


def test_cuda_batches_send_the_exposure_through_pinned_staging(exposure_data, monkeypatch):
    X, _ = exposure_data
    sent = []

    class Staging:
        def __init__(self, device, batch_shape):
            pass

        def send(self, images, *columns):
            sent.append([len(column) for column in columns])
            return (torch.zeros(len(images)),
                    *(torch.from_numpy(np.asarray(c, dtype=np.float32)) for c in columns))

    monkeypatch.setattr(_inference, "PinnedStaging", Staging)
    view = ArrayBatches(X["images"], X["redshift"], X["exposure"])
    batches = list(view.inference_batches(50, "cuda"))
    assert sent == [[50, 50], [50, 50], [20, 20]]  # redshift and exposure, every batch
    got = torch.cat([inputs["exposure"] for inputs, _ in batches]).numpy()
    np.testing.assert_array_equal(got, X["exposure"])


def test_pinned_staging_copies_the_exposure_too(monkeypatch):
    made = []

    def empty(shape):
        made.append(shape)
        return torch.empty(shape)

    class Event:
        def record(self):
            pass

        def synchronize(self):
            pass

    monkeypatch.setattr(_inference, "_pinned_empty", empty)
    monkeypatch.setattr(_inference, "_copy_done_event", Event)
    staging = PinnedStaging("cpu", (4, 2, 3, 3))
    rng = np.random.default_rng(1)
    images, redshift = rng.random((10, 2, 3, 3)), rng.random(10)
    exposure = rng.uniform(300, 3000, 10)
    for start in range(0, 10, 4):
        rows = slice(start, start + 4)
        got, z, t = staging.send(images[rows], redshift[rows], exposure[rows])
        np.testing.assert_array_equal(got.numpy(), images[rows].astype(np.float32))
        np.testing.assert_array_equal(z.numpy(), redshift[rows].astype(np.float32))
        np.testing.assert_array_equal(t.numpy(), exposure[rows].astype(np.float32))
    # two slots, each an image, a redshift and an exposure buffer, made once
    assert sorted(made) == sorted([(4, 2, 3, 3)] * 2 + [(4,)] * 4)


def test_file_batches_pin_the_exposure_for_cuda(exposure_data, tmp_path, monkeypatch):
    X, y = exposure_data
    path = tmp_path / "clusters.h5"
    write_hdf5(path, X, y)
    from sk_clustermass.datasets import HDF5ClusterDataset

    dataset = HDF5ClusterDataset(path)
    pinned = []

    def fake_pin(tensor):
        pinned.append(tensor.shape)
        return tensor.clone()

    monkeypatch.setattr(torch.Tensor, "pin_memory", fake_pin)
    view = StreamingClusters(dataset, [(0, 120)], None, exposure=dataset.read_exposure())
    batches = list(view.inference_batches(32, "cuda"))
    got = torch.cat([inputs["exposure"] for inputs, _ in batches]).numpy()
    np.testing.assert_array_equal(got, X["exposure"])
    # images, redshift and exposure of each of the 4 batches
    assert len(pinned) == 3 * 4 and pinned.count(torch.Size([32])) == 2 * 3


def test_compiled_forward_gets_the_exposure(exposure_data, exposure_fitted, monkeypatch):
    X, y = exposure_data
    calls = []

    def fake_compile(module, **kwargs):
        def compiled(*args, **kwargs):
            exposure = args[2] if len(args) > 2 else kwargs.get("exposure")
            calls.append((torch.is_inference_mode_enabled(), exposure is not None))
            return module(*args, **kwargs)

        return compiled

    monkeypatch.setattr(torch, "compile", fake_compile)
    settings = dict(SETTINGS, use_exposure=True, compile=True)
    model = ClusterMassRegressor(**settings).fit(X, y)
    assert (False, True) in calls and (True, True) in calls  # training and calibration
    assert all(has_exposure for _, has_exposure in calls)
    n_calls = len(calls)
    np.testing.assert_array_equal(model.predict(X), exposure_fitted.predict(X))
    assert calls[n_calls:] == [(True, True)] * 4


def test_compile_fallback_with_exposure_is_eager(exposure_data, exposure_fitted, monkeypatch):
    X, y = exposure_data
    monkeypatch.setattr(torch, "compile", _broken_compile)
    model = ClusterMassRegressor(**dict(SETTINGS, use_exposure=True, compile=True))
    with pytest.warns(CompilationFallbackWarning):
        model.fit(X, y)
    np.testing.assert_array_equal(model.predict(X), exposure_fitted.predict(X))


@pytest.mark.gpu
def test_cuda_prediction_with_exposure_matches_cpu(exposure_data, tmp_path):
    X, y = exposure_data
    model = ClusterMassRegressor(**dict(SETTINGS, use_exposure=True, device="cuda")).fit(X, y)
    mean = model.predict(X)
    doubles = {"images": X["images"].astype(np.float64), "redshift": X["redshift"],
               "exposure": X["exposure"]}
    np.testing.assert_array_equal(model.predict(doubles), mean)  # pinned staging
    path = tmp_path / "clusters.h5"
    write_hdf5(path, X, y)
    np.testing.assert_allclose(model.predict(path), mean, atol=1e-6)  # pinned file batches
    cpu = copy.deepcopy(model)
    cpu.net_.device = "cpu"
    cpu.net_.module_.to("cpu")
    np.testing.assert_allclose(cpu.predict(X), mean, atol=1e-4)
    with pytest.raises(ValueError, match=r"predict needs X\['exposure'\]"):
        model.predict({"images": X["images"], "redshift": X["redshift"]})


# ---------------------------------------------------------------- CPU chunks (issue 29)
def test_cpu_inference_runs_large_batches_in_equal_cache_sized_chunks(data, fitted,
                                                                      monkeypatch):
    """Issue 29: predict at batch 1024 ran 1.3-1.6x slower per cluster than at 64."""
    X, _ = data
    model = copy.deepcopy(fitted)
    module = model.net_.module_
    per_cluster = 6 * 20 * 20 * 4  # TINY's 6 filters on the toy clusters' 20x20 pixels
    assert tuple(X["images"].shape[2:]) == (20, 20)
    monkeypatch.setattr(_inference, "CPU_CHUNK_BYTES", 40 * per_cluster)
    assert _inference.cpu_chunk_size(X["images"].shape, module) == 40
    sizes = []
    hook = module.register_forward_pre_hook(lambda _, args: sizes.append(len(args[0])))
    model.set_params(batch_size=100)
    model.net_.set_params(batch_size=100)
    try:
        mean, std = model.predict(X, return_std=True)
    finally:
        hook.remove()
    assert sizes == [34, 33, 33, 20]  # 120 clusters read in batches of 100
    expected_mean, expected_std = fitted.predict(X, return_std=True)
    np.testing.assert_allclose(mean, expected_mean, rtol=0, atol=1e-6)
    np.testing.assert_allclose(std, expected_std, rtol=1e-6)


def test_bad_pixels_are_still_found_in_any_chunk(data, fitted, monkeypatch):
    X, _ = data
    monkeypatch.setattr(_inference, "CPU_CHUNK_BYTES", 1)  # one cluster per chunk
    images = X["images"].copy()
    images[117, 0, 3, 3] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        fitted.predict(as_inputs(images, X["redshift"], counts=False))


def _scan_batch() -> torch.Tensor:
    """Log-stretched counts with an empty cube, a constant cube and a near-constant one."""
    rng = np.random.default_rng(12)
    images = np.log1p(rng.poisson(0.8, (12, 3, 20, 20))).astype(np.float32)
    images[2] = 0.0
    images[5] = 1.7
    images[8] = 0.4
    images[8, 1, 3, 4] = 0.5
    return torch.from_numpy(images)


def test_the_scan_from_the_centred_batch_sees_what_the_plain_scan_sees():
    """The scan fed by the network's standardisation (observe_centred) gives the ranges
    of the scan that sums the batch itself: the same constant cubes, totals equal to
    float32 rounding, and an empty cube's totals exactly 0."""
    images, redshift = _scan_batch(), torch.linspace(0.1, 0.9, 12)
    band_mean = torch.tensor([0.4, 0.55, 0.3]).reshape(1, 3, 1, 1)
    plain, fed = InputScan(lambda: None), InputScan(lambda: None)
    for rows in (slice(0, 7), slice(7, 12)):
        plain.update(images[rows], redshift[rows])
        fed.observe_centred(images[rows], images[rows] - band_mean, band_mean, redshift[rows])
    expected, seen = plain.ranges(), fed.ranges()
    assert seen.n_flat == expected.n_flat == 2
    assert seen.total_min.tolist() == [0.0, 0.0, 0.0]  # the empty cube, exactly
    np.testing.assert_allclose(seen.total_max, expected.total_max, rtol=1e-6)
    np.testing.assert_allclose(seen.cube_total, expected.cube_total, rtol=1e-6)
    np.testing.assert_array_equal(seen.redshift, expected.redshift)


def test_a_scan_fed_both_ways_merges_the_batches():
    """Batches summed by the scan itself (a GPU's, or an overflowing one) and batches
    observed in the network (on the host) end in one set of ranges."""
    images, redshift = _scan_batch(), torch.linspace(0.1, 0.9, 12)
    band_mean = torch.tensor([0.4, 0.55, 0.3]).reshape(1, 3, 1, 1)
    plain, mixed = InputScan(lambda: None), InputScan(lambda: None)
    plain.update(images, redshift)
    mixed.update(images[7:], redshift[7:])
    mixed.observe_centred(images[:7], images[:7] - band_mean, band_mean, redshift[:7])
    expected, seen = plain.ranges(), mixed.ranges()
    assert seen.n_flat == expected.n_flat == 2
    np.testing.assert_allclose(seen.total_min, expected.total_min, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(seen.total_max, expected.total_max, rtol=1e-6)
    np.testing.assert_array_equal(seen.redshift, expected.redshift)


def test_a_nan_pixel_seen_in_the_centred_batch_raises_the_input_error():
    images = _scan_batch()
    images[4, 0, 1, 1] = float("nan")
    band_mean = torch.full((1, 3, 1, 1), 0.5)
    scan = InputScan(lambda: None)
    with pytest.raises(ValueError, match="NaN or infinite"):
        scan.observe_centred(images, images - band_mean, band_mean, torch.full((12,), 0.3))


def test_prediction_scans_through_the_network_on_the_cpu_and_leaves_no_observer(
        data, fitted, monkeypatch):
    X, _ = data
    seen = []
    original = InputScan.observe_centred
    monkeypatch.setattr(InputScan, "observe_centred",
                        lambda self, *args: (seen.append(len(args[0])), original(self, *args)))
    fitted.predict(X)
    assert sum(seen) == len(X["images"])  # every cluster scanned once, in the network
    assert fitted.net_.module_.input_observer is None


def _assert_same_ranges(plain: InputScan, fed: InputScan):
    """The two scans' ranges agree: two constant cubes, totals to float32 rounding."""
    expected, seen = plain.ranges(), fed.ranges()
    assert seen.n_flat == expected.n_flat == 2
    np.testing.assert_allclose(seen.total_min, expected.total_min, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(seen.total_max, expected.total_max, rtol=1e-6)
    np.testing.assert_allclose(seen.cube_total, expected.cube_total, rtol=1e-6)
    np.testing.assert_array_equal(seen.redshift, expected.redshift)
    return seen


@pytest.mark.parametrize("rows_per_reduction", [1, 5, 4096])
def test_the_scan_reduces_its_kept_host_rows_to_the_same_ranges(monkeypatch,
                                                                rows_per_reduction):
    """However often the kept totals are reduced, the ranges are those of one pass;
    and a batch whose tensors are overwritten by the next (a reused buffer) is kept
    as it was."""
    monkeypatch.setattr(_inference, "HOST_ROWS_PER_REDUCTION", rows_per_reduction)
    images, redshift = _scan_batch(), torch.linspace(0.1, 0.9, 12)
    band_mean = torch.tensor([0.4, 0.55, 0.3]).reshape(1, 3, 1, 1)
    plain, fed = InputScan(lambda: None), InputScan(lambda: None)
    plain.update(images, redshift)
    buffer_images, buffer_redshift = torch.empty(3, 3, 20, 20), torch.empty(3)
    for start in range(0, 12, 3):  # one reused buffer, as a streaming reader may have
        buffer_images.copy_(images[start : start + 3])
        buffer_redshift.copy_(redshift[start : start + 3])
        fed.observe_centred(buffer_images, buffer_images - band_mean, band_mean,
                            buffer_redshift)
    _assert_same_ranges(plain, fed)


@pytest.mark.parametrize("rows_per_reduction", [1, 5, 4096])
@pytest.mark.parametrize("order", ["in order", "shuffled", "one copied batch"])
def test_a_scan_reading_rows_from_the_arrays_sees_what_the_plain_scan_sees(
        monkeypatch, rows_per_reduction, order):
    """With ``rows_of`` the scan leaves its bookkeeping to later and reads the rows from
    the arrays: the same ranges, constant cubes and exact empty-cube totals as the scan
    that sums each batch, whatever the order of the batches and if one is not a view."""
    monkeypatch.setattr(_inference, "HOST_ROWS_PER_REDUCTION", rows_per_reduction)
    images, redshift = _scan_batch(), torch.linspace(0.1, 0.9, 12)
    array, z = images.numpy(), redshift.numpy().astype(np.float64)
    band_mean = torch.tensor([0.4, 0.55, 0.3]).reshape(1, 3, 1, 1)
    plain, fed = InputScan(lambda: None), InputScan(lambda: None, rows_of=(array, z))
    plain.update(images, redshift)
    starts = [0, 3, 6, 9] if order != "shuffled" else [6, 0, 9, 3]
    for start in starts:
        batch = images[start : start + 3]
        if order == "one copied batch" and start == 3:
            batch = batch.clone()  # not the array's memory: settled at once
        fed.observe_centred(batch, batch - band_mean, band_mean,
                            redshift[start : start + 3])
    if rows_per_reduction == 4096:  # nothing reduced yet: each row's totals, in feed order
        fed._settle_pending()
        fed_rows = np.concatenate([np.arange(start, start + 3) for start in starts])
        totals = images.numpy().sum(axis=(2, 3), dtype=np.float64)[fed_rows]
        np.testing.assert_allclose(fed._totals[:12], totals, rtol=1e-6, atol=1e-9)
        np.testing.assert_array_equal(fed._redshift[:12], redshift.numpy()[fed_rows])
        assert fed._host_n_flat == 2
    seen = _assert_same_ranges(plain, fed)
    assert seen.cube_total[0] == 0.0  # the empty cube's total, exactly


def test_only_float32_contiguous_arrays_back_the_scan():
    images = np.zeros((4, 2, 5, 5), dtype=np.float32)
    z = np.full(4, 0.3)
    assert _inference.ArrayBatches(images, z).backing_arrays() == (images, z)
    assert _inference.ArrayBatches(images.astype(np.float64), z).backing_arrays() is None
    assert _inference.ArrayBatches(images[:, :, ::2], z).backing_arrays() is None


def test_predict_defers_the_scan_only_for_views(monkeypatch, data, fitted):
    """A float32 input is scanned from its rows later, a float64 one batch by batch;
    both give the same predictions and the same out-of-domain verdict."""
    X, _ = data
    settled = []
    original = InputScan._settle
    monkeypatch.setattr(InputScan, "_settle",
                        lambda self, rows, *args: (settled.append(rows.stop - rows.start),
                                                   original(self, rows, *args)))
    as_float32 = fitted.predict({"images": X["images"].astype(np.float32),
                                 "redshift": X["redshift"]})
    assert settled == [len(X["images"])]  # once, all rows
    settled.clear()
    as_float64 = fitted.predict({"images": X["images"].astype(np.float64),
                                 "redshift": X["redshift"]})
    assert len(settled) == 4  # every batch of 32 at once
    np.testing.assert_array_equal(as_float32, as_float64)
