"""skorch's own callbacks in ClusterMassRegressor: fits, names and ``callbacks__`` params."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import EarlyStopping, GradientNormClipping

from sk_clustermass import ClusterMassRegressor
from sk_clustermass.estimator._callback_params import named_callbacks
from tests.conftest import TINY, make_toy_clusters


@pytest.mark.parametrize("named", [False, True])
def test_a_users_early_stopping_ends_the_fit_without_a_warning(named):
    # The regressor's own early stopping (patience=50) comes first in the net; the
    # user's (patience=1) stops the fit, which must count as finished, not interrupted
    # (warnings are errors here).
    X, y = make_toy_clusters(80, seed=0)
    early = EarlyStopping(patience=1)
    callbacks = [("es", early)] if named else [early]
    model = ClusterMassRegressor(**{**TINY, "max_epochs": 40, "patience": 50},
                                 callbacks=callbacks).fit(X, y)
    assert len(model.history_) < 40
    assert early.misses_ >= 1
    assert dict(model.net_.callbacks_)["es" if named else "EarlyStopping"] is early


def test_callbacks_are_named_as_skorch_names_them():
    callbacks = [("es", EarlyStopping()), GradientNormClipping(), GradientNormClipping(),
                 EarlyStopping]
    assert [name for name, _ in named_callbacks(callbacks)] == [
        "es", "GradientNormClipping_1", "GradientNormClipping_2", "EarlyStopping"]
    with pytest.raises(ValueError, match="two callbacks are named 'es'"):
        named_callbacks([("es", EarlyStopping()), ("es", GradientNormClipping())])
    with pytest.raises(ValueError, match=r"\(name, callback\) pair"):
        named_callbacks([("es", EarlyStopping(), 3)])


def test_get_params_deep_lists_the_callbacks_parameters():
    early = EarlyStopping(patience=4)
    model = ClusterMassRegressor(callbacks=[("es", early), GradientNormClipping(2.0)])
    params = model.get_params(deep=True)
    assert params["callbacks__es"] is early
    assert params["callbacks__es__patience"] == 4
    assert params["callbacks__GradientNormClipping__gradient_clip_value"] == 2.0
    assert not any(key.startswith("callbacks__") for key in model.get_params(deep=False))
    assert not any(key.startswith("callbacks__") for key in ClusterMassRegressor().get_params())


def test_set_params_routes_to_the_named_callback():
    early, clip = EarlyStopping(patience=1), GradientNormClipping(1.0)
    model = ClusterMassRegressor(callbacks=[("es", early), clip])
    assert model.set_params(callbacks__es__patience=3, lr=1e-4) is model
    assert early.patience == 3 and model.lr == 1e-4
    model.set_params(callbacks__GradientNormClipping__gradient_clip_value=5.0)
    assert clip.gradient_clip_value == 5.0
    replacement = EarlyStopping(patience=7)
    model.set_params(callbacks__es=replacement)
    assert model.callbacks == [("es", replacement), clip]
    model.set_params(callbacks__GradientNormClipping=None)  # off, under the same name
    assert model.get_params()["callbacks__GradientNormClipping"] is None
    with pytest.raises(ValueError, match=r"no callback is named 'stop'.*'es'"):
        model.set_params(callbacks__stop__patience=2)


def test_set_params_creates_a_callback_given_as_a_class():
    model = ClusterMassRegressor(callbacks=[EarlyStopping])
    model.set_params(callbacks__EarlyStopping__patience=2)
    (callback,) = model.callbacks
    assert isinstance(callback, EarlyStopping) and callback.patience == 2


def test_clone_copies_the_callbacks_with_their_parameters():
    early = EarlyStopping(patience=3)
    model = ClusterMassRegressor(callbacks=[("es", early)])
    copy = clone(model)
    copied = copy.get_params()["callbacks__es"]
    assert copied is not early and copied.patience == 3
    copy.set_params(callbacks__es__patience=9)
    assert early.patience == 3  # the original is untouched


def test_the_fitted_net_uses_the_routed_value():
    X, y = make_toy_clusters(60, seed=1)
    model = ClusterMassRegressor(**{**TINY, "max_epochs": 1},
                                 callbacks=[("es", EarlyStopping(patience=1))])
    model.set_params(callbacks__es__patience=6).fit(X, y)
    assert dict(model.net_.callbacks_)["es"].patience == 6


def test_grid_search_over_a_callback_parameter():
    X, y = make_toy_clusters(60, seed=2)
    early = EarlyStopping(patience=1)
    base = ClusterMassRegressor(**{**TINY, "max_epochs": 1}, callbacks=[("es", early)])
    search = GridSearchCV(base, {"callbacks__es__patience": [2, 5]}, cv=2).fit(X, y)
    assert [p["callbacks__es__patience"] for p in search.cv_results_["params"]] == [2, 5]
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = search.best_params_["callbacks__es__patience"]
    assert search.best_estimator_.get_params()["callbacks__es__patience"] == best
    assert early.patience == 1  # the search worked on clones
