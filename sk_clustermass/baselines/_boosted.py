"""A strong classical competitor: boosted trees on aperture photometry and redshift.

What a user would build first instead of a CNN: scikit-learn's
:class:`~sklearn.ensemble.HistGradientBoostingRegressor` on a handful of scalar
numbers measured on each image (:mod:`sk_clustermass.baselines._aperture`): the
background-subtracted counts within 1', 2' and 4', a hardness ratio, the background
level, and the redshift. Trees need no physics (no distances, K-corrections or
scaling relations) and learn any monotone transformation of the features, so this
competitor bounds what the scalar photometry holds; the CNN's advantage is quoted
against it. Widths come from two more boosted models fitted with the quantile loss at
the 16th and 84th percentiles.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.utils.validation import check_is_fitted

from .._inputs import IMAGES_KEY, REDSHIFT_KEY, as_inputs, check_target
from .._utils import check_number
from ..instrument import DEFAULT_PIXEL_ARCSEC
from ._aperture import aperture_counts

__all__ = ["BoostedApertureRegressor"]

#: Quantiles whose half-distance is the 1-sigma width of a Gaussian.
_QUANTILES = (0.15865525393145707, 0.8413447460685429)
#: Smallest width returned, in dex (as the CNN's).
_MIN_STD_DEX = 1e-3


class BoostedApertureRegressor(RegressorMixin, BaseEstimator):
    """Gradient-boosted trees on aperture counts, hardness, background and redshift.

    Features, per cluster (:meth:`features`): the net counts (all bands, background
    subtracted) within each radius of ``radii_arcmin``; the hardness ratio
    ``(H - S) / (H + S)`` of the net counts within the middle radius, ``S`` the lower
    half of the bands and ``H`` the upper half (0 for one band or no net counts); the
    background level (counts per pixel, all bands, in the annulus); and the redshift.

    Parameters
    ----------
    radii_arcmin : tuple of float, default=(1.0, 2.0, 4.0)
        Aperture radii, arcmin.
    background_annulus_arcmin : tuple of (float, float or None), default=(6.0, None)
        Inner and outer radius of the background annulus, arcmin; None reaches the
        image corners.
    pixel_size_arcsec : float, default=24.0
        Pixel size of the images, arcsec (eROSITA-like cubes: 24").
    max_iter : int, default=300
        Boosting iterations of each model.
    learning_rate : float, default=0.05
        Shrinkage of each tree.
    max_leaf_nodes : int, default=31
        Leaves per tree.
    min_samples_leaf : int, default=20
        Fewest clusters per leaf.
    random_state : int, RandomState or None, default=None
        Passed to the boosted models.

    Attributes
    ----------
    model_ : HistGradientBoostingRegressor
        The squared-error model of the mean.
    low_model_, high_model_ : HistGradientBoostingRegressor
        Quantile models of the 15.9th and 84.1th percentiles.
    n_bands_in_ : int
        Number of bands seen in ``fit``.
    feature_names_ : list of str
        Names of the columns of :meth:`features`.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass import as_inputs
    >>> rng = np.random.default_rng(0)
    >>> y = rng.uniform(13.0, 15.0, 200)
    >>> images = rng.poisson(np.full((200, 2, 20, 20), 0.05) + (10 ** (y - 13.0))[
    ...     :, None, None, None] * 0.01)
    >>> X = as_inputs(images, rng.uniform(0.1, 0.5, 200))
    >>> model = BoostedApertureRegressor(pixel_size_arcsec=30.0, max_iter=50,
    ...                                  background_annulus_arcmin=(4.5, None),
    ...                                  random_state=0).fit(X, y)
    >>> mean, std = model.predict(X, return_std=True)
    >>> mean.shape, bool((std > 0).all())
    ((200,), True)
    """

    def __init__(
        self,
        radii_arcmin: tuple[float, ...] = (1.0, 2.0, 4.0),
        background_annulus_arcmin: tuple[float, float | None] = (6.0, None),
        pixel_size_arcsec: float = DEFAULT_PIXEL_ARCSEC,
        max_iter: int = 300,
        learning_rate: float = 0.05,
        max_leaf_nodes: int = 31,
        min_samples_leaf: int = 20,
        random_state: Any = None,
    ) -> None:
        self.radii_arcmin = radii_arcmin
        self.background_annulus_arcmin = background_annulus_arcmin
        self.pixel_size_arcsec = pixel_size_arcsec
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.random_state = random_state

    def _radii_pixels(self, shape: tuple[int, int]) -> tuple[list[float], tuple]:
        positive = {"low": 0, "low_inclusive": False}
        check_number("pixel_size_arcsec", self.pixel_size_arcsec, **positive)
        radii = list(np.atleast_1d(self.radii_arcmin))
        if not radii:
            message = "radii_arcmin must hold at least one radius, e.g. (1.0, 2.0, 4.0)"
            raise ValueError(message)
        for radius in radii:
            check_number("every entry of radii_arcmin", radius, **positive)
        annulus = self.background_annulus_arcmin
        if not (isinstance(annulus, tuple | list) and len(annulus) == 2):
            message = ("background_annulus_arcmin must be a pair (inner, outer) in arcmin, "
                       f"outer may be None (to the image corners); got {annulus!r}")
            raise ValueError(message)
        inner, outer = annulus
        check_number("background_annulus_arcmin[0]", inner, **positive)
        check_number("background_annulus_arcmin[1]", outer, low=inner, low_inclusive=False,
                     allow_none=True)
        to_pixels = 60.0 / self.pixel_size_arcsec
        corner = np.hypot(shape[0] - 1, shape[1] - 1) / 2.0 / to_pixels
        if inner >= corner:
            message = (f"the background annulus starts at {inner} arcmin but the corners of "
                       f"the {shape[0]}x{shape[1]} images ({self.pixel_size_arcsec}\" pixels) "
                       f"lie {corner:.2f} arcmin from the centre; choose a smaller "
                       "background_annulus_arcmin[0] or the images' pixel_size_arcsec")
            raise ValueError(message)
        ring = (inner * to_pixels, None if outer is None else outer * to_pixels)
        return [r * to_pixels for r in radii], ring

    @property
    def _feature_names(self) -> list[str]:
        radii = [f"net_counts_{r:g}arcmin" for r in np.atleast_1d(self.radii_arcmin)]
        return [*radii, "hardness_ratio", "background_per_pixel", "redshift"]

    def features(self, X: Any) -> np.ndarray:
        """The scalar features of every cluster (see the class description).

        Parameters
        ----------
        X : skorch.helper.SliceDict or dict
            ``X["images"]`` photon counts of shape (n_samples, n_bands, height,
            width) and ``X["redshift"]`` of shape (n_samples,).

        Returns
        -------
        ndarray of shape (n_samples, n_radii + 3)
            Columns named by ``feature_names_`` after ``fit``.
        """
        X = as_inputs(X)
        images, redshift = X[IMAGES_KEY], X[REDSHIFT_KEY].astype(np.float64)
        radii, ring = self._radii_pixels(images.shape[2:])
        photometry = [aperture_counts(images, radius, ring) for radius in radii]
        middle = photometry[len(photometry) // 2].net_per_band
        half = middle.shape[1] // 2
        soft = middle[:, :half].sum(axis=1) if half else np.zeros(len(middle))
        hard = middle[:, half:].sum(axis=1) if half else np.zeros(len(middle))
        total = soft + hard
        hardness = np.divide(hard - soft, total, out=np.zeros_like(total), where=total > 0)
        columns = [counts.net for counts in photometry]
        columns += [hardness, photometry[0].background.sum(axis=1), redshift]
        return np.column_stack(columns)

    def _booster(self, **loss: Any) -> HistGradientBoostingRegressor:
        return HistGradientBoostingRegressor(
            max_iter=self.max_iter, learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes, min_samples_leaf=self.min_samples_leaf,
            early_stopping=False, random_state=self.random_state, **loss)

    def fit(self, X: Any, y: Any) -> BoostedApertureRegressor:
        """Measure the features and fit the mean and the two quantile models.

        Parameters
        ----------
        X : skorch.helper.SliceDict or dict
            As in :meth:`features`.
        y : array-like of shape (n_samples,)
            ``log10(M500c / Msun)``.

        Returns
        -------
        self : BoostedApertureRegressor
        """
        X = as_inputs(X)
        features = self.features(X)
        y = check_target(y, len(features))
        self.model_ = self._booster().fit(features, y)
        low, high = _QUANTILES
        self.low_model_ = self._booster(loss="quantile", quantile=low).fit(features, y)
        self.high_model_ = self._booster(loss="quantile", quantile=high).fit(features, y)
        self.n_bands_in_ = X[IMAGES_KEY].shape[1]
        self.feature_names_ = self._feature_names
        return self

    def predict(self, X: Any, return_std: bool = False):
        """Predict ``log10(M500c / Msun)`` and, optionally, the width from the quantiles.

        Parameters
        ----------
        X : skorch.helper.SliceDict or dict
            Same bands as in ``fit``.
        return_std : bool, default=False
            Also return half the distance between the predicted 15.9th and 84.1th
            percentiles (at least 1e-3 dex): the 1-sigma width of a Gaussian.

        Returns
        -------
        mean : ndarray of shape (n_samples,)
            Predicted ``log10(M500c / Msun)``.
        std : ndarray of shape (n_samples,)
            Only with ``return_std=True``; in dex.
        """
        check_is_fitted(self)
        X = as_inputs(X)
        n_bands = X[IMAGES_KEY].shape[1]
        if n_bands != self.n_bands_in_:
            message = (f"X has {n_bands} energy bands but the model was fitted on "
                       f"{self.n_bands_in_}; pass images with the same bands as in fit.")
            raise ValueError(message)
        features = self.features(X)
        mean = self.model_.predict(features).astype(np.float64)
        if not return_std:
            return mean
        spread = np.abs(self.high_model_.predict(features) - self.low_model_.predict(features))
        return mean, np.maximum(spread / 2.0, _MIN_STD_DEX)

    def __sklearn_tags__(self):
        """Tags: ``X`` is dict-like (images in photon counts, >= 0, and redshift)."""
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.dict = True
        tags.input_tags.positive_only = True
        return tags
