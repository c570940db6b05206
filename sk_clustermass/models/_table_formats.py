"""The table formats of mass tables, by name and file suffix (no astropy needed).

:data:`TABLE_FORMATS` and :func:`table_format` are read by the command line's options
and checks before any table is made, so they import nothing heavy.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["TABLE_FORMATS", "table_format"]

#: format name -> (astropy writer, file suffixes).
TABLE_FORMATS: dict[str, tuple[str, tuple[str, ...]]] = {
    "ecsv": ("ascii.ecsv", (".ecsv",)),
    "fits": ("fits", (".fits", ".fit", ".fts", ".fits.gz")),
}


def table_format(path: str | os.PathLike, format: str | None = None) -> str:
    """The table format of ``path``: from ``format`` or the suffix, which must agree.

    Parameters
    ----------
    path : str or os.PathLike
        Output file.
    format : {'ecsv', 'fits'}, optional
        Asked-for format; by default the one the suffix names.

    Returns
    -------
    str
        'ecsv' or 'fits'.

    Raises
    ------
    ValueError
        If the format is unknown, the suffix names no format and none is given, or
        the suffix names another format than ``format``.

    Examples
    --------
    >>> from sk_clustermass.models import table_format
    >>> table_format("masses.fits"), table_format("masses.ecsv", "ecsv")
    ('fits', 'ecsv')
    """
    name = Path(path).name.lower()
    by_suffix = next((kind for kind, (_, suffixes) in TABLE_FORMATS.items()
                      if name.endswith(suffixes)), None)
    if format is not None and format not in TABLE_FORMATS:
        message = f"format {format!r} is unknown; choose one of {list(TABLE_FORMATS)}"
        raise ValueError(message)
    if format is None and by_suffix is None:
        suffixes = [s for _, (_, group) in TABLE_FORMATS.items() for s in group]
        message = (f"cannot tell the table format of {str(path)!r} from its suffix; name "
                   f"it with one of {suffixes} or give the format ({list(TABLE_FORMATS)})")
        raise ValueError(message)
    if format is not None and by_suffix is not None and format != by_suffix:
        message = (f"output {str(path)!r} has a {by_suffix} suffix but the format asked "
                   f"for is {format}; rename the file (e.g. "
                   f"{Path(path).stem}{TABLE_FORMATS[format][1][0]}) or change the format")
        raise ValueError(message)
    return format or by_suffix
