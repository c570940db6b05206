"""Sky and particle background, per band, in counts per pixel.

* Sky: Galactic foreground plus extragalactic background, together
  ``Survey.sky_rate`` counts/s/arcmin^2 in ``Survey.sky_rate_band_kev`` (2.5e-3 in
  0.6–2 keV, from Ponti et al. 2023; PHYSICS.md). Its spectrum is soft: an
  unabsorbed thermal foreground (bremsstrahlung at ``sky_foreground_kt_kev``) carrying
  ``sky_foreground_fraction`` of that rate, and a power law of index
  ``cxb_photon_index`` absorbed by ``nh_cm2`` for the rest. Both are folded through
  the effective area; the sky scales with the vignetted exposure. That rate is the
  whole sky, AGN included: when the simulation draws AGN explicitly (``agn`` given),
  their mean brightness in the reference band is taken off the extragalactic part
  (which keeps its spectral shape, floored at zero), so the total sky is conserved.
* Particle: ``Survey.particle_rate`` counts/s/arcmin^2 in
  ``Survey.particle_rate_band_kev`` (1e-3 in 0.5–2 keV), flat in energy, scaled with the
  unvignetted exposure (it does not come through the mirrors).

At eFEDS depth this gives 1.3 counts per 24" pixel over 0.25–2.3 keV (0.5 from
particles, 0.8 from the sky), or 0.97 once the simulated AGN (which resolve 60% of
the 0.6–2 keV sky) are taken out of the diffuse sky: the 0.5–1 of PHYSICS.md.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._agn import AGNPopulation, agn_mean_flux_deg2
from ._spectrum import band_response, bremsstrahlung_photon_spectrum, powerlaw_count_rates
from ._survey import Survey

__all__ = [
    "background_counts_per_pixel",
    "particle_background_rates",
    "resolved_agn_rate",
    "sky_background_rates",
]


def _folded(edges_kev: ArrayLike, nh_cm2: float, survey: Survey, spectrum) -> np.ndarray:
    response = band_response(edges_kev, nh_cm2, survey.effective_area)
    return np.einsum("bk,bk->b", spectrum(response.energies_kev), response.weights)


def resolved_agn_rate(survey: Survey, agn: AGNPopulation, photon_index: float = 1.9) -> float:
    """Mean count rate of the simulated AGN in the sky reference band, counts/s/arcmin^2.

    Examples
    --------
    >>> from sk_clustermass.simulate import AGNPopulation, get_survey
    >>> from sk_clustermass.simulate import resolved_agn_rate
    >>> f"{resolved_agn_rate(get_survey('efeds'), AGNPopulation()):.2e}"
    '1.50e-03'
    """
    response = band_response(survey.sky_rate_band_kev, survey.nh_cm2, survey.effective_area)
    per_flux = float(powerlaw_count_rates(photon_index, response)[0])
    return agn_mean_flux_deg2(agn) / 3600.0 * per_flux


def sky_background_rates(
    edges_kev: ArrayLike, survey: Survey, agn: AGNPopulation | None = None
) -> np.ndarray:
    """Sky background count rate per band, counts/s/arcmin^2 (vignetted exposure).

    Parameters
    ----------
    edges_kev : array-like of shape (n_bands + 1,)
    survey : Survey
    agn : AGNPopulation, optional
        AGN drawn as point sources: their mean brightness is removed from the
        extragalactic part of the diffuse sky.

    Returns
    -------
    ndarray of shape (n_bands,)

    Examples
    --------
    >>> from sk_clustermass.simulate import get_survey, sky_background_rates
    >>> efeds = get_survey("efeds")
    >>> f"{float(sky_background_rates([0.6, 2.0], efeds)[0]):.2e}"
    '2.50e-03'
    """
    def foreground(energy: np.ndarray) -> np.ndarray:
        return bremsstrahlung_photon_spectrum(energy, survey.sky_foreground_kt_kev)

    def extragalactic(energy: np.ndarray) -> np.ndarray:
        return energy ** -survey.cxb_photon_index

    reference = survey.sky_rate_band_kev
    foreground_rate = survey.sky_foreground_fraction * survey.sky_rate
    extragalactic_rate = survey.sky_rate - foreground_rate
    if agn is not None:
        extragalactic_rate = max(extragalactic_rate - resolved_agn_rate(survey, agn), 0.0)
    rates = np.zeros(len(np.asarray(edges_kev)) - 1)
    for rate, spectrum, nh in (
        (foreground_rate, foreground, 0.0),
        (extragalactic_rate, extragalactic, survey.nh_cm2),
    ):
        if rate > 0:
            norm = rate / _folded(reference, nh, survey, spectrum)[0]
            rates += norm * _folded(edges_kev, nh, survey, spectrum)
    return rates


def particle_background_rates(edges_kev: ArrayLike, survey: Survey) -> np.ndarray:
    """Particle background count rate per band, counts/s/arcmin^2 (unvignetted exposure).

    Examples
    --------
    >>> from sk_clustermass.simulate import get_survey, particle_background_rates
    >>> particle_background_rates([0.5, 1.25, 2.0], get_survey("efeds"))
    array([0.0005, 0.0005])
    """
    low, high = survey.particle_rate_band_kev
    per_kev = survey.particle_rate / (high - low)
    return per_kev * np.diff(np.asarray(edges_kev, dtype=np.float64))


def background_counts_per_pixel(
    edges_kev: ArrayLike,
    survey: Survey,
    exposure_vignetted_s: ArrayLike,
    exposure_unvignetted_s: ArrayLike,
    agn: AGNPopulation | None = None,
) -> np.ndarray:
    """Expected sky plus particle counts per pixel and band.

    Parameters
    ----------
    edges_kev : array-like of shape (n_bands + 1,)
    survey : Survey
        Rates and pixel size.
    exposure_vignetted_s, exposure_unvignetted_s : array-like of shape (n,)
        Exposures of each image, s.
    agn : AGNPopulation, optional
        Simulated AGN population, removed from the diffuse sky (see
        :func:`sky_background_rates`).

    Returns
    -------
    ndarray of shape (n, n_bands)

    Examples
    --------
    >>> from sk_clustermass.simulate import (
    ...     DEFAULT_BAND_EDGES_KEV, background_counts_per_pixel, get_survey)
    >>> per_pixel = background_counts_per_pixel(DEFAULT_BAND_EDGES_KEV, get_survey("efeds"),
    ...                                         [1200.0], [2200.0])
    >>> per_pixel.shape, round(float(per_pixel.sum()), 2)
    ((1, 10), 1.33)
    >>> from sk_clustermass.simulate import AGNPopulation
    >>> diffuse = background_counts_per_pixel(DEFAULT_BAND_EDGES_KEV, get_survey("efeds"),
    ...                                       [1200.0], [2200.0], AGNPopulation())
    >>> round(float(diffuse.sum()), 2)
    0.97
    """
    pixel_arcmin2 = (survey.pixel_arcsec / 60.0) ** 2
    sky = sky_background_rates(edges_kev, survey, agn) * pixel_arcmin2
    particle = particle_background_rates(edges_kev, survey) * pixel_arcmin2
    vignetted = np.atleast_1d(np.asarray(exposure_vignetted_s, dtype=np.float64))
    unvignetted = np.atleast_1d(np.asarray(exposure_unvignetted_s, dtype=np.float64))
    return vignetted[:, None] * sky[None, :] + unvignetted[:, None] * particle[None, :]
