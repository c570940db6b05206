"""The training domain a fitted model remembers, and the warning when inputs leave it.

A network extrapolates without saying so: an empty cube, images given as count rates
(counts / 1200 s) or fluxes (1e-15 erg/s/cm^2), images a thousand times brighter than
any it was trained on, a redshift of 1e-6 or an exposure in ks instead of s still produce
a mean and a (small) width. ``fit`` therefore records the range of what it saw: the
redshifts, for every band and for the whole cube the smallest and largest per-cluster
total (summed counts, or summed transformed values after preprocessing), with
``use_exposure`` the exposures, and how many cubes were spatially constant. ``predict``
warns with :class:`OutOfDomainWarning` when clusters lie outside these ranges by more
than a factor :data:`MARGIN` (2) at either end; redshifts more than a factor 10 below
the smallest seen or, above, further than the range's extent or magnitude.

The rule is multiplicative, in log space, because counts and exposures are
positive and their mistakes are scale factors: a unit slip (/1200, x1e-15, x1000) is a
large step in log space however the clusters are spread, while the same cube with half
or twice the photons of the faintest or brightest training cluster (a shorter or deeper
exposure, a nearer cluster) is still a cube like those seen in fit. The range is the
smallest to largest value seen (not percentiles, which would flag the training set's own
tails), so any rescaling by a factor in [0.5, 2] of clusters within the training range
stays quiet and any set spanning the training range warns when rescaled by a factor
outside [0.5, 2]. A range that reaches 0 (a band empty in some training clusters) only
bounds the totals from above; one with negative values (images standardised before the
estimator) keeps the additive rule: ``MARGIN_LINEAR`` times the larger of its extent and
magnitude beyond either end. Spatially constant cubes (all zeros, or a constant filled
in) warn unless fit saw some.
"""

from __future__ import annotations

import numpy as np

from .._utils import BandSummary

__all__ = ["OutOfDomainWarning", "count_ranges", "domain_ranges", "far_outside"]


class OutOfDomainWarning(UserWarning):
    """``predict`` met clusters far outside the ranges seen in ``fit``.

    Their predictions (means and widths) are extrapolations of the network and
    should not be trusted; check the inputs' units and preprocessing, or train on
    clusters like them.
    """


def domain_ranges(summary: BandSummary, redshift: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ranges ``fit`` records.

    Returns
    -------
    band_total_range : ndarray of shape (n_bands, 2)
        Smallest and largest per-cluster total of each band, in the images' units.
    redshift_range : ndarray of shape (2,)
    """
    band_range = np.stack([summary.total_min, summary.total_max], axis=1)
    redshift = np.asarray(redshift, dtype=np.float64)
    return band_range, np.array([redshift.min(), redshift.max()])


#: Positive quantities may lie this factor below the smallest or above the largest seen.
MARGIN = 2.0
#: Allowance for float32 sums at predict against float64 sums in fit (relative).
_ROUNDING = 1e-5
#: Ranges with negative values may lie this many times their extent (or magnitude) beyond.
MARGIN_LINEAR = 9.0
#: Redshifts may lie this factor below the smallest seen (nearer clusters are ordinary;
#: z = 1e-6 is not); above, the range's extent or magnitude (0.1-0.9 accepts up to 1.8).
REDSHIFT_MARGIN_BELOW = 10.0


def count_ranges(
    summary: BandSummary, exposure: np.ndarray | None
) -> tuple[np.ndarray | None, np.ndarray | None, int]:
    """The ranges of whole cubes (and exposures) ``fit`` records besides :func:`domain_ranges`.

    Returns
    -------
    total_range : ndarray of shape (2,) or None
        Smallest and largest per-cluster total over every band.
    exposure_range : ndarray of shape (2,) or None
        Smallest and largest exposure in s; None without exposures.
    n_flat : int
        Number of spatially constant cubes.
    """
    total = None if summary.cube_total is None else np.asarray(summary.cube_total, float)
    if exposure is not None:
        exposure = np.asarray(exposure, dtype=np.float64)
        exposure = np.array([exposure.min(), exposure.max()])
    return total, exposure, int(summary.n_flat)


def _bounds(seen: np.ndarray, linear_factor: float) -> tuple[np.ndarray, np.ndarray]:
    """Lowest and highest accepted values for the ranges ``seen`` (..., 2)."""
    low, high = seen[..., 0], seen[..., 1]
    positive = low >= 0
    extent = np.maximum(high - low, np.maximum(np.abs(low), np.abs(high)))
    lowest = np.where(positive, low / MARGIN * (1 - _ROUNDING), low - linear_factor * extent)
    highest = np.where(positive, high * MARGIN * (1 + _ROUNDING),
                       high + linear_factor * extent)
    return lowest, highest


def _outside(name: str, seen: np.ndarray, new_low, new_high, factor: float) -> list[str]:
    """Phrases for values ``new_low``/``new_high`` beyond the bounds of ``seen`` (2,)."""
    lowest, highest = _bounds(np.asarray(seen, dtype=np.float64), factor)
    saw = f"(fit saw {seen[0]:.3g} to {seen[1]:.3g})"
    problems = []
    if new_high > highest:
        problems.append(f"{name} up to {new_high:.3g} {saw}")
    if new_low < lowest:
        problems.append(f"{name} down to {new_low:.3g} {saw}")
    return problems


def _redshift_outside(seen: np.ndarray, redshift: np.ndarray) -> list[str]:
    low, high = seen
    saw = f"(fit saw {low:.3g} to {high:.3g})"
    problems = []
    if redshift.max() > high + max(high - low, abs(low), abs(high)):
        problems.append(f"redshift up to {redshift.max():.3g} {saw}")
    lowest = low / REDSHIFT_MARGIN_BELOW if low > 0 else low - max(high - low, abs(high))
    if redshift.min() < lowest:
        problems.append(f"redshift down to {redshift.min():.3g} {saw}")
    return problems


def far_outside(
    band_total_range: np.ndarray,
    redshift_range: np.ndarray,
    summary: BandSummary,
    redshift: np.ndarray,
    *,
    total_range: np.ndarray | None = None,
    exposure_range: np.ndarray | None = None,
    exposure: np.ndarray | None = None,
    n_flat_seen: int | None = None,
) -> list[str]:
    """Describe what in new inputs lies outside the training ranges (beyond the margins).

    Parameters
    ----------
    band_total_range : ndarray of shape (n_bands, 2)
    redshift_range : ndarray of shape (2,)
        The ranges recorded in ``fit``.
    summary : BandSummary or InputRanges
        Statistics of the new images: ``total_min`` and ``total_max`` (per band, the
        smallest and largest per-cluster total), and where present ``cube_total`` (the
        smallest and largest per-cluster total over all bands) and ``n_flat`` (the
        number of spatially constant cubes).
    redshift : ndarray of shape (n_samples,)
        The new redshifts (only their extremes matter).
    total_range : ndarray of shape (2,), optional
        Per-cluster totals over all bands seen in fit; None (models saved before it was
        recorded) skips the check.
    exposure_range : ndarray of shape (2,), optional
        Exposures (s) seen in fit, with ``exposure`` the new exposures; None skips.
    exposure : ndarray of shape (n_samples,), optional
    n_flat_seen : int, optional
        Spatially constant cubes seen in fit: new ones warn only if fit saw none (None,
        a model saved before it was recorded, counts as none).

    Returns
    -------
    list of str
        One phrase per offending quantity; empty when everything is in the domain.

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> summary = SimpleNamespace(total_min=np.array([60.0]), total_max=np.array([500.0]))
    >>> far_outside(np.array([[100.0, 300.0]]), np.array([0.1, 1.0]), summary, np.array([0.5]))
    []
    >>> far_outside(np.array([[100.0, 300.0]]), np.array([0.1, 1.0]), summary, np.array([1e-6]))
    ['redshift down to 1e-06 (fit saw 0.1 to 1)']
    """
    band_total_range = np.asarray(band_total_range, dtype=np.float64)
    problems = []
    for band, seen in enumerate(band_total_range):
        problems += _outside(f"band {band} total per cluster", seen, summary.total_min[band],
                             summary.total_max[band], MARGIN_LINEAR)
    cube_total = getattr(summary, "cube_total", None)
    if total_range is not None and cube_total is not None:
        problems += _outside("total per cluster", total_range, *cube_total, MARGIN_LINEAR)
    n_flat = int(getattr(summary, "n_flat", 0))
    if n_flat and not n_flat_seen:
        problems.append(f"{n_flat} cluster(s) with spatially constant images (empty or "
                        "filled cubes; fit saw none)")
    problems += _redshift_outside(np.asarray(redshift_range, dtype=np.float64),
                                  np.asarray(redshift, dtype=np.float64))
    if exposure_range is not None and exposure is not None:
        exposure = np.asarray(exposure, dtype=np.float64)
        problems += _outside("exposure (s)", np.asarray(exposure_range, dtype=np.float64),
                             exposure.min(), exposure.max(), 1.0)
    return problems
