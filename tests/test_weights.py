"""Tests of the population reweighting (uncertainty/_population_weights.py)."""

from __future__ import annotations

import numpy as np
import pytest

from sk_clustermass.simulate import sample_mass_function
from sk_clustermass.uncertainty import population_density, population_weights


def test_weighted_log_uniform_sample_matches_a_mass_function_sample():
    rng = np.random.default_rng(0)
    log_mass, z = rng.uniform(13.0, 15.0, 40_000), rng.uniform(0.05, 1.0, 40_000)
    weights = population_weights(log_mass, z)
    assert weights.mean() == pytest.approx(1.0)
    target_mass, target_z = sample_mass_function(rng.random(40_000), rng.random(40_000),
                                                 (13.0, 15.0), (0.05, 1.0))
    edges = np.array([13.0, 13.25, 13.5, 14.0, 15.0])
    weighted = np.histogram(log_mass, edges, weights=weights)[0] / weights.sum()
    drawn = np.histogram(target_mass, edges)[0] / target_mass.size
    np.testing.assert_allclose(weighted, drawn, atol=0.01)
    assert np.average(z, weights=weights) == pytest.approx(target_z.mean(), abs=0.02)


def test_reverse_weights_and_callables_are_consistent():
    rng = np.random.default_rng(1)
    log_mass, z = rng.uniform(13.0, 15.0, 500), rng.uniform(0.05, 1.0, 500)
    forward = population_weights(log_mass, z)
    backward = population_weights(log_mass, z, source="mass_function", target="log_uniform")
    np.testing.assert_allclose(forward * backward, (forward * backward).mean())
    steep = population_weights(log_mass, z, target=lambda m, _: 10.0 ** (-m))
    np.testing.assert_allclose(steep, 10.0 ** (-log_mass) / np.mean(10.0 ** (-log_mass)))
    clipped = population_weights(log_mass, z, max_weight=2.0)
    assert clipped.mean() == pytest.approx(1.0) and clipped.max() <= 2.0 / np.mean(
        np.minimum(forward, 2.0)) + 1e-12
    assert np.count_nonzero(np.isclose(clipped, clipped.max())) > 1


def test_density_of_the_mass_function_falls_with_mass():
    density = population_density("mass_function", [13.0, 14.0, 15.0], [0.5, 0.5, 0.5])
    assert density[0] > 10 * density[1] > 100 * density[2]
    np.testing.assert_array_equal(population_density("log_uniform", [13.0], [0.1]), [1.0])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"target": "tinker"}, "population 'tinker' is not known"),
        ({"source": lambda m, z: np.zeros_like(m)}, "zero density where there are"),
        ({"target": lambda m, z: np.zeros_like(m)}, "zero density at every"),
        ({"target": lambda m, z: np.ones(3)}, "one finite value >= 0 per cluster"),
        ({"max_weight": 0.5}, "max_weight must be >= 1"),
    ],
)
def test_bad_populations_say_what_is_wrong(kwargs, match):
    with pytest.raises(ValueError, match=match):
        population_weights([13.5, 14.0], [0.2, 0.3], **kwargs)
    with pytest.raises(ValueError, match="log_mass has 2 values but z has 1"):
        population_weights([13.5, 14.0], [0.2])
