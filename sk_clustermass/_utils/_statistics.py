"""Per-band statistics of image cubes, accumulated block by block.

One implementation serves every place that needs them: the estimator's input
standardisation (in memory or read from an HDF5 file in blocks) and
:class:`~sk_clustermass.preprocessing.BandNormalizer`. Blocks are merged with the
pairwise update of Chan, Golub & LeVeque (1983, "Algorithms for computing the sample
variance", The American Statistician 37, 242), so the result is as accurate as a
two-pass computation while the data are read once, and no full-size float64 copy
is ever made.

Alongside mean and standard deviation, the accumulator records the smallest and
largest total of each band over one cluster (its summed counts, or summed transformed
values after preprocessing): the range of inputs a model was trained on.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

__all__ = ["BandMoments", "BandSummary", "band_mean_std", "band_summary", "constant_cubes"]

# Clusters per block when walking an in-memory array.
_CHUNK = 256

#: Pixels of each band compared first by :func:`constant_cubes`.
N_PROBE_PIXELS = 16


@functools.lru_cache(maxsize=16)
def _probe_pixels(n_pixels: int) -> np.ndarray:
    """:data:`N_PROBE_PIXELS` indices spread evenly over ``n_pixels`` (first and last)."""
    return np.unique(np.linspace(0, n_pixels - 1, N_PROBE_PIXELS).astype(np.intp))


#: Relative tolerance of the band-total test of :func:`constant_cubes`: float32 sums of
#: a constant band differ from ``n_pixels * value`` by rounding only (~1e-7).
TOTAL_TEST_RTOL = 1e-4


def constant_cubes(images: np.ndarray, totals: np.ndarray | None = None,
                   atol: np.ndarray | float | None = None) -> np.ndarray:
    """Which clusters' images are spatially constant in every band (an empty cube).

    A cluster qualifies when, in each band, every pixel equals the band's first pixel
    (a NaN pixel never does). The answer is exact, but the full comparison is made only
    for the clusters that pass a cheap first test, which any real sky fails at once:
    with ``totals``, each band's total must equal ``n_pixels`` times its first pixel
    (within :data:`TOTAL_TEST_RTOL`, or equal; one pixel read per band); without, the band's
    first pixel must equal :data:`N_PROBE_PIXELS` pixels spread over it. The obvious
    way, a per-band minimum and maximum, cost a fifth of a CPU prediction.

    Parameters
    ----------
    images : ndarray of shape (n, n_bands, ...)
        Any real dtype; the trailing axes are the pixels.
    totals : ndarray of shape (n, n_bands), optional
        Each band's sum over its pixels, if already at hand.
    atol : float or ndarray of shape (n_bands,), optional
        An absolute tolerance of the totals' test, besides the relative one (for totals
        computed in a way whose rounding does not scale with the total).

    Returns
    -------
    ndarray of shape (n,), bool

    Examples
    --------
    >>> cubes = np.ones((3, 2, 4, 4))
    >>> cubes[1, 1, 3, 2] = 5.0
    >>> cubes[2, 0, 0, 0] = np.nan
    >>> constant_cubes(cubes).tolist()
    [True, False, False]
    >>> constant_cubes(cubes, totals=cubes.sum(axis=(2, 3))).tolist()
    [True, False, False]
    """
    result = np.zeros(len(images), dtype=bool)
    if images.size == 0:
        return result
    pixels = images.reshape(len(images), images.shape[1], -1)
    n_pixels = pixels.shape[-1]
    if totals is None:
        sample = pixels[:, :, _probe_pixels(n_pixels)]
        passed = (sample == sample[:, :, :1]).all(axis=(1, 2))
    else:
        expected = n_pixels * pixels[:, :, 0].astype(np.float64)
        with np.errstate(invalid="ignore"):  # NaN and infinite pixels fail the test
            allowed = TOTAL_TEST_RTOL * np.abs(expected) + (0.0 if atol is None else atol)
            close = np.abs(totals - expected) <= allowed
            passed = (close | (totals == expected)).all(1)  # equal: infinite bands too
    candidates = np.flatnonzero(passed)
    if candidates.size:
        suspects = pixels[candidates]
        result[candidates] = (suspects == suspects[:, :, :1]).all(axis=(1, 2))
    return result


@dataclass(frozen=True)
class BandSummary:
    """What one pass over image cubes learned, per band.

    Attributes
    ----------
    mean, std : ndarray of shape (n_bands,)
        Mean and (population) standard deviation over clusters and pixels, float64,
        in the images' units.
    total_min, total_max : ndarray of shape (n_bands,)
        Smallest and largest per-cluster sum of the band, in the images' units.
    n_clusters : int
    cube_total : ndarray of shape (2,) or None
        Smallest and largest per-cluster sum over every band.
    n_flat : int
        Number of clusters whose images are spatially constant in every band (an
        empty or filled cube, not counts).
    """

    mean: np.ndarray
    std: np.ndarray
    total_min: np.ndarray
    total_max: np.ndarray
    n_clusters: int
    cube_total: np.ndarray | None = None
    n_flat: int = 0

    @property
    def scale(self) -> np.ndarray:
        """The standard deviation with zeros replaced by 1 (a constant band is kept as is)."""
        return np.where(self.std > 0, self.std, 1.0)


class BandMoments:
    """Accumulate per-band moments and per-cluster band totals over blocks of clusters.

    Parameters
    ----------
    n_bands : int

    Examples
    --------
    >>> import numpy as np
    >>> images = np.arange(32, dtype=np.float32).reshape(4, 2, 2, 2)
    >>> moments = BandMoments(2)
    >>> moments.update(images[:1]).update(images[1:])  # doctest: +ELLIPSIS
    <...BandMoments object at ...>
    >>> summary = moments.summary()
    >>> np.allclose(summary.mean, images.mean(axis=(0, 2, 3)))
    True
    >>> summary.total_max.tolist()
    [102.0, 118.0]
    """

    def __init__(self, n_bands: int) -> None:
        self.n_bands = n_bands
        self._count = 0
        self._clusters = 0
        self._mean = np.zeros(n_bands)
        self._m2 = np.zeros(n_bands)
        self._total_min = np.full(n_bands, np.inf)
        self._total_max = np.full(n_bands, -np.inf)
        self._cube_total = np.array([np.inf, -np.inf])
        self._n_flat = 0

    def update(self, block: np.ndarray) -> BandMoments:
        """Add a block of clusters of shape (n, n_bands, height, width); returns self."""
        n_clusters = len(block)
        if n_clusters == 0:
            return self
        count = n_clusters * block.shape[2] * block.shape[3]
        block_mean, block_m2 = np.empty(self.n_bands), np.empty(self.n_bands)
        cube_totals = np.zeros(n_clusters)
        for band in range(self.n_bands):  # one band at a time bounds the float64 copy
            pixels = block[:, band].astype(np.float64)
            totals = pixels.sum(axis=(1, 2))
            block_mean[band] = totals.sum() / count
            deviation = (pixels - block_mean[band]).ravel()
            block_m2[band] = deviation @ deviation
            self._total_min[band] = min(self._total_min[band], totals.min())
            self._total_max[band] = max(self._total_max[band], totals.max())
            cube_totals += totals
        self._cube_total = np.array([min(self._cube_total[0], cube_totals.min()),
                                     max(self._cube_total[1], cube_totals.max())])
        self._n_flat += int(constant_cubes(block).sum())
        merged = self._count + count
        delta = block_mean - self._mean
        self._mean = self._mean + delta * (count / merged)
        self._m2 = self._m2 + block_m2 + delta**2 * (self._count * count / merged)
        self._count = merged
        self._clusters += n_clusters
        return self

    def summary(self) -> BandSummary:
        """The statistics of everything added so far."""
        if self._count == 0:
            raise ValueError("no clusters were added: pass at least one cluster")
        return BandSummary(
            mean=self._mean.copy(),
            std=np.sqrt(self._m2 / self._count),
            total_min=self._total_min.copy(),
            total_max=self._total_max.copy(),
            n_clusters=self._clusters,
            cube_total=self._cube_total.copy(),
            n_flat=self._n_flat,
        )


def band_summary(images: np.ndarray, chunk: int = _CHUNK) -> BandSummary:
    """:class:`BandSummary` of an in-memory cube, walked in blocks of ``chunk`` clusters.

    Parameters
    ----------
    images : ndarray of shape (n_samples, n_bands, height, width)
    chunk : int, default=256
    """
    moments = BandMoments(images.shape[1])
    for start in range(0, len(images), chunk):
        moments.update(images[start : start + chunk])
    return moments.summary()


def band_mean_std(images: np.ndarray, chunk: int = _CHUNK) -> tuple[np.ndarray, np.ndarray]:
    """Per-band mean and standard deviation over clusters and pixels, in float64.

    Parameters
    ----------
    images : ndarray of shape (n_samples, n_bands, height, width)
    chunk : int, default=256
        Clusters per block.

    Returns
    -------
    mean, std : ndarray of shape (n_bands,)
        In the images' units; ``std`` is 0 for a constant band.

    Examples
    --------
    >>> import numpy as np
    >>> mean, std = band_mean_std(np.ones((3, 2, 4, 4), dtype=np.float32))
    >>> mean.tolist(), std.tolist()
    ([1.0, 1.0], [0.0, 0.0])
    """
    summary = band_summary(images, chunk)
    return summary.mean, summary.std
