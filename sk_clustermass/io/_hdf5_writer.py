"""Writing the library's HDF5 format: :class:`HDF5ClusterWriter` and :func:`write_hdf5`.

The layout is described in :mod:`._hdf5_format`. Files are written under a temporary
name and renamed when complete (see :func:`~sk_clustermass._utils._atomic.atomic_path`);
SIGTERM while a writer is open acts as Ctrl-C, so ``kill`` removes the temporary file.

A write the file system refuses (disk full, quota, ``ulimit -f``) leaves HDF5 with data
it cannot flush; closing such a file fails again half-way and HDF5 then crashes the
process (a segmentation fault) on the next close or at exit. A writer that gives up
therefore points the file's descriptor at the null device before closing it: the last
flush goes nowhere, the file closes cleanly, and the temporary file is removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import h5py
import hdf5plugin
import numpy as np
import pandas as pd

from .._inputs import EXPOSURE_KEY, IMAGES_KEY, REDSHIFT_KEY, as_inputs, check_target
from .._utils import (
    commit_temporary,
    discard_temporary,
    new_temporary,
    raise_if_signalled,
    sigterm_as_keyboard_interrupt,
)
from .._version import __version__
from ._hdf5_format import (
    _COMPRESSIONS,
    _RESERVED_ATTRS,
    BAND_EDGES_ATTR,
    CATALOG_KEY,
    DEFAULT_COMPRESSION,
    FORMAT_NAME,
    FORMAT_VERSION,
    TARGET_KEY,
)

__all__ = ["HDF5ClusterWriter", "write_hdf5"]


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        message = f"{name} must be a positive integer; got {value!r}"
        raise ValueError(message)
    return int(value)


def _check_compression(compression: Any) -> str | None:
    if not any(compression is option or compression == option for option in _COMPRESSIONS):
        message = (
            "compression must be one of 'bitshuffle', 'lzf', 'gzip' or None; "
            f"got {compression!r}"
        )
        raise ValueError(message)
    return compression


def _check_band_edges(edges: Any, n_bands: int) -> np.ndarray:
    array = np.asarray(edges, dtype=np.float64)
    valid = (
        array.ndim == 1
        and array.size == n_bands + 1
        and np.all(np.isfinite(array))
        and np.all(array >= 0)
        and np.all(np.diff(array) > 0)
    )
    if not valid:
        message = (
            f"attrs[{BAND_EDGES_ATTR!r}] must be {n_bands + 1} increasing, finite, "
            f"non-negative energies in keV (n_bands + 1 edges); got {edges!r}"
        )
        raise ValueError(message)
    return array


def _check_attrs(attrs: Mapping[str, Any] | None, n_bands: int) -> dict[str, Any]:
    if attrs is None:
        return {}
    if not isinstance(attrs, Mapping):
        message = f"attrs must be a dict of file attributes; got {type(attrs).__name__}"
        raise TypeError(message)
    checked: dict[str, Any] = {}
    for key, value in attrs.items():
        if not isinstance(key, str) or key in _RESERVED_ATTRS:
            message = (
                f"attrs key {key!r} is not allowed: keys must be strings other than the "
                f"reserved {list(_RESERVED_ATTRS)}, which the writer sets itself"
            )
            raise ValueError(message)
        checked[key] = _check_band_edges(value, n_bands) if key == BAND_EDGES_ATTR else value
    return checked


# ----------------------------------------------------------------------------- catalogue
def _column_array(name: str, series: pd.Series) -> np.ndarray:
    """One catalogue column as a numpy array HDF5 can store (numbers, bools or str)."""
    dtype = series.dtype
    types = pd.api.types
    if types.is_bool_dtype(dtype) or types.is_numeric_dtype(dtype):
        if isinstance(dtype, pd.api.extensions.ExtensionDtype):
            numpy_dtype = np.dtype(getattr(dtype, "numpy_dtype", np.float64))
            if numpy_dtype.kind == "f":
                return series.to_numpy(dtype=numpy_dtype, na_value=np.nan)
            if series.isna().any():
                message = (
                    f"catalog column {name!r} ({dtype}) has missing values, which an "
                    "HDF5 integer or boolean column cannot hold; fill them or convert the "
                    "column to float (missing -> NaN)"
                )
                raise ValueError(message)
            return series.to_numpy(dtype=numpy_dtype)
        values = series.to_numpy()
        if values.dtype.kind in "biuf":
            return values
    elif types.is_string_dtype(dtype):
        if series.isna().any():
            message = (
                f"catalog column {name!r} has missing strings; fill them first, e.g. "
                f"catalog[{name!r}] = catalog[{name!r}].fillna('')"
            )
            raise ValueError(message)
        values = series.to_numpy(dtype=object)
        if all(isinstance(value, str) for value in values):
            return values
    message = (
        f"catalog column {name!r} has dtype {dtype}, which cannot be stored: catalogue "
        "columns must hold numbers, booleans or strings. Convert it first (for example "
        ".astype(str) for categories or dates)."
    )
    raise TypeError(message)


def _catalog_to_arrays(catalog: Any, n_rows: int) -> dict[str, np.ndarray] | None:
    """Validate a catalogue against ``n_rows`` clusters and convert it column by column."""
    if catalog is None:
        return None
    if not isinstance(catalog, pd.DataFrame):
        message = f"catalog must be a pandas DataFrame or None; got {type(catalog).__name__}"
        raise TypeError(message)
    if len(catalog) != n_rows:
        message = (
            f"catalog has {len(catalog)} rows but X has {n_rows} clusters; the catalogue "
            "needs one row per cluster, in the same order"
        )
        raise ValueError(message)
    names = list(catalog.columns)
    for name in names:
        if not isinstance(name, str) or not name or "/" in name or name == ".":
            message = (
                f"catalog column name {name!r} cannot be an HDF5 dataset name: use "
                "non-empty strings without '/' (rename with catalog.rename(columns=...))"
            )
            raise ValueError(message)
    if len(set(names)) != len(names):
        message = f"catalog has duplicate column names: {names}"
        raise ValueError(message)
    return {name: _column_array(name, catalog[name]) for name in names}


def _check_schema_compatible(
    schema: dict[str, np.dtype] | None, columns: dict[str, np.ndarray] | None
) -> None:
    """Check that a later append's catalogue matches the first one's columns and kinds."""
    expected = None if schema is None else list(schema)
    names = None if columns is None else list(columns)
    if names != expected:
        message = (
            f"catalog columns {names} differ from the first append's {expected}; give "
            "the same columns in every append (or no catalogue in every append)"
        )
        raise ValueError(message)
    for name, values in (columns or {}).items():
        stored = schema[name]
        text, stored_text = values.dtype.kind == "O", stored.kind == "O"
        if text != stored_text or not (
            text or np.can_cast(values.dtype, stored, casting="same_kind")
        ):
            message = (
                f"catalog column {name!r} has dtype {values.dtype} in this append but "
                f"{'str' if stored_text else stored} in the first; cast it consistently"
            )
            raise ValueError(message)


# ----------------------------------------------------------------------------- writing
def _refused_write(exc: BaseException, path: Path) -> BaseException:
    """An :class:`OSError` naming ``path`` for a write HDF5 reports failed with an errno.

    HDF5 reports a write the system refused as an ``OSError`` or a ``RuntimeError`` whose
    message holds the errno and the temporary file's name; anything else is returned as
    it is.
    """
    code = getattr(exc, "errno", None)
    if code is None and isinstance(exc, RuntimeError):
        found = re.search(r"errno = (\d+)", str(exc))
        code = int(found[1]) if found else None
    if not isinstance(exc, OSError | RuntimeError) or not code:
        return exc
    message = (f"could not write {str(path)!r}: {os.strerror(code)}; nothing was kept "
               "under that name")
    return OSError(code, message)


def _silence(file: h5py.File) -> None:
    """Point ``file``'s descriptor at the null device: HDF5's last flush cannot fail."""
    with contextlib.suppress(Exception):
        descriptor = file.id.get_vfd_handle()
        if not isinstance(descriptor, int):  # not the default (sec2) driver
            return
        null = os.open(os.devnull, os.O_RDWR)
        try:
            os.dup2(null, descriptor)
        finally:
            os.close(null)


def _close_and_discard(file: h5py.File, temporary: Path,
                       signals: contextlib.ExitStack) -> None:
    """Finalizer of an unfinished writer: never leave its temporary file behind."""
    try:
        if file.id.valid:
            _silence(file)  # its content is discarded: nothing to flush
            with contextlib.suppress(Exception):  # an exception in flight says more
                file.close()
    finally:
        discard_temporary(temporary)
        with contextlib.suppress(ValueError):  # not the main thread: nothing was set
            signals.close()


class HDF5ClusterWriter:
    """Stream clusters into an HDF5 file, chunk by chunk, written atomically.

    Use it as a context manager and call :meth:`append` once per block of clusters:
    the datasets grow with each block, so memory is bounded by the block, whatever the
    total. The file is written under a temporary name in the destination directory
    and renamed to ``path`` only when the ``with`` block ends without an exception;
    on an exception (or :meth:`abort`) the temporary file is removed and an existing
    ``path`` is left untouched.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file; its directory must exist. An existing file is replaced.
    n_bands, height, width : int
        Shape of every image cube, (n_bands, height, width), channels first.
    compression : {'gzip', 'bitshuffle', 'lzf', None}, default='gzip'
        HDF5 compression of every numeric dataset: ``'gzip'`` (byte shuffling +
        DEFLATE, built into HDF5: any h5py reads the file), ``'bitshuffle'`` (bit
        shuffling + LZ4, the fastest to read and the smallest for count images, an
        opt-in: other programs read it only with :mod:`hdf5plugin` or the HDF5 filter
        plugin 32008), ``'lzf'`` (byte shuffling + LZF, built into h5py only) or None.
    attrs : dict, optional
        Extra file attributes (strings, numbers or numeric arrays). ``band_edges_kev``,
        if given, must hold ``n_bands + 1`` increasing energies in keV.
    chunk_size : int, default=256
        Rows per chunk of the 1-D datasets (redshift, exposure, target, catalogue
        columns).
        Images are always chunked one cluster per chunk.

    Attributes
    ----------
    n_written : int
        Number of clusters appended so far.

    See Also
    --------
    write_hdf5 : write in-memory arrays in one call.
    read_hdf5, HDF5ClusterDataset : read the file back.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sk_clustermass import as_inputs
    >>> from sk_clustermass.datasets import HDF5ClusterWriter, read_hdf5
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "stream.h5"
    ...     with HDF5ClusterWriter(path, n_bands=10, height=8, width=8) as writer:
    ...         for block in range(3):
    ...             X = as_inputs(np.full((2, 10, 8, 8), block), [0.1, 0.2])
    ...             catalog = pd.DataFrame({"z": [0.1, 0.2], "name": ["a", "b"]})
    ...             writer.append(X, [14.0, 13.0], catalog)
    ...     X, y, catalog = read_hdf5(path)
    >>> X["images"].shape, writer.n_written, list(catalog.columns)
    ((6, 10, 8, 8), 6, ['z', 'name'])
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        n_bands: int,
        height: int,
        width: int,
        compression: str | None = DEFAULT_COMPRESSION,
        attrs: Mapping[str, Any] | None = None,
        chunk_size: int = 256,
    ) -> None:
        self.path = Path(path)
        self.n_bands = _positive_int(n_bands, "n_bands")
        self.height = _positive_int(height, "height")
        self.width = _positive_int(width, "width")
        self.compression = _check_compression(compression)
        self.attrs = _check_attrs(attrs, self.n_bands)
        self.chunk_size = _positive_int(chunk_size, "chunk_size")
        self.n_written = 0
        self._file: h5py.File | None = None
        self._temporary: Path | None = None
        self._finalizer: weakref.finalize | None = None
        self._schema: dict[str, np.dtype] | None = None
        self._has_target: bool | None = None
        self._has_exposure: bool | None = None
        self._broken = False
        self._signals = contextlib.ExitStack()
        # Open for the writer's life: an HDF5 dataset closed between appends flushes in
        # h5py's __dealloc__, where a refused write is printed and dropped.
        self._datasets: dict[str, h5py.Dataset] = {}

    # -- lifecycle
    def open(self) -> HDF5ClusterWriter:
        """Create the temporary file and the empty datasets; return ``self``."""
        if self._file is not None or self._finalizer is not None:
            message = "this HDF5ClusterWriter was already opened; create a new one"
            raise RuntimeError(message)
        self._signals.enter_context(sigterm_as_keyboard_interrupt())  # kill acts as Ctrl-C
        try:
            self._temporary = new_temporary(self.path)
        except BaseException:
            self._signals.close()
            raise
        try:
            self._file = h5py.File(self._temporary, "w")
            self._write_header()
        except BaseException:
            if self._file is not None:
                _close_and_discard(self._file, self._temporary, self._signals)
                self._file = None
            discard_temporary(self._temporary)
            self._signals.close()
            raise
        self._finalizer = weakref.finalize(self, _close_and_discard, self._file,
                                           self._temporary, self._signals)
        return self

    def __enter__(self) -> HDF5ClusterWriter:
        return self.open()

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def close(self) -> None:
        """Finish the file: flush it, then rename it to ``path``.

        Raises
        ------
        RuntimeError
            If an earlier :meth:`append` failed while writing; nothing is kept.
        """
        file = self._require_open()
        if self._broken:
            self.abort()
            message = f"{self.path} was not written: an append failed part-way"
            raise RuntimeError(message)
        try:
            # A flush the file system refuses leaves HDF5 able to close the file cleanly;
            # a failure inside close() would not (see the module's docstring).
            file.flush()
            raise_if_signalled()  # a SIGTERM whose exception a weakref callback swallowed
            self._datasets.clear()
            file.close()
            commit_temporary(self._temporary, self.path)
        except BaseException as exc:
            self.abort()
            refused = _refused_write(exc, self.path)
            if refused is exc:
                raise
            raise refused from exc
        self._finalizer.detach()
        self._file = None
        self._signals.close()

    def abort(self) -> None:
        """Close and delete the temporary file; ``path`` is left as it was."""
        if self._finalizer is not None:
            self._finalizer()  # closes the file and removes the temporary copy
        self._file = None
        self._datasets.clear()

    def _require_open(self) -> h5py.File:
        if self._file is None:
            message = (
                "the HDF5ClusterWriter is not open: use it as `with HDF5ClusterWriter(...) "
                "as writer:` (or call open()), and do not use it after close()"
            )
            raise RuntimeError(message)
        return self._file

    def _filters(self, *, text: bool = False) -> dict[str, Any]:
        # Fletcher-32 checksums make a damaged chunk fail loudly on read; HDF5 refuses
        # them (and shuffling is pointless) on variable-length strings.
        filters: dict[str, Any] = {} if text else {"fletcher32": True}
        if self.compression == "bitshuffle":
            # bit shuffling applies to fixed-size values only; compressing the heap
            # references of variable-length strings would gain nothing
            if not text:
                filters.update(hdf5plugin.Bitshuffle(cname="lz4"))
        elif self.compression is not None:
            filters.update(compression=self.compression, shuffle=not text)
        return filters

    def _write_header(self) -> None:
        file = self._file
        file.attrs["format"] = FORMAT_NAME
        file.attrs["format_version"] = FORMAT_VERSION
        file.attrs["library_version"] = __version__
        cube = (self.n_bands, self.height, self.width)
        for name, value in zip(("n_bands", "height", "width"), cube):
            file.attrs[name] = value
        for key, value in self.attrs.items():
            try:
                file.attrs[key] = value
            except (TypeError, ValueError) as exc:
                message = (
                    f"attrs[{key!r}] = {value!r} cannot be stored as an HDF5 attribute "
                    f"({exc}); use strings, numbers or numeric arrays"
                )
                raise TypeError(message) from exc
        self._datasets[IMAGES_KEY] = file.create_dataset(
            IMAGES_KEY,
            shape=(0, *cube),
            maxshape=(None, *cube),
            dtype=np.float32,
            chunks=(1, *cube),
            **self._filters(),
        )
        self._create_vector(REDSHIFT_KEY, np.dtype(np.float32))

    def _create_vector(self, name: str, dtype: np.dtype) -> None:
        text = dtype.kind == "O"
        self._datasets[name] = self._file.create_dataset(
            name,
            shape=(0,),
            maxshape=(None,),
            dtype=h5py.string_dtype("utf-8") if text else dtype,
            chunks=(self.chunk_size,),
            **self._filters(text=text),
        )

    # -- appending
    def append(self, X: Any, y: Any = None, catalog: pd.DataFrame | None = None) -> None:
        """Validate and append a block of clusters.

        Parameters
        ----------
        X : SliceDict or dict
            ``X["images"]`` of shape (n, n_bands, height, width) matching the writer,
            ``X["redshift"]`` of shape (n,) and optionally ``X["exposure"]`` (s) of
            shape (n,): give it in every append or in none.
        y : array-like of shape (n,), optional
            ``log10(M500c / Msun)``. Give it in every append or in none.
        catalog : pandas.DataFrame, optional
            n rows, aligned with ``X``; numeric, boolean or string columns. Give one in
            every append (same columns) or in none.

        Raises
        ------
        ValueError
            On a shape mismatch with the writer, or a block whose target, exposure or
            catalogue columns differ from the first block's. Nothing is written then.
        """
        self._require_open()
        inputs = as_inputs(X, counts=False)
        images = inputs[IMAGES_KEY]
        expected = (self.n_bands, self.height, self.width)
        if images.shape[1:] != expected:
            message = (
                f"this writer stores cubes of shape (n_bands, height, width) = {expected}; "
                f"got images of shape {images.shape}. Open one writer per cube shape."
            )
            raise ValueError(message)
        target = None if y is None else check_target(y, images.shape[0])
        columns = _catalog_to_arrays(catalog, images.shape[0])
        exposure = inputs.get(EXPOSURE_KEY)
        self._check_consistent(target, columns, exposure)
        self._write_block(images, inputs[REDSHIFT_KEY], target, columns, exposure)

    def _check_consistent(self, target: np.ndarray | None, columns,
                          exposure: np.ndarray | None = None) -> None:
        if self._has_target is not None and self._has_target != (target is not None):
            message = (
                f"y was {'given' if self._has_target else 'not given'} in the first "
                "append; give it in every append or in none"
            )
            raise ValueError(message)
        if self._has_exposure is not None and self._has_exposure != (exposure is not None):
            message = (
                f"X['exposure'] was {'given' if self._has_exposure else 'not given'} in "
                "the first append; give it in every append or in none"
            )
            raise ValueError(message)
        if self._schema is not None or self.n_written:
            _check_schema_compatible(self._schema, columns)

    def _write_block(self, images, redshift, target, columns, exposure=None) -> None:
        file = self._file
        if self._has_target is None:
            self._has_target = target is not None
            if target is not None:
                self._create_vector(TARGET_KEY, np.dtype(np.float64))
        if self._has_exposure is None:
            self._has_exposure = exposure is not None
            if exposure is not None:
                self._create_vector(EXPOSURE_KEY, np.dtype(np.float32))
        if self._schema is None and self.n_written == 0 and columns is not None:
            self._schema = {name: values.dtype for name, values in columns.items()}
            group = file.create_group(CATALOG_KEY)
            group.attrs["columns"] = json.dumps(list(columns))
            for name, values in columns.items():
                self._create_vector(f"{CATALOG_KEY}/{name}", values.dtype)
        start, stop = self.n_written, self.n_written + images.shape[0]
        blocks = {IMAGES_KEY: images, REDSHIFT_KEY: redshift}
        if exposure is not None:
            blocks[EXPOSURE_KEY] = exposure
        if target is not None:
            blocks[TARGET_KEY] = target
        for name, values in (columns or {}).items():
            blocks[f"{CATALOG_KEY}/{name}"] = values
        try:
            for name, values in blocks.items():
                dataset = self._datasets[name]
                dataset.resize(stop, axis=0)
                dataset[start:stop] = values
        except BaseException as exc:
            self._broken = True
            refused = _refused_write(exc, self.path)
            if refused is exc:
                raise
            raise refused from exc
        self.n_written = stop


def write_hdf5(
    path: str | os.PathLike,
    X: Any,
    y: Any,
    catalog: pd.DataFrame | None = None,
    *,
    compression: str | None = DEFAULT_COMPRESSION,
    chunk_size: int = 256,
    attrs: Mapping[str, Any] | None = None,
) -> None:
    """Write clusters (and optionally masses and a catalogue) to an HDF5 file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file (conventionally ``.h5``); its directory must exist. An existing
        file is replaced only once the new one is complete.
    X : SliceDict or dict
        ``X["images"]`` of shape (n_samples, n_bands, height, width),
        ``X["redshift"]`` of shape (n_samples,) and optionally ``X["exposure"]`` (s)
        of shape (n_samples,), validated with :func:`sk_clustermass.as_inputs`
        (``counts=False``: transformed images are fine).
    y : array-like of shape (n_samples,) or None
        ``log10(M500c / Msun)``; None for unlabelled clusters.
    catalog : pandas.DataFrame, optional
        One row per cluster, in the order of ``X``; numeric, boolean or string columns
        with string names. The index is not stored.
    compression : {'gzip', 'bitshuffle', 'lzf', None}, default='gzip'
        HDF5 compression filter (see :class:`HDF5ClusterWriter`).
    chunk_size : int, default=256
        Rows per chunk of the 1-D datasets; images are chunked one cluster per chunk.
    attrs : dict, optional
        Extra file attributes, e.g. ``{"band_edges_kev": edges, "survey": "efeds"}``.

    Raises
    ------
    ValueError, TypeError
        On invalid ``X``, ``y``, catalogue, attributes or options; nothing is written.

    See Also
    --------
    HDF5ClusterWriter : stream clusters block by block.
    read_hdf5 : read them back.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from sk_clustermass import as_inputs
    >>> from sk_clustermass.datasets import read_hdf5, write_hdf5
    >>> X = as_inputs(np.zeros((2, 10, 8, 8)), [0.3, 0.5])
    >>> edges = np.linspace(0.25, 2.3, 11)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "clusters.h5"
    ...     write_hdf5(path, X, None, attrs={"band_edges_kev": edges})
    ...     X2, y2, _ = read_hdf5(path)
    >>> X2["redshift"], y2 is None
    (array([0.3, 0.5], dtype=float32), True)
    """
    inputs = as_inputs(X, counts=False)
    images = inputs[IMAGES_KEY]
    n_samples, n_bands, height, width = images.shape
    target = None if y is None else check_target(y, n_samples)
    columns = _catalog_to_arrays(catalog, n_samples)
    writer = HDF5ClusterWriter(
        path,
        n_bands=n_bands,
        height=height,
        width=width,
        compression=compression,
        attrs=attrs,
        chunk_size=chunk_size,
    )
    with writer:
        writer._write_block(images, inputs[REDSHIFT_KEY], target, columns,
                            inputs.get(EXPOSURE_KEY))


