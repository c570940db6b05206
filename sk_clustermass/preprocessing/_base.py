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
example "photon counts must be >= 0") and ``_output_bound(input_bound)`` (a bound on
the output's |pixel| values, proved from one on the input's, where the transform
cannot overflow: its output is then passed on without a scan, see
:func:`~sk_clustermass._inputs.derived_inputs`).

The pixels are checked once per pipeline call: the first step checks its input, and
every step marks its output so that the next step trusts it once.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np
from sklearn.base import TransformerMixin
from sklearn.utils.validation import check_is_fitted
from skorch.helper import SliceDict

from .._inputs import IMAGES_KEY, checked_inputs, derived_inputs

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
    def _output_bound(self, input_bound: float) -> float | None:
        """Bound on |output pixel| given ``input_bound`` on |input pixel| (``inf``: any
        finite value), or None if the transform may overflow; None by default."""
        return None

    def _validate_input(self, X: Any) -> tuple[SliceDict, float]:
        X, bound = checked_inputs(X)  # no scan if the step before marked X as checked
        self._check_images(X[IMAGES_KEY])
        return X, bound

    def _output(self, images: np.ndarray, X: SliceDict, bound: float | None = None) -> SliceDict:
        # No copy of float32 images, the redshift (and exposure) untouched; images
        # without a proven bound are scanned: no transformer hands on a NaN or an inf.
        return derived_inputs(images, X, bound)

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
        X, _ = self._validate_input(X)
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
        X, bound = self._validate_input(X)
        return self._output(self._transform_images(X[IMAGES_KEY]), X,
                            self._output_bound(bound))

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
        X, bound = self._validate_input(X)
        self._fit_images(X[IMAGES_KEY])
        return self._output(self._transform_images(X[IMAGES_KEY]), X,
                            self._output_bound(bound))

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
