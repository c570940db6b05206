"""What a model file may hold: attribute names, shapes and values, checked on load.

Checksums (:mod:`._integrity`) catch damage, not intent: whoever edits a file can
recompute them. So :func:`~sk_clustermass.models.load_model` also checks what the
description says against what this library's classes write:

- **Names.** Every fitted attribute, array and nested model a step carries must be one
  its class has (:data:`FITTED_ATTRIBUTES`); anything else (``predict``, ``__class__``,
  ``evil_``) is refused before it is set, so a file cannot shadow a method.
- **Paths.** Parameters that name folders on the machine that trained the model
  (:data:`PATH_PARAMETERS`, ``checkpoint_dir``) are not taken from files: the loaded
  model has None there, so it never reads or writes where the file says.
- **Values.** Every number is finite, and what the network and the statistics depend on
  is checked against the network: the normaliser's statistics have one value per band
  (a wrong shape would broadcast silently), the target standardisation is that of log10
  masses, scales are positive.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ._integrity import model_file_error

__all__ = ["FITTED_ATTRIBUTES", "PATH_PARAMETERS", "check_fitted_values", "check_record_names",
           "without_paths"]

#: Constructor parameters holding paths of the training machine: None once loaded.
PATH_PARAMETERS = frozenset({"checkpoint_dir"})

_REGRESSOR = frozenset({
    "device_", "precision_", "y_mean_", "y_scale_", "prior_", "n_bands_in_", "image_shape_in_",
    "exposure_range_", "n_flat_seen_", "n_threads_", "residual_std_", "std_scale_",
    "band_total_range_", "redshift_range_", "total_range_",
})
_RELATION = frozenset({"n_bands_in_", "intercept_", "scatter_", "intrinsic_scatter_",
                       "n_clipped_"})
#: Per class: the fitted attributes (scalars, arrays and nested models) its files may hold.
FITTED_ATTRIBUTES: dict[str, frozenset[str]] = {
    "ClusterMassRegressor": _REGRESSOR,
    "BandNormalizer": frozenset({"n_bands_in_", "offset_", "scale_"}),
    "CountRateRelation": _RELATION | {"coef_", "feature_names_"},
    "LuminosityRelation": _RELATION | {"slope_", "ez_power_", "n_iter_"},
    "ConformalWidthRegressor": frozenset({"estimator_", "n_calibration_", "bin_edges_",
                                          "redshift_edges_", "shift_", "scale_"}),
    "EnsembleRegressor": frozenset({"estimators_", "seeds_"}),
}
#: Bounds of the target standardisation of log10(M500c / Msun): mean and scale (dex).
_Y_MEAN_RANGE = (5.0, 20.0)
_Y_SCALE_RANGE = (1e-6, 10.0)
#: Largest factor the width calibration may apply.
_MAX_STD_SCALE = 1e3


def check_record_names(path: str | Path, record: dict) -> None:
    """Refuse a step whose fitted attributes are not those its class writes.

    Parameters
    ----------
    path : str or Path
        The file, for the message.
    record : dict
        The step's description: ``class``, ``attributes``, ``arrays`` and ``models``.
    """
    allowed = FITTED_ATTRIBUTES.get(record["class"], frozenset())
    names = [*record["attributes"], *record["arrays"], *record.get("models", {})]
    unknown = sorted(name for name in names if name not in allowed)
    if unknown:
        problem = (f"its step {record['name']!r} ({record['class']}) carries the "
                   f"attribute(s) {unknown}, which that class does not have")
        raise model_file_error(path, problem)


def without_paths(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with every path parameter (:data:`PATH_PARAMETERS`) set to None."""
    return {key: None if key in PATH_PARAMETERS else value for key, value in params.items()}


def _numbers(value: Any) -> np.ndarray | None:
    """The numbers in a fitted value (a scalar, a tuple, an array), else None."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return None
    if isinstance(value, int | float | np.number):
        return np.asarray([value], dtype=np.float64)
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value.astype(np.float64, copy=False)
    if isinstance(value, tuple | list) and value and all(
            isinstance(item, int | float) and not isinstance(item, bool) for item in value):
        return np.asarray(value, dtype=np.float64)
    return None


def _require(path: str | Path, condition: bool, problem: str) -> None:
    if not condition:
        raise model_file_error(path, problem)


def _shape(value: Any) -> tuple[int, ...] | None:
    return np.shape(value) if isinstance(value, np.ndarray) else None


def _check_regressor(path: str | Path, step: Any, network: dict[str, Any]) -> None:
    name = type(step).__name__
    n_bands = network["n_bands"]
    low, high = _Y_MEAN_RANGE
    _require(path, low <= step.y_mean_ <= high,
             f"{name}.y_mean_ = {step.y_mean_!r} is not a mean log10 mass ({low:g}-{high:g})")
    low, high = _Y_SCALE_RANGE
    _require(path, low <= step.y_scale_ <= high,
             f"{name}.y_scale_ = {step.y_scale_!r} is not a spread of log10 masses "
             f"({low:g}-{high:g} dex)")
    for attribute in ("std_scale_", "residual_std_"):
        value = getattr(step, attribute, 1.0)
        _require(path, 0 < value <= _MAX_STD_SCALE,
                 f"{name}.{attribute} = {value!r} is not a width factor in (0, "
                 f"{_MAX_STD_SCALE:g}]")
    bands = getattr(step, "n_bands_in_", n_bands)  # (files of older versions lack them)
    _require(path, bands == n_bands,
             f"{name}.n_bands_in_ = {bands!r} but its network takes {n_bands} bands")
    image = tuple(getattr(step, "image_shape_in_", network["image_size"]))
    _require(path, image == tuple(network["image_size"]),
             f"{name}.image_shape_in_ = {image!r} but its network takes "
             f"{tuple(network['image_size'])} images")
    expected = {"band_total_range_": (n_bands, 2), "total_range_": (2,),
                "redshift_range_": (2,)}
    for attribute, shape in expected.items():
        if hasattr(step, attribute):
            _require(path, _shape(getattr(step, attribute)) == shape,
                     f"{name}.{attribute} has shape {_shape(getattr(step, attribute))}, not "
                     f"{shape} ({n_bands} bands)")
    exposure = getattr(step, "exposure_range_", None)
    _require(path, exposure is None or np.shape(exposure) == (2,),
             f"{name}.exposure_range_ = {exposure!r} is not None or two exposures")
    scales = [network.get("redshift_scale", 1.0), *(network.get("band_scale") or [])]
    _require(path, all(scale > 0 for scale in scales),
             f"{name}'s network has a standardisation scale <= 0")


def _check_statistics(path: str | Path, step: Any) -> None:
    """One value per band for the normaliser; consistent shapes for the others."""
    name = type(step).__name__
    if name == "BandNormalizer":
        shape = (int(step.n_bands_in_),)
        for attribute in ("offset_", "scale_"):
            _require(path, _shape(getattr(step, attribute)) == shape,
                     f"{name}.{attribute} has shape {_shape(getattr(step, attribute))}, not "
                     f"{shape}: one value per band of its n_bands_in_ = {shape[0]}")
        _require(path, bool(np.all(step.scale_ > 0)), f"{name}.scale_ has values <= 0")
    elif name == "CountRateRelation":
        _require(path, _shape(step.coef_) == (len(step.feature_names_),),
                 f"{name}.coef_ has shape {_shape(step.coef_)}, not one value per feature "
                 f"{list(step.feature_names_)}")
    elif name == "ConformalWidthRegressor":
        _require(path, _shape(step.shift_) == _shape(step.scale_)
                 and bool(np.all(step.scale_ > 0)),
                 f"{name}.shift_ and scale_ differ in shape or scale_ has values <= 0")
    elif name == "EnsembleRegressor":
        _require(path, _shape(step.seeds_) == (len(step.estimators_),),
                 f"{name}.seeds_ has shape {_shape(step.seeds_)}, not one seed per member "
                 f"({len(step.estimators_)})")


def check_fitted_values(path: str | Path, step: Any, record: dict,
                        network: dict[str, Any] | None) -> None:
    """Refuse non-finite numbers, and statistics that do not fit the step or its network.

    Parameters
    ----------
    path : str or Path
        The file, for the message.
    step : estimator
        The rebuilt step, its fitted attributes set.
    record : dict
        Its description (which attributes came from the file).
    network : dict or None
        The network's parameters (``n_bands``, ``image_size``, standardisation), for a
        step with a network.
    """
    name = type(step).__name__
    for attribute in [*record["attributes"], *record["arrays"]]:
        numbers = _numbers(getattr(step, attribute))
        _require(path, numbers is None or bool(np.isfinite(numbers).all()),
                 f"{name}.{attribute} holds non-finite numbers")
    if network is not None:
        numbers = _numbers([float(value) for key, value in network.items()
                            if key.endswith(("_mean", "_scale")) and value is not None
                            and not isinstance(value, list | tuple)]
                           + [float(v) for key in ("band_mean", "band_scale")
                              for v in network.get(key) or []])
        _require(path, numbers is None or bool(np.isfinite(numbers).all()),
                 f"{name}'s network has non-finite standardisation values")
        _check_regressor(path, step, network)
    _check_statistics(path, step)
