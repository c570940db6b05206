"""Importance weights that move a training set from one cluster population to another.

A network trained by likelihood predicts something close to the posterior mean of
the mass given the image, and a posterior carries the prior of the training set.
Trained on masses drawn uniformly in log M (the simulator's default), it pulls the
predictions of a survey's clusters, which follow the steep halo mass function,
towards the middle of the range: the low-mass clusters, the most numerous on the
sky, come out too heavy. Weighting every training cluster by
``p_target(M, z) / p_source(M, z)`` in the loss trains for the target population
instead, without simulating a new training set.

Part of :mod:`sk_clustermass.uncertainty`, which re-exports :func:`population_weights`
and :func:`population_density`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from astropy import units as u
from astropy.cosmology import FLRW
from numpy.typing import ArrayLike

from .._utils import check_vector
from ..simulate import DEFAULT_COSMOLOGY, mass_function_dn_dlnm

__all__ = ["POPULATIONS", "population_density", "population_weights"]

#: Named populations: densities over (log10 M500c, z), up to a constant.
POPULATIONS = ("log_uniform", "mass_function")
Density = Callable[[np.ndarray, np.ndarray], np.ndarray]


def population_density(
    population: str | Density,
    log_mass: ArrayLike,
    z: ArrayLike,
    cosmology: FLRW | None = None,
) -> np.ndarray:
    """Density of a cluster population over (log10 M500c, z), up to a constant factor.

    Parameters
    ----------
    population : {'log_uniform', 'mass_function'} or callable
        ``'log_uniform'``: uniform in log10 M and z, the simulator's
        ``sampling='log-uniform'``. ``'mass_function'``: the haloes of the sky,
        ``dn/dlnM dV/dz`` (Tinker et al. 2008 mass function times the comoving
        volume per redshift), the simulator's ``sampling='mass-function'``. A
        callable ``f(log_mass, z)`` returns any other density (e.g. a survey's
        observed population, fitted by a kernel density estimate).
    log_mass : array-like of shape (n_samples,)
        ``log10(M500c / Msun)``.
    z : array-like of shape (n_samples,)
        Redshift.
    cosmology : astropy.cosmology.FLRW, optional
        For the mass function and volume; the simulator's by default.

    Returns
    -------
    ndarray of shape (n_samples,)
        Non-negative densities.

    Examples
    --------
    >>> from sk_clustermass.uncertainty import population_density
    >>> density = population_density("mass_function", [13.5, 14.5], [0.3, 0.3])
    >>> bool(density[0] > 20 * density[1])   # the mass function falls steeply
    True
    """
    mass = check_vector("log_mass", log_mass)
    redshift = check_vector("z", z)
    if redshift.shape != mass.shape:
        message = f"log_mass has {mass.size} values but z has {redshift.size}; pass one per cluster"
        raise ValueError(message)
    if callable(population):
        density = np.asarray(population(mass, redshift), dtype=np.float64)
    elif population == "log_uniform":
        density = np.ones_like(mass)
    elif population == "mass_function":
        cosmo = DEFAULT_COSMOLOGY if cosmology is None else cosmology
        volume = cosmo.differential_comoving_volume(redshift).to_value(u.Mpc**3 / u.sr)
        density = mass_function_dn_dlnm(10.0**mass, redshift, cosmo) * volume
    else:
        message = (f"population {population!r} is not known; use one of {list(POPULATIONS)} "
                   "or a callable density(log_mass, z)")
        raise ValueError(message)
    if density.shape != mass.shape or not (np.isfinite(density) & (density >= 0)).all():
        message = ("a population density must give one finite value >= 0 per cluster; got "
                   f"shape {density.shape}")
        raise ValueError(message)
    return density


def population_weights(
    log_mass: ArrayLike,
    z: ArrayLike,
    *,
    source: str | Density = "log_uniform",
    target: str | Density = "mass_function",
    max_weight: float | None = None,
    cosmology: FLRW | None = None,
) -> np.ndarray:
    """Importance weights ``p_target / p_source`` for each training cluster, mean 1.

    Pass them as ``sample_weight`` to ``fit`` to train on ``source`` clusters as
    if they had been drawn from ``target``. A detection cut that depends only on
    the observation multiplies both densities by the same selection function, so
    weights computed from the intrinsic populations stay right for detected
    clusters.

    Parameters
    ----------
    log_mass : array-like of shape (n_samples,)
        True ``log10(M500c / Msun)`` of the training clusters.
    z : array-like of shape (n_samples,)
        Their redshifts.
    source : {'log_uniform', 'mass_function'} or callable, default='log_uniform'
        The population the training set was drawn from (see
        :func:`population_density`).
    target : {'log_uniform', 'mass_function'} or callable, default='mass_function'
        The population the model will be applied to.
    max_weight : float, optional
        Clip the weights at this multiple of their mean before normalising, to
        limit the variance that a few heavily weighted clusters bring.
    cosmology : astropy.cosmology.FLRW, optional
        For the mass function; the simulator's by default.

    Returns
    -------
    ndarray of shape (n_samples,)
        Weights with mean 1. Their effective sample size is
        ``weights.sum()**2 / (weights**2).sum()`` (Kish 1965): when it falls to a
        small fraction of ``n_samples``, simulate the target population instead.

    Raises
    ------
    ValueError
        If ``source`` gives zero density where there are training clusters.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass.uncertainty import population_weights
    >>> rng = np.random.default_rng(0)
    >>> log_mass, z = rng.uniform(13.0, 15.0, 1000), rng.uniform(0.05, 1.0, 1000)
    >>> weights = population_weights(log_mass, z)
    >>> round(float(weights.mean()), 6), bool(weights[log_mass < 13.5].mean() > 3)
    (1.0, True)
    """
    target_density = population_density(target, log_mass, z, cosmology)
    source_density = population_density(source, log_mass, z, cosmology)
    if not (source_density > 0).all():
        message = ("the source population has zero density where there are training "
                   f"clusters ({np.count_nonzero(source_density <= 0)} of them); the "
                   "training set cannot have been drawn from it")
        raise ValueError(message)
    weights = target_density / source_density
    if not weights.sum() > 0:
        message = "the target population has zero density at every training cluster"
        raise ValueError(message)
    weights = weights / weights.mean()
    if max_weight is not None:
        if not max_weight >= 1:
            message = f"max_weight must be >= 1 (a multiple of the mean); got {max_weight!r}"
            raise ValueError(message)
        weights = np.minimum(weights, max_weight)
        weights = weights / weights.mean()
    return weights
