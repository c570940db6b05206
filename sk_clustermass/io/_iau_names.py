"""Sky positions from IAU source names such as ``eFEDS J093513.3+004746``.

An IAU designation ``Jhhmmss.s+ddmmss`` encodes the J2000 position, truncated (not
rounded) to the digits written: ``J093513.3+004746`` is RA 09h35m13.3s, Dec
+00d47'46". Catalogues that publish names but no coordinates (Chiu et al. 2022's eFEDS
mass table) can be placed on the sky with them, to the name's precision (here 0.1 s of
RA, 1.5 arcsec, and 1 arcsec of Dec: far below an eROSITA pixel).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

__all__ = ["positions_from_names"]

_DESIGNATION = re.compile(
    r"J(\d{2})(\d{2})(\d{2}(?:\.\d*)?)?\s*([+-])(\d{2})(\d{2})(\d{2}(?:\.\d*)?)?")


def _position(name: str) -> tuple[float, float] | None:
    match = _DESIGNATION.search(name)
    if match is None:
        return None
    hours, minutes, seconds, sign, degrees, arcmin, arcsec = match.groups()
    ra = 15.0 * (int(hours) + int(minutes) / 60 + float(seconds or 0) / 3600)
    dec = int(degrees) + int(arcmin) / 60 + float(arcsec or 0) / 3600
    if ra >= 360.0 or dec > 90.0:
        return None
    return ra, -dec if sign == "-" else dec


def positions_from_names(names: Sequence[str], column: str) -> tuple[np.ndarray, np.ndarray]:
    """RA and Dec (deg, J2000) parsed from IAU names ``... Jhhmmss.s+ddmmss``.

    Parameters
    ----------
    names : sequence of str
        One name per row, e.g. ``'eFEDS J093513.3+004746'``.
    column : str
        The column they come from, for the error message.

    Returns
    -------
    ra_deg, dec_deg : ndarray of shape (n_rows,)

    Raises
    ------
    ValueError
        If a name holds no J2000 designation, naming the row and the fix.

    Examples
    --------
    >>> ra, dec = positions_from_names(["eFEDS J093513.3+004746"], "Name")
    >>> f"{ra[0]:.4f} {dec[0]:.4f}"
    '143.8054 0.7961'
    """
    positions = [_position(str(name)) for name in names]
    bad = [i for i, position in enumerate(positions) if position is None]
    if bad:
        message = (f"the catalogue has no coordinate columns and {len(bad)} name(s) in "
                   f"column {column!r} hold no IAU designation 'Jhhmmss.s+ddmmss' (first "
                   f"at row {bad[0]}: {str(names[bad[0]])!r}); name the coordinate columns "
                   "with columns={'ra_deg': ..., 'dec_deg': ...}")
        raise ValueError(message)
    ra, dec = np.array(positions, dtype=np.float64).reshape(-1, 2).T
    return ra, dec
