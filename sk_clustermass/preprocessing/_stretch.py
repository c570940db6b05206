"""LogStretch: compress the huge dynamic range of X-ray counts with log1p or asinh."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from skorch.helper import SliceDict

from .._inputs import FINITE_BOUND, IMAGES_KEY, as_inputs
from .._utils import check_choice, check_number
from ._base import ImageTransformerMixin

__all__ = ["LogStretch"]

STRETCH_METHODS = ("log1p", "asinh")


class LogStretch(ImageTransformerMixin, BaseEstimator):
    """Logarithmic stretch of the images: ``log1p(x / scale)`` or ``asinh(x / scale)``.

    A cluster core holds thousands of counts per pixel while its outskirts and the
    background hold fractions of one; a stretch gives the network a usable dynamic
    range. Stateless: ``fit`` only checks the parameters and the input, and
    :meth:`transform` works without it. The redshift is passed through untouched.

    Parameters
    ----------
    method : {'log1p', 'asinh'}, default='log1p'
        ``'log1p'`` needs photon counts (>= 0). ``'asinh'`` accepts negative values
        (background-subtracted images): it is linear for ``|x| << scale``,
        logarithmic for ``|x| >> scale`` and odd, so negative residuals keep their sign.
    scale : float, default=1.0
        Counts per pixel at which the stretch turns from linear to logarithmic
        (> 0), in the input's units. For asinh a good value is the background level
        or its noise, e.g. 0.5 counts per 24" pixel at eFEDS depth.

    See Also
    --------
    BandNormalizer : per-band scaling, the usual next step.

    Notes
    -----
    Input: ``X["images"]`` of shape (n_samples, n_bands, height, width) in counts
    per pixel. Output: same shape, float32, dimensionless. The stretch is strictly
    increasing and :meth:`inverse_transform` undoes it (up to float32 rounding).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass import as_inputs
    >>> from sk_clustermass.preprocessing import LogStretch
    >>> X = as_inputs(np.full((2, 3, 4, 4), np.e - 1.0), [0.1, 0.5])
    >>> Xt = LogStretch().fit_transform(X)
    >>> Xt["images"].shape, float(Xt["images"].max())
    ((2, 3, 4, 4), 1.0)
    >>> Xt["redshift"] is X["redshift"]
    True
    >>> np.allclose(LogStretch().inverse_transform(Xt)["images"], X["images"])
    True
    """

    _stateless = True

    def __init__(self, method: str = "log1p", scale: float = 1.0) -> None:
        self.method = method
        self.scale = scale

    def _check_params(self) -> None:
        check_choice("method", self.method, STRETCH_METHODS)
        check_number("scale", self.scale, low=0, low_inclusive=False)

    def _needs_counts(self) -> bool:
        return self.method == "log1p"

    def _check_images(self, images: np.ndarray) -> None:
        if self.method != "log1p" or images.min() >= 0:
            return
        n_negative = int(np.count_nonzero(images < 0))
        message = (
            f"LogStretch(method='log1p') needs photon counts >= 0, but images contains "
            f"{n_negative} negative value(s) (min {images.min():.3g}). For "
            "background-subtracted or otherwise signed images use "
            "LogStretch(method='asinh'), which is defined for negative values."
        )
        raise ValueError(message)

    def _output_bound(self, input_bound: float) -> float | None:
        """log1p and asinh of finite values are below 89.5; ``x / scale`` can overflow
        only for ``scale < 1`` and values near float32's maximum."""
        largest = min(input_bound, float(np.finfo(np.float32).max))
        stretched = largest / self.scale
        if self.scale < 1 and stretched > FINITE_BOUND:
            return None
        return float(np.arcsinh(stretched)) + 1.0  # >= log1p; margin for float32 rounding

    def _transform_images(self, images: np.ndarray) -> np.ndarray:
        function = np.log1p if self.method == "log1p" else np.arcsinh
        if self.scale == 1:
            return function(images)
        stretched = np.divide(images, np.float32(self.scale))
        return function(stretched, out=stretched)

    def inverse_transform(self, X: Any) -> SliceDict:
        """Undo the stretch: ``scale * expm1(x)`` or ``scale * sinh(x)``.

        Parameters
        ----------
        X : skorch.helper.SliceDict or dict
            Stretched ``X["images"]`` of shape (n_samples, n_bands, height, width) and
            ``X["redshift"]`` of shape (n_samples,).

        Returns
        -------
        X_original : skorch.helper.SliceDict
            Images in the input's units (counts per pixel), same shape, float32.
        """
        self._check_params()
        X = as_inputs(X, counts=False)  # stretched images are not counts: no sign check
        function = np.expm1 if self.method == "log1p" else np.sinh
        images = function(X[IMAGES_KEY])
        if self.scale != 1:
            np.multiply(images, np.float32(self.scale), out=images)
        return self._output(images, X)
