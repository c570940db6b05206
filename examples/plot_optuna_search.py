"""A hyper-parameter search with Optuna
=====================================

:class:`~sk_clustermass.ClusterMassRegressor` is a plain scikit-learn estimator, so
an Optuna objective only builds it with the trial's parameters and scores it, here by
the held-out Gaussian log-likelihood (:func:`sk_clustermass.metrics.nll_scorer`),
which rewards honest widths as well as accurate means. Six trials of a tiny network:
a minute or two on 2 CPU cores. Needs ``pip install optuna`` (the ``tracking`` extra).
"""

import matplotlib.pyplot as plt
import optuna
from sklearn.base import clone
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from sk_clustermass import ClusterMassRegressor
from sk_clustermass.datasets import make_clusters
from sk_clustermass.metrics import nll_scorer
from sk_clustermass.preprocessing import BandNormalizer, LogStretch

X, y = make_clusters(n_samples=400, survey="efeds_lab", random_state=2)
X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.3, random_state=0)
base = make_pipeline(LogStretch(), BandNormalizer(), ClusterMassRegressor(
    kernel_size=3, conv_layers=(1,), dense_layers=(32,), max_epochs=4, patience=None,
    random_state=0))


def objective(trial: optuna.Trial) -> float:
    params = {
        "clustermassregressor__n_filters": trial.suggest_int("n_filters", 2, 12),
        "clustermassregressor__lr": trial.suggest_float("lr", 1e-4, 1e-2, log=True),
        "clustermassregressor__dropout": trial.suggest_float("dropout", 0.0, 0.3),
    }
    model = clone(base).set_params(**params).fit(X_train, y_train)
    return nll_scorer(model, X_valid, y_valid)  # minus the mean NLL: greater is better


optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
study.optimize(objective, n_trials=6)
print("best trial:", study.best_params, f"log-likelihood {study.best_value:.3f}")

# %%
# The trials, in order, and the best value so far.
values = [trial.value for trial in study.trials]
best = [max(values[: i + 1]) for i in range(len(values))]
fig, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
ax.plot(values, "o", label="trial")
ax.plot(best, "-", label="best so far")
ax.set_xlabel("trial")
ax.set_ylabel("held-out mean log-likelihood")
ax.legend()
plt.show()
