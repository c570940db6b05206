"""Which pixels a fitted network uses: saliency maps of single clusters.

:func:`saliency_maps`, as in Ho et al. (2023, ApJ 950, 149): per-pixel gradients of
the predicted mass of single clusters, plain or integrated along a path from a
baseline (Sundararajan, Taly & Yan 2017), for a
:class:`~sk_clustermass.ClusterMassRegressor` or a pipeline ending with one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.pipeline import Pipeline

from .._inputs import EXPOSURE_KEY, IMAGES_KEY, REDSHIFT_KEY, as_inputs
from ..estimator import MassNetwork, regressor_of

__all__ = ["saliency_maps"]


def saliency_maps(
    model: Any,
    X: Any,
    *,
    method: str = "integrated_gradients",
    n_steps: int = 32,
    baseline: float = 0.0,
) -> np.ndarray:
    """Per-pixel attribution of the predicted mass of each cluster.

    Parameters
    ----------
    model : ClusterMassRegressor or Pipeline ending with one
        Fitted. The maps are taken with respect to the images *the network
        receives*, i.e. after the pipeline's transformers (which are applied here).
    X : skorch.helper.SliceDict or dict
        A few clusters: ``X["images"]`` of shape (n_samples, n_bands, height, width)
        and ``X["redshift"]`` of shape (n_samples,), and ``X["exposure"]`` for a
        network fitted with ``use_exposure=True``.
    method : {'integrated_gradients', 'gradient'}, default='integrated_gradients'
        ``'gradient'``: d(mean) / d(pixel). ``'integrated_gradients'``: the gradient
        averaged along the straight path from ``baseline`` to the image, times
        (image - baseline); the maps of one cluster then sum to its predicted mass
        minus the mass predicted for the baseline image.
    n_steps : int, default=32
        Points on the path (midpoint rule), for integrated gradients.
    baseline : float, default=0.0
        Pixel value of the reference image, in the network's input units.

    Returns
    -------
    maps : ndarray of shape (n_samples, n_bands, height, width), float64
        In dex of ``log10(M500c / Msun)`` per input unit ('gradient') or in dex
        ('integrated_gradients').

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass import ClusterMassRegressor, as_inputs
    >>> from sk_clustermass.inspection import saliency_maps
    >>> rng = np.random.default_rng(0)
    >>> X = as_inputs(rng.poisson(1.0, (20, 2, 8, 8)), rng.uniform(0.1, 1.0, 20))
    >>> model = ClusterMassRegressor(n_filters=2, kernel_size=3, conv_layers=(1,),
    ...     pool_size=2, dense_layers=(4,), max_epochs=1, random_state=0)
    >>> model = model.fit(X, rng.uniform(13, 15, 20))
    >>> saliency_maps(model, X[:3], method="gradient").shape
    (3, 2, 8, 8)
    """
    if method not in ("integrated_gradients", "gradient"):
        message = (
            f"method={method!r} is not supported; choose 'integrated_gradients' or "
            "'gradient'"
        )
        raise ValueError(message)
    regressor = regressor_of(model)
    if isinstance(model, Pipeline) and len(model) > 1:
        X = model[:-1].transform(X)
    X = as_inputs(X, counts=False)
    network = MassNetwork(regressor)
    images = torch.from_numpy(X[IMAGES_KEY]).double()
    keys = [REDSHIFT_KEY, EXPOSURE_KEY] if network.use_exposure else [REDSHIFT_KEY]
    if EXPOSURE_KEY in keys and EXPOSURE_KEY not in X:
        message = ("the model was fitted with use_exposure=True: X needs X['exposure'] "
                   "(s); pass exposure= to as_inputs")
        raise ValueError(message)
    scalars = [torch.from_numpy(X[key]).double() for key in keys]
    network = network.double()
    if method == "gradient":
        return _gradient(network, images, *scalars).numpy()
    alphas = (torch.arange(n_steps, dtype=torch.float64) + 0.5) / n_steps
    start = torch.full_like(images, baseline)
    total = torch.zeros_like(images)
    for alpha in alphas:
        total += _gradient(network, start + alpha * (images - start), *scalars)
    return (total / n_steps * (images - start)).numpy()



def _gradient(network: MassNetwork, images: torch.Tensor, *scalars: torch.Tensor):
    """d(predicted mean) / d(images), one cluster's mean at a time (they are independent)."""
    images = images.clone().requires_grad_(True)
    mean, _ = network(images, *scalars)
    (gradient,) = torch.autograd.grad(mean.sum(), images)
    return gradient.detach()
