"""Losses and penalties."""

import math

import pytest
import torch

from sk_clustermass.estimator._loss import GaussianNLLLoss, MeanSquaredErrorLoss, penalty


def test_gaussian_nll_matches_torch():
    torch.manual_seed(0)
    pred = torch.randn(50, 2)
    y = torch.randn(50)
    ours = GaussianNLLLoss()(pred, y)
    reference = torch.nn.GaussianNLLLoss(full=False, eps=0)(pred[:, 0], y, pred[:, 1].exp() ** 2)
    assert ours.item() == pytest.approx(reference.item(), rel=1e-5)


def test_gaussian_nll_is_minimised_by_true_width():
    y = torch.randn(20000, generator=torch.Generator().manual_seed(1)) * 0.5
    def loss_at(width):
        pred = torch.stack([torch.zeros_like(y), torch.full_like(y, math.log(width))], 1)
        return GaussianNLLLoss()(pred, y)

    losses = {width: loss_at(width) for width in (0.25, 0.5, 1.0)}
    assert losses[0.5] < losses[0.25] and losses[0.5] < losses[1.0]


def test_mse_ignores_width():
    pred = torch.tensor([[1.0, -5.0], [3.0, 5.0]])
    assert MeanSquaredErrorLoss()(pred, torch.tensor([0.0, 0.0])).item() == 5.0


@pytest.mark.parametrize(("kind", "expected"), [("l1", 4 * 2.0), ("l2", 4 * 4.0),
                                                ("l1l2", 4 * 6.0)])
def test_kernel_penalties(kind, expected):
    layers = torch.nn.ModuleList([torch.nn.Linear(2, 2)])
    with torch.no_grad():
        layers[0].weight.fill_(-2.0)
        layers[0].bias.fill_(1.0)
    assert penalty(layers, [], kind=kind, target="kernel", strength=1.0).item() == expected
    assert penalty(layers, [], kind=kind, target="bias", strength=1.0).item() == pytest.approx(
        {"l1": 2.0, "l2": 2.0, "l1l2": 4.0}[kind])


def test_activity_penalty_averages_over_batch():
    activations = [torch.ones(4, 3)]
    value = penalty(torch.nn.ModuleList(), activations, kind="l1", target="activity",
                    strength=0.5)
    assert value.item() == pytest.approx(0.5 * 12 / 4)
