"""Cosmology for the simulator: E(z), distances, critical density, R500 and theta500.

Every function takes plain arrays (redshifts, masses in Msun) and an
:class:`astropy.cosmology.FLRW` instance, calls astropy once for the whole array
(never once per cluster) and returns plain float64 arrays in the units named in the
function name. The default cosmology is flat LambdaCDM with H0 = 70 km/s/Mpc and
Omega_m = 0.3, the eFEDS convention (PHYSICS.md).
"""

from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.cosmology import FLRW, FlatLambdaCDM
from numpy.typing import ArrayLike

__all__ = [
    "DEFAULT_COSMOLOGY",
    "angular_diameter_distance_kpc",
    "critical_density_msun_kpc3",
    "efunc",
    "kpc_per_arcmin",
    "luminosity_distance_cm",
    "r500_kpc",
    "theta500_arcmin",
]

#: Flat LambdaCDM, H0 = 70 km/s/Mpc, Omega_m = 0.3 (eFEDS convention, PHYSICS.md).
#: No radiation (Tcmb0 = 0), so astropy evaluates distances with closed-form
#: elliptic integrals: fast for whole arrays.
DEFAULT_COSMOLOGY = FlatLambdaCDM(H0=70.0, Om0=0.3, name="sk_clustermass default (70, 0.3)")

_ARCMIN_PER_RADIAN = 180.0 * 60.0 / np.pi
_OVERDENSITY = 500.0


def _cosmology(cosmo: FLRW | None) -> FLRW:
    return DEFAULT_COSMOLOGY if cosmo is None else cosmo


def efunc(z: ArrayLike, cosmo: FLRW | None = None) -> np.ndarray:
    """Dimensionless Hubble rate E(z) = H(z) / H0.

    Parameters
    ----------
    z : array-like
        Redshifts.
    cosmo : astropy.cosmology.FLRW, optional
        Defaults to :data:`DEFAULT_COSMOLOGY`.

    Returns
    -------
    ndarray
        E(z), same shape as ``z``.

    Examples
    --------
    >>> from sk_clustermass.simulate import efunc
    >>> round(float(efunc(1.0)), 4)
    1.7607
    """
    return np.asarray(_cosmology(cosmo).efunc(np.asarray(z, dtype=np.float64)), dtype=np.float64)


def critical_density_msun_kpc3(z: ArrayLike, cosmo: FLRW | None = None) -> np.ndarray:
    """Critical density of the Universe at redshift ``z`` in Msun / kpc^3.

    Examples
    --------
    >>> from sk_clustermass.simulate import critical_density_msun_kpc3
    >>> round(float(critical_density_msun_kpc3(0.0)), 1)
    136.0
    """
    cosmo = _cosmology(cosmo)
    rho0 = cosmo.critical_density0.to_value(u.Msun / u.kpc**3)
    return rho0 * efunc(z, cosmo) ** 2


def r500_kpc(m500_msun: ArrayLike, z: ArrayLike, cosmo: FLRW | None = None) -> np.ndarray:
    """Physical radius R500c in kpc, from M500 = (4/3) pi 500 rho_c(z) R500^3.

    Parameters
    ----------
    m500_msun : array-like
        Mass inside R500c in solar masses.
    z : array-like
        Redshift, broadcast against ``m500_msun``.
    cosmo : astropy.cosmology.FLRW, optional

    Returns
    -------
    ndarray
        R500c in physical kpc.

    Examples
    --------
    >>> from sk_clustermass.simulate import r500_kpc
    >>> round(float(r500_kpc(1e14, 0.3)))
    637
    """
    mass = np.asarray(m500_msun, dtype=np.float64)
    rho = critical_density_msun_kpc3(z, cosmo)
    return np.cbrt(3.0 * mass / (4.0 * np.pi * _OVERDENSITY * rho))


def angular_diameter_distance_kpc(z: ArrayLike, cosmo: FLRW | None = None) -> np.ndarray:
    """Angular-diameter distance in physical kpc.

    Examples
    --------
    >>> from sk_clustermass.simulate import angular_diameter_distance_kpc
    >>> round(float(angular_diameter_distance_kpc(0.5)) / 1e3)
    1259
    """
    distance = _cosmology(cosmo).angular_diameter_distance(np.asarray(z, dtype=np.float64))
    return np.asarray(distance.to_value(u.kpc), dtype=np.float64)


def kpc_per_arcmin(z: ArrayLike, cosmo: FLRW | None = None) -> np.ndarray:
    """Physical kpc subtended by one arcminute at redshift ``z``.

    Examples
    --------
    >>> from sk_clustermass.simulate import kpc_per_arcmin
    >>> round(float(kpc_per_arcmin(0.1)), 1)
    110.7
    """
    return angular_diameter_distance_kpc(z, cosmo) / _ARCMIN_PER_RADIAN


def luminosity_distance_cm(z: ArrayLike, cosmo: FLRW | None = None) -> np.ndarray:
    """Luminosity distance in cm.

    Examples
    --------
    >>> from sk_clustermass.simulate import luminosity_distance_cm
    >>> f"{float(luminosity_distance_cm(0.1)):.3e}"
    '1.420e+27'
    """
    distance = _cosmology(cosmo).luminosity_distance(np.asarray(z, dtype=np.float64))
    return np.asarray(distance.to_value(u.cm), dtype=np.float64)


def theta500_arcmin(m500_msun: ArrayLike, z: ArrayLike, cosmo: FLRW | None = None) -> np.ndarray:
    """Angular radius theta500 = R500c / D_A in arcmin.

    Parameters
    ----------
    m500_msun : array-like
        M500c in solar masses.
    z : array-like
        Redshift.
    cosmo : astropy.cosmology.FLRW, optional

    Returns
    -------
    ndarray
        theta500 in arcmin. PHYSICS.md quotes 6.2' for 1e14 Msun at z = 0.1 and
        5.1' for 1e15 Msun at z = 0.3.

    Examples
    --------
    >>> from sk_clustermass.simulate import theta500_arcmin
    >>> theta500_arcmin([1e14, 1e15], [0.1, 0.3]).round(1)
    array([6.2, 5.1])
    """
    return r500_kpc(m500_msun, z, cosmo) / kpc_per_arcmin(z, cosmo)
