"""Halo mass function for the ``sampling='mass-function'`` mode of the simulator.

The number of clusters per redshift and log mass is ``dn/dlnM(M500c, z) dV/dz``:

* ``dn/dlnM = f(sigma) (rho_m / M) dln(1/sigma)/dlnM`` with the Tinker et al. (2008,
  ApJ 688, 709) multiplicity function, their Table 2 parameters interpolated in
  log Delta and their redshift evolution; M500c is a spherical-overdensity mass with
  ``Delta_mean = 500 / Omega_m(z)``.
* ``sigma(M)`` from a linear power spectrum ``k^n_s T(k)^2`` with the BBKS transfer
  function (Bardeen et al. 1986) and the Sugiyama (1995) shape parameter, normalised
  to ``sigma8``, grown with the exact linear growth factor of flat LambdaCDM.
* ``dV/dz`` is the comoving volume per redshift from astropy.

The power-spectrum numbers (Omega_b, sigma8, n_s) are not in PHYSICS.md: the defaults
are those of the MultiDark-Planck simulations behind the Comparat et al. (2020) mocks
(assumed). The BBKS shape is good to ~10% in sigma, ample for drawing a population.
"""

from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.cosmology import FLRW
from numpy.typing import ArrayLike
from scipy.integrate import cumulative_trapezoid

from ._cosmology import DEFAULT_COSMOLOGY

__all__ = [
    "LinearPowerSpectrum",
    "growth_factor",
    "halo_density_deg2",
    "linear_power_mpc3",
    "mass_function_dn_dlnm",
    "sample_mass_function",
    "sigma_of_mass",
    "tinker08_multiplicity",
]

_TINKER_DELTA = np.array([200.0, 300.0, 400.0, 600.0, 800.0, 1200.0, 1600.0, 2400.0, 3200.0])
_TINKER_A = np.array([0.186, 0.200, 0.212, 0.218, 0.248, 0.255, 0.260, 0.260, 0.260])
_TINKER_a = np.array([1.47, 1.52, 1.56, 1.61, 1.87, 2.13, 2.30, 2.53, 2.66])
_TINKER_b = np.array([2.57, 2.25, 2.05, 1.87, 1.59, 1.51, 1.46, 1.44, 1.41])
_TINKER_c = np.array([1.19, 1.27, 1.34, 1.45, 1.58, 1.80, 1.97, 2.24, 2.44])


@dataclass(frozen=True)
class LinearPowerSpectrum:
    """Parameters of the linear matter power spectrum (assumed: MultiDark-Planck).

    Parameters
    ----------
    omega_b : float, default=0.048
        Baryon density parameter.
    sigma8 : float, default=0.8228
        rms linear fluctuation in 8 Mpc/h spheres at z = 0.
    n_s : float, default=0.96
        Primordial spectral index.

    Examples
    --------
    >>> from sk_clustermass.simulate import LinearPowerSpectrum
    >>> LinearPowerSpectrum().sigma8
    0.8228
    """

    omega_b: float = 0.048
    sigma8: float = 0.8228
    n_s: float = 0.96


def growth_factor(z: ArrayLike, cosmo: FLRW | None = None) -> np.ndarray:
    """Linear growth factor D(z) / D(0) of flat LambdaCDM (matter + Lambda, exact integral).

    Examples
    --------
    >>> from sk_clustermass.simulate import growth_factor
    >>> growth_factor([0.0, 1.0]).round(3)
    array([1.   , 0.612])
    """
    cosmo = DEFAULT_COSMOLOGY if cosmo is None else cosmo
    a = np.geomspace(1e-4, 1.0, 2048)
    ez = cosmo.efunc(1.0 / a - 1.0)
    growth = ez * cumulative_trapezoid((a * ez) ** -3.0, a, initial=0.0)
    target = 1.0 / (1.0 + np.asarray(z, dtype=np.float64))
    return np.interp(np.log(target), np.log(a), growth / growth[-1])


def _mean_density_msun_mpc3(cosmo: FLRW) -> float:
    return float(cosmo.Om0 * cosmo.critical_density0.to_value(u.Msun / u.Mpc**3))


_CACHE: dict[tuple, tuple[np.ndarray, ...]] = {}


def _cached(kind: str, cosmo: FLRW, *key, build) -> tuple[np.ndarray, ...]:
    """Memoise tables per cosmology (astropy cosmologies are not hashable: use repr)."""
    full_key = (kind, repr(cosmo), *key)
    if full_key not in _CACHE:
        if len(_CACHE) > 32:
            _CACHE.clear()
        _CACHE[full_key] = build()
    return _CACHE[full_key]


def _sigma_table(cosmo: FLRW, spectrum: LinearPowerSpectrum) -> tuple[np.ndarray, ...]:
    """ln R (Mpc) and ln sigma(R) at z = 0 on a grid."""
    return _cached("sigma", cosmo, spectrum, build=lambda: _build_sigma_table(cosmo, spectrum))


def _bbks_shape(k_mpc: np.ndarray, cosmo: FLRW, spectrum: LinearPowerSpectrum) -> np.ndarray:
    """Unnormalised linear power ``k^n_s T(k)^2`` (BBKS transfer, Sugiyama shape)."""
    h = cosmo.H0.value / 100.0
    shape = cosmo.Om0 * h * np.exp(
        -spectrum.omega_b * (1.0 + np.sqrt(2.0 * h) / cosmo.Om0)
    )
    q = np.maximum(k_mpc, 1e-30) / (h * shape)
    transfer = (
        np.log1p(2.34 * q) / (2.34 * q)
        * (1.0 + 3.89 * q + (16.1 * q) ** 2 + (5.46 * q) ** 3 + (6.71 * q) ** 4) ** -0.25
    )
    return k_mpc**spectrum.n_s * transfer**2


def _tophat_variance(k: np.ndarray, power: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Variance of ``power`` (on the log grid ``k``) in top-hat spheres of ``radius``."""
    x = k[None, :] * radius[:, None]
    window = 3.0 * (np.sin(x) - x * np.cos(x)) / x**3
    integrand = k[None, :] ** 3 * power[None, :] * window**2 / (2.0 * np.pi**2)
    return np.trapezoid(integrand, np.log(k), axis=1)


def linear_power_mpc3(
    k_mpc: ArrayLike,
    z: float = 0.0,
    cosmo: FLRW | None = None,
    spectrum: LinearPowerSpectrum | None = None,
) -> np.ndarray:
    """Linear matter power spectrum P(k) in Mpc^3 (k in 1/Mpc), normalised to sigma8.

    The same spectrum as the mass function's: BBKS transfer function, Sugiyama
    shape, amplitude such that the top-hat rms in 8 Mpc/h spheres is ``sigma8`` at
    z = 0, grown with the linear growth factor.

    Examples
    --------
    >>> from sk_clustermass.simulate import linear_power_mpc3
    >>> p = linear_power_mpc3([0.01, 0.1, 1.0])
    >>> bool(p[1] > p[2])
    True
    """
    cosmo = DEFAULT_COSMOLOGY if cosmo is None else cosmo
    spectrum = LinearPowerSpectrum() if spectrum is None else spectrum
    key = (spectrum,)
    (amplitude,) = _cached("amplitude", cosmo, *key, build=lambda: (
        _power_amplitude(cosmo, spectrum),))
    k = np.asarray(k_mpc, dtype=np.float64)
    return amplitude * _bbks_shape(k, cosmo, spectrum) * growth_factor(z, cosmo) ** 2


def _power_amplitude(cosmo: FLRW, spectrum: LinearPowerSpectrum) -> np.ndarray:
    h = cosmo.H0.value / 100.0
    k = np.geomspace(1e-5, 1e3, 6000)
    variance = _tophat_variance(k, _bbks_shape(k, cosmo, spectrum), np.array([8.0 / h]))
    return np.asarray(spectrum.sigma8**2 / variance[0])


def _build_sigma_table(cosmo: FLRW, spectrum: LinearPowerSpectrum) -> tuple[np.ndarray, ...]:
    h = cosmo.H0.value / 100.0
    k = np.geomspace(1e-5, 1e3, 6000)  # 1/Mpc
    radius = np.geomspace(0.05, 200.0, 400)  # Mpc
    variance = _tophat_variance(k, _bbks_shape(k, cosmo, spectrum), radius)
    at_8 = np.interp(np.log(8.0 / h), np.log(radius), np.log(variance))
    log_sigma = 0.5 * (np.log(variance) - at_8) + np.log(spectrum.sigma8)
    return np.log(radius), log_sigma


def sigma_of_mass(
    mass_msun: ArrayLike,
    z: ArrayLike = 0.0,
    cosmo: FLRW | None = None,
    spectrum: LinearPowerSpectrum | None = None,
) -> np.ndarray:
    """rms linear density fluctuation in the Lagrangian sphere of a mass, at redshift z.

    Examples
    --------
    >>> from sk_clustermass.simulate import sigma_of_mass
    >>> 0.5 < float(sigma_of_mass(1e15)) < 0.7
    True
    """
    cosmo = DEFAULT_COSMOLOGY if cosmo is None else cosmo
    spectrum = LinearPowerSpectrum() if spectrum is None else spectrum
    log_radius, log_sigma = _sigma_table(cosmo, spectrum)
    mass = np.asarray(mass_msun, dtype=np.float64)
    radius = np.cbrt(3.0 * mass / (4.0 * np.pi * _mean_density_msun_mpc3(cosmo)))
    sigma0 = np.exp(np.interp(np.log(radius), log_radius, log_sigma))
    return sigma0 * growth_factor(z, cosmo)


def tinker08_multiplicity(sigma: ArrayLike, z: ArrayLike, delta_mean: ArrayLike) -> np.ndarray:
    """Tinker et al. (2008) ``f(sigma)`` for overdensity ``delta_mean`` (w.r.t. the mean).

    Examples
    --------
    >>> from sk_clustermass.simulate import tinker08_multiplicity
    >>> round(float(tinker08_multiplicity(1.0, 0.0, 200.0)), 4)
    0.2832
    """
    log_delta = np.log(np.clip(np.asarray(delta_mean, dtype=np.float64), 200.0, 3200.0))
    grid = np.log(_TINKER_DELTA)
    big_a, small_a, b, c = (
        np.interp(log_delta, grid, table) for table in (_TINKER_A, _TINKER_a, _TINKER_b, _TINKER_c)
    )
    zp1 = 1.0 + np.asarray(z, dtype=np.float64)
    alpha = 10.0 ** (-((0.75 / np.log10(np.exp(log_delta) / 75.0)) ** 1.2))
    big_a = big_a * zp1**-0.14
    small_a = small_a * zp1**-0.06
    b = b * zp1**-alpha
    s = np.asarray(sigma, dtype=np.float64)
    return big_a * ((s / b) ** -small_a + 1.0) * np.exp(-c / s**2)


def mass_function_dn_dlnm(
    m500_msun: ArrayLike,
    z: ArrayLike,
    cosmo: FLRW | None = None,
    spectrum: LinearPowerSpectrum | None = None,
) -> np.ndarray:
    """Comoving number density of haloes per ln M500c, Mpc^-3.

    Examples
    --------
    >>> from sk_clustermass.simulate import mass_function_dn_dlnm
    >>> density = mass_function_dn_dlnm([1e14, 1e15], 0.0)
    >>> bool(density[0] > 10 * density[1])
    True
    """
    cosmo = DEFAULT_COSMOLOGY if cosmo is None else cosmo
    mass = np.asarray(m500_msun, dtype=np.float64)
    redshift = np.asarray(z, dtype=np.float64)
    step = 1e-3
    sigma = sigma_of_mass(mass, redshift, cosmo, spectrum)
    sigma_up = sigma_of_mass(mass * np.exp(step), redshift, cosmo, spectrum)
    dln_inv_sigma = -(np.log(sigma_up) - np.log(sigma)) / step
    delta_mean = 500.0 / np.asarray(cosmo.Om(redshift), dtype=np.float64)
    rho = _mean_density_msun_mpc3(cosmo)
    return tinker08_multiplicity(sigma, redshift, delta_mean) * rho / mass * dln_inv_sigma


def _sampling_grid(
    log_mass_range: tuple[float, float],
    z_range: tuple[float, float],
    cosmo: FLRW,
    spectrum: LinearPowerSpectrum,
) -> tuple[np.ndarray, ...]:
    """Cell edges in z and log10 M, the z CDF and the conditional log M CDFs."""
    return _cached(
        "grid", cosmo, log_mass_range, z_range, spectrum,
        build=lambda: _build_sampling_grid(log_mass_range, z_range, cosmo, spectrum),
    )


def _build_sampling_grid(
    log_mass_range: tuple[float, float],
    z_range: tuple[float, float],
    cosmo: FLRW,
    spectrum: LinearPowerSpectrum,
) -> tuple[np.ndarray, ...]:
    z_edges = np.linspace(*z_range, 121)
    m_edges = np.linspace(*log_mass_range, 241)
    z_mid = 0.5 * (z_edges[1:] + z_edges[:-1])
    m_mid = 0.5 * (m_edges[1:] + m_edges[:-1])
    volume = cosmo.differential_comoving_volume(z_mid).to_value(u.Mpc**3 / u.sr)
    density = mass_function_dn_dlnm(10.0 ** m_mid[None, :], z_mid[:, None], cosmo, spectrum)
    weights = density * volume[:, None]
    z_cdf = np.concatenate([[0.0], np.cumsum(weights.sum(axis=1))])
    m_cdf = np.concatenate([np.zeros((len(z_mid), 1)), np.cumsum(weights, axis=1)], axis=1)
    return z_edges, m_edges, z_cdf / z_cdf[-1], m_cdf / m_cdf[:, -1:]


def sample_mass_function(
    uniform_z: ArrayLike,
    uniform_mass: ArrayLike,
    log_mass_range: tuple[float, float] = (13.0, 15.0),
    z_range: tuple[float, float] = (0.01, 1.5),
    cosmo: FLRW | None = None,
    spectrum: LinearPowerSpectrum | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Map uniform deviates to (log10 M500c, z) drawn from ``dn/dlnM dV/dz``.

    The joint density is tabulated on 120 x 240 cells and inverted with a piecewise
    linear CDF (constant density inside a cell).

    Parameters
    ----------
    uniform_z, uniform_mass : array-like of shape (n,)
        Independent uniform deviates in [0, 1).
    log_mass_range : tuple of float, default=(13.0, 15.0)
        log10(M500c / Msun) range; equal ends give that fixed mass.
    z_range : tuple of float, default=(0.01, 1.5)
    cosmo : astropy.cosmology.FLRW, optional
    spectrum : LinearPowerSpectrum, optional

    Returns
    -------
    log10_m500c, z : ndarray of shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass.simulate import sample_mass_function
    >>> rng = np.random.default_rng(0)
    >>> log_m, z = sample_mass_function(rng.random(5000), rng.random(5000))
    >>> bool((log_m < 13.5).mean() > 0.6), bool(13 <= log_m.min() and log_m.max() <= 15)
    (True, True)
    """
    cosmo = DEFAULT_COSMOLOGY if cosmo is None else cosmo
    spectrum = LinearPowerSpectrum() if spectrum is None else spectrum
    u_z = np.asarray(uniform_z, dtype=np.float64)
    u_m = np.asarray(uniform_mass, dtype=np.float64)
    (m_low, m_high), (z_low, z_high) = log_mass_range, z_range
    if z_low == z_high or m_low == m_high:
        z = np.full_like(u_z, z_low) if z_low == z_high else None
        log_m = np.full_like(u_m, m_low) if m_low == m_high else None
        if z is None:  # fixed mass: z follows dV/dz dn/dlnM at that mass
            grid_z = np.linspace(z_low, z_high, 513)
            volume = cosmo.differential_comoving_volume(grid_z).to_value(u.Mpc**3 / u.sr)
            weight = mass_function_dn_dlnm(10.0**m_low, grid_z, cosmo, spectrum) * volume
            cdf = np.concatenate([[0.0], np.cumsum(0.5 * (weight[1:] + weight[:-1]))])
            z = np.interp(u_z, cdf / cdf[-1], grid_z)
        if log_m is None:  # fixed redshift: the mass function at that z
            grid_m = np.linspace(m_low, m_high, 513)
            weight = mass_function_dn_dlnm(10.0**grid_m, z_low, cosmo, spectrum)
            cdf = np.concatenate([[0.0], np.cumsum(0.5 * (weight[1:] + weight[:-1]))])
            log_m = np.interp(u_m, cdf / cdf[-1], grid_m)
        return log_m, z
    z_edges, m_edges, z_cdf, m_cdf = _sampling_grid(
        (float(m_low), float(m_high)), (float(z_low), float(z_high)), cosmo, spectrum
    )
    z = np.interp(u_z, z_cdf, z_edges)
    cell = np.clip(np.searchsorted(z_cdf, u_z, side="right") - 1, 0, len(z_edges) - 2)
    rows = m_cdf[cell]
    position = np.clip((rows <= u_m[:, None]).sum(axis=1), 1, m_cdf.shape[1] - 1)
    low_cdf = rows[np.arange(len(u_m)), position - 1]
    high_cdf = rows[np.arange(len(u_m)), position]
    fraction = np.where(high_cdf > low_cdf, (u_m - low_cdf) / (high_cdf - low_cdf), 0.5)
    log_m = m_edges[position - 1] + fraction * (m_edges[1] - m_edges[0])
    return log_m, z


def halo_density_deg2(
    log_mass_range: tuple[float, float] = (13.0, 15.0),
    z_range: tuple[float, float] = (0.01, 1.5),
    cosmo: FLRW | None = None,
    spectrum: LinearPowerSpectrum | None = None,
) -> float:
    """Number of haloes per deg^2 of sky in a log10 M500c and redshift range.

    The integral of ``dn/dlnM dV/dz/dOmega`` over the cells used by
    :func:`sample_mass_function`: what one parent of ``sampling='mass-function'``
    stands for on the sky, so that detected fractions become surface densities.

    Parameters
    ----------
    log_mass_range : tuple of float, default=(13.0, 15.0)
        log10(M500c / Msun); the ends must differ.
    z_range : tuple of float, default=(0.01, 1.5)
        The ends must differ.
    cosmo : astropy.cosmology.FLRW, optional
    spectrum : LinearPowerSpectrum, optional

    Returns
    -------
    float
        Haloes per square degree.

    Examples
    --------
    >>> from sk_clustermass.simulate import halo_density_deg2
    >>> bool(halo_density_deg2((14.0, 15.0), (0.01, 1.5)) < halo_density_deg2())
    True
    """
    cosmo = DEFAULT_COSMOLOGY if cosmo is None else cosmo
    spectrum = LinearPowerSpectrum() if spectrum is None else spectrum
    key = (tuple(map(float, log_mass_range)), tuple(map(float, z_range)), spectrum)
    return float(_cached("density", cosmo, *key,
                         build=lambda: (_halo_density(*key[:2], cosmo, spectrum),))[0])


def _halo_density(
    log_mass_range: tuple[float, float],
    z_range: tuple[float, float],
    cosmo: FLRW,
    spectrum: LinearPowerSpectrum,
) -> float:
    z_edges = np.linspace(*z_range, 121)
    m_edges = np.linspace(*log_mass_range, 241)
    z_mid = 0.5 * (z_edges[1:] + z_edges[:-1])
    m_mid = 0.5 * (m_edges[1:] + m_edges[:-1])
    volume = cosmo.differential_comoving_volume(z_mid).to_value(u.Mpc**3 / u.sr)
    density = mass_function_dn_dlnm(10.0 ** m_mid[None, :], z_mid[:, None], cosmo, spectrum)
    per_sr = float((density * volume[:, None]).sum() * np.log(10.0) * np.diff(m_edges)[0]
                   * np.diff(z_edges)[0])
    return per_sr * (np.pi / 180.0) ** 2
