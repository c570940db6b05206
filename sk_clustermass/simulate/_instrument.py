"""eROSITA-like instrument and survey: bands, effective area, PSF, pixels, exposure.

Numbers and sources (PHYSICS.md):

* Bands: 10 equal bins over 0.25–2.3 keV (0.205 keV wide), the layout of the lab's
  image cubes.
* Effective area: on-axis, the 7 telescope modules summed, from the official ARF
  (January 2023), tabulated at 0.2–8 keV and interpolated linearly here.
* PSF: the survey-averaged soft-band PSF as a King profile
  ``(1 + (r / rc)^2)^-alpha`` with rc = 8.64" and alpha = 1.5, a half-energy width
  of 30" (design: 15" on axis, 25–30" field average; Predehl et al. 2010, 2021).
* Pixels: 24" (the lab's 300 x 300 px cut-outs at 4" rebinned by 6; assumed).
* Exposure: eFEDS ~1.2 ks vignetted and ~2.2 ks unvignetted, eRASS1 ~0.15–0.25 ks
  (both assumed in PHYSICS.md), with a log-normal spread of 0.2 in ln (assumed).
  Photons from the sky (clusters, AGN, sky background) see the vignetted exposure,
  the particle background the unvignetted one: their ratio (0.55) is the
  survey-averaged vignetting. In survey (scanning) mode every sky point crosses the
  whole field of view, so the off-axis vignetting is averaged out inside a 20'
  cut-out; what remains is the slow variation of the dwell time over the field, a
  gradient across the cut-out (:mod:`._cutout`, ``exposure_correlation_deg``).
* Background: sky (cosmic X-ray background plus Galactic foreground)
  2.5e-3 counts/s/arcmin^2 in 0.6–2 keV, derived from Ponti et al. (2023); particle
  1e-3 counts/s/arcmin^2 in 0.5–2 keV, flat in energy (filter-wheel-closed rates).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike
from scipy.ndimage import convolve1d

__all__ = [
    "ARF_BAND_MEANS_CM2",
    "DEFAULT_BAND_EDGES_KEV",
    "EFFECTIVE_AREA_TABLE",
    "SURVEYS",
    "Survey",
    "band_edges_kev",
    "effective_area_cm2",
    "get_survey",
    "king_encircled_fraction",
    "king_half_energy_width_arcsec",
    "king_psf_arcsec2",
    "psf_pixel_kernel",
]

#: eROSITA on-axis effective area of the 7 telescopes, (energy keV, area cm^2), from
#: the official ARF (January 2023) as quoted in PHYSICS.md, including the peak of
#: ~2530 cm^2 at 1.54 keV.
EFFECTIVE_AREA_TABLE: tuple[tuple[float, float], ...] = (
    (0.2, 98.0),
    (0.3, 147.0),
    (0.5, 1089.0),
    (0.7, 1617.0),
    (1.0, 2188.0),
    (1.2, 2412.0),
    (1.5, 2504.0),
    (1.54, 2530.0),
    (2.0, 1987.0),
    (2.3, 555.0),
    (3.0, 684.0),
    (4.0, 589.0),
    (5.0, 432.0),
    (6.0, 299.0),
    (7.0, 203.0),
    (8.0, 134.0),
)

#: Band means of the ARF for the 10 default bands, cm^2 (PHYSICS.md); the linear
#: interpolation of :data:`EFFECTIVE_AREA_TABLE` reproduces them within 16%.
ARF_BAND_MEANS_CM2: tuple[float, ...] = (
    431.0, 1173.0, 1765.0, 2133.0, 2381.0, 2479.0, 2294.0, 2142.0, 1974.0, 1241.0,
)


def band_edges_kev(n_bands: int = 10, low_kev: float = 0.25, high_kev: float = 2.3) -> np.ndarray:
    """Edges of ``n_bands`` equal-width energy bands, in keV.

    Parameters
    ----------
    n_bands : int, default=10
    low_kev, high_kev : float, default=0.25, 2.3
        The lab's band range (PHYSICS.md).

    Returns
    -------
    ndarray of shape (n_bands + 1,)

    Examples
    --------
    >>> from sk_clustermass.simulate import band_edges_kev
    >>> band_edges_kev()[:3].round(3)
    array([0.25 , 0.455, 0.66 ])
    """
    if n_bands < 1 or not 0 < low_kev < high_kev:
        message = (
            f"need n_bands >= 1 and 0 < low_kev < high_kev; got n_bands={n_bands}, "
            f"low_kev={low_kev}, high_kev={high_kev}"
        )
        raise ValueError(message)
    return np.linspace(low_kev, high_kev, n_bands + 1)


#: The default band edges: 0.250 0.455 ... 2.300 keV (10 bands of 0.205 keV).
DEFAULT_BAND_EDGES_KEV: tuple[float, ...] = tuple(float(e) for e in band_edges_kev())


def effective_area_cm2(
    energy_kev: ArrayLike, table: tuple[tuple[float, float], ...] = EFFECTIVE_AREA_TABLE
) -> np.ndarray:
    """On-axis effective area in cm^2, linearly interpolated in a tabulated ARF.

    Parameters
    ----------
    energy_kev : array-like
        Observed photon energies in keV.
    table : tuple of (energy_kev, area_cm2) pairs, default=EFFECTIVE_AREA_TABLE
        Increasing energies. Outside the table the end values are held.

    Returns
    -------
    ndarray
        Effective area in cm^2, same shape as ``energy_kev``.

    Examples
    --------
    >>> from sk_clustermass.simulate import effective_area_cm2
    >>> effective_area_cm2([0.5, 1.0, 1.25]).round(1)
    array([1089. , 2188. , 2427.3])
    """
    grid = np.asarray(table, dtype=np.float64)
    return np.interp(np.asarray(energy_kev, dtype=np.float64), grid[:, 0], grid[:, 1])


def king_psf_arcsec2(
    r_arcsec: ArrayLike, core_radius_arcsec: float = 8.64, alpha: float = 1.5
) -> np.ndarray:
    """King-profile PSF, normalised to unit integral, in 1/arcsec^2.

    ``P(r) = (alpha - 1) / (pi rc^2) (1 + (r / rc)^2)^-alpha``, the survey-averaged
    eROSITA soft-band PSF with rc = 8.64" and alpha = 1.5 (PHYSICS.md).

    Examples
    --------
    >>> from sk_clustermass.simulate import king_psf_arcsec2
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
    >>> from sk_clustermass.simulate import king_encircled_fraction
    >>> round(float(king_encircled_fraction(15.0)), 2)
    0.5
    """
    x2 = (np.asarray(r_arcsec, dtype=np.float64) / core_radius_arcsec) ** 2
    return 1.0 - (1.0 + x2) ** (1.0 - alpha)


def king_half_energy_width_arcsec(core_radius_arcsec: float = 8.64, alpha: float = 1.5) -> float:
    """Half-energy width (diameter enclosing half the photons) of a King PSF, arcsec.

    Examples
    --------
    >>> from sk_clustermass.simulate import king_half_energy_width_arcsec
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
    pixel_arcsec: float = 24.0,
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
    >>> from sk_clustermass.simulate import psf_pixel_kernel
    >>> kernel = psf_pixel_kernel()
    >>> kernel.shape, round(float(kernel.sum()), 3), round(float(kernel[25, 25]), 2)
    ((51, 51), 0.987, 0.35)
    """
    return _psf_pixel_kernel_cached(
        float(pixel_arcsec), int(half_width), float(core_radius_arcsec), float(alpha),
        int(subsample),
    )


@dataclass(frozen=True)
class Survey:
    """Depth, instrument and background of a survey: every number of an observation.

    Use the presets through :func:`get_survey` (``'efeds'``, ``'erass1'``) and
    change single numbers with :func:`dataclasses.replace`.

    Parameters
    ----------
    name : str
        Label stored with the data.
    exposure_vignetted_s : float
        Median vignetted exposure in s: the exposure sky photons see. eFEDS ~1.2 ks
        (PHYSICS.md, assumed); eRASS1 0.2 ks (middle of the assumed 0.15–0.25 ks).
    exposure_unvignetted_s : float
        Median unvignetted exposure in s, seen by the particle background. eFEDS
        ~2.2 ks (PHYSICS.md, assumed); eRASS1 scaled by the same ratio.
    exposure_scatter_ln : float, default=0.2
        Log-normal spread of the exposure from cluster to cluster, in ln (assumed).
    exposure_correlation_deg : float, default=1.0
        Correlation length of the exposure's variation over the field, deg (assumed,
        0.5–2 tried: the scale of the scan pattern, of the order of the 1 deg field of
        view); with ``exposure_scatter_ln`` it sets the exposure gradient across a
        cut-out (``make_clusters(..., exposure_gradient=True)``).
    pixel_arcsec : float, default=24.0
        Pixel size (4" event binning rebinned by 6; PHYSICS.md, assumed).
    psf_core_arcsec : float, default=8.64
        King PSF core radius rc (survey-averaged soft-band PSF, PHYSICS.md).
    psf_alpha : float, default=1.5
        King PSF index (HEW 30"; PHYSICS.md).
    psf_half_width : int, default=25
        Reach of the PSF kernel in pixels (10' for 24" pixels).
    effective_area : tuple of (keV, cm^2) pairs, default=EFFECTIVE_AREA_TABLE
        On-axis effective area of the 7 telescopes (official ARF, January 2023).
    nh_cm2 : float, default=3e20
        Galactic hydrogen column for photoelectric absorption of cluster and AGN
        spectra and of the extragalactic background (assumed; 0 switches it off).
    sky_rate : float, default=2.5e-3
        Sky background (CXB + Galactic foreground) in counts/s/arcmin^2 over
        ``sky_rate_band_kev`` (derived from Ponti et al. 2023's 12.6e-12
        erg/cm^2/s/deg^2 in 0.3–2 keV; PHYSICS.md). Scaled with the vignetted exposure.
    sky_rate_band_kev : tuple of float, default=(0.6, 2.0)
    sky_foreground_fraction : float, default=0.25
        Share of ``sky_rate`` from the soft Galactic foreground; the rest is the
        extragalactic background. With ``sky_foreground_kt_kev`` it is chosen
        (assumed) so that the 0.3–2 keV sky rate is 4.2e-3 counts/s/arcmin^2, what
        Ponti et al. (2023)'s 12.6e-12 erg/cm^2/s/deg^2 gives with an ECF of 1.2e12.
    sky_foreground_kt_kev : float, default=0.25
        Temperature of the foreground, modelled as unabsorbed bremsstrahlung
        (assumed; the Local Hot Bubble and Galactic halo have kT ~ 0.1–0.3 keV).
    cxb_photon_index : float, default=1.45
        Photon index of the absorbed extragalactic background power law (assumed;
        measured values are 1.4–1.5).
    particle_rate : float, default=1e-3
        Particle background in counts/s/arcmin^2 over ``particle_rate_band_kev``,
        flat in energy, scaled with the unvignetted exposure (filter-wheel-closed
        rate range; PHYSICS.md).
    particle_rate_band_kev : tuple of float, default=(0.5, 2.0)
    min_net_counts : float, default=14.0
        Detection threshold on background-subtracted counts in the detection
        aperture, all bands: the eFEDS extent limit of ~14 counts (PHYSICS.md).
    aperture_r500 : float, default=1.0
        Detection aperture radius in units of theta500 (assumed) ...
    aperture_min_arcmin, aperture_max_arcmin : float, default=1.0, 3.0
        ... clipped to this range (assumed), centred on the image.

    Examples
    --------
    >>> from dataclasses import replace
    >>> from sk_clustermass.simulate import get_survey
    >>> efeds = get_survey("efeds")
    >>> efeds.exposure_vignetted_s, round(efeds.vignetting_factor, 3)
    (1200.0, 0.545)
    >>> replace(efeds, nh_cm2=0.0).nh_cm2
    0.0
    """

    name: str
    exposure_vignetted_s: float
    exposure_unvignetted_s: float
    exposure_scatter_ln: float = 0.2
    exposure_correlation_deg: float = 1.0
    pixel_arcsec: float = 24.0
    psf_core_arcsec: float = 8.64
    psf_alpha: float = 1.5
    psf_half_width: int = 25
    effective_area: tuple[tuple[float, float], ...] = field(default=EFFECTIVE_AREA_TABLE)
    nh_cm2: float = 3e20
    sky_rate: float = 2.5e-3
    sky_rate_band_kev: tuple[float, float] = (0.6, 2.0)
    sky_foreground_fraction: float = 0.25
    sky_foreground_kt_kev: float = 0.25
    cxb_photon_index: float = 1.45
    particle_rate: float = 1e-3
    particle_rate_band_kev: tuple[float, float] = (0.5, 2.0)
    min_net_counts: float = 14.0
    aperture_r500: float = 1.0
    aperture_min_arcmin: float = 1.0
    aperture_max_arcmin: float = 3.0

    def __post_init__(self) -> None:
        non_negative = ("exposure_scatter_ln", "nh_cm2", "sky_rate", "particle_rate")
        positive = (
            "exposure_vignetted_s", "exposure_unvignetted_s", "pixel_arcsec",
            "psf_core_arcsec", "sky_foreground_kt_kev", "aperture_r500",
            "aperture_min_arcmin", "aperture_max_arcmin", "exposure_correlation_deg",
        )
        for name in positive:
            if not getattr(self, name) > 0:
                message = f"Survey.{name} must be > 0; got {getattr(self, name)!r}"
                raise ValueError(message)
        for name in non_negative:
            if not getattr(self, name) >= 0:
                message = f"Survey.{name} must be >= 0; got {getattr(self, name)!r}"
                raise ValueError(message)
        if not self.psf_alpha > 1:
            message = f"Survey.psf_alpha must be > 1 (finite PSF flux); got {self.psf_alpha!r}"
            raise ValueError(message)
        if not 0 <= self.sky_foreground_fraction <= 1:
            message = (
                "Survey.sky_foreground_fraction must be in [0, 1]; "
                f"got {self.sky_foreground_fraction!r}"
            )
            raise ValueError(message)

    @property
    def vignetting_factor(self) -> float:
        """Survey-averaged vignetting: vignetted / unvignetted exposure."""
        return self.exposure_vignetted_s / self.exposure_unvignetted_s

    def psf_kernel(self) -> np.ndarray:
        """The pixel-level PSF kernel of this survey (see :func:`psf_pixel_kernel`)."""
        return psf_pixel_kernel(
            self.pixel_arcsec, self.psf_half_width, self.psf_core_arcsec, self.psf_alpha
        )


_EFEDS = Survey(name="efeds", exposure_vignetted_s=1200.0, exposure_unvignetted_s=2200.0)
_ERASS1 = replace(
    _EFEDS,
    name="erass1",
    exposure_vignetted_s=200.0,
    exposure_unvignetted_s=200.0 * 2200.0 / 1200.0,
)

#: The survey presets by name.
SURVEYS: dict[str, Survey] = {"efeds": _EFEDS, "erass1": _ERASS1}


def get_survey(survey: str | Survey) -> Survey:
    """Return a :class:`Survey` from a preset name or pass a Survey through.

    Parameters
    ----------
    survey : {'efeds', 'erass1'} or Survey
        Case-insensitive preset name.

    Returns
    -------
    Survey

    Raises
    ------
    ValueError
        For an unknown name, listing the presets.

    Examples
    --------
    >>> from sk_clustermass.simulate import get_survey
    >>> get_survey("eRASS1").exposure_vignetted_s
    200.0
    """
    if isinstance(survey, Survey):
        return survey
    if isinstance(survey, str) and survey.lower() in SURVEYS:
        return SURVEYS[survey.lower()]
    message = (
        f"unknown survey {survey!r}; use one of {sorted(SURVEYS)} or a "
        "sk_clustermass.simulate.Survey instance (e.g. "
        "dataclasses.replace(get_survey('efeds'), exposure_vignetted_s=600.0))"
    )
    raise ValueError(message)

