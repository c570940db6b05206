"""The simulated population: masses, redshifts, scaling relations, gas, exposure, selection.

:func:`draw_population` gives every catalogue column that needs no image for a chunk
of parents, from the population random stream (and the selection stream when the
eSASS-like selection is on): the contaminant draw, the mass and redshift, the
temperature and luminosity with their scatter (through the morphology model when
there is one), the gas geometry, the exposure, the expected counts per band of the
cluster, its central AGN and the background, and the selection likelihoods.
:class:`SimulationConfig` holds every setting; :func:`parent_density_deg2` says how
many objects per deg^2 one parent stands for.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from astropy.cosmology import FLRW

from ..instrument import DEFAULT_BAND_EDGES_KEV
from ._agn import (
    AGNPopulation,
    agn_cumulative_density_deg2,
    agn_flux_from_quantile,
    agn_mean_flux_deg2,
    central_agn_flux_erg_s_cm2,
    draw_central_agn,
)
from ._background import background_counts_per_pixel
from ._cosmology import (
    DEFAULT_COSMOLOGY,
    efunc,
    kpc_per_arcmin,
    luminosity_distance_cm,
    r500_kpc,
)
from ._counterpart import chance_counterpart, contamination_probability
from ._cutout import detection_centroid_offset, optical_centre_offset
from ._massfunction import LinearPowerSpectrum, halo_density_deg2, sample_mass_function
from ._morphology import Morphology, core_excised_share, draw_morphology
from ._profiles import GasProfile
from ._random import COUNTERPART, CUTOUT, POPULATION, SELECTION, BlockRandom
from ._scaling import (
    ScalingRelations,
    correlated_log10_scatter,
    luminosity_0p1_2p4_erg_s,
    temperature_kev,
)
from ._selection import ESASSSelection, select_sources
from ._spectrum import (
    band_response,
    bremsstrahlung_band_energy,
    k_correction,
    powerlaw_count_rates,
    thermal_count_rates,
)
from ._survey import Survey, get_survey

__all__ = [
    "SAMPLINGS",
    "SimulationConfig",
    "draw_population",
    "parent_density_deg2",
]

#: The mass and redshift sampling modes.
SAMPLINGS = ("log-uniform", "mass-function")
_GAMMA_0 = 1.9
_MPC_CM = 3.0856775814913673e24


@dataclass(frozen=True, eq=False)
class SimulationConfig:
    """Everything that defines a simulation except the random state and the size.

    Built and validated by :func:`~sk_clustermass.simulate.make_clusters`;
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
    centre_on: str = "truth"
    exposure_gradient: bool = False

    @property
    def cutout_effects(self) -> bool:
        """True when cut-outs are centred off the truth or carry an exposure gradient."""
        return self.centre_on != "truth" or self.exposure_gradient

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
    selection_rand = BlockRandom(root, first, n, SELECTION) if config.selection else None
    point = _draw_points(selection_rand, config, n)
    if config.contaminants:
        counterpart = _counterparts(BlockRandom(root, first, n, COUNTERPART), config,
                                    point["is_point"])
        z = np.where(point["is_point"], counterpart["z"], z)
        point["counterpart_f_cont"] = counterpart["f_cont"]
    mass = 10.0**log_mass
    ez = efunc(z, config.cosmology)
    r500 = r500_kpc(mass, z, config.cosmology)
    kpc_arcmin = kpc_per_arcmin(z, config.cosmology)
    theta500 = r500 / kpc_arcmin
    dl_cm = luminosity_distance_cm(z, config.cosmology)

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
    rest = bremsstrahlung_band_energy(0.5, 2.0, kt)  # shared by the three calls below
    mu_band = (thermal_count_rates(lx_soft, kt, z, dl_cm, response, rest_energy=rest)
               * t_vig[:, None])
    mu_soft = thermal_count_rates(lx_soft, kt, z, dl_cm, soft, rest_energy=rest)[:, 0] * t_vig
    k_soft = k_correction(kt, z, rest_energy=rest)
    central = draws["central"]
    central_flux = central_agn_flux_erg_s_cm2(central["lx_erg_s"], central["photon_index"], z,
                                              dl_cm)
    has_central = central["has_agn"] | point["is_point"]
    central_flux = np.where(point["is_point"], point["flux"], central_flux)
    gamma = np.where(point["is_point"], point["photon_index"], central["photon_index"])
    central_band = (
        central_flux[:, None] * _rates_where(central_flux != 0, gamma, response)
        * t_vig[:, None]
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
        columns["F_CONT"] = _f_cont(log_mass, z, point, config)
        max_f_cont = config.selection.confirmation.max_f_cont
        if max_f_cont is not None:
            columns["detected"] = columns["detected"] & (columns["F_CONT"] < max_f_cont)
    if config.cutout_effects:
        columns.update(_place_cutout(BlockRandom(root, first, n, CUTOUT), columns, config))
    return columns


def _counterparts(rand: BlockRandom, config: SimulationConfig,
                  is_point: np.ndarray) -> dict[str, np.ndarray]:
    """Redshift of the chance optical counterpart of the point sources, and their F_CONT."""
    uniform = rand.apply(lambda rng, size: rng.random((size, 3)))
    z = np.full(len(is_point), np.nan)
    if is_point.any():
        z[is_point] = chance_counterpart(uniform[is_point, :2], config.selection.confirmation,
                                         config.cosmology, config.power_spectrum)[0]
    return {"z": z, "f_cont": uniform[:, 2]}


def _f_cont(log_mass: np.ndarray, z: np.ndarray, point: dict,
            config: SimulationConfig) -> np.ndarray:
    """F_CONT: of a cluster from its mass; of a contaminant uniform (a null p-value)."""
    f_cont = contamination_probability(log_mass, z, config.selection.confirmation,
                                       config.cosmology, config.power_spectrum)
    if "counterpart_f_cont" in point:
        f_cont = np.where(point["is_point"], point["counterpart_f_cont"], f_cont)
    return f_cont


def _rates_where(needed: np.ndarray, gamma: np.ndarray, response) -> np.ndarray:
    """Power-law count rates of the rows that need them; zeros elsewhere (times a zero flux)."""
    rates = np.zeros((len(gamma), response.weights.shape[0]))
    rates[needed] = powerlaw_count_rates(gamma[needed], response)
    return rates


def _place_cutout(rand: BlockRandom, columns: dict, config: SimulationConfig) -> dict:
    """Centre the cut-out on the detected (or optical) position; draw its exposure gradient.

    Before this step the halo centre sits at the image centre. Centring on the
    detection moves every position by the detected position's offset from it;
    centring on the optical centre moves them further by the optical-to-X-ray offset.
    """
    normal = rand.apply(lambda rng, size: rng.standard_normal((size, 4)))
    survey, n = config.survey, len(normal)
    placed: dict[str, np.ndarray] = {
        "position_error_arcsec": np.zeros(n), "centre_offset_arcsec": np.zeros(n),
        "optical_offset_kpc": np.zeros(n),
    }
    if config.centre_on in ("detection", "optical"):
        offset = detection_centroid_offset(
            columns, normal[:, :2], psf_core_arcsec=survey.psf_core_arcsec,
            psf_alpha=survey.psf_alpha, pixel_arcsec=survey.pixel_arcsec,
            aperture_arcmin=config.selection.aperture_arcmin,
        )
        dx, dy = offset["dx"], offset["dy"]
        if config.centre_on == "optical":  # drawn last: the other draws stay unchanged
            uniform = rand.apply(lambda rng, size: rng.random((size, 3)))
            kpc_per_pixel = (columns["R500c_kpc"] / columns["R500c_arcmin"]
                             * survey.pixel_arcsec / 60.0)
            optical = optical_centre_offset(uniform, kpc_per_pixel,
                                            config.selection.confirmation)
            dx, dy = dx + optical["dx"], dy + optical["dy"]
            placed["optical_offset_kpc"] = optical["offset_kpc"]
        centre = (config.image_size - 1) / 2.0
        shift_x = columns["x_pix"] + dx - centre
        shift_y = columns["y_pix"] + dy - centre
        for name, shift in (("x_pix", shift_x), ("y_pix", shift_y),
                            ("_second_x", shift_x), ("_second_y", shift_y)):
            if name in columns:
                placed[name] = columns[name] - shift
        placed["position_error_arcsec"] = offset["sigma_arcsec"]
        placed["centre_offset_arcsec"] = np.hypot(shift_x, shift_y) * survey.pixel_arcsec
    gradient = np.zeros((n, 2))
    if config.exposure_gradient and config.scatter:
        gradient = normal[:, 2:] * survey.exposure_scatter_ln / survey.exposure_correlation_deg
    placed["exposure_gradient_per_deg"] = np.hypot(gradient[:, 0], gradient[:, 1])
    placed["_exposure_gradient"] = gradient
    return placed
