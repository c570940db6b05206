"""CenterCrop: keep the central ``height x width`` pixels of every image."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from .._utils import check_number
from ._base import ImageTransformerMixin

__all__ = ["CenterCrop"]


def crop_shape(size: Any) -> tuple[int, int]:
    """Return ``(height, width)`` from an int or a pair of ints; ``ValueError`` otherwise."""
    if isinstance(size, tuple | list) and len(size) == 2:
        height, width = size
    else:
        height = width = size
    try:
        check_number("size", height, integer=True, low=0, low_inclusive=False)
        check_number("size", width, integer=True, low=0, low_inclusive=False)
    except ValueError:
        message = (
            "size must be a positive int (square crop) or a pair of positive ints "
            f"(height, width) in pixels; got {size!r}"
        )
        raise ValueError(message) from None
    return int(height), int(width)


class CenterCrop(ImageTransformerMixin, BaseEstimator):
    """Cut every image down to its central ``size`` pixels.

    Useful to drop the outskirts (mostly background) of the 50x50 eROSITA cutouts,
    or to make the size a multiple of a :class:`Rebin` factor. Stateless: ``fit``
    only checks the parameters and the input. The redshift is passed through
    untouched.

    Parameters
    ----------
    size : int or tuple of (int, int), default=32
        Output ``(height, width)`` in pixels; an int gives a square. Must not exceed
        the input size.

    See Also
    --------
    Rebin : coarser pixels over the same field.

    Notes
    -----
    Pixel convention: the crop starts at row ``(height - size_h) // 2`` and column
    ``(width - size_w) // 2``. When the margin to drop is odd, the extra pixel is
    dropped at the far (high-index) edge, so the crop centre sits half a pixel
    before the image centre. For a centred source, prefer an even margin (an even
    size on an even image). Input: ``X["images"]`` of shape (n_samples, n_bands,
    height, width), any values. Output: shape (n_samples, n_bands, size_h, size_w),
    float32, same units, a new contiguous array.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass import as_inputs
    >>> from sk_clustermass.preprocessing import CenterCrop
    >>> images = np.arange(36.0).reshape(1, 1, 6, 6)
    >>> Xt = CenterCrop(size=2).fit_transform(as_inputs(images, [0.5]))
    >>> Xt["images"]
    array([[[[14., 15.],
             [20., 21.]]]], dtype=float32)
    >>> CenterCrop(size=(4, 2)).fit_transform(as_inputs(images, [0.5]))["images"].shape
    (1, 1, 4, 2)
    """

    _stateless = True

    def __init__(self, size: int | tuple[int, int] = 32) -> None:
        self.size = size

    def _check_params(self) -> None:
        crop_shape(self.size)

    def _check_images(self, images: np.ndarray) -> None:
        crop_height, crop_width = crop_shape(self.size)
        height, width = images.shape[2:]
        if crop_height > height or crop_width > width:
            message = (
                f"CenterCrop(size={self.size!r}) cannot cut {crop_height}x{crop_width} "
                f"pixels out of {height}x{width} images; choose a size of at most "
                f"({height}, {width})."
            )
            raise ValueError(message)

    def _output_bound(self, input_bound: float) -> float:
        """A crop keeps every value it keeps: the input's bound."""
        return input_bound

    def _transform_images(self, images: np.ndarray) -> np.ndarray:
        crop_height, crop_width = crop_shape(self.size)
        top = (images.shape[2] - crop_height) // 2
        left = (images.shape[3] - crop_width) // 2
        window = images[:, :, top : top + crop_height, left : left + crop_width]
        return window.copy()  # C-contiguous, and never the input array itself
