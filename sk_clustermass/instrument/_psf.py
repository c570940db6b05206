"""The point-spread function: a King profile, and its kernel on detector pixels.

The survey-averaged soft-band PSF is ``(1 + (r / rc)^2)^-alpha`` with rc = 8.64" and
alpha = 1.5, a half-energy width of 30" (design: 15" on axis, 25–30" field average;
Predehl et al. 2010, 2021).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike
from scipy.ndimage import convolve1d

from ._pixels import DEFAULT_PIXEL_ARCSEC

__all__ = [
    "king_encircled_fraction",
    "king_half_energy_width_arcsec",
    "king_psf_arcsec2",
    "psf_pixel_kernel",
]


def king_psf_arcsec2(
    r_arcsec: ArrayLike, core_radius_arcsec: float = 8.64, alpha: float = 1.5
) -> np.ndarray:
    """King-profile PSF, normalised to unit integral, in 1/arcsec^2.

    ``P(r) = (alpha - 1) / (pi rc^2) (1 + (r / rc)^2)^-alpha``, the survey-averaged
    eROSITA soft-band PSF with rc = 8.64" and alpha = 1.5 (PHYSICS.md).

    Examples
    --------
    >>> from sk_clustermass.instrument import king_psf_arcsec2
    >>> f"{float(king_psf_arcsec2(0.0)):.3e}"
    '2.132e-03'
    """
    if not alpha > 1 or not core_radius_arcsec > 0:
        message = (
            "the King PSF needs alpha > 1 (finite flux) and core_radius_arcsec > 0; "
            f"got alpha={alpha}, core_radius_arcsec={core_radius_arcsec}"
        )
        raise ValueError(message)
    x2 = (np.asarray(r_arcsec, dtype=np.float64) / core_radius_arcsec) ** 2
    return (alpha - 1.0) / (np.pi * core_radius_arcsec**2) * (1.0 + x2) ** -alpha


def king_encircled_fraction(
    r_arcsec: ArrayLike, core_radius_arcsec: float = 8.64, alpha: float = 1.5
) -> np.ndarray:
    """Fraction of a point source's photons inside radius ``r_arcsec`` (King PSF).

    Examples
    --------
    >>> from sk_clustermass.instrument import king_encircled_fraction
    >>> round(float(king_encircled_fraction(15.0)), 2)
    0.5
    """
    x2 = (np.asarray(r_arcsec, dtype=np.float64) / core_radius_arcsec) ** 2
    return 1.0 - (1.0 + x2) ** (1.0 - alpha)


def king_half_energy_width_arcsec(core_radius_arcsec: float = 8.64, alpha: float = 1.5) -> float:
    """Half-energy width (diameter enclosing half the photons) of a King PSF, arcsec.

    Examples
    --------
    >>> from sk_clustermass.instrument import king_half_energy_width_arcsec
    >>> round(king_half_energy_width_arcsec(), 1)
    29.9
    """
    return float(2.0 * core_radius_arcsec * np.sqrt(0.5 ** (1.0 / (1.0 - alpha)) - 1.0))


@lru_cache(maxsize=16)
def _psf_pixel_kernel_cached(
    pixel_arcsec: float, half_width: int, core_radius_arcsec: float, alpha: float, subsample: int
) -> np.ndarray:
    f = subsample
    n_fine = (half_width + 1) * f
    offsets = np.arange(-n_fine, n_fine + 1) * (pixel_arcsec / f)
    radius = np.hypot(offsets[:, None], offsets[None, :])
    fine = king_psf_arcsec2(radius, core_radius_arcsec, alpha) * (pixel_arcsec / f) ** 2
    # Pixel response averaged over the source position inside its pixel: per axis,
    # a fine offset d = i f + delta is reached by f - |delta| (cell, source) pairs.
    delta = np.arange(-(f - 1), f)
    triangle = (f - np.abs(delta)) / f**2
    smoothed = convolve1d(convolve1d(fine, triangle, axis=0), triangle, axis=1)
    centre = n_fine
    picks = centre + f * np.arange(-half_width, half_width + 1)
    kernel = smoothed[np.ix_(picks, picks)] * f**2
    kernel.setflags(write=False)
    return kernel


def psf_pixel_kernel(
    pixel_arcsec: float = DEFAULT_PIXEL_ARCSEC,
    half_width: int = 25,
    core_radius_arcsec: float = 8.64,
    alpha: float = 1.5,
    subsample: int = 12,
) -> np.ndarray:
    """PSF integrated over detector pixels, averaged over the source position in a pixel.

    Convolving a pixel-level image of fluxes with this kernel spreads each pixel's
    photons as a point source placed uniformly at random inside that pixel would.
    The kernel is not renormalised: photons scattered beyond ``half_width`` pixels
    (about 1.3% for the default 10' reach) are lost, as they are in the real image.

    Parameters
    ----------
    pixel_arcsec : float, default=24.0
    half_width : int, default=25
        The kernel covers (2 half_width + 1)^2 pixels.
    core_radius_arcsec, alpha : float, default=8.64, 1.5
        King profile parameters (PHYSICS.md).
    subsample : int, default=12
        Sub-pixels per pixel side used for the numerical integration.

    Returns
    -------
    ndarray of shape (2 half_width + 1, 2 half_width + 1), read-only
        Fraction of a source's photons landing in each pixel, centre at
        ``[half_width, half_width]``.

    Examples
    --------
    >>> from sk_clustermass.instrument import psf_pixel_kernel
    >>> kernel = psf_pixel_kernel()
    >>> kernel.shape, round(float(kernel.sum()), 3), round(float(kernel[25, 25]), 2)
    ((51, 51), 0.987, 0.35)
    """
    return _psf_pixel_kernel_cached(
        float(pixel_arcsec), int(half_width), float(core_radius_arcsec), float(alpha),
        int(subsample),
    )
