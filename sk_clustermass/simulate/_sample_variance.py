"""Sample variance of cluster counts in a small survey field.

A simulated sky is a fair sample of the Universe; a real field of 140 deg² is not.
Below z ~ 0.3 the eFEDS footprint holds a few 10^7 Mpc^3, and the number of clusters
in it fluctuates with the large-scale structure it happens to contain, on top of the
Poisson noise: ``Var(N) = N + N^2 b^2 sigma^2_V`` (e.g. Hu & Kravtsov 2003, ApJ 584,
702), with ``b`` the clusters' linear bias and ``sigma^2_V`` the variance of the
linear matter contrast averaged over the volume.

* :func:`tinker10_bias` is the halo bias of Tinker et al. (2010, ApJ 724, 878; their
  Table 2 fit, ``Delta`` with respect to the mean density), for M500c haloes.
* :func:`shell_density_covariance` gives the covariance of the linear matter contrast
  averaged over redshift shells of a rectangular field (flat-sky), from the
  simulator's own linear power spectrum: the shells are painted on a zero-padded
  grid and the covariance is ``(1/V) sum_k P(k) W_i(k) W_j*(k)``.
* :func:`draw_with_sample_variance` draws mock samples of a published size from a
  simulated catalogue with Poisson and sample variance per shell, to turn "the
  simulator predicts X" into "a field like this one would measure X within [a, b]".
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np
from astropy.cosmology import FLRW
from numpy.typing import ArrayLike

from ._cosmology import DEFAULT_COSMOLOGY
from ._massfunction import LinearPowerSpectrum, growth_factor, linear_power_mpc3, sigma_of_mass

__all__ = ["draw_with_sample_variance", "shell_density_covariance", "tinker10_bias"]

_DELTA_COLLAPSE = 1.686  # linear collapse threshold (spherical collapse, EdS value)


def tinker10_bias(
    mass_msun: ArrayLike,
    z: ArrayLike,
    cosmo: FLRW | None = None,
    spectrum: LinearPowerSpectrum | None = None,
) -> np.ndarray:
    """Linear bias of M500c haloes, Tinker et al. (2010, ApJ 724, 878), Table 2.

    Parameters
    ----------
    mass_msun : array-like
        M500c in Msun.
    z : array-like
        Redshift (broadcast against ``mass_msun``).
    cosmo : astropy.cosmology.FLRW, optional
        Defaults to the simulator's cosmology.
    spectrum : LinearPowerSpectrum, optional
        Defaults to the mass function's.

    Returns
    -------
    numpy.ndarray
        The bias ``b(nu)`` with ``nu = 1.686 / sigma(M, z)`` and the overdensity
        ``Delta = 500 / Omega_m(z)`` with respect to the mean density.

    Examples
    --------
    >>> from sk_clustermass.simulate import tinker10_bias
    >>> b = tinker10_bias([1e13, 1e14, 1e15], 0.0)
    >>> bool(1.0 < b[0] < b[1] < b[2])
    True
    """
    cosmo = DEFAULT_COSMOLOGY if cosmo is None else cosmo
    mass = np.asarray(mass_msun, dtype=np.float64)
    redshift = np.asarray(z, dtype=np.float64)
    nu = _DELTA_COLLAPSE / sigma_of_mass(mass, redshift, cosmo, spectrum)
    y = np.log10(500.0 / np.asarray(cosmo.Om(redshift), dtype=np.float64))
    damp = np.exp(-((4.0 / y) ** 4))
    big_a = 1.0 + 0.24 * y * damp
    small_a = 0.44 * y - 0.88
    big_c = 0.019 + 0.107 * y + 0.19 * damp
    return (1.0 - big_a * nu**small_a / (nu**small_a + _DELTA_COLLAPSE**small_a)
            + 0.183 * nu**1.5 + big_c * nu**2.4)


def shell_density_covariance(
    z_edges: Sequence[float],
    width_deg: float,
    height_deg: float,
    *,
    cosmo: FLRW | None = None,
    spectrum: LinearPowerSpectrum | None = None,
    cell_mpc: float | None = None,
) -> np.ndarray:
    """Covariance of the linear matter contrast averaged over redshift shells of a field.

    The field is a ``width_deg`` x ``height_deg`` rectangle (flat-sky: transverse
    sizes are the comoving distance times the angles); shell ``i`` is the part of
    its cone between ``z_edges[i]`` and ``z_edges[i + 1]``. Each shell's contrast is
    taken at the growth of its middle redshift.

    Parameters
    ----------
    z_edges : sequence of float
        Increasing shell edges, at least two.
    width_deg, height_deg : float
        Sides of the field in degrees (eFEDS: about 140 deg²).
    cosmo : astropy.cosmology.FLRW, optional
        Defaults to the simulator's cosmology.
    spectrum : LinearPowerSpectrum, optional
        Defaults to the mass function's.
    cell_mpc : float, optional
        Grid cell; by default a sixth of the narrowest transverse size of the field
        at the first non-zero edge, or of the thinnest shell, whichever is smaller.

    Returns
    -------
    numpy.ndarray
        ``(n_shells, n_shells)`` covariance matrix; its diagonal is ``sigma^2_V``.

    Examples
    --------
    >>> from sk_clustermass.simulate import shell_density_covariance
    >>> cov = shell_density_covariance([0.1, 0.2, 0.3], 12.0, 12.0, cell_mpc=10.0)
    >>> bool(cov[0, 0] > cov[1, 1] > 0)
    True
    """
    cosmo = DEFAULT_COSMOLOGY if cosmo is None else cosmo
    edges = np.asarray(z_edges, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0) or edges[0] < 0:
        message = f"z_edges must be at least two increasing redshifts >= 0; got {z_edges!r}"
        raise ValueError(message)
    if not (0 < width_deg <= 60 and 0 < height_deg <= 60):
        message = (f"the field must be 0-60 degrees on a side for the flat-sky grid; got "
                   f"{width_deg} x {height_deg}")
        raise ValueError(message)
    chi = np.asarray(cosmo.comoving_distance(edges).value, dtype=np.float64)  # Mpc
    half_w, half_h = np.tan(np.radians(width_deg) / 2), np.tan(np.radians(height_deg) / 2)
    if cell_mpc is None:
        near = chi[chi > 0].min()
        cell_mpc = min(2.0 * near * min(half_w, half_h), np.diff(chi).min()) / 6.0
    extent = np.array([chi[-1], 2 * chi[-1] * half_w, 2 * chi[-1] * half_h])
    shape = tuple(int(n) for n in np.ceil(2.0 * extent / cell_mpc))  # zero-padded x2
    if np.prod(shape, dtype=np.float64) > 4e8:
        message = (f"a grid of {shape} cells is too large; give a larger cell_mpc (now "
                   f"{cell_mpc:.3g} Mpc) or fewer/thicker shells")
        raise ValueError(message)
    x = (np.arange(shape[0]) + 0.5) * cell_mpc
    y = (np.arange(shape[1]) + 0.5) * cell_mpc - extent[1]
    zz = (np.arange(shape[2]) + 0.5) * cell_mpc - extent[2]
    inside_w = np.abs(y)[None, :] < x[:, None] * half_w
    inside_h = np.abs(zz)[None, :] < x[:, None] * half_h
    k = _wavenumbers(shape, cell_mpc)
    middle = 0.5 * (edges[:-1] + edges[1:])
    growth = np.asarray(growth_factor(middle, cosmo), dtype=np.float64)
    power = linear_power_mpc3(k, 0.0, cosmo, spectrum)
    power.flat[0] = 0.0  # the mean density is fixed
    transforms = []
    for low, high in itertools.pairwise(chi):
        along = (x >= low) & (x < high)
        window = (along[:, None, None] & inside_w[:, :, None] & inside_h[:, None, :])
        count = window.sum()
        if count < 8:
            message = (f"the shell {low:.0f}-{high:.0f} Mpc holds {count} grid cells; give "
                       f"a smaller cell_mpc (now {cell_mpc:.3g} Mpc)")
            raise ValueError(message)
        transforms.append(np.fft.rfftn(window.astype(np.float32) / count))
    # rfftn keeps half of the k-space: the other half is the complex conjugate,
    # counted twice except on the planes that are their own mirror images.
    weight = np.full(power.shape, 2.0)
    weight[..., 0] = 1.0
    if shape[2] % 2 == 0:
        weight[..., -1] = 1.0
    volume = np.prod(shape) * cell_mpc**3
    n = len(transforms)
    covariance = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            cross = np.real(transforms[i] * np.conj(transforms[j]))
            covariance[i, j] = covariance[j, i] = (
                np.sum(weight * power * cross) / volume * growth[i] * growth[j]
            )
    return covariance


def _wavenumbers(shape: tuple[int, int, int], cell_mpc: float) -> np.ndarray:
    """|k| in 1/Mpc on the grid of ``numpy.fft.rfftn``."""
    axes = [2 * np.pi * np.fft.fftfreq(n, d=cell_mpc) for n in shape[:2]]
    axes.append(2 * np.pi * np.fft.rfftfreq(shape[2], d=cell_mpc))
    kx, ky, kz = np.meshgrid(*axes, indexing="ij", sparse=True)
    return np.sqrt(kx**2 + ky**2 + kz**2)


def draw_with_sample_variance(
    z: ArrayLike,
    bias: ArrayLike,
    z_edges: Sequence[float],
    covariance: np.ndarray,
    n_mean: float,
    statistic: Callable[[np.ndarray], float],
    *,
    n_draws: int = 2000,
    random_state: int | np.random.Generator | None = None,
) -> np.ndarray:
    """A statistic of mock samples drawn with Poisson and sample variance per shell.

    Each draw fluctuates the density of every shell by ``1 + b_i delta_i``, with
    ``delta`` drawn from ``covariance`` and ``b_i`` the mean bias of the objects in
    the shell, draws Poisson counts with mean ``n_mean`` times each shell's share of
    the objects times that factor, and resamples redshifts within each shell.
    Objects outside the edges keep their Poisson noise only.

    Parameters
    ----------
    z : array-like
        Redshifts of a large simulated sample (the population to draw from).
    bias : array-like
        Linear bias of each object (e.g. :func:`tinker10_bias` of its mass).
    z_edges : sequence of float
        The shells of ``covariance``.
    covariance : numpy.ndarray
        From :func:`shell_density_covariance` for the field.
    n_mean : float
        Expected number of objects in the field (e.g. the published sample size).
    statistic : callable
        Maps the redshifts of one mock sample to a number (median, a share, ...).
    n_draws : int, default=2000
        Number of mock samples.
    random_state : int, numpy.random.Generator or None
        Seed.

    Returns
    -------
    numpy.ndarray
        ``n_draws`` values of the statistic.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass.simulate import draw_with_sample_variance
    >>> z = np.random.default_rng(0).uniform(0.05, 0.6, 5000)
    >>> cov = np.diag([0.01, 0.004])
    >>> medians = draw_with_sample_variance(z, np.full(5000, 2.0), [0.0, 0.2, 0.4],
    ...                                     cov, 400, np.median, n_draws=200,
    ...                                     random_state=0)
    >>> bool(0.28 < np.median(medians) < 0.36)
    True
    """
    rng = np.random.default_rng(random_state)
    redshift = np.asarray(z, dtype=np.float64)
    bias = np.broadcast_to(np.asarray(bias, dtype=np.float64), redshift.shape)
    edges = np.asarray(z_edges, dtype=np.float64)
    shell = np.digitize(redshift, edges) - 1  # -1 below, len(edges)-1 above
    n_shells = len(edges) - 1
    if covariance.shape != (n_shells, n_shells):
        message = (f"covariance has shape {covariance.shape}; {n_shells} shells need "
                   f"({n_shells}, {n_shells})")
        raise ValueError(message)
    groups = [np.flatnonzero(shell == i) for i in range(n_shells)]
    outside = np.flatnonzero((shell < 0) | (shell >= n_shells))
    share = np.array([len(g) for g in groups]) / redshift.size
    mean_bias = np.array([bias[g].mean() if len(g) else 0.0 for g in groups])
    n_outside = n_mean * len(outside) / redshift.size
    chol = np.linalg.cholesky(covariance + 1e-12 * np.eye(n_shells))
    values = np.empty(n_draws)
    for draw in range(n_draws):
        delta = chol @ rng.standard_normal(n_shells)
        expected = n_mean * share * np.clip(1.0 + mean_bias * delta, 0.0, None)
        picks = [rng.choice(g, size=rng.poisson(m)) for g, m in zip(groups, expected)
                 if len(g)]
        if len(outside):
            picks.append(rng.choice(outside, size=rng.poisson(n_outside)))
        sample = redshift[np.concatenate(picks)] if picks else redshift[:0]
        values[draw] = statistic(sample) if sample.size else np.nan
    return values
