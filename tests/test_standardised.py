"""The training images standardised once per fit: same numbers, used only where it fits."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sk_clustermass import ClusterMassRegressor
from sk_clustermass.estimator import _standardised
from sk_clustermass.estimator._data import ClusterTensors, gather_rows
from sk_clustermass.estimator._data_protocol import STANDARDISED_KEY
from sk_clustermass.estimator._net import ClusterNet
from sk_clustermass.estimator._standardised import copy_budget_bytes, standardised_once

from .conftest import TINY


class BatchKinds:
    """Counts the training batches that arrive standardised, and those that do not."""

    def __init__(self, monkeypatch):
        self.standardised = self.raw = 0
        step = ClusterNet.train_step_single

        def counting_step(net, batch, **fit_params):
            if batch[0].get(STANDARDISED_KEY, False):
                self.standardised += 1
            else:
                self.raw += 1
            return step(net, batch, **fit_params)

        monkeypatch.setattr(ClusterNet, "train_step_single", counting_step)


def _fit_twice(X, y, monkeypatch, **params):
    """The same fit with the training images standardised once, and per batch."""
    once = ClusterMassRegressor(**params).fit(X, y)
    monkeypatch.setattr(ClusterNet, "standardise_once", False)
    per_batch = ClusterMassRegressor(**params).fit(X, y)
    monkeypatch.setattr(ClusterNet, "standardise_once", True)
    return once, per_batch


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("augment", [False, True])
def test_standardising_once_trains_to_the_same_numbers(toy_data, monkeypatch, precision,
                                                       augment):
    X, y = toy_data
    kinds = BatchKinds(monkeypatch)
    params = dict(TINY, max_epochs=2, precision=precision, augment=augment,
                  validation_fraction=0.2)
    once, per_batch = _fit_twice(X, y, monkeypatch, **params)
    n_batches = 2 * int(np.ceil(240 / TINY["batch_size"]))
    assert (kinds.standardised, kinds.raw) == (n_batches, n_batches)
    for key in ("train_loss", "valid_loss"):
        np.testing.assert_allclose(once.net_.history[:, key], per_batch.net_.history[:, key],
                                   rtol=1e-6)
    np.testing.assert_allclose(once.predict(X), per_batch.predict(X), rtol=0, atol=1e-5)


class PredictsOnValidation(Callback):
    """Records ``net.predict`` on the validation view after every epoch."""

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        net.history.record("valid_predictions", net.predict(dataset_valid).tolist())


def test_a_callback_predicting_on_the_validation_view_gets_the_same_predictions(monkeypatch):
    """A callback may predict on the validation view, which is then standardised."""
    from .conftest import make_toy_clusters

    X, y = make_toy_clusters(160, seed=3)

    def params():
        return dict(TINY, max_epochs=2, validation_fraction=0.25,
                    callbacks=[PredictsOnValidation()])

    once, per_batch = _fit_twice(X, y, monkeypatch, **params())
    predictions = np.array(once.net_.history[:, "valid_predictions"])
    assert predictions.shape == (2, 40) and np.all(np.isfinite(predictions))
    np.testing.assert_allclose(predictions, per_batch.net_.history[:, "valid_predictions"],
                               rtol=0, atol=1e-5)


def test_the_copy_is_not_made_beyond_the_memory_budget(toy_data, monkeypatch):
    X, y = toy_data
    kinds = BatchKinds(monkeypatch)
    monkeypatch.setattr(_standardised, "copy_budget_bytes", lambda device: 0)
    ClusterMassRegressor(**dict(TINY, max_epochs=1)).fit(X, y)
    assert kinds.standardised == 0 and kinds.raw > 0


def test_the_fitted_model_does_not_carry_the_copy(toy_data):
    X, y = toy_data
    model = ClusterMassRegressor(**dict(TINY, max_epochs=1)).fit(X, y)
    images_bytes = X["images"].astype(np.float32).nbytes
    assert len(pickle.dumps(model)) < images_bytes / 4


def _views(n=12, bands=3, size=5, rows=None):
    rng = np.random.default_rng(0)
    images = rng.poisson(3.0, (n, bands, size, size)).astype(np.float32)
    data = ClusterTensors.from_arrays(images, rng.uniform(0.1, 1, n).astype(np.float32),
                                      rng.normal(size=n).astype(np.float32))
    return data if rows is None else data.subset(torch.as_tensor(rows))


class _Module(torch.nn.Module):
    takes_standardised_images = True

    def __init__(self, bands=3):
        super().__init__()
        self.register_buffer("band_mean", torch.linspace(1, 3, bands).reshape(1, -1, 1, 1))
        self.register_buffer("band_scale", torch.linspace(0.5, 2, bands).reshape(1, -1, 1, 1))


@pytest.mark.parametrize("precision, dtype", [("fp32", torch.float32), ("bf16", torch.bfloat16)])
def test_standardised_views_hold_the_networks_input(precision, dtype):
    data = _views()
    train, valid = data.subset(torch.arange(0, 8)), data.subset(torch.arange(8, 12))
    module = _Module()
    new_train, new_valid = standardised_once(train, valid, module, precision, "cpu")
    assert new_train.standardised and new_valid.standardised
    assert new_train.images is new_valid.images  # one copy for both views
    assert new_train.images.dtype == dtype
    inputs, target = new_valid.take(torch.as_tensor([2, 0]))
    expected = ((data.images - module.band_mean) / module.band_scale).to(dtype)[[10, 8]]
    assert inputs[STANDARDISED_KEY] is True
    assert inputs["images"].is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(inputs["images"], expected)
    assert torch.equal(target, data.target[[10, 8]])


def test_views_it_cannot_prepare_are_returned_as_they_are(monkeypatch):
    data, module = _views(), _Module()
    other = _views()
    assert standardised_once(data, other, module, "fp32", "cpu") == (data, other)
    plain = torch.nn.Module()  # a network that standardises its own way
    plain.band_mean, plain.band_scale = module.band_mean, module.band_scale
    assert standardised_once(data, None, plain, "fp32", "cpu") == (data, None)
    prepared, _ = standardised_once(data, None, module, "fp32", "cpu")
    assert standardised_once(prepared, None, module, "fp32", "cpu")[0] is prepared
    streamed = object()  # e.g. an HDF5 view read in blocks
    assert standardised_once(streamed, None, module, "fp32", "cpu") == (streamed, None)


def test_the_memory_budget_is_a_share_of_what_is_available():
    budget = copy_budget_bytes("cpu")
    assert 0 <= budget <= _standardised._available_host_bytes()
    assert copy_budget_bytes("meta") == 0


def test_gather_rows_keeps_channels_last_images_channels_last():
    images = torch.randn(6, 10, 4, 4).contiguous(memory_format=torch.channels_last)
    index = torch.as_tensor([4, 1, 1])
    rows = gather_rows(images, index)
    assert rows.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(rows, images.index_select(0, index))
    plain = torch.randn(6, 3)
    assert torch.equal(gather_rows(plain, index), plain[index])
