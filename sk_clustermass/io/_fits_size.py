"""A FITS header's declared data size against the file's: forged headers refused before reading.

A header is a few cards of text; ``NAXIS1 = 100000`` costs nothing to write, and a reader
that trusts it allocates terabytes (a ``MemoryError``) or reads past the end of the file.
Every reader of the library compares what an HDU declares with what the file can hold
first.
"""

from __future__ import annotations

from pathlib import Path

from astropy.io import fits

__all__ = ["check_declared_size", "declared_bytes"]

#: gzip and bzip2 shrink data at most about 1000-fold (deflate's limit is 1032:1), so
#: a compressed file cannot hold more than this many times its own size.
_MAX_COMPRESSION_RATIO = 1100
_COMPRESSED_MAGIC = (b"\x1f\x8b", b"BZh", b"PK\x03\x04")


def declared_bytes(header: fits.Header) -> int:
    """Bytes of the data an image header declares (NAXISn x |BITPIX| / 8)."""
    size = abs(int(header.get("BITPIX", 8))) // 8
    for axis in range(1, int(header.get("NAXIS", 0)) + 1):
        size *= max(int(header.get(f"NAXIS{axis}", 0)), 0)
    return size


def check_declared_size(header: fits.Header, path: Path, *, tiled: bool,
                         what: str = "a cube") -> None:
    """Refuse a header that declares more data than the file can hold, before reading.

    ``tiled`` marks a tile-compressed image, whose data may be smaller than declared;
    ``what`` names the HDU in the message (a binary table's NAXIS1 x NAXIS2 are its
    bytes too).
    """
    file_size = path.stat().st_size
    with path.open("rb") as handle:
        compressed = tiled or handle.read(4).startswith(_COMPRESSED_MAGIC)
    limit = file_size * (_MAX_COMPRESSION_RATIO if compressed else 1)
    declared = declared_bytes(header)
    if declared > limit:
        axes = int(header.get("NAXIS", 0))
        shape = tuple(header.get(f"NAXIS{i}") for i in range(axes, 0, -1))
        message = (
            f"{str(path)!r} declares {what} of {declared:,} bytes (shape {shape}, BITPIX "
            f"{header.get('BITPIX')}) but the file has only {file_size:,} bytes: its header "
            "is damaged or forged. Write or copy the file again."
        )
        raise ValueError(message)
