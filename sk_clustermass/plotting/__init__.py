"""Figures for training runs, predictions and parameter studies.

Every function draws with matplotlib and never calls ``plt.show``: it returns what
it drew on, so the same code works in a notebook, a script on a headless machine
(the Agg backend) and a report writer. Single-panel functions take an optional
``ax`` and return that :class:`~matplotlib.axes.Axes` (a new figure is made with
:func:`matplotlib.pyplot.subplots` when ``ax`` is None; ``ax.figure`` saves it);
:func:`plot_cluster_gallery` returns the :class:`~matplotlib.figure.Figure` it makes.
Close figures you no longer need with ``plt.close(fig)``, especially in loops.

Training
    :func:`plot_loss_curves`: training and validation loss per epoch.
Predictions (masses as ``log10(M500c / Msun)``, widths in dex)
    :func:`plot_predicted_vs_true`, :func:`plot_residuals`, :func:`plot_pulls`;
    :func:`residual_limits` gives several residual panels one clipped range.
Calibration of the widths
    :func:`plot_pit_histogram`, :func:`plot_reliability` (coverage against nominal
    probability) and :func:`plot_binned_metric` (a figure of merit per bin of mass
    or redshift, from :func:`sk_clustermass.metrics.binned_table`).
Parameter studies
    :func:`plot_scatter_vs_parameter`: scatter against a swept hyper-parameter from
    ``GridSearchCV.cv_results_``; :func:`plot_paired_comparison`: each candidate's
    difference to the reference with its confidence interval (standard-mode studies).
Images
    :func:`plot_cluster_gallery` (counts summed over bands) and
    :func:`plot_band_spectrum` (counts per band against energy).
Inspection
    :func:`plot_group_importance` (permutation importance of bands, redshift and
    rings) and :func:`plot_saliency` (one cluster's attribution map).

The figures of merit written on the panels (scatter, bias, coverage, pulls) come from
:mod:`sk_clustermass.metrics`, so they are the numbers its scorers report. Residuals
are ``predicted - true`` and pulls ``(true - mean) / std``, as there.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")  # no window: for scripts, tests and servers
>>> import io
>>> import matplotlib.pyplot as plt
>>> from sk_clustermass.plotting import plot_predicted_vs_true
>>> ax = plot_predicted_vs_true([13.5, 14.0, 14.5], [13.6, 14.0, 14.4])
>>> ax.figure.savefig(io.BytesIO(), format="png")  # or a file name: "pred_vs_true.png"
>>> plt.close(ax.figure)
"""

from __future__ import annotations

from ._calibration import plot_binned_metric, plot_pit_histogram, plot_reliability
from ._common import MASS_LABEL as MASS_LABEL  # axis label, re-exported
from ._images import plot_band_spectrum, plot_cluster_gallery
from ._inspection import plot_group_importance, plot_saliency
from ._predictions import (
    plot_predicted_vs_true,
    plot_pulls,
    plot_residuals,
    residual_limits,
)
from ._studies import plot_paired_comparison, plot_scatter_vs_parameter
from ._training import plot_loss_curves

__all__ = [
    "plot_band_spectrum",
    "plot_binned_metric",
    "plot_cluster_gallery",
    "plot_group_importance",
    "plot_loss_curves",
    "plot_paired_comparison",
    "plot_pit_histogram",
    "plot_predicted_vs_true",
    "plot_pulls",
    "plot_reliability",
    "plot_residuals",
    "plot_saliency",
    "plot_scatter_vs_parameter",
    "residual_limits",
]
