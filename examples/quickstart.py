"""Quickstart: the library's workflow in thirty lines, about 1-2 minutes on 2 CPU cores
====================================================================================

Simulate eFEDS-like clusters, tune a CNN pipeline with a (tiny) grid search, save the
best model as a joblib pickle and as a safe .safetensors file, load both back, and
measure held-out masses with their uncertainties. Run ``make quickstart`` or
``python examples/quickstart.py``. The network and the grid are small so that this
finishes quickly; ``sk-clustermass demo`` trains a better one.
"""

import tempfile
from pathlib import Path

import joblib
from sklearn.model_selection import GridSearchCV, KFold, train_test_split
from sklearn.pipeline import make_pipeline

from sk_clustermass import ClusterMassRegressor, load_model, save_model
from sk_clustermass.datasets import make_clusters
from sk_clustermass.metrics import interval_coverage, scatter_dex
from sk_clustermass.preprocessing import BandNormalizer, LogStretch

# sphinx_gallery_thumbnail_path = "_static/gallery/quickstart.png"

X, y = make_clusters(n_samples=1200, survey="efeds_lab", random_state=0)  # 10 bands x 50 x 50
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)

network = ClusterMassRegressor(kernel_size=3, conv_layers=(1, 2), dense_layers=(128, 64),
                               max_epochs=8, patience=None, random_state=0)
pipe = make_pipeline(LogStretch(), BandNormalizer(), network)
search = GridSearchCV(pipe, {"clustermassregressor__n_filters": [8, 16]},
                      cv=KFold(2, shuffle=True, random_state=0),
                      scoring="neg_root_mean_squared_error")
search.fit(X_train, y_train)
print("best:", search.best_params_, f"(CV RMSE {-search.best_score_:.3f} dex)")

with tempfile.TemporaryDirectory() as tmp:
    folder = Path(tmp)
    joblib.dump(search.best_estimator_, folder / "pipe.joblib")  # a pickle: for your own use
    save_model(search.best_estimator_, folder / "pipe.safetensors")  # safe to share
    models = {"joblib": joblib.load(folder / "pipe.joblib"),
              "safetensors": load_model(folder / "pipe.safetensors")}
for name, model in models.items():
    mean, std = model.predict(X_test, return_std=True)  # log10(M500c / Msun) and 1 sigma
    print(f"{name:12s} scatter {scatter_dex(y_test, mean):.3f} dex, "
          f"68% coverage {interval_coverage(y_test, mean, std):.2f} (ideal 0.68)")
