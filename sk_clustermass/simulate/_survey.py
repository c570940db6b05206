"""eROSITA-like surveys: exposure, background and detection around the instrument.

The instrument itself (bands, effective area, PSF, pixels) is
:mod:`sk_clustermass.instrument`; a :class:`Survey` adds the choices of an observation.
Numbers and sources (PHYSICS.md):

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

import numpy as np

from ..instrument import DEFAULT_PIXEL_ARCSEC, EFFECTIVE_AREA_TABLE, psf_pixel_kernel

__all__ = ["LAB_POPULATIONS", "SURVEYS", "Survey", "get_survey"]


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
    pixel_arcsec: float = DEFAULT_PIXEL_ARCSEC
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
#: The lab's population at a survey's depth (log-uniform masses and redshifts, the
#: simple detection cut), by its clear name -> the depth's name. ``survey='efeds'``
#: means the same as ``'efeds_lab'`` (its former name, kept as an alias); the eFEDS-like
#: sky is the preset ``'efeds_survey'``.
LAB_POPULATIONS: dict[str, str] = {"efeds_lab": "efeds", "erass1_lab": "erass1"}


def get_survey(survey: str | Survey) -> Survey:
    """Return a :class:`Survey` from a preset name or pass a Survey through.

    Parameters
    ----------
    survey : {'efeds', 'erass1', 'efeds_lab', 'erass1_lab'} or Survey
        Case-insensitive preset name; the lab population names
        (:data:`LAB_POPULATIONS`) give their depth.

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
    name = survey.lower() if isinstance(survey, str) else None
    name = LAB_POPULATIONS.get(name, name)
    if name in SURVEYS:
        return SURVEYS[name]
    message = (
        f"unknown survey {survey!r}; use one of {sorted(SURVEYS)} or a "
        "sk_clustermass.simulate.Survey instance (e.g. "
        "dataclasses.replace(get_survey('efeds'), exposure_vignetted_s=600.0))"
    )
    raise ValueError(message)

