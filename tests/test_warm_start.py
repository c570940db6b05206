"""warm_start: fine-tuning continues from the fitted (or loaded) weights."""

from __future__ import annotations

import numpy as np
import pytest

from sk_clustermass import ClusterMassRegressor, load_model, save_model
from tests.conftest import TINY, make_toy_clusters


def _params(**extra):
    return {**TINY, "max_epochs": 2, "patience": None, "random_state": 0, **extra}


def _weights(model):
    return {k: v.clone() for k, v in model.net_.module_.state_dict().items()}


def test_warm_start_continues_from_the_fitted_weights():
    X, y = make_toy_clusters(120, seed=0)
    model = ClusterMassRegressor(**_params(warm_start=True)).fit(X, y)
    before, y_scale = _weights(model), (model.y_mean_, model.y_scale_)
    X_new, y_new = make_toy_clusters(60, seed=1)
    model.set_params(max_epochs=1, lr=1e-5)
    model.fit(X_new, y_new + 0.5)  # another mass range: the target scale is kept
    assert (model.y_mean_, model.y_scale_) == y_scale
    after = _weights(model)
    change = max(float((after[k] - before[k]).abs().max()) for k in before
                 if before[k].dtype.is_floating_point)
    assert 0 < change < 1e-2  # a tiny step from the old weights, not a fresh start
    cold = ClusterMassRegressor(**_params(max_epochs=1, lr=1e-5)).fit(X_new, y_new + 0.5)
    cold_change = max(float((_weights(cold)[k] - before[k]).abs().max()) for k in before
                      if before[k].dtype.is_floating_point)
    assert cold_change > 10 * change


def test_warm_start_after_load_model(tmp_path):
    X, y = make_toy_clusters(100, seed=0)
    model = ClusterMassRegressor(**_params()).fit(X, y)
    save_model(model, tmp_path / "m.safetensors")
    loaded = load_model(tmp_path / "m.safetensors").set_params(warm_start=True, max_epochs=1,
                                                                lr=1e-6)
    loaded.fit(X, y)
    np.testing.assert_allclose(loaded.predict(X), model.predict(X), atol=1e-2)


def test_warm_start_needs_compatible_shapes_and_architecture():
    X, y = make_toy_clusters(60, seed=0)
    model = ClusterMassRegressor(**_params(warm_start=True)).fit(X, y)
    X_small, y_small = make_toy_clusters(60, seed=0, size=16)
    with pytest.raises(ValueError, match="bands and image size of the fitted network"):
        model.fit(X_small, y_small)
    model = ClusterMassRegressor(**_params(warm_start=True)).fit(X, y)
    model.set_params(n_filters=TINY["n_filters"] + 2)
    with pytest.raises(ValueError, match="architecture parameters"):
        model.fit(X, y)
    model.set_params(n_filters=TINY["n_filters"], checkpoint_dir="ckpt")
    with pytest.raises(ValueError, match="checkpoint_dir"):
        model.fit(X, y)


def test_cold_fit_is_unchanged_by_the_parameter():
    X, y = make_toy_clusters(60, seed=0)
    a = ClusterMassRegressor(**_params()).fit(X, y).predict(X)
    b = ClusterMassRegressor(**_params(warm_start=True)).fit(X, y).predict(X)
    np.testing.assert_array_equal(a, b)  # nothing to continue from: a normal fit


def test_a_warm_refit_appends_its_epochs_to_the_history():
    X, y = make_toy_clusters(60, seed=0)
    model = ClusterMassRegressor(**_params(warm_start=True)).fit(X, y)
    first = [row["train_loss"] for row in model.history_]
    model.set_params(max_epochs=3).fit(X, y)
    assert len(model.history_) == 5
    assert list(model.history_[:, "epoch"]) == [1, 2, 3, 4, 5]
    assert list(model.history_[:2, "train_loss"]) == first  # the first fit's epochs kept
    cold = ClusterMassRegressor(**_params()).fit(X, y)
    cold.set_params(max_epochs=3).fit(X, y)  # without warm_start: a new history
    assert len(cold.history_) == 3


def test_an_interrupted_warm_refit_still_warns():
    from skorch.callbacks import Callback

    from sk_clustermass.estimator import TrainingInterruptedWarning

    class Interrupt(Callback):
        def on_epoch_end(self, net, **kwargs):
            raise KeyboardInterrupt

    X, y = make_toy_clusters(60, seed=0)
    model = ClusterMassRegressor(**_params(warm_start=True, max_epochs=3)).fit(X, y)
    model.set_params(max_epochs=3, callbacks=[Interrupt()])
    with pytest.warns(TrainingInterruptedWarning, match="after epoch 1 of 3"):
        model.fit(X, y)
    assert len(model.history_) == 4
