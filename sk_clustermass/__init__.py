"""sk_clustermass: galaxy-cluster masses from X-ray image cubes, the scikit-learn way.

The public API:

- :class:`ClusterMassRegressor`, a scikit-learn regressor wrapping a skorch-managed
  PyTorch CNN that takes an eROSITA-like image cube and a redshift per cluster and
  predicts ``log10(M500c / Msun)`` with a Gaussian uncertainty;
- :class:`EnsembleRegressor` and :class:`ConformalWidthRegressor`, meta-estimators
  that make those uncertainties honest (several seeds mixed; widths recalibrated on
  held-out clusters per bin of predicted mass);
- :func:`save_model` and :func:`load_model`, safe model files;
- :func:`as_inputs`, the one helper that builds and validates ``X``;
- the sub-packages :mod:`sk_clustermass.datasets` (simulator and readers),
  :mod:`sk_clustermass.preprocessing` (transformers), :mod:`sk_clustermass.uncertainty`
  (the meta-estimators, population weights), :mod:`sk_clustermass.models` (model files,
  pretrained models, export, mass tables) and :mod:`sk_clustermass.inspection` (what a
  model uses).
"""

from ._inputs import as_inputs
from ._version import __version__
from .estimator import ClusterMassRegressor
from .models import load_model, save_model
from .uncertainty import ConformalWidthRegressor, EnsembleRegressor

__all__ = [
    "ClusterMassRegressor",
    "ConformalWidthRegressor",
    "EnsembleRegressor",
    "__version__",
    "as_inputs",
    "load_model",
    "save_model",
]

