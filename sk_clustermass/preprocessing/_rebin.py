"""Rebin: coarser pixels by summing (or averaging) square blocks of pixels."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

from .._utils import check_bool, check_choice, check_number
from ._base import ImageTransformerMixin

__all__ = ["Rebin"]

REBIN_REDUCTIONS = ("sum", "mean")


def _trim_slice(size: int, factor: int) -> slice:
    """Central slice of ``size`` pixels whose length is a multiple of ``factor``."""
    extra = size % factor
    start = extra // 2
    return slice(start, size - (extra - start))


class Rebin(ImageTransformerMixin, BaseEstimator):
    """Merge ``factor x factor`` blocks of pixels into one pixel.

    With ``reduce='sum'`` every output pixel holds the counts of its block, so the
    total counts of every cluster and band are conserved exactly (for integer counts
    below 2**24 per block, the float32 limit). Stateless: ``fit`` only checks the
    parameters and the input. The redshift is passed through untouched.

    Parameters
    ----------
    factor : int, default=2
        Side of the block in input pixels (>= 1). The pixel scale grows by this
        factor: 24" pixels and ``factor=2`` give 48" pixels.
    reduce : {'sum', 'mean'}, default='sum'
        ``'sum'`` keeps counts per (larger) pixel; ``'mean'`` keeps counts per input
        pixel area (a surface brightness), i.e. the sum divided by ``factor**2``.
    trim : bool, default=False
        If the height or width is not a multiple of ``factor``, drop the leftover
        rows and columns, split between both edges (one more at the far edge when
        the leftover is odd) so the image stays centred; the dropped counts are lost.
        If False, such an image raises ``ValueError``.

    See Also
    --------
    CenterCrop : cut the image to a size that ``factor`` divides.

    Notes
    -----
    Input: ``X["images"]`` of shape (n_samples, n_bands, height, width), counts per
    pixel (or background-subtracted counts: the operation is linear, and any sum is
    conserved). Output: shape (n_samples, n_bands, height // factor,
    width // factor), float32. Do not rebin after :class:`LogStretch`: a sum of
    logarithms is not the logarithm of a sum.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass import as_inputs
    >>> from sk_clustermass.preprocessing import Rebin
    >>> X = as_inputs(np.ones((2, 3, 6, 6)), [0.1, 0.2])
    >>> Xt = Rebin(factor=3).fit_transform(X)
    >>> Xt["images"].shape, float(Xt["images"].sum()), float(X["images"].sum())
    ((2, 3, 2, 2), 216.0, 216.0)
    >>> Rebin(factor=4, trim=True).fit_transform(X)["images"].shape
    (2, 3, 1, 1)
    """

    _stateless = True

    def __init__(self, factor: int = 2, reduce: str = "sum", trim: bool = False) -> None:
        self.factor = factor
        self.reduce = reduce
        self.trim = trim

    def _check_params(self) -> None:
        check_number("factor", self.factor, integer=True, low=1)
        check_choice("reduce", self.reduce, REBIN_REDUCTIONS)
        check_bool("trim", self.trim)

    def _check_images(self, images: np.ndarray) -> None:
        factor = int(self.factor)
        height, width = images.shape[2:]
        if height < factor or width < factor:
            message = (
                f"Rebin(factor={factor}) needs images of at least {factor}x{factor} "
                f"pixels; got {height}x{width}. Use a smaller factor."
            )
            raise ValueError(message)
        if not self.trim and (height % factor or width % factor):
            message = (
                f"images of {height}x{width} pixels cannot be cut into {factor}x{factor} "
                f"blocks: height and width must be multiples of factor={factor}. Pass "
                "trim=True to drop the leftover edge pixels, or crop first with "
                "CenterCrop, or choose a factor that divides both."
            )
            raise ValueError(message)

    def _transform_images(self, images: np.ndarray) -> np.ndarray:
        factor = int(self.factor)
        n_samples, n_bands, height, width = images.shape
        rows, cols = _trim_slice(height, factor), _trim_slice(width, factor)
        kept = images[:, :, rows, cols]
        blocks = kept.reshape(
            n_samples, n_bands, kept.shape[2] // factor, factor, kept.shape[3] // factor, factor
        )
        binned = blocks.sum(axis=(3, 5), dtype=np.float32)
        if self.reduce == "mean":
            binned /= np.float32(factor * factor)
        return binned
