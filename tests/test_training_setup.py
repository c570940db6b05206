"""Hyper-parameter checks and what they build (estimator._training_setup, the table's routes)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from skorch.callbacks import EarlyStopping, GradientNormClipping

from sk_clustermass import ClusterMassRegressor
from sk_clustermass.estimator._net import StopOnNonFiniteLoss
from sk_clustermass.estimator._parameters import routed_parameters, validate_parameters
from sk_clustermass.estimator._training_setup import (
    lr_scheduler,
    optimizer_implementation,
    resolve_device,
    training_callbacks,
)


def _est(**changes):
    return ClusterMassRegressor(**changes)


def test_defaults_are_valid_on_the_seed_image_size():
    validate_parameters(_est(), (50, 50))


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"dropout": 1.0}, r"dropout must be a finite number >= 0 and < 1"),
        ({"validation_fraction": 0.0}, "need a validation split"),
        ({"conv_layers": 3}, r"tuple of ints, e.g. \(3,\)"),
        ({"conv_layers": ()}, "at least 1 entry"),
        ({"dense_layers": (8, 0)}, "every entry of dense_layers"),
        ({"kernel_size": 9}, "kernel_size"),
    ],
)
def test_invalid_settings_are_named(changes, match):
    with pytest.raises(ValueError, match=match):
        validate_parameters(_est(**changes), (50, 50))


def test_training_callbacks_follow_the_settings():
    user = EarlyStopping()
    callbacks = training_callbacks(_est(grad_clip=2.0, callbacks=[user]))
    names = [entry[0] for entry in callbacks[:-1]]
    assert names == ["stop_on_non_finite_loss", "early_stopping", "grad_clip"]
    assert isinstance(callbacks[0][1], StopOnNonFiniteLoss)  # checks before the others
    assert callbacks[-1] is user  # the user's own last
    clip = dict(callbacks[:-1])["grad_clip"]
    assert isinstance(clip, GradientNormClipping) and clip.gradient_clip_value == 2.0
    assert [name for name, _ in training_callbacks(_est(patience=None))] == [
        "stop_on_non_finite_loss"]


def test_exponential_schedule_reaches_lr_final_at_the_last_epoch():
    schedule = lr_scheduler(_est(lr=1e-2, lr_final=1e-4, lr_schedule="exponential",
                                 max_epochs=3))
    assert schedule.kwargs["gamma"] == pytest.approx(0.1)
    assert lr_scheduler(_est()) is None
    plateau = lr_scheduler(_est(lr_schedule="plateau", patience=9))
    assert plateau.kwargs["patience"] == 3 and plateau.kwargs["factor"] == 0.5


def test_momentum_only_for_the_optimizers_that_have_it():
    assert "momentum" in routed_parameters(_est(optimizer="sgd"), "optimizer")
    assert "momentum" not in routed_parameters(_est(optimizer="adam"), "optimizer")


def test_resolve_device():
    assert resolve_device(SimpleNamespace(device="cpu")) == "cpu"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device(SimpleNamespace(device="auto")) == expected
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="device='cuda' but PyTorch sees no CUDA"):
            resolve_device(SimpleNamespace(device="cuda"))


@pytest.mark.parametrize(("optimizer", "fused"), [("adam", True), ("adamw", True),
                                                  ("sgd", None), ("rmsprop", None)])
def test_adam_steps_run_fused_on_the_cpu(toy_data, tiny_params, optimizer, fused):
    X, y = toy_data
    model = ClusterMassRegressor(**{**tiny_params, "max_epochs": 1, "optimizer": optimizer})
    group = model.fit(X, y).net_.optimizer_.param_groups[0]
    assert group.get("fused") is fused


def test_an_implementation_the_user_chose_is_not_overridden():
    assert optimizer_implementation("adam", "cuda:1") == {"fused": True}
    assert optimizer_implementation("adam", "cpu", {"foreach": True}) == {}
    assert optimizer_implementation("adam", "cpu", {"weight_decay": 0.1}) == {"fused": True}
    assert optimizer_implementation("adam", "mps") == {}
