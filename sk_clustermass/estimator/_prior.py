"""The prior a fit trains under: the training population's, or flat in log10 M.

A network trained by likelihood predicts close to the posterior mean of the mass given
the image, and that posterior carries the mass distribution of the training set: its
prior. Trained on the clusters of a survey (steep mass function), predictions of the
rare massive and the faint low-mass clusters are pulled towards the crowded middle.
``prior='flat'`` weights the training clusters by the inverse of their (weighted)
density in ``log10 M``, so that the weighted training set is flat in ``log10 M`` over
its range: the estimate then behaves like a likelihood peak, what a user fitting a
scaling relation or a mass function wants.
"""

from __future__ import annotations

import numpy as np

from .._utils import check_choice

__all__ = ["PRIORS", "prior_weights"]

#: The priors of ``ClusterMassRegressor(prior=...)``.
PRIORS = ("training", "flat")
#: Clusters per histogram bin of the flat prior's density (at most ``_MAX_BINS`` bins).
_CLUSTERS_PER_BIN = 50
_MAX_BINS = 30
#: Largest ratio of two flat-prior weights: a nearly empty bin cannot dominate the loss.
_MAX_WEIGHT_RATIO = 20.0


def prior_weights(
    prior: str, log_mass: np.ndarray, sample_weight: np.ndarray | None = None
) -> np.ndarray | None:
    """Per-cluster training weights that impose ``prior`` on the training set.

    Parameters
    ----------
    prior : {'training', 'flat'}
        'training' keeps the training set's own mass distribution (the weights are
        ``sample_weight`` untouched); 'flat' divides every weight by the weighted
        density of ``log10 M`` at the cluster's mass (an equal-width histogram over
        the training range, one bin per 50 clusters, at most 30 bins), so that the
        weighted masses are flat in ``log10 M``. Weight ratios are capped at 20 so
        that a nearly empty bin cannot dominate the loss.
    log_mass : ndarray of shape (n_samples,)
        Training targets, ``log10(M500c / Msun)``.
    sample_weight : ndarray of shape (n_samples,), optional
        The user's weights (checked: finite, >= 0); the prior multiplies them.

    Returns
    -------
    ndarray of shape (n_samples,) or None
        The weights (mean 1 for 'flat'); None for 'training' without
        ``sample_weight``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.r_[np.full(300, 13.2), np.full(100, 14.8)]
    >>> w = prior_weights("flat", y)
    >>> round(float(w[y < 14].sum() / w[y > 14].sum()), 6)  # both ends weigh the same
    1.0
    """
    if prior == "training":
        return sample_weight
    check_choice("prior", prior, PRIORS)
    y = np.asarray(log_mass, dtype=np.float64)
    base = np.ones_like(y) if sample_weight is None else np.asarray(sample_weight, np.float64)
    n_bins = int(np.clip(len(y) // _CLUSTERS_PER_BIN, 1, _MAX_BINS))
    edges = np.linspace(y.min(), y.max(), n_bins + 1)
    index = np.clip(np.searchsorted(edges, y, side="right") - 1, 0, n_bins - 1)
    mass_per_bin = np.bincount(index, weights=base, minlength=n_bins)
    density = mass_per_bin[index]
    inverse = np.divide(1.0, density, out=np.zeros_like(density), where=density > 0)
    positive = inverse[inverse > 0]
    if positive.size:
        inverse = np.minimum(inverse, _MAX_WEIGHT_RATIO * positive.min())
    weight = base * inverse
    return weight / weight.mean()
