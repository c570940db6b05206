"""Optical confirmation: the redshift a follow-up assigns and its contamination probability.

eROSITA cluster candidates get their redshift from the optical follow-up: MCMF
(Klein et al. 2022, MNRAS 510, 3335) looks for a red-sequence overdensity along the
line of sight of each X-ray source and reports its redshift and ``f_cont``, the share
of random lines of sight that hold a system at least as rich at that redshift. A
point source that passes the extent cut therefore carries the redshift of whatever
system happens to lie in front of or behind it, not that of a random halo in the
volume. This module models both numbers from the halo mass function:

* **Chance counterpart.** A line of sight through an aperture of fixed physical
  radius ``r`` crosses haloes above ``M_opt`` at redshift z at the rate
  ``n(>M_opt, z) pi (r (1 + z))^2 c / H(z)`` per unit z (a comoving cylinder of radius
  ``r (1 + z)``). The contaminant's redshift and mass are drawn from that rate; the
  aperture only normalises it, so only ``M_opt`` shapes the distribution. Low
  redshifts are favoured over a volume-weighted draw because the fixed physical
  aperture covers a larger solid angle there.
* **F_CONT.** For a cluster of mass M at redshift z the expected number of random
  systems at least as massive in the aperture and a redshift window of half-width
  ``dz (1 + z)`` is ``mu = n(>M, z) pi (r (1 + z))^2 c / H(z) 2 dz (1 + z)``;
  ``F_CONT = 1 - exp(-mu)``. Mass stands in for richness (no richness scatter). A
  contaminant's counterpart *is* a random line of sight's system, so its ``F_CONT``
  (a p-value under the null hypothesis that it is one) is uniform on [0, 1).
* **Optical centre.** The follow-up also reports a centre (the BCG or the galaxy
  overdensity), offset from the X-ray position. Cut-outs centred on it
  (``make_clusters(..., centre_on='optical')``) move away from the detected X-ray
  position by a two-component offset in projected kpc: a share
  ``well_centred_fraction`` of well-centred clusters with a Rayleigh offset of scale
  ``well_centred_offset_kpc``, the rest miscentred with a Gamma(2) offset of scale
  ``miscentred_offset_kpc`` (the shape Zhang et al. 2019 fit to redMaPPer against
  X-ray centres).
* **Confirmation cut** (``max_f_cont``). Catalogues that keep only optically
  confirmed candidates (eRASS1, Bulbul et al. 2024; Kluge et al. 2024) are modelled
  as a cut ``F_CONT < max_f_cont``; None keeps every X-ray candidate (eFEDS, Liu et
  al. 2022: 542 candidates before cleaning).
"""

from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.cosmology import FLRW
from numpy.typing import ArrayLike

from ._cosmology import efunc
from ._massfunction import LinearPowerSpectrum, _cached, mass_function_dn_dlnm

__all__ = [
    "OpticalConfirmation",
    "chance_counterpart",
    "contamination_probability",
]

_C_KM_S = 299792.458


@dataclass(frozen=True)
class OpticalConfirmation:
    """How the optical follow-up assigns redshifts and contamination probabilities.

    Parameters
    ----------
    min_log10_mass : float, default=14.0
        log10(M500c / Msun) of the least massive system the follow-up reports as a
        counterpart (assumed; 13.5–14.5 tried, see ``docs/simulator.md``).
    aperture_mpc : float, default=1.0
        Physical radius searched around the X-ray position, Mpc (assumed; only
        ``F_CONT`` depends on it).
    redshift_window : float, default=0.05
        Half-width of the red-sequence redshift window over ``1 + z`` (assumed; only
        ``F_CONT`` depends on it).
    max_log10_mass : float, default=15.5
        Upper end of the mass integral.
    redshift_range : tuple of float, default=(0.01, 1.5)
        Redshifts the follow-up searches (assumed; the eFEDS and eRASS1 redshifts
        span 0.003–1.3, Liu et al. 2022; Bulbul et al. 2024).
    max_f_cont : float or None, default=None
        Keep only candidates with ``F_CONT`` below this (an optically confirmed
        catalogue); None keeps every X-ray candidate.
    well_centred_fraction : float, default=0.75
        Share of clusters whose optical centre is well centred on the X-ray one
        (Zhang et al. 2019, MNRAS 487, 2578: 75 +- 8% of redMaPPer clusters against
        their X-ray peaks). Used only by cut-outs centred on the optical centre.
    well_centred_offset_kpc : float, default=20.0
        Rayleigh scale (per axis) of the well-centred offsets, projected kpc (assumed).
    miscentred_offset_kpc : float, default=115.0
        Scale of the Gamma(shape 2) offsets of the miscentred clusters, projected kpc
        (mean offset 2 x 115 = 230 kpc). Chosen (assumed) so that the mean offset of
        all clusters, 0.75 x 20 sqrt(pi / 2) + 0.25 x 230 = 76 kpc, is the mean
        X-ray-to-optical offset Seppi et al. (2023, A&A 671, A57) measured for 87
        massive eFEDS clusters (76.3 +30.1 -27.1 kpc).

    Examples
    --------
    >>> from sk_clustermass.simulate import OpticalConfirmation
    >>> OpticalConfirmation().min_log10_mass
    14.0
    """

    min_log10_mass: float = 14.0
    aperture_mpc: float = 1.0
    redshift_window: float = 0.05
    max_log10_mass: float = 15.5
    redshift_range: tuple[float, float] = (0.01, 1.5)
    max_f_cont: float | None = None
    well_centred_fraction: float = 0.75
    well_centred_offset_kpc: float = 20.0
    miscentred_offset_kpc: float = 115.0

    def __post_init__(self) -> None:
        if self.max_f_cont is not None and not 0 < self.max_f_cont <= 1:
            message = (
                "OpticalConfirmation.max_f_cont must be in (0, 1] or None; "
                f"got {self.max_f_cont!r}"
            )
            raise ValueError(message)
        if not self.min_log10_mass < self.max_log10_mass:
            message = (
                "OpticalConfirmation needs min_log10_mass < max_log10_mass; got "
                f"{self.min_log10_mass!r} and {self.max_log10_mass!r}"
            )
            raise ValueError(message)
        low, high = self.redshift_range
        if not 0 <= low < high:
            message = (
                "OpticalConfirmation.redshift_range must be (low, high) with 0 <= low < "
                f"high; got {self.redshift_range!r}"
            )
            raise ValueError(message)
        for name in ("aperture_mpc", "redshift_window"):
            if not getattr(self, name) > 0:
                message = f"OpticalConfirmation.{name} must be > 0; got {getattr(self, name)!r}"
                raise ValueError(message)
        if not 0 <= self.well_centred_fraction <= 1:
            message = (
                "OpticalConfirmation.well_centred_fraction must be in [0, 1]; "
                f"got {self.well_centred_fraction!r}"
            )
            raise ValueError(message)
        for name in ("well_centred_offset_kpc", "miscentred_offset_kpc"):
            if not getattr(self, name) >= 0:
                message = f"OpticalConfirmation.{name} must be >= 0; got {getattr(self, name)!r}"
                raise ValueError(message)


def _table(confirmation: OpticalConfirmation, cosmo: FLRW,
           spectrum: LinearPowerSpectrum) -> tuple[np.ndarray, ...]:
    """z grid, log10 M grid, the cumulative density n(>M, z) (Mpc^-3) on it."""
    def build() -> tuple[np.ndarray, ...]:
        z_grid = np.linspace(*confirmation.redshift_range, 97)
        log_m = np.linspace(12.0, confirmation.max_log10_mass, 141)
        dn = mass_function_dn_dlnm(10.0 ** log_m[None, :], z_grid[:, None], cosmo, spectrum)
        step = np.log(10.0) * (log_m[1] - log_m[0])
        pieces = 0.5 * (dn[:, 1:] + dn[:, :-1]) * step
        above = np.concatenate([np.cumsum(pieces[:, ::-1], axis=1)[:, ::-1],
                                np.zeros((len(z_grid), 1))], axis=1)
        return z_grid, log_m, above
    key = (confirmation.max_log10_mass, tuple(map(float, confirmation.redshift_range)),
           spectrum)
    return _cached("cumulative", cosmo, *key, build=build)


def _cylinder_mpc2_per_z(z: np.ndarray, confirmation: OpticalConfirmation,
                         cosmo: FLRW) -> np.ndarray:
    """Comoving cross-section times comoving depth per unit z of the searched cylinder."""
    hubble_mpc = _C_KM_S / cosmo.H0.to_value(u.km / u.s / u.Mpc)
    radius = confirmation.aperture_mpc * (1.0 + z)
    return np.pi * radius**2 * hubble_mpc / efunc(z, cosmo)


def _above(log_mass: np.ndarray, z: np.ndarray, table: tuple[np.ndarray, ...]) -> np.ndarray:
    """n(>M, z) by bilinear interpolation of the table (log-space in density)."""
    z_grid, log_m, above = table
    log_n = np.log(np.maximum(above, 1e-300))
    iz = np.clip(np.searchsorted(z_grid, z) - 1, 0, len(z_grid) - 2)
    tz = np.clip((z - z_grid[iz]) / (z_grid[iz + 1] - z_grid[iz]), 0.0, 1.0)
    im = np.clip(np.searchsorted(log_m, log_mass) - 1, 0, len(log_m) - 2)
    tm = np.clip((log_mass - log_m[im]) / (log_m[im + 1] - log_m[im]), 0.0, 1.0)
    value = ((1 - tz) * (1 - tm) * log_n[iz, im] + tz * (1 - tm) * log_n[iz + 1, im]
             + (1 - tz) * tm * log_n[iz, im + 1] + tz * tm * log_n[iz + 1, im + 1])
    return np.exp(value)


def chance_counterpart(
    uniform: ArrayLike,
    confirmation: OpticalConfirmation,
    cosmo: FLRW,
    spectrum: LinearPowerSpectrum,
) -> tuple[np.ndarray, np.ndarray]:
    """Redshift and mass of the system a random line of sight offers as counterpart.

    Parameters
    ----------
    uniform : array-like of shape (n, 2)
        Uniform deviates: the first picks the redshift, the second the mass.
    confirmation : OpticalConfirmation
    cosmo : astropy.cosmology.FLRW
    spectrum : LinearPowerSpectrum

    Returns
    -------
    z, log10_m500c : ndarray of shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass.simulate import (DEFAULT_COSMOLOGY, LinearPowerSpectrum,
    ...     OpticalConfirmation, chance_counterpart)
    >>> u = np.random.default_rng(0).random((2000, 2))
    >>> z, log_m = chance_counterpart(u, OpticalConfirmation(), DEFAULT_COSMOLOGY,
    ...                               LinearPowerSpectrum())
    >>> bool(0.2 < np.median(z) < 0.6), bool(log_m.min() >= 14.0)
    (True, True)
    """
    deviates = np.asarray(uniform, dtype=np.float64)
    table = _table(confirmation, cosmo, spectrum)
    z_grid = table[0]
    rate = (_above(np.full_like(z_grid, confirmation.min_log10_mass), z_grid, table)
            * _cylinder_mpc2_per_z(z_grid, confirmation, cosmo))
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (rate[1:] + rate[:-1]))])
    z = np.interp(deviates[:, 0], cdf / cdf[-1], z_grid)
    # mass above M_opt at that redshift: invert n(>M, z) / n(>M_opt, z) = 1 - u
    grid = np.linspace(confirmation.min_log10_mass, confirmation.max_log10_mass, 65)
    share = _above(grid[None, :], z[:, None], table) / _above(grid[:1][None, :], z[:, None],
                                                                table)
    target = 1.0 - deviates[:, 1]
    index = np.clip((share >= target[:, None]).sum(axis=1) - 1, 0, len(grid) - 2)
    rows = np.arange(len(z))
    low, high = share[rows, index], share[rows, index + 1]
    fraction = np.clip((low - target) / np.maximum(low - high, 1e-300), 0.0, 1.0)
    return z, grid[index] + fraction * (grid[1] - grid[0])


def contamination_probability(
    log10_m500c: ArrayLike,
    z: ArrayLike,
    confirmation: OpticalConfirmation,
    cosmo: FLRW,
    spectrum: LinearPowerSpectrum,
) -> np.ndarray:
    """``F_CONT``: chance that a random line of sight holds a system at least as massive.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass.simulate import (DEFAULT_COSMOLOGY, LinearPowerSpectrum,
    ...     OpticalConfirmation, contamination_probability)
    >>> f = contamination_probability([13.2, 14.0, 15.0], [0.3, 0.3, 0.3],
    ...     OpticalConfirmation(), DEFAULT_COSMOLOGY, LinearPowerSpectrum())
    >>> bool(f[0] > f[1] > f[2])
    True
    """
    log_mass = np.asarray(log10_m500c, dtype=np.float64)
    redshift = np.asarray(z, dtype=np.float64)
    table = _table(confirmation, cosmo, spectrum)
    window = 2.0 * confirmation.redshift_window * (1.0 + redshift)
    mu = (_above(log_mass, redshift, table) * _cylinder_mpc2_per_z(redshift, confirmation, cosmo)
          * window)
    return -np.expm1(-mu)
