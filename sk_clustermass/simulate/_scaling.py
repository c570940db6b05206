"""Scaling relations: temperature and X-ray luminosity at fixed mass, with scatter.

Mean relations (PHYSICS.md):

* M–T, Arnaud, Pointecouteau & Pratt (2005), hydrostatic masses of relaxed clusters:
  ``E(z) M500 = 3.84e14 Msun (kT / 5 keV)^1.71``.
* L–M, Pratt et al. (2009), REXCESS, BCES(Y|X), luminosity inside R500 in the
  0.1–2.4 keV band: ``E(z)^(-7/3) L = 1.03e44 erg/s (M500 / 2e14 Msun)^1.53``.
  The 0.5–2 keV luminosity is ~0.62 times the 0.1–2.4 keV one.

Groups: Pratt et al. (2009) fit clusters above ~1e14 Msun; below ``lm_break_msun`` the
relation can steepen to ``lm_slope_groups`` (a broken power law, continuous at the
break; Lovisari et al. 2015 find a steeper, Malmquist-bias-corrected L–M slope for
groups, and Chiu et al. 2022 an eFEDS L_X–M steeper than self-similar). None keeps
one power law.

Intrinsic scatter is log-normal: 0.07 dex in kT at fixed mass (the Comparat et al.
2020 mock model) and 0.2 dex in L at fixed mass (eFEDS 0.18, Lovisari et al. 2020
0.20, Bulbul et al. 2019 0.25, Comparat et al. 2020 0.21), correlated with an assumed
coefficient rho = 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "ScalingRelations",
    "correlated_log10_scatter",
    "luminosity_0p1_2p4_erg_s",
    "temperature_kev",
]


@dataclass(frozen=True)
class ScalingRelations:
    """Parameters of the M–T and L–M relations and of their intrinsic scatter.

    Parameters
    ----------
    mt_norm_msun : float, default=3.84e14
        Mass at the pivot temperature, ``E(z) M500`` in Msun (Arnaud et al. 2005).
    mt_pivot_kev : float, default=5.0
        Pivot temperature in keV (Arnaud et al. 2005).
    mt_slope : float, default=1.71
        Slope of ``log M`` against ``log T`` (Arnaud et al. 2005).
    lm_norm_erg_s : float, default=1.03e44
        0.1–2.4 keV luminosity inside R500 at the pivot mass, erg/s (Pratt et al.
        2009, BCES Y|X; their Malmquist-bias-corrected fit is 0.83e44 with slope 1.62).
    lm_pivot_msun : float, default=2e14
        Pivot mass in Msun (Pratt et al. 2009).
    lm_slope : float, default=1.53
        Slope of ``log L`` against ``log M`` (Pratt et al. 2009).
    lm_slope_groups : float or None, default=None
        Slope of ``log L`` against ``log M`` below ``lm_break_msun`` (a broken power
        law, continuous at the break); None: one power law of slope ``lm_slope``.
    lm_break_msun : float, default=1e14
        Mass below which ``lm_slope_groups`` applies, Msun (the low-mass end of the
        REXCESS sample that ``lm_slope`` comes from, Pratt et al. 2009).
    lm_ez_power : float, default=7/3
        Redshift evolution: ``L ∝ E(z)^lm_ez_power`` at fixed mass (Pratt et al.
        2009 scale L by ``E(z)^(-7/3)``; the soft-band self-similar value is 2).
    soft_band_fraction : float, default=0.62
        ``L[0.5–2 keV] / L[0.1–2.4 keV]`` (PHYSICS.md). The line-free bremsstrahlung
        spectrum used for the band shapes gives 0.54–0.58 for kT = 2–8 keV; the
        larger value includes the line emission of real clusters.
    sigma_log10_kt : float, default=0.07
        Scatter of log10 kT at fixed mass, dex (Comparat et al. 2020 model).
    sigma_log10_lx : float, default=0.2
        Scatter of log10 L at fixed mass, dex (PHYSICS.md: 0.18–0.25 in recent
        samples, 0.21 in Comparat et al. 2020).
    rho_kt_lx : float, default=0.5
        Correlation coefficient of the two scatters (assumed).

    Examples
    --------
    >>> from dataclasses import replace
    >>> from sk_clustermass.simulate import ScalingRelations
    >>> relations = ScalingRelations()
    >>> relations.mt_slope, relations.lm_slope
    (1.71, 1.53)
    >>> replace(relations, sigma_log10_lx=0.0).sigma_log10_lx
    0.0
    """

    mt_norm_msun: float = 3.84e14
    mt_pivot_kev: float = 5.0
    mt_slope: float = 1.71
    lm_norm_erg_s: float = 1.03e44
    lm_pivot_msun: float = 2e14
    lm_slope: float = 1.53
    lm_slope_groups: float | None = None
    lm_break_msun: float = 1e14
    lm_ez_power: float = 7.0 / 3.0
    soft_band_fraction: float = 0.62
    sigma_log10_kt: float = 0.07
    sigma_log10_lx: float = 0.2
    rho_kt_lx: float = 0.5

    def __post_init__(self) -> None:
        positive = ("mt_norm_msun", "mt_pivot_kev", "mt_slope", "lm_norm_erg_s", "lm_pivot_msun",
                    "lm_break_msun")
        for name in positive:
            if not getattr(self, name) > 0:
                message = f"ScalingRelations.{name} must be > 0; got {getattr(self, name)!r}"
                raise ValueError(message)
        if not 0 < self.soft_band_fraction <= 1:
            message = (
                "ScalingRelations.soft_band_fraction must be in (0, 1]; "
                f"got {self.soft_band_fraction!r}"
            )
            raise ValueError(message)
        if self.sigma_log10_kt < 0 or self.sigma_log10_lx < 0:
            message = (
                "scatters must be >= 0 dex; got sigma_log10_kt="
                f"{self.sigma_log10_kt!r}, sigma_log10_lx={self.sigma_log10_lx!r}"
            )
            raise ValueError(message)
        if not -1 <= self.rho_kt_lx <= 1:
            message = f"ScalingRelations.rho_kt_lx must be in [-1, 1]; got {self.rho_kt_lx!r}"
            raise ValueError(message)


def temperature_kev(
    m500_msun: ArrayLike, ez: ArrayLike, relations: ScalingRelations | None = None
) -> np.ndarray:
    """Mean temperature at fixed mass from the M–T relation, in keV.

    Inverts ``E(z) M500 = mt_norm_msun (kT / mt_pivot_kev)^mt_slope``.

    Parameters
    ----------
    m500_msun : array-like
        M500c in Msun.
    ez : array-like
        E(z) = H(z) / H0 at the cluster redshift.
    relations : ScalingRelations, optional

    Returns
    -------
    ndarray
        kT in keV, without scatter.

    Examples
    --------
    >>> from sk_clustermass.simulate import temperature_kev
    >>> round(float(temperature_kev(3.84e14, 1.0)), 6)
    5.0
    """
    rel = ScalingRelations() if relations is None else relations
    scaled = np.asarray(ez, dtype=np.float64) * np.asarray(m500_msun, dtype=np.float64)
    return rel.mt_pivot_kev * (scaled / rel.mt_norm_msun) ** (1.0 / rel.mt_slope)


def luminosity_0p1_2p4_erg_s(
    m500_msun: ArrayLike, ez: ArrayLike, relations: ScalingRelations | None = None
) -> np.ndarray:
    """Mean 0.1–2.4 keV luminosity inside R500 at fixed mass, erg/s (Pratt et al. 2009).

    With ``relations.lm_slope_groups`` set, masses below ``relations.lm_break_msun``
    follow that slope from the luminosity at the break (a broken power law).

    Parameters
    ----------
    m500_msun : array-like
        M500c in Msun.
    ez : array-like
        E(z) at the cluster redshift.
    relations : ScalingRelations, optional

    Returns
    -------
    ndarray
        Rest-frame 0.1–2.4 keV luminosity in erg/s, without scatter.

    Examples
    --------
    >>> from sk_clustermass.simulate import luminosity_0p1_2p4_erg_s
    >>> f"{float(luminosity_0p1_2p4_erg_s(2e14, 1.0)):.3g}"
    '1.03e+44'
    """
    rel = ScalingRelations() if relations is None else relations
    mass = np.asarray(m500_msun, dtype=np.float64)
    evolution = np.asarray(ez, dtype=np.float64) ** rel.lm_ez_power
    single = rel.lm_norm_erg_s * evolution * (mass / rel.lm_pivot_msun) ** rel.lm_slope
    if rel.lm_slope_groups is None:
        return single
    at_break = (rel.lm_break_msun / rel.lm_pivot_msun) ** rel.lm_slope
    groups = (rel.lm_norm_erg_s * evolution * at_break
              * (mass / rel.lm_break_msun) ** rel.lm_slope_groups)
    return np.where(mass < rel.lm_break_msun, groups, single)


def correlated_log10_scatter(
    standard_normal: ArrayLike, relations: ScalingRelations | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Turn independent standard normal pairs into correlated log10 offsets of kT and L.

    Parameters
    ----------
    standard_normal : array-like of shape (n, 2)
        Independent N(0, 1) deviates (the caller draws them, so the random stream
        stays in one place).
    relations : ScalingRelations, optional

    Returns
    -------
    dlog10_kt, dlog10_lx : ndarray of shape (n,)
        Offsets in dex with standard deviations ``sigma_log10_kt``,
        ``sigma_log10_lx`` and correlation ``rho_kt_lx``.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass.simulate import correlated_log10_scatter
    >>> deviates = np.random.default_rng(0).standard_normal((100_000, 2))
    >>> dt, dl = correlated_log10_scatter(deviates)
    >>> round(float(np.corrcoef(dt, dl)[0, 1]), 2), round(float(dl.std()), 2)
    (0.5, 0.2)
    """
    rel = ScalingRelations() if relations is None else relations
    deviates = np.asarray(standard_normal, dtype=np.float64)
    first, second = deviates[:, 0], deviates[:, 1]
    mixed = rel.rho_kt_lx * first + np.sqrt(1.0 - rel.rho_kt_lx**2) * second
    return rel.sigma_log10_kt * first, rel.sigma_log10_lx * mixed
