"""The eROSITA-like instrument: energy bands, pixels, PSF and effective area.

What describes the telescope and the image cubes, shared by the simulator
(:mod:`sk_clustermass.simulate`), the readers (:mod:`sk_clustermass.io`) and the
preprocessing. Survey choices (exposure, background, detection) belong to the
simulator's :class:`~sk_clustermass.simulate.Survey`.

- bands (:mod:`._bands`): 10 equal bins over 0.25–2.3 keV;
- pixels (:mod:`._pixels`): 24" pixels, 50 x 50 pixel cut-outs;
- PSF (:mod:`._psf`): King profile, rc = 8.64", alpha = 1.5, HEW 30";
- effective area (:mod:`._effective_area`): the official ARF (January 2023).

Units are in the names (``_kev``, ``_arcsec``, ``_cm2``). Every number and its source
is listed in ``docs/simulator.md``.
"""

from ._bands import DEFAULT_BAND_EDGES_KEV, band_edges_kev
from ._effective_area import ARF_BAND_MEANS_CM2, EFFECTIVE_AREA_TABLE, effective_area_cm2
from ._pixels import DEFAULT_IMAGE_SIZE, DEFAULT_PIXEL_ARCSEC
from ._psf import (
    king_encircled_fraction,
    king_half_energy_width_arcsec,
    king_psf_arcsec2,
    psf_pixel_kernel,
)

__all__ = [
    "ARF_BAND_MEANS_CM2",
    "DEFAULT_BAND_EDGES_KEV",
    "DEFAULT_IMAGE_SIZE",
    "DEFAULT_PIXEL_ARCSEC",
    "EFFECTIVE_AREA_TABLE",
    "band_edges_kev",
    "effective_area_cm2",
    "king_encircled_fraction",
    "king_half_energy_width_arcsec",
    "king_psf_arcsec2",
    "psf_pixel_kernel",
]
