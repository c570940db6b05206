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

from dataclasses import dataclass, field, replace

import numpy as np
from astropy.cosmology import FLRW

from ._agn import (
    AGNPopulation,
    agn_cumulative_density_deg2,
    agn_flux_from_quantile,
    agn_mean_flux_deg2,
    central_agn_flux_erg_s_cm2,
    draw_central_agn,
    draw_field_agn,
)
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
from ._massfunction import LinearPowerSpectrum, halo_density_deg2, sample_mass_function
from ._morphology import Morphology, core_excised_share, draw_morphology
from ._profiles import GasProfile, convolve_psf, render_beta_images
from ._random import OBSERVATION, POPULATION, SELECTION, BlockRandom
from ._scaling import (
    ScalingRelations,
    correlated_log10_scatter,
    luminosity_0p1_2p4_erg_s,
    temperature_kev,
)
from ._selection import ESASSSelection, select_sources
from ._spectrum import band_response, k_correction, powerlaw_count_rates, thermal_count_rates

__all__ = [
    "SAMPLINGS",
    "SimulationConfig",
    "draw_population",
    "parent_density_deg2",
    "simulate_chunk",
]

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
    morphology: Morphology | None = None
    selection: ESASSSelection | None = None
    contaminants: bool = False

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
    draws = {"uniform": uniform, "normal": normal, "shape": shape_uniform, "central": central}
    if config.morphology is not None:  # drawn after the others: their streams are unchanged
        draws["morph_u"] = rand.apply(lambda rng, size: rng.random((size, 5)))
        draws["morph_n"] = rand.apply(lambda rng, size: rng.standard_normal((size, 4)))
    return draws


def _contaminant_probability(config: SimulationConfig) -> float:
    """Share of parents that are point sources: their density over all parents'."""
    if not config.contaminants:
        return 0.0
    agn = replace(config.agn, min_flux=config.selection.contaminant_min_flux)
    n_low, n_high = agn_cumulative_density_deg2([agn.min_flux, agn.max_flux], agn)
    points = float(n_low - n_high)
    haloes = halo_density_deg2(config.mass_range, config.redshift_range, config.cosmology,
                               config.power_spectrum)
    return points / (points + haloes)


def parent_density_deg2(config: SimulationConfig) -> float:
    """Sky density that one parent of the simulation stands for, per deg^2.

    Haloes in the mass and redshift ranges (``sampling='mass-function'`` only) plus,
    with contaminants, the point sources that could pass the selection. Multiply by
    the detected fraction of the parents for the density of detected sources.

    Examples
    --------
    >>> config = SimulationConfig(sampling="mass-function")
    >>> round(parent_density_deg2(config))
    506
    """
    haloes = halo_density_deg2(config.mass_range, config.redshift_range, config.cosmology,
                               config.power_spectrum)
    return haloes / (1.0 - _contaminant_probability(config))


def _draw_points(rand: BlockRandom | None, config: SimulationConfig, n: int) -> dict:
    """Which parents are point sources, their flux and index, and the selection noise."""
    if rand is None:
        return {"is_point": np.zeros(n, dtype=bool), "flux": np.zeros(n),
                "photon_index": np.zeros(n)}
    uniform = rand.apply(lambda rng, size: rng.random((size, 3)))
    normal = rand.apply(lambda rng, size: rng.standard_normal((size, 2)))
    agn = replace(config.agn, min_flux=config.selection.contaminant_min_flux)
    low, high = agn.photon_index_range
    is_point = uniform[:, 0] < _contaminant_probability(config)
    return {
        "is_point": is_point,
        "flux": np.where(is_point, agn_flux_from_quantile(uniform[:, 1], agn), 0.0),
        "photon_index": low + (high - low) * uniform[:, 2],
        "mismatch_normal": normal[:, 0],
        "extent_normal": normal[:, 1],
    }


def _gas_structure(draws: dict, z: np.ndarray, config: SimulationConfig) -> dict:
    """Core radius, shape, offset and the second gas component of every cluster."""
    gas, normal, shape_uniform = config.gas, draws["normal"], draws["shape"]
    if config.morphology is None:
        lx_normal = (config.relations.rho_kt_lx * normal[:, 0]
                     + np.sqrt(1.0 - config.relations.rho_kt_lx**2) * normal[:, 1])
        rho = gas.rc_lx_correlation
        rc_normal = rho * lx_normal + np.sqrt(1.0 - rho**2) * normal[:, 3]
        q_low, q_high = gas.b_to_a_range
        n = len(z)
        return {
            "rc_over_r500": gas.rc_median_r500 * np.exp(gas.rc_scatter_ln * rc_normal),
            "b_to_a": q_low + (q_high - q_low) * shape_uniform[:, 0],
            "xoff_r500": gas.xoff_median_r500 * np.exp(gas.xoff_scatter_ln * normal[:, 4]),
            "dlog10_lx": np.zeros(n), "second_ratio": np.zeros(n), "clump_r500": np.zeros(n),
            "morphology_class": np.ones(n, dtype=np.int8),
        }
    beta = np.clip(config.gas.beta_mean + config.gas.beta_sd * draws["normal"][:, 2],
                   *config.gas.beta_range)
    parts = draw_morphology(z, draws["morph_u"], draws["morph_n"], config.morphology, beta)
    parts["clump_angle"] = 2.0 * np.pi * draws["morph_u"][:, 3]
    return parts




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
    selection_rand = BlockRandom(root, first, n, SELECTION) if config.selection else None
    point = _draw_points(selection_rand, config, n)

    structure = _gas_structure(draws, z, config)
    scatter_rel = (rel if config.morphology is None
                   else replace(rel, sigma_log10_lx=config.morphology.sigma_log10_lx_ce))
    d_log_kt, d_log_lx = correlated_log10_scatter(normal[:, :2], scatter_rel)
    d_log_lx = d_log_lx + structure["dlog10_lx"]
    if not config.scatter:
        d_log_kt, d_log_lx = np.zeros(n), np.zeros(n)
    kt = temperature_kev(mass, ez, rel) * 10.0**d_log_kt
    lx_wide = luminosity_0p1_2p4_erg_s(mass, ez, rel) * 10.0**d_log_lx * ~point["is_point"]
    lx_soft = rel.soft_band_fraction * lx_wide

    beta = np.clip(gas.beta_mean + gas.beta_sd * normal[:, 2], *gas.beta_range)
    rc_over_r500, b_to_a = structure["rc_over_r500"], structure["b_to_a"]
    ratio = structure["second_ratio"]
    angle = np.pi * shape_uniform[:, 1]
    xoff_r500 = structure["xoff_r500"] * ~point["is_point"]
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
    has_central = central["has_agn"] | point["is_point"]
    central_flux = np.where(point["is_point"], point["flux"], central_flux)
    gamma = np.where(point["is_point"], point["photon_index"], central["photon_index"])
    central_band = (
        central_flux[:, None] * powerlaw_count_rates(gamma, response) * t_vig[:, None]
    )
    background = background_counts_per_pixel(
        config.band_edges_kev, survey, t_vig, t_unvig, config.agn
    )

    pixel_arcmin = survey.pixel_arcsec / 60.0
    centre = (config.image_size - 1) / 2.0
    xoff_pix = xoff_r500 * theta500 / pixel_arcmin
    x_pix = centre + xoff_pix * np.cos(xoff_direction)
    y_pix = centre + xoff_pix * np.sin(xoff_direction)
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
        "x_pix": x_pix,
        "y_pix": y_pix,
        "exposure_s": t_unvig,
        "exposure_vignetted_s": t_vig,
        "central_agn": has_central,
        "Lx_central_agn": np.where(point["is_point"], 0.0, central["lx_erg_s"]),
        "mu_soft_r500": mu_soft,
        "mu_cluster_r500": mu_band.sum(axis=1),
        **{f"mu_cluster_band_{i}": mu_band[:, i] for i in range(config.n_bands)},
        "mu_central_agn": central_band.sum(axis=1),
        "mu_background_pixel": background.sum(axis=1),
        "_mu_band": mu_band,
        "_central_band": central_band,
        "_background": background,
        "_angle": angle,
        "_second_ratio": ratio,
    }
    if config.morphology is not None:
        m = config.morphology
        second_rc = np.where(structure["morphology_class"] == 0, m.cusp_rc_r500, m.clump_rc_r500)
        second_ce = np.where(structure["morphology_class"] == 0,
                             core_excised_share(second_rc, np.full(n, 2.0 / 3.0)), 1.0)
        ce = (core_excised_share(rc_over_r500, beta) + ratio * second_ce) / (1.0 + ratio)
        clump_pix = structure["clump_r500"] * theta500 / pixel_arcmin
        columns.update(
            morphology_class=np.where(point["is_point"], -1, structure["morphology_class"]),
            second_ratio=ratio,
            Lx_soft_ce=lx_soft * ce,
            _second_rc_r500=second_rc,
            _second_x=x_pix + clump_pix * np.cos(structure["clump_angle"]),
            _second_y=y_pix + clump_pix * np.sin(structure["clump_angle"]),
        )
    if config.selection is not None:
        agn_rate = (agn_mean_flux_deg2(config.agn) / 3600.0
                    * float(powerlaw_count_rates(_GAMMA_0, response).sum()))
        columns.update(select_sources(columns, point, selection_rand, config.selection,
                                      survey, agn_rate))
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


#: Cluster-truth columns that are NaN for contaminants (point sources, not clusters).
_TRUTH_COLUMNS = (
    "M500c", "log10_M500c", "R500c_kpc", "R500c_arcmin", "kT", "Lx_0p1_2p4", "Lx_soft",
    "Fx_soft", "k_correction_soft", "beta", "rc_over_r500", "rc_arcmin", "b_to_a",
    "position_angle_deg", "Xoff_kpc", "Xoff_arcmin", "second_ratio", "Lx_soft_ce",
)


def _public_columns(population: dict, names: list[str]) -> dict[str, np.ndarray]:
    public = {name: population[name] for name in names}
    if "is_contaminant" in public and public["is_contaminant"].any():
        point = public["is_contaminant"]
        for name in _TRUTH_COLUMNS:
            if name in public:
                public[name] = np.where(point, np.nan, public[name])
    return public


def _render_gas(population: dict, config: SimulationConfig) -> np.ndarray:
    """The gas map of every cluster: ambient component plus cusp or clump, (n, size, size)."""
    size = config.image_size
    theta500_pix = population["R500c_arcmin"] / (config.survey.pixel_arcsec / 60.0)
    common = {"truncation_r500": config.gas.truncation_r500, "oversample": config.oversample}
    cluster = render_beta_images(
        population["x_pix"], population["y_pix"], population["rc_over_r500"] * theta500_pix,
        population["beta"], population["b_to_a"], population["_angle"], theta500_pix,
        (size, size), **common,
    )
    ratio = population["_second_ratio"]
    rows = np.flatnonzero(ratio > 0)
    if rows.size:
        second = render_beta_images(
            population["_second_x"][rows], population["_second_y"][rows],
            population["_second_rc_r500"][rows] * theta500_pix[rows],
            np.full(rows.size, 2.0 / 3.0), population["b_to_a"][rows],
            population["_angle"][rows], theta500_pix[rows], (size, size), **common,
        )
        weight = (ratio[rows] / (1.0 + ratio[rows])).astype(np.float32)[:, None, None]
        cluster[rows] = cluster[rows] * (1.0 - weight) + second * weight
    return cluster


def simulate_chunk(
    root: np.random.SeedSequence, first: int, n: int, config: SimulationConfig,
    *, render: bool = True, return_expected: bool = False, detected_only: bool = False,
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
    detected_only : bool, default=False
        With the eSASS-like selection (decided before rendering), render and return
        the detected parents only; ignored otherwise.

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
    names = catalog_column_names(config.n_bands, False, config.morphology is not None,
                                 config.selection is not None)
    rand = BlockRandom(root, first, n, OBSERVATION)
    if render and detected_only and config.selection is not None:
        keep = population["detected"]
        population = {key: value[keep] for key, value in population.items()}
        rand, n = rand.subset(keep), int(keep.sum())
    public = _public_columns(population, names)
    if not render:
        return {"catalog": public}
    survey, size = config.survey, config.image_size
    pixel_arcmin = survey.pixel_arcsec / 60.0
    area_deg2 = (size * pixel_arcmin / 60.0) ** 2
    field_agn = rand.apply(lambda rng, block: draw_field_agn(rng, block, area_deg2, config.agn))
    t_vig = population["exposure_vignetted_s"]
    cluster = _render_gas(population, config)
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
        detected=population["detected"] if config.selection else net >= config.min_net_counts,
    )
    result = {"catalog": public, "images": images}
    if return_expected:
        result["expected"] = expected
    return result
