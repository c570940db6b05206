"""The network and its training: the CNN, its loss, the skorch net and the regressor.

:class:`ClusterMassRegressor` is the public estimator (also importable from the package
root); :class:`NonFiniteLossError` and :class:`TrainingInterruptedWarning` are what its
``fit`` raises or warns; :func:`save_model` and :func:`load_model` write and read its
safe model files; :func:`export_onnx` and :func:`export_torch` export its network;
:func:`group_permutation_importance` and :func:`saliency_maps` show what it uses.
"""

from ._export import MassNetwork, export_onnx, export_torch
from ._inspection import group_permutation_importance, radial_rings, saliency_maps
from ._net import NonFiniteLossError
from ._persistence import load_model, save_model
from ._regressor import ClusterMassRegressor, TrainingInterruptedWarning

__all__ = [
    "ClusterMassRegressor",
    "MassNetwork",
    "NonFiniteLossError",
    "TrainingInterruptedWarning",
    "export_onnx",
    "export_torch",
    "group_permutation_importance",
    "load_model",
    "radial_rings",
    "saliency_maps",
    "save_model",
]
