"""Energy bands of the image cubes: 10 equal bins over 0.25–2.3 keV.

The bands are 0.205 keV wide, the layout of the lab's image cubes (PHYSICS.md). The
simulator renders into these bands, the readers label their cubes with them and
:class:`~sk_clustermass.preprocessing.BandMerge` groups them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DEFAULT_BAND_EDGES_KEV", "band_edges_kev"]


def band_edges_kev(n_bands: int = 10, low_kev: float = 0.25, high_kev: float = 2.3) -> np.ndarray:
    """Edges of ``n_bands`` equal-width energy bands, in keV.

    Parameters
    ----------
    n_bands : int, default=10
    low_kev, high_kev : float, default=0.25, 2.3
        The lab's band range (PHYSICS.md).

    Returns
    -------
    ndarray of shape (n_bands + 1,)

    Examples
    --------
    >>> from sk_clustermass.instrument import band_edges_kev
    >>> band_edges_kev()[:3].round(3)
    array([0.25 , 0.455, 0.66 ])
    """
    if n_bands < 1 or not 0 < low_kev < high_kev:
        message = (
            f"need n_bands >= 1 and 0 < low_kev < high_kev; got n_bands={n_bands}, "
            f"low_kev={low_kev}, high_kev={high_kev}"
        )
        raise ValueError(message)
    return np.linspace(low_kev, high_kev, n_bands + 1)


#: The default band edges: 0.250 0.455 ... 2.300 keV (10 bands of 0.205 keV).
DEFAULT_BAND_EDGES_KEV: tuple[float, ...] = tuple(float(e) for e in band_edges_kev())
