"""Tracking a training run with TensorBoard and skorch callbacks
==============================================================

:class:`~sk_clustermass.ClusterMassRegressor` trains with skorch, so any skorch
callback plugs in through ``callbacks``. Here skorch's ``TensorBoard`` callback
writes the losses of every epoch (and an ``EpochScoring`` callback the validation
R^2 of the predicted mean) to a log folder; ``tensorboard --logdir <folder>`` shows
them. Needs ``pip install tensorboard`` (the ``tracking`` extra).

Callbacks belong to training: :func:`~sk_clustermass.save_model` does not store them
(the file records their names; the loaded model has ``callbacks=None``). For MLflow,
skorch's own ``skorch.callbacks.MlflowLogger`` goes into ``callbacks`` the same way
(``pip install sk_clustermass[tracking]``; recipe on the "Export, tracking and
searches" page).
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
from skorch.callbacks import EpochScoring, TensorBoard
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.utils.tensorboard import SummaryWriter

from sk_clustermass import ClusterMassRegressor, load_model, save_model
from sk_clustermass.datasets import make_clusters

X, y = make_clusters(n_samples=300, survey="efeds_lab", random_state=1)
logdir = Path(tempfile.mkdtemp()) / "run-1"
callbacks = [
    ("valid_r2", EpochScoring("r2", lower_is_better=False, name="valid_r2")),
    ("tensorboard", TensorBoard(SummaryWriter(str(logdir)))),
]
model = ClusterMassRegressor(n_filters=4, kernel_size=3, conv_layers=(1,), dense_layers=(16,),
                             max_epochs=5, patience=None, validation_fraction=0.2,
                             callbacks=callbacks, random_state=0).fit(X, y)

# %%
# What TensorBoard would show: read the event file back.
events = EventAccumulator(str(logdir))
events.Reload()
fig, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
for tag in ("Loss/train_loss", "Loss/valid_loss"):
    steps = [(event.step, event.value) for event in events.Scalars(tag)]
    ax.plot(*zip(*steps), marker="o", label=tag)
ax.set_xlabel("epoch")
ax.set_ylabel("Gaussian negative log-likelihood")
ax.legend()
print("scalars logged:", sorted(events.Tags()["scalars"]))
print("validation R^2 per epoch:", [round(e.value, 3) for e in events.Scalars("Loss/valid_r2")])

# %%
# Saving keeps the model, not the callbacks.
path = Path(tempfile.mkdtemp()) / "model.safetensors"
save_model(model, path)
print("callbacks after loading:", load_model(path).callbacks)
plt.show()
