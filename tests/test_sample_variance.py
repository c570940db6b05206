"""Sample variance of counts in a small field: bias, shell covariance, mock draws."""

import numpy as np
import pytest

from sk_clustermass.simulate import (
    DEFAULT_COSMOLOGY,
    draw_with_sample_variance,
    growth_factor,
    shell_density_covariance,
    sigma_of_mass,
    tinker10_bias,
)


def _mass_of_radius(radius_mpc: float) -> float:
    rho_m = (DEFAULT_COSMOLOGY.Om0 * DEFAULT_COSMOLOGY.critical_density0).to_value(
        "Msun / Mpc3")
    return 4.0 / 3.0 * np.pi * radius_mpc**3 * rho_m


def test_bias_at_nu_one_is_near_unity_and_grows_with_mass():
    # Peak-background split: haloes at the collapse scale (nu = 1) are unbiased; the
    # fit of Tinker et al. (2010) gives b(nu = 1) = 0.97 at Delta = 200 and 1.10 at
    # the Delta = 500 / Omega_m = 1667 (w.r.t. the mean) of M500c at z = 0.
    cosmo = DEFAULT_COSMOLOGY
    masses = np.geomspace(1e11, 1e16, 400)
    nu = 1.686 / sigma_of_mass(masses, 0.0)
    at_one = masses[np.argmin(np.abs(nu - 1.0))]
    assert tinker10_bias(at_one, 0.0, cosmo) == pytest.approx(1.10, abs=0.02)
    bias = tinker10_bias(masses, 0.0, cosmo)
    assert np.all(np.diff(bias) > 0)
    # at fixed mass, haloes are rarer (more biased) at higher redshift
    assert tinker10_bias(2e14, 0.5) > tinker10_bias(2e14, 0.1)


def test_a_roughly_cubic_shell_has_the_variance_of_a_sphere_of_its_volume():
    # A 12 x 12 degree field between z = 0.27 and 0.33 is a ~250 Mpc box: its linear
    # variance is that of a top-hat sphere of the same volume to within ~10%.
    edges = [0.27, 0.33]
    sigma = np.sqrt(shell_density_covariance(edges, 12.0, 12.0, cell_mpc=8.0)[0, 0])
    chi = DEFAULT_COSMOLOGY.comoving_distance(edges).value
    side = np.radians(12.0)
    volume = side**2 * (chi[1] ** 3 - chi[0] ** 3) / 3.0
    radius = np.cbrt(3.0 * volume / (4.0 * np.pi))
    sphere = sigma_of_mass(_mass_of_radius(radius), 0.0) * growth_factor(0.3)
    assert sigma == pytest.approx(float(sphere), rel=0.12)


def test_variance_falls_with_volume_and_neighbouring_shells_correlate():
    cov = shell_density_covariance([0.05, 0.1, 0.15, 0.2, 0.3], 20.0, 7.0, cell_mpc=5.0)
    sigma = np.sqrt(np.diag(cov))
    assert np.all(np.diff(sigma) < 0)  # deeper shells hold more volume
    correlation = cov / np.outer(sigma, sigma)
    assert 0.0 < correlation[0, 1] < 0.5  # thick shells: weak positive correlation
    assert np.all(np.linalg.eigvalsh(cov) > 0)


def test_draws_add_sample_variance_to_poisson_noise():
    rng = np.random.default_rng(3)
    z = rng.uniform(0.05, 0.15, 20000)
    edges = [0.0, 0.2]
    n_mean, bias, sigma = 300.0, 2.0, 0.1
    counts = {}
    for name, variance in (("poisson", 0.0), ("both", sigma**2)):
        counts[name] = draw_with_sample_variance(
            z, bias, edges, np.array([[variance]]), n_mean, len, n_draws=4000,
            random_state=1)
    assert counts["poisson"].mean() == pytest.approx(n_mean, rel=0.02)
    assert counts["poisson"].var() == pytest.approx(n_mean, rel=0.1)
    expected = n_mean + (n_mean * bias * sigma) ** 2  # Hu & Kravtsov (2003)
    assert counts["both"].var() == pytest.approx(expected, rel=0.12)


def test_bad_shells_and_fields_are_refused():
    with pytest.raises(ValueError, match="increasing"):
        shell_density_covariance([0.2, 0.1], 10.0, 10.0)
    with pytest.raises(ValueError, match="0-60 degrees"):
        shell_density_covariance([0.1, 0.2], 90.0, 10.0)
    with pytest.raises(ValueError, match="shape"):
        draw_with_sample_variance([0.1, 0.2], 1.0, [0.0, 0.1, 0.3], np.eye(3), 10,
                                  np.median)
