"""The network and its training: the CNN, its loss, the skorch net and the regressor.

:class:`ClusterMassRegressor` is the public estimator (also importable from the package
root); :class:`NonFiniteLossError` and :class:`TrainingInterruptedWarning` are what its
``fit`` raises or warns, :class:`OutOfDomainWarning` what its ``predict`` warns,
:class:`CompilationFallbackWarning` what ``compile=True`` warns where compilation fails;
:data:`PRECISIONS` lists the values of its ``precision`` parameter;
:func:`demo_parameters` is the small network the demo and the benchmarks train.
:class:`ClusterMassCNN` is its PyTorch network, and :class:`MassNetwork` that network
with the target's standardisation folded in (images, z -> mean, std), for the clients
that trace or differentiate it (:func:`regressor_of` finds the regressor of a model).
:class:`Parameter` and :func:`parameter_table` describe the regressor's constructor
parameters, one entry each, with its default and its route (where the value goes:
:data:`ROUTES`): the constructor, its docstring, the checks (:func:`validate_parameters`),
the network's and the loop's arguments (:func:`routed_parameters`,
:func:`network_parameters`), the command line and the docs table
(:func:`parameter_table_markdown`) are all made from them.

The estimator's clients live above it: :mod:`sk_clustermass.uncertainty` (ensembles,
conformal widths, population weights), :mod:`sk_clustermass.models` (model files,
pretrained models, export, mass tables) and :mod:`sk_clustermass.inspection`. Their
names, formerly importable from here, still are until sk_clustermass 0.3, with a
``FutureWarning``.

The parameter table and its helpers import no torch (the command line's ``--help``
reads them); the other names are imported when first used.
"""

from typing import TYPE_CHECKING

from .._utils import lazy_exports, moved_names
from ._names import PRECISIONS
from ._parameters import (
    ROUTES,
    Parameter,
    fingerprint_ignored,
    network_parameters,
    parameter_defaults,
    parameter_table,
    parameter_table_markdown,
    routed_parameters,
    validate_parameters,
)
from ._prior import PRIORS

if TYPE_CHECKING:
    from ._compile import CompilationFallbackWarning
    from ._demo_network import demo_parameters
    from ._domain import OutOfDomainWarning
    from ._mass_network import MassNetwork, regressor_of
    from ._module import ClusterMassCNN
    from ._net import NonFiniteLossError
    from ._regressor import (
        CalibrationWarning,
        ClusterMassRegressor,
        TrainingInterruptedWarning,
    )

__all__ = [
    "PRECISIONS",
    "PRIORS",
    "ROUTES",
    "CalibrationWarning",
    "ClusterMassCNN",
    "ClusterMassRegressor",
    "CompilationFallbackWarning",
    "MassNetwork",
    "NonFiniteLossError",
    "OutOfDomainWarning",
    "Parameter",
    "TrainingInterruptedWarning",
    "demo_parameters",
    "fingerprint_ignored",
    "network_parameters",
    "parameter_defaults",
    "parameter_table",
    "parameter_table_markdown",
    "regressor_of",
    "routed_parameters",
    "validate_parameters",
]

_UNCERTAINTY = "sk_clustermass.uncertainty"
_MODELS = "sk_clustermass.models"
_INSPECTION = "sk_clustermass.inspection"

_moved = moved_names(__name__, {
    "ConformalWidthRegressor": _UNCERTAINTY,
    "EnsembleRegressor": _UNCERTAINTY,
    "conformal_quantile": _UNCERTAINTY,
    "mixture_moments": _UNCERTAINTY,
    "PRETRAINED_MODELS": _MODELS,
    "TABLE_FORMATS": _MODELS,
    "export_onnx": _MODELS,
    "export_torch": _MODELS,
    "load_model": _MODELS,
    "load_pretrained": _MODELS,
    "mass_table": _MODELS,
    "pretrained_info": _MODELS,
    "pretrained_path": _MODELS,
    "save_model": _MODELS,
    "table_format": _MODELS,
    "write_mass_table": _MODELS,
    "group_permutation_importance": _INSPECTION,
    "radial_rings": _INSPECTION,
    "saliency_maps": _INSPECTION,
})

__getattr__, __dir__ = lazy_exports(__name__, {
    "CalibrationWarning": "._regressor",
    "ClusterMassCNN": "._module",
    "ClusterMassRegressor": "._regressor",
    "CompilationFallbackWarning": "._compile",
    "MassNetwork": "._mass_network",
    "NonFiniteLossError": "._net",
    "OutOfDomainWarning": "._domain",
    "TrainingInterruptedWarning": "._regressor",
    "demo_parameters": "._demo_network",
    "regressor_of": "._mass_network",
}, fallback=_moved)
