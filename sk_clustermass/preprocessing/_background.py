"""BackgroundSubtract: remove a per-cluster, per-band level measured in an outer annulus."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from .._inputs import IMAGES_KEY, as_inputs
from .._utils import check_bool, check_choice, check_number
from ._base import ImageTransformerMixin

__all__ = ["BackgroundSubtract", "annulus_mask"]

BACKGROUND_STATISTICS = ("mean", "median")


def annulus_mask(
    height: int, width: int, inner_radius: float, outer_radius: float | None
) -> np.ndarray:
    """Boolean mask of shape (height, width): pixels with ``inner <= r < outer``.

    ``r`` is the distance in pixels from a pixel's centre to the image centre at
    ``((height - 1) / 2, (width - 1) / 2)`` (pixel centres at integer coordinates).
    ``outer_radius=None`` means no outer limit.
    """
    rows = np.arange(height) - (height - 1) / 2
    cols = np.arange(width) - (width - 1) / 2
    radius = np.hypot(rows[:, None], cols[None, :])
    mask = radius >= inner_radius
    if outer_radius is not None:
        mask &= radius < outer_radius
    return mask


class BackgroundSubtract(ImageTransformerMixin, BaseEstimator):
    """Subtract a flat background level, measured per cluster and band in an annulus.

    Sky (cosmic X-ray background, Galactic foreground) and particle background add
    a roughly flat level to every cutout, which varies with exposure and position
    on the sky. This transformer estimates it from the pixels of an annulus around
    the image centre, far from the cluster, and subtracts it from the whole image,
    independently for every cluster and band. Stateless: ``fit`` only checks the
    parameters and the input. The redshift is passed through untouched.

    Parameters
    ----------
    inner_radius : float, default=20.0
        Inner radius of the annulus in pixels (>= 0). Default for the 50x50 cutouts
        with 24" pixels: 20 px = 8 arcmin, beyond R500 of all but the nearest,
        most massive clusters.
    outer_radius : float or None, default=None
        Outer radius in pixels (> ``inner_radius``); None takes every pixel out to
        the corners.
    statistic : {'mean', 'median'}, default='mean'
        Level of the annulus pixels. 'mean' is unbiased for Poisson counts; 'median'
        resists point sources (AGN) in the annulus, but for sparse counts (well
        below ~5 per pixel) it is biased low and quantised to integers; smooth or
        rebin first if you use it on raw counts.
    clip_negative : bool, default=False
        Set negative results to 0. Keeping them (the default) keeps the subtraction
        unbiased; clipping gives non-negative images (e.g. for ``LogStretch('log1p')``)
        at the price of a positive bias in faint regions.

    See Also
    --------
    LogStretch : use ``method='asinh'`` on the signed output.

    Notes
    -----
    The annulus holds the pixels whose centres lie at ``inner_radius <= r <
    outer_radius`` from the image centre ``((height - 1) / 2, (width - 1) / 2)``;
    see :func:`annulus_mask`. Input: ``X["images"]`` of shape (n_samples, n_bands,
    height, width), counts per pixel. Output: same shape, float32, counts per pixel
    above the background; values may be negative unless ``clip_negative=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass import as_inputs
    >>> from sk_clustermass.preprocessing import BackgroundSubtract
    >>> images = np.full((1, 2, 9, 9), 0.5)      # 0.5 counts per pixel of background
    >>> images[0, :, 4, 4] += 10.0               # a source in the centre
    >>> subtract = BackgroundSubtract(inner_radius=3)
    >>> subtract.estimate_background(as_inputs(images, [0.2]))
    array([[0.5, 0.5]])
    >>> Xt = subtract.fit_transform(as_inputs(images, [0.2]))
    >>> float(Xt["images"][0, 0, 4, 4]), float(Xt["images"][0, 0, 0, 0])
    (10.0, 0.0)
    """

    _stateless = True

    def __init__(
        self,
        inner_radius: float = 20.0,
        outer_radius: float | None = None,
        statistic: str = "mean",
        clip_negative: bool = False,
    ) -> None:
        self.inner_radius = inner_radius
        self.outer_radius = outer_radius
        self.statistic = statistic
        self.clip_negative = clip_negative

    def _check_params(self) -> None:
        check_number("inner_radius", self.inner_radius, low=0)
        if self.outer_radius is not None:
            check_number("outer_radius", self.outer_radius, low=self.inner_radius,
                         low_inclusive=False)
        check_choice("statistic", self.statistic, BACKGROUND_STATISTICS)
        check_bool("clip_negative", self.clip_negative)

    def _mask(self, images: np.ndarray) -> np.ndarray:
        height, width = images.shape[2:]
        mask = annulus_mask(height, width, self.inner_radius, self.outer_radius)
        if not mask.any():
            corner = np.hypot((height - 1) / 2, (width - 1) / 2)
            message = (
                f"the background annulus inner_radius={self.inner_radius!r}, "
                f"outer_radius={self.outer_radius!r} (pixels) holds no pixel of the "
                f"{height}x{width} images, whose corners lie {corner:.1f} pixels from "
                "the centre. Choose a smaller inner_radius (or a larger outer_radius)."
            )
            raise ValueError(message)
        return mask

    def _check_images(self, images: np.ndarray) -> None:
        self._mask(images)

    def _levels(self, images: np.ndarray) -> np.ndarray:
        annulus = images[:, :, self._mask(images)]  # (n_samples, n_bands, n_pixels)
        if self.statistic == "mean":
            return annulus.mean(axis=2, dtype=np.float64)
        return np.median(annulus, axis=2).astype(np.float64)

    def _transform_images(self, images: np.ndarray) -> np.ndarray:
        levels = self._levels(images).astype(np.float32)
        subtracted = np.subtract(images, levels[:, :, None, None])
        if self.clip_negative:
            np.maximum(subtracted, 0, out=subtracted)
        return subtracted

    def estimate_background(self, X: Any) -> np.ndarray:
        """Background level of every cluster and band, from the annulus.

        Parameters
        ----------
        X : skorch.helper.SliceDict or dict
            ``X["images"]`` of shape (n_samples, n_bands, height, width) and
            ``X["redshift"]`` of shape (n_samples,).

        Returns
        -------
        levels : ndarray of shape (n_samples, n_bands), float64
            In the input's units per pixel (counts per pixel for raw counts).
        """
        self._check_params()
        images = as_inputs(X, counts=False)[IMAGES_KEY]
        return self._levels(images)
