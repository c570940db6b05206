"""AGN point sources: the field population (log N–log S) and central AGN in clusters.

Field AGN (PHYSICS.md): ~200 per deg^2 brighter than 6.5e-15 erg/s/cm^2 (0.5–2 keV)
in eFEDS, about 22 in a 20' x 20' image; a Euclidean log N–log S (``N(>S) ∝
S^-1.5``) above ~1e-14 and a flatter one below (slope 0.6 assumed, cf. Moretti et al.
2003); power-law spectra with photon index 1.8–2.0. Positions are uniform over the
image. The fluxes are observed-frame 0.5–2 keV fluxes, so no redshift is needed.

Central AGN: a fraction of the clusters host an AGN at the gas centre (assumed 10%),
with a log-normal 0.5–2 keV rest-frame luminosity (assumed mean 10^42.5 erg/s,
0.5 dex) and the same power-law spectra.

The sky background rate (Ponti et al. 2023) is the total sky brightness and so already
contains these AGN: the background model removes their mean brightness
(:func:`agn_mean_flux_deg2`) from its extragalactic part, so the total sky is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "AGNPopulation",
    "agn_cumulative_density_deg2",
    "agn_flux_from_quantile",
    "agn_mean_flux_deg2",
    "central_agn_flux_erg_s_cm2",
    "draw_central_agn",
    "draw_field_agn",
]


@dataclass(frozen=True)
class AGNPopulation:
    """Field and central AGN populations.

    Parameters
    ----------
    density_deg2 : float, default=200.0
        Sources per deg^2 brighter than ``reference_flux`` (eFEDS; PHYSICS.md).
    reference_flux : float, default=6.5e-15
        erg/s/cm^2, 0.5–2 keV (PHYSICS.md).
    break_flux : float, default=1e-14
        Break of the log N–log S, erg/s/cm^2 (PHYSICS.md, "~1e-14").
    bright_slope : float, default=1.5
        ``N(>S) ∝ S^-bright_slope`` above the break (Euclidean; PHYSICS.md).
    faint_slope : float, default=0.6
        Slope below the break (assumed; "flatter below", cf. Moretti et al. 2003).
    min_flux : float, default=2e-15
        Faintest simulated source, erg/s/cm^2 (assumed; ~3 counts at eFEDS depth).
    max_flux : float, default=1e-11
        Brightest simulated source, erg/s/cm^2 (assumed).
    photon_index_range : tuple of float, default=(1.8, 2.0)
        Uniform range of photon indices (PHYSICS.md).
    central_fraction : float, default=0.1
        Fraction of clusters hosting a central AGN (assumed).
    central_log10_lx_mean, central_log10_lx_sd : float, default=42.5, 0.5
        Log-normal 0.5–2 keV luminosity of central AGN, log10(erg/s) (assumed).

    Examples
    --------
    >>> from sk_clustermass.simulate import AGNPopulation
    >>> AGNPopulation().density_deg2
    200.0
    """

    density_deg2: float = 200.0
    reference_flux: float = 6.5e-15
    break_flux: float = 1e-14
    bright_slope: float = 1.5
    faint_slope: float = 0.6
    min_flux: float = 2e-15
    max_flux: float = 1e-11
    photon_index_range: tuple[float, float] = (1.8, 2.0)
    central_fraction: float = 0.1
    central_log10_lx_mean: float = 42.5
    central_log10_lx_sd: float = 0.5

    def __post_init__(self) -> None:
        if self.density_deg2 < 0:
            message = f"AGNPopulation.density_deg2 must be >= 0; got {self.density_deg2!r}"
            raise ValueError(message)
        if not 0 < self.min_flux < self.max_flux:
            message = (
                "AGNPopulation needs 0 < min_flux < max_flux; got "
                f"min_flux={self.min_flux!r}, max_flux={self.max_flux!r}"
            )
            raise ValueError(message)
        if self.reference_flux <= 0 or self.break_flux <= 0:
            message = "AGNPopulation.reference_flux and break_flux must be > 0"
            raise ValueError(message)
        if self.bright_slope <= 0 or self.faint_slope <= 0:
            message = "AGNPopulation slopes must be > 0 (N(>S) decreases with S)"
            raise ValueError(message)
        if not 0 <= self.central_fraction <= 1:
            message = (
                f"AGNPopulation.central_fraction must be in [0, 1]; got {self.central_fraction!r}"
            )
            raise ValueError(message)
        low, high = self.photon_index_range
        if not low <= high:
            message = f"AGNPopulation.photon_index_range must be (low, high); got {(low, high)}"
            raise ValueError(message)


def _density_at_break(agn: AGNPopulation) -> float:
    ratio = agn.reference_flux / agn.break_flux
    slope = agn.faint_slope if ratio < 1 else agn.bright_slope
    return agn.density_deg2 * ratio**slope


def agn_cumulative_density_deg2(flux: ArrayLike, agn: AGNPopulation | None = None) -> np.ndarray:
    """Broken power-law log N–log S: sources per deg^2 brighter than ``flux``.

    Examples
    --------
    >>> from sk_clustermass.simulate import agn_cumulative_density_deg2
    >>> agn_cumulative_density_deg2([6.5e-15, 1e-14]).round(1)
    array([200. , 154.4])
    """
    agn = AGNPopulation() if agn is None else agn
    ratio = np.asarray(flux, dtype=np.float64) / agn.break_flux
    slope = np.where(ratio < 1, agn.faint_slope, agn.bright_slope)
    return _density_at_break(agn) * ratio**-slope


def agn_mean_flux_deg2(agn: AGNPopulation | None = None) -> float:
    """Summed 0.5–2 keV flux of the simulated AGN per deg^2, erg/s/cm^2/deg^2.

    The integral of ``S dN`` between ``min_flux`` and ``max_flux`` of the broken power
    law, in closed form.

    Examples
    --------
    >>> from sk_clustermass.simulate import agn_mean_flux_deg2
    >>> f"{agn_mean_flux_deg2():.2e}"
    '5.59e-12'
    """
    agn = AGNPopulation() if agn is None else agn
    at_break = _density_at_break(agn)
    total = 0.0
    segments = (
        (agn.min_flux, min(agn.max_flux, agn.break_flux), agn.faint_slope),
        (max(agn.min_flux, agn.break_flux), agn.max_flux, agn.bright_slope),
    )
    for low, high, slope in segments:
        if high <= low:
            continue
        # |dN/dS| = slope N_b S_b^slope S^(-slope-1); integrate S |dN/dS| dS.
        factor = slope * at_break * agn.break_flux**slope
        if abs(1.0 - slope) < 1e-12:
            total += factor * np.log(high / low)
        else:
            total += factor * (high ** (1.0 - slope) - low ** (1.0 - slope)) / (1.0 - slope)
    return float(total)


def agn_flux_from_quantile(quantile: ArrayLike, agn: AGNPopulation | None = None) -> np.ndarray:
    """Invert the log N–log S between ``min_flux`` and ``max_flux``.

    Parameters
    ----------
    quantile : array-like
        Uniform deviates in [0, 1); 0 gives ``min_flux``, values near 1 ``max_flux``.
    agn : AGNPopulation, optional

    Returns
    -------
    ndarray
        Fluxes in erg/s/cm^2 (0.5–2 keV), same shape as ``quantile``.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass.simulate import AGNPopulation, agn_flux_from_quantile
    >>> agn = AGNPopulation()
    >>> float(agn_flux_from_quantile(0.0, agn)) == agn.min_flux
    True
    """
    agn = AGNPopulation() if agn is None else agn
    n_min, n_max = agn_cumulative_density_deg2([agn.min_flux, agn.max_flux], agn)
    target = n_min - np.asarray(quantile, dtype=np.float64) * (n_min - n_max)
    at_break = _density_at_break(agn)
    slope = np.where(target > at_break, agn.faint_slope, agn.bright_slope)
    return agn.break_flux * (target / at_break) ** (-1.0 / slope)


def draw_field_agn(
    rng: np.random.Generator, n_fields: int, field_area_deg2: float, agn: AGNPopulation
) -> dict[str, np.ndarray]:
    """Draw the field AGN of ``n_fields`` images, padded to the largest count.

    Parameters
    ----------
    rng : numpy.random.Generator
    n_fields : int
    field_area_deg2 : float
        Area of one image in deg^2.
    agn : AGNPopulation

    Returns
    -------
    dict of ndarray
        ``n_agn`` (n_fields,) int; ``flux`` (erg/s/cm^2), ``photon_index``, ``x_frac``,
        ``y_frac`` (position as a fraction of the image width/height) of shape
        (n_fields, k), zero beyond each field's ``n_agn``; ``valid`` (n_fields, k) bool.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass.simulate import AGNPopulation, draw_field_agn
    >>> agn = draw_field_agn(np.random.default_rng(0), 3, (20 / 60) ** 2, AGNPopulation())
    >>> agn["flux"].shape[0], bool((agn["valid"].sum(axis=1) == agn["n_agn"]).all())
    (3, True)
    """
    n_min, n_max = agn_cumulative_density_deg2([agn.min_flux, agn.max_flux], agn)
    counts = rng.poisson((n_min - n_max) * field_area_deg2, size=n_fields)
    width = int(counts.max()) if n_fields else 0
    shape = (n_fields, width)
    quantile, x_frac, y_frac, index_u = (rng.random(shape) for _ in range(4))
    valid = np.arange(width)[None, :] < counts[:, None]
    low, high = agn.photon_index_range
    return {
        "n_agn": counts,
        "flux": np.where(valid, agn_flux_from_quantile(quantile, agn), 0.0),
        "photon_index": np.where(valid, low + (high - low) * index_u, 0.0),
        "x_frac": np.where(valid, x_frac, 0.0),
        "y_frac": np.where(valid, y_frac, 0.0),
        "valid": valid,
    }


def draw_central_agn(
    rng: np.random.Generator, n_clusters: int, agn: AGNPopulation
) -> dict[str, np.ndarray]:
    """Draw which clusters host a central AGN, its luminosity and photon index.

    Every array is drawn for every cluster, so the random stream does not depend on
    how many hosts there are.

    Returns
    -------
    dict of ndarray of shape (n_clusters,)
        ``has_agn`` bool; ``lx_erg_s`` 0.5–2 keV rest-frame luminosity (0 without an
        AGN); ``photon_index``.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass.simulate import AGNPopulation, draw_central_agn
    >>> hosts = draw_central_agn(np.random.default_rng(0), 1000, AGNPopulation())
    >>> 0.05 < hosts["has_agn"].mean() < 0.15
    np.True_
    """
    has = rng.random(n_clusters) < agn.central_fraction
    log_lx = agn.central_log10_lx_mean + agn.central_log10_lx_sd * rng.standard_normal(n_clusters)
    low, high = agn.photon_index_range
    gamma = low + (high - low) * rng.random(n_clusters)
    return {"has_agn": has, "lx_erg_s": np.where(has, 10.0**log_lx, 0.0), "photon_index": gamma}


def central_agn_flux_erg_s_cm2(
    lx_erg_s: ArrayLike, photon_index: ArrayLike, z: ArrayLike, dl_cm: ArrayLike
) -> np.ndarray:
    """Observed 0.5–2 keV flux of a power-law source of rest-frame 0.5–2 keV luminosity.

    The K-correction of a power law is ``(1 + z)^(Gamma - 2)``:
    ``F = L / (4 pi dL^2) (1 + z)^(Gamma - 2)``.

    Examples
    --------
    >>> from sk_clustermass.simulate import central_agn_flux_erg_s_cm2
    >>> f"{float(central_agn_flux_erg_s_cm2(1e43, 2.0, 0.5, 1e28)):.3e}"
    '7.958e-15'
    """
    zp1 = 1.0 + np.asarray(z, dtype=np.float64)
    dl = np.asarray(dl_cm, dtype=np.float64)
    gamma = np.asarray(photon_index, dtype=np.float64)
    return np.asarray(lx_erg_s, dtype=np.float64) / (4.0 * np.pi * dl**2) * zp1 ** (gamma - 2.0)
