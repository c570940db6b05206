"""The cluster simulator: eROSITA-like mock observations, and its physics.

:func:`make_clusters` renders mock observations (the library's default data),
:func:`make_catalog` draws only the catalogue, :func:`parent_density_deg2` turns
detected fractions of the survey presets into surface densities and
:func:`to_lab_style` gives the lab's float image format. They drive the physics
below, one concept per module; it is public so that every number can be checked and
reused. :func:`stream_clusters` hands out the clusters chunk by chunk, for writers
(:func:`sk_clustermass.datasets.simulate_to_hdf5`).

- cosmology (:mod:`._cosmology`): E(z), distances, R500, theta500;
- scaling relations (:mod:`._scaling`): M–T (Arnaud et al. 2005), L–M (Pratt et al.
  2009), correlated log-normal scatter;
- spectra (:mod:`._spectrum`): bremsstrahlung and power laws folded through the
  effective area, K-corrections, ECF, Galactic absorption;
- surveys (:mod:`._survey`): exposure, background, detection threshold, the
  ``'efeds'`` and ``'erass1'`` depths (the lab's population at them: ``'efeds_lab'``,
  ``'erass1_lab'``); the instrument's bands, effective area, King
  PSF and pixels come from :mod:`sk_clustermass.instrument` and are re-exported here;
- gas profiles (:mod:`._profiles`): elliptical, offset beta models on pixels, PSF;
- background (:mod:`._background`) and AGN (:mod:`._agn`);
- the halo mass function (:mod:`._massfunction`) for ``sampling='mass-function'``;
- cool cores, relaxed and disturbed clusters (:mod:`._morphology`);
- the eSASS-like detection and extent selection with contaminants (:mod:`._selection`);
- survey presets that reproduce a survey's detected sample (:mod:`._presets`);
- the catalogue columns (:mod:`._columns`).

Units are in the names (``_kpc``, ``_arcmin``, ``_kev``, ``_erg_s``, ``_cm2``) or in
the docstrings. Every number and its source is listed in ``docs/simulator.md``.
"""

from ..instrument import (
    ARF_BAND_MEANS_CM2,
    DEFAULT_BAND_EDGES_KEV,
    EFFECTIVE_AREA_TABLE,
    band_edges_kev,
    effective_area_cm2,
    king_encircled_fraction,
    king_half_energy_width_arcsec,
    king_psf_arcsec2,
    psf_pixel_kernel,
)
from ._agn import (
    AGNPopulation,
    agn_cumulative_density_deg2,
    agn_flux_from_quantile,
    agn_mean_flux_deg2,
    central_agn_flux_erg_s_cm2,
    draw_central_agn,
    draw_field_agn,
)
from ._background import (
    background_counts_per_pixel,
    particle_background_rates,
    resolved_agn_rate,
    sky_background_rates,
)
from ._columns import CATALOG_COLUMNS, catalog_column_names, describe_catalog_columns
from ._cosmology import (
    DEFAULT_COSMOLOGY,
    angular_diameter_distance_kpc,
    critical_density_msun_kpc3,
    efunc,
    kpc_per_arcmin,
    luminosity_distance_cm,
    r500_kpc,
    theta500_arcmin,
)
from ._counterpart import OpticalConfirmation, chance_counterpart, contamination_probability
from ._lab_float_images import to_lab_style
from ._make_clusters import make_catalog, make_clusters, parent_density_deg2
from ._massfunction import (
    LinearPowerSpectrum,
    growth_factor,
    halo_density_deg2,
    linear_power_mpc3,
    mass_function_dn_dlnm,
    sample_mass_function,
    sigma_of_mass,
    tinker08_multiplicity,
)
from ._morphology import Morphology, cool_core_fraction, core_excised_share, draw_morphology
from ._presets import PRESETS, RELATIONS, SurveyPreset, get_preset
from ._profiles import (
    GasProfile,
    beta_flux_within,
    beta_surface_brightness,
    convolve_psf,
    render_beta_images,
)
from ._sample_variance import (
    draw_with_sample_variance,
    shell_density_covariance,
    tinker10_bias,
)
from ._scaling import (
    ScalingRelations,
    correlated_log10_scatter,
    luminosity_0p1_2p4_erg_s,
    temperature_kev,
)
from ._selection import (
    ESASSSelection,
    detection_likelihood,
    expected_extent_likelihood,
    observed_extent_likelihood,
    psf_convolved_fraction,
    select_sources,
)
from ._spectrum import (
    KEV_TO_ERG,
    BandResponse,
    band_response,
    bremsstrahlung_band_energy,
    bremsstrahlung_photon_spectrum,
    ecf_counts_cm2_erg,
    k_correction,
    photoabsorption_cross_section_cm2,
    powerlaw_count_rates,
    thermal_count_rates,
)
from ._streaming import ClusterStream, stream_clusters
from ._survey import LAB_POPULATIONS, SURVEYS, Survey, get_survey
from ._temperature_error import erosita_temperature_kev, kt_relative_error

__all__ = [
    "ARF_BAND_MEANS_CM2",
    "CATALOG_COLUMNS",
    "DEFAULT_BAND_EDGES_KEV",
    "DEFAULT_COSMOLOGY",
    "EFFECTIVE_AREA_TABLE",
    "KEV_TO_ERG",
    "LAB_POPULATIONS",
    "PRESETS",
    "RELATIONS",
    "SURVEYS",
    "AGNPopulation",
    "BandResponse",
    "ClusterStream",
    "ESASSSelection",
    "GasProfile",
    "LinearPowerSpectrum",
    "Morphology",
    "OpticalConfirmation",
    "ScalingRelations",
    "Survey",
    "SurveyPreset",
    "agn_cumulative_density_deg2",
    "agn_flux_from_quantile",
    "agn_mean_flux_deg2",
    "angular_diameter_distance_kpc",
    "background_counts_per_pixel",
    "band_edges_kev",
    "band_response",
    "beta_flux_within",
    "beta_surface_brightness",
    "bremsstrahlung_band_energy",
    "bremsstrahlung_photon_spectrum",
    "catalog_column_names",
    "central_agn_flux_erg_s_cm2",
    "chance_counterpart",
    "contamination_probability",
    "convolve_psf",
    "cool_core_fraction",
    "core_excised_share",
    "correlated_log10_scatter",
    "critical_density_msun_kpc3",
    "describe_catalog_columns",
    "detection_likelihood",
    "draw_central_agn",
    "draw_field_agn",
    "draw_morphology",
    "draw_with_sample_variance",
    "ecf_counts_cm2_erg",
    "effective_area_cm2",
    "efunc",
    "erosita_temperature_kev",
    "expected_extent_likelihood",
    "get_preset",
    "get_survey",
    "growth_factor",
    "halo_density_deg2",
    "k_correction",
    "king_encircled_fraction",
    "king_half_energy_width_arcsec",
    "king_psf_arcsec2",
    "kpc_per_arcmin",
    "kt_relative_error",
    "linear_power_mpc3",
    "luminosity_0p1_2p4_erg_s",
    "luminosity_distance_cm",
    "make_catalog",
    "make_clusters",
    "mass_function_dn_dlnm",
    "observed_extent_likelihood",
    "parent_density_deg2",
    "particle_background_rates",
    "photoabsorption_cross_section_cm2",
    "powerlaw_count_rates",
    "psf_convolved_fraction",
    "psf_pixel_kernel",
    "r500_kpc",
    "render_beta_images",
    "resolved_agn_rate",
    "sample_mass_function",
    "select_sources",
    "shell_density_covariance",
    "sigma_of_mass",
    "sky_background_rates",
    "stream_clusters",
    "temperature_kev",
    "thermal_count_rates",
    "theta500_arcmin",
    "tinker08_multiplicity",
    "tinker10_bias",
    "to_lab_style",
]
