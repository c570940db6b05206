"""The documented recipes: TensorBoard and MLflow logging through skorch, an Optuna search.

They mirror ``examples/plot_tracking_tensorboard.py`` and
``examples/plot_optuna_search.py`` on tiny settings, and are skipped where the
optional packages (the ``tracking`` extra) are missing.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from sk_clustermass import ClusterMassRegressor, load_model, save_model
from sk_clustermass.metrics import nll_scorer

from .conftest import TINY, make_toy_clusters


def test_tensorboard_callback_logs_every_epoch_and_model_still_saves(tmp_path):
    pytest.importorskip("tensorboard")
    from skorch.callbacks import TensorBoard
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from torch.utils.tensorboard import SummaryWriter

    X, y = make_toy_clusters(60, seed=6)
    writer = SummaryWriter(str(tmp_path / "run"))
    model = ClusterMassRegressor(**dict(TINY, max_epochs=3, validation_fraction=0.2),
                                 callbacks=[("tensorboard", TensorBoard(writer))]).fit(X, y)
    events = EventAccumulator(str(tmp_path / "run"))
    events.Reload()
    logged = events.Scalars("Loss/train_loss")
    assert [event.step for event in logged] == [1, 2, 3]
    np.testing.assert_allclose([event.value for event in logged],
                               model.history_[:, "train_loss"], rtol=1e-6)
    save_model(model, tmp_path / "model.safetensors")
    assert load_model(tmp_path / "model.safetensors").callbacks is None


def test_skorch_mlflow_logger_logs_every_epoch_to_a_file_store(tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    # mlflow >= 3.7 refuses the file store unless asked (earlier versions ignore this).
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    from mlflow.tracking import MlflowClient
    from skorch.callbacks import MlflowLogger

    client = MlflowClient(tracking_uri=(tmp_path / "mlruns").as_uri())
    run = client.create_run(client.create_experiment("sk_clustermass"))
    X, y = make_toy_clusters(60, seed=6)
    logger = MlflowLogger(run=run, client=client)
    model = ClusterMassRegressor(**dict(TINY, max_epochs=3, validation_fraction=0.2),
                                 callbacks=[("mlflow", logger)]).fit(X, y)
    run_id = run.info.run_id
    for key in ("train_loss", "valid_loss"):
        logged = client.get_metric_history(run_id, key)
        assert [metric.step for metric in logged] == [1, 2, 3]
        np.testing.assert_allclose([metric.value for metric in logged],
                                   model.history_[:, key], rtol=1e-6)
    assert client.get_run(run_id).info.status == "FINISHED"
    artifacts = {artifact.path for artifact in client.list_artifacts(run_id)}
    assert {"params.pth", "history.json"} <= artifacts
    model.set_params(callbacks__mlflow__create_artifact=False)
    assert logger.create_artifact is False
    save_model(model, tmp_path / "model.safetensors")
    assert load_model(tmp_path / "model.safetensors").callbacks is None


def test_optuna_search_over_the_estimator():
    optuna = pytest.importorskip("optuna")
    X, y = make_toy_clusters(80, seed=7)
    base = ClusterMassRegressor(**dict(TINY, max_epochs=2))
    seen = []

    def objective(trial):
        n_filters = trial.suggest_int("n_filters", 2, 6)
        model = clone(base).set_params(n_filters=n_filters).fit(X[:60], y[:60])
        seen.append(model.net_.module_.features[0].out_channels)
        return nll_scorer(model, X[60:], y[60:])

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, n_trials=3)
    assert len(study.trials) == 3 and np.isfinite(study.best_value)
    assert seen == [trial.params["n_filters"] for trial in study.trials]
