"""Gas surface brightness: elliptical, offset beta models rendered on pixels, then the PSF.

The gas density is a beta model ``n(r) = n0 (1 + (r / rc)^2)^(-3 beta / 2)``; its
projection is ``S(R) ∝ (1 + (R / rc)^2)^(1/2 - 3 beta)`` (Cavaliere & Fusco-Femiano
1976; the seed lab report's formulas). Ellipticity enters through the area-preserving
elliptical radius ``R^2 = q x'^2 + y'^2 / q`` (``q = b/a``, ``x'`` along the major
axis), so the flux inside an elliptical radius equals the circular one. The flux
inside R500 is normalised to one: multiply by the counts expected inside R500.

Rendering is vectorised over a chunk of clusters: the model is sampled on a sub-pixel
grid over the whole image and on a finer grid in a box around each cluster centre
(where a core smaller than a pixel makes the midpoint rule poor), averaged into
pixels, then convolved with the pixel-level PSF kernel by FFT for the whole chunk
at once (:func:`convolve_psf`).

Pixel convention: ``image[..., i, j]`` is the pixel whose centre sits at ``y = i``,
``x = j`` in pixel units; the image centre is ``((height - 1) / 2, (width - 1) / 2)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import fft as sfft

__all__ = [
    "GasProfile",
    "beta_flux_within",
    "beta_surface_brightness",
    "convolve_psf",
    "render_beta_images",
]


@dataclass(frozen=True)
class GasProfile:
    """Distributions of the gas-distribution parameters (all assumed except b/a and beta).

    Parameters
    ----------
    beta_mean, beta_sd : float, default=2/3, 0.05
        Normal distribution of beta (beta ~ 2/3; PHYSICS.md), ...
    beta_range : tuple of float, default=(0.55, 0.8)
        ... clipped to this range (the spread 0.55–0.8 assumed in PHYSICS.md).
    rc_median_r500 : float, default=0.15
        Median core radius in units of R500 (0.1–0.2; PHYSICS.md).
    rc_scatter_ln : float, default=0.5
        Log-normal scatter of the core radius, in ln (PHYSICS.md, assumed).
    rc_lx_correlation : float, default=-0.5
        Correlation of ln rc with the luminosity offset at fixed mass: cool cores
        are over-luminous and compact ("smaller in cool cores", PHYSICS.md; the
        value is assumed).
    b_to_a_range : tuple of float, default=(0.6, 1.0)
        Uniform range of the minor-to-major axis ratio (mock catalogues; PHYSICS.md).
    xoff_median_r500 : float, default=0.05
        Median offset of the gas centre from the halo centre (the image centre),
        in units of R500 (assumed; Comparat et al. 2020 mocks carry Xoff).
    xoff_scatter_ln : float, default=0.8
        Log-normal scatter of the offset, in ln (assumed).
    truncation_r500 : float, default=3.0
        Projected radius beyond which the emission is set to zero, in units of R500
        (assumed; keeps the flux of shallow beta < 0.6 profiles finite and physical).

    Examples
    --------
    >>> from sk_clustermass.simulate import GasProfile
    >>> GasProfile().rc_median_r500
    0.15
    """

    beta_mean: float = 2.0 / 3.0
    beta_sd: float = 0.05
    beta_range: tuple[float, float] = (0.55, 0.8)
    rc_median_r500: float = 0.15
    rc_scatter_ln: float = 0.5
    rc_lx_correlation: float = -0.5
    b_to_a_range: tuple[float, float] = (0.6, 1.0)
    xoff_median_r500: float = 0.05
    xoff_scatter_ln: float = 0.8
    truncation_r500: float = 3.0

    def __post_init__(self) -> None:
        low, high = self.beta_range
        if not 0.5 < low <= high:
            message = (
                f"GasProfile.beta_range must satisfy 0.5 < low <= high (the projected "
                f"flux diverges for beta <= 1/2); got {self.beta_range}"
            )
            raise ValueError(message)
        q_low, q_high = self.b_to_a_range
        if not 0 < q_low <= q_high <= 1:
            message = f"GasProfile.b_to_a_range must be within (0, 1]; got {self.b_to_a_range}"
            raise ValueError(message)
        for name in ("rc_median_r500", "xoff_median_r500", "truncation_r500"):
            if not getattr(self, name) > 0:
                message = f"GasProfile.{name} must be > 0; got {getattr(self, name)!r}"
                raise ValueError(message)
        if self.truncation_r500 < 1:
            message = (
                "GasProfile.truncation_r500 must be >= 1 so that the flux inside R500 "
                f"is the normalised flux; got {self.truncation_r500!r}"
            )
            raise ValueError(message)
        if not -1 <= self.rc_lx_correlation <= 1:
            message = (
                "GasProfile.rc_lx_correlation must be in [-1, 1]; "
                f"got {self.rc_lx_correlation!r}"
            )
            raise ValueError(message)


def beta_surface_brightness(r_over_rc: ArrayLike, beta: ArrayLike) -> np.ndarray:
    """Projected beta model ``(1 + (R / rc)^2)^(1/2 - 3 beta)``, one at the centre.

    Examples
    --------
    >>> from sk_clustermass.simulate import beta_surface_brightness
    >>> beta_surface_brightness([0.0, 1.0], 2 / 3).round(4)
    array([1.    , 0.3536])
    """
    x2 = np.asarray(r_over_rc, dtype=np.float64) ** 2
    return (1.0 + x2) ** (0.5 - 3.0 * np.asarray(beta, dtype=np.float64))


def beta_flux_within(r_over_rc: ArrayLike, beta: ArrayLike) -> np.ndarray:
    """Integral of :func:`beta_surface_brightness` inside radius R, in units of rc^2.

    ``pi (1 - (1 + (R/rc)^2)^(3/2 - 3 beta)) / (3 beta - 3/2)``, for beta > 1/2.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass.simulate import beta_flux_within
    >>> inside = beta_flux_within(1 / 0.15, 2 / 3)
    >>> total = beta_flux_within(np.inf, 2 / 3)
    >>> round(float(inside / total), 3)
    0.852
    """
    x2 = np.asarray(r_over_rc, dtype=np.float64) ** 2
    slope = 3.0 * np.asarray(beta, dtype=np.float64) - 1.5
    return np.pi * (1.0 - (1.0 + x2) ** -slope) / slope


def _sample_profile(
    ys: np.ndarray, xs: np.ndarray, geometry: dict[str, np.ndarray]
) -> np.ndarray:
    """Surface brightness at every (y, x) sample; ys (n, ny), xs (n, nx) -> (n, ny, nx)."""
    dx = (xs - geometry["cx"][:, None]).astype(np.float32)
    dy = (ys - geometry["cy"][:, None]).astype(np.float32)
    a, b, c = (geometry[key][:, None] for key in ("a", "b", "c"))
    t = (a * dx * dx)[:, None, :] + (c * dy * dy)[:, :, None]
    t += (b * dy)[:, :, None] * dx[:, None, :]
    cut = t > geometry["cut2"][:, None, None]
    t += 1.0
    np.log(t, out=t)
    t *= geometry["exponent"][:, None, None]
    np.exp(t, out=t)
    t[cut] = 0.0
    return t


def _block_mean(samples: np.ndarray, factor: int) -> np.ndarray:
    n, ny, nx = samples.shape
    blocks = samples.reshape(n, ny // factor, factor, nx // factor, factor)
    return blocks.mean(axis=(2, 4))


def render_beta_images(
    center_x_pix: ArrayLike,
    center_y_pix: ArrayLike,
    rc_pix: ArrayLike,
    beta: ArrayLike,
    b_to_a: ArrayLike,
    angle_rad: ArrayLike,
    r500_pix: ArrayLike,
    shape: tuple[int, int] = (50, 50),
    *,
    truncation_r500: float = 3.0,
    oversample: int = 2,
    core_box: int = 5,
    core_oversample: int = 10,
) -> np.ndarray:
    """Render elliptical beta models, pixel-integrated, flux inside R500 normalised to 1.

    Parameters
    ----------
    center_x_pix, center_y_pix : array-like of shape (n,)
        Model centres in pixel coordinates (see the module docstring).
    rc_pix : array-like of shape (n,)
        Core radii in pixels (the geometric-mean radius of the ellipse).
    beta : array-like of shape (n,)
        Beta (> 1/2).
    b_to_a : array-like of shape (n,)
        Axis ratios in (0, 1].
    angle_rad : array-like of shape (n,)
        Position angle of the major axis, from the x axis towards the y axis.
    r500_pix : array-like of shape (n,)
        R500 in pixels: the flux inside the elliptical radius R500 sums to one.
    shape : tuple of int, default=(50, 50)
        (height, width) of the images.
    truncation_r500 : float, default=3.0
        Emission is zero beyond this many R500 (elliptical radius).
    oversample : int, default=2
        Samples per pixel side over the whole image.
    core_box : int, default=5
        Side, in pixels, of the box around each centre sampled more finely.
    core_oversample : int, default=10
        Samples per pixel side inside that box.

    Returns
    -------
    ndarray of shape (n, height, width), float32
        Fraction of the R500 flux falling in each pixel (before the PSF). Sums to
        about 1 / (flux fraction inside R500) when the cluster fits in the image.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass.simulate import beta_flux_within, render_beta_images
    >>> images = render_beta_images([24.5], [24.5], [2.0], [2 / 3], [0.8], [0.3], [10.0])
    >>> expected = beta_flux_within(30 / 2, 2 / 3) / beta_flux_within(10 / 2, 2 / 3)
    >>> images.shape, bool(abs(images.sum() / expected - 1) < 0.01)
    ((1, 50, 50), True)
    """
    cx, cy, rc, beta_arr, q, angle, r500 = (
        np.atleast_1d(np.asarray(value, dtype=np.float64))
        for value in (center_x_pix, center_y_pix, rc_pix, beta, b_to_a, angle_rad, r500_pix)
    )
    height, width = shape
    core_box = min(core_box, height, width)
    cos, sin = np.cos(angle), np.sin(angle)
    inv_rc2 = 1.0 / rc**2
    geometry = {
        "cx": cx,
        "cy": cy,
        # t = R^2 / rc^2 = a dx^2 + b dx dy + c dy^2 for the rotated, squeezed radius.
        "a": ((q * cos**2 + sin**2 / q) * inv_rc2).astype(np.float32),
        "b": (2.0 * cos * sin * (q - 1.0 / q) * inv_rc2).astype(np.float32),
        "c": ((q * sin**2 + cos**2 / q) * inv_rc2).astype(np.float32),
        "exponent": (0.5 - 3.0 * beta_arr).astype(np.float32),
        "cut2": ((truncation_r500 * r500 / rc) ** 2).astype(np.float32),
    }
    flux500 = beta_flux_within(r500 / rc, beta_arr) * rc**2
    ys = ((np.arange(height * oversample) + 0.5) / oversample - 0.5)[None, :]
    xs = ((np.arange(width * oversample) + 0.5) / oversample - 0.5)[None, :]
    images = _block_mean(_sample_profile(ys, xs, geometry), oversample)

    half = core_box // 2
    y0 = np.clip(np.rint(cy).astype(np.int64) - half, 0, height - core_box)
    x0 = np.clip(np.rint(cx).astype(np.int64) - half, 0, width - core_box)
    fine = (np.arange(core_box * core_oversample) + 0.5) / core_oversample - 0.5
    box = _block_mean(
        _sample_profile(y0[:, None] + fine, x0[:, None] + fine, geometry), core_oversample
    )
    rows = (y0[:, None] + np.arange(core_box))[:, :, None]
    cols = (x0[:, None] + np.arange(core_box))[:, None, :]
    images[np.arange(len(cx))[:, None, None], rows, cols] = box
    images /= flux500[:, None, None].astype(np.float32)
    return images


def convolve_psf(images: ArrayLike, kernel: ArrayLike) -> np.ndarray:
    """Convolve a stack of images with a PSF kernel by FFT, without wrap-around.

    Parameters
    ----------
    images : array-like of shape (..., height, width)
        Any leading axes (clusters, components) are transformed in one call.
    kernel : array-like of shape (2h + 1, 2w + 1)
        Centred kernel, e.g. :func:`psf_pixel_kernel`.

    Returns
    -------
    ndarray of shape (..., height, width)
        Same dtype as ``images`` (float32 or float64). Flux carried beyond the image
        edge is lost, flux from outside is not added.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass.simulate import convolve_psf
    >>> point = np.zeros((1, 9, 9), dtype=np.float32); point[0, 4, 4] = 1.0
    >>> kernel = np.full((3, 3), 1 / 9)
    >>> out = convolve_psf(point, kernel)
    >>> out.dtype, round(float(out.sum()), 5), round(float(out[0, 3, 3]), 4)
    (dtype('float32'), 1.0, 0.1111)
    """
    array = np.asarray(images)
    if array.dtype not in (np.float32, np.float64):
        array = array.astype(np.float64)
    kern = np.asarray(kernel, dtype=array.dtype)
    height, width = array.shape[-2:]
    half_h, half_w = kern.shape[0] // 2, kern.shape[1] // 2
    padded = (
        sfft.next_fast_len(height + 2 * half_h, real=True),
        sfft.next_fast_len(width + 2 * half_w, real=True),
    )
    spectrum = sfft.rfft2(array, s=padded) * sfft.rfft2(kern, s=padded)
    full = sfft.irfft2(spectrum, s=padded)
    return np.ascontiguousarray(full[..., half_h : half_h + height, half_w : half_w + width])
