"""The demo network preset: its numbers, fresh copies, and a valid network on 50x50 images."""

from __future__ import annotations

import pytest

from sk_clustermass import ClusterMassRegressor
from sk_clustermass.estimator import demo_parameters, validate_parameters


def test_demo_network_is_the_documented_one():
    assert demo_parameters() == {
        "n_filters": 16, "kernel_size": 3, "conv_layers": (1, 2), "pool_size": 4,
        "dense_layers": (256, 128, 64), "lr": 1e-3, "lr_schedule": "cosine",
        "batch_size": 64, "patience": 5, "augment": True,
    }
    assert demo_parameters(quick=True) == {
        "n_filters": 4, "kernel_size": 3, "conv_layers": (1,), "pool_size": 4,
        "dense_layers": (16,), "batch_size": 32, "patience": None,
    }


def test_every_call_returns_a_new_dict():
    first = demo_parameters()
    first["n_filters"] = 99
    assert demo_parameters()["n_filters"] == 16


@pytest.mark.parametrize("quick", [False, True])
def test_demo_network_builds_on_simulated_images(quick):
    regressor = ClusterMassRegressor(**demo_parameters(quick=quick), max_epochs=1)
    validate_parameters(regressor, (50, 50))


def test_the_demo_command_trains_the_preset():
    from sk_clustermass.cli import build_parser
    from sk_clustermass.cli._demo import _settings

    args = build_parser().parse_args(["demo"])
    _, network = _settings(args)
    assert {k: network[k] for k in demo_parameters()} == demo_parameters()
    _, quick = _settings(build_parser().parse_args(["demo", "--quick"]))
    assert {k: quick[k] for k in demo_parameters(quick=True)} == demo_parameters(quick=True)
