"""Test-time averaging over the symmetries of the square (estimator._symmetry)."""

from __future__ import annotations

import math

import torch

from sk_clustermass.estimator._symmetry import combine_outputs, square_symmetries


def test_square_images_have_eight_distinct_symmetries_identity_first():
    images = torch.arange(2 * 3 * 4 * 4, dtype=torch.float32).reshape(2, 3, 4, 4)
    views = square_symmetries(images)
    assert len(views) == 8 and views[0] is images
    keys = {tuple(view[0, 0].flatten().tolist()) for view in views}
    assert len(keys) == 8
    assert all(view.shape == images.shape for view in views)


def test_the_set_of_views_is_closed_under_rotation():
    images = torch.rand(1, 1, 5, 5, generator=torch.Generator().manual_seed(0))
    rotated = torch.rot90(images, 1, dims=(-2, -1))
    key = lambda views: sorted(tuple(v.flatten().tolist()) for v in views)  # noqa: E731
    assert key(square_symmetries(images)) == key(square_symmetries(rotated))


def test_rectangular_images_get_only_the_four_flips():
    assert len(square_symmetries(torch.zeros(1, 1, 4, 6))) == 4


def test_identical_outputs_combine_to_themselves():
    output = torch.tensor([[1.5, -0.5], [0.2, 0.3]])
    torch.testing.assert_close(combine_outputs([output] * 8), output)


def test_spread_between_views_joins_the_width():
    combined = combine_outputs([torch.tensor([[0.0, math.log(0.5)]]),
                                torch.tensor([[2.0, math.log(0.5)]])])
    # total variance = mean variance 0.25 + variance of the means 1.0
    torch.testing.assert_close(combined, torch.tensor([[1.0, 0.5 * math.log(1.25)]]))
