"""Cool cores, relaxed and disturbed clusters: morphology that carries the L_X scatter.

Pratt et al. (2009, A&A 498, 361) find that the scatter of the X-ray luminosity at
fixed mass is dominated by cool cores: cool-core systems lie on the bright side of
the mean relation, morphologically disturbed ones on the faint side, and excluding
the core (0.15–1 R500) cuts the scatter by more than half. This module gives each
cluster a dynamical class and splits its luminosity accordingly:

* class 0 **cool core** with probability ``f_cc(z) = cool_core_fraction /
  (1 + (z / cool_core_z_half)^2)``: cuspy centres become rarer at high redshift
  (Santos et al. 2010, A&A 521, A64; McDonald et al. 2013, ApJ 774, 23 find no
  classical cuspy cool core above z ~ 0.75);
* class 2 **disturbed** with probability ``disturbed_fraction`` (at most ``1 - f_cc``):
  more elongated, offset, with a larger core and a substructure clump;
* class 1 relaxed without a cool core, the rest.

The gas emission is the sum of two beta models (a double-beta profile, a
simplification of the Vikhlinin et al. 2006, ApJ 640, 691 density profiles, whose
inner cusp and outer steepening it does not follow in detail): the ambient
component, whose luminosity between 0.15 and 1 R500 scatters by only
``sigma_log10_lx_ce`` at fixed mass (the core-excised scatter; its total then depends
on its core radius, so flat-cored disturbed clusters are fainter), and a second
component: a central cusp of core radius
``cusp_rc_r500`` carrying ``r`` times the ambient flux for cool cores, an offset clump
carrying ``q`` times it for disturbed clusters, nothing for class 1. The total
luminosity at fixed mass is therefore ``log L = <log L>(M, z) + delta_ce +
delta_morph - <delta_morph>(z)``: the mean relation of :mod:`._scaling` is kept for
the whole population at every redshift, and the image carries the information on
where a cluster sits in the scatter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ._profiles import beta_flux_within

__all__ = ["Morphology", "cool_core_fraction", "core_excised_share", "draw_morphology"]

_HERMITE_NODES, _HERMITE_WEIGHTS = np.polynomial.hermite_e.hermegauss(24)


@dataclass(frozen=True)
class Morphology:
    """Parameters of the dynamical classes and of their gas components.

    Parameters
    ----------
    cool_core_fraction : float, default=0.3
        Cool-core fraction at z = 0 in a mass-selected population (assumed, 0.3–0.45
        tried: SZ-selected samples have ~0.3, X-ray selected ones more; Ghirardini et
        al. 2022, A&A 661, A12 find the eFEDS sample as disturbed as SZ samples).
    cool_core_z_half : float, default=0.75
        Redshift where the cool-core fraction has halved (assumed from the lack of
        cuspy cores above z ~ 0.75, McDonald et al. 2013; 0.5–1.0 tried).
    disturbed_fraction : float, default=0.35
        Share of disturbed clusters (assumed, 0.3–0.5 tried; Ghirardini et al. 2022
        find no bimodality and no significant evolution of the relaxed fraction).
    sigma_log10_lx_ce : float, default=0.08
        Scatter of the ambient (core-excised) luminosity at fixed mass, dex (Pratt et
        al. 2009: excluding the core cuts the ~0.2 dex total scatter by more than half).
    cusp_log10_ratio_mean, cusp_log10_ratio_sd : float, default=-0.25, 0.25
        log10 of the cusp-to-ambient flux ratio ``r`` of cool cores (assumed, chosen
        so that the total scatter at fixed mass is ~0.2 dex as in recent samples
        (PHYSICS.md: eFEDS 0.18, Lovisari et al. 2020 0.20); means from -0.25 to
        +0.1 tried gave 0.20–0.28 dex at z = 0.1).
    disturbed_lx_offset_dex : float, default=0.0
        Extra luminosity offset of disturbed clusters, dex (assumed; their larger
        core radius already puts them on the faint side, as in Pratt et al. 2009).
    cusp_rc_r500 : float, default=0.02
        Core radius of the cusp in R500 (assumed; ~20 kpc for R500 = 1 Mpc).
    rc_median_r500 : tuple of float, default=(0.1, 0.15, 0.22)
        Median ambient core radius per class (assumed; smaller in cool cores).
    rc_scatter_ln : float, default=0.3
        Log-normal scatter of the ambient core radius within a class (assumed).
    b_to_a_ranges : tuple of (float, float), default=((0.75, 1.0), (0.65, 1.0), (0.45, 0.85))
        Uniform axis-ratio range per class (assumed; the mock catalogues' 0.6–1 overall).
    xoff_median_r500 : tuple of float, default=(0.01, 0.03, 0.1)
        Median centre offset per class in R500 (assumed, log-normal 0.8 in ln).
    clump_log10_ratio_mean, clump_log10_ratio_sd : float, default=-0.7, 0.3
        log10 flux ratio ``q`` of the substructure clump of disturbed clusters (assumed).
    clump_distance_r500 : tuple of float, default=(0.3, 0.8)
        Uniform range of the clump's distance from the centre in R500 (assumed).
    clump_rc_r500 : float, default=0.08
        Core radius of the clump in R500 (assumed).

    Examples
    --------
    >>> from sk_clustermass.simulate import Morphology
    >>> Morphology().cool_core_fraction
    0.3
    """

    cool_core_fraction: float = 0.3
    cool_core_z_half: float = 0.75
    disturbed_fraction: float = 0.35
    sigma_log10_lx_ce: float = 0.08
    cusp_log10_ratio_mean: float = -0.25
    cusp_log10_ratio_sd: float = 0.25
    disturbed_lx_offset_dex: float = 0.0
    cusp_rc_r500: float = 0.02
    rc_median_r500: tuple[float, float, float] = (0.1, 0.15, 0.22)
    rc_scatter_ln: float = 0.3
    b_to_a_ranges: tuple[tuple[float, float], ...] = ((0.75, 1.0), (0.65, 1.0), (0.45, 0.85))
    xoff_median_r500: tuple[float, float, float] = (0.01, 0.03, 0.1)
    clump_log10_ratio_mean: float = -0.7
    clump_log10_ratio_sd: float = 0.3
    clump_distance_r500: tuple[float, float] = (0.3, 0.8)
    clump_rc_r500: float = 0.08

    def __post_init__(self) -> None:
        fractions = (self.cool_core_fraction, self.disturbed_fraction)
        if not all(0 <= f <= 1 for f in fractions) or sum(fractions) > 1:
            message = (
                "Morphology.cool_core_fraction and disturbed_fraction must be in [0, 1] "
                f"with a sum <= 1; got {fractions}"
            )
            raise ValueError(message)
        if len(self.rc_median_r500) != 3 or len(self.b_to_a_ranges) != 3:
            message = "Morphology per-class tuples need one entry per class (3)"
            raise ValueError(message)
        if not self.cool_core_z_half > 0 or not self.cusp_rc_r500 > 0:
            message = "Morphology.cool_core_z_half and cusp_rc_r500 must be > 0"
            raise ValueError(message)


def cool_core_fraction(z: ArrayLike, morphology: Morphology | None = None) -> np.ndarray:
    """Cool-core fraction at redshift ``z`` (see the module docstring).

    Examples
    --------
    >>> from sk_clustermass.simulate import cool_core_fraction
    >>> cool_core_fraction([0.0, 0.75]).round(3)
    array([0.3 , 0.15])
    """
    m = Morphology() if morphology is None else morphology
    z = np.asarray(z, dtype=np.float64)
    return m.cool_core_fraction / (1.0 + (z / m.cool_core_z_half) ** 2)


def _mean_log_boost(mean: float, sd: float) -> float:
    """E[log10(1 + 10^N(mean, sd))] by Gauss–Hermite quadrature."""
    values = np.log10(1.0 + 10.0 ** (mean + sd * _HERMITE_NODES))
    return float((values * _HERMITE_WEIGHTS).sum() / _HERMITE_WEIGHTS.sum())


def core_excised_share(rc_over_r500: ArrayLike, beta: ArrayLike) -> np.ndarray:
    """Share of a beta model's R500 flux between 0.15 and 1 R500 (projected).

    Examples
    --------
    >>> from sk_clustermass.simulate import core_excised_share
    >>> core_excised_share([0.05, 0.2], 2 / 3).round(2)
    array([0.28, 0.75])
    """
    rc = np.asarray(rc_over_r500, dtype=np.float64)
    return 1.0 - beta_flux_within(0.15 / rc, beta) / beta_flux_within(1.0 / rc, beta)


def _mean_log_share(median: float, sd_ln: float) -> float:
    """E[log10 core_excised_share] over a log-normal core radius, beta = 2/3."""
    values = np.log10(core_excised_share(median * np.exp(sd_ln * _HERMITE_NODES), 2.0 / 3.0))
    return float((values * _HERMITE_WEIGHTS).sum() / _HERMITE_WEIGHTS.sum())


def draw_morphology(
    z: ArrayLike,
    uniform: ArrayLike,
    normal: ArrayLike,
    morphology: Morphology,
    beta: ArrayLike = 2.0 / 3.0,
) -> dict[str, np.ndarray]:
    """Dynamical class, luminosity offset and gas components of each cluster.

    Parameters
    ----------
    z : array-like of shape (n,)
    uniform : array-like of shape (n, 5)
        Independent U(0, 1) deviates (class, axis ratio, angle, offset direction,
        clump distance).
    normal : array-like of shape (n, 4)
        Independent N(0, 1) deviates (cusp or clump ratio, core radius, offset, spare).
    morphology : Morphology
    beta : array-like of shape (n,) or float, default=2/3
        beta of the ambient component (fixes its core-excised share).

    Returns
    -------
    dict of ndarray of shape (n,)
        ``morphology_class`` (0 cool core, 1 relaxed, 2 disturbed); ``dlog10_lx``
        the luminosity offset in dex with zero population mean at each z;
        ``second_ratio`` the flux of the second component over the ambient one;
        ``rc_over_r500``, ``b_to_a``, ``xoff_r500``, ``clump_r500`` (distance of the
        clump, 0 without one).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass.simulate import Morphology, draw_morphology
    >>> rng = np.random.default_rng(0)
    >>> parts = draw_morphology(np.full(20000, 0.1), rng.random((20000, 5)),
    ...                         rng.standard_normal((20000, 4)), Morphology())
    >>> offset = parts["dlog10_lx"]
    >>> bool(abs(offset.mean()) < 0.005), round(float(offset.std()), 2)
    (True, 0.19)
    """
    m = morphology
    z = np.asarray(z, dtype=np.float64)
    u = np.asarray(uniform, dtype=np.float64)
    g = np.asarray(normal, dtype=np.float64)
    f_cc = cool_core_fraction(z, m)
    f_dist = np.minimum(m.disturbed_fraction, 1.0 - f_cc)
    klass = np.where(u[:, 0] < f_cc, 0, np.where(u[:, 0] < f_cc + f_dist, 2, 1))
    cusp = 10.0 ** (m.cusp_log10_ratio_mean + m.cusp_log10_ratio_sd * g[:, 0])
    clump = 10.0 ** (m.clump_log10_ratio_mean + m.clump_log10_ratio_sd * g[:, 0])
    ratio = np.select([klass == 0, klass == 2], [cusp, clump], 0.0)
    rc = np.choose(klass, m.rc_median_r500) * np.exp(m.rc_scatter_ln * g[:, 1])
    # the ambient gas is normalised by its core-excised luminosity: the total follows
    offset = np.select(
        [klass == 0, klass == 2], [np.log10(1.0 + cusp), m.disturbed_lx_offset_dex], 0.0
    ) - np.log10(core_excised_share(rc, beta))
    shares = [_mean_log_share(median, m.rc_scatter_ln) for median in m.rc_median_r500]
    mean_offset = (
        f_cc * (_mean_log_boost(m.cusp_log10_ratio_mean, m.cusp_log10_ratio_sd) - shares[0])
        + f_dist * (m.disturbed_lx_offset_dex - shares[2])
        - (1.0 - f_cc - f_dist) * shares[1]
    )
    q_low = np.choose(klass, [r[0] for r in m.b_to_a_ranges])
    q_high = np.choose(klass, [r[1] for r in m.b_to_a_ranges])
    xoff = np.choose(klass, m.xoff_median_r500) * np.exp(0.8 * g[:, 2])
    d_low, d_high = m.clump_distance_r500
    return {
        "morphology_class": klass.astype(np.int8),
        "dlog10_lx": offset - mean_offset,
        "second_ratio": ratio,
        "rc_over_r500": rc,
        "b_to_a": q_low + (q_high - q_low) * u[:, 1],
        "xoff_r500": xoff,
        "clump_r500": np.where(klass == 2, d_low + (d_high - d_low) * u[:, 4], 0.0),
    }
