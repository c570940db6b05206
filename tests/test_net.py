"""The skorch net inside the regressor: what skorch's own callbacks see."""

from __future__ import annotations

import numpy as np
from skorch.callbacks import EpochScoring

from sk_clustermass import ClusterMassRegressor

from .conftest import TINY, make_toy_clusters


def test_epoch_scoring_scores_the_mean_output():
    X, y = make_toy_clusters(120, seed=1)
    scoring = EpochScoring("r2", lower_is_better=False, name="valid_r2")
    model = ClusterMassRegressor(**dict(TINY, max_epochs=4, validation_fraction=0.25),
                                 callbacks=[("valid_r2", scoring)]).fit(X, y)
    scores = np.array(model.history_[:, "valid_r2"])
    assert scores.shape == (4,) and np.isfinite(scores).all()
    assert scores[-1] > scores[0]  # the mean gets better: a real R^2, not a constant
