"""The network and its training: the CNN, its loss, the skorch net and the regressor.

:class:`ClusterMassRegressor` is the public estimator (also importable from the package
root); :class:`NonFiniteLossError` and :class:`TrainingInterruptedWarning` are what its
``fit`` raises or warns; :func:`save_model` and :func:`load_model` write and read its
safe model files; :func:`mass_table` and :func:`write_mass_table` turn predictions into
tables with units and provenance (ECSV or FITS); :func:`load_pretrained` loads a model
shipped with the package.
"""

from ._net import NonFiniteLossError
from ._persistence import load_model, save_model
from ._pretrained import PRETRAINED_MODELS, load_pretrained, pretrained_info, pretrained_path
from ._regressor import ClusterMassRegressor, TrainingInterruptedWarning
from ._tables import TABLE_FORMATS, mass_table, table_format, write_mass_table

__all__ = [
    "PRETRAINED_MODELS",
    "TABLE_FORMATS",
    "ClusterMassRegressor",
    "NonFiniteLossError",
    "TrainingInterruptedWarning",
    "load_model",
    "load_pretrained",
    "mass_table",
    "pretrained_info",
    "pretrained_path",
    "save_model",
    "table_format",
    "write_mass_table",
]
