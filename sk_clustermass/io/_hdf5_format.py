"""The library's own HDF5 format for cluster image cubes, targets and catalogues.

This module holds the layout, its constants and the checks that a file follows it;
:mod:`._hdf5_writer` writes files and :mod:`._hdf5` reads them.

One file holds one data set, rows aligned across every dataset in it:

``/images``
    float32 ``(n, n_bands, height, width)``, chunked one cluster per chunk so a random
    row costs one chunk read, compressed with byte shuffling + DEFLATE by default
    (``gzip``, built into every HDF5 library: plain h5py reads the file; 7.2 kB per
    simulated cluster and about 0.28 ms to read). ``compression="bitshuffle"`` (bit
    shuffling + LZ4, the HDF5 filter 32008 that :mod:`hdf5plugin` registers) is the
    opt-in for speed: 5.7 kB and 0.065 ms, but other programs need that plugin.
    Every numeric dataset carries Fletcher-32 chunk checksums, so damaged data fails
    on read instead of returning wrong numbers.
``/redshift``
    float32 ``(n,)``.
``/exposure``
    float32 ``(n,)``, the exposure time of every cluster in s (> 0); optional, read
    into ``X["exposure"]`` (see ``use_exposure`` of the regressor). Readers that
    predate it ignore it.
``/log10_m500c``
    float64 ``(n,)``, ``log10(M500c / Msun)``; absent for unlabelled data.
``/catalog/<column>``
    one 1-D dataset per catalogue column (numbers, booleans or UTF-8 strings); the
    column order is the JSON list in the group attribute ``columns``.

Root attributes: ``format`` (``"sk_clustermass.clusters"``), ``format_version``,
``library_version``, ``n_bands``, ``height``, ``width``, optional ``band_edges_kev``
(``n_bands + 1`` increasing edges) and any user attributes. Every dataset is
resizable, so :class:`HDF5ClusterWriter` can stream any number of clusters with
memory bounded by what one ``append`` is given; files are written under a temporary
name and renamed when complete (see :func:`~sk_clustermass._utils._atomic.atomic_path`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import h5py
import hdf5plugin  # noqa: F401 - registers the bitshuffle filter: older files use it
import numpy as np

from .._inputs import EXPOSURE_KEY, IMAGES_KEY, REDSHIFT_KEY

__all__ = ["CATALOG_KEY", "FORMAT_NAME", "FORMAT_VERSION", "TARGET_KEY"]

FORMAT_NAME = "sk_clustermass.clusters"
FORMAT_VERSION = 1
TARGET_KEY = "log10_m500c"
CATALOG_KEY = "catalog"
BAND_EDGES_ATTR = "band_edges_kev"
_RESERVED_ATTRS = ("format", "format_version", "library_version", "n_bands", "height", "width")
_COMPRESSIONS = ("bitshuffle", "lzf", "gzip", None)
#: Built into HDF5 itself, so any h5py (or h5dump, HDF5.jl, ...) reads our files.
DEFAULT_COMPRESSION = "gzip"


# ----------------------------------------------------------------------------- layout
@dataclass(frozen=True)
class _Layout:
    """What a validated file holds; compared on reopen to detect a replaced file."""

    n_rows: int
    image_shape: tuple[int, int, int]
    has_target: bool
    columns: tuple[str, ...]
    has_exposure: bool = False


def _fail(path: Path | str, problem: str) -> ValueError:
    message = (
        f"{str(path)!r} is not a valid sk_clustermass HDF5 file: {problem}. "
        "Write it again with write_hdf5 or HDF5ClusterWriter (or copy it again if "
        "a transfer was interrupted)."
    )
    return ValueError(message)


def _open_file(path: Path) -> h5py.File:
    if not path.is_file():
        message = f"HDF5 file {str(path)!r} does not exist (or is not a file)"
        raise FileNotFoundError(message)
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise _fail(path, f"it cannot be opened as HDF5 ({exc}); it may be truncated") from exc


def _refuse_external_link(file: h5py.File, name: str, path: Path) -> None:
    link = file.get(name, getlink=True)
    if isinstance(link, h5py.ExternalLink):
        raise _fail(path, f"'/{name}' is an external link to '/{link.path.lstrip('/')}' in "
                          f"{link.filename!r}; the format holds its data in one file")


def _check_storage(node: h5py.Dataset, name: str, path: Path) -> None:
    """Refuse data kept elsewhere or never written: virtual datasets (other files, read
    as fill values when those are missing), external raw storage, and datasets whose
    declared shape is mostly unallocated (a few kB declaring 10^9 rows of fill values)."""
    if node.is_virtual:
        raise _fail(path, f"'/{name}' is a virtual dataset (a view of other files, read as "
                          "zeros where they are missing); copy its data into the file")
    if node.external:
        raise _fail(path, f"'/{name}' keeps its data in external files "
                          f"({[entry[0] for entry in node.external]})")
    if node.size == 0:
        return
    if node.chunks is None:
        stored, declared = node.id.get_storage_size(), node.nbytes
    else:
        stored = node.id.get_num_chunks()
        declared = int(np.prod([-(-size // chunk)
                                for size, chunk in zip(node.shape, node.chunks)]))
    if stored < declared:
        unit = "bytes" if node.chunks is None else "chunks"
        raise _fail(path, f"'/{name}' declares shape {node.shape} but only {stored} of its "
                          f"{declared} {unit} were ever written (a truncated or crafted file)")


def _require_dataset(file: h5py.File, name: str, ndim: int, n_rows: int | None, path: Path):
    _refuse_external_link(file, name, path)
    node = file.get(name)
    if not isinstance(node, h5py.Dataset):
        raise _fail(path, f"the dataset '/{name}' is missing")
    if node.ndim != ndim or (n_rows is not None and node.shape[0] != n_rows):
        expected = f"{ndim}-D" + ("" if n_rows is None else f" with {n_rows} rows")
        raise _fail(path, f"'/{name}' has shape {node.shape}, expected {expected}")
    _check_storage(node, name, path)
    return node


def _check_declared_cube(file: h5py.File, shape: tuple[int, ...], path: Path) -> None:
    """The root attributes n_bands, height, width must describe ``/images``' rows."""
    declared = tuple(file.attrs.get(name) for name in ("n_bands", "height", "width"))
    declared = tuple(int(v) if isinstance(v, int | np.integer) else v for v in declared)
    if declared != tuple(shape):
        raise _fail(path, f"its attributes (n_bands, height, width) = {declared} do not match "
                          f"'/images' rows of shape {tuple(shape)}; the axes may be in the "
                          "wrong order (the format is channels first)")
    edges = file.attrs.get(BAND_EDGES_ATTR)
    if edges is not None and np.shape(edges) != (shape[0] + 1,):
        raise _fail(path, f"'{BAND_EDGES_ATTR}' holds {np.size(edges)} edges for "
                          f"{shape[0]} bands (expected {shape[0] + 1})")


def _inspect(file: h5py.File, path: Path) -> _Layout:
    if file.attrs.get("format") != FORMAT_NAME:
        raise _fail(path, f"the root attribute 'format' is not {FORMAT_NAME!r}")
    version = file.attrs.get("format_version")
    if not isinstance(version, int | np.integer):
        raise _fail(path, f"the root attribute 'format_version' is {version!r}, not an integer")
    if version > FORMAT_VERSION:
        message = (
            f"{str(path)!r} has format_version {version!r} but this sk_clustermass reads "
            f"versions up to {FORMAT_VERSION}; upgrade sk_clustermass to read it"
        )
        raise ValueError(message)
    images = _require_dataset(file, IMAGES_KEY, 4, None, path)
    _check_declared_cube(file, images.shape[1:], path)
    n_rows = images.shape[0]
    _require_dataset(file, REDSHIFT_KEY, 1, n_rows, path)
    has_target = TARGET_KEY in file
    if has_target:
        _require_dataset(file, TARGET_KEY, 1, n_rows, path)
    has_exposure = EXPOSURE_KEY in file
    if has_exposure:
        _require_dataset(file, EXPOSURE_KEY, 1, n_rows, path)
    columns: tuple[str, ...] = ()
    if CATALOG_KEY in file:
        _refuse_external_link(file, CATALOG_KEY, path)
        try:
            columns = tuple(json.loads(file[CATALOG_KEY].attrs["columns"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise _fail(path, "the catalog group has no valid 'columns' attribute") from exc
        for name in columns:
            _require_dataset(file, f"{CATALOG_KEY}/{name}", 1, n_rows, path)
    return _Layout(n_rows, tuple(images.shape[1:]), has_target, columns, has_exposure)


