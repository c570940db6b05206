"""Reading the library's HDF5 format: :func:`read_hdf5` and :class:`HDF5ClusterDataset`.

The layout is described in :mod:`._hdf5_format`; this module also re-exports the
writers of :mod:`._hdf5_writer`, so that ``sk_clustermass.io._hdf5`` offers the
whole format in one import.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd
from skorch.helper import SliceDict

from .._inputs import (
    EXPOSURE_KEY,
    IMAGES_KEY,
    REDSHIFT_KEY,
    as_inputs,
    check_exposure,
    check_target,
)
from ._hdf5_format import (
    CATALOG_KEY,
    TARGET_KEY,
    _fail,
    _inspect,
    _Layout,
    _open_file,
)
from ._hdf5_format import FORMAT_NAME as FORMAT_NAME  # re-exported
from ._hdf5_format import FORMAT_VERSION as FORMAT_VERSION  # re-exported
from ._hdf5_writer import HDF5ClusterWriter, write_hdf5

__all__ = ["HDF5ClusterDataset", "HDF5ClusterWriter", "read_hdf5", "write_hdf5"]


def _plain_attrs(attrs: h5py.AttributeManager) -> dict[str, Any]:
    """Attributes as Python values: scalars unwrapped, string arrays as lists."""
    plain: dict[str, Any] = {}
    for key, value in attrs.items():
        if isinstance(value, np.ndarray) and value.dtype == object:
            value = [item.decode() if isinstance(item, bytes) else item for item in value]
        elif isinstance(value, np.generic):
            value = value.item()
        plain[key] = value
    return plain


# ----------------------------------------------------------------------------- reading
def _normalize_rows(rows: Any, n_rows: int, path: Path) -> slice | np.ndarray:
    """Turn ``rows`` into a step-1 slice or an array of non-negative row indices."""
    if rows is None:
        return slice(0, n_rows)
    if isinstance(rows, slice):
        start, stop, step = rows.indices(n_rows)
        return slice(start, stop) if step == 1 else np.arange(start, stop, step)
    if isinstance(rows, bool | np.bool_):
        message = "rows must be row indices, a slice or a boolean mask, not a single bool"
        raise TypeError(message)
    array = np.atleast_1d(np.asarray(rows))
    if array.dtype == bool:
        if array.shape != (n_rows,):
            message = f"a boolean rows mask must have shape ({n_rows},); got {array.shape}"
            raise ValueError(message)
        return np.flatnonzero(array)
    if array.size == 0 and array.ndim == 1:
        return np.zeros(0, dtype=np.intp)
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
        message = (
            "rows must be None, a slice, an integer, a 1-D array of integer indices or a "
            f"boolean mask; got {type(rows).__name__} with dtype {array.dtype}"
        )
        raise TypeError(message)
    bad = (array < -n_rows) | (array >= n_rows)
    if bad.any():
        message = f"row index {array[bad][0]} is out of range for {n_rows} clusters in {path}"
        raise IndexError(message)
    return np.where(array < 0, array + n_rows, array).astype(np.intp)


def _selection_size(selection: slice | np.ndarray) -> int:
    if isinstance(selection, slice):
        return max(0, selection.stop - selection.start)
    return int(selection.size)


def _take(dataset: h5py.Dataset, selection: slice | np.ndarray) -> np.ndarray:
    """Read the selected rows, touching only the contiguous runs that contain them."""
    is_text = h5py.check_string_dtype(dataset.dtype) is not None
    source = dataset.asstr() if is_text else dataset
    if isinstance(selection, slice):
        return np.asarray(source[selection])
    unique, inverse = np.unique(selection, return_inverse=True)
    out = np.empty((unique.size, *dataset.shape[1:]), dtype=object if is_text else dataset.dtype)
    breaks = np.flatnonzero(np.diff(unique) != 1) + 1
    for start, stop in zip(np.r_[0, breaks], np.r_[breaks, unique.size]):
        out[start:stop] = source[unique[start] : unique[stop - 1] + 1]
    return out if np.array_equal(unique, selection) else out[inverse]


def _read_selection(
    file: h5py.File, layout: _Layout, rows: Any, path: Path, *, with_catalog: bool
) -> tuple[SliceDict, np.ndarray | None, pd.DataFrame | None]:
    selection = _normalize_rows(rows, layout.n_rows, path)
    n_selected = _selection_size(selection)
    if n_selected == 0:
        message = (
            f"{str(path)!r} holds no clusters"
            if layout.n_rows == 0
            else f"the rows selection {rows!r} selects no clusters from {str(path)!r}"
        )
        raise ValueError(message)
    try:
        images = _take(file[IMAGES_KEY], selection)
        redshift = _take(file[REDSHIFT_KEY], selection)
        exposure = _take(file[EXPOSURE_KEY], selection) if layout.has_exposure else None
        target = _take(file[TARGET_KEY], selection) if layout.has_target else None
        catalog = None
        if with_catalog and CATALOG_KEY in file:
            group = file[CATALOG_KEY]
            columns = {name: _take(group[name], selection) for name in layout.columns}
            catalog = pd.DataFrame(columns, index=pd.RangeIndex(n_selected))
    except (OSError, RuntimeError) as exc:
        raise _fail(path, f"reading its data failed ({exc}); it is damaged") from exc
    try:
        X = as_inputs(images, redshift, exposure=exposure, counts=False)
        y = None if target is None else check_target(target, n_selected)
    except ValueError as exc:
        raise _fail(path, str(exc)) from exc
    return X, y, catalog


def read_hdf5(
    path: str | os.PathLike, *, rows: Any = None
) -> tuple[SliceDict, np.ndarray | None, pd.DataFrame | None]:
    """Read clusters written by :func:`write_hdf5` or :class:`HDF5ClusterWriter`.

    Parameters
    ----------
    path : str or os.PathLike
        The HDF5 file.
    rows : None, int, slice, array-like of int or boolean mask, default=None
        Which clusters to read (all when None). Only the selected rows are read from
        disk, so memory is bounded by the selection, not the file. Indices may be
        unsorted, repeated or negative; the result follows their order.

    Returns
    -------
    X : skorch.helper.SliceDict
        ``X["images"]`` float32 of shape (n_selected, n_bands, height, width),
        ``X["redshift"]`` float32 of shape (n_selected,) and, if the file holds
        exposures, ``X["exposure"]`` float32 of shape (n_selected,) in s.
    y : ndarray of shape (n_selected,) or None
        ``log10(M500c / Msun)`` as float64; None if the file holds no target.
    catalog : pandas.DataFrame or None
        One row per selected cluster, in the same order, with a fresh RangeIndex;
        None if the file holds no catalogue.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not HDF5, is truncated or damaged, lacks a required dataset, or
        the selection is empty.
    IndexError
        If a row index is out of range.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from sk_clustermass import as_inputs
    >>> from sk_clustermass.datasets import read_hdf5, write_hdf5
    >>> X = as_inputs(np.ones((4, 10, 8, 8)), [0.1, 0.2, 0.3, 0.4])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "clusters.h5"
    ...     write_hdf5(path, X, [14.0, 13.5, 14.2, 13.9])
    ...     X2, y2, catalog = read_hdf5(path, rows=[3, 0])
    >>> X2["images"].shape, y2, catalog is None
    ((2, 10, 8, 8), array([13.9, 14. ]), True)
    """
    path = Path(path)
    with _open_file(path) as file:
        layout = _inspect(file, path)
        return _read_selection(file, layout, rows, path, with_catalog=True)


# ----------------------------------------------------------------------------- lazy view
class HDF5ClusterDataset:
    """A lazy, picklable view of a cluster HDF5 file, for out-of-core work.

    The file is checked when the view is created, then opened on first :meth:`read`
    in each process (a copy unpickled in a worker process opens its own handle), so
    the view can be sent to joblib or DataLoader workers. Nothing but the selected
    rows is held in memory.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`write_hdf5` or :class:`HDF5ClusterWriter`.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    n_bands : int
        Number of energy bands.
    image_shape : tuple of int
        Shape of one cluster's cube, (n_bands, height, width), i.e.
        ``X["images"].shape[1:]``.
    has_target : bool
        Whether the file holds ``log10_m500c``.
    has_exposure : bool
        Whether the file holds ``exposure`` (s per cluster).
    columns : tuple of str
        Catalogue columns (empty if there is no catalogue).
    attrs : dict
        File attributes (format, versions, band edges, user attributes).

    Raises
    ------
    FileNotFoundError, ValueError
        As :func:`read_hdf5`, when the file is missing, not valid, or replaced by a file
        with a different layout after the view was created.

    Examples
    --------
    >>> import pickle, tempfile, pathlib
    >>> import numpy as np
    >>> from sk_clustermass import as_inputs
    >>> from sk_clustermass.datasets import HDF5ClusterDataset, write_hdf5
    >>> X = as_inputs(np.ones((5, 10, 8, 8)), np.linspace(0.1, 0.5, 5))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "clusters.h5"
    ...     write_hdf5(path, X, np.linspace(13, 15, 5))
    ...     data = HDF5ClusterDataset(path)
    ...     copy = pickle.loads(pickle.dumps(data))
    ...     X_batch, y_batch = copy.read(slice(1, 3))
    ...     data.close(); copy.close()
    >>> len(data), data.image_shape, y_batch
    (5, (10, 8, 8), array([13.5, 14. ]))
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        with _open_file(self.path) as file:
            self._layout = _inspect(file, self.path)
            self.attrs = _plain_attrs(file.attrs)
        self._file: h5py.File | None = None
        self._pid: int | None = None

    def __len__(self) -> int:
        return self._layout.n_rows

    @property
    def n_bands(self) -> int:
        """Number of energy bands."""
        return self._layout.image_shape[0]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """Shape (n_bands, height, width) of one cluster's cube."""
        return self._layout.image_shape

    @property
    def has_target(self) -> bool:
        """Whether the file holds ``log10_m500c``."""
        return self._layout.has_target

    @property
    def has_exposure(self) -> bool:
        """Whether the file holds the exposure (s) of every cluster."""
        return self._layout.has_exposure

    @property
    def columns(self) -> tuple[str, ...]:
        """Catalogue column names, in order."""
        return self._layout.columns

    def _handle(self) -> h5py.File:
        if self._file is None or self._pid != os.getpid() or not self._file.id.valid:
            file = _open_file(self.path)
            if _inspect(file, self.path) != self._layout:
                file.close()
                raise _fail(self.path, "it changed on disk since this view was created")
            self._file, self._pid = file, os.getpid()
        return self._file

    def read(self, rows: Any) -> tuple[SliceDict, np.ndarray | None]:
        """Read the selected clusters.

        Parameters
        ----------
        rows : int, slice, array-like of int or boolean mask
            The clusters to read (see :func:`read_hdf5`).

        Returns
        -------
        X : skorch.helper.SliceDict
            Images (n_selected, n_bands, height, width), redshift (n_selected,) and,
            if the file holds it, exposure (n_selected,).
        y : ndarray of shape (n_selected,) or None
            ``log10(M500c / Msun)``, None if the file has no target.
        """
        X, y, _ = _read_selection(self._handle(), self._layout, rows, self.path, with_catalog=False)
        return X, y

    def read_target(self) -> np.ndarray:
        """All ``log10(M500c / Msun)`` values of the file, as float64.

        Raises
        ------
        ValueError
            If the file holds no target, or a value is not finite.
        """
        if not self.has_target:
            raise ValueError(f"{str(self.path)!r} holds no {TARGET_KEY} target")
        return self._read_checked(TARGET_KEY, "targets", check_target)

    def read_exposure(self) -> np.ndarray:
        """All exposure times of the file, s, as float32 of shape (n_rows,).

        Raises
        ------
        ValueError
            If the file holds no exposure, or a value is not finite and > 0.
        """
        if not self.has_exposure:
            message = (
                f"{str(self.path)!r} holds no /{EXPOSURE_KEY} dataset (exposure time per "
                "cluster, s); write the file again from an X with X['exposure'] "
                "(as_inputs(images, redshift, exposure=...))"
            )
            raise ValueError(message)
        return self._read_checked(EXPOSURE_KEY, "exposures", check_exposure)

    def _read_checked(self, key: str, what: str, check: Any) -> np.ndarray:
        """A whole per-cluster dataset, validated by ``check(values, n_rows)``."""
        try:
            values = self._handle()[key][()]
        except (OSError, RuntimeError) as exc:
            raise _fail(self.path, f"reading its {what} failed ({exc}); it is damaged") from exc
        try:
            return check(values, len(self))
        except ValueError as exc:
            raise _fail(self.path, str(exc)) from exc

    def read_into(self, start: int, images: np.ndarray, redshift: np.ndarray) -> None:
        """Read consecutive clusters into arrays the caller owns, allocating nothing.

        For loops that stream a file through fixed buffers (out-of-core training):
        fresh arrays for every block would cost page faults worth more than the read.

        Parameters
        ----------
        start : int
            First row; rows ``start`` to ``start + len(images)`` are read.
        images : ndarray of shape (n, n_bands, height, width), float32, C-contiguous
            Filled with the image cubes.
        redshift : ndarray of shape (n,), float32
            Filled with the redshifts.

        Raises
        ------
        ValueError
            If the arrays do not fit the file's layout, the rows run past its end, or
            the data read is damaged or not finite.
        """
        n = len(images)
        if (
            images.shape[1:] != self.image_shape
            or images.dtype != np.float32
            or not images.flags.c_contiguous
            or redshift.shape != (n,)
            or redshift.dtype != np.float32
        ):
            message = (
                f"read_into needs float32 arrays of shapes (n, *{self.image_shape}) and (n,), "
                f"images C-contiguous; got {images.dtype} {images.shape} and "
                f"{redshift.dtype} {redshift.shape}"
            )
            raise ValueError(message)
        if not 0 <= start <= start + n <= len(self):
            message = f"rows {start}:{start + n} run outside the {len(self)} rows of the file"
            raise ValueError(message)
        if n == 0:
            return
        file, rows = self._handle(), np.s_[start : start + n]
        try:
            file[IMAGES_KEY].read_direct(images, rows)
            file[REDSHIFT_KEY].read_direct(redshift, rows)
        except (OSError, RuntimeError) as exc:
            raise _fail(self.path, f"reading its data failed ({exc}); it is damaged") from exc
        try:
            as_inputs(images, redshift, counts=False)
        except ValueError as exc:
            raise _fail(self.path, f"rows {start}:{start + n}: {exc}") from exc

    def read_catalog(self, rows: Any = None) -> pd.DataFrame | None:
        """Read the catalogue rows for ``rows`` (all when None); None without a catalogue."""
        if not self.columns:
            return None
        selection = _normalize_rows(rows, len(self), self.path)
        group = self._handle()[CATALOG_KEY]
        try:
            values = {name: _take(group[name], selection) for name in self.columns}
        except (OSError, RuntimeError) as exc:
            raise _fail(self.path, f"reading its catalogue failed ({exc})") from exc
        return pd.DataFrame(values, index=pd.RangeIndex(_selection_size(selection)))

    def close(self) -> None:
        """Close this process's file handle (the next read reopens it)."""
        if self._file is not None and self._pid == os.getpid():
            self._file.close()
        self._file, self._pid = None, None

    def __enter__(self) -> HDF5ClusterDataset:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_file"], state["_pid"] = None, None
        return state

    def __repr__(self) -> str:
        shape = self.image_shape
        return f"HDF5ClusterDataset({str(self.path)!r}, n={len(self)}, image_shape={shape})"
