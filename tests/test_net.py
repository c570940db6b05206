"""ClusterNet: per-batch callbacks, the loss history, the precision of its outputs, and
what skorch's own callbacks see."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback, EpochScoring

from sk_clustermass import ClusterMassRegressor
from sk_clustermass.estimator._net import ClusterNet

from .conftest import TINY, make_toy_clusters


class BatchCounter(Callback):
    """Counts training and validation batches."""

    def initialize(self):
        self.calls = {True: 0, False: 0}
        return self

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        self.calls[training] += 1
        assert kwargs["loss"].ndim == 0 and kwargs["y_pred"].dtype == torch.float32


def test_only_callbacks_acting_per_batch_are_called_per_batch(toy_data):
    X, y = toy_data
    counter = BatchCounter()
    params = dict(TINY, max_epochs=2, precision="bf16", callbacks=[counter])
    model = ClusterMassRegressor(**params).fit(X, y)
    net = model.net_
    assert net._listeners("on_batch_end") == [counter]
    assert net._listeners("on_batch_begin") == []
    n_train = int(np.ceil(270 / TINY["batch_size"]))  # 300 clusters, 10% validation
    n_valid = int(np.ceil(30 / TINY["batch_size"]))
    assert counter.calls == {True: 2 * n_train, False: 2 * n_valid}
    for epoch in net.history:
        assert len(epoch["batches"]) == n_train + n_valid
        assert all(np.isfinite(batch.get("train_loss", batch.get("valid_loss")))
                   for batch in epoch["batches"])
        assert epoch["train_batch_count"] == n_train


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_weights_are_channels_last_in_both_precisions(toy_data, precision):
    X, y = toy_data
    model = ClusterMassRegressor(**dict(TINY, max_epochs=1), precision=precision).fit(X, y)
    for layer in model.net_.module_.features:
        if isinstance(layer, torch.nn.Conv2d):
            assert layer.weight.is_contiguous(memory_format=torch.channels_last)


def test_fp32_training_gives_the_same_numbers_with_either_weight_layout(toy_data, monkeypatch):
    """channels_last weights change the speed of the convolutions, not what they compute."""
    X, y = toy_data
    params = dict(TINY, max_epochs=2)
    channels_last = ClusterMassRegressor(**params).fit(X, y)
    plain_layout = ClusterNet.initialize_module

    def nchw_weights(net):
        plain_layout(net)
        net.module_.to(memory_format=torch.contiguous_format)
        return net

    monkeypatch.setattr(ClusterNet, "initialize_module", nchw_weights)
    nchw = ClusterMassRegressor(**params).fit(X, y)
    assert nchw.net_.module_.features[0].weight.is_contiguous()
    np.testing.assert_allclose(channels_last.net_.history[:, "train_loss"],
                               nchw.net_.history[:, "train_loss"], rtol=1e-5)
    np.testing.assert_allclose(channels_last.predict(X), nchw.predict(X), rtol=0, atol=1e-4)


def test_epoch_scoring_scores_the_mean_output():
    X, y = make_toy_clusters(120, seed=1)
    scoring = EpochScoring("r2", lower_is_better=False, name="valid_r2")
    model = ClusterMassRegressor(**dict(TINY, max_epochs=4, validation_fraction=0.25),
                                 callbacks=[("valid_r2", scoring)]).fit(X, y)
    scores = np.array(model.history_[:, "valid_r2"])
    assert scores.shape == (4,) and np.isfinite(scores).all()
    assert scores[-1] > scores[0]  # the mean gets better: a real R^2, not a constant
