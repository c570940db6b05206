"""ClusterNet: per-batch callbacks, the loss history, the precision of its outputs, and
what skorch's own callbacks see."""

from __future__ import annotations

import numpy as np
import torch
from skorch.callbacks import Callback, EpochScoring

from sk_clustermass import ClusterMassRegressor

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


def test_bf16_weights_are_channels_last_fp32_weights_untouched(toy_data):
    X, y = toy_data
    params = dict(TINY, max_epochs=1)
    bf16 = ClusterMassRegressor(**params, precision="bf16").fit(X, y)
    fp32 = ClusterMassRegressor(**params).fit(X, y)
    conv_bf16 = bf16.net_.module_.features[0].weight
    conv_fp32 = fp32.net_.module_.features[0].weight
    assert conv_bf16.is_contiguous(memory_format=torch.channels_last)
    assert conv_fp32.is_contiguous()
    assert not conv_fp32.is_contiguous(memory_format=torch.channels_last)


def test_epoch_scoring_scores_the_mean_output():
    X, y = make_toy_clusters(120, seed=1)
    scoring = EpochScoring("r2", lower_is_better=False, name="valid_r2")
    model = ClusterMassRegressor(**dict(TINY, max_epochs=4, validation_fraction=0.25),
                                 callbacks=[("valid_r2", scoring)]).fit(X, y)
    scores = np.array(model.history_[:, "valid_r2"])
    assert scores.shape == (4,) and np.isfinite(scores).all()
    assert scores[-1] > scores[0]  # the mean gets better: a real R^2, not a constant
