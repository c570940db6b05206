"""Aperture photometry on image cubes: aperture and annulus masks, net counts.

Pixel convention (the same as the simulator's detection aperture and
:class:`~sk_clustermass.preprocessing.BackgroundSubtract`): pixel centres sit at
integer coordinates and the image centre at ``((height - 1) / 2, (width - 1) / 2)``;
a pixel belongs to the aperture when its centre lies at ``r <= radius`` and to the
background annulus when ``inner <= r < outer``. Radii are in pixels here; the
estimators convert from arcmin.

Everything is vectorised over clusters: the only loop runs over chunks of clusters,
to bound the float64 copy of the images.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["ApertureCounts", "aperture_counts", "aperture_masks", "radius_pixels"]

#: Clusters per chunk: a float64 copy of 1024 10x50x50 cubes is 200 MB.
_CHUNK = 1024


def radius_pixels(height: int, width: int) -> np.ndarray:
    """Distance of every pixel centre from the image centre, in pixels.

    Parameters
    ----------
    height, width : int
        Image size in pixels.

    Returns
    -------
    ndarray of shape (height, width)

    Examples
    --------
    >>> radius_pixels(3, 3)[1]
    array([1., 0., 1.])
    """
    rows = np.arange(height) - (height - 1) / 2.0
    cols = np.arange(width) - (width - 1) / 2.0
    return np.hypot(rows[:, None], cols[None, :])


def aperture_masks(
    shape: tuple[int, int], radius: float, inner: float, outer: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of the source aperture and of the background annulus.

    Parameters
    ----------
    shape : tuple of int
        ``(height, width)`` of the images.
    radius : float
        Aperture radius in pixels: pixels with ``r <= radius``.
    inner, outer : float, float or None
        Annulus radii in pixels: pixels with ``inner <= r < outer``; ``outer=None``
        reaches the corners.

    Returns
    -------
    aperture, annulus : ndarray of bool, shape (height, width)

    Examples
    --------
    >>> aperture, annulus = aperture_masks((9, 9), 1.0, 3.0)
    >>> int(aperture.sum()), int(annulus.sum())
    (5, 56)
    """
    r = radius_pixels(*shape)
    aperture = r <= radius
    annulus = r >= inner
    if outer is not None:
        annulus &= r < outer
    return aperture, annulus


@dataclass(frozen=True)
class ApertureCounts:
    """Counts in an aperture and the background level from an annulus, per cluster.

    Attributes
    ----------
    aperture : ndarray of shape (n_samples, n_bands)
        Summed counts inside the aperture, per band.
    background : ndarray of shape (n_samples, n_bands)
        Mean counts per pixel in the annulus, per band.
    n_aperture, n_annulus : int
        Number of pixels in the aperture and in the annulus.
    """

    aperture: np.ndarray
    background: np.ndarray
    n_aperture: int
    n_annulus: int

    @property
    def net_per_band(self) -> np.ndarray:
        """Background-subtracted aperture counts per band, shape (n_samples, n_bands)."""
        return self.aperture - self.background * self.n_aperture

    @property
    def net(self) -> np.ndarray:
        """Background-subtracted aperture counts over all bands, shape (n_samples,)."""
        return self.net_per_band.sum(axis=1)

    @property
    def background_in_aperture(self) -> np.ndarray:
        """Expected background counts inside the aperture, all bands, shape (n_samples,)."""
        return self.background.sum(axis=1) * self.n_aperture


def aperture_counts(
    images: np.ndarray,
    radius: float,
    annulus: tuple[float, float | None],
    bands: Sequence[int] | None = None,
) -> ApertureCounts:
    """Aperture photometry of centred sources, all clusters at once.

    The background level of each cluster and band is the mean count per pixel in
    the annulus; scaled by the number of aperture pixels it is subtracted from the
    aperture counts (see :attr:`ApertureCounts.net`). Sums are taken in float64.

    Parameters
    ----------
    images : ndarray of shape (n_samples, n_bands, height, width)
        Photon counts.
    radius : float
        Aperture radius in pixels.
    annulus : tuple of (float, float or None)
        Inner and outer radius of the background annulus in pixels.
    bands : sequence of int, optional
        Indices of the bands to measure; all by default.

    Returns
    -------
    ApertureCounts

    Raises
    ------
    ValueError
        If the aperture or the annulus holds no pixel.

    Examples
    --------
    >>> import numpy as np
    >>> images = np.full((1, 1, 9, 9), 2.0)     # 2 counts of background per pixel
    >>> images[0, 0, 4, 4] += 30.0              # a point source in the centre
    >>> counts = aperture_counts(images, 1.0, (3.0, None))
    >>> counts.n_aperture, float(counts.aperture[0, 0]), float(counts.net[0])
    (5, 40.0, 30.0)
    """
    n_samples, _, height, width = images.shape
    inner, outer = annulus
    aperture, ring = aperture_masks((height, width), radius, inner, outer)
    for name, mask, size in (("aperture", aperture, radius), ("annulus", ring, annulus)):
        if not mask.any():
            message = (
                f"the {name} {size} (pixels) holds no pixel of the {height}x{width} images "
                "centred at ((height - 1) / 2, (width - 1) / 2); choose other radii"
            )
            raise ValueError(message)
    weights = np.stack([aperture.ravel(), ring.ravel()], axis=1).astype(np.float64)
    band_index = slice(None) if bands is None else np.asarray(bands, dtype=np.intp)
    sums = []
    for start in range(0, n_samples, _CHUNK):
        block = np.asarray(images[start : start + _CHUNK][:, band_index], dtype=np.float64)
        sums.append(block.reshape(*block.shape[:2], height * width) @ weights)
    result = np.concatenate(sums, axis=0)
    return ApertureCounts(
        aperture=result[..., 0],
        background=result[..., 1] / ring.sum(),
        n_aperture=int(aperture.sum()),
        n_annulus=int(ring.sum()),
    )
