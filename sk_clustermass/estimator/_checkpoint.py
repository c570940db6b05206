"""Checkpoints that let an interrupted ``fit`` resume to the same result.

A checkpoint holds everything the next epochs depend on: the module and optimizer
states, the history, the torch random state (dropout), the batch-order generator's
state, the early-stopping state (best weights included) and the learning-rate
schedule. It is written atomically (temporary file, then rename) every
``checkpoint_every`` epochs and when training ends.

Each fit writes into its own sub-directory named by a fingerprint of its
hyper-parameters and training data. Parallel fits of a grid search therefore never
share a file, and re-running a killed sweep with the same ``checkpoint_dir`` lets
every fit pick up its own state: finished fits load their final weights without
training, unfinished ones resume from their last checkpoint.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, LRScheduler

from .._utils import atomic_path

__all__ = [
    "TrainingCheckpoint",
    "fit_fingerprint",
    "load_checkpoint",
    "restore_state",
    "training_finished",
]

CHECKPOINT_NAME = "checkpoint.pt"
_FORMAT = 1


_HASH_BLOCK_ROWS = 256


def _hash_rows(digest, read_block, n_rows: int, block_rows: int) -> None:
    """Feed ``digest`` with the bytes of every row, read ``block_rows`` at a time."""
    for start in range(0, n_rows, block_rows):
        block = np.ascontiguousarray(read_block(start, min(start + block_rows, n_rows)))
        digest.update(memoryview(block).cast("B"))


def _hash_data(digest, data: Any) -> None:
    """Feed ``digest`` with the shape, type and every byte of one piece of data."""
    if hasattr(data, "read_into") and hasattr(data, "image_shape"):  # HDF5ClusterDataset
        n_rows, shape = len(data), tuple(data.image_shape)
        digest.update(f"clusters{(n_rows, *shape)}".encode())
        rows = max(1, min(_HASH_BLOCK_ROWS, n_rows))
        images = np.empty((rows, *shape), dtype=np.float32)
        redshift = np.empty(rows, dtype=np.float32)

        def read_block(start: int, stop: int) -> np.ndarray:
            data.read_into(start, images[: stop - start], redshift[: stop - start])
            return images[: stop - start]

        _hash_rows(digest, read_block, n_rows, rows)
        return
    if hasattr(data, "shape") and hasattr(data, "dtype") and not isinstance(data, np.ndarray):
        digest.update(f"{data.dtype.str}{tuple(data.shape)}".encode())  # h5py.Dataset
        if len(data.shape) == 0:
            digest.update(np.ascontiguousarray(data[()]).tobytes())
            return
        _hash_rows(digest, lambda start, stop: data[start:stop], data.shape[0],
                   _HASH_BLOCK_ROWS)
        return
    array = np.asarray(data)
    digest.update(f"{array.dtype.str}{array.shape}".encode())
    if array.ndim == 0:
        digest.update(array.tobytes())
        return
    _hash_rows(digest, lambda start, stop: array[start:stop], len(array), _HASH_BLOCK_ROWS)


def fit_fingerprint(params: dict[str, Any], arrays: list[Any]) -> str:
    """A hash of hyper-parameters and every byte of the training data that names a fit.

    Two fits share a checkpoint directory only if their hyper-parameters and their
    data are identical to the last byte: the data are hashed whole (SHA-256), in
    blocks of rows so that a file larger than memory is streamed, not loaded.

    Parameters
    ----------
    params : dict
        JSON-serialisable hyper-parameters (``repr`` is used for anything else).
    arrays : list of array-like, h5py.Dataset or HDF5ClusterDataset
        The training data: in-memory arrays (images, redshifts, targets), HDF5
        datasets, or an :class:`~sk_clustermass.datasets.HDF5ClusterDataset` whose
        images are hashed as they are read for training (float32).

    Returns
    -------
    str
        16 hexadecimal characters.

    Examples
    --------
    >>> import numpy as np
    >>> a = fit_fingerprint({"lr": 0.1}, [np.zeros(3)])
    >>> a == fit_fingerprint({"lr": 0.1}, [np.zeros(3)])
    True
    >>> a == fit_fingerprint({"lr": 0.2}, [np.zeros(3)])
    False
    >>> a == fit_fingerprint({"lr": 0.1}, [np.array([0.0, 0.0, 1e-30])])
    False
    """
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=repr).encode())
    for data in arrays:
        _hash_data(digest, data)
    return digest.hexdigest()[:16]


def load_checkpoint(directory: str | Path) -> dict | None:
    """Load the checkpoint in ``directory``, or None if there is none.

    Loading uses ``torch.load(weights_only=True)``: tensors and plain containers only,
    no code runs.
    """
    path = Path(directory) / CHECKPOINT_NAME
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a damaged file: say which and how to recover
        message = (
            f"the checkpoint {str(path)!r} cannot be read ({exc}); delete it to start "
            "this fit afresh."
        )
        raise ValueError(message) from exc
    if state.get("format") != _FORMAT:
        message = f"the checkpoint {str(path)!r} has an unknown format; delete it to refit."
        raise ValueError(message)
    return state


def _callback(net: NeuralNet, kind: type) -> Any:
    for _, callback in net.callbacks_:
        if isinstance(callback, kind):
            return callback
    return None


def _to_python(value: Any) -> Any:
    """Plain Python numbers for torch's ``weights_only`` loader."""
    if isinstance(value, np.generic):
        return value.item()
    return value


class TrainingCheckpoint(Callback):
    """Save the full training state every ``every`` epochs and at the end; restore it.

    Parameters
    ----------
    directory : str or Path
        This fit's checkpoint directory (created if needed).
    every : int, default=1
        Save after every ``every``-th epoch.
    generator : torch.Generator
        The batch-order/augmentation generator whose state must survive.
    resume : dict, optional
        A state from :func:`load_checkpoint` to restore when training begins.
    total_epochs : int
        The fit's ``max_epochs``: a resumed fit runs only the epochs left.
    """

    def __init__(
        self,
        directory: str | Path,
        every: int = 1,
        generator: torch.Generator | None = None,
        resume: dict | None = None,
        total_epochs: int = 1,
    ) -> None:
        self.directory = directory
        self.every = every
        self.generator = generator
        self.resume = resume
        self.total_epochs = total_epochs

    # ------------------------------------------------------------------ saving
    def _state(self, net: NeuralNet, completed: bool) -> dict:
        early = _callback(net, EarlyStopping)
        schedule = _callback(net, LRScheduler)
        state: dict[str, Any] = {
            "format": _FORMAT,
            "completed": completed,
            "module": net.module_.state_dict(),
            "optimizer": net.optimizer_.state_dict(),
            "history": json.dumps(net.history.to_list(), default=_to_python),
            "torch_rng": torch.get_rng_state(),
            "generator": None if self.generator is None else self.generator.get_state(),
        }
        if early is not None:
            state["early_stopping"] = {
                "misses": int(early.misses_),
                "threshold": float(early.dynamic_threshold_),
                "best_epoch": int(early.best_epoch_),
                "best_weights": early.best_model_weights_,
            }
        scheduler = getattr(schedule, "lr_scheduler_", None)
        if scheduler is not None:
            state["lr_scheduler"] = {
                key: _to_python(value) for key, value in scheduler.state_dict().items()
            }
        return state

    def save(self, net: NeuralNet, completed: bool) -> None:
        """Write the checkpoint atomically."""
        directory = Path(self.directory)
        directory.mkdir(parents=True, exist_ok=True)
        # two fits with one fingerprint write equally good states: let the last win
        with atomic_path(directory / CHECKPOINT_NAME, exclusive=False) as temporary:
            torch.save(self._state(net, completed), temporary)

    def on_epoch_end(self, net: NeuralNet, **kwargs) -> None:
        """Save every ``every`` epochs."""
        if len(net.history) % self.every == 0:
            self.save(net, completed=False)

    def on_train_end(self, net: NeuralNet, **kwargs) -> None:
        """Save the final state, unless training was interrupted by the user."""
        if training_finished(net, self.total_epochs):
            self.save(net, completed=True)

    # ------------------------------------------------------------------ restoring
    def on_train_begin(self, net: NeuralNet, **kwargs) -> None:
        """Restore the saved state after the other callbacks have reset theirs."""
        if self.resume is None:
            return
        restore_state(net, self.resume, self.generator, self.total_epochs)
        self.resume = None


def restore_state(
    net: NeuralNet,
    state: dict,
    generator: torch.Generator | None = None,
    total_epochs: int | None = None,
) -> None:
    """Load a checkpoint's state into an initialised net (and its callbacks).

    With ``total_epochs``, the net's ``max_epochs`` is set to the epochs still to run.
    """
    from skorch.history import History

    net.module_.load_state_dict(state["module"])
    net.optimizer_.load_state_dict(state["optimizer"])
    net.history_ = History(json.loads(state["history"]))
    torch.set_rng_state(state["torch_rng"])
    if generator is not None and state.get("generator") is not None:
        generator.set_state(state["generator"])
    early = _callback(net, EarlyStopping)
    if early is not None and "early_stopping" in state:
        saved = state["early_stopping"]
        early.misses_ = saved["misses"]
        early.dynamic_threshold_ = saved["threshold"]
        early.best_epoch_ = saved["best_epoch"]
        early.best_model_weights_ = saved["best_weights"]
    schedule = _callback(net, LRScheduler)
    if schedule is not None:
        schedule.on_train_begin(net)  # rebuild with last_epoch from the history
        if "lr_scheduler" in state:
            schedule.lr_scheduler_.load_state_dict(dict(state["lr_scheduler"]))
    if total_epochs is not None:
        # fit_loop reads max_epochs after on_train_begin: run only what is left.
        net.max_epochs = max(total_epochs - len(net.history), 0)


def training_finished(net: NeuralNet, total_epochs: int) -> bool:
    """Whether training ran to its end (all epochs, or early stopping), not interrupted.

    A callback that ends training on purpose (a time budget, ...) sets its attribute
    ``stopped_`` to True before raising ``KeyboardInterrupt``; such a stop counts as an
    end, not an interruption.
    """
    if len(net.history) >= total_epochs:
        return True
    if any(getattr(callback, "stopped_", False) for _, callback in net.callbacks_):
        return True
    # Every early stopping, the user's own too: the first one found need not be the
    # one that stopped the fit.
    return any(isinstance(callback, EarlyStopping) and callback.misses_ >= callback.patience
               for _, callback in net.callbacks_)
