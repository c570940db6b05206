"""Transformers on the library's ``X``: stretch, normalise, smooth, rebin, crop, merge.

Every transformer follows the scikit-learn conventions (``fit`` returns ``self``,
parameters reachable by ``GridSearchCV``, learned state ending in ``_``) and takes
and returns ``X`` as built by :func:`sk_clustermass.as_inputs`: ``X["images"]`` is
transformed, ``X["redshift"]`` is passed through untouched. They chain in a
:class:`~sklearn.pipeline.Pipeline` before :class:`sk_clustermass.ClusterMassRegressor`.

Examples
--------
>>> import numpy as np
>>> from sklearn.pipeline import make_pipeline
>>> from sk_clustermass import as_inputs
>>> from sk_clustermass.preprocessing import BandNormalizer, LogStretch
>>> rng = np.random.default_rng(0)
>>> X = as_inputs(rng.poisson(2.0, (5, 10, 50, 50)), rng.uniform(0.1, 1.0, 5))
>>> Xt = make_pipeline(LogStretch(), BandNormalizer()).fit_transform(X)
>>> Xt["images"].shape, Xt["images"].dtype
((5, 10, 50, 50), dtype('float32'))
"""

from ._background import BackgroundSubtract
from ._bands import BAND_EDGES_KEV, BAND_PRESETS, BandMerge
from ._crop import CenterCrop
from ._normalize import BandNormalizer
from ._rebin import Rebin
from ._smoothing import GaussianSmoothing
from ._stretch import LogStretch

__all__ = [
    "BAND_EDGES_KEV",
    "BAND_PRESETS",
    "BackgroundSubtract",
    "BandMerge",
    "BandNormalizer",
    "CenterCrop",
    "GaussianSmoothing",
    "LogStretch",
    "Rebin",
]
