"""Figures of merit in bins of true mass, predicted mass or redshift, with bootstrap errors.

A global 68% coverage can be right while the widths are wrong where it matters: at
the low-mass end a network trained on a log-uniform population over-estimates
masses and its widths under-cover. The tables here show it bin by bin.

Part of :mod:`sk_clustermass.metrics`, which re-exports the public functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import norm
from sklearn.utils import check_random_state

from .._utils import check_vector
from ._checks import _check_gaussian, _check_pair

#: Figures of merit of :func:`binned_metrics`; each also has an ``<name>_err`` column.
BINNED_METRICS = (
    "scatter_dex", "bias_dex", "coverage_68", "coverage_95", "pull_mean", "pull_std", "nll",
)
#: Width of the default mass bins, dex (the bins of the issue tracker: 13–13.5, ...).
MASS_BIN_DEX = 0.5
#: Most default mass bins: 50 dex of log10 masses is no mass range (masses in Msun are).
_MAX_MASS_BINS = 100
_BY_NAMES = {"true": "true log10 M500c", "predicted": "predicted log10 M500c"}
_Z68, _Z95 = norm.ppf(0.84), norm.ppf(0.975)


def _bin_values(by: Any, true: np.ndarray, mean: np.ndarray) -> tuple[np.ndarray, str, bool]:
    """The quantity to bin on, its name, and whether it is a mass (for default edges)."""
    if isinstance(by, str):
        if by not in _BY_NAMES:
            message = (
                f"by={by!r} is not supported; use 'true' (true mass), 'predicted' "
                "(predicted mass) or an array with one value per cluster (e.g. redshift)"
            )
            raise ValueError(message)
        return (true if by == "true" else mean), _BY_NAMES[by], True
    values = check_vector("by", by)
    if values.shape != true.shape:
        message = (
            f"by has {values.shape[0]} values but y_true has {true.shape[0]}; pass one "
            "value per cluster"
        )
        raise ValueError(message)
    return values, "by", False


def _bin_edges(values: np.ndarray, bins: Any, is_mass: bool) -> np.ndarray:
    """Bin edges: given, equal-count (an int), or the default for the quantity."""
    if bins is None:
        if is_mass:
            low = np.floor(values.min() / MASS_BIN_DEX) * MASS_BIN_DEX
            high = np.ceil(values.max() / MASS_BIN_DEX) * MASS_BIN_DEX
            if (high - low) / MASS_BIN_DEX > _MAX_MASS_BINS:
                message = (
                    f"the masses span {values.min():.3g} to {values.max():.3g}: not "
                    "log10(M500c / Msun) (masses in Msun are ~1e14); pass np.log10 of "
                    "the masses, or give bins"
                )
                raise ValueError(message)
            return np.arange(low, high + MASS_BIN_DEX / 2, MASS_BIN_DEX)
        bins = 5
    if isinstance(bins, int | np.integer) and not isinstance(bins, bool):
        if bins < 1:
            message = f"bins must be >= 1 (equal-count bins) or a list of edges; got {bins}"
            raise ValueError(message)
        return np.unique(np.quantile(values, np.linspace(0.0, 1.0, int(bins) + 1)))
    edges = np.asarray(bins, dtype=np.float64).ravel()
    if edges.size < 2 or not np.all(np.diff(edges) > 0):
        message = f"bins must be an int or at least two increasing edges; got {bins!r}"
        raise ValueError(message)
    return edges


def _metrics(residual: np.ndarray, pull: np.ndarray | None, width: np.ndarray | None):
    """Every figure of merit along the last axis (arrays of shape (..., n))."""
    out = {"scatter_dex": residual.std(axis=-1), "bias_dex": residual.mean(axis=-1)}
    if pull is None:
        return out
    out["coverage_68"] = (np.abs(pull) <= _Z68).mean(axis=-1)
    out["coverage_95"] = (np.abs(pull) <= _Z95).mean(axis=-1)
    out["pull_mean"] = pull.mean(axis=-1)
    out["pull_std"] = pull.std(axis=-1)
    log_density = norm.logpdf(pull) - np.log(width)
    out["nll"] = -log_density.mean(axis=-1)
    return out


def binned_metrics(
    y_true: ArrayLike,
    mean: ArrayLike,
    std: ArrayLike | float | None = None,
    *,
    by: str | ArrayLike = "true",
    bins: int | ArrayLike | None = None,
    n_bootstrap: int = 200,
    min_count: int = 1,
    random_state: Any = None,
) -> pd.DataFrame:
    """Scatter, bias, 68%/95% coverage, pulls and NLL per bin, with bootstrap errors.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True ``log10(M500c / Msun)``.
    mean : array-like of shape (n_samples,)
        Predicted ``log10(M500c / Msun)``.
    std : array-like of shape (n_samples,) or float, optional
        Predicted 1-sigma widths in dex, > 0; without them only ``scatter_dex`` and
        ``bias_dex`` are filled (the rest is NaN).
    by : {'true', 'predicted'} or array-like of shape (n_samples,), default='true'
        What to bin on: the true mass, the predicted mass, or any value per cluster
        (e.g. the redshift). Binning on the true mass shows regression to the mean;
        binning on the predicted mass is what a user with no truth can rely on.
    bins : int or array-like of edges, optional
        An int makes that many bins with equal numbers of clusters; edges are used
        as given (clusters outside them are left out; the last bin includes its
        upper edge; the outer edges may be infinite). By default 0.5-dex bins for
        masses, 5 equal-count bins otherwise.
    n_bootstrap : int, default=200
        Resamplings of each bin's clusters (with replacement) for the ``*_err``
        columns, the bootstrap standard deviation of each figure; 0 skips them.
    min_count : int, default=1
        Bins with fewer clusters are dropped.
    random_state : int, RandomState or None
        Seeds the bootstrap.

    Returns
    -------
    pandas.DataFrame
        One row per bin: ``bin_low``, ``bin_high``, ``n``, then for each of
        ``scatter_dex``, ``bias_dex``, ``coverage_68``, ``coverage_95``,
        ``pull_mean``, ``pull_std`` and ``nll`` the value and its ``<name>_err``.
        ``table.attrs["by"]`` names the binned quantity.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass.metrics import binned_metrics
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.uniform(13.0, 15.0, 4000)
    >>> mean = truth + rng.normal(0.0, 0.1, 4000)
    >>> table = binned_metrics(truth, mean, 0.1, random_state=0)
    >>> print(table[["bin_low", "n", "coverage_68"]].round(2).to_string(index=False))
     bin_low    n  coverage_68
        13.0 1014         0.68
        13.5 1017         0.68
        14.0  969         0.67
        14.5 1000         0.68
    """
    true, centre = _check_pair(y_true, mean, "mean")
    width = None if std is None else _check_gaussian(true, centre, std)[2]
    values, by_name, is_mass = _bin_values(by, true, centre)
    edges = _bin_edges(values, bins, is_mass)
    if not (isinstance(n_bootstrap, int | np.integer) and n_bootstrap >= 0):
        message = f"n_bootstrap must be an integer >= 0; got {n_bootstrap!r}"
        raise ValueError(message)
    rng = check_random_state(random_state)
    index = np.searchsorted(edges, values, side="right") - 1
    index[values == edges[-1]] = len(edges) - 2  # the last bin is closed
    rows = []
    for k in range(len(edges) - 1):
        members = np.flatnonzero(index == k)
        if members.size < max(min_count, 1):
            continue
        residual = centre[members] - true[members]
        pull = None if width is None else (true[members] - centre[members]) / width[members]
        sub_width = None if width is None else width[members]
        row = {"bin_low": edges[k], "bin_high": edges[k + 1], "n": members.size}
        values_k = _metrics(residual, pull, sub_width)
        draws = rng.randint(0, members.size, (n_bootstrap, members.size))
        errors = (
            _metrics(residual[draws], None if pull is None else pull[draws],
                     None if sub_width is None else sub_width[draws])
            if n_bootstrap else {}
        )
        for name in BINNED_METRICS:
            row[name] = float(values_k[name]) if name in values_k else np.nan
            spread = errors.get(name)
            row[f"{name}_err"] = float(np.std(spread)) if spread is not None else np.nan
        rows.append(row)
    columns = ["bin_low", "bin_high", "n"]
    columns += [c for name in BINNED_METRICS for c in (name, f"{name}_err")]
    table = pd.DataFrame(rows, columns=columns)
    table.attrs["by"] = by_name
    return table


def binned_table(
    y_true: ArrayLike,
    predictions: Mapping[str, Any],
    *,
    by: str | ArrayLike = "true",
    bins: int | ArrayLike | None = None,
    n_bootstrap: int = 200,
    min_count: int = 1,
    random_state: Any = None,
) -> pd.DataFrame:
    """:func:`binned_metrics` for several methods on the same clusters, stacked.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True ``log10(M500c / Msun)``.
    predictions : mapping of str to array-like or (mean, std) tuple
        As for :func:`summary_table`.
    by, bins, n_bootstrap, min_count, random_state
        As for :func:`binned_metrics`; the same bins serve every method when
        ``by`` is not ``'predicted'``.

    Returns
    -------
    pandas.DataFrame
        The rows of every method, with a first column ``method``.

    Examples
    --------
    >>> from sk_clustermass.metrics import binned_table
    >>> truth = [13.2, 13.4, 14.1, 14.3]
    >>> table = binned_table(truth, {"a": truth, "b": ([13.3, 13.5, 14.0, 14.2], 0.1)},
    ...                      n_bootstrap=0)
    >>> print(table[["method", "bin_low", "n", "bias_dex"]].round(2).to_string(index=False))
    method  bin_low  n  bias_dex
         a     13.0  2       0.0
         a     14.0  2       0.0
         b     13.0  2       0.1
         b     14.0  2      -0.1
    """
    if not isinstance(predictions, Mapping) or not predictions:
        message = "predictions must be a non-empty dict of method name -> mean or (mean, std)"
        raise ValueError(message)
    tables = []
    for method, value in predictions.items():
        mean, std = value if isinstance(value, tuple) else (value, None)
        table = binned_metrics(y_true, mean, std, by=by, bins=bins, n_bootstrap=n_bootstrap,
                               min_count=min_count, random_state=random_state)
        table.insert(0, "method", method)
        tables.append(table)
    result = pd.concat(tables, ignore_index=True)
    result.attrs["by"] = tables[0].attrs["by"]
    return result


def reliability_curve(
    y_true: ArrayLike, mean: ArrayLike, std: ArrayLike | float, levels: ArrayLike | None = None
) -> pd.DataFrame:
    """Coverage of the central Gaussian intervals against their nominal probability.

    Calibrated widths lie on the diagonal; a curve below it means over-confident
    widths (too few truths inside), above it under-confident ones.

    Parameters
    ----------
    y_true, mean : array-like of shape (n_samples,)
        True and predicted ``log10(M500c / Msun)``.
    std : array-like of shape (n_samples,) or float
        Predicted widths in dex, > 0.
    levels : array-like of float in (0, 1), optional
        Nominal probabilities; 0.05, 0.10, ..., 0.95 by default.

    Returns
    -------
    pandas.DataFrame
        Columns ``level`` and ``coverage``, one row per level.

    Examples
    --------
    >>> from sk_clustermass.metrics import reliability_curve
    >>> reliability_curve([14.0, 14.05, 14.5, 13.0], [14.0] * 4, 0.1, [0.5, 0.95])
       level  coverage
    0   0.50       0.5
    1   0.95       0.5
    """
    true, centre, width = _check_gaussian(y_true, mean, std)
    nominal = np.arange(1, 20) / 20.0 if levels is None else np.asarray(levels, float).ravel()
    if nominal.size == 0 or not np.all((nominal > 0) & (nominal < 1)):
        message = f"levels must be probabilities in (0, 1), e.g. [0.68, 0.95]; got {levels!r}"
        raise ValueError(message)
    distance = np.abs(true - centre) / width
    half = norm.ppf(0.5 + nominal / 2.0)
    coverage = (distance[None, :] <= half[:, None]).mean(axis=1)
    return pd.DataFrame({"level": nominal, "coverage": coverage})
