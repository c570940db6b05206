"""Honest uncertainties: meta-estimators that improve the widths, and population weights.

Two meta-estimators improve the widths of any regressor with
``predict(X, return_std=True)`` (a :class:`~sk_clustermass.ClusterMassRegressor`, a
pipeline ending with one, a baseline): :class:`EnsembleRegressor` fits several seeds
and mixes their Gaussians (:func:`mixture_moments`), :class:`ConformalWidthRegressor`
recalibrates the widths on a held-out split, per bin of predicted mass
(:func:`conformal_quantile`). :func:`population_weights` reweights a training set from
one population of masses and redshifts to another (e.g. log-uniform to the mass
function), and :func:`population_density` gives their densities: the prior a network
trained by likelihood carries into its predictions. Both meta-estimators are also
importable from the package root.
"""

from ._conformal import ConformalWidthRegressor, conformal_quantile
from ._ensemble import EnsembleRegressor, mixture_moments
from ._population_weights import population_density, population_weights

__all__ = [
    "ConformalWidthRegressor",
    "EnsembleRegressor",
    "conformal_quantile",
    "mixture_moments",
    "population_density",
    "population_weights",
]
