"""Pixels of the image cubes: 24" pixels, 50 x 50 pixel (20') cut-outs.

The pixel is the 4" event binning rebinned by 6, as in the lab's 300 x 300 px
cut-outs (PHYSICS.md, assumed). Image axes are (..., height, width) = (y, x); the
cluster sits at the centre, pixel ``(image_size - 1) / 2``.
"""

from __future__ import annotations

__all__ = ["DEFAULT_IMAGE_SIZE", "DEFAULT_PIXEL_ARCSEC"]

#: Pixel side in arcsec.
DEFAULT_PIXEL_ARCSEC: float = 24.0

#: Side of a cut-out in pixels (50 x 24" = 20').
DEFAULT_IMAGE_SIZE: int = 50
