"""The lab's image format: rescaled from fine pixels and Gaussian-smoothed floats.

The lab's mock eFEDS images (PHYSICS.md) were cut out at 300 x 300 pixels of 4",
rescaled to 50 x 50 and Gaussian-smoothed: floats, not photon counts. The simulator
renders 24" pixels directly, so its counts already hold the photons of the 6 x 6 fine
pixels each output pixel covers; :func:`to_lab_style` turns them into the lab's units
(the mean over the fine pixels, i.e. counts / 36, as an area-averaging rescale gives)
and smooths each band with a Gaussian. The lab report does not state the smoothing
width: one output pixel is assumed (a parameter).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.ndimage import gaussian_filter

__all__ = ["IMAGE_FORMATS", "to_lab_style"]

#: The image formats of :func:`~sk_clustermass.datasets.make_clusters`.
IMAGE_FORMATS = ("counts", "lab")


def to_lab_style(
    images: ArrayLike, smoothing_pix: float = 1.0, rebin_factor: int = 6
) -> np.ndarray:
    """Photon-count cubes in the lab's format: fine-pixel means, Gaussian-smoothed.

    Parameters
    ----------
    images : array-like of shape (n_samples, n_bands, height, width)
        Photon counts per output pixel (e.g. ``make_clusters``' images).
    smoothing_pix : float, default=1.0
        Standard deviation of the Gaussian, in output pixels (assumed; the lab's
        width is not stated). 0 switches the smoothing off.
    rebin_factor : int, default=6
        Fine pixels per output pixel side (300 -> 50 pixels: 6).

    Returns
    -------
    ndarray of shape (n_samples, n_bands, height, width), float32
        Mean counts per fine pixel, smoothed within each band (mirror-reflected at the
        edges, so each band's sum is kept).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass.datasets import to_lab_style
    >>> counts = np.zeros((1, 2, 9, 9), dtype=np.float32); counts[0, :, 4, 4] = 36.0
    >>> lab = to_lab_style(counts)
    >>> lab.dtype, round(float(lab[0, 0].sum()), 4), round(float(lab[0, 0, 4, 4]), 3)
    (dtype('float32'), 1.0, 0.159)
    """
    cubes = np.asarray(images, dtype=np.float32)
    if cubes.ndim != 4:
        message = (
            "images must have shape (n_samples, n_bands, height, width); "
            f"got {cubes.shape}"
        )
        raise ValueError(message)
    if smoothing_pix < 0 or rebin_factor < 1:
        message = (
            "need smoothing_pix >= 0 and rebin_factor >= 1; got "
            f"smoothing_pix={smoothing_pix!r}, rebin_factor={rebin_factor!r}"
        )
        raise ValueError(message)
    scaled = cubes / np.float32(rebin_factor**2)
    if smoothing_pix == 0:
        return scaled
    return gaussian_filter(scaled, sigma=(0, 0, smoothing_pix, smoothing_pix), mode="reflect")
