"""Integrity checks of model files: checksums, and a network's shapes before it is built.

A model file (see :mod:`sk_clustermass.models._persistence`) of format version 2
stores in its metadata a SHA-256 of its JSON description and one per tensor (of the
tensor's type, shape and bytes). :func:`verify_checksums` recomputes them on load, so a
file damaged on disk or in transfer, or edited by hand, is refused instead of
predicting something else. Version-1 files carry no checksums and load unchecked.

:func:`check_network_shapes` builds the network a file describes on PyTorch's
``meta`` device (shapes only, no memory) and compares it with the stored tensors, so a
file describing a huge network, or weights that do not fit it, is refused before
anything is allocated.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = ["check_network_shapes", "model_file_error", "payload_checksums", "verify_checksums"]

CHECKSUMS_KEY = "checksums"


def model_file_error(path: str | Path, problem: str) -> ValueError:
    """The one error a bad model file raises: which file, what is wrong, what to do."""
    message = (
        f"{str(path)!r} is not a valid sk_clustermass model file: {problem}. The file is "
        "damaged or was not written by save_model; save the model again, or download it "
        "again and compare its checksum with the publisher's."
    )
    return ValueError(message)


def _tensor_sha256(array: np.ndarray) -> str:
    digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    digest.update(memoryview(np.ascontiguousarray(array)).cast("B"))
    return digest.hexdigest()


def payload_checksums(spec: str, tensors: dict[str, np.ndarray]) -> str:
    """SHA-256 of the JSON description and of every tensor, as a JSON string.

    Parameters
    ----------
    spec : str
        The JSON description stored in the file's metadata.
    tensors : dict of str to ndarray
        The stored tensors, by name.

    Returns
    -------
    str
        ``{"spec": hex, "tensors": {name: hex}}`` as JSON.
    """
    checksums = {
        "spec": hashlib.sha256(spec.encode()).hexdigest(),
        "tensors": {name: _tensor_sha256(array) for name, array in sorted(tensors.items())},
    }
    return json.dumps(checksums, sort_keys=True)


def verify_checksums(path: str | Path, metadata: dict[str, str],
                     tensors: dict[str, np.ndarray]) -> None:
    """Raise a :class:`ValueError` naming ``path`` unless every stored checksum matches.

    Parameters
    ----------
    path : str or Path
        The file, for the message.
    metadata : dict of str to str
        The file's metadata, with its ``spec`` and ``checksums`` entries.
    tensors : dict of str to ndarray
        The tensors read from the file.
    """
    try:
        stored = json.loads(metadata[CHECKSUMS_KEY])
        expected = json.loads(payload_checksums(metadata["spec"], tensors))
        names = set(stored["tensors"])
    except (KeyError, TypeError, ValueError) as exc:
        raise model_file_error(path, f"its checksums are missing or unreadable ({exc})") from exc
    if stored["spec"] != expected["spec"]:
        raise model_file_error(path, "its description (JSON metadata) fails its SHA-256 check")
    if names != set(tensors):
        difference = sorted(names.symmetric_difference(tensors))
        raise model_file_error(path, f"its tensors differ from those listed ({difference})")
    damaged = [name for name in sorted(names)
               if stored["tensors"][name] != expected["tensors"][name]]
    if damaged:
        raise model_file_error(path, f"the tensor(s) {damaged} fail their SHA-256 check")


def check_network_shapes(path: str | Path, module_class: type, module_params: dict[str, Any],
                         state: dict[str, np.ndarray]) -> None:
    """Refuse a network description that does not match its stored weights.

    The network is built on PyTorch's ``meta`` device, which records shapes and
    allocates no memory, so a description of an enormous network costs nothing.

    Parameters
    ----------
    path : str or Path
        The file, for the message.
    module_class : type
        The :class:`torch.nn.Module` to build.
    module_params : dict
        Its keyword arguments, as stored.
    state : dict of str to ndarray
        The stored weights, by state-dict key.
    """
    try:
        with torch.device("meta"):
            module = module_class(**module_params)
    except Exception as exc:  # any bad parameter: one clear error naming the file
        raise model_file_error(path, f"its network cannot be built ({exc})") from exc
    expected = {key: tuple(value.shape) for key, value in module.state_dict().items()}
    stored = {key: tuple(value.shape) for key, value in state.items()}
    if expected.keys() != stored.keys():
        difference = sorted(set(expected).symmetric_difference(stored))
        raise model_file_error(path, f"its weights do not match its network ({difference})")
    wrong = [f"{key}: {stored[key]} instead of {shape}"
             for key, shape in expected.items() if stored[key] != shape]
    if wrong:
        raise model_file_error(path, f"weights of the wrong shape ({'; '.join(wrong)})")
