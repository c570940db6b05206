"""An eSASS-like detection and extent selection, computed from catalogue quantities.

eSASS (Brunner et al. 2022, A&A 661, A1) fits every source candidate with a PSF and
with a PSF-convolved beta model over the local background; it keeps sources whose
detection likelihood ``DET_LIKE`` is at least 6 and calls them extended when the
extent likelihood ``EXT_LIKE`` (the improvement of the fit when the source is given
an extent) is at least 6 (Brunner et al. 2022; Liu et al. 2022, A&A 661, A2).
This module models both numbers from what the simulator knows without images:

* **Counts in a PSF-convolved aperture.** The survey-averaged King PSF with
  ``alpha = 1.5`` has exactly the shape of a projected ``beta = 2/3`` model of core
  radius ``psf_core_arcsec``; a beta model convolved with it is approximated by one of
  core radius ``sqrt(rc^2 + rc_psf^2)`` (exact in the wings, a few per cent off in the
  centre). The source counts are those of that profile inside the detection
  aperture, the background is the diffuse sky, particles and the mean unresolved-AGN
  brightness over the same area.
* **DET_LIKE** is the Poisson likelihood ratio of the observed aperture counts ``C``
  against the background ``B`` alone, ``C ln(C / B) - (C - B)`` for ``C > B``
  (Cash 1979), with ``C`` drawn from Poisson(source + background).
* **EXT_LIKE.** Its expectation is ``kappa * S^2 / (S + B_ext) * h(x)``: the source's
  signal-to-noise squared against the background ``B_ext`` inside twice the
  convolved core radius, times ``h(x) = (x^2 - 1) / (x^2 + 1)`` with ``x`` the
  convolved over the PSF core radius (0 for a point source, 1 when well resolved).
  ``kappa`` is the one calibrated number (assumed; see ``docs/simulator.md``). Twice a
  likelihood ratio is distributed as a non-central chi^2 with one degree of freedom,
  so the observed value is ``(sqrt(2 E) + xi)^2 / 2`` with ``xi ~ N(0, 1)``: a point
  source (``E = 0``) gets the null distribution, ``chi^2_1 / 2``.
* **Contaminants.** Bright point sources pass the extent cut when the PSF model does
  not match them (Liu et al. 2022; Bulbul et al. 2022): their expected EXT_LIKE is
  ``epsilon * S^2 / (S + B)`` with a log-normal mismatch ``epsilon`` (assumed,
  calibrated to the ~20% contamination of Liu et al. 2022).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from ._counterpart import OpticalConfirmation
from ._profiles import beta_flux_within

__all__ = [
    "ESASSSelection",
    "detection_likelihood",
    "expected_extent_likelihood",
    "observed_extent_likelihood",
    "psf_convolved_fraction",
    "select_sources",
]


@dataclass(frozen=True)
class ESASSSelection:
    """Thresholds and the calibrated numbers of the eSASS-like selection.

    Parameters
    ----------
    det_like_min : float, default=6.0
        Detection likelihood threshold of the eFEDS main catalogue (Brunner et al. 2022).
    ext_like_min : float, default=6.0
        Extent likelihood threshold of the eFEDS extended sources (Liu et al. 2022).
    aperture_arcmin : float, default=1.0
        Radius of the detection aperture (assumed: the eFEDS flux limit is quoted
        within 1', Liu et al. 2022).
    extent_kappa : float, default=0.083
        Normalisation of the expected extent likelihood (assumed; calibrated so that
        the ``'efeds_survey'`` preset gives the eFEDS density of extended sources,
        3.9 per deg^2 (Liu et al. 2022), on 1,048,576 parents; values 0.03–0.35
        tried, see ``docs/simulator.md``).
    extent_shape_power : float, default=1.0
        Power of the resolution term ``(x^2 - 1) / (x^2 + 1)`` (assumed; 0.5, 1 and
        2 tried: at the eFEDS density the median redshift of the detected clusters
        stays at 0.29–0.30).
    psf_mismatch_log10_median, psf_mismatch_log10_sd : float, default=-2.57, 0.5
        Log-normal PSF mismatch ``epsilon`` of point sources (assumed; calibrated to
        a contaminant share of 19% among the eFEDS candidates, between Klein et al.
        2022's 17 +- 3% and Liu et al. 2022's ~20%; medians -2.7 to -2.3 tried).
    contaminant_min_flux : float, default=1e-14
        Faintest point source simulated as a contaminant candidate, erg/s/cm^2 in
        0.5–2 keV (assumed; fainter ones have too few counts to pass the extent cut).
    confirmation : OpticalConfirmation, default=OpticalConfirmation()
        How the optical follow-up assigns a contaminant its redshift and every
        candidate its ``F_CONT`` (MCMF, Klein et al. 2022).

    Examples
    --------
    >>> from sk_clustermass.simulate import ESASSSelection
    >>> ESASSSelection().ext_like_min
    6.0
    """

    det_like_min: float = 6.0
    ext_like_min: float = 6.0
    aperture_arcmin: float = 1.0
    extent_kappa: float = 0.083
    extent_shape_power: float = 1.0
    psf_mismatch_log10_median: float = -2.57
    psf_mismatch_log10_sd: float = 0.5
    contaminant_min_flux: float = 1e-14
    confirmation: OpticalConfirmation = field(default_factory=OpticalConfirmation)

    def __post_init__(self) -> None:
        for name in ("aperture_arcmin", "extent_kappa", "contaminant_min_flux"):
            if not getattr(self, name) > 0:
                message = f"ESASSSelection.{name} must be > 0; got {getattr(self, name)!r}"
                raise ValueError(message)
        if self.psf_mismatch_log10_sd < 0:
            message = (
                "ESASSSelection.psf_mismatch_log10_sd must be >= 0; "
                f"got {self.psf_mismatch_log10_sd!r}"
            )
            raise ValueError(message)


def psf_convolved_fraction(
    radius_arcmin: ArrayLike,
    rc_arcmin: ArrayLike,
    beta: ArrayLike,
    r500_arcmin: ArrayLike,
    psf_core_arcsec: float = 8.64,
) -> np.ndarray:
    """Share of a beta model's R500 flux inside a radius after the PSF.

    Parameters
    ----------
    radius_arcmin : array-like
        Aperture radius.
    rc_arcmin, beta : array-like
        Core radius and beta of the model (beta > 1/2).
    r500_arcmin : array-like
        theta500: the flux inside it is the normalisation.
    psf_core_arcsec : float, default=8.64
        King core radius of the ``alpha = 1.5`` PSF (PHYSICS.md).

    Returns
    -------
    ndarray
        Fraction (can exceed 1 slightly for shallow models in large apertures).

    Examples
    --------
    >>> from sk_clustermass.simulate import psf_convolved_fraction
    >>> round(float(psf_convolved_fraction(1.0, 0.01, 2 / 3, 2.0)), 2)
    0.86
    """
    rc = np.asarray(rc_arcmin, dtype=np.float64)
    rc_eff = np.hypot(rc, psf_core_arcsec / 60.0)
    # beta > 1/2: the total flux is finite and the same before and after the PSF,
    # so shares of it compare directly.
    inside = beta_flux_within(np.asarray(radius_arcmin) / rc_eff, beta)
    return inside / beta_flux_within(np.asarray(r500_arcmin) / rc, beta)


def detection_likelihood(counts: ArrayLike, background: ArrayLike) -> np.ndarray:
    """Poisson likelihood ratio of ``counts`` against ``background`` alone (DET_LIKE).

    Examples
    --------
    >>> from sk_clustermass.simulate import detection_likelihood
    >>> detection_likelihood([2.0, 20.0], [4.0, 4.0]).round(2)
    array([ 0.  , 16.19])
    """
    c = np.asarray(counts, dtype=np.float64)
    b = np.asarray(background, dtype=np.float64)
    ratio = np.where(c > b, c / np.maximum(b, 1e-300), 1.0)
    return np.where(c > b, c * np.log(ratio) - (c - b), 0.0)


def expected_extent_likelihood(
    source_counts: ArrayLike,
    rc_eff_arcmin: ArrayLike,
    background_arcmin2: ArrayLike,
    kappa: float,
    psf_core_arcsec: float = 8.64,
    shape_power: float = 1.0,
) -> np.ndarray:
    """Expected EXT_LIKE of a source of given counts and PSF-convolved core radius.

    Parameters
    ----------
    source_counts : array-like
        Expected source counts in the detection aperture.
    rc_eff_arcmin : array-like
        PSF-convolved core radius ``sqrt(rc^2 + rc_psf^2)``.
    background_arcmin2 : array-like
        Background counts per arcmin^2.
    kappa : float
        Normalisation (:class:`ESASSSelection`).
    psf_core_arcsec : float, default=8.64
    shape_power : float, default=1.0
        Power of the resolution term ``(x^2 - 1) / (x^2 + 1)``.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> from sk_clustermass.simulate import expected_extent_likelihood
    >>> expected_extent_likelihood([100.0, 100.0], [8.64 / 60, 0.5], 6.0, 0.35).round(1)
    array([ 0. , 24.9])
    """
    s = np.asarray(source_counts, dtype=np.float64)
    rc_eff = np.asarray(rc_eff_arcmin, dtype=np.float64)
    x2 = (rc_eff / (psf_core_arcsec / 60.0)) ** 2
    shape = np.clip((x2 - 1.0) / (x2 + 1.0), 0.0, 1.0) ** shape_power
    b_ext = np.asarray(background_arcmin2) * np.pi * (2.0 * rc_eff) ** 2
    return kappa * s**2 / np.maximum(s + b_ext, 1e-300) * shape


def observed_extent_likelihood(expected: ArrayLike, normal: ArrayLike) -> np.ndarray:
    """Observed EXT_LIKE: half a non-central chi^2_1 of non-centrality ``2 expected``.

    Examples
    --------
    >>> from sk_clustermass.simulate import observed_extent_likelihood
    >>> observed_extent_likelihood([0.0, 8.0], [1.0, 0.0]).tolist()
    [0.5, 8.0]
    """
    root = np.sqrt(2.0 * np.asarray(expected, dtype=np.float64))
    return 0.5 * (root + np.asarray(normal, dtype=np.float64)) ** 2


def select_sources(
    columns: dict[str, np.ndarray],
    point: dict[str, np.ndarray],
    rand,
    selection: ESASSSelection,
    survey,
    agn_mean_rate: float,
    cusp_beta: float = 2.0 / 3.0,
) -> dict[str, np.ndarray]:
    """Apply the eSASS-like selection to a chunk of parents (clusters and point sources).

    Parameters
    ----------
    columns : dict of ndarray
        The population columns of :func:`draw_population` (expected counts, radii,
        background, exposure, morphology).
    point : dict of ndarray
        ``is_point`` and the selection deviates ``mismatch_normal``, ``extent_normal``.
    rand : BlockRandom
        The selection stream, for the Poisson draw of the aperture counts.
    selection : ESASSSelection
    survey : Survey
    agn_mean_rate : float
        Mean count rate of the field AGN drawn as point sources, all bands,
        counts/s/arcmin^2 (they are part of the local background on average).
    cusp_beta : float, default=2/3
        beta of the cusp and clump components (assumed).

    Returns
    -------
    dict of ndarray of shape (n,)
        The *selection* columns of the catalogue and ``detected``.
    """
    pixel_arcmin2 = (survey.pixel_arcsec / 60.0) ** 2
    psf_arcmin = survey.psf_core_arcsec / 60.0
    aperture = selection.aperture_arcmin
    theta500, ratio = columns["R500c_arcmin"], columns["_second_ratio"]
    background = (columns["mu_background_pixel"] / pixel_arcmin2
                  + agn_mean_rate * columns["exposure_vignetted_s"])
    mu_cluster = columns["mu_cluster_r500"]
    rc_main = columns["rc_arcmin"]
    main = mu_cluster / (1.0 + ratio) * psf_convolved_fraction(
        aperture, rc_main, columns["beta"], theta500, survey.psf_core_arcsec)
    if "_second_rc_r500" in columns:
        rc_second = columns["_second_rc_r500"] * theta500
        centre = (columns["_second_x"] - columns["x_pix"], columns["_second_y"] - columns["y_pix"])
        inside = np.hypot(*centre) * np.sqrt(pixel_arcmin2) < aperture
        second = mu_cluster * ratio / (1.0 + ratio) * inside * psf_convolved_fraction(
            aperture, rc_second, cusp_beta, theta500, survey.psf_core_arcsec)
    else:
        rc_second, second = rc_main, np.zeros_like(main)
    king = 1.0 - (1.0 + (aperture / psf_arcmin) ** 2) ** (1.0 - survey.psf_alpha)
    central = columns["mu_central_agn"] * king
    source = main + second + central
    area = np.pi * aperture**2 * background
    kappa = selection.extent_kappa
    extent = (
        expected_extent_likelihood(main, np.hypot(rc_main, psf_arcmin), background, kappa,
                                   survey.psf_core_arcsec, selection.extent_shape_power)
        + expected_extent_likelihood(second, np.hypot(rc_second, psf_arcmin), background,
                                     kappa, survey.psf_core_arcsec, selection.extent_shape_power)
    )
    mismatch = 10.0 ** (selection.psf_mismatch_log10_median
                        + selection.psf_mismatch_log10_sd * point["mismatch_normal"])
    point_extent = mismatch * central**2 / (central + background * np.pi * (2 * psf_arcmin) ** 2)
    extent = np.where(point["is_point"], point_extent, np.nan_to_num(extent))
    counts = rand.poisson(source + area, dtype=np.float64)
    det_like = detection_likelihood(counts, area)
    ext_like = observed_extent_likelihood(extent, point["extent_normal"])
    return {
        "is_contaminant": point["is_point"].copy(),
        "flux_contaminant": point["flux"],
        "mu_detection_source": source,
        "mu_detection_background": area,
        "counts_detection": counts,
        "DET_LIKE": det_like,
        "EXT_LIKE_expected": extent,
        "EXT_LIKE": ext_like,
        "detected": (det_like >= selection.det_like_min) & (ext_like >= selection.ext_like_min),
    }
