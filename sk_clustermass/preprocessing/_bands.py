"""BandMerge: sum groups of energy bands into broader bands, conserving counts."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from ..instrument import DEFAULT_BAND_EDGES_KEV
from ._base import ImageTransformerMixin

__all__ = ["BAND_EDGES_KEV", "BAND_PRESETS", "BandMerge"]

#: Edges in keV of the library's 10 equal-width bands (0.205 keV each) over 0.25-2.3 keV:
#: :data:`sk_clustermass.instrument.DEFAULT_BAND_EDGES_KEV` rounded to the eV
#: (0.455, not 0.45499999999999996), as they are printed.
BAND_EDGES_KEV = tuple(round(edge, 3) for edge in DEFAULT_BAND_EDGES_KEV)

#: Named groupings of the 10 default bands (band indices, 0 = softest).
BAND_PRESETS: dict[str, tuple[tuple[int, ...], ...]] = {
    # one broad band, 0.250-2.300 keV
    "bolometric": (tuple(range(10)),),
    # 0.250-1.275 and 1.275-2.300 keV
    "soft-hard": ((0, 1, 2, 3, 4), (5, 6, 7, 8, 9)),
    # 0.250-0.865, 0.865-1.480 and 1.480-2.300 keV
    "soft-medium-hard": ((0, 1, 2), (3, 4, 5), (6, 7, 8, 9)),
}
_PRESET_BANDS = len(BAND_EDGES_KEV) - 1


def _is_index(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool | np.bool_)


def resolve_groups(groups: Any) -> tuple[tuple[int, ...], ...]:
    """Turn a preset name or a list of lists of band indices into a tuple of tuples.

    Checks the structure only (non-empty groups of non-negative ints, no band in two
    groups); whether the indices exist depends on the images.
    """
    if isinstance(groups, str):
        if groups not in BAND_PRESETS:
            message = (
                f"groups={groups!r} is not a known preset; choose one of "
                f"{list(BAND_PRESETS)} or give a list of lists of band indices, "
                "e.g. [[0, 1, 2], [3, 4, 5, 6, 7, 8, 9]]"
            )
            raise ValueError(message)
        return BAND_PRESETS[groups]
    well_formed = (
        isinstance(groups, Sequence)
        and len(groups) > 0
        and all(
            isinstance(group, Sequence | np.ndarray)
            and not isinstance(group, str)
            and len(group) > 0
            and all(_is_index(band) and band >= 0 for band in group)
            for group in groups
        )
    )
    if not well_formed:
        message = (
            "groups must be a preset name "
            f"({list(BAND_PRESETS)}) or a non-empty list of non-empty lists of "
            f"band indices >= 0, e.g. [[0, 1, 2], [3, 4]]; got {groups!r}"
        )
        raise ValueError(message)
    resolved = tuple(tuple(int(band) for band in group) for group in groups)
    flat = [band for group in resolved for band in group]
    if len(flat) != len(set(flat)):
        repeated = sorted({band for band in flat if flat.count(band) > 1})
        message = (
            f"band(s) {repeated} appear more than once in groups={groups!r}; each band "
            "may belong to one group only (counts would be double-counted)."
        )
        raise ValueError(message)
    return resolved


class BandMerge(ImageTransformerMixin, BaseEstimator):
    """Sum groups of energy bands into broader bands.

    Fewer, broader bands have more counts each: useful for shallow surveys, or to
    compare with CNNs trained on soft/medium/hard images. Each output band is the
    pixel-wise sum of its group, so counts are conserved exactly (for integer counts
    below 2**24 per pixel). Stateless: ``fit`` only checks the parameters and the
    input. The redshift is passed through untouched.

    Parameters
    ----------
    groups : str or list of list of int, default='soft-medium-hard'
        A preset for the library's 10 equal bands over 0.25-2.3 keV (edges in
        :data:`BAND_EDGES_KEV`, 0.205 keV wide, band 0 the softest):

        ======================  ============  ======================================
        preset                  bands         energies (keV)
        ======================  ============  ======================================
        ``'bolometric'``        0-9           0.250-2.300
        ``'soft-hard'``         0-4, 5-9      0.250-1.275, 1.275-2.300
        ``'soft-medium-hard'``  0-2, 3-5,     0.250-0.865, 0.865-1.480, 1.480-2.300
                                6-9
        ======================  ============  ======================================

        (``'bolometric'`` is the name used here for the full 0.25-2.3 keV band.)
        Or explicit groups of band indices (0-based), e.g. ``[[0, 1], [2, 3, 4]]``,
        for any number of bands. A band belongs to at most one group; bands left
        out of every group are dropped (and their counts with them).

    See Also
    --------
    BandNormalizer : rescale the merged bands.

    Notes
    -----
    Input: ``X["images"]`` of shape (n_samples, n_bands, height, width), counts per
    pixel (or background-subtracted counts: the sum is linear). Output: shape
    (n_samples, n_groups, height, width), float32, counts per pixel in each merged
    band, in the order of ``groups``. Do not merge after :class:`LogStretch`.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass import as_inputs
    >>> from sk_clustermass.preprocessing import BandMerge
    >>> X = as_inputs(np.ones((2, 10, 5, 5)), [0.1, 0.2])
    >>> Xt = BandMerge(groups="soft-medium-hard").fit_transform(X)
    >>> Xt["images"].shape, Xt["images"][0, :, 0, 0]
    ((2, 3, 5, 5), array([3., 3., 4.], dtype=float32))
    >>> X3 = as_inputs(np.ones((2, 3, 5, 5)), [0.1, 0.2])
    >>> BandMerge(groups=[[0, 1], [2]]).fit_transform(X3)["images"][0, :, 0, 0]
    array([2., 1.], dtype=float32)
    """

    _stateless = True

    def __init__(self, groups: str | Sequence[Sequence[int]] = "soft-medium-hard") -> None:
        self.groups = groups

    def _check_params(self) -> None:
        resolve_groups(self.groups)

    def _check_images(self, images: np.ndarray) -> None:
        n_bands = images.shape[1]
        if isinstance(self.groups, str) and n_bands != _PRESET_BANDS:
            message = (
                f"the preset groups={self.groups!r} is defined for the "
                f"{_PRESET_BANDS} default bands (0.25-2.3 keV); X has {n_bands} band(s). "
                "Give explicit groups of band indices instead, e.g. "
                f"[[0, 1], [2, 3]] for 4 bands."
            )
            raise ValueError(message)
        largest = max(band for group in resolve_groups(self.groups) for band in group)
        if largest >= n_bands:
            message = (
                f"groups={self.groups!r} refers to band {largest} but X has only "
                f"{n_bands} band(s), numbered 0 to {n_bands - 1}."
            )
            raise ValueError(message)

    def _transform_images(self, images: np.ndarray) -> np.ndarray:
        groups = resolve_groups(self.groups)
        n_samples, _, height, width = images.shape
        merged = np.empty((n_samples, len(groups), height, width), dtype=np.float32)
        for index, group in enumerate(groups):  # a loop over a few groups, not clusters
            start = group[0]
            if group == tuple(range(start, start + len(group))):
                members = images[:, start : start + len(group)]  # a view, no copy
            else:
                members = images[:, list(group)]
            members.sum(axis=1, out=merged[:, index])
        return merged
