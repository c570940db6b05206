"""ClusterMassRegressor: the scikit-learn estimator around the skorch-managed CNN."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._utils import (
    BandSummary,
    IntervalMixin,
    malloc_tuned,
    sigterm_as_keyboard_interrupt,
    torch_threads,
)
from ._callback_params import PREFIX, callback_params, set_callback_params
from ._checkpoint import (
    TrainingCheckpoint,
    fit_fingerprint,
    load_checkpoint,
    restore_state,
    training_finished,
)
from ._constructor import PARAMETERS_PLACEHOLDER, parameters_docstring, table_constructor
from ._data import BatchIterator
from ._data_protocol import ClusterSource
from ._domain import OutOfDomainWarning, count_ranges, domain_ranges, far_outside
from ._inference import InputRanges, InputScan
from ._loss import LOG_STD_MAX, LOG_STD_MIN, GaussianNLLLoss, MeanSquaredErrorLoss
from ._module import EXPOSURE_UNIT_S, ClusterMassCNN
from ._net import ClusterNet, NonFiniteLossError
from ._output import mass_from_output
from ._parameters import (
    OPTIMIZERS,
    fingerprint_parameters,
    parameter_table,
    routed_parameters,
    validate_parameters,
)
from ._precision import resolve_precision
from ._prior import prior_weights
from ._redshift_errors import combine_draws, redshift_draws, without_redshift_errors
from ._sources import FixedSplit, as_source, prediction_source
from ._training_setup import optimizer_implementation, resolve_device, training_callbacks

__all__ = ["CalibrationWarning", "ClusterMassRegressor", "TrainingInterruptedWarning"]

# Smallest width predict returns, in dex (0.2% in mass): far below the scatter of any
# X-ray mass proxy, it only keeps a collapsed width from reading as certainty.
MIN_STD_DEX = 1e-3
#: The skorch criterion of each ``loss``.
CRITERIA = {"gaussian_nll": GaussianNLLLoss, "mse": MeanSquaredErrorLoss}


#: Fewest validation clusters the width calibration (``calibrate_std``) trusts: the
#: root-mean-square pull of n clusters scatters by about 1/sqrt(2n) (22% at n = 10);
#: with 1-3 clusters it shrank every width 5-12 times.
MIN_CALIBRATION_CLUSTERS = 10


class CalibrationWarning(UserWarning):
    """``fit`` skipped the width calibration: too few validation clusters to trust it."""


class TrainingInterruptedWarning(UserWarning):
    """``fit`` was interrupted (Ctrl-C) before its last epoch; the model is usable."""


class ClusterMassRegressor(IntervalMixin, RegressorMixin, BaseEstimator):
    """Galaxy-cluster mass from an X-ray image cube and a redshift, with uncertainty.

    A convolutional network (the seed lab's architecture by default) reads the image
    cube; the redshift joins its dense part; the output is a Gaussian on
    ``log10(M500c / Msun)``: a mean and a width, trained by maximising the likelihood
    (``loss='gaussian_nll'``) or, for comparison, the mean alone by least squares
    (``loss='mse'``). Training is run by :mod:`skorch`; the fitted net is ``net_``.
    :meth:`predict_interval` gives the central interval of each Gaussian at a level.

    Targets and inputs are standardised inside (per-band mean and standard deviation
    of the images, mean and standard deviation of the redshift, of the log exposure
    with ``use_exposure`` and of ``y``, all learned in ``fit``) and predictions are
    returned in ``log10(M500c / Msun)``.

    Parameters
    ----------
    (one entry per row of the parameter table, written in below)

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The fitted skorch net; ``net_.module_`` is the :class:`torch.nn.Module`.
    history_ : skorch.History
        Per-epoch ``train_loss`` and ``valid_loss`` (and more).
    n_bands_in_ : int
        Number of bands seen in ``fit``.
    image_shape_in_ : tuple of int
        ``(height, width)`` seen in ``fit``.
    y_mean_, y_scale_ : float
        Standardisation of the target.
    std_scale_ : float
        Factor applied to the predicted widths (1.0 without calibration).
    residual_std_ : float
        Root-mean-square residual on the validation split (training set without
        one), in units of ``y_scale_``; the width returned with ``loss='mse'``.
    device_ : str
        The device actually used.
    precision_ : str
        The precision actually used, 'fp32' or 'bf16'.
    n_threads_ : int
        The torch threads ``fit`` ran with (``n_threads``, or torch's count).
    band_total_range_ : ndarray of shape (n_bands, 2)
        Smallest and largest per-cluster total of each band seen in ``fit`` (in the
        images' units after preprocessing); ``predict`` warns with
        :class:`OutOfDomainWarning` far outside it.
    redshift_range_ : ndarray of shape (2,)
        Smallest and largest redshift seen in ``fit``.
    prior_ : {'training', 'flat'}
        The mass prior the predictions carry (``prior`` at fit time).
    total_range_ : ndarray of shape (2,)
        Smallest and largest per-cluster total over every band seen in ``fit``.
    exposure_range_ : ndarray of shape (2,) or None
        Smallest and largest exposure (s) seen in ``fit``; None without exposures.
    n_flat_seen_ : int
        Number of spatially constant cubes (all zeros, say) seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass import ClusterMassRegressor, as_inputs
    >>> rng = np.random.default_rng(0)
    >>> X = as_inputs(rng.poisson(1.0, (40, 2, 16, 16)), rng.uniform(0.1, 1.0, 40))
    >>> y = rng.uniform(13.0, 15.0, 40)
    >>> model = ClusterMassRegressor(n_filters=4, kernel_size=3, conv_layers=(1,),
    ...                              dense_layers=(8,), max_epochs=2, random_state=0)
    >>> mean, std = model.fit(X, y).predict(X, return_std=True)
    >>> mean.shape, bool((std > 0).all())
    ((40,), True)
    """

    # Route return_std by default, so that pipeline.predict(X, return_std=True) and the
    # library's scorers work with sklearn.set_config(enable_metadata_routing=True).
    __metadata_request__predict: ClassVar[dict] = {"return_std": True}

    # Written from the parameter table (as dataclasses write theirs): it stores every
    # argument verbatim. One entry of the table is one argument, with its default.
    __init__ = table_constructor(parameter_table(), "ClusterMassRegressor")

    def __setstate__(self, state: dict) -> None:
        """Unpickle; a parameter added since the pickle was made takes its default."""
        missing = {p.name: p.default for p in parameter_table() if p.name not in state}
        super().__setstate__({**missing, **state})

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters of this estimator; with ``deep``, those of its callbacks too.

        Parameters
        ----------
        deep : bool, default=True
            Also return ``callbacks__<name>`` and ``callbacks__<name>__<param>`` for
            every callback in ``callbacks``, named as skorch names them (a
            ``(name, callback)`` pair by its name, others by their class name).

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        params = super().get_params(deep=deep)
        if deep:
            params.update(callback_params(self.callbacks))
        return params

    def set_params(self, **params: Any) -> ClusterMassRegressor:
        """Set parameters, those of the callbacks included (``callbacks__es__patience``).

        Parameters
        ----------
        **params
            Constructor parameters, and ``callbacks__<name>`` (replace a callback;
            None switches it off) or ``callbacks__<name>__<param>`` (set one of its
            parameters), as in skorch. ``GridSearchCV`` can search over them.

        Returns
        -------
        self : ClusterMassRegressor
            This estimator.
        """
        nested = {key[len(PREFIX):]: params.pop(key) for key in list(params)
                  if key.startswith(PREFIX)}
        super().set_params(**params)
        if nested:
            self.callbacks = set_callback_params(self.callbacks, nested)
        return self

    def _check_image_shape(self, n_bands: int, height: int, width: int) -> None:
        if n_bands != self.n_bands_in_:
            message = (
                f"X has {n_bands} energy bands but the model was fitted on "
                f"{self.n_bands_in_}: pass images with the same bands (and the same "
                "preprocessing) as in fit."
            )
            raise ValueError(message)
        if (height, width) != tuple(self.image_shape_in_):
            message = (
                f"X has {height}x{width} pixel images but the model was fitted on "
                f"{self.image_shape_in_[0]}x{self.image_shape_in_[1]}: crop or rebin them "
                "the same way as in fit."
            )
            raise ValueError(message)

    # ------------------------------------------------------------------ building
    def _module_params(self, source: ClusterSource, summary: BandSummary) -> dict:
        redshift_std = float(source.redshift.std())
        params = {
            "n_bands": source.image_shape[0],
            "image_size": tuple(source.image_shape[1:]),
            **routed_parameters(self, "network"),
            "band_mean": summary.mean.tolist(),
            "band_scale": summary.scale.tolist(),
            "redshift_mean": float(source.redshift.mean()),
            "redshift_scale": redshift_std if redshift_std > 0 else 1.0,
        }
        if source.exposure is not None:  # only then: other networks keep their params
            log_exposure = np.log10(source.exposure.astype(np.float64) / EXPOSURE_UNIT_S)
            log_std = float(log_exposure.std())
            params.update(use_exposure=True, exposure_mean=float(log_exposure.mean()),
                          exposure_scale=log_std if log_std > 0 else 1.0)
        return params

    def _build_net(
        self,
        module_params: dict,
        generator: torch.Generator,
        valid: Any,
        checkpoint: TrainingCheckpoint | None,
        source: ClusterSource | None = None,
    ) -> ClusterNet:
        """The skorch net; without a source (a loaded model), the in-memory iterator."""
        iterator = BatchIterator if source is None else source.iterator
        iterator_params = {} if source is None else source.iterator_params(self.device_)
        callbacks = training_callbacks(self)
        if checkpoint is not None:
            callbacks.append(("checkpoint", checkpoint))
        net_params = routed_parameters(self, "net")
        net_params["criterion"] = CRITERIA[net_params["criterion"]]
        optimizer_name = net_params["optimizer"]
        net_params["optimizer"] = OPTIMIZERS[optimizer_name]
        optimizer_params = routed_parameters(self, "optimizer")
        optimizer_params = {
            **optimizer_implementation(optimizer_name, self.device_, optimizer_params),
            **optimizer_params,
        }
        return ClusterNet(
            module=ClusterMassCNN,
            iterator_train=iterator,
            iterator_train__shuffle=True,
            iterator_train__generator=generator,
            iterator_train__augment=self.augment,
            iterator_valid=iterator,
            train_split=FixedSplit(valid),
            callbacks=callbacks,
            device=self.device_,
            verbose=int(self.verbose > 0),
            precision=getattr(self, "precision_", "fp32"),
            **net_params,
            **{f"module__{key}": value for key, value in module_params.items()},
            **{f"optimizer__{key}": value for key, value in optimizer_params.items()},
            **iterator_params,
        )

    def _checkpoint(
        self, generator: torch.Generator, arrays: list[np.ndarray]
    ) -> tuple[TrainingCheckpoint | None, dict | None]:
        """This fit's checkpoint callback and the saved state to resume from, if any."""
        if self.checkpoint_dir is None:
            return None, None
        params = fingerprint_parameters(self.get_params(deep=False))
        # The resolved precision, and only when it is bf16: fp32 fits keep the
        # fingerprints they had before the parameter existed, 'auto' shares with
        # what it resolved to, and bf16 and fp32 fits never share a checkpoint.
        if self.precision_ != "fp32":
            params["precision"] = self.precision_
        directory = Path(self.checkpoint_dir) / fit_fingerprint(params, arrays)
        state = load_checkpoint(directory)
        callback = TrainingCheckpoint(
            directory, self.checkpoint_every, generator, state, self.max_epochs
        )
        return callback, state

    def _standardise_target(self, y: np.ndarray) -> np.ndarray:
        if not self._warm():  # a warm start keeps the fitted network's target scale
            self.y_mean_ = float(y.mean())
            y_std = float(y.std())
            self.y_scale_ = y_std if y_std > 0 else 1.0
        return ((y - self.y_mean_) / self.y_scale_).astype(np.float32)

    def _warm(self) -> bool:
        """Whether this fit continues from the fitted network (``warm_start``)."""
        return bool(self.warm_start) and hasattr(self, "net_")

    def _warm_start_state(self, source: ClusterSource) -> tuple[dict, dict, Any] | None:
        """The fitted network's module parameters, weights and history, if reused."""
        if not self._warm():
            return None
        if self.checkpoint_dir is not None:
            message = ("warm_start=True continues from the fitted weights and cannot resume "
                       "from checkpoint_dir; set checkpoint_dir=None (or warm_start=False)")
            raise ValueError(message)
        n_bands, image_shape = source.image_shape[0], tuple(source.image_shape[1:])
        if (n_bands, image_shape) != (self.n_bands_in_, tuple(self.image_shape_in_)):
            message = (f"warm_start=True needs the bands and image size of the fitted network "
                       f"({self.n_bands_in_} bands, {tuple(self.image_shape_in_)} pixels); got "
                       f"{n_bands} bands, {image_shape} pixels. Rebin or crop "
                       "the images, or set warm_start=False to train a new network.")
            raise ValueError(message)
        params = self.net_.get_params_for("module")
        state = {key: value.detach().cpu().clone()
                 for key, value in self.net_.module_.state_dict().items()}
        return params, state, self.net_.history

    def _load_warm_weights(self, state: dict, history: Any) -> None:
        """Start the new net from the fitted weights; its epochs follow the fitted ones."""
        self.net_.initialize()
        self.net_.history = history  # appended to, as by skorch's partial_fit
        try:
            self.net_.module_.load_state_dict(state)
        except RuntimeError as exc:
            message = ("warm_start=True, but the architecture parameters (n_filters, "
                       "kernel_size, conv_layers, dense_layers, use_exposure, ...) differ from "
                       "those of the fitted network; keep them, or set warm_start=False. "
                       f"({str(exc).splitlines()[0]})")
            raise ValueError(message) from exc

    def _uses_exposure(self) -> bool:
        """Whether the fitted network reads the exposure (not ``use_exposure`` as set now)."""
        return bool(getattr(self.net_.module_, "use_exposure", False))

    def _forget_fit(self) -> None:
        """Remove every fitted attribute: the estimator is unfitted again."""
        for name in [name for name in vars(self) if name.endswith("_")]:
            delattr(self, name)

    # ------------------------------------------------------------------ public API
    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> ClusterMassRegressor:
        """Train the network on image cubes, redshifts and log10 masses.

        Parameters
        ----------
        X : skorch.helper.SliceDict, dict, HDF5ClusterDataset or path to an HDF5 file
            In memory: ``X["images"]`` of shape (n_samples, n_bands, height, width)
            and ``X["redshift"]`` of shape (n_samples,), with ``use_exposure`` also
            ``X["exposure"]`` (s) of shape (n_samples,); see
            :func:`sk_clustermass.as_inputs`. A file in our HDF5 format (or its
            :class:`~sk_clustermass.datasets.HDF5ClusterDataset`) is read in blocks
            during training, so it may be larger than memory.
        y : array-like of shape (n_samples,)
            ``log10(M500c / Msun)``. Optional for an HDF5 file that holds it.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weight of every cluster in the likelihood (or squared
            error): the training and validation losses become weighted means.
            Weights are rescaled to mean 1; only their ratios matter. Rows with
            weight 0 do not contribute to the loss but still to the input
            statistics, and the width calibration (``calibrate_std``) is unweighted.
            With metadata routing on, request it with
            ``set_fit_request(sample_weight=True)``.

        Returns
        -------
        self : ClusterMassRegressor
            The fitted estimator.

        Raises
        ------
        ValueError
            On invalid parameters or data; with ``use_exposure=True``, if ``X`` has
            no ``"exposure"``.
        NonFiniteLossError
            If training diverges (a loss becomes NaN, infinite, or explodes). The
            model keeps the last good epoch's weights and every fitted attribute, or,
            if no epoch was good, is left unfitted.

        Warns
        -----
        TrainingInterruptedWarning
            If training was interrupted (Ctrl-C, or SIGTERM as sent by ``kill``,
            SLURM or ``docker stop``): the model keeps the best weights so far and is
            usable; with ``checkpoint_dir`` a new ``fit`` resumes.
        """
        if not self._warm():  # a warm start keeps the fitted network until it is read
            self._forget_fit()
        self.device_ = resolve_device(self)
        self.precision_ = resolve_precision(self.precision, self.device_)
        seeds = check_random_state(self.random_state).randint(0, 2**31 - 1, size=3)
        validate_parameters(self)  # before use_exposure decides what to read
        source = as_source(X, y, sample_weight, use_exposure=bool(self.use_exposure))
        validate_parameters(self, source.image_shape[1:], n_bands=source.image_shape[0])
        warm = self._warm_start_state(source)
        epochs_before = 0 if warm is None else len(warm[2])
        summary = source.summary()
        target = self._standardise_target(source.target)
        self.prior_ = self.prior
        weight = prior_weights(self.prior, source.target, source.weight)
        if weight is not None:
            weight = (weight / weight.mean()).astype(np.float32)
        train, valid = source.split(
            self.validation_fraction, int(seeds[2]), target, weight, self.device_
        )
        self.n_bands_in_ = source.image_shape[0]
        self.image_shape_in_ = tuple(source.image_shape[1:])
        self.band_total_range_, self.redshift_range_ = domain_ranges(summary, source.redshift)
        self.total_range_, self.exposure_range_, self.n_flat_seen_ = count_ranges(
            summary, source.exposure)
        generator = torch.Generator().manual_seed(int(seeds[1]))
        checkpoint, state = self._checkpoint(generator, source.fingerprint_arrays())

        module_params = self._module_params(source, summary)
        if warm is not None:  # the fitted network's input standardisation
            module_params.update({key: warm[0][key] for key in (
                "band_mean", "band_scale", "redshift_mean", "redshift_scale",
                "exposure_mean", "exposure_scale") if key in warm[0]})
        diverged = None
        with (torch.random.fork_rng(devices=[]), malloc_tuned(self.malloc_tuning),
              torch_threads(self.n_threads) as self.n_threads_,
              sigterm_as_keyboard_interrupt()):
            torch.manual_seed(int(seeds[0]))
            self.net_ = self._build_net(module_params, generator, valid, checkpoint, source)
            if warm is not None:
                self._load_warm_weights(warm[1], warm[2])
                try:
                    self.net_.partial_fit(train, None)
                except NonFiniteLossError as error:
                    diverged = error
            elif state is not None and state["completed"]:
                self.net_.initialize()
                restore_state(self.net_, state)
            else:
                try:
                    self.net_.fit(train, None)
                except NonFiniteLossError as error:
                    diverged = error
            # The split holds a view of the training data: drop it so that pickles of
            # the fitted model do not carry the data set.
            self.net_.train_split = None
            self.net_.max_epochs = self.max_epochs
            if diverged is not None and diverged.last_good_epoch == 0:
                self._forget_fit()
                raise diverged
            if diverged is None:
                self._warn_if_interrupted(epochs_before)
            held_out = valid if valid is not None else train
            self._calibrate(held_out, calibrate=valid is not None)
        if diverged is not None:
            raise diverged
        return self

    def _warn_if_interrupted(self, start: int) -> None:
        """Warn unless this fit ran its epochs (after the ``start`` of a warm start)."""
        if training_finished(self.net_, start + self.max_epochs):
            return
        message = (
            f"training was interrupted after epoch {len(self.net_.history) - start} of "
            f"{self.max_epochs}; the model holds the best weights so far and can predict. "
            + (
                "Call fit again with the same settings to resume from the checkpoint."
                if self.checkpoint_dir is not None
                else "Set checkpoint_dir to be able to resume interrupted fits."
            )
        )
        warnings.warn(message, TrainingInterruptedWarning, stacklevel=3)

    def _calibrate(self, dataset, *, calibrate: bool) -> None:
        """Residual scatter and width scale from held-out (or training) clusters."""
        raw, target = self.net_.predict_raw(
            dataset, symmetries=self.test_time_augmentation, return_target=True
        )
        residual = target - raw[:, 0]
        self.residual_std_ = float(np.sqrt(np.mean(residual**2)))
        self.std_scale_ = 1.0
        if not (calibrate and self.calibrate_std and self.loss == "gaussian_nll"):
            return
        if len(residual) < MIN_CALIBRATION_CLUSTERS:
            message = (f"calibrate_std skipped: the validation split holds {len(residual)} "
                       f"cluster(s), fewer than {MIN_CALIBRATION_CLUSTERS}, too few to "
                       "rescale the widths (std_scale_ = 1). Pass more clusters, raise "
                       "validation_fraction, or set calibrate_std=False.")
            warnings.warn(message, CalibrationWarning, stacklevel=4)
            return
        pulls = residual / np.exp(np.clip(raw[:, 1], LOG_STD_MIN, LOG_STD_MAX))
        self.std_scale_ = float(np.sqrt(np.mean(pulls**2)))

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Coefficient of determination R^2 of the predicted mean masses.

        This is what ``GridSearchCV`` and ``cross_val_score`` maximise when no
        ``scoring`` is given. It looks at the mean alone, not at the predicted
        widths: to rank models by how well their Gaussians describe the truths, use
        ``scoring=sk_clustermass.metrics.nll_scorer`` (minus the mean Gaussian
        negative log-likelihood); for the scatter in dex,
        ``scoring="neg_root_mean_squared_error"`` or ``metrics.scatter_scorer``.

        Parameters
        ----------
        X : skorch.helper.SliceDict, dict, HDF5ClusterDataset or path to an HDF5 file
            As in :meth:`predict`.
        y : array-like of shape (n_samples,)
            True ``log10(M500c / Msun)``.
        sample_weight : array-like of shape (n_samples,), optional
            Weights of the clusters in R^2.

        Returns
        -------
        score : float
            ``1 - sum((y - mean)^2) / sum((y - y.mean())^2)``; 1 is perfect, 0 is
            predicting the average mass for every cluster.
        """
        return super().score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        """Tags: ``X`` is dict-like (images and redshift), not a 2-D array."""
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.dict = True
        tags.non_deterministic = self.random_state is None
        return tags

    @property
    def history_(self):
        """Per-epoch training history of the fitted net (``net_.history``)."""
        check_is_fitted(self, "net_")
        return self.net_.history

    def _check_domain(self, seen: InputRanges, exposure: np.ndarray | None) -> None:
        """Warn if the clusters lie outside the ranges recorded in ``fit``."""
        if getattr(self, "redshift_range_", None) is None:  # a model saved before 0.x
            return
        # Models saved before the whole-cube, exposure and flat-cube ranges existed
        # have none: those checks are skipped (flat cubes then always warn).
        problems = far_outside(
            self.band_total_range_, self.redshift_range_, seen, seen.redshift,
            total_range=getattr(self, "total_range_", None),
            exposure_range=getattr(self, "exposure_range_", None), exposure=exposure,
            n_flat_seen=getattr(self, "n_flat_seen_", None),
        )
        if problems:
            message = (
                "some clusters lie outside the training domain: "
                + "; ".join(problems)
                + ". Their predicted masses and widths are extrapolations: check the "
                "inputs' units and preprocessing, or train on clusters like them."
            )
            warnings.warn(message, OutOfDomainWarning, stacklevel=3)

    def predict(self, X: Any, return_std: bool = False):
        """Predict ``log10(M500c / Msun)`` and, optionally, its standard deviation.

        Parameters
        ----------
        X : skorch.helper.SliceDict, dict, HDF5ClusterDataset or path to an HDF5 file
            Same bands and image size as in ``fit``; ``X["exposure"]`` too if the
            model was fitted with ``use_exposure=True``. With ``X["redshift_err"]``
            (``as_inputs(..., redshift_err=...)``), the redshift errors are propagated
            by Monte Carlo: 16 seeded draws of the redshifts, combined as mean of the
            means and mean of the variances plus variance of the means.
        return_std : bool, default=False
            Also return the predicted 1-sigma width of each mass. This parameter
            is requested for metadata routing by default, so that
            ``pipeline.predict(X, return_std=True)`` and this library's scorers
            work with ``sklearn.set_config(enable_metadata_routing=True)``.

        Returns
        -------
        mean : ndarray of shape (n_samples,)
            Predicted ``log10(M500c / Msun)``.
        std : ndarray of shape (n_samples,)
            Predicted standard deviation in dex (at least ``MIN_STD_DEX`` = 1e-3);
            only with ``return_std=True``.

        Raises
        ------
        ValueError
            If ``X`` is malformed (as :func:`~sk_clustermass.as_inputs` says), its
            bands or image size differ from those of ``fit``, or the model was fitted
            with ``use_exposure=True`` and ``X`` has no ``"exposure"``.

        Warns
        -----
        OutOfDomainWarning
            If clusters lie outside the redshifts, per-band or whole-cube totals (or
            exposures) seen in ``fit`` by more than a factor 2, or are spatially
            constant (an empty cube): their predictions are extrapolations (see
            :mod:`~sk_clustermass.estimator._domain`).

        Notes
        -----
        The images are read once: each batch is converted to float32 (if it is not
        already), checked for NaN and infinite pixels and summed per band for the
        out-of-domain check on the device, then run through the network. A float64 or
        non-contiguous input is never copied whole.
        """
        check_is_fitted(self, "net_")
        draws = redshift_draws(X)  # X["redshift_err"]: Monte Carlo over z
        if draws is not None:
            # The domain is that of the redshifts given, not of the tails of the draws.
            self.predict(without_redshift_errors(X))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", OutOfDomainWarning)
                predictions = [self.predict(draw, return_std=True) for draw in draws]
            mean, std = combine_draws(predictions)
            return (mean, std) if return_std else mean
        source = prediction_source(X, use_exposure=self._uses_exposure())
        self._check_image_shape(*source.image_shape)
        view = source.view()
        backing = getattr(view, "backing_arrays", None)
        scan = InputScan(on_non_finite=source.check_pixels,
                         rows_of=backing() if backing is not None else None)
        with malloc_tuned(self.malloc_tuning), torch_threads(self.n_threads):
            raw = self.net_.predict_raw(view, symmetries=self.test_time_augmentation, scan=scan)
        self._check_domain(scan.ranges(), source.exposure)
        mean, std = mass_from_output(
            raw, loss=self.loss, y_mean=self.y_mean_, y_scale=self.y_scale_,
            std_scale=self.std_scale_, residual_std=self.residual_std_, min_std=MIN_STD_DEX,
        )
        if not np.isfinite(mean).all():
            message = (
                "the network produced non-finite predictions; the fitted weights are "
                "probably corrupt (diverged training). Refit with a lower lr or grad_clip."
            )
            raise FloatingPointError(message)
        return (mean, std) if return_std else mean


ClusterMassRegressor.__doc__ = ClusterMassRegressor.__doc__.replace(
    "    " + PARAMETERS_PLACEHOLDER, parameters_docstring(parameter_table())
)
