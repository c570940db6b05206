"""Interrupted work: Ctrl-C during fit, checkpoints, exact resume, sweep resume."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, KFold
from skorch.callbacks import Callback

from sk_clustermass import ClusterMassRegressor
from sk_clustermass.estimator._checkpoint import CHECKPOINT_NAME, load_checkpoint
from sk_clustermass.estimator._regressor import TrainingInterruptedWarning


class InterruptAt(Callback):
    """Raise KeyboardInterrupt (what Ctrl-C does) at the end of a given epoch."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise KeyboardInterrupt


class CountEpochs(Callback):
    def __init__(self):
        self.count = 0

    def on_epoch_begin(self, net, **kwargs):
        self.count += 1


@pytest.fixture
def params(tiny_params):
    # everything whose state must survive a resume: dropout (torch RNG), augmentation
    # and batch order (generator), Adam moments, a schedule and early stopping
    return dict(tiny_params, max_epochs=6, dropout=0.2, augment=True, patience=10,
                lr_schedule="exponential")


def test_interrupt_leaves_usable_model(toy_data, params):
    X, y = toy_data
    model = ClusterMassRegressor(**dict(params, callbacks=[InterruptAt(3)]))
    with pytest.warns(TrainingInterruptedWarning, match="after epoch 3 of 6"):
        model.fit(X, y)
    assert len(model.history_) == 3
    assert np.isfinite(model.predict(X)).all()


def test_resume_equals_uninterrupted(toy_data, params, tmp_path):
    X, y = toy_data
    reference = ClusterMassRegressor(**dict(params, checkpoint_dir=tmp_path / "a")).fit(X, y)

    interrupted = ClusterMassRegressor(
        **dict(params, checkpoint_dir=tmp_path / "b", callbacks=[InterruptAt(4)])
    )
    with pytest.warns(TrainingInterruptedWarning, match="resume"):
        interrupted.fit(X, y)
    counter = CountEpochs()
    resumed = ClusterMassRegressor(
        **dict(params, checkpoint_dir=tmp_path / "b", callbacks=[counter])
    ).fit(X, y)
    assert counter.count == 3  # epochs 4, 5, 6: the checkpoint of epoch 3 was the last
    np.testing.assert_array_equal(resumed.predict(X), reference.predict(X))
    for key in ("train_loss", "valid_loss"):
        assert resumed.history_[:, key] == reference.history_[:, key]


def test_finished_fit_is_loaded_not_retrained(toy_data, params, tmp_path):
    X, y = toy_data
    first = ClusterMassRegressor(**dict(params, checkpoint_dir=tmp_path)).fit(X, y)
    (fit_dir,) = tmp_path.iterdir()
    assert load_checkpoint(fit_dir)["completed"]
    counter = CountEpochs()
    second = ClusterMassRegressor(
        **dict(params, checkpoint_dir=tmp_path, callbacks=[counter])
    ).fit(X, y)
    assert counter.count == 0
    np.testing.assert_array_equal(second.predict(X), first.predict(X))
    # other data or settings: another fingerprint, another directory
    ClusterMassRegressor(**dict(params, checkpoint_dir=tmp_path, lr=3e-3)).fit(X, y)
    assert len(list(tmp_path.iterdir())) == 2


def test_damaged_checkpoint_is_a_clear_error(toy_data, params, tmp_path):
    X, y = toy_data
    ClusterMassRegressor(**dict(params, checkpoint_dir=tmp_path)).fit(X, y)
    (fit_dir,) = tmp_path.iterdir()
    (fit_dir / CHECKPOINT_NAME).write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="delete it"):
        ClusterMassRegressor(**dict(params, checkpoint_dir=tmp_path)).fit(X, y)


def test_killed_sweep_resumes_without_refitting(toy_data, params, tmp_path):
    X, y = toy_data
    model = ClusterMassRegressor(**dict(params, max_epochs=2, checkpoint_dir=tmp_path))
    search = GridSearchCV(model, {"n_filters": [4, 6]}, cv=KFold(2), n_jobs=2,
                          scoring="neg_root_mean_squared_error")
    first = search.fit(X, y).cv_results_["mean_test_score"]
    files = sorted(tmp_path.glob(f"*/{CHECKPOINT_NAME}"))
    assert len(files) == 2 * 2 + 1  # candidates x folds, plus the refit: no collisions
    stamps = [f.stat().st_mtime_ns for f in files]
    again = search.fit(X, y).cv_results_["mean_test_score"]
    np.testing.assert_array_equal(again, first)
    assert [f.stat().st_mtime_ns for f in files] == stamps  # nothing was retrained
