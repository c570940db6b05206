"""The skorch net used inside :class:`~sk_clustermass.ClusterMassRegressor`.

A thin subclass of :class:`skorch.NeuralNet` that adds the Keras-style regulariser to
the training loss, weights the loss per cluster when the fit is weighted, stops at
once when the loss diverges and runs the network in the chosen precision (float32, or
bfloat16 autocast with float32 weights and loss; see :mod:`._precision`), optionally
through :func:`torch.compile` (:mod:`._compile`). Everything else (training loop,
callbacks, devices, history) is skorch's own, with per-batch callback hooks called only
on the callbacks that use them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.dataset import unpack_data
from skorch.utils import to_tensor

from .._inputs import EXPOSURE_KEY, IMAGES_KEY, REDSHIFT_KEY
from .._utils import raise_if_signalled
from ._compile import CompiledModule
from ._data_protocol import STANDARDISED_KEY, ClusterView
from ._inference import InputScan, cpu_chunk_size
from ._loss import penalty
from ._precision import autocast
from ._standardised import standardised_once
from ._symmetry import combine_outputs, square_symmetries

__all__ = ["EXPLODED_LOSS", "ClusterNet", "NonFiniteLossError", "StopOnNonFiniteLoss"]

# Training losses are in units of the standardised target, where predicting the mean of
# y scores about 1 (MSE) or 0.5 (likelihood). An epoch above this has not learned
# something odd: the optimizer has diverged (predictions ~1000 standard deviations off).
EXPLODED_LOSS = 1e6

# Callback hooks skorch calls around every batch; the net calls them only on the
# callbacks that override them (see ClusterNet.notify).
PER_BATCH_HOOKS = ("on_batch_begin", "on_batch_end", "on_grad_computed")


class NonFiniteLossError(FloatingPointError):
    """Raised when training diverges: a loss becomes NaN, infinite, or explodes.

    If an epoch ended with a sane loss, the estimator keeps the weights of the last
    such epoch (``last_good_epoch``) with every fitted attribute, so ``predict``
    works; if none did, the estimator is left unfitted. The message says what usually
    causes a divergence.

    Attributes
    ----------
    last_good_epoch : int
        The last epoch whose weights were kept; 0 if none.
    """

    def __init__(self, message: str, last_good_epoch: int = 0) -> None:
        super().__init__(message)
        self.last_good_epoch = last_good_epoch


class StopOnNonFiniteLoss(Callback):
    """Stop training with a clear error when the loss diverges.

    An epoch diverged if its training or validation loss is NaN or infinite, or its
    training loss exceeds ``max_loss``. The check reads the losses skorch already
    recorded, so it adds no device synchronisation. The weights of the last good
    epoch (or those training started from, restored from a checkpoint if it was
    resumed) are put back before the error is raised.

    Parameters
    ----------
    max_loss : float, default=EXPLODED_LOSS
        Largest training loss (standardised-target units) taken as sane.
    """

    def __init__(self, max_loss: float = EXPLODED_LOSS) -> None:
        self.max_loss = max_loss

    def initialize(self) -> StopOnNonFiniteLoss:
        """Forget the weights remembered by an earlier fit."""
        self.last_good_state_ = None
        self.last_good_epoch_ = 0
        return self

    def _remember(self, net: NeuralNet, epoch: int) -> None:
        self.last_good_state_ = {
            key: value.detach().clone() for key, value in net.module_.state_dict().items()
        }
        self.last_good_epoch_ = epoch

    def on_epoch_begin(self, net: NeuralNet, **kwargs) -> None:
        """Remember the weights training starts from (after any checkpoint was restored)."""
        if self.last_good_state_ is None:
            self._remember(net, len(net.history) - 1)

    def _diverged(self, record: dict) -> dict[str, float]:
        losses = {key: record[key] for key in ("train_loss", "valid_loss") if key in record}
        bad = {key: value for key, value in losses.items() if not math.isfinite(value)}
        if losses.get("train_loss", 0.0) > self.max_loss:
            bad["train_loss"] = losses["train_loss"]
        return bad

    def on_epoch_end(self, net: NeuralNet, **kwargs) -> None:
        """Raise :class:`NonFiniteLossError` on a diverged epoch, else remember the weights."""
        bad = self._diverged(net.history[-1])
        if not bad:
            self._remember(net, len(net.history))
            return
        if self.last_good_state_ is not None:
            net.module_.load_state_dict(self.last_good_state_)
        which = ", ".join(f"{key} = {value:.3g}" for key, value in bad.items())
        kept = (
            f"The weights of the last good epoch ({self.last_good_epoch_}) were restored."
            if self.last_good_epoch_ > 0
            else "No epoch ended with a sane loss, so no weights were kept."
        )
        message = (
            f"training diverged in epoch {len(net.history)} ({which}; a sane loss is finite "
            f"and below {self.max_loss:.0e}). Likely causes: a learning rate too high for "
            f"this optimizer (lr={net.lr}), unscaled inputs (add LogStretch to the "
            "pipeline), or extreme target values. Try a lower lr, gradient clipping "
            f"(grad_clip=1.0) or an lr_schedule. {kept}"
        )
        raise NonFiniteLossError(message, self.last_good_epoch_)

    def on_train_end(self, net: NeuralNet, **kwargs) -> None:
        """Drop the remembered weights so they do not travel in pickles."""
        self.last_good_state_ = None


class ClusterNet(NeuralNet):
    """skorch ``NeuralNet`` with a regularisation penalty on the dense layers.

    Parameters
    ----------
    *args, **kwargs
        Passed to :class:`skorch.NeuralNet`.
    regularizer : {None, 'l1', 'l2', 'l1l2'}
    regularization : float
    regularize : {'kernel', 'bias', 'activity'}
        The penalty: the regressor's parameters of the same names (their defaults
        live in its parameter table; this class has none of its own).
    precision : {'fp32', 'bf16'}
        A resolved precision: 'bf16' runs the module's forward pass under bfloat16
        autocast (weights, loss and penalty stay float32) and keeps its weights in
        channels_last layout.
    compile_network : bool
        Run the module's forward pass through :func:`torch.compile`, falling back to
        eager execution (with one :class:`~._compile.CompilationFallbackWarning`) if
        compilation fails; :meth:`predict_raw` runs a copy compiled with inductor's
        freezing (:meth:`~._compile.CompiledModule.inference`). ``module_`` stays the
        plain module. (Not skorch's own ``compile``, which would replace ``module_``
        by the compiled wrapper.)
    """

    #: Standardise in-memory training images once per fit (see :mod:`._standardised`);
    #: off, every batch is standardised by the network as in prediction.
    standardise_once = True

    def __init__(
        self,
        *args,
        regularizer: str | None,
        regularization: float,
        regularize: str,
        precision: str,
        compile_network: bool,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.regularizer = regularizer
        self.regularization = regularization
        self.regularize = regularize
        self.precision = precision
        self.compile_network = compile_network

    @property
    def precision_in_use(self) -> str:
        """The precision the network runs in ('fp32' for nets pickled before it existed)."""
        return getattr(self, "precision", "fp32")

    def _network(self):
        """What runs the module: ``module_``, or its :class:`CompiledModule` wrapper."""
        if not getattr(self, "compile_network", False):  # nets pickled before it existed
            return self.module_
        wrapper = getattr(self, "compiled_", None)
        if wrapper is None or wrapper.module is not self.module_:
            wrapper = self.compiled_ = CompiledModule(self.module_)
        return wrapper

    def _inference_network(self):
        """What runs the module in prediction: ``module_``, or its frozen compiled copy."""
        network = self._network()
        return network.inference if isinstance(network, CompiledModule) else network

    def __getstate__(self) -> dict:
        """skorch's state without the compiled wrapper (rebuilt when next needed)."""
        state = super().__getstate__()
        state.pop("compiled_", None)
        return state

    def _listeners(self, method_name: str) -> list:
        """The callbacks whose ``method_name`` does something (overrides skorch's no-op)."""
        base = getattr(Callback, method_name)
        return [cb for _, cb in self.callbacks_
                if getattr(type(cb), method_name, base) is not base]

    def notify(self, method_name: str, **cb_kwargs) -> None:
        """skorch's notification, calling per-batch hooks only on callbacks that use them.

        skorch calls every callback's ``on_grad_computed`` after every backward pass
        (most are no-ops); only the callbacks that override a per-batch hook (gradient
        clipping, a progress bar, your own) are called here. Per-epoch and per-fit hooks
        go to every callback, as in skorch.
        """
        if method_name not in PER_BATCH_HOOKS:
            super().notify(method_name, **cb_kwargs)
            return
        getattr(self, method_name)(self, **cb_kwargs)
        cached = getattr(self, "batch_listeners_", None) or {}
        listeners = cached[method_name] if method_name in cached else self._listeners(method_name)
        for callback in listeners:
            getattr(callback, method_name)(self, **cb_kwargs)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params) -> None:
        """One pass over the batches, synchronising with the device once, not per batch.

        skorch's loop calls ``loss.item()`` after every batch, which on a GPU stalls
        the queue of kernels each time. Here batch losses stay on the device and are
        written into the history (same keys as skorch's) after the loop.
        """
        if iterator is None:
            return
        losses, sizes = [], []
        # Only the callbacks that act per batch are called per batch (skorch's own
        # notify calls every callback's no-op, which costs Python time on every step);
        # they are looked up once per epoch.
        self.batch_listeners_ = {hook: self._listeners(hook) for hook in PER_BATCH_HOOKS}
        begin = self.batch_listeners_["on_batch_begin"]
        end = self.batch_listeners_["on_batch_end"]
        for batch in iterator:
            self.on_batch_begin(self, batch=batch, training=training)
            for callback in begin:
                callback.on_batch_begin(self, batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            losses.append(step["loss"].detach())
            sizes.append(len(batch[0][IMAGES_KEY]))
            self.on_batch_end(self, batch=batch, training=training, **step)
            for callback in end:
                callback.on_batch_end(self, batch=batch, training=training, **step)
        values = torch.stack(losses).float().cpu().tolist() if losses else []
        records = self.history[-1]["batches"][-len(values) :] if values else []
        for record, value, size in zip(records, values, sizes):
            record[prefix + "_loss"] = value
            record[prefix + "_batch_size"] = size
        self.history.record(prefix + "_batch_count", len(values))
        raise_if_signalled()  # a SIGTERM whose KeyboardInterrupt a weakref callback ate

    def initialize_module(self) -> ClusterNet:
        """Build the module and switch on activation recording if it is penalised.

        The weights are put in channels_last layout, the layout of the activations,
        so that oneDNN's convolutions need no reorder (needed for bfloat16; in float32
        the speed-up measured on a 2-core AVX-512 EPYC was within noise,
        ``benchmarks/bench_training_ablations.py``).
        """
        super().initialize_module()
        self.module_.record_activations = (
            self.regularizer is not None and self.regularize == "activity"
        )
        self.module_.to(memory_format=torch.channels_last)
        return self

    def get_split_datasets(self, X, y=None, **fit_params):
        """skorch's train/validation views, over images standardised once per fit.

        See :func:`~._standardised.standardised_once`: where the copy fits in memory
        (and :attr:`standardise_once` is on), batches skip the per-batch
        standardisation; the network computes the same values either way.
        """
        train, valid = super().get_split_datasets(X, y, **fit_params)
        if not self.standardise_once:
            return train, valid
        return standardised_once(train, valid, self.module_, self.precision_in_use,
                                 self.device)

    def infer(self, x, **fit_params) -> torch.Tensor:
        """Forward pass in the net's precision (the output is always float32).

        A batch whose inputs carry ``STANDARDISED_KEY`` is passed to the module with
        ``standardised=True``.
        """
        if isinstance(x, Mapping) and x.get(STANDARDISED_KEY, False):
            x = {key: value for key, value in x.items() if key != STANDARDISED_KEY}
            fit_params = {**fit_params, "standardised": True}
        x = to_tensor(x, device=self.device)
        with autocast(self.precision_in_use, self.device):
            if isinstance(x, Mapping):  # as skorch's infer, through _network
                y_pred = self._network()(**self._merge_x_and_fit_params(x, fit_params))
            else:
                y_pred = self._network()(x, **fit_params)
        return y_pred.float()

    def train_step_single(self, batch, **fit_params) -> dict:
        """skorch's training step, with the batch's loss weights (``batch.weight``)."""
        self._set_training(True)
        inputs, target = unpack_data(batch)
        y_pred = self.infer(inputs, **fit_params)
        loss = self.get_loss(y_pred, target, X=inputs, training=True,
                             weight=getattr(batch, "weight", None))
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def validation_step(self, batch, **fit_params) -> dict:
        """skorch's validation step, with the batch's loss weights (``batch.weight``)."""
        self._set_training(False)
        inputs, target = unpack_data(batch)
        with torch.no_grad():
            y_pred = self.infer(inputs, **fit_params)
            loss = self.get_loss(y_pred, target, X=inputs, training=False,
                                 weight=getattr(batch, "weight", None))
        return {"loss": loss, "y_pred": y_pred}

    def get_loss(self, y_pred, y_true, X=None, training: bool = False,
                 weight: torch.Tensor | None = None) -> torch.Tensor:
        """Data loss (weighted when ``weight`` is given), plus the penalty in training.

        ``weight`` holds the rows' loss weights, which a :class:`~._data_protocol.Batch`
        carries beside its inputs.
        """
        if weight is None:
            loss = super().get_loss(y_pred, y_true, X=X, training=training)
        else:
            y_true = to_tensor(y_true, device=self.device)
            loss = self.criterion_(y_pred, y_true, weight=to_tensor(weight, device=self.device))
        if training and self.regularizer is not None:
            loss = loss + penalty(
                self.module_.dense,
                [activation.float() for activation in self.module_.dense_activations],
                kind=self.regularizer,
                target=self.regularize,
                strength=self.regularization,
            )
        return loss

    def predict_raw(
        self, dataset: ClusterView, *, symmetries: bool = False, return_target: bool = False,
        scan: InputScan | None = None,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Network outputs ``(mean, log_std)`` on a dataset, as a float64 array.

        A lean inference loop (``torch.inference_mode``, in-order batches from the
        dataset view, moved to the device one at a time, in the net's precision; on
        the CPU run in chunks that stay in the caches, :func:`~._inference.cpu_chunk_size`)
        instead of skorch's generic ``forward``. The outputs stay on the device until
        the last batch: one synchronisation per call.

        Parameters
        ----------
        dataset : ClusterView
            Read through its ``inference_batches`` (see :mod:`._data_protocol`).
        symmetries : bool, default=False
            Average over the 8 symmetries of the square (test-time augmentation).
        return_target : bool, default=False
            Also return the dataset's (standardised) targets, in the same order.
        scan : InputScan, optional
            Shown every batch on the device, before the network (pixel check and
            out-of-domain summary in the same pass over the data).
        """
        self.module_.eval()
        network = self._inference_network()
        eager = network is self.module_
        # The eager module runs its convolutions through the inference kernels.
        kernels = {}
        if getattr(type(self.module_), "takes_inference_kernels", False):
            kernels = {"inference_kernels": True}
        if eager:
            network = functools.partial(self.module_, **kernels)
        outputs, targets = [], []
        chunk_size = None  # set from the first CPU batch: every batch has its shape
        precision = autocast(self.precision_in_use, self.device)
        with torch.inference_mode(), precision:
            for inputs, target in dataset.inference_batches(self.batch_size, self.device):
                images = inputs[IMAGES_KEY].to(self.device, non_blocking=True)
                scalars = [inputs[REDSHIFT_KEY].to(self.device, non_blocking=True)]
                if EXPOSURE_KEY in inputs:  # only when the network uses the exposure
                    scalars.append(inputs[EXPOSURE_KEY].to(self.device, non_blocking=True))
                if chunk_size is None and images.device.type == "cpu":
                    chunk_size = cpu_chunk_size(tuple(images.shape), self.module_)
                run = network
                if inputs.get(STANDARDISED_KEY, False):  # a training view (a callback's)
                    run = functools.partial(self.module_, standardised=True, **kernels)
                    scan = None  # the scan reads counts, not standardised images
                for piece, piece_scalars in self._chunks(images, scalars, chunk_size):
                    if symmetries:
                        if scan is not None:
                            scan.update(piece, piece_scalars[0])
                        raw = combine_outputs([run(view, *piece_scalars)
                                               for view in square_symmetries(piece)])
                    else:
                        raw = self._scanned_forward(run, scan, piece, piece_scalars,
                                                    eager=eager)
                    outputs.append(raw.float())
                if return_target:
                    targets.append(target.float())
        raw = torch.cat(outputs).cpu().numpy().astype(np.float64) if outputs else np.empty((0, 2))
        if return_target:
            return raw, torch.cat(targets).cpu().numpy().astype(np.float64)
        return raw

    def _scanned_forward(self, network, scan: InputScan | None, images: torch.Tensor,
                         scalars: list[torch.Tensor], eager: bool) -> torch.Tensor:
        """One forward pass, the input scan shown the batch on the way.

        With the eager module on the CPU the scan reads the batch where the network's
        standardisation has just centred it (:meth:`InputScan.observe_centred`, one
        read of the batch instead of two); otherwise, or if the network did not show
        it the batch, the scan reads the batch itself first. ``eager``: whether
        ``network`` runs ``module_`` itself (not its compiled copy).
        """
        if scan is None:
            return network(images, *scalars)
        module = self.module_
        if not eager or images.device.type != "cpu":
            scan.update(images, scalars[0])
            return network(images, *scalars)
        seen = []

        def observe(batch, centred, band_mean):
            scan.observe_centred(batch, centred, band_mean, scalars[0])
            seen.append(True)

        module.input_observer = observe
        try:
            raw = network(images, *scalars)
        finally:
            module.input_observer = None
        if not seen:  # a network that does not standardise through _standardise
            scan.update(images, scalars[0])
        return raw

    def _chunks(self, images: torch.Tensor, scalars: list[torch.Tensor],
                chunk_size: int | None):
        """The batch in the chunks the network runs on: equal chunks of at most
        ``chunk_size`` clusters (:func:`cpu_chunk_size` on the CPU), the whole batch
        where it is None."""
        n_chunks = 1
        if chunk_size is not None and len(images) > 0:
            n_chunks = -(-len(images) // chunk_size)
        if n_chunks == 1:
            yield images, scalars
            return
        pieces = [torch.tensor_split(values, n_chunks) for values in (images, *scalars)]
        for piece, *piece_scalars in zip(*pieces):
            yield piece, piece_scalars

    def predict(self, X) -> np.ndarray:
        """The predicted mean, in the standardised target units of training.

        The network outputs ``(mean, log_std)``; skorch's scoring callbacks (e.g.
        ``skorch.callbacks.EpochScoring("r2")``) call this method and compare its
        result with the (standardised) targets, which scores the mean. Users call
        :meth:`ClusterMassRegressor.predict` instead, which returns masses.

        Parameters
        ----------
        X : ClusterTensors, StreamingClusters or anything skorch's ``forward`` takes

        Returns
        -------
        mean : ndarray of shape (n_samples,)
        """
        return self.predict_proba(X)[:, 0]
