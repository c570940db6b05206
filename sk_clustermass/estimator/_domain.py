"""The training domain a fitted model remembers, and the warning when inputs leave it.

A network extrapolates without saying so: images a million times brighter than any
it was trained on, or an absurd redshift, still produce a mean and a (small) width.
``fit`` therefore records the range of what it saw: the redshifts, and for every band
the smallest and largest per-cluster total (summed counts, or summed transformed
values after preprocessing). ``predict`` warns with :class:`OutOfDomainWarning` when
clusters lie *far* outside these ranges. For the redshift that is further from the range
than the larger of its extent and its magnitude (0.1-0.9 accepts -0.8 to 1.8). Counts
span orders of magnitude and the brightest test cluster of a survey is often a few times
brighter than the brightest of a training set, so band totals get nine times that
margin: totals of 100-300 counts accept -2600 to 3000, ten times the brightest cluster
seen. Ordinary test clusters stay quiet; images in other units (1e9 counts, fluxes in
erg/s/cm^2) do not.
"""

from __future__ import annotations

import numpy as np

from .._utils import BandSummary

__all__ = ["OutOfDomainWarning", "domain_ranges", "far_outside"]


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


#: Band totals may lie this many times the range's size beyond it (ten times brighter).
BAND_MARGIN = 9.0


def _widened(bounds: np.ndarray, factor: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    low, high = bounds[..., 0], bounds[..., 1]
    margin = factor * np.maximum(high - low, np.maximum(np.abs(low), np.abs(high)))
    return low - margin, high + margin


def far_outside(
    band_total_range: np.ndarray,
    redshift_range: np.ndarray,
    summary: BandSummary,
    redshift: np.ndarray,
) -> list[str]:
    """Describe what in new inputs lies far outside the training ranges.

    Parameters
    ----------
    band_total_range : ndarray of shape (n_bands, 2)
    redshift_range : ndarray of shape (2,)
        The ranges recorded in ``fit``.
    summary : BandSummary or InputRanges
        Statistics of the new images: only ``total_min`` and ``total_max`` (per band,
        the smallest and largest per-cluster total) are read.
    redshift : ndarray of shape (n_samples,)
        The new redshifts (only their extremes matter).

    Returns
    -------
    list of str
        One phrase per offending quantity; empty when everything is in the domain.

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> summary = SimpleNamespace(total_min=np.array([4.0]), total_max=np.array([4.0]))
    >>> far_outside(np.array([[0.0, 10.0]]), np.array([0.1, 1.0]), summary, np.array([0.5]))
    []
    >>> far_outside(np.array([[0.0, 10.0]]), np.array([0.1, 1.0]), summary, np.array([50.0]))
    ['redshift up to 50 (fit saw 0.1 to 1)']
    """
    problems = []
    low, high = _widened(band_total_range, BAND_MARGIN)
    for band in np.flatnonzero((summary.total_min < low) | (summary.total_max > high)):
        seen = band_total_range[band]
        above = summary.total_max[band] > high[band]
        new = summary.total_max[band] if above else summary.total_min[band]
        problems.append(
            f"band {band} total per cluster {new:.3g} (fit saw {seen[0]:.3g} to {seen[1]:.3g})"
        )
    z_low, z_high = _widened(np.asarray(redshift_range, dtype=np.float64))
    redshift = np.asarray(redshift, dtype=np.float64)
    if redshift.max() > z_high:
        problems.append(f"redshift up to {redshift.max():.3g} "
                        f"(fit saw {redshift_range[0]:.3g} to {redshift_range[1]:.3g})")
    if redshift.min() < z_low:
        problems.append(f"redshift down to {redshift.min():.3g} "
                        f"(fit saw {redshift_range[0]:.3g} to {redshift_range[1]:.3g})")
    return problems
