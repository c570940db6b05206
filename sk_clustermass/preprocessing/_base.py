"""What every image transformer shares: input checks, the fit/transform skeleton, helpers.

A transformer takes the library's ``X`` (see :func:`sk_clustermass.as_inputs`) and
returns a new ``X`` whose ``"images"`` are transformed and whose ``"redshift"`` (and
``"exposure"``, if there is one) is the input array itself, untouched. Subclasses fill
in three hooks:

``_check_params()``
    Validate the constructor arguments (called by ``fit`` and ``transform``).
``_fit_images(images)``
    Learn state from the training images (stateful transformers only).
``_transform_images(images)``
    Return a new float array of shape (n_samples, n_bands', height', width').

and may override ``_check_images(images)`` for value checks on the input (for
example "photon counts must be >= 0").
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np
from sklearn.base import TransformerMixin
from sklearn.utils.validation import check_is_fitted
from skorch.helper import SliceDict

from .._inputs import EXPOSURE_KEY, IMAGES_KEY, REDSHIFT_KEY, as_inputs

__all__ = ["ImageTransformerMixin"]


class ImageTransformerMixin(TransformerMixin):
    """Fit/transform skeleton for transformers on the library's ``X``.

    Put it before :class:`sklearn.base.BaseEstimator` in the bases. Set the class
    attribute ``_stateless = True`` for transformers that learn nothing: they work
    without ``fit`` (sklearn's ``requires_fit`` tag is False), and ``fit`` only
    checks the parameters and the input.
    """

    _stateless: ClassVar[bool] = True

    # ------------------------------------------------------------------ hooks
    def _check_params(self) -> None:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def _check_images(self, images: np.ndarray) -> None:
        """Extra value checks on validated input images; none by default."""

    def _fit_images(self, images: np.ndarray) -> None:
        """Learn state from the training images; nothing for stateless transformers."""

    def _transform_images(self, images: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    # ------------------------------------------------------------------ machinery
    def _validate_input(self, X: Any) -> SliceDict:
        X = as_inputs(X, counts=False)
        self._check_images(X[IMAGES_KEY])
        return X

    @staticmethod
    def _output(images: np.ndarray, X: SliceDict) -> SliceDict:
        # as_inputs neither copies float32 arrays nor touches the redshift (or exposure)
        # array; it guarantees that no transformer hands on a NaN or an inf.
        return as_inputs(images, X[REDSHIFT_KEY], exposure=X.get(EXPOSURE_KEY), counts=False)

    def fit(self, X: Any, y: Any = None) -> Self:
        """Check the parameters and the input, and learn what the transformer needs.

        Parameters
        ----------
        X : skorch.helper.SliceDict or dict
            ``X["images"]`` of shape (n_samples, n_bands, height, width) and
            ``X["redshift"]`` of shape (n_samples,); see :func:`sk_clustermass.as_inputs`.
        y : None
            Ignored; present for pipelines.

        Returns
        -------
        self
            The fitted transformer.
        """
        self._check_params()
        X = self._validate_input(X)
        self._fit_images(X[IMAGES_KEY])
        return self

    def transform(self, X: Any) -> SliceDict:
        """Transform the images; the redshift (and exposure) is passed through untouched.

        Parameters
        ----------
        X : skorch.helper.SliceDict or dict
            ``X["images"]`` of shape (n_samples, n_bands, height, width) and
            ``X["redshift"]`` of shape (n_samples,).

        Returns
        -------
        X_new : skorch.helper.SliceDict
            New ``"images"`` (float32, see the class docstring for the shape) and the
            same ``"redshift"``.
        """
        check_is_fitted(self)
        self._check_params()
        X = self._validate_input(X)
        return self._output(self._transform_images(X[IMAGES_KEY]), X)

    def fit_transform(self, X: Any, y: Any = None) -> SliceDict:
        """Fit, then transform the same ``X``, validating it once.

        Parameters
        ----------
        X : skorch.helper.SliceDict or dict
            ``X["images"]`` of shape (n_samples, n_bands, height, width) and
            ``X["redshift"]`` of shape (n_samples,).
        y : None
            Ignored; present for pipelines.

        Returns
        -------
        X_new : skorch.helper.SliceDict
            As :meth:`transform`.
        """
        self._check_params()
        X = self._validate_input(X)
        self._fit_images(X[IMAGES_KEY])
        return self._output(self._transform_images(X[IMAGES_KEY]), X)

    def _needs_counts(self) -> bool:
        """Whether the input must be photon counts (>= 0); False unless overridden."""
        return False

    def __sklearn_tags__(self):
        """Tags: dict-like ``X`` (not a 2-D array), float32 output, counts where needed."""
        tags = super().__sklearn_tags__()
        tags.requires_fit = not self._stateless
        tags.input_tags.two_d_array = False
        tags.input_tags.dict = True
        tags.input_tags.positive_only = self._needs_counts()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
