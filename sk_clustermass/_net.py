"""The skorch net used inside :class:`~sk_clustermass.ClusterMassRegressor`.

A thin subclass of :class:`skorch.NeuralNet` that adds the Keras-style regulariser to
the training loss and stops at once on a non-finite loss. Everything else (training
loop, callbacks, devices, history) is skorch's own.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback

from ._inputs import IMAGES_KEY, REDSHIFT_KEY
from ._loss import penalty
from ._symmetry import combine_outputs, square_symmetries

__all__ = ["ClusterNet", "NonFiniteLossError", "StopOnNonFiniteLoss"]


class NonFiniteLossError(FloatingPointError):
    """Raised when the training loss becomes NaN or infinite.

    The fitted estimator keeps the weights of the last good epoch, so ``predict``
    still works; the message says what usually causes a divergence.
    """


class StopOnNonFiniteLoss(Callback):
    """Stop training with a clear error as soon as a batch loss is NaN or infinite.

    The weights of the last epoch that ended with a finite loss are restored before
    the error is raised.
    """

    def initialize(self) -> StopOnNonFiniteLoss:
        """Forget the weights remembered by an earlier fit."""
        self.last_good_state_ = None
        self.last_good_epoch_ = 0
        return self

    def on_epoch_end(self, net: NeuralNet, **kwargs) -> None:
        """Remember the weights after every finite epoch (cheap: a state-dict copy)."""
        train_loss = net.history[-1].get("train_loss", math.nan)
        if math.isfinite(train_loss):
            self.last_good_state_ = {
                key: value.detach().clone() for key, value in net.module_.state_dict().items()
            }
            self.last_good_epoch_ = len(net.history)

    def on_train_end(self, net: NeuralNet, **kwargs) -> None:
        """Drop the remembered weights so they do not travel in pickles."""
        self.last_good_state_ = None

    def on_batch_end(self, net: NeuralNet, batch=None, training: bool = False, **kwargs):
        """Raise :class:`NonFiniteLossError` on a non-finite loss."""
        loss = kwargs.get("loss")
        if loss is None or bool(torch.isfinite(loss).all()):
            return
        if self.last_good_state_ is not None:
            net.module_.load_state_dict(self.last_good_state_)
        epoch = len(net.history)
        message = (
            f"the {'training' if training else 'validation'} loss became {loss.item()} in "
            f"epoch {epoch}. Likely causes: a learning rate too high for this optimizer "
            f"(lr={net.lr}), "
            "unscaled inputs (add LogStretch/BandNormalizer to the pipeline), or extreme "
            "target values. Try a lower lr, gradient clipping (grad_clip=1.0) or an "
            "lr_schedule. The weights of the last good epoch "
            f"({self.last_good_epoch_}) were restored."
        )
        raise NonFiniteLossError(message)


def _inference_batches(dataset, batch_size: int):
    """In-order batches of an in-memory or streaming dataset."""
    from ._data import BatchIterator
    from ._streaming import StreamingBatchIterator, StreamingClusters

    if isinstance(dataset, StreamingClusters):
        return StreamingBatchIterator(dataset, batch_size)
    return BatchIterator(dataset, batch_size)


class ClusterNet(NeuralNet):
    """skorch ``NeuralNet`` with a regularisation penalty on the dense layers.

    Parameters
    ----------
    *args, **kwargs
        Passed to :class:`skorch.NeuralNet`.
    regularizer : {None, 'l1', 'l2', 'l1l2'}, default=None
    regularization : float, default=1e-4
    regularize : {'kernel', 'bias', 'activity'}, default='kernel'
    """

    def __init__(
        self,
        *args,
        regularizer: str | None = None,
        regularization: float = 1e-4,
        regularize: str = "kernel",
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.regularizer = regularizer
        self.regularization = regularization
        self.regularize = regularize

    def initialize_module(self) -> ClusterNet:
        """Build the module and switch on activation recording if it is penalised."""
        super().initialize_module()
        self.module_.record_activations = (
            self.regularizer is not None and self.regularize == "activity"
        )
        return self

    def get_loss(self, y_pred, y_true, X=None, training: bool = False) -> torch.Tensor:
        """Data loss, plus the regularisation penalty while training."""
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        if training and self.regularizer is not None:
            loss = loss + penalty(
                self.module_.dense,
                self.module_.dense_activations,
                kind=self.regularizer,
                target=self.regularize,
                strength=self.regularization,
            )
        return loss

    def predict_raw(
        self, dataset, *, symmetries: bool = False, return_target: bool = False
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Network outputs ``(mean, log_std)`` on a dataset, as a float64 array.

        A lean inference loop (``torch.inference_mode``, batches from the net's
        validation iterator moved to the device one at a time) instead of skorch's
        generic ``forward``.

        Parameters
        ----------
        dataset : ClusterTensors or StreamingClusters
        symmetries : bool, default=False
            Average over the 8 symmetries of the square (test-time augmentation).
        return_target : bool, default=False
            Also return the dataset's (standardised) targets, in the same order.
        """
        self.module_.eval()
        outputs, targets = [], []
        with torch.inference_mode():
            for inputs, target in _inference_batches(dataset, self.batch_size):
                images = inputs[IMAGES_KEY].to(self.device)
                redshift = inputs[REDSHIFT_KEY].to(self.device)
                if symmetries:
                    raw = combine_outputs(
                        [self.module_(view, redshift) for view in square_symmetries(images)]
                    )
                else:
                    raw = self.module_(images, redshift)
                outputs.append(raw.float().cpu())
                if return_target:
                    targets.append(target.float().cpu())
        raw = torch.cat(outputs).numpy().astype(np.float64) if outputs else np.empty((0, 2))
        if return_target:
            return raw, torch.cat(targets).numpy().astype(np.float64)
        return raw
