"""Model files that are safe to share: safetensors weights plus JSON, no pickle.

``joblib``/``pickle`` files run code when loaded: fine for your own files, a risk for
a model downloaded from a colleague or a web page. :func:`save_model` writes one
``.safetensors`` file instead: every array (network weights, learned preprocessing
statistics) as a tensor, and everything else (class names, hyper-parameters, scalar
fitted attributes, training history, library version) as JSON in the file's metadata.
:func:`load_model` rebuilds the estimator or pipeline from an allow-list of this
library's classes; nothing in the file can name other code to run. The file stores a
SHA-256 of its description and of every tensor, checked on load whatever version the
file claims, and the network it describes is checked against its weights before
anything is allocated; the fitted attributes must be those the class writes, with
finite values and shapes that fit the network (:mod:`._content_checks`), and paths of
the training machine (``checkpoint_dir``) are not taken from the file. A damaged or
crafted file raises one :class:`ValueError` that names it.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .._utils import atomic_path
from ._content_checks import (
    check_fitted_values,
    check_record_names,
    without_paths,
)
from ._integrity import (
    CHECKSUMS_KEY,
    check_network_shapes,
    model_file_error,
    payload_checksums,
    verify_checksums,
)

__all__ = ["load_model", "save_model"]

FORMAT_NAME = "sk_clustermass-model"
# Version 2 adds SHA-256 checksums of the description and of every tensor; version-1
# files (no checksums) load only with allow_unverified=True. A file that carries
# checksums is verified whatever version it claims.
FORMAT_VERSION = 2
_REGRESSOR_NET = "net_"


def _allowed_classes() -> dict[str, type]:
    """The classes a model file may name: this library's estimators and transformers."""
    from .. import preprocessing
    from ..estimator import ClusterMassRegressor
    from ..uncertainty import ConformalWidthRegressor, EnsembleRegressor

    classes = {"ClusterMassRegressor": ClusterMassRegressor,
               "EnsembleRegressor": EnsembleRegressor,
               "ConformalWidthRegressor": ConformalWidthRegressor}
    for name in preprocessing.__all__:
        obj = getattr(preprocessing, name)
        if isinstance(obj, type) and issubclass(obj, BaseEstimator):
            classes[name] = obj
    try:
        from .. import baselines
    except ImportError:  # pragma: no cover - baselines are optional in old versions
        return classes
    for name in getattr(baselines, "__all__", []):
        obj = getattr(baselines, name)
        if isinstance(obj, type) and issubclass(obj, BaseEstimator):
            classes[name] = obj
    return classes


# ---------------------------------------------------------------- JSON encoding
def _estimator_class(name: str) -> type | None:
    """An allowed class by name, or Pipeline (inside meta-estimators)."""
    return Pipeline if name == "Pipeline" else _allowed_classes().get(name)


def _is_model_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(item, BaseEstimator) for item in value)


# ---------------------------------------------------------------- JSON encoding
def _encode(value: Any, where: str) -> Any:
    if isinstance(value, BaseEstimator) and _estimator_class(type(value).__name__) is type(value):
        # a meta-estimator's parameter: stored by class name and parameters, unfitted
        params = value.get_params(deep=False)
        return {"__estimator__": type(value).__name__, "params": _encode(params, where)}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(item, where) for item in value]}
    if isinstance(value, list):
        return [_encode(item, where) for item in value]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {key: _encode(item, f"{where}.{key}") for key, item in value.items()}
    message = (
        f"cannot save {where} of type {type(value).__name__} in the safe format (only "
        "numbers, strings, tuples, lists, dicts and arrays are stored). Reset it to a "
        "plain value, or use joblib for your own files."
    )
    raise TypeError(message)


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if isinstance(value, dict):
        if set(value) == {"__estimator__", "params"}:
            cls = _estimator_class(value["__estimator__"])
            if cls is None:
                message = (f"the model file names the class {value['__estimator__']!r}, "
                           "which is not one of this library's estimators; refusing it")
                raise ValueError(message)
            return cls(**without_paths(_decode(value["params"])))
        if set(value) == {"__tuple__"}:
            return tuple(_decode(item) for item in value["__tuple__"])
        return {key: _decode(item) for key, item in value.items()}
    return value


# ---------------------------------------------------------------- saving
def _model_spec(model: BaseEstimator, prefix: str, tensors: dict[str, np.ndarray]) -> dict:
    """A model (estimator or Pipeline) as JSON records; arrays go to ``tensors``."""
    steps = model.steps if isinstance(model, Pipeline) else [("estimator", model)]
    check_is_fitted(steps[-1][1])
    return {"kind": "pipeline" if isinstance(model, Pipeline) else "estimator",
            "steps": [_step_record(name, step, tensors, prefix + name) for name, step in steps]}


def _step_record(name: str, step: BaseEstimator, tensors: dict[str, np.ndarray],
                 key: str | None = None) -> dict:
    key = name if key is None else key
    classes = _allowed_classes()
    cls_name = type(step).__name__
    if classes.get(cls_name) is not type(step):
        message = (
            f"step {name!r} is a {cls_name}, which the safe format cannot store: it holds "
            f"only this library's estimators and transformers ({sorted(classes)}). "
            "Use joblib.dump for pipelines with other steps."
        )
        raise TypeError(message)
    # Folders of this machine mean nothing elsewhere, and are not read from files.
    params = without_paths(step.get_params(deep=False))
    # User callbacks (loggers, scorers) act while training only and may hold anything:
    # the file keeps their names, and the loaded model has callbacks=None.
    dropped = [_callback_name(item) for item in params.get("callbacks") or []]
    if "callbacks" in params:
        params["callbacks"] = None
    record = {"name": name, "class": cls_name, "params": _encode(params, f"{name}.params"),
              "attributes": {}, "arrays": [], "dropped_callbacks": dropped}
    if key != name:
        record["key"] = key
    for attribute, value in vars(step).items():
        if not attribute.endswith("_") or attribute.startswith("_"):
            continue
        if attribute == _REGRESSOR_NET:
            _save_net(key, value, record, tensors)
        elif isinstance(value, BaseEstimator) or _is_model_list(value):
            # fitted members of a meta-estimator (EnsembleRegressor, ConformalWidthRegressor)
            members = value if isinstance(value, list) else [value]
            specs = [_model_spec(member, f"{key}.{attribute}.{i}.", tensors)
                     for i, member in enumerate(members)]
            record.setdefault("models", {})[attribute] = {
                "list": isinstance(value, list), "specs": specs}
        elif isinstance(value, np.ndarray):
            tensors[f"{key}.{attribute}"] = np.ascontiguousarray(value)
            record["arrays"].append(attribute)
        else:
            record["attributes"][attribute] = _encode(value, f"{name}.{attribute}")
    return record


def _callback_name(item: Any) -> str:
    """The name of a skorch callback given as ``(name, callback)`` or as an instance."""
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
        return item[0]
    return type(item).__name__


def _save_net(name: str, net, record: dict, tensors: dict[str, np.ndarray]) -> None:
    for key, value in net.module_.state_dict().items():
        tensors[f"{name}.module.{key}"] = value.detach().cpu().numpy().copy()
    module_params = {
        key[len("module__"):]: value
        for key, value in net.get_params(deep=False).items()
        if key.startswith("module__")
    }
    record["module_params"] = _encode(module_params, f"{name}.module_params")
    history = json.loads(json.dumps(net.history.to_list(), default=_encode_number))
    record["history"] = history


def _encode_number(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def save_model(model: BaseEstimator, path: str | Path) -> None:
    """Save a fitted estimator or pipeline of this library to a safe ``.safetensors`` file.

    Parameters
    ----------
    model : ClusterMassRegressor, transformer, baseline, or Pipeline of them
        Fitted.
    path : str or Path
        Destination file, written atomically.

    Raises
    ------
    TypeError
        If the model contains a step or attribute the safe format cannot hold.
    sklearn.exceptions.NotFittedError
        If the final estimator is not fitted.

    See Also
    --------
    load_model : the inverse.

    Notes
    -----
    User ``callbacks`` (loggers, extra scores) act while training only: they are not
    stored. The file records their names (``dropped_callbacks`` of each step in its
    metadata) and the loaded model has ``callbacks=None``; pass new ones with
    ``set_params`` before training it again.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sklearn.pipeline import make_pipeline
    >>> from sk_clustermass import ClusterMassRegressor, as_inputs, load_model, save_model
    >>> from sk_clustermass.preprocessing import LogStretch
    >>> rng = np.random.default_rng(0)
    >>> X = as_inputs(rng.poisson(1.0, (30, 2, 12, 12)), rng.uniform(0.1, 1.0, 30))
    >>> y = rng.uniform(13.0, 15.0, 30)
    >>> pipe = make_pipeline(LogStretch(), ClusterMassRegressor(
    ...     n_filters=2, kernel_size=3, conv_layers=(1,), dense_layers=(4,), pool_size=2,
    ...     max_epochs=1, random_state=0)).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
    >>> save_model(pipe, path)
    >>> bool(np.array_equal(load_model(path).predict(X), pipe.predict(X)))
    True
    """
    tensors: dict[str, np.ndarray] = {}
    spec = _model_spec(model, "", tensors)
    from .._version import __version__

    spec_json = json.dumps(spec)
    metadata = {
        "format": FORMAT_NAME,
        "format_version": str(FORMAT_VERSION),
        "library_version": __version__,
        "spec": spec_json,
        CHECKSUMS_KEY: payload_checksums(spec_json, tensors),
    }
    with atomic_path(path) as temporary:
        save_file(tensors, str(temporary), metadata=metadata)


# ---------------------------------------------------------------- loading
def _read(path: str | Path, allow_unverified: bool = False
          ) -> tuple[dict, dict[str, np.ndarray]]:
    from safetensors import safe_open

    if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block the open forever
        message = (f"{str(path)!r} is not a regular file (a FIFO, device or folder); "
                   "give the path of a .safetensors model file")
        raise ValueError(message)
    try:
        with safe_open(str(path), framework="numpy") as handle:
            metadata = handle.metadata() or {}
        tensors = load_file(str(path))
    except FileNotFoundError:
        raise
    except (SafetensorError, OSError, ValueError) as exc:
        message = f"{str(path)!r} is not a readable sk_clustermass model file ({exc})"
        raise ValueError(message) from exc
    if metadata.get("format") != FORMAT_NAME:
        message = f"{str(path)!r} is a safetensors file but not an sk_clustermass model"
        raise ValueError(message)
    try:
        version = int(metadata.get("format_version", "0"))
    except ValueError as exc:
        raise model_file_error(path, "its format version is not a number") from exc
    if version > FORMAT_VERSION:
        message = (
            f"{str(path)!r} was written by a newer sk_clustermass "
            f"({metadata.get('library_version')}); upgrade to load it"
        )
        raise ValueError(message)
    if CHECKSUMS_KEY in metadata or version >= 2:  # never switched off by the version
        verify_checksums(path, metadata, tensors)
    elif not allow_unverified:
        message = (
            f"{str(path)!r} is a model file of format version {version}, which carries no "
            "checksums: damage to it cannot be detected. If you trust it, load it with "
            "load_model(path, allow_unverified=True), then save_model it again to add them"
        )
        raise ValueError(message)
    try:
        spec = json.loads(metadata["spec"])
    except (KeyError, ValueError) as exc:
        raise model_file_error(path, f"its description is missing or not JSON ({exc})") from exc
    return spec, tensors


def _rebuild_step(record: dict, tensors: dict[str, np.ndarray], device: str,
                  path: str | Path) -> BaseEstimator:
    classes = _allowed_classes()
    cls = classes.get(record["class"])
    if cls is None:
        message = (
            f"the model file names the class {record['class']!r}, which is not one of this "
            f"library's estimators ({sorted(classes)}); refusing to load it"
        )
        raise ValueError(message)
    key = record.get("key", record["name"])
    check_record_names(path, record)  # before any attribute is set
    step = cls(**without_paths(_decode(record["params"])))
    for attribute, value in record["attributes"].items():
        setattr(step, attribute, _decode(value))
    for attribute in record["arrays"]:
        setattr(step, attribute, tensors[f"{key}.{attribute}"])
    for attribute, nested in record.get("models", {}).items():
        members = [_model_from_spec(spec, tensors, device, path) for spec in nested["specs"]]
        setattr(step, attribute, members if nested["list"] else members[0])
    network = None
    if "module_params" in record:
        network = _load_net(step, record, tensors, device, path)
    check_fitted_values(path, step, record, network)
    return step


def _model_from_spec(spec: dict, tensors: dict[str, np.ndarray], device: str,
                     path: str | Path) -> BaseEstimator:
    steps = [(record["name"], _rebuild_step(record, tensors, device, path))
             for record in spec["steps"]]
    return Pipeline(steps) if spec["kind"] == "pipeline" else steps[0][1]


def _check_device(path: str | Path, device: str) -> None:
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        message = (
            f"cannot load {str(path)!r} onto device={device!r}: PyTorch sees no CUDA "
            f"device (torch {torch.__version__}). Load it with device='cpu'."
        )
        raise ValueError(message)


def _load_net(step, record: dict, tensors: dict[str, np.ndarray], device: str,
              path: str | Path) -> dict[str, Any]:
    from skorch.history import History

    from ..estimator import ClusterMassCNN, network_parameters

    prefix = f"{record.get('key', record['name'])}.module."
    state = {key[len(prefix):]: value for key, value in tensors.items()
             if key.startswith(prefix)}
    # Files written before an architecture parameter existed ran it at its default.
    module_params = {**network_parameters(), **_decode(record["module_params"])}
    check_network_shapes(path, ClusterMassCNN, module_params, state)
    step.device_ = device
    net = step._build_net(module_params, torch.Generator(), None, None)
    net.initialize()
    net.module_.load_state_dict({key: torch.from_numpy(value) for key, value in state.items()})
    net.history_ = History(record["history"])
    step.net_ = net
    return module_params


def load_model(path: str | Path, *, device: str = "cpu",
               allow_unverified: bool = False) -> BaseEstimator:
    """Load a model saved by :func:`save_model`, without running any code from the file.

    Parameters
    ----------
    path : str or Path
    device : {'cpu', 'cuda'}, default='cpu'
        Where the network goes; a model trained on a GPU loads on a CPU.
    allow_unverified : bool, default=False
        Load a file of format version 1, which carries no checksums (damage to it cannot
        be detected); refused otherwise. Save it again to add them. A file that carries
        checksums is verified whatever this says and whatever version it claims.

    Returns
    -------
    model : estimator or Pipeline
        Fitted, predicting exactly as the saved one did (on the same device).

    Raises
    ------
    ValueError
        If the file is damaged (a checksum fails: files of format version 2 store a
        SHA-256 of their description and of every tensor), carries no checksums
        (version 1) without ``allow_unverified``, is not a model file, is from a newer
        version, names a class outside this library, describes a network its weights do
        not fit, carries fitted attributes its class does not have, non-finite numbers,
        statistics whose shape does not fit the network or a target standardisation that
        is not that of log10 masses, or if ``device='cuda'`` and there is no CUDA
        device. The message names the file.

    Notes
    -----
    ``checkpoint_dir`` is not taken from the file (the loaded model has None): a folder
    of the machine that trained it means nothing here, and a later ``fit`` must not read
    or write where a downloaded file says.
    """
    _check_device(path, device)
    spec, tensors = _read(path, allow_unverified)
    try:
        return _model_from_spec(spec, tensors, device, path)
    except ValueError:
        raise
    except (KeyError, TypeError, AttributeError, IndexError, RuntimeError,
            AssertionError) as exc:  # a crafted description: one error naming the file
        raise model_file_error(path, f"{type(exc).__name__}: {exc}") from exc
