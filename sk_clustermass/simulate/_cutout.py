"""Where a cut-out sits on the sky: its centre and the exposure across it.

Two observing effects that a survey's cut-outs have and a clean simulation lacks:

* **Centred on the detection.** Real cut-outs are centred on the position the source
  detection measured, not on the true centre of the halo. The measured position is
  the centroid of the detected emission (ambient gas, the cusp or substructure clump,
  a central AGN), shifted by its statistical error. For ``S`` source and ``B``
  background counts in a detection aperture of radius ``R``, the centroid error per
  axis is ``sqrt(s^2 S + (R / 2)^2 B) / S`` (standard centroid propagation: a uniform
  disc has an rms of ``R / 2`` per axis), where ``s`` is the source's own rms per axis,
  taken as the core radius and the PSF's Gaussian-equivalent width added in
  quadrature (the King PSF's half-energy width over 2.355).
* **Centred on the optical centre** (``centre_on='optical'``). A user who cuts the
  images out around an optical catalogue's position (the BCG, the galaxy
  overdensity) gets the detected X-ray position moved by the optical-to-X-ray offset:
  well-centred clusters by a Rayleigh offset, miscentred ones by a Gamma(2) offset,
  both in projected kpc (:class:`~sk_clustermass.simulate.OpticalConfirmation`).
* **An exposure gradient.** The survey's exposure varies over the field: the
  catalogue's log-normal spread ``exposure_scatter_ln`` between clusters. Treated as
  a smooth Gaussian random field in ln(exposure) with a squared-exponential
  correlation of length ``L`` (``Survey.exposure_correlation_deg``, assumed), its
  gradient has a standard deviation of ``exposure_scatter_ln / L`` per axis, so a
  20' cut-out sees a plane tilt of a few per cent. Every sky photon and the particle
  background scale with the same dwell time, so the whole expected cube is multiplied
  by the tilt, normalised to 1 at the cut-out centre (where ``X["exposure"]`` is
  quoted). The survey-averaged vignetting itself is in the vignetted exposure
  (:mod:`._survey`).

The random numbers come from a stream of their own (:data:`._random.CUTOUT`), so
switching either effect on or off leaves every other draw unchanged.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaincinv

from ._counterpart import OpticalConfirmation

__all__ = ["CENTRES", "detection_centroid_offset", "exposure_tilt", "optical_centre_offset"]

#: Where a cut-out is centred: the true halo centre, the detected X-ray position, or an
#: optical centre offset from the detected position.
CENTRES = ("truth", "detection", "optical")

#: Half-energy width over the FWHM-to-sigma factor of a Gaussian: a PSF's width per axis.
_HEW_TO_SIGMA = 1.0 / 2.355


def _king_hew_arcsec(core_arcsec: float, alpha: float) -> float:
    """Half-energy width (diameter) of a King PSF ``(1 + (r / rc)^2)^-alpha``."""
    return 2.0 * core_arcsec * np.sqrt(0.5 ** (1.0 / (1.0 - alpha)) - 1.0)


def detection_centroid_offset(
    columns: dict[str, np.ndarray],
    normal: np.ndarray,
    *,
    psf_core_arcsec: float,
    psf_alpha: float,
    pixel_arcsec: float,
    aperture_arcmin: float,
) -> dict[str, np.ndarray]:
    """Offset of the detected position from the gas centre, in pixels.

    Parameters
    ----------
    columns : dict of ndarray
        Population columns: ``x_pix``, ``y_pix``, ``rc_arcmin``, ``mu_cluster_r500``,
        ``mu_central_agn``, ``_second_ratio``, ``mu_detection_source``,
        ``mu_detection_background`` and, with a second component, ``_second_x``,
        ``_second_y``.
    normal : ndarray of shape (n, 2)
        Standard normal deviates for the statistical error along x and y.
    psf_core_arcsec, psf_alpha : float
        King PSF of the survey.
    pixel_arcsec : float
    aperture_arcmin : float
        Radius of the detection aperture.

    Returns
    -------
    dict
        ``"dx"``, ``"dy"``: detected minus gas-centre position in pixels;
        ``"sigma_arcsec"``: the statistical error per axis.

    Examples
    --------
    >>> import numpy as np
    >>> columns = {"x_pix": np.array([24.5]), "y_pix": np.array([24.5]),
    ...            "rc_arcmin": np.array([0.5]), "mu_cluster_r500": np.array([100.0]),
    ...            "mu_central_agn": np.array([0.0]), "_second_ratio": np.array([0.0]),
    ...            "mu_detection_source": np.array([100.0]),
    ...            "mu_detection_background": np.array([0.0])}
    >>> out = detection_centroid_offset(columns, np.zeros((1, 2)), psf_core_arcsec=8.64,
    ...                                 psf_alpha=1.5, pixel_arcsec=24.0, aperture_arcmin=1.0)
    >>> round(float(out["sigma_arcsec"][0]), 2), float(out["dx"][0])
    (3.26, 0.0)
    """
    ratio = columns["_second_ratio"]
    cluster = np.nan_to_num(columns["mu_cluster_r500"])
    total = cluster + columns["mu_central_agn"]
    gas_share = np.divide(cluster, total, out=np.zeros_like(total), where=total > 0)
    share = gas_share * ratio / (1.0 + ratio)  # of the second gas component
    # The source's own rms per axis: the gas core for the gas's share of the counts, a
    # point (the PSF alone) for a central AGN or a contaminating point source.
    psf_sigma = _king_hew_arcsec(psf_core_arcsec, psf_alpha) * _HEW_TO_SIGMA
    core_arcsec = np.nan_to_num(columns["rc_arcmin"]) * 60.0
    source_sigma = np.sqrt(gas_share * core_arcsec**2 + psf_sigma**2)
    source = np.maximum(columns["mu_detection_source"], 1.0)
    background = columns["mu_detection_background"]
    disc_sigma = aperture_arcmin * 60.0 / 2.0
    sigma = np.sqrt(source_sigma**2 * source + disc_sigma**2 * background) / source
    dx = normal[:, 0] * sigma / pixel_arcsec
    dy = normal[:, 1] * sigma / pixel_arcsec
    if "_second_x" in columns:
        dx = dx + share * (columns["_second_x"] - columns["x_pix"])
        dy = dy + share * (columns["_second_y"] - columns["y_pix"])
    return {"dx": dx, "dy": dy, "sigma_arcsec": sigma}


def optical_centre_offset(
    uniform: np.ndarray, kpc_per_pixel: np.ndarray, confirmation: OpticalConfirmation
) -> dict[str, np.ndarray]:
    """Offset of an optical centre from the X-ray position, in pixels and kpc.

    A share ``confirmation.well_centred_fraction`` of the clusters is well centred,
    with a Rayleigh-distributed offset of scale ``well_centred_offset_kpc``; the others
    are miscentred, with a Gamma(shape 2) offset of scale ``miscentred_offset_kpc``
    (Zhang et al. 2019's model of redMaPPer against X-ray centres); the direction is
    uniform.

    Parameters
    ----------
    uniform : ndarray of shape (n, 3)
        Independent U(0, 1) deviates: the component, the radius (inverse CDF) and the
        direction.
    kpc_per_pixel : ndarray of shape (n,)
        Projected kpc per pixel at each cluster's redshift.
    confirmation : OpticalConfirmation
        Holds the offset model.

    Returns
    -------
    dict
        ``"dx"``, ``"dy"``: optical minus X-ray position in pixels; ``"offset_kpc"``:
        the distance in projected kpc.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass.simulate import OpticalConfirmation
    >>> u = np.random.default_rng(0).random((100_000, 3))
    >>> out = optical_centre_offset(u, np.full(100_000, 100.0), OpticalConfirmation())
    >>> round(float(out["offset_kpc"].mean()))  # 0.75 * 20 sqrt(pi/2) + 0.25 * 2 * 115
    76
    """
    well = uniform[:, 0] < confirmation.well_centred_fraction
    rayleigh = confirmation.well_centred_offset_kpc * np.sqrt(-2.0 * np.log1p(-uniform[:, 1]))
    gamma_2 = confirmation.miscentred_offset_kpc * gammaincinv(2.0, uniform[:, 1])
    offset_kpc = np.where(well, rayleigh, gamma_2)
    angle = 2.0 * np.pi * uniform[:, 2]
    offset_pix = offset_kpc / kpc_per_pixel
    return {"dx": offset_pix * np.cos(angle), "dy": offset_pix * np.sin(angle),
            "offset_kpc": offset_kpc}


def exposure_tilt(
    gradient_per_deg: np.ndarray, size: int, pixel_arcsec: float
) -> np.ndarray:
    """Relative exposure across each cut-out: ``exp(g . (r - r_centre))``, 1 at the centre.

    Parameters
    ----------
    gradient_per_deg : ndarray of shape (n, 2)
        Gradient of ln(exposure) along x (columns) and y (rows), per degree.
    size : int
        Image side in pixels.
    pixel_arcsec : float

    Returns
    -------
    ndarray of shape (n, size, size), float64

    Examples
    --------
    >>> import numpy as np
    >>> tilt = exposure_tilt(np.array([[0.3, 0.0]]), 5, 720.0)
    >>> tilt.shape, float(tilt[0, 2, 2]), bool(tilt[0, 2, 4] > 1.0 > tilt[0, 2, 0])
    ((1, 5, 5), 1.0, True)
    """
    offset_deg = (np.arange(size) - (size - 1) / 2.0) * pixel_arcsec / 3600.0
    gx = gradient_per_deg[:, 0, None, None] * offset_deg[None, None, :]
    gy = gradient_per_deg[:, 1, None, None] * offset_deg[None, :, None]
    return np.exp(gx + gy)
