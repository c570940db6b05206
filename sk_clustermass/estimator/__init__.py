"""The network and its training: the CNN, its loss, the skorch net and the regressor.

:class:`ClusterMassRegressor` is the public estimator (also importable from the package
root); :class:`NonFiniteLossError` and :class:`TrainingInterruptedWarning` are what its
``fit`` raises or warns, :class:`OutOfDomainWarning` what its ``predict`` warns;
:func:`save_model` and :func:`load_model` write and read its safe model files.
"""

from ._domain import OutOfDomainWarning
from ._net import NonFiniteLossError
from ._persistence import load_model, save_model
from ._regressor import ClusterMassRegressor, TrainingInterruptedWarning

__all__ = [
    "ClusterMassRegressor",
    "NonFiniteLossError",
    "OutOfDomainWarning",
    "TrainingInterruptedWarning",
    "load_model",
    "save_model",
]
