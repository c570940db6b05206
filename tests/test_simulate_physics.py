"""The simulator's physics against the numbers of PHYSICS.md (and basic identities)."""

from dataclasses import replace
from itertools import pairwise

import numpy as np
import pytest

from sk_clustermass.simulate import (
    ARF_BAND_MEANS_CM2,
    DEFAULT_BAND_EDGES_KEV,
    AGNPopulation,
    agn_cumulative_density_deg2,
    background_counts_per_pixel,
    band_response,
    beta_flux_within,
    convolve_psf,
    critical_density_msun_kpc3,
    draw_field_agn,
    ecf_counts_cm2_erg,
    effective_area_cm2,
    get_survey,
    k_correction,
    king_half_energy_width_arcsec,
    luminosity_distance_cm,
    make_catalog,
    mass_function_dn_dlnm,
    particle_background_rates,
    photoabsorption_cross_section_cm2,
    powerlaw_count_rates,
    psf_pixel_kernel,
    r500_kpc,
    render_beta_images,
    sample_mass_function,
    sky_background_rates,
    thermal_count_rates,
    theta500_arcmin,
)

# ----------------------------------------------------------------- cosmology


@pytest.mark.parametrize(
    ("mass", "z", "theta_arcmin"),
    [(1e14, 0.1, 6.2), (1e14, 0.3, 2.4), (1e14, 0.5, 1.6), (1e14, 1.0, 1.0),
     (1e13, 0.3, 1.1), (1e15, 0.3, 5.1)],
)
def test_theta500_matches_physics_sheet(mass, z, theta_arcmin):
    assert theta500_arcmin(mass, z) == pytest.approx(theta_arcmin, rel=0.05)


def test_r500_encloses_500_times_critical_density():
    mass, z = np.array([1e13, 3e14]), np.array([0.2, 1.2])
    radius = r500_kpc(mass, z)
    mean_density = mass / (4 / 3 * np.pi * radius**3)
    np.testing.assert_allclose(mean_density / critical_density_msun_kpc3(z), 500.0)


# ----------------------------------------------------------------- instrument and spectra


@pytest.mark.parametrize("kt", [1.0, 2.0, 5.0, 8.0])
def test_ecf_soft_band_within_15_percent(kt):
    assert ecf_counts_cm2_erg(kt) == pytest.approx(1.2e12, rel=0.15)


def test_ecf_temperature_trend_matches_sheet():
    low, high = ecf_counts_cm2_erg([1.0, 8.0])
    assert low == pytest.approx(1.26e12, rel=0.05)
    assert high == pytest.approx(1.18e12, rel=0.05)


def test_effective_area_band_means_close_to_arf():
    edges = np.asarray(DEFAULT_BAND_EDGES_KEV)
    means = [effective_area_cm2(np.linspace(lo, hi, 401)).mean()
             for lo, hi in pairwise(edges)]
    np.testing.assert_allclose(means, ARF_BAND_MEANS_CM2, rtol=0.20)


def test_king_psf_half_energy_width_and_kernel():
    assert king_half_energy_width_arcsec() == pytest.approx(30.0, rel=0.05)
    kernel = psf_pixel_kernel()
    assert 0.97 < kernel.sum() < 1.0
    np.testing.assert_allclose(kernel, kernel.T, atol=1e-12)
    np.testing.assert_allclose(kernel, kernel[::-1], atol=1e-12)
    assert kernel.argmax() == kernel.size // 2


def test_photoabsorption_reference_values():
    # Morrison & McCammon (1983) polynomial at 1 keV: (120.6 + 169.3 - 47.7) e-24 cm^2.
    assert photoabsorption_cross_section_cm2(1.0) == pytest.approx(2.422e-22, rel=1e-3)
    sigma = photoabsorption_cross_section_cm2(np.linspace(0.3, 0.5, 20))
    assert np.all(np.diff(sigma) < 0)


def test_thermal_count_rate_matches_ecf_at_low_redshift():
    z, kt, luminosity = np.array([1e-4]), np.array([4.0]), np.array([1e43])
    dl = luminosity_distance_cm(z)
    rate = thermal_count_rates(luminosity, kt, z, dl, band_response((0.5, 2.0)))[0, 0]
    flux = luminosity[0] / (4 * np.pi * dl[0] ** 2)
    assert rate == pytest.approx(flux * ecf_counts_cm2_erg(4.0), rel=1e-3)


def test_k_correction_is_one_at_zero_redshift_and_grows_for_cool_gas():
    assert k_correction(3.0, 0.0) == pytest.approx(1.0)
    cool, hot = k_correction([0.8, 8.0], 0.8)
    assert cool > 1.0 > hot


def test_powerlaw_linearisation_in_photon_index_is_accurate():
    response = band_response(DEFAULT_BAND_EDGES_KEV, 3e20)
    exact = powerlaw_count_rates(np.array([1.8, 2.0]), response)
    centre = powerlaw_count_rates(1.9, response)
    slope = (powerlaw_count_rates(1.901, response) - powerlaw_count_rates(1.899, response)) / 2e-3
    linear = centre + np.array([[-0.1], [0.1]]) * slope
    np.testing.assert_allclose(linear, exact, rtol=0.005)


# ----------------------------------------------------------------- expected counts


@pytest.mark.parametrize(
    ("log_mass", "z", "sheet_counts"),
    [(14.0, 0.1, 1400.0), (14.0, 0.3, 160.0), (14.0, 0.5, 60.0),
     (np.log10(3e14), 0.3, 850.0)],
)
def test_mean_counts_at_efeds_depth_within_factor_1p5(log_mass, z, sheet_counts):
    catalog = make_catalog(
        16, mass_range=(log_mass, log_mass), redshift_range=(z, z), scatter=False,
        random_state=0,
    )
    counts = catalog["mu_soft_r500"].to_numpy()
    np.testing.assert_allclose(counts, counts[0])  # no scatter: every cluster alike
    assert sheet_counts / 1.5 < counts[0] < sheet_counts * 1.5


def test_background_per_pixel_is_of_the_stated_order():
    efeds = get_survey("efeds")
    assert sky_background_rates((0.6, 2.0), efeds)[0] == pytest.approx(2.5e-3)
    assert particle_background_rates((0.5, 2.0), efeds)[0] == pytest.approx(1e-3)
    total = background_counts_per_pixel(DEFAULT_BAND_EDGES_KEV, efeds, [1200.0], [2200.0])
    diffuse = background_counts_per_pixel(
        DEFAULT_BAND_EDGES_KEV, efeds, [1200.0], [2200.0], AGNPopulation()
    )
    assert 0.5 < diffuse.sum() < 1.2  # the simulated images: AGN drawn separately
    assert 0.5 < total.sum() < 2.0  # the whole sky, AGN included
    assert np.all(np.diff(diffuse[0, :4]) < 0)  # soft spectrum


def test_field_agn_density_matches_efeds():
    agn = AGNPopulation()
    area = (50 * 24 / 3600) ** 2  # a 20' x 20' image in deg^2
    draws = draw_field_agn(np.random.default_rng(1), 4000, area, agn)
    bright = ((draws["flux"] > 6.5e-15) & draws["valid"]).sum(axis=1)
    assert bright.mean() == pytest.approx(22.2, rel=0.05)
    assert agn_cumulative_density_deg2(6.5e-15, agn) == pytest.approx(200.0)


# ----------------------------------------------------------------- scaling relations


@pytest.fixture(scope="module")
def big_catalog():
    return make_catalog(20_000, random_state=2)


def _fit(x, y):
    slope, intercept = np.polyfit(x, y, 1)
    return slope, intercept, np.std(y - (slope * x + intercept))


def test_mt_relation_recovered(big_catalog):
    cat = big_catalog
    x = np.log10(cat["E_z"] * cat["M500c"] / 3.84e14)
    slope, intercept, scatter = _fit(x, np.log10(cat["kT"] / 5.0))
    assert 1.0 / slope == pytest.approx(1.71, rel=0.10)
    assert intercept == pytest.approx(0.0, abs=0.01)
    assert scatter == pytest.approx(0.07, rel=0.10)


def test_lm_relation_recovered(big_catalog):
    cat = big_catalog
    x = np.log10(cat["M500c"] / 2e14)
    y = np.log10(cat["Lx_0p1_2p4"] / 1.03e44 / cat["E_z"] ** (7 / 3))
    slope, intercept, scatter = _fit(x, y)
    assert slope == pytest.approx(1.53, rel=0.10)
    assert intercept == pytest.approx(0.0, abs=0.02)
    assert scatter == pytest.approx(0.2, rel=0.10)
    np.testing.assert_allclose(cat["Lx_soft"] / cat["Lx_0p1_2p4"], 0.62)


def test_temperature_and_luminosity_scatter_correlated(big_catalog):
    cat = big_catalog
    mass_term = np.log10(cat["E_z"] * cat["M500c"])
    t_resid = np.log10(cat["kT"]) - mass_term / 1.71
    l_resid = np.log10(cat["Lx_0p1_2p4"] / cat["E_z"] ** (7 / 3)) - 1.53 * np.log10(cat["M500c"])
    assert np.corrcoef(t_resid, l_resid)[0, 1] == pytest.approx(0.5, abs=0.05)


# ----------------------------------------------------------------- profiles


@pytest.mark.parametrize("rc_pix", [0.2, 0.5, 1.0])
def test_rendered_beta_model_conserves_flux(rc_pix):
    # Truncation radius 3 R500 = 20 rc stays inside the 50 x 50 image.
    beta, r500 = 0.7, rc_pix / 0.15
    images = render_beta_images([24.3], [24.8], [rc_pix], [beta], [0.7], [0.4], [r500])
    expected = beta_flux_within(3.0 * r500 / rc_pix, beta) / beta_flux_within(r500 / rc_pix, beta)
    assert images.sum() == pytest.approx(expected, rel=0.01)
    assert images.min() >= 0


def test_ellipticity_elongates_along_position_angle():
    images = render_beta_images([24.5], [24.5], [3.0], [0.67], [0.5], [0.0], [20.0])[0]
    assert images[24:26, 35].sum() > 2 * images[35, 24:26].sum()


def test_psf_convolution_conserves_flux_inside_the_field():
    point = np.zeros((1, 50, 50), dtype=np.float32)
    point[0, 25, 25] = 1.0
    kernel = psf_pixel_kernel()
    out = convolve_psf(point, kernel)
    # The kernel reaches rows/columns 0..50; index 50 falls off the image.
    assert out.sum() == pytest.approx(kernel[:50, :50].sum(), rel=1e-5)
    assert out[0, 25, 25] == pytest.approx(kernel[25, 25], rel=1e-5)


# ----------------------------------------------------------------- mass function


def test_mass_function_decreases_and_sampling_follows_it():
    density = mass_function_dn_dlnm(np.array([1e13, 1e14, 1e15]), 0.3)
    assert density[0] > density[1] > density[2] > 0
    rng = np.random.default_rng(0)
    log_m, z = sample_mass_function(rng.random(20_000), rng.random(20_000))
    assert 13.0 <= log_m.min() and log_m.max() <= 15.0
    assert 0.01 <= z.min() and z.max() <= 1.5
    # The mass function falls steeply: far more groups than massive clusters.
    assert (log_m < 13.5).sum() > 5 * (log_m > 14.5).sum()


def test_erass1_is_six_times_shallower_than_efeds():
    kwargs = {"random_state": 4, "scatter": False}
    efeds = make_catalog(64, survey="efeds", **kwargs)
    erass1 = make_catalog(64, survey=replace(get_survey("erass1")), **kwargs)
    ratio = erass1["mu_soft_r500"] / efeds["mu_soft_r500"]
    np.testing.assert_allclose(ratio, 200.0 / 1200.0)


def test_erosita_temperature_scale_matches_the_published_ratios():
    # Migkas et al. 2024 (arXiv:2401.17297), full band against XMM-Newton/EPIC:
    # eROSITA measures 14% lower at ~3 keV and 32% lower at ~10 keV, milder for groups.
    from sk_clustermass.simulate import erosita_temperature_kev

    kt = np.array([0.5, 1.0, 3.0, 10.0])
    converted = erosita_temperature_kev(kt)
    assert converted[2] / 3.0 == pytest.approx(0.86, abs=1e-9)
    assert converted[3] / 10.0 == pytest.approx(0.68, abs=1e-9)
    assert np.all(converted <= kt) and np.all(np.diff(converted) > 0)
    assert converted[0] == pytest.approx(0.5)  # cool groups: no shift


def _light_cone_deg2(cosmo, spectrum, log_mass_range, z_range=(0.01, 1.5)):
    """Haloes per deg^2 from the Tinker et al. (2008) mass function, integrated here."""
    import astropy.units as u

    z = np.linspace(*z_range, 301)
    ln_m = np.log(10.0) * np.linspace(*log_mass_range, 81)
    density = mass_function_dn_dlnm(np.exp(ln_m)[None, :], z[:, None], cosmo, spectrum)
    volume = cosmo.differential_comoving_volume(z).to_value(u.Mpc**3 / u.deg**2)
    return np.trapezoid(np.trapezoid(density, ln_m, axis=1) * volume, z)


def test_a_higher_sigma8_cosmology_gives_more_massive_clusters_per_deg2():
    from astropy.cosmology import FlatLambdaCDM

    from sk_clustermass.datasets import make_catalog, parent_density_deg2
    from sk_clustermass.simulate import DEFAULT_COSMOLOGY, LinearPowerSpectrum

    # eRASS1 cluster abundances: Omega_m 0.29, sigma8 0.88 (Ghirardini et al. 2024).
    erass1 = {"cosmology": FlatLambdaCDM(H0=70.0, Om0=0.29),
              "power_spectrum": LinearPowerSpectrum(sigma8=0.88)}
    default = {"cosmology": DEFAULT_COSMOLOGY, "power_spectrum": LinearPowerSpectrum()}
    massive = (14.5, 15.5)
    expected = {name: _light_cone_deg2(c["cosmology"], c["power_spectrum"], massive)
                for name, c in (("erass1", erass1), ("default", default))}
    simulated = {"erass1": parent_density_deg2("efeds_survey", mass_range=massive, **erass1),
                 "default": parent_density_deg2("efeds_survey", mass_range=massive)}
    for name in expected:
        assert simulated[name] == pytest.approx(expected[name], rel=0.01)
    # sigma8 up by 7% at nearly the same Omega_m: 1.7x more haloes above 10^14.5 Msun.
    assert expected["erass1"] / expected["default"] == pytest.approx(1.69, abs=0.03)
    # The drawn parents follow: the share above 10^14.5 among those above 10^14 grows
    # as the light-cone integrals say (8192 parents each: ~4% statistical error).
    for name, cosmology in (("erass1", erass1), ("default", {})):
        catalog = make_catalog(8192, survey="efeds_survey", random_state=0,
                               mass_range=(14.0, 15.5), **cosmology)
        share = (catalog["log10_M500c"] > 14.5).mean()
        c = erass1 if name == "erass1" else default
        predicted = expected[name] / _light_cone_deg2(c["cosmology"], c["power_spectrum"],
                                                      (14.0, 15.5))
        assert share == pytest.approx(predicted, rel=0.12)
