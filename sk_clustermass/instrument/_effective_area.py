"""Effective area of eROSITA: the 7 telescope modules summed, on axis.

From the official ARF (January 2023), tabulated at 0.2–8 keV and interpolated
linearly here (PHYSICS.md).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["ARF_BAND_MEANS_CM2", "EFFECTIVE_AREA_TABLE", "effective_area_cm2"]

#: eROSITA on-axis effective area of the 7 telescopes, (energy keV, area cm^2), from
#: the official ARF (January 2023) as quoted in PHYSICS.md, including the peak of
#: ~2530 cm^2 at 1.54 keV.
EFFECTIVE_AREA_TABLE: tuple[tuple[float, float], ...] = (
    (0.2, 98.0),
    (0.3, 147.0),
    (0.5, 1089.0),
    (0.7, 1617.0),
    (1.0, 2188.0),
    (1.2, 2412.0),
    (1.5, 2504.0),
    (1.54, 2530.0),
    (2.0, 1987.0),
    (2.3, 555.0),
    (3.0, 684.0),
    (4.0, 589.0),
    (5.0, 432.0),
    (6.0, 299.0),
    (7.0, 203.0),
    (8.0, 134.0),
)

#: Band means of the ARF for the 10 default bands, cm^2 (PHYSICS.md); the linear
#: interpolation of :data:`EFFECTIVE_AREA_TABLE` reproduces them within 16%.
ARF_BAND_MEANS_CM2: tuple[float, ...] = (
    431.0, 1173.0, 1765.0, 2133.0, 2381.0, 2479.0, 2294.0, 2142.0, 1974.0, 1241.0,
)


def effective_area_cm2(
    energy_kev: ArrayLike, table: tuple[tuple[float, float], ...] = EFFECTIVE_AREA_TABLE
) -> np.ndarray:
    """On-axis effective area in cm^2, linearly interpolated in a tabulated ARF.

    Parameters
    ----------
    energy_kev : array-like
        Observed photon energies in keV.
    table : tuple of (energy_kev, area_cm2) pairs, default=EFFECTIVE_AREA_TABLE
        Increasing energies. Outside the table the end values are held.

    Returns
    -------
    ndarray
        Effective area in cm^2, same shape as ``energy_kev``.

    Examples
    --------
    >>> from sk_clustermass.instrument import effective_area_cm2
    >>> effective_area_cm2([0.5, 1.0, 1.25]).round(1)
    array([1089. , 2188. , 2427.3])
    """
    grid = np.asarray(table, dtype=np.float64)
    return np.interp(np.asarray(energy_kev, dtype=np.float64), grid[:, 0], grid[:, 1])
