"""The network and its training: the CNN, its loss, the skorch net and the regressor.

:class:`ClusterMassRegressor` is the public estimator (also importable from the package
root); :class:`NonFiniteLossError` and :class:`TrainingInterruptedWarning` are what its
``fit`` raises or warns, :class:`OutOfDomainWarning` what its ``predict`` warns,
:class:`CompilationFallbackWarning` what ``compile=True`` warns where compilation fails;
:func:`save_model` and :func:`load_model` write and read its
safe model files; :func:`mass_table` and :func:`write_mass_table` turn predictions into
tables with units and provenance (ECSV or FITS); :func:`load_pretrained` loads a model
shipped with the package; :data:`PRECISIONS` lists the values of its ``precision`` parameter;
:func:`export_onnx` and :func:`export_torch` export its network;
:func:`group_permutation_importance` and :func:`saliency_maps` show what it uses.
Two meta-estimators improve the widths of any regressor with
``predict(X, return_std=True)``: :class:`EnsembleRegressor` (several seeds, mixed)
and :class:`ConformalWidthRegressor` (widths recalibrated on a held-out split, per
bin of predicted mass). :class:`Parameter` and :func:`parameter_table` describe the
regressor's constructor parameters, one entry each: :func:`validate_parameters` checks
them, and the command line and the docs table (:func:`parameter_table_markdown`) are
made from them. :func:`demo_parameters` is the small, fast network the demo, the
examples and the benchmarks train.
"""

from ._compile import CompilationFallbackWarning
from ._conformal import ConformalWidthRegressor, conformal_quantile
from ._demo_network import demo_parameters
from ._domain import OutOfDomainWarning
from ._ensemble import EnsembleRegressor, mixture_moments
from ._export import MassNetwork, export_onnx, export_torch
from ._inspection import group_permutation_importance, radial_rings, saliency_maps
from ._net import NonFiniteLossError
from ._parameters import (
    Parameter,
    fingerprint_ignored,
    parameter_table,
    parameter_table_markdown,
    validate_parameters,
)
from ._persistence import load_model, save_model
from ._precision import PRECISIONS
from ._pretrained import PRETRAINED_MODELS, load_pretrained, pretrained_info, pretrained_path
from ._regressor import ClusterMassRegressor, TrainingInterruptedWarning
from ._tables import TABLE_FORMATS, mass_table, table_format, write_mass_table

__all__ = [
    "PRECISIONS",
    "PRETRAINED_MODELS",
    "TABLE_FORMATS",
    "ClusterMassRegressor",
    "CompilationFallbackWarning",
    "ConformalWidthRegressor",
    "EnsembleRegressor",
    "MassNetwork",
    "NonFiniteLossError",
    "OutOfDomainWarning",
    "Parameter",
    "TrainingInterruptedWarning",
    "conformal_quantile",
    "demo_parameters",
    "export_onnx",
    "export_torch",
    "fingerprint_ignored",
    "group_permutation_importance",
    "load_model",
    "load_pretrained",
    "mass_table",
    "mixture_moments",
    "parameter_table",
    "parameter_table_markdown",
    "pretrained_info",
    "pretrained_path",
    "radial_rings",
    "saliency_maps",
    "save_model",
    "table_format",
    "validate_parameters",
    "write_mass_table",
]
