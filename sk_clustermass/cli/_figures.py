"""The figures of the command line's reports, drawn with :mod:`sk_clustermass.plotting`.

Each function draws one PNG into the report folder and returns the
:class:`~sk_clustermass.cli._report.ReportFigure` that describes it. Predictions are
given as a dict ``{method: (mean, std)}`` of ``log10(M500c / Msun)`` and widths in dex,
all for the same held-out clusters, so that the methods share one figure and can be
compared panel by panel.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # the command line never opens windows

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..plotting import (
    plot_binned_metric,
    plot_cluster_gallery,
    plot_loss_curves,
    plot_pit_histogram,
    plot_predicted_vs_true,
    plot_pulls,
    plot_reliability,
    plot_residuals,
    residual_limits,
)
from ._report import ReportFigure

__all__ = ["binned_figure", "calibration_figure", "evaluation_figures"]

#: Resolution of the report's PNG files (small files, sharp enough on screen).
DPI = 96
Predictions = Mapping[str, tuple[np.ndarray, np.ndarray]]


def _save(fig: Figure, folder: Path, filename: str) -> str:
    fig.savefig(folder / filename, dpi=DPI)
    plt.close(fig)
    return filename


def _panels(n: int, width: float, height: float) -> tuple[Figure, np.ndarray]:
    fig, axes = plt.subplots(1, n, figsize=(width * n, height), squeeze=False,
                             layout="constrained")
    return fig, axes[0]


def loss_curve_figure(model: Any, folder: Path) -> ReportFigure:
    """Training and validation loss of the network, per epoch."""
    ax = plot_loss_curves(model)
    ax.figure.set_size_inches(6.4, 4.0)
    ax.set_title("CNN training")
    ax.figure.set_layout_engine("constrained")
    name = _save(ax.figure, folder, "loss_curves.png")
    caption = (
        "Loss per epoch on the training clusters and on the internal validation split "
        "(Gaussian negative log-likelihood of the standardised mass). Early stopping "
        "keeps the weights of the marked epoch."
    )
    return ReportFigure(name, "Loss curves", caption)


def predicted_vs_true_figure(y: np.ndarray, predictions: Predictions, folder: Path):
    """One predicted-vs-true panel per method, with error bars and the 1:1 line."""
    fig, axes = _panels(len(predictions), 4.3, 4.4)
    # one range for every method: the true masses, widened to the central 99% of all
    # predictions (a few wild baseline predictions must not squash the others)
    means = np.concatenate([mean for mean, _ in predictions.values()])
    low = min(y.min(), np.percentile(means, 0.5))
    high = max(y.max(), np.percentile(means, 99.5))
    limits = (low - 0.05 * (high - low), high + 0.05 * (high - low))
    for ax, (method, (mean, std)) in zip(axes, predictions.items()):
        plot_predicted_vs_true(y, mean, std, ax=ax, limits=limits)
        ax.set_title(method)
        if len(y) > 300:  # thousands of error bars: fade them so the points show
            for container in ax.containers:
                for bars in container[2]:
                    bars.set_alpha(0.12)
    name = _save(fig, folder, "predicted_vs_true.png")
    caption = (
        "Predicted against true log10(M500c/Msun) for the held-out clusters, with the "
        "predicted 1-sigma widths as error bars (every method gives each cluster its own "
        "width) and the 1:1 line."
    )
    return ReportFigure(name, "Predicted vs true mass", caption)


def residuals_figure(y: np.ndarray, predictions: Predictions, redshift: np.ndarray,
                     folder: Path) -> ReportFigure:
    """Residuals against true mass and redshift, one row per method."""
    n = len(predictions)
    fig, axes = plt.subplots(n, 2, figsize=(9.0, 2.9 * n), squeeze=False, sharey=True,
                             layout="constrained")
    ylim = residual_limits(*(mean - y for mean, _ in predictions.values()))
    for row, (method, (mean, _)) in zip(axes, predictions.items()):
        plot_residuals(y, mean, ax=row[0], ylim=ylim)
        plot_residuals(y, mean, redshift, "redshift", ax=row[1], ylim=ylim)
        row[0].set_title(f"{method}: against mass", fontsize="medium")
        row[1].set_title(f"{method}: against redshift", fontsize="medium")
        row[1].set_ylabel("")
    name = _save(fig, folder, "residuals.png")
    caption = (
        "Residuals (predicted - true, dex) against the true mass (left) and the "
        "redshift (right), with the running median and 16-84% band in bins of equal "
        "numbers of clusters. A falling trend with mass is regression to the mean: "
        "the lightest clusters are over-estimated, the heaviest under-estimated. All "
        f"panels share one range, ±{ylim[1]:.2f} dex; clusters beyond it are red "
        "triangles on the edge."
    )
    return ReportFigure(name, "Residuals against mass and redshift", caption)


def pulls_figure(y: np.ndarray, predictions: Predictions, folder: Path) -> ReportFigure:
    """Pull histograms, one panel per method, against N(0, 1)."""
    fig, axes = _panels(len(predictions), 4.3, 3.6)
    for ax, (method, (mean, std)) in zip(axes, predictions.items()):
        plot_pulls(y, mean, std, ax=ax)
        ax.set_title(method)
    name = _save(fig, folder, "pulls.png")
    caption = (
        "Calibration: histogram of the pulls (true - mean) / std against the unit "
        "Gaussian. Calibrated widths give a histogram on the curve and a 68% coverage "
        "of 0.68; a wider histogram means over-confident widths."
    )
    return ReportFigure(name, "Calibration (pulls)", caption)


def calibration_figure(y: np.ndarray, predictions: Predictions, folder: Path) -> ReportFigure:
    """PIT histogram per method and one reliability panel with every method."""
    fig, axes = _panels(len(predictions) + 1, 4.0, 3.8)
    for ax, (method, (mean, std)) in zip(axes, predictions.items()):
        plot_pit_histogram(y, mean, std, ax=ax)
        ax.set_title(f"{method}: PIT")
    for method, (mean, std) in predictions.items():
        plot_reliability(y, mean, std, ax=axes[-1], label=method)
    axes[-1].set_title("reliability")
    name = _save(fig, folder, "calibration.png")
    caption = (
        "Left: histograms of the probability integral transform (the predictive CDF at "
        "the true mass), flat for calibrated widths, U-shaped for over-confident ones; "
        "the grey band is the 1-sigma spread of a flat histogram. Right: fraction of "
        "true masses inside the central interval of each nominal probability; "
        "calibrated widths follow the diagonal, over-confident ones fall below it."
    )
    return ReportFigure(name, "Calibration (PIT and reliability)", caption)


def binned_figure(tables: Mapping[str, Any], folder: Path) -> ReportFigure:
    """Bias, 68% and 95% coverage against true mass, predicted mass and redshift."""
    metrics = ("bias_dex", "coverage_68", "coverage_95", "pull_std")
    fig, axes = plt.subplots(len(metrics), len(tables), figsize=(4.2 * len(tables), 10.5),
                             squeeze=False, sharey="row", layout="constrained")
    for column, table in enumerate(tables.values()):
        for row, metric in enumerate(metrics):
            ax = axes[row, column]
            plot_binned_metric(table, metric, ax=ax)
            if row != len(metrics) - 1:
                ax.set_xlabel("")
            if column != 0:
                ax.set_ylabel("")
            if not (row == 0 and column == 0) and ax.get_legend() is not None:
                ax.get_legend().remove()
    name = _save(fig, folder, "binned_metrics.png")
    caption = (
        "Bias, 68% and 95% coverage and pull standard deviation in bins of true mass "
        "(left), predicted mass (middle) and redshift (right), with bootstrap errors; "
        "dotted lines mark the ideal values. A bias that falls with true mass is "
        "regression to the mean of the training population; in bins of predicted "
        "mass it should vanish."
    )
    return ReportFigure(name, "Figures of merit per bin", caption)


def gallery_rows(y: np.ndarray, n: int = 8) -> np.ndarray:
    """Indices of ``n`` clusters evenly spread in true mass, lightest first."""
    order = np.argsort(y, kind="stable")
    picks = np.linspace(0, len(order) - 1, min(n, len(order))).round().astype(int)
    return order[np.unique(picks)]


#: Pixel size of the report's images in arcsec (eROSITA survey cut-outs).
PIXEL_ARCSEC = 24.0


def _r500_pixels(y: np.ndarray, redshift: np.ndarray) -> np.ndarray:
    """R500c of clusters of true mass 10**y at ``redshift``, in 24-arcsec pixels."""
    from ..simulate import kpc_per_arcmin, r500_kpc

    arcmin = r500_kpc(10.0**y, redshift) / kpc_per_arcmin(redshift)
    return arcmin * 60.0 / PIXEL_ARCSEC


def gallery_figure(images: np.ndarray, y: np.ndarray, mean: np.ndarray, std: np.ndarray,
                   method: str, folder: Path, redshift: np.ndarray | None = None
                   ) -> ReportFigure:
    """Example clusters (counts summed over the bands) with true and predicted masses.

    ``images`` holds only the clusters to show; ``y``, ``mean``, ``std`` and
    ``redshift`` are theirs.
    """
    titles = [f"true {t:.2f}\n{method} {m:.2f} ± {s:.2f}" for t, m, s in zip(y, mean, std)]
    r500 = None if redshift is None else _r500_pixels(y, redshift)
    fig = plot_cluster_gallery(images, titles=titles, ncols=4, panel_size=2.3,
                               redshift=redshift, r500_pixels=r500,
                               pixel_arcsec=PIXEL_ARCSEC)
    name = _save(fig, folder, "gallery.png")
    caption = (
        f"Held-out clusters spread over the mass range: photon counts summed over the "
        f"energy bands (log scale, 24 arcsec pixels; the bar is 5 arcmin), with the "
        f"true log10(M500c/Msun) and the {method} prediction ± its 1-sigma width. "
        "The dashed circle is R500c of the true mass at the cluster's redshift "
        "(flat LCDM, H0 = 70 km/s/Mpc, Om0 = 0.3)."
    )
    return ReportFigure(name, "Example clusters", caption)


def evaluation_figures(
    folder: Path,
    y: np.ndarray,
    predictions: Predictions,
    redshift: np.ndarray,
    *,
    model: Any = None,
    gallery: tuple[np.ndarray, np.ndarray] | None = None,
    binned: Mapping[str, Any] | None = None,
) -> list[ReportFigure]:
    """Every figure of an evaluation report, in page order.

    Parameters
    ----------
    folder : Path
        Report folder.
    y : ndarray of shape (n_samples,)
        True ``log10(M500c / Msun)`` of the held-out clusters.
    predictions : dict of str to (mean, std)
        Per method; the first one is the gallery's.
    redshift : ndarray of shape (n_samples,)
    model : fitted estimator or Pipeline, optional
        For the loss curves (skipped if None or without a history).
    gallery : (rows, images), optional
        Row indices into ``y`` and the raw count cubes of those clusters.
    binned : dict of str to pandas.DataFrame, optional
        Tables of :func:`sk_clustermass.cli._calibration.binned_tables`, drawn
        as the figures-of-merit-per-bin figure.

    Returns
    -------
    list of ReportFigure
    """
    figures = []
    if model is not None:
        try:
            figures.append(loss_curve_figure(model, folder))
        except (TypeError, ValueError):
            pass  # not a network (a baseline), or no history saved with it
    figures.append(predicted_vs_true_figure(y, predictions, folder))
    figures.append(residuals_figure(y, predictions, redshift, folder))
    figures.append(pulls_figure(y, predictions, folder))
    figures.append(calibration_figure(y, predictions, folder))
    if binned is not None:
        figures.append(binned_figure(binned, folder))
    if gallery is not None:
        rows, images = gallery
        method, (mean, std) = next(iter(predictions.items()))
        figures.append(gallery_figure(images, y[rows], mean[rows], std[rows], method, folder,
                                      redshift=np.asarray(redshift)[rows]))
    return figures
