"""The estimator's clients moved out (issue 24): their old import paths warn and still work.

``sk_clustermass.estimator`` keeps the names of :mod:`sk_clustermass.uncertainty`,
:mod:`sk_clustermass.models` and :mod:`sk_clustermass.inspection` for one release, and
``sk_clustermass.datasets`` those of the population weights, each with a FutureWarning.
"""

from __future__ import annotations

import pytest

import sk_clustermass
from sk_clustermass import datasets, estimator, inspection, models, uncertainty

MOVED_FROM_ESTIMATOR = {
    **dict.fromkeys(["ConformalWidthRegressor", "EnsembleRegressor", "conformal_quantile",
                     "mixture_moments"], uncertainty),
    **dict.fromkeys(["PRETRAINED_MODELS", "TABLE_FORMATS", "export_onnx", "export_torch",
                     "load_model", "load_pretrained", "mass_table", "pretrained_info",
                     "pretrained_path", "save_model", "table_format", "write_mass_table"],
                    models),
    **dict.fromkeys(["group_permutation_importance", "radial_rings", "saliency_maps"],
                    inspection),
}


@pytest.mark.parametrize("name", sorted(MOVED_FROM_ESTIMATOR))
def test_estimator_names_that_moved_warn_and_resolve_to_the_new_objects(name):
    new_home = MOVED_FROM_ESTIMATOR[name]
    with pytest.warns(FutureWarning, match=rf"estimator\.{name} moved to {new_home.__name__}"):
        old = getattr(estimator, name)
    assert old is getattr(new_home, name)
    assert name not in estimator.__all__


@pytest.mark.parametrize("name", ["population_density", "population_weights"])
def test_population_weights_moved_from_datasets_warn_and_resolve(name):
    with pytest.warns(FutureWarning, match=r"moved to sk_clustermass\.uncertainty"):
        old = getattr(datasets, name)
    assert old is getattr(uncertainty, name)


def test_package_root_reexports_the_moved_estimators_without_warning(recwarn):
    assert sk_clustermass.EnsembleRegressor is uncertainty.EnsembleRegressor
    assert sk_clustermass.ConformalWidthRegressor is uncertainty.ConformalWidthRegressor
    assert sk_clustermass.save_model is models.save_model
    assert sk_clustermass.load_model is models.load_model
    assert len(recwarn) == 0
