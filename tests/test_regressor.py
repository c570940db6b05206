"""ClusterMassRegressor: the sklearn contract, learning, determinism and bad input."""

from __future__ import annotations

import copy
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
import sklearn
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    cross_val_predict,
    cross_val_score,
    train_test_split,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from skorch.callbacks import Callback, GradientNormClipping, LRScheduler

from sk_clustermass import ClusterMassRegressor, as_inputs, load_model, save_model
from sk_clustermass.estimator import OutOfDomainWarning, TrainingInterruptedWarning
from sk_clustermass.estimator._net import NonFiniteLossError
from sk_clustermass.estimator._regressor import MIN_STD_DEX
from sk_clustermass.metrics import nll_scorer

from .conftest import make_toy_clusters


def log_images(X):
    """Module-level (picklable) log1p stretch of the images for pipelines in tests."""
    return as_inputs(np.log1p(X["images"]), X["redshift"], counts=False)


LogImages = FunctionTransformer(log_images)


# ---------------------------- sklearn contract (instance checks: test_contract.py)
def test_clone_and_params_round_trip(tiny_params):
    model = ClusterMassRegressor(**tiny_params)
    cloned = clone(model)
    assert cloned.get_params() == model.get_params()
    cloned.set_params(n_filters=11, dropout=0.2)
    assert cloned.get_params()["n_filters"] == 11 and model.n_filters == 6


def test_not_fitted_error(toy_data):
    X, _ = toy_data
    with pytest.raises(NotFittedError):
        ClusterMassRegressor().predict(X)
    with pytest.raises(NotFittedError):
        ClusterMassRegressor().history_  # noqa: B018


def test_fit_returns_self_predicts_and_scores(toy_data, tiny_params):
    X, y = toy_data
    model = ClusterMassRegressor(**tiny_params)
    assert model.fit(X, y) is model
    mean, std = model.predict(X, return_std=True)
    assert mean.shape == std.shape == (len(y),)
    assert np.isfinite(mean).all() and (std > 0).all()
    assert np.isfinite(model.score(X, y))
    assert len(model.history_) == tiny_params["max_epochs"]
    assert {"train_loss", "valid_loss"} <= set(model.history_[-1])
    assert model.n_bands_in_ == 3 and model.image_shape_in_ == (20, 20)


def test_pipeline_grid_search_cross_validation(toy_data, tiny_params):
    X, y = toy_data
    pipe = make_pipeline(LogImages, ClusterMassRegressor(**tiny_params))
    grid = {"clustermassregressor__n_filters": [4, 8]}
    results = {}
    for n_jobs in (1, 2):
        search = GridSearchCV(pipe, grid, cv=KFold(2), n_jobs=n_jobs,
                              scoring="neg_root_mean_squared_error")
        results[n_jobs] = search.fit(X, y).cv_results_["mean_test_score"]
    np.testing.assert_allclose(results[1], results[2], rtol=1e-6)
    mean, std = search.best_estimator_.predict(X, return_std=True)
    assert mean.shape == std.shape == (len(y),)
    scores = cross_val_score(pipe, X, y, cv=2, scoring="r2")
    assert scores.shape == (2,) and np.isfinite(scores).all()
    predictions = cross_val_predict(pipe, X, y, cv=2)
    assert predictions.shape == y.shape


def test_train_test_split_on_slicedict(toy_data):
    X, y = toy_data
    X_train, X_test, y_train, _y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    assert X_train["images"].shape[0] == len(y_train) == 225
    assert X_test["redshift"].shape == (75,)


def test_joblib_round_trip_in_fresh_process(toy_data, tiny_params, tmp_path):
    X, y = toy_data
    pipe = make_pipeline(LogImages, ClusterMassRegressor(**tiny_params)).fit(X, y)
    path = tmp_path / "pipe.joblib"
    joblib.dump(pipe, path)
    np.save(tmp_path / "images.npy", X["images"])
    np.save(tmp_path / "redshift.npy", X["redshift"])
    expected = pipe.predict(X)
    script = textwrap.dedent(
        f"""
        import joblib, numpy as np
        pipe = joblib.load({str(path)!r})
        X = {{"images": np.load({str(tmp_path / 'images.npy')!r}),
              "redshift": np.load({str(tmp_path / 'redshift.npy')!r})}}
        np.save({str(tmp_path / 'out.npy')!r}, pipe.predict(X))
        """
    )
    # run from the repository root so that this test module (pickled by reference) imports
    subprocess.run([sys.executable, "-c", script], check=True, cwd=Path(__file__).parents[1])
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), expected)


def test_pickle_does_not_carry_training_data(toy_data, tiny_params, tmp_path):
    X, y = toy_data
    model = ClusterMassRegressor(**tiny_params).fit(X, y)
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    assert path.stat().st_size < X["images"].nbytes / 4


def test_same_seed_bit_identical(toy_data, tiny_params):
    X, y = toy_data
    params = dict(tiny_params, dropout=0.2, augment=True)
    first = ClusterMassRegressor(**params).fit(X, y).predict(X)
    second = ClusterMassRegressor(**params).fit(X, y).predict(X)
    np.testing.assert_array_equal(first, second)
    other = ClusterMassRegressor(**dict(params, random_state=1)).fit(X, y).predict(X)
    assert not np.array_equal(first, other)


def test_fit_leaves_global_torch_rng_alone(toy_data, tiny_params):
    import torch

    X, y = toy_data
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    ClusterMassRegressor(**tiny_params).fit(X, y)
    assert torch.equal(torch.rand(3), expected)


# ---------------------------------------------------------------- learning for real
def test_learns_toy_task_with_calibrated_width():
    X, y = make_toy_clusters(900, seed=3)
    X = log_images(X)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=300, random_state=0)
    model = ClusterMassRegressor(
        n_filters=8, kernel_size=3, conv_layers=(2, 1), pool_size=2, dense_layers=(64, 32),
        max_epochs=40, patience=10, batch_size=32, random_state=0,
    ).fit(X_train, y_train)
    mean, std = model.predict(X_test, return_std=True)
    residual = mean - y_test
    scatter, coverage = residual.std(), np.mean(np.abs(residual) < std)
    print(
        f"\ntoy task: scatter {scatter:.3f} dex = {scatter / y_test.std():.2f} x std(y), "
        f"bias {residual.mean():+.3f} dex, 68% interval coverage {coverage:.2f}, "
        f"epochs {len(model.history_)}"
    )
    assert scatter < 0.3 * y_test.std()
    assert 0.55 <= coverage <= 0.80


# ---------------------------------------------------------------- options
def _optimizer_is(kind, **settings):
    def check(model, X, y):
        group = model.net_.optimizer_.param_groups[0]
        assert isinstance(model.net_.optimizer_, kind)
        assert all(group[key] == value for key, value in settings.items())
    return check


def _lr_decreased(model, X, y):
    assert model.net_.optimizer_.param_groups[0]["lr"] < model.lr


def _penalised(activity=False):
    def check(model, X, y):
        net = model.net_
        assert net.module_.record_activations is activity
        inputs = {k: torch.as_tensor(v[:32]) for k, v in X.items()}
        net.module_.train()
        y_pred = net.infer(inputs)
        target = torch.as_tensor((y[:32] - model.y_mean_) / model.y_scale_, dtype=torch.float32)
        with_penalty = net.get_loss(y_pred, target, training=True)
        assert with_penalty > net.get_loss(y_pred, target, training=False)
    return check


def _has_callback(kind, **settings):
    def check(model, X, y):
        found = [cb for _, cb in model.net_.callbacks_ if isinstance(cb, kind)]
        assert found and all(getattr(found[0], k) == v for k, v in settings.items())
    return check


def _constant_width(model, X, y):
    _, std = model.predict(X, return_std=True)
    assert np.unique(std).size == 1


def _ignores_redshift(model, X, y):
    other = as_inputs(X["images"], np.full(len(y), 0.9))
    np.testing.assert_array_equal(model.predict(other), model.predict(X))


def _orientation_invariant(model, X, y):
    rotated = as_inputs(np.rot90(X["images"], axes=(2, 3)).copy(), X["redshift"])
    np.testing.assert_allclose(model.predict(rotated), model.predict(X), atol=1e-4)


def _clips_and_drops(model, X, y):
    _has_callback(GradientNormClipping, gradient_clip_value=1.0)(model, X, y)
    rates = [m.p for m in model.net_.module_.modules() if isinstance(m, torch.nn.Dropout)]
    assert rates and set(rates) == {0.3}


def _no_validation(model, X, y):
    assert "valid_loss" not in model.history_[-1] and model.std_scale_ == 1.0


def _device_resolved(model, X, y):
    assert model.device_ == ("cuda" if torch.cuda.is_available() else "cpu")


OPTIONS = [
    ({"optimizer": "sgd", "lr": 1e-2}, _optimizer_is(torch.optim.SGD, lr=1e-2, momentum=0.9)),
    ({"optimizer": "adamw", "weight_decay": 1e-2},
     _optimizer_is(torch.optim.AdamW, weight_decay=1e-2)),
    ({"optimizer": "rmsprop", "lr": 1e-4}, _optimizer_is(torch.optim.RMSprop, lr=1e-4)),
    ({"lr_schedule": "exponential", "lr_final": 1e-4}, _lr_decreased),
    ({"lr_schedule": "cosine"},  # from lr down to 0 over max_epochs - 1 = 1 step
     _has_callback(LRScheduler, policy="CosineAnnealingLR",
                   kwargs={"T_max": 1, "eta_min": 0.0})),
    ({"lr_schedule": "plateau", "patience": 3},
     _has_callback(LRScheduler, policy="ReduceLROnPlateau")),
    ({"regularizer": "l2", "regularizer_target": "kernel"}, _penalised()),
    ({"regularizer": "l1", "regularizer_target": "bias"}, _penalised()),
    ({"regularizer": "l1l2", "regularizer_target": "activity"}, _penalised(activity=True)),
    ({"loss": "mse"}, _constant_width),
    ({"use_redshift": False, "padding": "same", "kernel_size": 5}, _ignores_redshift),
    ({"augment": True, "test_time_augmentation": True}, _orientation_invariant),
    ({"grad_clip": 1.0, "dropout": 0.3}, _clips_and_drops),
    ({"validation_fraction": 0.0}, _no_validation),
    ({"device": "auto"}, _device_resolved),
]


@pytest.mark.parametrize(
    ("options", "check"),
    OPTIONS,
    ids=["-".join(f"{k}={v}" for k, v in options.items()) for options, _ in OPTIONS],
)
def test_options_train(toy_data, tiny_params, options, check):
    X, y = toy_data
    model = ClusterMassRegressor(**dict(tiny_params, max_epochs=2, **options)).fit(X, y)
    mean, std = model.predict(X, return_std=True)
    assert np.isfinite(mean).all() and (std > 0).all()
    check(model, X, y)


def test_exponential_schedule_reaches_final_rate(toy_data, tiny_params):
    X, y = toy_data
    model = ClusterMassRegressor(
        **dict(tiny_params, max_epochs=4, lr=1e-2, lr_schedule="exponential", lr_final=1e-3)
    ).fit(X, y)
    assert model.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(1e-3 * 10 ** (-1 / 3))


class RecordWeights(Callback):
    """Keep a copy of the module's weights at the end of every epoch."""

    def initialize(self):
        self.states_ = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.states_.append({k: v.detach().clone() for k, v in net.module_.state_dict().items()})


def test_early_stopping_restores_best(toy_data, tiny_params):
    X, y = toy_data
    recorder = RecordWeights()
    model = ClusterMassRegressor(
        **dict(tiny_params, max_epochs=60, patience=2, lr=3e-3, callbacks=[recorder]))
    model.fit(X, y)
    valid_loss = model.history_[:, "valid_loss"]
    best = int(np.argmin(valid_loss))
    assert len(model.history_) < 60 and best < len(valid_loss) - 1  # stopped after the best
    final = model.net_.module_.state_dict()
    for key, value in recorder.states_[best].items():
        torch.testing.assert_close(final[key], value)


def test_mse_width_is_validation_scatter(toy_data, tiny_params):
    X, y = toy_data
    _, std = ClusterMassRegressor(**dict(tiny_params, loss="mse")).fit(X, y).predict(
        X, return_std=True)
    assert np.unique(std).size == 1


def test_test_time_augmentation_is_orientation_invariant(toy_data, tiny_params):
    X, y = toy_data
    model = ClusterMassRegressor(**dict(tiny_params, test_time_augmentation=True)).fit(X, y)
    rotated = as_inputs(np.rot90(X["images"], axes=(2, 3)).copy(), X["redshift"])
    np.testing.assert_allclose(model.predict(rotated), model.predict(X), atol=1e-4)


def test_divergence_is_caught(toy_data, tiny_params):
    X, y = toy_data
    huge = np.concatenate([np.full(10, 1e30, dtype=np.float32), np.ones(290, np.float32)])
    bad = as_inputs(X["images"] * huge[:, None, None, None], X["redshift"])
    with pytest.raises(NonFiniteLossError, match="lr="):
        ClusterMassRegressor(**dict(tiny_params, lr=10.0, optimizer="sgd")).fit(bad, y)


class RaiseLearningRate(Callback):
    """From epoch ``after + 1`` on, train with an absurd learning rate (forces divergence)."""

    def __init__(self, after=1):
        self.after = after

    def on_epoch_begin(self, net, **kwargs):
        if len(net.history) > self.after:
            for group in net.optimizer_.param_groups:
                group["lr"] = 1e6


def test_exploding_loss_is_caught_and_leaves_the_model_unfitted(toy_data, tiny_params, tmp_path):
    """Issue 19.5: a loss exploding to finite 1e15..1e20 trained on, predicting 1e10 dex."""
    X, y = toy_data
    exploding = {"optimizer": "sgd", "lr": 30.0, "grad_clip": 1.0, "loss": "mse"}
    model = ClusterMassRegressor(**dict(tiny_params, max_epochs=3, **exploding))
    with pytest.raises(NonFiniteLossError, match="no weights were kept") as error:
        model.fit(X, y)
    assert error.value.last_good_epoch == 0
    with pytest.raises(NotFittedError):
        model.predict(X, return_std=True)
    with pytest.raises(NotFittedError):
        save_model(model, tmp_path / "diverged.safetensors")


def test_divergence_after_good_epochs_leaves_a_complete_model(toy_data, tiny_params):
    """Issue 19.5: after the error, predict(return_std=True) used to raise AttributeError."""
    X, y = toy_data
    recorder = RecordWeights()
    model = ClusterMassRegressor(
        **dict(tiny_params, max_epochs=4, callbacks=[recorder, RaiseLearningRate(after=2)]))
    with pytest.raises(NonFiniteLossError, match=r"last good epoch \(2\)") as error:
        model.fit(X, y)
    assert error.value.last_good_epoch == 2
    mean, std = model.predict(X, return_std=True)
    assert np.isfinite(mean).all() and (std > 0).all() and model.std_scale_ > 0
    for key, value in recorder.states_[1].items():  # epoch 2's weights really restored
        torch.testing.assert_close(model.net_.module_.state_dict()[key], value)


def test_resumed_fit_diverging_at_once_keeps_the_checkpoint_weights(
    toy_data, tiny_params, tmp_path
):
    """Issue 19.5: it said 'last good epoch (0) were restored' and kept diverged weights."""
    from sk_clustermass.estimator._checkpoint import load_checkpoint

    X, y = toy_data
    params = dict(tiny_params, max_epochs=4, checkpoint_dir=str(tmp_path))

    class StopAfter(Callback):
        def on_epoch_begin(self, net, **kwargs):
            if len(net.history) == 3:
                raise KeyboardInterrupt

    with pytest.warns(TrainingInterruptedWarning):
        ClusterMassRegressor(**dict(params, callbacks=[StopAfter()])).fit(X, y)
    (directory,) = tmp_path.iterdir()
    saved = load_checkpoint(directory)["module"]
    model = ClusterMassRegressor(**dict(params, callbacks=[RaiseLearningRate(after=0)]))
    with pytest.raises(NonFiniteLossError, match=r"epoch 3 .*last good epoch \(2\)"):
        model.fit(X, y)
    for key, value in saved.items():
        torch.testing.assert_close(model.net_.module_.state_dict()[key], value)
    assert np.isfinite(model.predict(X, return_std=True)[1]).all()


# ---------------------------------------------------------------- training domain
@pytest.fixture(scope="module")
def fitted(toy_data, tiny_params):
    X, y = toy_data
    return ClusterMassRegressor(**dict(tiny_params, max_epochs=1)).fit(X, y)


def test_training_ranges_are_recorded(fitted, toy_data):
    X, _ = toy_data
    totals = X["images"].sum(axis=(2, 3), dtype=np.float64)
    np.testing.assert_array_equal(fitted.band_total_range_[:, 0], totals.min(axis=0))
    np.testing.assert_array_equal(fitted.band_total_range_[:, 1], totals.max(axis=0))
    np.testing.assert_allclose(fitted.redshift_range_,
                               [X["redshift"].min(), X["redshift"].max()])


@pytest.mark.parametrize(
    ("scale", "redshift", "match"),
    [(1e7, None, "band 0 total per cluster"), (1.0, 50.0, "redshift up to 50")],
)
def test_far_out_of_domain_inputs_warn(fitted, toy_data, scale, redshift, match):
    """Issue 19.8: 1e9 counts or z = 1e30 gave -1.9e8 dex with std 0.0, silently."""
    X, _ = toy_data
    z = X["redshift"][:20] if redshift is None else np.full(20, redshift)
    far = as_inputs(X["images"][:20] * scale, z, counts=False)
    with pytest.warns(OutOfDomainWarning, match=match):
        _, std = fitted.predict(far, return_std=True)
    assert (std > 0).all()


def test_inputs_near_the_training_domain_do_not_warn(fitted, toy_data):
    X, _ = toy_data
    near = as_inputs(X["images"][:20] * 1.5, X["redshift"][:20] * 1.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", OutOfDomainWarning)
        fitted.predict(near)


def _as_given(images, redshift, exposure=None):
    return as_inputs(images, redshift, exposure=exposure, counts=False)


def _quietly(model, X):
    with warnings.catch_warnings():
        warnings.simplefilter("error", OutOfDomainWarning)
        return model.predict(X)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda im, z: (np.zeros_like(im), z), "total per cluster down to 0"),
        (lambda im, z: (np.full_like(im, im.mean()), z), "spatially constant"),
        (lambda im, z: (im / 1200.0, z), "total per cluster down to"),  # count rates
        (lambda im, z: (im * 1e-15, z), "total per cluster down to"),  # fluxes
        (lambda im, z: (im * 1000.0, z), "total per cluster up to"),
        (lambda im, z: (im, np.full_like(z, 1e-6)), "redshift down to 1e-06"),
    ],
    ids=["all-zero", "constant", "count-rates", "fluxes", "counts-x1000", "z=1e-6"],
)
def test_unit_slips_and_empty_cubes_warn(fitted, toy_data, change, match):
    """Issue 27.1: these got confident masses (0.17 dex widths) without a warning."""
    X, _ = toy_data
    images, z = change(X["images"][:20], X["redshift"][:20])
    with pytest.warns(OutOfDomainWarning, match=match):
        fitted.predict(_as_given(images, z))


def test_one_empty_cube_among_ordinary_ones_warns(fitted, toy_data):
    X, _ = toy_data
    images = X["images"][:20].copy()
    images[7] = 0
    with pytest.warns(OutOfDomainWarning, match="1 cluster"):
        fitted.predict(_as_given(images, X["redshift"][:20]))


def _spanning_held_out_set(X):
    """Fresh toy clusters within the training range, plus the training clusters at
    either end of every band's and of the whole cube's totals: a set that spans the
    training range exactly."""
    totals = X["images"].sum(axis=(2, 3), dtype=np.float64)
    totals = np.column_stack([totals, totals.sum(axis=1)])
    ends = np.unique(np.concatenate([totals.argmin(axis=0), totals.argmax(axis=0)]))
    fresh, _ = make_toy_clusters(60, seed=11)
    fresh_totals = fresh["images"].sum(axis=(2, 3), dtype=np.float64)
    fresh_totals = np.column_stack([fresh_totals, fresh_totals.sum(axis=1)])
    inside = ((fresh_totals >= totals.min(axis=0)) & (fresh_totals <= totals.max(axis=0)))
    keep = inside.all(axis=1)
    images = np.concatenate([fresh["images"][keep], X["images"][ends]])
    redshift = np.concatenate([fresh["redshift"][keep], X["redshift"][ends]])
    return images, redshift


def test_rescaled_test_sets_warn_exactly_outside_a_factor_two(fitted, toy_data):
    """Issue 27.1, property: rescaling a test set by a factor in [0.5, 2] stays quiet;
    by any factor outside it, predict warns (40 log-uniform factors each way)."""
    X, _ = toy_data
    images, redshift = _spanning_held_out_set(X)
    rng = np.random.default_rng(27)
    inside = np.concatenate([[0.5, 2.0], 2.0 ** rng.uniform(-1, 1, 38)])
    below = 10.0 ** rng.uniform(-16, np.log10(0.5) - 1e-4, 20)
    above = 10.0 ** rng.uniform(np.log10(2.0) + 1e-4, 6, 20)
    for factor in inside:
        _quietly(fitted, _as_given(images * factor, redshift))
    for factor in np.concatenate([below, above]):
        with pytest.warns(OutOfDomainWarning, match="total per cluster"):
            fitted.predict(_as_given(images * factor, redshift))


def test_exposure_in_ks_warns(toy_data, tiny_params):
    """Issue 27.1: a use_exposure model given ks instead of s shifted silently."""
    X, y = toy_data
    exposure = np.random.default_rng(0).uniform(600.0, 1800.0, len(y))
    X = as_inputs(X["images"], X["redshift"], exposure=exposure)
    model = ClusterMassRegressor(**dict(tiny_params, max_epochs=1, use_exposure=True))
    model.fit(X, y)
    _quietly(model, _as_given(X["images"][:20], X["redshift"][:20], exposure[:20] * 1.9))
    with pytest.warns(OutOfDomainWarning, match="exposure"):
        model.predict(_as_given(X["images"][:20], X["redshift"][:20], exposure[:20] / 1e3))


def test_models_saved_without_the_new_ranges_still_load_and_check(fitted, toy_data):
    X, _ = toy_data
    old = copy.deepcopy(fitted)
    del old.total_range_, old.exposure_range_, old.n_flat_seen_
    _quietly(old, X)
    with pytest.warns(OutOfDomainWarning, match="band 0 total per cluster down to"):
        old.predict(_as_given(X["images"][:5] / 1200, X["redshift"][:5]))


def test_saved_model_keeps_its_training_domain(fitted, toy_data, tmp_path):
    X, _ = toy_data
    path = tmp_path / "model.safetensors"
    save_model(fitted, path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.band_total_range_, fitted.band_total_range_)
    with pytest.warns(OutOfDomainWarning):
        loaded.predict(as_inputs(X["images"][:5], np.full(5, 50.0)))


def test_widths_are_never_zero(fitted, toy_data):
    """Issue 19.8: a collapsed width used to come out as exactly 0."""
    X, _ = toy_data
    collapsed = copy.deepcopy(fitted)
    collapsed.std_scale_, collapsed.residual_std_ = 0.0, 0.0  # calibration collapsed
    for loss in ("gaussian_nll", "mse"):
        _, std = collapsed.set_params(loss=loss).predict(X[:10], return_std=True)
        np.testing.assert_array_equal(std, MIN_STD_DEX)


# ---------------------------------------------------------------- sample weights
def test_unit_weights_change_nothing(toy_data, tiny_params):
    X, y = toy_data
    plain = ClusterMassRegressor(**tiny_params).fit(X, y).predict(X)
    weighted = ClusterMassRegressor(**tiny_params).fit(X, y, sample_weight=np.full(300, 2.0))
    np.testing.assert_array_equal(weighted.predict(X), plain)


def test_zero_weight_clusters_do_not_pull_the_fit(toy_data, tiny_params):
    X, y = toy_data
    corrupt = np.arange(300) % 3 == 0
    y_bad = np.where(corrupt, y + 3.0, y)
    weight = (~corrupt).astype(float)
    params = dict(tiny_params, max_epochs=6, lr=3e-3)
    biases = {}
    for name, sample_weight in (("plain", None), ("weighted", weight)):
        model = ClusterMassRegressor(**params).fit(X, y_bad, sample_weight=sample_weight)
        biases[name] = abs(np.mean(model.predict(X)[~corrupt] - y[~corrupt]))
    assert biases["weighted"] < 0.5 * biases["plain"], biases


def test_sample_weight_is_routed_through_pipeline_and_grid_search(toy_data, tiny_params):
    X, y = toy_data
    weight = np.where(np.arange(300) % 2 == 0, 1.0, 3.0)
    with sklearn.config_context(enable_metadata_routing=True):
        regressor = ClusterMassRegressor(**tiny_params).set_fit_request(sample_weight=True)
        pipe = make_pipeline(LogImages, regressor)
        direct = clone(regressor).fit(log_images(X), y, sample_weight=weight).predict(
            log_images(X))
        np.testing.assert_array_equal(clone(pipe).fit(X, y, sample_weight=weight).predict(X),
                                      direct)
        search = GridSearchCV(pipe, {"clustermassregressor__n_filters": [6]}, cv=KFold(2),
                              scoring=nll_scorer)
        search.fit(X, y, sample_weight=weight)
        np.testing.assert_array_equal(search.best_estimator_.predict(X), direct)
        _, std = search.best_estimator_.predict(X, return_std=True)
        assert (std > 0).all()
        assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    unweighted = clone(regressor).fit(log_images(X), y).predict(log_images(X))
    assert not np.array_equal(unweighted, direct)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"n_filters": 0}, "n_filters must be an integer > 0"),
        ({"loss": "huber"}, r"loss='huber' is not supported; choose one of \['gaussian_nll'"),
        ({"optimizer": "lbfgs"}, "optimizer='lbfgs'"),
        ({"regularizer": "l3"}, "regularizer"),
        ({"lr_schedule": "step"}, "lr_schedule"),
        ({"dropout": 1.5}, "dropout"),
        ({"kernel_size": 17}, "kernel_size=17"),
        ({"conv_layers": 3}, r"tuple of ints, e.g. \(3,\)"),
        ({"validation_fraction": 0.0}, "validation split"),
    ],
)
def test_bad_hyperparameters(toy_data, tiny_params, change, match):
    X, y = toy_data
    params = dict(tiny_params, patience=5)
    params.update(change)
    with pytest.raises(ValueError, match=match):
        ClusterMassRegressor(**params).fit(X, y)


def test_bad_inputs_at_fit(toy_data, tiny_params):
    X, y = toy_data
    model = ClusterMassRegressor(**tiny_params)
    with pytest.raises(ValueError, match="n_samples, n_bands"):
        model.fit({"images": X["images"][:, 0], "redshift": X["redshift"]}, y)
    nan_images = X["images"].copy()
    nan_images[3, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.fit({"images": nan_images, "redshift": X["redshift"]}, y)
    with pytest.raises(KeyError, match="redshift"):
        model.fit({"images": X["images"]}, y)
    with pytest.raises(ValueError, match="y has 299"):
        model.fit(X, y[:-1])
    with pytest.raises(ValueError, match="negative"):
        as_inputs(-X["images"] - 1, X["redshift"])


def test_predict_input_must_match_fit(toy_data, tiny_params):
    X, y = toy_data
    model = ClusterMassRegressor(**tiny_params).fit(X, y)
    with pytest.raises(ValueError, match="2 energy bands but the model was fitted on 3"):
        model.predict({"images": X["images"][:, :2], "redshift": X["redshift"]})
    with pytest.raises(ValueError, match="18x18 pixel images"):
        model.predict({"images": X["images"][:, :, 1:-1, 1:-1], "redshift": X["redshift"]})


def test_cuda_requested_without_gpu_is_clear(toy_data, tiny_params):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    X, y = toy_data
    with pytest.raises(RuntimeError, match="no CUDA device"):
        ClusterMassRegressor(**dict(tiny_params, device="cuda")).fit(X, y)


# ---------------------------------------------------------------- GPU
@pytest.mark.gpu
def test_cuda_fit_predict_and_cpu_reload(toy_data, tiny_params, tmp_path):
    X, y = toy_data
    model = ClusterMassRegressor(**dict(tiny_params, device="cuda")).fit(X, y)
    assert next(model.net_.module_.parameters()).is_cuda
    mean = model.predict(X)
    assert np.isfinite(mean).all()
    path = tmp_path / "gpu.joblib"
    joblib.dump(model, path)
    assert np.allclose(joblib.load(path).predict(X), mean)
    from sk_clustermass import load_model, save_model

    save_model(model, tmp_path / "gpu.safetensors")
    on_cpu = load_model(tmp_path / "gpu.safetensors", device="cpu")
    np.testing.assert_allclose(on_cpu.predict(X), mean, atol=1e-3)  # TF32 on GPU


def test_parallel_workers_use_one_torch_thread_each(toy_data, tiny_params):
    from sklearn.model_selection import cross_validate

    X, y = toy_data
    result = cross_validate(ClusterMassRegressor(**tiny_params), X, y, cv=KFold(2), n_jobs=2,
                            return_estimator=True)
    # joblib's loky workers get cpu_count // n_jobs threads: no oversubscription
    import os

    expected = max(1, (os.cpu_count() or 1) // 2)
    assert [est.n_threads_ for est in result["estimator"]] == [expected, expected]


class ThreadCount(Callback):
    """Records torch's thread count in the training thread at every epoch."""

    def initialize(self):
        self.counts = []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.counts.append(torch.get_num_threads())


def test_n_threads_holds_for_fit_and_predict_and_the_count_comes_back(toy_data, tiny_params,
                                                                       monkeypatch):
    """Issue 29: n_threads gives a fit its share of the cores, then restores torch's count."""
    X, y = toy_data
    before = torch.get_num_threads()
    clock = ThreadCount()
    model = ClusterMassRegressor(**dict(tiny_params, n_threads=1, callbacks=[("t", clock)]))
    model.fit(X, y)
    assert clock.counts == [1] * tiny_params["max_epochs"] and model.n_threads_ == 1
    assert torch.get_num_threads() == before
    seen = []
    predict_raw = model.net_.predict_raw

    def counting(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return predict_raw(*args, **kwargs)

    monkeypatch.setattr(model.net_, "predict_raw", counting)
    model.predict(X)
    assert seen == [1] and torch.get_num_threads() == before
    default = ClusterMassRegressor(**tiny_params).fit(X, y)
    assert default.n_threads_ == before  # None: torch's own count


def test_threading_backend_fits_each_take_their_share(toy_data, tiny_params):
    """Fits side by side in one process (joblib threads) run with n_threads each."""
    from sklearn.model_selection import cross_validate

    X, y = toy_data
    with joblib.parallel_config(backend="threading"):
        result = cross_validate(ClusterMassRegressor(**dict(tiny_params, n_threads=1)), X, y,
                                cv=KFold(2), n_jobs=2, return_estimator=True)
    assert [est.n_threads_ for est in result["estimator"]] == [1, 1]


def test_speed_settings_do_not_change_results(toy_data, tiny_params):
    X, y = toy_data
    tuned = ClusterMassRegressor(**dict(tiny_params, malloc_tuning=True)).fit(X, y).predict(X)
    plain = ClusterMassRegressor(**dict(tiny_params, malloc_tuning=False)).fit(X, y).predict(X)
    np.testing.assert_array_equal(tuned, plain)


# ---------------------------------------------------------------- width calibration
def test_calibration_on_a_handful_of_clusters_is_skipped_with_a_warning(tiny_params):
    """Issue 27.12: 1-3 validation clusters shrank every width 5-12x without a warning."""
    from sk_clustermass.estimator import CalibrationWarning

    X, y = make_toy_clusters(40, seed=4)  # 4 validation clusters
    model = ClusterMassRegressor(**dict(tiny_params, max_epochs=2))
    with pytest.warns(CalibrationWarning, match="4 cluster"):
        model.fit(X, y)
    assert model.std_scale_ == 1.0


def test_calibration_on_enough_clusters_is_quiet(tiny_params):
    from sk_clustermass.estimator import CalibrationWarning

    X, y = make_toy_clusters(200, seed=4)  # 20 validation clusters
    model = ClusterMassRegressor(**dict(tiny_params, max_epochs=2))
    with warnings.catch_warnings():
        warnings.simplefilter("error", CalibrationWarning)
        model.fit(X, y)
    assert model.std_scale_ != 1.0
