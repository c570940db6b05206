"""What a fitted model uses: which bands, which radii and which pixels.

Two views, as in Ho et al. (2023, ApJ 950, 149), who read their cluster-mass CNN the
same ways: :func:`group_permutation_importance`, the drop in score when one energy
band, the redshift (the exposure, for a network that reads it) or one ring of pixels
around the centre (:func:`radial_rings`) is shuffled between clusters, for any fitted
model of this library; and :func:`saliency_maps`, per-pixel gradients of the predicted
mass of single clusters, for a :class:`~sk_clustermass.ClusterMassRegressor` or a
pipeline ending with one. Their figures are in :mod:`sk_clustermass.plotting`.
"""

from ._importance import group_permutation_importance, radial_rings
from ._saliency import saliency_maps

__all__ = ["group_permutation_importance", "radial_rings", "saliency_maps"]
