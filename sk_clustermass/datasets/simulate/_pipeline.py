"""One chunk of the simulation: population, expected counts, images, Poisson, detection.

:func:`simulate_chunk` is the unit of work :func:`make_clusters` hands to joblib. It is
vectorised over the clusters of the chunk (no per-cluster Python loop): the only loops
run over the seed blocks of :mod:`._random` (64 clusters each) for the random draws.

The expected-count cube of a cluster image is a sum of separable terms, each a
spatial map times a spectrum over bands::

    mu[b, y, x] = cluster_map[y, x] mu_cluster[b]              (beta model (x) PSF)
                + agn_map_0[y, x] r_agn(Gamma_0)[b]             (field AGN (x) PSF)
                + agn_map_1[y, x] dr_agn/dGamma(Gamma_0)[b]     (photon-index spread)
                + central_map[y, x] mu_central[b]               (shifted PSF kernel)
                + background[b]

so the PSF is applied by FFT to three maps per cluster rather than to every band.
The field AGN spectra enter through a first-order expansion in the photon index
around Gamma_0 = 1.9, exact to <0.5% per band for Gamma in 1.8–2.0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from astropy.cosmology import FLRW

from ._agn import AGNPopulation, central_agn_flux_erg_s_cm2, draw_central_agn, draw_field_agn
from ._background import background_counts_per_pixel
from ._columns import catalog_column_names
from ._cosmology import (
    DEFAULT_COSMOLOGY,
    efunc,
    kpc_per_arcmin,
    luminosity_distance_cm,
    r500_kpc,
)
from ._instrument import DEFAULT_BAND_EDGES_KEV, Survey, get_survey
from ._massfunction import LinearPowerSpectrum, sample_mass_function
from ._profiles import GasProfile, convolve_psf, render_beta_images
from ._random import OBSERVATION, POPULATION, BlockRandom
from ._scaling import (
    ScalingRelations,
    correlated_log10_scatter,
    luminosity_0p1_2p4_erg_s,
    temperature_kev,
)
from ._spectrum import band_response, k_correction, powerlaw_count_rates, thermal_count_rates

__all__ = ["SAMPLINGS", "SimulationConfig", "draw_population", "simulate_chunk"]

#: The mass and redshift sampling modes.
SAMPLINGS = ("log-uniform", "mass-function")
_GAMMA_0 = 1.9
_MPC_CM = 3.0856775814913673e24


@dataclass(frozen=True, eq=False)
class SimulationConfig:
    """Everything that defines a simulation except the random state and the size.

    Built and validated by :func:`~sk_clustermass.datasets._make_clusters.make_clusters`;
    see its docstring for the meaning of each field.

    Examples
    --------
    >>> config = SimulationConfig()
    >>> config.n_bands, config.survey.name, config.sampling
    (10, 'efeds', 'log-uniform')
    """

    survey: Survey = field(default_factory=lambda: get_survey("efeds"))
    relations: ScalingRelations = field(default_factory=ScalingRelations)
    gas: GasProfile = field(default_factory=GasProfile)
    agn: AGNPopulation = field(default_factory=AGNPopulation)
    cosmology: FLRW = field(default_factory=lambda: DEFAULT_COSMOLOGY)
    power_spectrum: LinearPowerSpectrum = field(default_factory=LinearPowerSpectrum)
    band_edges_kev: tuple[float, ...] = DEFAULT_BAND_EDGES_KEV
    image_size: int = 50
    mass_range: tuple[float, float] = (13.0, 15.0)
    redshift_range: tuple[float, float] = (0.01, 1.5)
    sampling: str = "log-uniform"
    scatter: bool = True
    min_net_counts: float = 14.0
    oversample: int = 2

    @property
    def n_bands(self) -> int:
        """Number of energy bands."""
        return len(self.band_edges_kev) - 1


def _sample_mass_redshift(
    uniform: np.ndarray, config: SimulationConfig
) -> tuple[np.ndarray, np.ndarray]:
    (m_low, m_high), (z_low, z_high) = config.mass_range, config.redshift_range
    if config.sampling == "log-uniform":
        log_mass = m_low + (m_high - m_low) * uniform[:, 0]
        z = z_low + (z_high - z_low) * uniform[:, 1]
        return log_mass, z
    return sample_mass_function(
        uniform[:, 1], uniform[:, 0], config.mass_range, config.redshift_range,
        config.cosmology, config.power_spectrum,
    )


def _draw_structure(rand: BlockRandom, config: SimulationConfig, n: int) -> dict:
    """All population random numbers, drawn in a fixed order for whole blocks."""
    uniform = rand.apply(lambda rng, size: rng.random((size, 2)))
    normal = rand.apply(lambda rng, size: rng.standard_normal((size, 6)))
    shape_uniform = rand.apply(lambda rng, size: rng.random((size, 3)))
    central = rand.apply(lambda rng, size: draw_central_agn(rng, size, config.agn))
    return {"uniform": uniform, "normal": normal, "shape": shape_uniform, "central": central}


def draw_population(
    root: np.random.SeedSequence, first: int, n: int, config: SimulationConfig
) -> dict[str, np.ndarray]:
    """Cluster properties and expected counts for clusters ``first .. first + n - 1``.

    Returns
    -------
    dict of ndarray of shape (n,) or (n, n_bands)
        The catalogue columns that need no image (see ``_columns``), plus private
        entries (leading underscore) the rendering step uses.

    Examples
    --------
    >>> import numpy as np
    >>> population = draw_population(np.random.SeedSequence(0), 0, 5, SimulationConfig())
    >>> population["kT"].shape, population["_mu_band"].shape
    ((5,), (5, 10))
    """
    rel, gas, survey = config.relations, config.gas, config.survey
    draws = _draw_structure(BlockRandom(root, first, n, POPULATION), config, n)
    normal, shape_uniform = draws["normal"], draws["shape"]
    log_mass, z = _sample_mass_redshift(draws["uniform"], config)
    mass = 10.0**log_mass
    ez = efunc(z, config.cosmology)
    r500 = r500_kpc(mass, z, config.cosmology)
    kpc_arcmin = kpc_per_arcmin(z, config.cosmology)
    theta500 = r500 / kpc_arcmin
    dl_cm = luminosity_distance_cm(z, config.cosmology)

    d_log_kt, d_log_lx = correlated_log10_scatter(normal[:, :2], rel)
    if not config.scatter:
        d_log_kt, d_log_lx = np.zeros(n), np.zeros(n)
    kt = temperature_kev(mass, ez, rel) * 10.0**d_log_kt
    lx_wide = luminosity_0p1_2p4_erg_s(mass, ez, rel) * 10.0**d_log_lx
    lx_soft = rel.soft_band_fraction * lx_wide

    beta = np.clip(gas.beta_mean + gas.beta_sd * normal[:, 2], *gas.beta_range)
    lx_normal = rel.rho_kt_lx * normal[:, 0] + np.sqrt(1.0 - rel.rho_kt_lx**2) * normal[:, 1]
    rho = gas.rc_lx_correlation
    rc_normal = rho * lx_normal + np.sqrt(1.0 - rho**2) * normal[:, 3]
    rc_over_r500 = gas.rc_median_r500 * np.exp(gas.rc_scatter_ln * rc_normal)
    q_low, q_high = gas.b_to_a_range
    b_to_a = q_low + (q_high - q_low) * shape_uniform[:, 0]
    angle = np.pi * shape_uniform[:, 1]
    xoff_r500 = gas.xoff_median_r500 * np.exp(gas.xoff_scatter_ln * normal[:, 4])
    xoff_direction = 2.0 * np.pi * shape_uniform[:, 2]
    spread = np.exp(survey.exposure_scatter_ln * normal[:, 5]) if config.scatter else np.ones(n)
    t_vig = survey.exposure_vignetted_s * spread
    t_unvig = survey.exposure_unvignetted_s * spread

    response = band_response(config.band_edges_kev, survey.nh_cm2, survey.effective_area)
    soft = band_response((0.5, 2.0), survey.nh_cm2, survey.effective_area)
    mu_band = thermal_count_rates(lx_soft, kt, z, dl_cm, response) * t_vig[:, None]
    mu_soft = thermal_count_rates(lx_soft, kt, z, dl_cm, soft)[:, 0] * t_vig
    k_soft = k_correction(kt, z)
    central = draws["central"]
    central_flux = central_agn_flux_erg_s_cm2(central["lx_erg_s"], central["photon_index"], z,
                                              dl_cm)
    central_band = (
        central_flux[:, None] * powerlaw_count_rates(central["photon_index"], response)
        * t_vig[:, None]
    )
    background = background_counts_per_pixel(
        config.band_edges_kev, survey, t_vig, t_unvig, config.agn
    )

    pixel_arcmin = survey.pixel_arcsec / 60.0
    centre = (config.image_size - 1) / 2.0
    xoff_pix = xoff_r500 * theta500 / pixel_arcmin
    columns = {
        "sim_id": np.arange(first, first + n, dtype=np.int64),
        "z": z,
        "M500c": mass,
        "log10_M500c": log_mass,
        "R500c_kpc": r500,
        "R500c_arcmin": theta500,
        "E_z": ez,
        "dL_Mpc": dl_cm / _MPC_CM,
        "kT": kt,
        "Lx_0p1_2p4": lx_wide,
        "Lx_soft": lx_soft,
        "Fx_soft": lx_soft / (4.0 * np.pi * dl_cm**2) / k_soft,
        "k_correction_soft": k_soft,
        "beta": beta,
        "rc_over_r500": rc_over_r500,
        "rc_arcmin": rc_over_r500 * theta500,
        "b_to_a": b_to_a,
        "position_angle_deg": np.degrees(angle),
        "Xoff_kpc": xoff_r500 * r500,
        "Xoff_arcmin": xoff_r500 * theta500,
        "x_pix": centre + xoff_pix * np.cos(xoff_direction),
        "y_pix": centre + xoff_pix * np.sin(xoff_direction),
        "exposure_s": t_unvig,
        "exposure_vignetted_s": t_vig,
        "central_agn": central["has_agn"],
        "Lx_central_agn": central["lx_erg_s"],
        "mu_soft_r500": mu_soft,
        "mu_cluster_r500": mu_band.sum(axis=1),
        **{f"mu_cluster_band_{i}": mu_band[:, i] for i in range(config.n_bands)},
        "mu_central_agn": central_band.sum(axis=1),
        "mu_background_pixel": background.sum(axis=1),
        "_mu_band": mu_band,
        "_central_band": central_band,
        "_background": background,
        "_angle": angle,
    }
    return columns


def _point_source_maps(
    agn: dict[str, np.ndarray], t_vig: np.ndarray, size: int
) -> np.ndarray:
    """Field AGN as weighted delta functions: (n, 2, size, size) for Gamma_0 and slope."""
    n = len(t_vig)
    rows = np.minimum((agn["y_frac"] * size).astype(np.int64), size - 1)
    cols = np.minimum((agn["x_frac"] * size).astype(np.int64), size - 1)
    flat = (np.arange(n)[:, None] * size + rows) * size + cols
    weight = agn["flux"] * t_vig[:, None] * agn["valid"]
    slope = weight * (agn["photon_index"] - _GAMMA_0)
    maps = np.empty((n, 2, size, size), dtype=np.float32)
    for k, values in enumerate((weight, slope)):
        maps[:, k] = np.bincount(flat.ravel(), values.ravel(), minlength=n * size * size).reshape(
            n, size, size
        )
    return maps


def _shifted_kernel(kernel: np.ndarray, rows: np.ndarray, cols: np.ndarray, size: int):
    """The PSF kernel centred on pixel (rows[i], cols[i]) of each image: (n, size, size).

    Centres may lie outside the image; beyond the kernel's reach the map is zero.
    """
    half = kernel.shape[0] // 2
    pad = size + 1
    padded = np.zeros((kernel.shape[0] + 2 * pad, kernel.shape[1] + 2 * pad), np.float32)
    padded[pad : pad + kernel.shape[0], pad : pad + kernel.shape[1]] = kernel
    rows = np.clip(rows, -half - 1, size + half)
    cols = np.clip(cols, -half - 1, size + half)
    grid = np.arange(size)
    y = (grid[None, :] - rows[:, None]) + half + pad
    x = (grid[None, :] - cols[:, None]) + half + pad
    return padded[y[:, :, None], x[:, None, :]]


def _aperture_masks(radius_pix: np.ndarray, size: int) -> np.ndarray:
    offset = np.arange(size) - (size - 1) / 2.0
    r2 = offset[:, None] ** 2 + offset[None, :] ** 2
    return r2[None] <= radius_pix[:, None, None] ** 2


def simulate_chunk(
    root: np.random.SeedSequence, first: int, n: int, config: SimulationConfig,
    *, render: bool = True, return_expected: bool = False,
) -> dict:
    """Simulate clusters ``first .. first + n - 1``.

    Parameters
    ----------
    root : numpy.random.SeedSequence
        Root of all random streams (from the ``random_state``).
    first : int
        Index of the first cluster, a multiple of the seed block.
    n : int
        Number of clusters.
    config : SimulationConfig
    render : bool, default=True
        Render images, draw photons and apply the detection; otherwise return the
        catalogue columns only.
    return_expected : bool, default=False
        Also return the expected-count cube (for benchmarks and tests).

    Returns
    -------
    dict
        ``"catalog"``: dict of catalogue columns; with ``render``, ``"images"``
        float32 (n, n_bands, size, size) Poisson counts; with ``return_expected``,
        ``"expected"`` float64 of the same shape.

    Examples
    --------
    >>> import numpy as np
    >>> chunk = simulate_chunk(np.random.SeedSequence(0), 64, 3, SimulationConfig(),
    ...                        return_expected=True)
    >>> chunk["images"].shape, chunk["expected"].dtype, chunk["catalog"]["sim_id"].tolist()
    ((3, 10, 50, 50), dtype('float64'), [64, 65, 66])
    """
    population = draw_population(root, first, n, config)
    public = {name: population[name] for name in catalog_column_names(config.n_bands, False)}
    if not render:
        return {"catalog": public}
    survey, size = config.survey, config.image_size
    pixel_arcmin = survey.pixel_arcsec / 60.0
    area_deg2 = (size * pixel_arcmin / 60.0) ** 2
    rand = BlockRandom(root, first, n, OBSERVATION)
    field_agn = rand.apply(lambda rng, block: draw_field_agn(rng, block, area_deg2, config.agn))
    t_vig = population["exposure_vignetted_s"]
    theta500_pix = population["R500c_arcmin"] / pixel_arcmin
    cluster = render_beta_images(
        population["x_pix"], population["y_pix"], population["rc_over_r500"] * theta500_pix,
        population["beta"], population["b_to_a"], population["_angle"], theta500_pix,
        (size, size), truncation_r500=config.gas.truncation_r500, oversample=config.oversample,
    )
    maps = np.concatenate([cluster[:, None], _point_source_maps(field_agn, t_vig, size)], axis=1)
    kernel = survey.psf_kernel()
    maps = convolve_psf(maps, kernel.astype(np.float32))
    central = _shifted_kernel(
        kernel, np.rint(population["y_pix"]).astype(np.int64),
        np.rint(population["x_pix"]).astype(np.int64), size,
    )
    central *= population["central_agn"][:, None, None]

    response = band_response(config.band_edges_kev, survey.nh_cm2, survey.effective_area)
    step = 1e-3
    rate0 = powerlaw_count_rates(_GAMMA_0, response)
    rate1 = (
        powerlaw_count_rates(_GAMMA_0 + step, response)
        - powerlaw_count_rates(_GAMMA_0 - step, response)
    ) / (2.0 * step)
    spatial = np.concatenate([maps, central[:, None]], axis=1).reshape(n, 4, size * size)
    spectral = np.stack(
        [
            population["_mu_band"],
            np.broadcast_to(rate0, (n, config.n_bands)),
            np.broadcast_to(rate1, (n, config.n_bands)),
            population["_central_band"],
        ],
        axis=2,
    )
    expected = np.matmul(spectral, spatial.astype(np.float64))
    expected += population["_background"][:, :, None]
    np.maximum(expected, 0.0, out=expected)
    expected = expected.reshape(n, config.n_bands, size, size)
    images = rand.poisson(expected)

    radius_arcmin = np.clip(
        survey.aperture_r500 * population["R500c_arcmin"],
        survey.aperture_min_arcmin, survey.aperture_max_arcmin,
    )
    masks = _aperture_masks(radius_arcmin / pixel_arcmin, size)
    agn_map = maps[:, 1] * rate0.sum() + maps[:, 2] * rate1.sum()
    background_ap = (
        population["mu_background_pixel"] * masks.sum(axis=(1, 2))
        + (agn_map * masks).sum(axis=(1, 2))
    )
    counts_ap = (images.sum(axis=1) * masks).sum(axis=(1, 2))
    band_counts = images.sum(axis=(2, 3), dtype=np.float64)
    net = counts_ap - background_ap
    public.update(
        n_agn=field_agn["n_agn"],
        mu_cluster_image=maps[:, 0].sum(axis=(1, 2)) * population["_mu_band"].sum(axis=1),
        mu_agn_image=agn_map.sum(axis=(1, 2)),
        **{f"counts_band_{i}": band_counts[:, i] for i in range(config.n_bands)},
        counts_total=band_counts.sum(axis=1),
        aperture_arcmin=radius_arcmin,
        counts_aperture=counts_ap.astype(np.float64),
        background_aperture=background_ap,
        net_counts=net,
        detected=net >= config.min_net_counts,
    )
    result = {"catalog": public, "images": images}
    if return_expected:
        result["expected"] = expected
    return result
