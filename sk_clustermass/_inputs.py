"""The input contract: one place that builds and validates ``X`` and ``y``.

Every estimator, transformer, reader and the simulator speak the same ``X``: a
:class:`skorch.helper.SliceDict` with two keys,

``"images"``
    float32 array of shape ``(n_samples, n_bands, height, width)``, channels first,
    photon counts or a transformed version of them.
``"redshift"``
    float32 array of shape ``(n_samples,)``, the cluster redshift (> 0).

and, optionally, a third key

``"exposure"``
    float32 array of shape ``(n_samples,)``, the exposure time of every cluster in
    seconds (> 0): an input a model may use (``use_exposure=True``) and that every
    other step carries along untouched.
``"redshift_err"``
    float32 array of shape ``(n_samples,)``, the 1-sigma error of every redshift
    (>= 0; photometric redshifts): ``ClusterMassRegressor.predict`` propagates it into
    the widths; every other step carries it along untouched.

``y`` is ``log10(M500c / Msun)``, a float array of shape ``(n_samples,)``.
Nobody else hand-rolls these checks: they call :func:`as_inputs`,
:func:`check_target` and :func:`check_exposure`.

Each call checks the pixels once. The first step that receives ``X`` checks them
(a transformer through :func:`checked_inputs`, the estimator in the pass it makes
anyway); a transformer's output is built by :func:`derived_inputs`, which marks it as
checked, and the next step trusts that mark once, then drops it. The mark records the
images array it was made for (its identity, data address, shape, strides and dtype),
so an ``X`` whose images were replaced is checked again; it is never written on an
``X`` that :func:`as_inputs` returns to the user, nor kept through pickling or copying.
Rule: change a transformer's output in place only before passing it to the estimator
(whose own pass checks every pixel) or after rebuilding it with :func:`as_inputs`.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from skorch.helper import SliceDict

__all__ = [
    "EXPOSURE_KEY",
    "FINITE_BOUND",
    "IMAGES_KEY",
    "REDSHIFT_ERR_KEY",
    "REDSHIFT_KEY",
    "as_inputs",
    "check_exposure",
    "check_pixels",
    "check_redshift_err",
    "check_target",
    "checked_inputs",
    "derived_inputs",
    "n_samples_of",
    "unchecked_inputs",
]

IMAGES_KEY = "images"
REDSHIFT_KEY = "redshift"
#: Largest redshift accepted: beyond it the values are velocities (cz in km/s), not z.
MAX_REDSHIFT = 100.0
EXPOSURE_KEY = "exposure"
REDSHIFT_ERR_KEY = "redshift_err"

_SHAPE_HINT = (
    "images must have shape (n_samples, n_bands, height, width), channels first; "
    "for a single cluster use images[np.newaxis], for channels-last cubes "
    "(n, height, width, n_bands) use np.moveaxis(images, -1, 1)"
)


def _as_real_array(values: Any, name: str) -> np.ndarray:
    """``values`` as a real numeric (or boolean) ndarray, in its own dtype and layout."""
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as exc:
        message = f"{name} could not be converted to a numeric array: {exc}"
        raise TypeError(message) from exc
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == bool
    ):
        message = (
            f"{name} must be numeric (float or integer counts); got dtype {array.dtype}. "
            "Convert it with np.asarray(..., dtype=np.float32)."
        )
        raise TypeError(message)
    if np.issubdtype(array.dtype, np.complexfloating):
        message = f"{name} must be real-valued; got complex dtype {array.dtype}."
        raise TypeError(message)
    return array


def _as_float_array(values: Any, name: str, dtype: type = np.float32) -> np.ndarray:
    """Convert ``values`` to a float ndarray of ``dtype``, without copying when possible."""
    return _as_real_array(values, name).astype(dtype, copy=False)


def _check_positive(array: np.ndarray, name: str, advice: str, unit: str = "") -> None:
    """Raise a ValueError that counts the values <= 0 and says how to fix them."""
    if array.min() <= 0:
        n_bad = int(np.count_nonzero(array <= 0))
        message = (
            f"{name} must be > 0{unit} for every cluster; {n_bad} value(s) are <= 0 "
            f"(min {array.min():.3g}). {advice}"
        )
        raise ValueError(message)


def _check_finite(array: np.ndarray, name: str) -> None:
    # fast path: a NaN or infinity makes the sum non-finite (no temporary array; summed
    # in the array's own float type, which numpy vectorises); a non-finite sum of
    # finite values (overflow) falls through to the exact check
    floating = np.issubdtype(array.dtype, np.floating)
    with np.errstate(over="ignore", invalid="ignore"):  # judged just below
        total = np.sum(array, dtype=None if floating else np.float64)
    if np.isfinite(total):
        return
    finite = np.isfinite(array)
    if not finite.all():
        n_bad = int(array.size - np.count_nonzero(finite))
        first = np.argwhere(~finite)[0]
        sample = int(first[0]) if first.size else 0
        message = (
            f"{name} contains {n_bad} NaN or infinite value(s) (first in sample {sample}). "
            "Remove or repair those clusters (e.g. replace masked pixels by 0 counts) "
            "before fitting or predicting."
        )
        raise ValueError(message)


def _split_mapping(data: Mapping) -> tuple[Any, Any, Any]:
    missing = [key for key in (IMAGES_KEY, REDSHIFT_KEY) if key not in data]
    if missing:
        message = (
            f"X is missing the key(s) {missing}; it must have the keys "
            f"'{IMAGES_KEY}' (n_samples, n_bands, height, width) and '{REDSHIFT_KEY}' "
            f"(n_samples,). Got keys {sorted(map(str, data.keys()))}. "
            "Build it with sk_clustermass.as_inputs(images, redshift)."
        )
        raise KeyError(message)
    return data[IMAGES_KEY], data[REDSHIFT_KEY], data.get(EXPOSURE_KEY)


def _validate_image_shape(images: np.ndarray) -> None:
    if images.ndim != 4:
        message = f"{_SHAPE_HINT}; got an array of shape {images.shape} (ndim={images.ndim})"
        raise ValueError(message)
    n_samples, n_bands, height, width = images.shape
    if n_samples == 0:
        raise ValueError("images is empty (0 samples); at least one cluster is needed.")
    if n_bands == 0 or height == 0 or width == 0:
        message = f"images has an empty axis: shape {images.shape}; {_SHAPE_HINT}"
        raise ValueError(message)


def _validate_images(images: np.ndarray, counts: bool) -> None:
    _validate_image_shape(images)
    _check_finite(images, "images")
    if counts and images.min() < 0:
        n_negative = int(np.count_nonzero(images < 0))
        message = (
            f"images contains {n_negative} negative value(s) (min {images.min():.3g}) but "
            "photon counts must be >= 0. If these images are background-subtracted or "
            "already normalised, pass counts=False (or use a transformer that accepts them)."
        )
        raise ValueError(message)


def _validate_redshift(redshift: np.ndarray, n_samples: int) -> None:
    if redshift.ndim != 1:
        message = (
            f"redshift must have shape (n_samples,); got shape {redshift.shape}. "
            "Use np.ravel(redshift) for a column vector."
        )
        raise ValueError(message)
    if redshift.shape[0] != n_samples:
        message = (
            f"images has {n_samples} clusters but redshift has {redshift.shape[0]}; "
            "they must be aligned one-to-one, in the same order."
        )
        raise ValueError(message)
    _check_finite(redshift, "redshift")
    _check_positive(redshift, "redshift", "Missing redshifts are often coded as 0 or -1: "
                    "drop those clusters or supply photometric redshifts.")
    if redshift.max() > MAX_REDSHIFT:
        message = (f"redshift up to {redshift.max():.6g}: no cluster lies beyond z = "
                   f"{MAX_REDSHIFT:g}; this looks like a recession velocity cz in km/s. "
                   "Pass z = cz / 299792.458.")
        raise ValueError(message)


def check_exposure(exposure: Any, n_samples: int) -> np.ndarray:
    """Validate exposure times (s) of ``n_samples`` clusters and return them as float32.

    Parameters
    ----------
    exposure : array-like of shape (n_samples,)
        Exposure time of every cluster in seconds.
    n_samples : int
        The number of clusters (images) they belong to.

    Returns
    -------
    exposure : ndarray of shape (n_samples,), float32

    Raises
    ------
    TypeError
        If the values are not numeric.
    ValueError
        On a wrong shape or length, NaN or infinite values, or values <= 0.

    Examples
    --------
    >>> check_exposure([1200, 900.5], 2)
    array([1200. ,  900.5], dtype=float32)
    """
    array = _as_float_array(exposure, "exposure")
    if array.ndim != 1 or array.shape[0] != n_samples:
        message = (
            f"exposure must have shape (n_samples,) = ({n_samples},), one exposure time in "
            f"seconds per cluster, in the order of the images; got shape {array.shape}"
        )
        raise ValueError(message)
    _check_finite(array, "exposure")
    _check_positive(array, "exposure", "A cluster without exposure has no data: drop it, or "
                    "fill in the exposure of its cutout (e.g. the median of the exposure map).",
                    unit=" s")
    return array


def check_redshift_err(redshift_err: Any, n_samples: int) -> np.ndarray:
    """Validate 1-sigma redshift errors of ``n_samples`` clusters; return them as float32.

    Parameters
    ----------
    redshift_err : array-like of shape (n_samples,)
        Absolute errors of the redshifts (``sigma_z``, not ``sigma_z / (1 + z)``),
        finite and >= 0; 0 for a spectroscopic redshift.
    n_samples : int
        Number of clusters.

    Returns
    -------
    redshift_err : ndarray of shape (n_samples,), float32

    Raises
    ------
    ValueError
        On a wrong length, NaN or infinite or negative values.

    Examples
    --------
    >>> check_redshift_err([0.0, 0.012], 2)
    array([0.   , 0.012], dtype=float32)
    """
    array = _as_float_array(redshift_err, "redshift_err")
    if array.shape != (n_samples,):
        message = (f"redshift_err must have shape (n_samples,) = ({n_samples},), one "
                   f"1-sigma redshift error per cluster; got shape {array.shape}")
        raise ValueError(message)
    _check_finite(array, "redshift_err")
    if (array < 0).any():
        first = int(np.flatnonzero(array < 0)[0])
        message = (f"redshift_err must be >= 0 (a 1-sigma error; 0 for a spectroscopic "
                   f"redshift); got {array[first]!r} at cluster {first}")
        raise ValueError(message)
    return array


def as_inputs(
    images: Any,
    redshift: Any = None,
    *,
    exposure: Any = None,
    counts: bool = True,
    redshift_err: Any = None,
) -> SliceDict:
    """Build and validate the library's input ``X``.

    Parameters
    ----------
    images : array-like of shape (n_samples, n_bands, height, width) or mapping
        Image cubes, channels first, in photon counts (or a transformed version of
        them with ``counts=False``). A mapping (``dict`` or
        :class:`~skorch.helper.SliceDict`) with the keys ``"images"`` and
        ``"redshift"`` (and optionally ``"exposure"``) is accepted instead, with
        ``redshift`` and ``exposure`` left as ``None``; other keys are dropped.
    redshift : array-like of shape (n_samples,), optional
        Cluster redshifts, all > 0. Required unless ``images`` is a mapping.
    exposure : array-like of shape (n_samples,), optional
        Exposure time of every cluster in seconds, all finite and > 0 (for eROSITA
        cutouts, the median of the vignetted exposure map over the cutout). Stored
        as ``X["exposure"]``: an input of models fitted with ``use_exposure=True``,
        carried along and ignored by everything else.
    counts : bool, default=True
        If True, the images are photon counts and must be >= 0. Pass False for
        background-subtracted or normalised images.
    redshift_err : array-like of shape (n_samples,), optional
        1-sigma error of every redshift (absolute, finite, >= 0), e.g. of photometric
        redshifts. Stored as ``X["redshift_err"]`` (also taken from a mapping);
        :meth:`ClusterMassRegressor.predict` propagates it into the widths.

    Returns
    -------
    X : skorch.helper.SliceDict
        With ``X["images"]`` float32 of shape (n_samples, n_bands, height, width),
        ``X["redshift"]`` float32 of shape (n_samples,) and, if an exposure was
        given, ``X["exposure"]`` float32 of shape (n_samples,) in s. Arrays already
        of the right dtype are not copied.

    Raises
    ------
    KeyError
        If a mapping lacks ``"images"`` or ``"redshift"``.
    TypeError
        If the values are not numeric, or a mapping comes with a separate redshift
        or exposure.
    ValueError
        On a wrong shape, NaN or infinite values, negative counts, redshift <= 0 or
        > 100 (a velocity cz in km/s),
        exposure <= 0 or a length mismatch between images and redshift or exposure.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass import as_inputs
    >>> X = as_inputs(np.zeros((3, 10, 50, 50)), [0.1, 0.2, 0.3])
    >>> X["images"].shape, X["images"].dtype, X["redshift"].dtype
    ((3, 10, 50, 50), dtype('float32'), dtype('float32'))
    >>> len(X[:2])
    2
    >>> X = as_inputs(np.zeros((2, 10, 50, 50)), [0.1, 0.2], exposure=[1200.0, 950.0])
    >>> X["exposure"], len(X[1:])
    (array([1200.,  950.], dtype=float32), 1)
    """
    if isinstance(images, Mapping) and redshift_err is None:
        redshift_err = images.get(REDSHIFT_ERR_KEY)
    images, redshift, exposure = _input_parts(images, redshift, exposure)
    image_array = _as_float_array(images, "images")
    redshift_array = _as_float_array(redshift, "redshift")
    _validate_images(image_array, counts)
    _validate_redshift(redshift_array, image_array.shape[0])
    arrays = {IMAGES_KEY: image_array, REDSHIFT_KEY: redshift_array}
    if exposure is not None:
        arrays[EXPOSURE_KEY] = check_exposure(exposure, image_array.shape[0])
    if redshift_err is not None:
        arrays[REDSHIFT_ERR_KEY] = check_redshift_err(redshift_err, image_array.shape[0])
    return _slice_dict(arrays)


def _input_parts(images: Any, redshift: Any, exposure: Any) -> tuple[Any, Any, Any]:
    """The parts of the input: from a mapping, or as given (redshift required).

    Returns ``(images, redshift, exposure)``, the exposure None when there is none.
    """
    if isinstance(images, Mapping):
        if redshift is not None or exposure is not None:
            message = (
                "pass either a mapping with 'images' and 'redshift' (and optionally "
                "'exposure'), or the arrays one by one"
            )
            raise TypeError(message)
        return _split_mapping(images)
    if redshift is None:
        message = (
            "redshift is missing: every cluster needs a redshift. Call "
            "as_inputs(images, redshift) or pass a dict with the keys "
            f"'{IMAGES_KEY}' and '{REDSHIFT_KEY}'."
        )
        raise ValueError(message)
    return images, redshift, exposure


def unchecked_inputs(X: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``X``'s images as given and the rest checked, for a pass that checks pixels.

    Everything :func:`as_inputs` checks (with ``counts=False``) is checked here except
    the pixels themselves: the images are numeric, real, of shape ``(n_samples,
    n_bands, height, width)`` and not empty, and the redshifts (and the exposures, if
    ``X`` has them) pass every check. The images keep their dtype and memory layout
    (no float32 copy of the whole array): the caller reads them once, converts them
    block by block and calls :func:`check_pixels` if a block holds a NaN or an infinity.

    Parameters
    ----------
    X : mapping
        With the keys ``"images"`` and ``"redshift"``, and optionally ``"exposure"``
        (a :class:`~skorch.helper.SliceDict` from :func:`as_inputs`, or a ``dict``).

    Returns
    -------
    images : ndarray of shape (n_samples, n_bands, height, width)
        In the caller's dtype and layout.
    redshift : ndarray of shape (n_samples,), float32
    exposure : ndarray of shape (n_samples,), float32, or None
        None if ``X`` has no ``"exposure"``.

    Raises
    ------
    KeyError, TypeError, ValueError
        As :func:`as_inputs`, for anything but the pixel values.

    Examples
    --------
    >>> import numpy as np
    >>> images, redshift, exposure = unchecked_inputs({"images": np.zeros((2, 3, 4, 4)),
    ...                                                "redshift": [0.1, 0.2]})
    >>> images.dtype, redshift.dtype, exposure
    (dtype('float64'), dtype('float32'), None)
    """
    images, redshift, exposure = _input_parts(X, None, None)
    image_array = _as_real_array(images, "images")
    redshift_array = _as_float_array(redshift, "redshift")
    _validate_image_shape(image_array)
    _validate_redshift(redshift_array, image_array.shape[0])
    if exposure is not None:
        exposure = check_exposure(exposure, image_array.shape[0])
    return image_array, redshift_array, exposure


def check_pixels(images: np.ndarray) -> None:
    """Raise :func:`as_inputs`'s error if an image pixel is NaN or infinite in float32.

    The message (how many values, the first sample holding one, how to fix it) is the
    one :func:`as_inputs` gives; values finite in float64 but beyond float32's range
    count as infinite, as they become infinite in the float32 network input.

    Parameters
    ----------
    images : ndarray of shape (n_samples, n_bands, height, width)
        Numeric, any dtype.

    Raises
    ------
    ValueError
        If a pixel is NaN or infinite after conversion to float32.

    Examples
    --------
    >>> import numpy as np
    >>> check_pixels(np.zeros((1, 1, 2, 2)))
    >>> check_pixels(np.full((1, 1, 2, 2), np.nan))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: images contains 4 NaN or infinite value(s) (first in sample 0). ...
    """
    _check_finite(_as_float_array(images, "images"), "images")


def n_samples_of(X: Any) -> int:
    """Return the number of clusters in ``X`` (a SliceDict, dict or array)."""
    if isinstance(X, Mapping):
        return len(X[IMAGES_KEY])
    return len(X)


def check_target(y: Any, n_samples: int | None = None) -> np.ndarray:
    """Validate ``y = log10(M500c / Msun)`` and return it as float64.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Cluster masses as log10(M500c / Msun).
    n_samples : int, optional
        Expected length (the number of clusters in ``X``).

    Returns
    -------
    y : ndarray of shape (n_samples,), float64

    Raises
    ------
    ValueError
        If ``y`` is None, is not one-dimensional, has the wrong length or non-finite
        values.

    Warns
    -----
    UserWarning
        If the values look like masses in Msun (> 100) or natural-log masses (> 20)
        rather than log10 masses.
    sklearn.exceptions.DataConversionWarning
        If ``y`` is a column vector of shape (n_samples, 1); it is raveled.

    Examples
    --------
    >>> check_target([14.0, 13.5])
    array([14. , 13.5])
    """
    if y is None:
        message = (
            "fitting requires y to be passed, but the target y is None: give the "
            "clusters' log10(M500c / Msun) as an array of shape (n_samples,)."
        )
        raise ValueError(message)
    array = _as_float_array(y, "y", np.float64)
    if array.ndim == 2 and array.shape[1] == 1:
        from sklearn.utils.validation import column_or_1d

        array = column_or_1d(array, warn=True)  # DataConversionWarning, as in sklearn
    if array.ndim != 1:
        message = f"y must have shape (n_samples,), log10(M500c / Msun); got shape {array.shape}"
        raise ValueError(message)
    if n_samples is not None and array.shape[0] != n_samples:
        message = f"X has {n_samples} clusters but y has {array.shape[0]} values"
        raise ValueError(message)
    if array.size == 0:
        raise ValueError("y is empty; at least one cluster is needed.")
    _check_finite(array, "y")
    if np.nanmax(np.abs(array)) > 100:
        message = (
            f"y looks like masses in Msun (max {np.max(array):.3g}), not log10(M500c / Msun). "
            "Pass np.log10(mass) instead."
        )
        warnings.warn(message, UserWarning, stacklevel=2)
    elif np.max(array) > 20:  # log10 M = 20 is no cluster: ln(1e14) = 32.2
        message = (
            f"y looks like natural-log masses (max {np.max(array):.3g}; ln(1e14) = 32.2), "
            "not log10(M500c / Msun). Pass y / np.log(10) (or np.log10(mass)) instead."
        )
        warnings.warn(message, UserWarning, stacklevel=2)
    return array


# ---------------------------------------------------------------- checked once per call
_MARK = "_sk_clustermass_checked_pixels"

#: Largest |value| a transformer may promise for its output pixels: a margin below
#: float32's maximum (3.4e38), so that rounding in float32 arithmetic cannot overflow.
FINITE_BOUND = 1e37


class _PixelsChecked:
    """Which images array a step checked, and a bound on its |pixel| values."""

    __slots__ = ("bound", "key")

    def __init__(self, images: np.ndarray, bound: float) -> None:
        self.key = _array_key(images)
        self.bound = bound

    def __reduce__(self):
        return type(None), ()  # a pickled or copied mark comes back as None: not trusted


def _array_key(images: Any) -> tuple | None:
    if not isinstance(images, np.ndarray):
        return None
    address = images.__array_interface__["data"][0]
    return id(images), address, images.shape, images.strides, images.dtype.str


def derived_inputs(images: np.ndarray, X: Mapping, bound: float | None) -> SliceDict:
    """A step's output ``X``: new images, ``X``'s redshift (and exposure), marked checked.

    Parameters
    ----------
    images : ndarray of shape (n_samples, n_bands', height', width')
        The step's output images, float32 (other dtypes are converted).
    X : mapping
        The step's input, already checked; its ``"redshift"`` and ``"exposure"`` are
        passed on as they are.
    bound : float or None
        A bound on the output's |pixel| values that the step proves from the bound on
        its input's (``inf`` for finite values without a known bound): then the new
        images are not scanned. None if the step may overflow float32 (keep a proved
        bound below :data:`FINITE_BOUND`): they are checked as :func:`as_inputs` checks.

    Returns
    -------
    X_new : skorch.helper.SliceDict
        Trusted once by :func:`checked_inputs` (the next step of a pipeline).

    Examples
    --------
    >>> import numpy as np
    >>> X = as_inputs(np.ones((2, 1, 3, 3)), [0.1, 0.2])
    >>> Xt = derived_inputs(np.log1p(X["images"]), X, bound=89.0)
    >>> checked_inputs(Xt) == (Xt, 89.0)
    True
    """
    exposure, redshift_err = X.get(EXPOSURE_KEY), X.get(REDSHIFT_ERR_KEY)
    if bound is not None:
        image_array = _as_float_array(images, "images")
        _validate_image_shape(image_array)
        arrays = {IMAGES_KEY: image_array, REDSHIFT_KEY: X[REDSHIFT_KEY]}
        if exposure is not None:
            arrays[EXPOSURE_KEY] = exposure
        if redshift_err is not None:
            arrays[REDSHIFT_ERR_KEY] = redshift_err
        output = _slice_dict(arrays)
    else:
        output, bound = as_inputs(images, X[REDSHIFT_KEY], exposure=exposure,
                                  counts=False, redshift_err=redshift_err), np.inf
    output.__dict__[_MARK] = _PixelsChecked(output[IMAGES_KEY], bound)
    return output


def checked_inputs(X: Any) -> tuple[SliceDict, float]:
    """``as_inputs(X, counts=False)``, or ``X`` itself if the step before checked it.

    The mark :func:`derived_inputs` leaves is trusted once and removed; it counts only
    while ``X["images"]`` is the very array it was made for.

    Parameters
    ----------
    X : mapping
        See :func:`as_inputs`.

    Returns
    -------
    X : skorch.helper.SliceDict
    bound : float
        A bound on the |pixel| values: the mark's, or ``inf`` (finite, as checked).

    Raises
    ------
    KeyError, TypeError, ValueError
        As :func:`as_inputs`.
    """
    mark = vars(X).pop(_MARK, None) if _is_slice_dict(X) else None
    if mark is not None and mark.key == _array_key(X.get(IMAGES_KEY)):
        return X, mark.bound
    return as_inputs(X, counts=False), np.inf


def _slice_dict(arrays: dict[str, np.ndarray]) -> SliceDict:
    # skorch (and with it torch) is imported when inputs are first built, not when the
    # package is: ``sk-clustermass --version`` needs neither.
    from skorch.helper import SliceDict

    return SliceDict(**arrays)


def _is_slice_dict(X: Any) -> bool:
    # no SliceDict exists before skorch.helper is imported
    helper = sys.modules.get("skorch.helper")
    return helper is not None and isinstance(X, helper.SliceDict)
