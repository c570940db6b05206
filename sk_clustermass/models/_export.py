"""Export a fitted network to ONNX or to a :mod:`torch.export` program.

The exported graph is the network of a fitted :class:`ClusterMassRegressor` with the
target's standardisation and the width calibration folded in
(:class:`~sk_clustermass.estimator.MassNetwork`): it takes

``images``
    float32 tensor of shape (batch, n_bands, height, width), the images *as the
    regressor receives them*, i.e. after the pipeline's transformers;
``redshift``
    float32 tensor of shape (batch,);
``exposure``
    float32 tensor of shape (batch,), the exposure time in s: only for a regressor
    fitted with ``use_exposure=True`` (the graph then has three inputs);

and returns ``mean`` and ``std``, float32 tensors of shape (batch,), in
``log10(M500c / Msun)`` and dex: the same numbers as ``predict(X, return_std=True)``.
The transformers before the regressor are numpy code and are not exported: apply
them first (``pipeline[:-1].transform(X)``). The batch size is dynamic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from .._inputs import EXPOSURE_KEY, IMAGES_KEY, REDSHIFT_KEY, as_inputs
from ..estimator import ClusterMassRegressor, MassNetwork, regressor_of

__all__ = ["export_onnx", "export_torch"]


def _input_names(regressor: ClusterMassRegressor) -> list[str]:
    """The graph's inputs: images and redshift, and the exposure if the network reads it."""
    names = [IMAGES_KEY, REDSHIFT_KEY]
    return [*names, EXPOSURE_KEY] if regressor._uses_exposure() else names


def _example_inputs(regressor: ClusterMassRegressor, X: Any) -> tuple[torch.Tensor, ...]:
    """Example tensors, one per input: from ``X`` if given, else of the fitted shape."""
    names = _input_names(regressor)
    if X is None:
        shape = (2, regressor.n_bands_in_, *regressor.image_shape_in_)
        examples = {IMAGES_KEY: torch.zeros(shape), REDSHIFT_KEY: torch.full((2,), 0.5),
                    EXPOSURE_KEY: torch.full((2,), 1000.0)}
        return tuple(examples[name] for name in names)
    X = as_inputs(X, counts=False)
    if EXPOSURE_KEY in names and EXPOSURE_KEY not in X:
        message = ("the model was fitted with use_exposure=True: the example X needs "
                   "X['exposure'] (s); pass exposure= to as_inputs, or X=None")
        raise ValueError(message)
    return tuple(torch.from_numpy(X[name]) for name in names)


def _dynamic_batch(names: list[str]) -> dict:
    batch = torch.export.Dim("batch", min=1, max=1 << 20)
    return {name: {0: batch} for name in names}


def export_torch(model: Any, X: Any = None) -> torch.export.ExportedProgram:
    """Export the network of a fitted model with :func:`torch.export.export`.

    Parameters
    ----------
    model : ClusterMassRegressor or Pipeline ending with one
        Fitted.
    X : skorch.helper.SliceDict or dict, optional
        Example input *as the regressor receives it* (after the pipeline's
        transformers); zeros of the fitted shape by default.

    Returns
    -------
    program : torch.export.ExportedProgram
        ``program.module()(images, redshift)`` returns ``(mean, std)``, each of shape
        (batch,), in log10(M500c / Msun) and dex; save it with
        :func:`torch.export.save`. For a model fitted with ``use_exposure=True`` it
        is ``program.module()(images, redshift, exposure)``.
    """
    regressor = regressor_of(model)
    network = MassNetwork(regressor)
    names = _input_names(regressor)
    return torch.export.export(
        network, _example_inputs(regressor, X), dynamic_shapes=_dynamic_batch(names)
    )


def export_onnx(model: Any, path: str | Path, X: Any = None) -> Path:
    """Write the network of a fitted model to an ONNX file.

    Needs the ``onnx`` and ``onnxscript`` packages (``pip install
    sk_clustermass[export]``); run the file with ``onnxruntime``.

    Parameters
    ----------
    model : ClusterMassRegressor or Pipeline ending with one
        Fitted.
    path : str or Path
        Destination ``.onnx`` file.
    X : skorch.helper.SliceDict or dict, optional
        Example input as the regressor receives it; zeros of the fitted shape by
        default.

    Returns
    -------
    path : Path
        The file written. Its graph has the inputs ``images`` (float32, shape
        (batch, n_bands, height, width)) and ``redshift`` (float32, (batch,)), plus
        ``exposure`` (float32, (batch,), s) for a model fitted with
        ``use_exposure=True``, and the outputs ``log10_m500c`` (log10 Msun) and
        ``sigma_dex`` (dex), each (batch,).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sk_clustermass import ClusterMassRegressor, as_inputs
    >>> from sk_clustermass.models import export_onnx
    >>> rng = np.random.default_rng(0)
    >>> X = as_inputs(rng.poisson(1.0, (20, 2, 8, 8)), rng.uniform(0.1, 1.0, 20))
    >>> model = ClusterMassRegressor(n_filters=2, kernel_size=3, conv_layers=(1,),
    ...     pool_size=2, dense_layers=(4,), max_epochs=1, random_state=0)
    >>> model = model.fit(X, rng.uniform(13, 15, 20))
    >>> path = os.path.join(tempfile.mkdtemp(), "model.onnx")
    >>> export_onnx(model, path).suffix  # doctest: +SKIP
    '.onnx'

    Then, with ``onnxruntime``::

        session = onnxruntime.InferenceSession(path)
        mean, std = session.run(["log10_m500c", "sigma_dex"],
                                {"images": X["images"], "redshift": X["redshift"]})
    """
    regressor = regressor_of(model)
    path = Path(path)
    program = export_torch(regressor, X)
    onnx_program = torch.onnx.export(
        program, input_names=_input_names(regressor),
        output_names=["log10_m500c", "sigma_dex"], dynamo=True, verbose=False,
    )
    onnx_program.save(str(path))
    return path
