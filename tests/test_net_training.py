"""The skorch net: divergence stop, weighted loss, lean inference (estimator._net)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sk_clustermass.estimator._data import ClusterTensors
from sk_clustermass.estimator._net import (
    EXPLODED_LOSS,
    NonFiniteLossError,
    StopOnNonFiniteLoss,
)


class FakeHistory(list):
    """A list of epoch records, like skorch's History for what the callback reads."""


class FakeNet:
    """Just what StopOnNonFiniteLoss touches: a module, a history and lr."""

    def __init__(self):
        self.module_ = torch.nn.Linear(2, 1)
        self.history = FakeHistory()
        self.lr = 0.5

    def epoch(self, **losses):
        self.history.append(dict(losses))


def _weights(net):
    return net.module_.weight.detach().clone()


@pytest.mark.parametrize(
    ("losses", "culprit"),
    [
        ({"train_loss": float("nan")}, "train_loss = nan"),
        ({"train_loss": 1.0, "valid_loss": float("inf")}, "valid_loss = inf"),
        ({"train_loss": 10 * EXPLODED_LOSS}, "train_loss = 1e\\+07"),
    ],
)
def test_divergence_restores_the_last_good_epoch(losses, culprit):
    net, stop = FakeNet(), StopOnNonFiniteLoss().initialize()
    net.epoch(train_loss=0.9, valid_loss=1.0)
    stop.on_epoch_begin(net)
    stop.on_epoch_end(net)
    good = _weights(net)
    with torch.no_grad():
        net.module_.weight.fill_(1e9)
    net.epoch(**losses)
    with pytest.raises(NonFiniteLossError, match=culprit) as error:
        stop.on_epoch_end(net)
    assert error.value.last_good_epoch == 1
    assert "last good epoch (1) were restored" in str(error.value)
    torch.testing.assert_close(_weights(net), good)


def test_sane_large_loss_is_not_divergence():
    net, stop = FakeNet(), StopOnNonFiniteLoss().initialize()
    net.epoch(train_loss=0.5 * EXPLODED_LOSS, valid_loss=1e12)  # overfit widths, not divergence
    stop.on_epoch_begin(net)
    stop.on_epoch_end(net)
    assert stop.last_good_epoch_ == 1


def test_divergence_in_the_first_epoch_of_a_resumed_fit_restores_the_starting_weights():
    net, stop = FakeNet(), StopOnNonFiniteLoss().initialize()
    net.history.extend([{"train_loss": 1.0}] * 4)  # epochs 1-4 restored from a checkpoint
    net.epoch()  # epoch 5 begins
    start = _weights(net)
    stop.on_epoch_begin(net)  # first epoch: the weights training resumes from
    with torch.no_grad():
        net.module_.weight.fill_(1e9)
    net.history[-1]["train_loss"] = float("nan")
    with pytest.raises(NonFiniteLossError, match=r"last good epoch \(4\)") as error:
        stop.on_epoch_end(net)
    assert error.value.last_good_epoch == 4
    torch.testing.assert_close(_weights(net), start)


def test_divergence_of_a_fresh_fit_says_no_weights_were_kept():
    net, stop = FakeNet(), StopOnNonFiniteLoss().initialize()
    net.epoch()
    stop.on_epoch_begin(net)
    net.history[-1]["train_loss"] = float("inf")
    with pytest.raises(NonFiniteLossError, match="no weights were kept") as error:
        stop.on_epoch_end(net)
    assert error.value.last_good_epoch == 0


def _toy_net(**kwargs):
    from sk_clustermass.estimator import network_parameters
    from sk_clustermass.estimator._data import BatchIterator
    from sk_clustermass.estimator._loss import MeanSquaredErrorLoss
    from sk_clustermass.estimator._module import ClusterMassCNN
    from sk_clustermass.estimator._net import ClusterNet
    from sk_clustermass.estimator._sources import FixedSplit

    module = {"n_bands": 1, "image_size": (8, 8), **network_parameters(
        n_filters=2, kernel_size=3, conv_layers=(1,), pool_size=2, dense_layers=(4,))}
    return ClusterNet(
        module=ClusterMassCNN, criterion=MeanSquaredErrorLoss, max_epochs=1, batch_size=4,
        iterator_train=BatchIterator, iterator_valid=BatchIterator,
        train_split=FixedSplit(None), **{f"module__{k}": v for k, v in module.items()},
        **{"regularizer": None, "regularization": 1e-4, "regularize": "kernel",
           "precision": "fp32", "compile_network": False, **kwargs},
    ).initialize()


def _tensors(n=8, weight=None):
    rng = np.random.default_rng(0)
    return ClusterTensors.from_arrays(
        rng.normal(size=(n, 1, 8, 8)).astype(np.float32),
        rng.uniform(0.1, 1, n).astype(np.float32), rng.normal(size=n), weight)


def test_weighted_loss_weights_each_cluster():
    net = _toy_net()
    data = _tensors(weight=np.array([0, 0, 0, 0, 2, 2, 2, 2], dtype=np.float32))
    batch = data.take(slice(0, 8))
    inputs, target = batch
    assert batch.weight is not None and "sample_weight" not in inputs
    y_pred = net.infer(inputs)  # the weight is not an input of the module
    weighted = net.get_loss(y_pred, target, X=inputs, weight=batch.weight)
    plain = net.get_loss(y_pred[4:], target[4:])
    torch.testing.assert_close(weighted, plain)  # mean(w * l) with w = (0, 0, 0, 0, 2, 2, 2, 2)


class RecordWhetherWeighted(Callback):
    def on_batch_begin(self, net, batch=None, **kwargs):
        self.seen = batch.weight is not None


def test_fit_with_and_without_weights_batches():
    flag = RecordWhetherWeighted()
    net = _toy_net(callbacks=[flag])
    net.fit(_tensors(), None)
    assert flag.seen is False
    net.fit(_tensors(weight=np.ones(8, dtype=np.float32)), None)
    assert flag.seen is True


def test_predict_raw_returns_outputs_and_targets_in_order():
    net = _toy_net()
    data = _tensors(n=10)
    raw, target = net.predict_raw(data, return_target=True)
    assert raw.shape == (10, 2) and raw.dtype == np.float64
    np.testing.assert_allclose(target, data.target.numpy())
    halves = np.concatenate([net.predict_raw(data.subset(torch.arange(5))),
                             net.predict_raw(data.subset(torch.arange(5, 10)))])
    np.testing.assert_allclose(raw, halves, atol=1e-6)  # float32 sums differ per batch


class EpochOnly(Callback):
    """Acts at the end of an epoch only: skorch's per-batch hooks are its no-ops."""

    def on_epoch_end(self, net, **kwargs):
        self.epochs = getattr(self, "epochs", 0) + 1


class CountGradients(Callback):
    def on_grad_computed(self, net, named_parameters, **kwargs):
        self.calls = getattr(self, "calls", 0) + 1


def test_per_batch_hooks_reach_only_the_callbacks_that_use_them():
    quiet, counter = EpochOnly(), CountGradients()
    # an instance attribute is not an override: were the hook called, it would record
    quiet.on_grad_computed = quiet.on_batch_begin = quiet.on_batch_end = (
        lambda *args, **kwargs: pytest.fail("a per-batch hook reached an epoch-only callback"))
    net = _toy_net(callbacks=[quiet, counter])
    net.max_epochs = 2
    net.fit(_tensors(n=12), None)
    assert quiet.epochs == 2
    assert counter.calls == 2 * 3  # 12 clusters in batches of 4, two epochs


def test_gradient_clipping_still_acts_per_batch():
    from skorch.callbacks import GradientNormClipping

    def largest_step(callbacks):
        torch.manual_seed(0)
        net = _toy_net(callbacks=callbacks, lr=1.0)  # plain SGD: the step is lr * gradient
        start = {k: v.clone() for k, v in net.module_.state_dict().items()}
        net.partial_fit(_tensors(n=12), None)
        return max((net.module_.state_dict()[k] - v).abs().max().item()
                   for k, v in start.items())

    assert largest_step([GradientNormClipping(1e-8)]) < 1e-6  # clipped at every step
    assert largest_step([]) > 1e-3
