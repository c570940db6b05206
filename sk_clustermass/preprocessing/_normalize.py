"""BandNormalizer: per-band offset and scale learned on the training images."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

from .._inputs import FINITE_BOUND
from .._utils import band_mean_std, check_choice
from ._base import ImageTransformerMixin

__all__ = ["BandNormalizer"]

NORMALIZER_METHODS = ("standard", "max", "median")


def _band_statistics(images: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Return (offset, scale), each of shape (n_bands,), float64, for ``method``."""
    n_bands = images.shape[1]
    if method == "standard":
        offset, scale = band_mean_std(images)
    elif method == "max":
        offset = np.zeros(n_bands)
        scale = np.abs(images).max(axis=(0, 2, 3)).astype(np.float64)
    else:  # median of the per-cluster mean |value| of each band
        offset = np.zeros(n_bands)
        per_cluster = np.abs(images).mean(axis=(2, 3), dtype=np.float64)
        scale = np.median(per_cluster, axis=0)
    # A constant band (all zeros, say) carries no information: leave its scale at 1
    # rather than divide by zero, as sklearn's scalers do.
    scale = np.where(scale > 0, scale, 1.0)
    return offset, scale


class BandNormalizer(ImageTransformerMixin, BaseEstimator):
    """Per-band scaling of the images, learned on the training clusters.

    The energy bands differ by orders of magnitude in counts (the effective area
    and the cluster spectrum both vary with energy); scaling each band to a common
    range helps the network treat them alike. ``fit`` learns one ``offset_`` and one
    ``scale_`` per band; ``transform`` returns ``(x - offset_[b]) / scale_[b]``.
    The redshift is passed through untouched.

    Parameters
    ----------
    method : {'standard', 'max', 'median'}, default='standard'
        How the statistics are computed from the training images, over all
        clusters and pixels of each band:

        - ``'standard'``: offset = mean, scale = standard deviation; the output has
          zero mean and unit variance per band on the training set.
        - ``'max'``: offset = 0, scale = largest absolute value; the training output
          lies in [-1, 1] and zero stays zero. Sensitive to one bright outlier.
        - ``'median'``: offset = 0, scale = median over clusters of each cluster's
          mean absolute pixel value in the band, i.e. a typical cluster's brightness;
          robust to a few very bright clusters or AGN, and zero stays zero.

        A band whose scale comes out as 0 (constant, e.g. all zero) keeps scale 1.

    Attributes
    ----------
    offset_ : ndarray of shape (n_bands,)
        Subtracted per band, in the input's units (e.g. counts per pixel).
    scale_ : ndarray of shape (n_bands,)
        Divisor per band (> 0), in the input's units.
    n_bands_in_ : int
        Number of bands seen in ``fit``; ``transform`` requires the same.

    See Also
    --------
    LogStretch : stretch the counts first; normalise the stretched images.

    Notes
    -----
    Input: ``X["images"]`` of shape (n_samples, n_bands, height, width), counts or
    transformed values (negative values are allowed). Output: same shape, float32,
    dimensionless. The statistics are accumulated in float64.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass import as_inputs
    >>> from sk_clustermass.preprocessing import BandNormalizer
    >>> images = np.stack([np.full((4, 4), 2.0), np.full((4, 4), 40.0)])[None]
    >>> X = as_inputs(np.concatenate([images, 3 * images]), [0.2, 0.4])
    >>> normalizer = BandNormalizer(method="max").fit(X)
    >>> normalizer.scale_
    array([  6., 120.])
    >>> normalizer.transform(X)["images"][:, :, 0, 0]
    array([[0.33333334, 0.33333334],
           [1.        , 1.        ]], dtype=float32)
    """

    _stateless = False

    def __init__(self, method: str = "standard") -> None:
        self.method = method

    def _check_params(self) -> None:
        check_choice("method", self.method, NORMALIZER_METHODS)

    def _fit_images(self, images: np.ndarray) -> None:
        self.offset_, self.scale_ = _band_statistics(images, self.method)
        self.n_bands_in_ = images.shape[1]

    def _output_bound(self, input_bound: float) -> float | None:
        """``|x - offset_| / scale_`` from a bound on ``|x|``, if far below float32's maximum."""
        offset = np.abs(self.offset_.astype(np.float32)).max()
        scale = self.scale_.astype(np.float32).min()  # as in _transform_images
        shifted = min(input_bound, float(np.finfo(np.float32).max)) + float(offset)
        if scale <= 0 or shifted > FINITE_BOUND or shifted / scale > FINITE_BOUND:
            return None
        return shifted / float(scale) * (1 + 1e-6)  # margin for float32 rounding

    def _transform_images(self, images: np.ndarray) -> np.ndarray:
        n_bands = images.shape[1]
        if n_bands != self.n_bands_in_:
            message = (
                f"X has {n_bands} energy band(s) but BandNormalizer was fitted on "
                f"{self.n_bands_in_}: transform images with the same bands (and the same "
                "earlier preprocessing, e.g. BandMerge) as in fit, or refit."
            )
            raise ValueError(message)
        offset = self.offset_.astype(np.float32)[:, None, None]
        scale = self.scale_.astype(np.float32)[:, None, None]
        normalized = np.subtract(images, offset)
        return np.divide(normalized, scale, out=normalized)
