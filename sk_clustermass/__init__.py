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

The estimators and model files are imported when first used (``import sk_clustermass``
does not load PyTorch), so that ``sk-clustermass --version`` answers at once.
"""

from typing import TYPE_CHECKING

from ._inputs import as_inputs
from ._utils import lazy_exports
from ._version import __version__

if TYPE_CHECKING:
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


__getattr__, __dir__ = lazy_exports(__name__, {
    "ClusterMassRegressor": ".estimator",
    "ConformalWidthRegressor": ".uncertainty",
    "EnsembleRegressor": ".uncertainty",
    "load_model": ".models",
    "save_model": ".models",
    # the sub-packages that `import sk_clustermass` used to load as a side effect
    "estimator": "",
    "instrument": "",
    "models": "",
    "simulate": "",
    "uncertainty": "",
})
del TYPE_CHECKING, lazy_exports
