"""Interrupted work: Ctrl-C during fit, checkpoints, exact resume, sweep resume."""

from __future__ import annotations

import json
import os
import signal
import time

import h5py
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, KFold
from skorch.callbacks import Callback

from sk_clustermass import ClusterMassRegressor
from sk_clustermass.datasets import HDF5ClusterDataset, write_hdf5
from sk_clustermass.estimator._checkpoint import CHECKPOINT_NAME, fit_fingerprint, load_checkpoint
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


@pytest.mark.slow  # ~20 s: a sweep in a subprocess, killed and rerun
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


# ------------------------------------------------------------ fingerprints see every byte
def test_fingerprint_sees_images_off_the_sampled_grid(toy_data, params):
    X, y = toy_data
    images = np.array(X["images"])
    changed = images.copy()
    changed[:, :, 1:7, 1:7] += 50  # pixels an every-7th-pixel sample would miss
    arguments = {"lr": 1e-3}
    assert fit_fingerprint(arguments, [images, X["redshift"], y]) != fit_fingerprint(
        arguments, [changed, X["redshift"], y])
    single = images.copy()
    single[-1, -1, -1, -1] = np.nextafter(single[-1, -1, -1, -1], np.float32(np.inf))
    assert fit_fingerprint(arguments, [images]) != fit_fingerprint(arguments, [single])


def test_fingerprint_of_hdf5_file_hashes_its_images(toy_data, tmp_path):
    X, y = toy_data
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    write_hdf5(a, X, y)
    write_hdf5(b, {"images": 5 * np.asarray(X["images"]) + 3, "redshift": X["redshift"]}, y)
    with HDF5ClusterDataset(a) as first, HDF5ClusterDataset(b) as second:
        assert fit_fingerprint({}, [first]) != fit_fingerprint({}, [second])
        assert fit_fingerprint({}, [first]) == fit_fingerprint({}, [HDF5ClusterDataset(a)])
        # the images as read equal the in-memory ones, the file dataset its raw bytes
        with h5py.File(a, "r") as handle:
            raw = fit_fingerprint({}, [handle["images"]])
        assert raw == fit_fingerprint({}, [handle_images(a)])


def handle_images(path):
    with h5py.File(path, "r") as handle:
        return handle["images"][()]


def test_out_of_core_fit_of_other_images_does_not_reuse_a_checkpoint(toy_data, params,
                                                                     tmp_path):
    X, y = toy_data
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    write_hdf5(a, X, y)
    write_hdf5(b, {"images": 5 * np.asarray(X["images"]) + 3, "redshift": X["redshift"]}, y)
    settings = dict(params, max_epochs=2, checkpoint_dir=tmp_path / "checkpoints")
    ClusterMassRegressor(**settings).fit(a)
    counter = CountEpochs()
    ClusterMassRegressor(**dict(settings, callbacks=[counter])).fit(b)
    assert counter.count == 2  # trained on b, not a's model loaded
    assert len(list((tmp_path / "checkpoints").glob(f"*/{CHECKPOINT_NAME}"))) == 2


class TerminateAt(Callback):
    """Send this process SIGTERM (what kill, SLURM, docker stop send) after an epoch."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler interrupts this


@pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals")
def test_sigterm_stops_fit_like_ctrl_c_and_checkpoints(toy_data, params, tmp_path):
    X, y = toy_data
    model = ClusterMassRegressor(**dict(params, checkpoint_dir=tmp_path,
                                        callbacks=[TerminateAt(2)]))
    with pytest.warns(TrainingInterruptedWarning, match="after epoch 2 of 6"):
        model.fit(X, y)
    assert np.isfinite(model.predict(X)).all()
    (state_file,) = tmp_path.glob(f"*/{CHECKPOINT_NAME}")
    saved = json.loads(load_checkpoint(state_file.parent)["history"])
    assert 1 <= len(saved) <= 2  # the last epoch checkpointed before the signal
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handler restored
