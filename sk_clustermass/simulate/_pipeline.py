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

import numpy as np

from ._agn import draw_field_agn
from ._columns import catalog_column_names
from ._cutout import exposure_tilt
from ._population import (
    _GAMMA_0,
    SAMPLINGS,
    SimulationConfig,
    draw_population,
    parent_density_deg2,
)
from ._profiles import convolve_psf, render_beta_images
from ._random import OBSERVATION, BlockRandom
from ._spectrum import band_response, powerlaw_count_rates

__all__ = [
    "SAMPLINGS",
    "SimulationConfig",
    "draw_population",
    "parent_density_deg2",
    "simulate_chunk",
]


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
                                 config.selection is not None, config.cutout_effects)
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
    tilt = None
    if config.exposure_gradient:
        tilt = exposure_tilt(population["_exposure_gradient"], size, survey.pixel_arcsec)
        expected *= tilt[:, None]
    images = rand.poisson(expected)

    radius_arcmin = np.clip(
        survey.aperture_r500 * population["R500c_arcmin"],
        survey.aperture_min_arcmin, survey.aperture_max_arcmin,
    )
    masks = _aperture_masks(radius_arcmin / pixel_arcmin, size)
    agn_map = maps[:, 1] * rate0.sum() + maps[:, 2] * rate1.sum()
    weights = masks if tilt is None else masks * tilt
    background_ap = (
        population["mu_background_pixel"] * weights.sum(axis=(1, 2))
        + (agn_map * weights).sum(axis=(1, 2))
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
