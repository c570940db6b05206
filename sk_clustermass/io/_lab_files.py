"""Reader and writer for the original lab files: a pickled image dict and a catalogue.

The lab's data set (see ``PHYSICS.md``) comes as two files, aligned row by row:

* images: a pickle of a ``dict`` with the keys ``'cluster'`` (cluster ids) and
  ``'gsm_3dImgs'`` (a list of arrays of shape ``(50, 50, 10)``, channels **last**),
  e.g. ``eFEDS_01to18-3dImgs-7946clus-300pix-50pix-ext_det_thr.pickle``;
* catalogue: a Feather file (or the FITS table version) with one row per cluster and
  the columns listed in :data:`LAB_CATALOG_COLUMNS`; the label is ``log10(M500c)``
  (``M500c`` in Msun) and the redshift is the column ``z``.

.. warning::
   Unpickling runs code chosen by whoever made the file. :func:`read_lab_dataset`
   refuses to unpickle unless called with ``trusted=True``; only pass it for files you
   made yourself or got from a source you trust. Convert the data once to the
   library's HDF5 format (:func:`~sk_clustermass.io._hdf5.write_hdf5`), which
   executes no code when read, and share that instead.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from astropy.table import Table
from skorch.helper import SliceDict

from .._inputs import as_inputs, check_target
from .._utils import atomic_path, gzip_aware_target
from ._catalog_masses import MASS_COLUMN, REDSHIFT_COLUMN, catalog_masses_msun

__all__ = ["LAB_CATALOG_COLUMNS", "read_lab_dataset", "write_lab_dataset"]

IDS_KEY = "cluster"
CUBES_KEY = "gsm_3dImgs"

# fmt: off
#: Columns of the lab's catalogue, in its order (only ``M500c`` and ``z`` are required).
LAB_CATALOG_COLUMNS = (
    "SRC_ID_IN", "RA", "DEC", "z", "kT", "dL", "Lx_soft", "Lx_soft_2R500", "Fx_soft",
    "Fx_soft_2R500", "M500c", "R500c_arcmin", "R500c_kpc", "pid", "Mvir", "Rvir", "Xoff",
    "b_to_a_500c", "ID_SRC_OUT", "RA_eSASS", "DEC_eSASS", "RADEC_ERR", "EXT", "EXT_ERR",
    "EXT_LIKE", "ML_RATE", "ML_RATE_ERR", "DET_LIKE", "ML_BKG", "ML_EXP", "input_SRC_ID",
    "Nreal", "CLU_X", "CLU_Y",
)
# fmt: on

_FEATHER_SUFFIXES = (".feather", ".ftr", ".arrow")
_FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fts.gz")


# ----------------------------------------------------------------------------- checks
def _require_trust(trusted: Any, path: Path) -> None:
    if trusted is True:
        return
    if trusted is not False:
        message = f"trusted must be True or False; got {trusted!r}"
        raise TypeError(message)
    message = (
        f"refusing to unpickle {str(path)!r}: loading a pickle runs whatever code the "
        "file's author put in it. Only if you trust the file (you made it, or it comes "
        "from a source you trust and its checksum matches), call "
        "read_lab_dataset(..., trusted=True). Then convert it once to HDF5 with "
        "write_hdf5 and share that file instead: reading HDF5 runs no code."
    )
    raise ValueError(message)


def _catalog_format(path: Path, *, sniff: bool) -> str:
    """'feather' or 'fits', from the file name, else (when reading) from its first bytes."""
    name = path.name.lower()
    if name.endswith(_FEATHER_SUFFIXES):
        return "feather"
    if name.endswith(_FITS_SUFFIXES):
        return "fits"
    if sniff and path.is_file():
        with open(path, "rb") as handle:
            magic = handle.read(6)
        if magic == b"ARROW1" or magic[:4] == b"FEA1":  # Feather V2 (Arrow IPC) or V1
            return "feather"
        if magic == b"SIMPLE":
            return "fits"
    message = (
        f"cannot tell the catalogue format of {str(path)!r}: use a Feather file "
        f"({', '.join(_FEATHER_SUFFIXES)}) or a FITS table ({', '.join(_FITS_SUFFIXES)})"
    )
    raise ValueError(message)


def _require_columns(catalog: pd.DataFrame, where: str) -> None:
    missing = [name for name in (MASS_COLUMN, REDSHIFT_COLUMN) if name not in catalog.columns]
    if missing:
        shown = list(map(str, catalog.columns[:12]))
        more = " ..." if len(catalog.columns) > 12 else ""
        message = (
            f"{where} lacks the column(s) {missing}; the lab catalogue needs "
            f"'{MASS_COLUMN}' (M500c in Msun) and '{REDSHIFT_COLUMN}' (redshift). "
            f"Columns found: {shown}{more}"
        )
        raise ValueError(message)


def _same_ids(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Element-wise equality of two id arrays, numerically if both are numeric."""
    if left.dtype.kind in "biuf" and right.dtype.kind in "biuf":
        return left == right
    as_text = [pd.Series(values).astype(str).str.strip().to_numpy() for values in (left, right)]
    return as_text[0] == as_text[1]


def _check_alignment(
    ids: np.ndarray,
    catalog: pd.DataFrame,
    id_column: str | None,
    images_path: Path,
    catalog_path: Path,
) -> None:
    if len(catalog) != ids.shape[0]:
        message = (
            f"{str(images_path)!r} holds {ids.shape[0]} clusters but {str(catalog_path)!r} "
            f"has {len(catalog)} rows; the two lab files are aligned row by row, so they "
            "must come from the same sample (check the file names' cluster counts)"
        )
        raise ValueError(message)
    if id_column is None:
        id_column = IDS_KEY if IDS_KEY in catalog.columns else None
    elif id_column not in catalog.columns:
        message = f"id_column {id_column!r} is not a column of {str(catalog_path)!r}"
        raise ValueError(message)
    if id_column is None:
        return
    equal = _same_ids(ids, catalog[id_column].to_numpy())
    if not equal.all():
        row = int(np.flatnonzero(~equal)[0])
        message = (
            f"the cluster ids of {str(images_path)!r} and column {id_column!r} of "
            f"{str(catalog_path)!r} differ in {int((~equal).sum())} row(s) (first at row "
            f"{row}: {ids[row]!r} vs {catalog[id_column].iloc[row]!r}); the files are "
            "not aligned. Reorder the catalogue to the images' id order."
        )
        raise ValueError(message)


# ----------------------------------------------------------------------------- images
def _channels_first(cubes: Any, where: str) -> np.ndarray:
    """Stack channels-last cubes (h, w, bands) into a float32 (n, bands, h, w) array."""
    if isinstance(cubes, np.ndarray) and cubes.ndim == 4:
        items: Sequence[Any] = cubes
    elif isinstance(cubes, np.ndarray | list | tuple):
        items = list(cubes)
    else:
        message = f"{where}: the images must be a list of arrays; got {type(cubes).__name__}"
        raise TypeError(message)
    if len(items) == 0:
        message = f"{where} holds no images"
        raise ValueError(message)
    first = np.shape(items[0])
    if len(first) != 3:
        message = (
            f"{where}: each image must have shape (height, width, n_bands), channels last; "
            f"image 0 has shape {first}"
        )
        raise ValueError(message)
    height, width, n_bands = first
    # square images stored (bands, h, w) show as (bands, w, w) with fewer bands than
    # pixels; shapes below 8 pixels are too small to tell one order from the other
    if height < width == n_bands and width >= 8:
        message = (
            f"{where}: image 0 has shape {first}, which reads as {n_bands} bands of "
            f"{height} x {width} pixels but looks like a channels-first cube "
            f"({height} bands of {width} x {n_bands} pixels). The lab format stores "
            "(height, width, n_bands), channels last: convert each cube with "
            "np.moveaxis(cube, 0, -1) before writing the pickle."
        )
        raise ValueError(message)
    stacked = np.empty((len(items), n_bands, height, width), dtype=np.float32)
    for index, cube in enumerate(items):
        array = np.asarray(cube)
        if array.shape != first:
            message = (
                f"{where}: image {index} has shape {array.shape} but image 0 has {first}; "
                "every cube must have the same (height, width, n_bands)"
            )
            raise ValueError(message)
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
            message = f"{where}: image {index} is not numeric (dtype {array.dtype})"
            raise TypeError(message)
        stacked[index] = np.moveaxis(array, -1, 0)
    return stacked


def _load_images(path: Path) -> tuple[np.ndarray, np.ndarray]:
    if not path.is_file():
        message = f"image pickle {str(path)!r} does not exist (or is not a file)"
        raise FileNotFoundError(message)
    try:
        payload = pd.read_pickle(path)
    except Exception as exc:  # unpickling can fail in many ways; all mean a bad file
        message = (
            f"{str(path)!r} could not be unpickled ({type(exc).__name__}: {exc}); it may "
            "be truncated, corrupt, or need packages that are not installed"
        )
        raise ValueError(message) from exc
    if not isinstance(payload, Mapping) or not {IDS_KEY, CUBES_KEY} <= set(payload):
        found = sorted(map(str, payload)) if isinstance(payload, Mapping) else None
        message = (
            f"{str(path)!r} must hold a dict with the keys '{IDS_KEY}' and '{CUBES_KEY}'; "
            f"got {type(payload).__name__}" + (f" with keys {found}" if found else "")
        )
        raise ValueError(message)
    images = _channels_first(payload[CUBES_KEY], repr(str(path)))
    ids = np.asarray(payload[IDS_KEY])
    if ids.shape != (images.shape[0],):
        message = (
            f"{str(path)!r} has {images.shape[0]} images but '{IDS_KEY}' has shape "
            f"{ids.shape}; expected one id per image"
        )
        raise ValueError(message)
    return images, ids


# ----------------------------------------------------------------------------- catalogue
def _load_catalog(path: Path) -> pd.DataFrame:
    if not path.is_file():
        message = f"catalogue {str(path)!r} does not exist (or is not a file)"
        raise FileNotFoundError(message)
    kind = _catalog_format(path, sniff=True)
    try:
        if kind == "feather":
            with warnings.catch_warnings():  # Feather V1 still reads, with a deprecation
                warnings.filterwarnings("ignore", "Feather V1", DeprecationWarning)
                return pd.read_feather(path)
        table = Table.read(path, format="fits")
        table.convert_bytestring_to_unicode()
        return table.to_pandas()
    except Exception as exc:  # pyarrow and astropy raise many types for bad files
        message = (
            f"{str(path)!r} could not be read as a {kind} catalogue "
            f"({type(exc).__name__}: {exc}); it may be truncated or corrupt"
        )
        raise ValueError(message) from exc


def _write_catalog(path: Path, catalog: pd.DataFrame) -> None:
    kind = _catalog_format(path, sniff=False)
    frame = catalog.reset_index(drop=True)
    with atomic_path(path) as temporary:
        if kind == "feather":
            frame.to_feather(temporary)
        else:
            with gzip_aware_target(temporary, path) as target:
                Table.from_pandas(frame).write(target, format="fits", overwrite=True)


# ----------------------------------------------------------------------------- public API
def read_lab_dataset(
    images_path: str | os.PathLike,
    catalog_path: str | os.PathLike,
    *,
    trusted: bool = False,
    id_column: str | None = None,
) -> tuple[SliceDict, np.ndarray, pd.DataFrame]:
    """Read the lab's original data set: image pickle plus Feather or FITS catalogue.

    Parameters
    ----------
    images_path : str or os.PathLike
        Pickle of a dict ``{'cluster': ids, 'gsm_3dImgs': cubes}``, the cubes of shape
        (height, width, n_bands), channels last (the lab's are (50, 50, 10)).
    catalog_path : str or os.PathLike
        Feather file or FITS table, one row per cluster in the order of the images,
        with at least ``M500c`` (Msun) and ``z``; the format is taken from the
        extension (``.feather``, ``.fits``, ...) or, failing that, the file's content.
    trusted : bool, default=False
        Must be True to unpickle ``images_path``: unpickling runs code from the file.
        The default refuses, so that reading a pickle is always a deliberate choice.
    id_column : str, optional
        A catalogue column holding the same ids as ``'cluster'``, checked row by row.
        By default a column named ``cluster`` is checked if the catalogue has one.

    Returns
    -------
    X : skorch.helper.SliceDict
        ``X["images"]`` float32 of shape (n_samples, n_bands, height, width), channels
        first, and ``X["redshift"]`` float32 of shape (n_samples,) from column ``z``.
    y : ndarray of shape (n_samples,)
        ``log10(M500c / Msun)``.
    catalog : pandas.DataFrame
        The catalogue with a fresh RangeIndex; the pickle's ids are added as a first
        column ``cluster`` unless the catalogue already has one.

    Raises
    ------
    ValueError
        Without ``trusted=True``; for a corrupt file, misaligned files (row counts or
        ids), missing columns, non-positive masses or invalid images or redshifts.
    FileNotFoundError
        If a file does not exist.

    Warnings
    --------
    Only unpickle files from sources you trust: a pickle can run arbitrary code when
    loaded. Convert the data once to HDF5 and share that instead.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sk_clustermass.datasets import read_lab_dataset, write_lab_dataset
    >>> cubes = np.zeros((3, 50, 50, 10))  # channels last, as in the lab files
    >>> catalog = pd.DataFrame({"z": [0.1, 0.4, 0.9], "M500c": [1e13, 1e14, 1e15]})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     images_path = pathlib.Path(folder) / "clusters.pickle"
    ...     catalog_path = pathlib.Path(folder) / "clusters.feather"
    ...     write_lab_dataset(images_path, catalog_path, cubes, catalog, ids=[7, 8, 9])
    ...     X, y, catalog = read_lab_dataset(images_path, catalog_path, trusted=True)
    >>> X["images"].shape, y, list(catalog.columns)
    ((3, 10, 50, 50), array([13., 14., 15.]), ['cluster', 'z', 'M500c'])
    """
    images_path, catalog_path = Path(images_path), Path(catalog_path)
    _require_trust(trusted, images_path)
    images, ids = _load_images(images_path)
    catalog = _load_catalog(catalog_path).reset_index(drop=True)
    _require_columns(catalog, repr(str(catalog_path)))
    _check_alignment(ids, catalog, id_column, images_path, catalog_path)
    mass = catalog_masses_msun(catalog, repr(str(catalog_path)))
    try:
        X = as_inputs(images, catalog[REDSHIFT_COLUMN].to_numpy(), counts=False)
    except (TypeError, ValueError) as exc:
        message = f"invalid data in {str(images_path)!r} / {str(catalog_path)!r}: {exc}"
        raise type(exc)(message) from exc
    if IDS_KEY not in catalog.columns:
        catalog.insert(0, IDS_KEY, ids)
    return X, check_target(np.log10(mass)), catalog


def write_lab_dataset(
    images_path: str | os.PathLike,
    catalog_path: str | os.PathLike,
    images_channels_last: Any,
    catalog: pd.DataFrame,
    ids: Any,
) -> None:
    """Write clusters in the lab's exact two-file layout (image pickle + catalogue).

    Used to make small test files and to export data for tools that expect the lab
    format. Both files are written atomically (each appears complete or not at all).

    Parameters
    ----------
    images_path : str or os.PathLike
        Destination pickle; it will hold ``{'cluster': ids, 'gsm_3dImgs': [cube, ...]}``.
    catalog_path : str or os.PathLike
        Destination catalogue: Feather (``.feather``) or FITS table (``.fits``).
    images_channels_last : array-like of shape (n_samples, height, width, n_bands)
        Cubes, channels **last** (as the lab stored them), or a list of such 3-D arrays.
        Stored with their own dtype.
    catalog : pandas.DataFrame
        n_samples rows with at least ``M500c`` (Msun, > 0) and ``z`` (> 0). The index is
        not stored.
    ids : array-like of shape (n_samples,)
        Cluster ids, stored under ``'cluster'``.

    Raises
    ------
    ValueError, TypeError
        On misaligned lengths, missing columns, bad masses or redshifts, or invalid
        images; nothing is written then.

    Examples
    --------
    >>> import pickle, tempfile, pathlib
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sk_clustermass.datasets import write_lab_dataset
    >>> catalog = pd.DataFrame({"z": [0.2, 0.3], "M500c": [2e14, 3e14]})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     images_path = pathlib.Path(folder) / "tiny.pickle"
    ...     write_lab_dataset(images_path, pathlib.Path(folder) / "tiny.fits",
    ...                       np.ones((2, 4, 4, 10)), catalog, ids=["a", "b"])
    ...     payload = pd.read_pickle(images_path)  # our own file: trusted
    >>> sorted(payload), payload["gsm_3dImgs"][0].shape
    (['cluster', 'gsm_3dImgs'], (4, 4, 10))
    """
    images_path, catalog_path = Path(images_path), Path(catalog_path)
    cubes = _channels_first(images_channels_last, "images_channels_last")
    if not isinstance(catalog, pd.DataFrame):
        message = f"catalog must be a pandas DataFrame; got {type(catalog).__name__}"
        raise TypeError(message)
    _require_columns(catalog, "catalog")
    id_array = np.asarray(ids)
    if id_array.shape != (cubes.shape[0],) or len(catalog) != cubes.shape[0]:
        message = (
            f"got {cubes.shape[0]} images, {id_array.shape} ids and {len(catalog)} "
            "catalogue rows; give one id and one catalogue row per image"
        )
        raise ValueError(message)
    catalog_masses_msun(catalog, "catalog")
    as_inputs(cubes, catalog[REDSHIFT_COLUMN].to_numpy(), counts=False)
    _catalog_format(catalog_path, sniff=False)  # fail before writing anything
    originals = images_channels_last
    payload = {IDS_KEY: id_array, CUBES_KEY: [np.asarray(cube) for cube in originals]}
    with atomic_path(images_path) as temporary:
        pd.to_pickle(payload, temporary)
    _write_catalog(catalog_path, catalog)
