"""Figures of merit for predicted cluster masses, and ready-made scikit-learn scorers.

Every function takes the true masses and the predictions as ``log10(M500c / Msun)``,
arrays of shape (n_samples,). Residuals are ``predicted - true`` (positive: mass
over-estimated); pulls are ``(true - mean) / std``, the convention of the
documentation's conventions page. Widths (``std``) are the 1-sigma Gaussian
uncertainties in dex that ``predict(X, return_std=True)`` returns.

Point estimates
    :func:`scatter_dex` (standard deviation of the residuals, the seed's
    "standard deviation"), :func:`bias_dex` (their mean), :func:`sigma_ln_m`
    (the scatter in ln M, ``ln(10) * scatter_dex``, the unit of most papers).
Uncertainties
    :func:`gaussian_nll`, :func:`interval_coverage`, :func:`pulls`,
    :func:`pit_values`.
Binned and calibration tables
    :func:`binned_metrics` (one method) and :func:`binned_table` (several) give
    every figure of merit in bins of true mass, predicted mass or redshift, with
    bootstrap errors; :func:`reliability_curve` the coverage of every nominal
    interval.
Tables and scorers
    :func:`summary_table` compares several predictions on the same clusters;
    :data:`scatter_scorer`, :func:`nll_scorer`, :func:`coverage_scorer` and the
    :data:`SCORERS` dict plug into ``GridSearchCV(scoring=...)``.
"""

from ._binned import BINNED_METRICS, binned_metrics, binned_table, reliability_curve
from ._scorers import SCORERS, coverage_scorer, nll_scorer, scatter_scorer
from ._scores import (
    bias_dex,
    gaussian_nll,
    interval_coverage,
    pit_values,
    pulls,
    scatter_dex,
    sigma_ln_m,
)
from ._summary import SUMMARY_COLUMNS, summary_table

__all__ = [
    "BINNED_METRICS",
    "SCORERS",
    "SUMMARY_COLUMNS",
    "bias_dex",
    "binned_metrics",
    "binned_table",
    "coverage_scorer",
    "gaussian_nll",
    "interval_coverage",
    "nll_scorer",
    "pit_values",
    "pulls",
    "reliability_curve",
    "scatter_dex",
    "scatter_scorer",
    "sigma_ln_m",
    "summary_table",
]
