"""Which bands and which radii a fitted model uses: grouped permutation importance.

:func:`group_permutation_importance`, as in Ho et al. (2023, ApJ 950, 149): the drop
in score when one energy band, the redshift (the exposure, for a network that reads
it), or one ring of pixels around the centre (:func:`radial_rings`) is shuffled
between clusters. It works on any fitted model of this library (pipelines included)
and reuses :func:`sklearn.inspection.permutation_importance` for the repeats, the
scorer and the result, by permuting *indices* of clusters instead of columns.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.inspection import permutation_importance
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch
from skorch.helper import SliceDict

from .._inputs import EXPOSURE_KEY, IMAGES_KEY, REDSHIFT_KEY, as_inputs, check_target
from ..estimator import ClusterMassRegressor

__all__ = ["group_permutation_importance", "radial_rings"]


def radial_rings(image_shape: tuple[int, int], n_rings: int = 5) -> list[np.ndarray]:
    """Boolean masks of ``n_rings`` equal-width rings around the image centre.

    Parameters
    ----------
    image_shape : (int, int)
        ``(height, width)`` in pixels.
    n_rings : int, default=5
        Number of rings; together they cover the whole image (the last one reaches
        the corners).

    Returns
    -------
    masks : list of ndarray of bool, each of shape (height, width)

    Examples
    --------
    >>> masks = radial_rings((50, 50), 5)
    >>> len(masks), int(sum(mask.sum() for mask in masks))
    (5, 2500)
    """
    height, width = image_shape
    yy, xx = np.mgrid[:height, :width]
    radius = np.hypot(yy - (height - 1) / 2, xx - (width - 1) / 2)
    edges = np.linspace(0.0, radius.max(), n_rings + 1)
    edges[-1] = np.inf
    return [(radius >= low) & (radius < high) for low, high in pairwise(edges)]


class _IndexedModel(RegressorMixin, BaseEstimator):
    """Predicts from a matrix of cluster indices: column g says whose group g to use.

    With every column equal to ``arange(n)`` it predicts on ``X`` itself; when
    scikit-learn's permutation importance shuffles column g, group g (a band, the
    redshift, the exposure or a ring of pixels) is taken from other clusters.
    """

    def __init__(self, model: Any, X: SliceDict, groups: list[tuple[str, Any]]) -> None:
        self.model = model
        self.X = X
        self.groups = groups

    def fit(self, X: Any, y: Any = None) -> _IndexedModel:  # pragma: no cover - unused
        return self

    def predict(self, indices: np.ndarray) -> np.ndarray:
        indices = np.asarray(indices, dtype=np.intp)
        identity = np.arange(len(indices))
        images = self.X[IMAGES_KEY][identity].copy()
        scalars = {key: self.X[key][identity].copy()
                   for key in (REDSHIFT_KEY, EXPOSURE_KEY) if key in self.X}
        for column, (kind, where) in enumerate(self.groups):
            order = indices[:, column]
            if np.array_equal(order, identity):
                continue
            if kind == "band":
                images[:, where] = self.X[IMAGES_KEY][order, where]
            elif kind in scalars:  # the redshift or the exposure
                scalars[kind] = self.X[kind][order]
            else:
                images[:, :, where] = self.X[IMAGES_KEY][order][:, :, where]
        return self.model.predict(SliceDict(**{IMAGES_KEY: images, **scalars}))


def group_permutation_importance(
    model: Any,
    X: Any,
    y: Any,
    *,
    n_rings: int = 5,
    scoring: Any = "neg_root_mean_squared_error",
    n_repeats: int = 5,
    random_state: int | np.random.RandomState | None = None,
    n_jobs: int | None = None,
) -> Bunch:
    """Permutation importance of every band, the redshift and rings of pixels.

    Each group is shuffled between the clusters of ``X`` (the others stay), the
    fitted ``model`` predicts again and the score drops by the group's importance.
    Bands and redshift tell which inputs carry mass information; rings tell how far
    from the centre it lies (a model using only the core is blind to the outskirts).

    Parameters
    ----------
    model : fitted estimator or Pipeline of this library
        Anything with ``predict(X)``; ``X`` is given to it as built by
        :func:`sk_clustermass.as_inputs` (raw counts before a pipeline).
    X : skorch.helper.SliceDict or dict
        ``X["images"]`` of shape (n_samples, n_bands, height, width) and
        ``X["redshift"]`` of shape (n_samples,) (and ``X["exposure"]``, carried to
        the model); held-out clusters, ideally.
    y : array-like of shape (n_samples,)
        True ``log10(M500c / Msun)``.
    n_rings : int, default=5
        Rings of equal width around the image centre (see :func:`radial_rings`).
    scoring : str or callable, default='neg_root_mean_squared_error'
        As in :func:`sklearn.inspection.permutation_importance`; with the default,
        an importance is the increase of the scatter in dex.
    n_repeats : int, default=5
        Shuffles per group.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffles.
    n_jobs : int, optional
        Groups evaluated in parallel (joblib).

    Returns
    -------
    result : sklearn.utils.Bunch
        ``importances`` of shape (n_groups, n_repeats), ``importances_mean`` and
        ``importances_std`` of shape (n_groups,), and ``names`` (``"band 0"``, ...,
        ``"redshift"``, ``"ring 0"``, ...) and ``kinds`` (``"band"``,
        ``"redshift"``, ``"ring"``) of length n_groups. For a network fitted with
        ``use_exposure=True`` (alone or ending a pipeline) the group ``"exposure"``
        follows the redshift.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass import as_inputs
    >>> from sk_clustermass.baselines import CountRateRelation
    >>> from sk_clustermass.datasets import make_clusters
    >>> from sk_clustermass.inspection import group_permutation_importance
    >>> X, y = make_clusters(n_samples=60, random_state=0)
    >>> model = CountRateRelation().fit(X, y)
    >>> result = group_permutation_importance(model, X, y, n_repeats=2, random_state=0)
    >>> result.names[:2], result.importances.shape
    (['band 0', 'band 1'], (16, 2))
    """
    X = as_inputs(X, counts=False)
    y = check_target(y, len(X[REDSHIFT_KEY]))
    n_bands = X[IMAGES_KEY].shape[1]
    rings = radial_rings(X[IMAGES_KEY].shape[2:], n_rings)
    groups: list[tuple[str, Any]] = [("band", band) for band in range(n_bands)]
    scalars = ["redshift", "exposure"] if _reads_exposure(model) else ["redshift"]
    groups += [(kind, None) for kind in scalars] + [("ring", mask) for mask in rings]
    names = [f"band {band}" for band in range(n_bands)] + scalars
    names += [f"ring {ring}" for ring in range(n_rings)]
    indices = np.repeat(np.arange(len(y))[:, None], len(groups), axis=1)
    result = permutation_importance(
        _IndexedModel(model, X, groups), indices, y, scoring=scoring, n_repeats=n_repeats,
        random_state=random_state, n_jobs=n_jobs,
    )
    result.names = names
    result.kinds = [kind for kind, _ in groups]
    return result


def _reads_exposure(model: Any) -> bool:
    """Whether ``model`` is (or ends with) a network fitted with ``use_exposure=True``."""
    regressor = model[-1] if isinstance(model, Pipeline) else model
    return (isinstance(regressor, ClusterMassRegressor) and hasattr(regressor, "net_")
            and regressor._uses_exposure())
