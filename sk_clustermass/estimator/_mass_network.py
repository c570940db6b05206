"""A fitted regressor's network with its standardisation folded in: images, z -> mean, std.

:class:`MassNetwork` is what the library's clients of the network share: export
(:mod:`sk_clustermass.models`) traces it, inspection (:mod:`sk_clustermass.inspection`)
differentiates it. :func:`regressor_of` finds the fitted :class:`ClusterMassRegressor`
of a model (the model itself, or a pipeline's last step).
"""

from __future__ import annotations

from typing import Any

import torch
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._output import mass_from_output
from ._regressor import ClusterMassRegressor
from ._symmetry import combine_outputs, square_symmetries

__all__ = ["MassNetwork", "regressor_of"]

class MassNetwork(torch.nn.Module):
    """A fitted regressor's network as a self-contained module: images, z -> mean, std.

    Parameters
    ----------
    regressor : ClusterMassRegressor
        Fitted. Its module is copied to the CPU in evaluation mode. If it was
        fitted with ``use_exposure=True``, the module takes the exposure (s) as a
        third input.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sk_clustermass import ClusterMassRegressor, as_inputs
    >>> from sk_clustermass.estimator import MassNetwork
    >>> rng = np.random.default_rng(0)
    >>> X = as_inputs(rng.poisson(1.0, (20, 2, 8, 8)), rng.uniform(0.1, 1.0, 20))
    >>> model = ClusterMassRegressor(n_filters=2, kernel_size=3, conv_layers=(1,),
    ...     pool_size=2, dense_layers=(4,), max_epochs=1, random_state=0)
    >>> model = model.fit(X, rng.uniform(13, 15, 20))
    >>> images, redshift = torch.from_numpy(X["images"]), torch.from_numpy(X["redshift"])
    >>> mean, std = MassNetwork(model)(images, redshift)
    >>> bool(np.allclose(mean.detach().numpy(), model.predict(X), atol=1e-5))
    True
    """

    def __init__(self, regressor: ClusterMassRegressor) -> None:
        super().__init__()
        check_is_fitted(regressor, "net_")
        module = regressor.net_.module_
        self.network = type(module)(**_module_params(regressor)).eval()
        self.network.load_state_dict({k: v.cpu() for k, v in module.state_dict().items()})
        self.symmetries = bool(regressor.test_time_augmentation)
        self.loss = str(regressor.loss)
        self.y_mean = float(regressor.y_mean_)
        self.y_scale = float(regressor.y_scale_)
        self.std_scale = float(regressor.std_scale_)
        self.residual_std = float(regressor.residual_std_)
        self.use_exposure = bool(getattr(module, "use_exposure", False))

    def forward(
        self, images: torch.Tensor, redshift: torch.Tensor, exposure: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Predicted mean (log10 Msun) and standard deviation (dex), each of shape (batch,).

        ``exposure`` (s, shape (batch,)) is needed by a network fitted with
        ``use_exposure=True`` and ignored otherwise.
        """
        scalars = (redshift, exposure) if self.use_exposure else (redshift,)
        if self.symmetries:
            raw = combine_outputs(
                [self.network(view, *scalars) for view in square_symmetries(images)]
            )
        else:
            raw = self.network(images, *scalars)
        return mass_from_output(
            raw, loss=self.loss, y_mean=self.y_mean, y_scale=self.y_scale,
            std_scale=self.std_scale, residual_std=self.residual_std,
        )


def _module_params(regressor: ClusterMassRegressor) -> dict:
    net = regressor.net_
    return {
        key[len("module__"):]: value
        for key, value in net.get_params(deep=False).items()
        if key.startswith("module__")
    }


def regressor_of(model: Any) -> ClusterMassRegressor:
    """The fitted network regressor of a model: the model itself or a pipeline's last step.

    Parameters
    ----------
    model : ClusterMassRegressor or Pipeline ending with one
        Fitted.

    Returns
    -------
    ClusterMassRegressor
        The fitted regressor, whose network :class:`MassNetwork` wraps.

    Raises
    ------
    TypeError
        If ``model`` is neither a :class:`ClusterMassRegressor` nor a pipeline
        ending with one (no network to export or inspect).
    sklearn.exceptions.NotFittedError
        If the regressor is not fitted.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sk_clustermass.preprocessing import LogStretch
    >>> from sk_clustermass import ClusterMassRegressor
    >>> from sk_clustermass.estimator import regressor_of
    >>> pipe = make_pipeline(LogStretch(), ClusterMassRegressor())
    >>> regressor_of(pipe)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    sklearn.exceptions.NotFittedError: This ClusterMassRegressor instance is not fitted yet.
    """
    regressor = model[-1] if isinstance(model, Pipeline) else model
    if not isinstance(regressor, ClusterMassRegressor):
        message = (
            f"only a ClusterMassRegressor (or a Pipeline ending with one) has a network "
            f"to export; got {type(regressor).__name__}."
        )
        raise TypeError(message)
    check_is_fitted(regressor, "net_")
    return regressor
