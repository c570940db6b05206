"""Tests of sk_clustermass.plotting: each function draws the expected artists, fast."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import StepPatch
from sklearn.pipeline import make_pipeline

from sk_clustermass import ClusterMassRegressor, as_inputs
from sk_clustermass.metrics import interval_coverage, scatter_dex
from sk_clustermass.plotting import (
    plot_band_spectrum,
    plot_cluster_gallery,
    plot_loss_curves,
    plot_paired_comparison,
    plot_predicted_vs_true,
    plot_pulls,
    plot_residuals,
    plot_scatter_vs_parameter,
)
from sk_clustermass.preprocessing import BAND_EDGES_KEV, LogStretch

HISTORY = [
    {"epoch": 1, "train_loss": 1.0, "valid_loss": 0.9},
    {"epoch": 2, "train_loss": 0.6, "valid_loss": 0.5},
    {"epoch": 3, "train_loss": 0.4, "valid_loss": 0.7},
]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def predictions():
    rng = np.random.default_rng(0)
    truth = rng.uniform(13.0, 15.0, 60)
    mean = truth + rng.normal(0.0, 0.1, 60)
    std = np.full(60, 0.1)
    redshift = rng.uniform(0.05, 1.5, 60)
    return truth, mean, std, redshift


@pytest.fixture(scope="module")
def fitted_pipeline():
    rng = np.random.default_rng(0)
    X = as_inputs(rng.poisson(1.0, (24, 2, 8, 8)), rng.uniform(0.1, 1.0, 24))
    y = rng.uniform(13.0, 15.0, 24)
    model = ClusterMassRegressor(n_filters=2, kernel_size=3, conv_layers=(1,), pool_size=2,
                                 dense_layers=(4,), max_epochs=3, patience=None,
                                 validation_fraction=0.25, random_state=0)
    return make_pipeline(LogStretch(), model).fit(X, y)


def legend_texts(ax: Axes) -> list[str]:
    return [text.get_text() for text in ax.get_legend().get_texts()]


# ---------------------------------------------------------------------- loss curves
def test_loss_curves_from_history_marks_best_validation_epoch():
    ax = plot_loss_curves(HISTORY)
    assert isinstance(ax, Axes)
    assert legend_texts(ax) == ["train", "validation", "best epoch 2"]
    train, valid, best = ax.get_lines()[:3]
    np.testing.assert_array_equal(train.get_ydata(), [1.0, 0.6, 0.4])
    np.testing.assert_array_equal(valid.get_xdata(), [1, 2, 3])
    assert best.get_xdata()[0] == 2 and best.get_ydata()[0] == 0.5
    assert ax.get_xlabel() == "epoch"


def test_loss_curves_without_validation_split_marks_best_training_epoch():
    history = [{"epoch": i + 1, "train_loss": loss} for i, loss in enumerate([3, 1, 2])]
    ax = plot_loss_curves(history, mark_best=True)
    assert legend_texts(ax) == ["train", "best epoch 2"]


def test_loss_curves_from_fitted_pipeline_and_regressor(fitted_pipeline):
    ax = plot_loss_curves(fitted_pipeline, log_scale=False)
    assert len(ax.get_lines()[0].get_xdata()) == 3
    assert "validation" in legend_texts(ax)
    regressor = fitted_pipeline[-1]
    for source in (regressor, regressor.history_, regressor.net_):
        lines = plot_loss_curves(source).get_lines()
        np.testing.assert_allclose(lines[0].get_ydata(), regressor.history_[:, "train_loss"])


def test_loss_curves_draw_on_given_axes_and_log_scale():
    fig, ax = plt.subplots()
    assert plot_loss_curves(HISTORY, ax=ax, log_scale=True) is ax
    assert ax.get_yscale() == "log"
    assert len(fig.axes) == 1


def test_loss_curves_errors():
    with pytest.raises(TypeError, match="fitted ClusterMassRegressor"):
        plot_loss_curves(ClusterMassRegressor())
    with pytest.raises(TypeError, match="fitted ClusterMassRegressor"):
        plot_loss_curves(42)
    with pytest.raises(ValueError, match="train_loss"):
        plot_loss_curves([{"epoch": 1}])
    with pytest.raises(TypeError, match="Axes"):
        plot_loss_curves(HISTORY, ax="not axes")


# ---------------------------------------------------------------------- predictions
def test_predicted_vs_true_with_widths(predictions):
    truth, mean, std, _ = predictions
    ax = plot_predicted_vs_true(truth, mean, std)
    assert len(ax.containers) == 1  # the error bars
    one_to_one = [line for line in ax.get_lines() if line.get_label() == "1:1"]
    assert len(one_to_one) == 1
    np.testing.assert_allclose(one_to_one[0].get_xdata(), one_to_one[0].get_ydata())
    text = ax.texts[0].get_text()
    assert f"scatter {scatter_dex(truth, mean):.3f} dex" in text
    assert f"68% coverage {interval_coverage(truth, mean, std):.2f}" in text
    assert "N = 60" in text
    assert ax.get_xlabel().startswith("true") and ax.get_ylabel().startswith("predicted")


def test_predicted_vs_true_points_only_and_overlay(predictions):
    truth, mean, _, _ = predictions
    ax = plot_predicted_vs_true(truth, mean, annotate=False, label="cnn")
    plot_predicted_vs_true(truth, mean + 0.1, ax=ax, annotate=False, label="relation")
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(points) == 2 and len(points[0].get_offsets()) == 60
    assert not ax.containers and not ax.texts
    assert {"cnn", "relation"} <= set(legend_texts(ax))


def test_predicted_vs_true_errors(predictions):
    truth, mean, std, _ = predictions
    with pytest.raises(ValueError, match="aligned"):
        plot_predicted_vs_true(truth, mean[:-1])
    with pytest.raises(ValueError, match="> 0"):
        plot_predicted_vs_true(truth, mean, np.zeros_like(std))
    with pytest.raises(ValueError, match="one width per cluster"):
        plot_predicted_vs_true(truth, mean, std[:3])
    with pytest.raises(ValueError, match="NaN"):
        plot_predicted_vs_true(np.r_[truth[:-1], np.nan], mean)


def test_residuals_against_redshift(predictions):
    truth, mean, _, redshift = predictions
    ax = plot_residuals(truth, mean, redshift, "redshift", n_bins=4)
    assert ax.get_xlabel() == "redshift"
    median = next(line for line in ax.get_lines() if line.get_label() == "median")
    assert len(median.get_xdata()) == 4
    points = next(c for c in ax.collections if isinstance(c, PathCollection))
    np.testing.assert_allclose(points.get_offsets()[:, 1], mean - truth)
    assert set(legend_texts(ax)) == {"clusters", "16–84%", "median"}


def test_residuals_against_mass_by_default(predictions):
    truth, mean, _, _ = predictions
    ax = plot_residuals(truth, mean)
    assert "M_{500c}" in ax.get_xlabel()
    points = next(c for c in ax.collections if isinstance(c, PathCollection))
    np.testing.assert_allclose(points.get_offsets()[:, 0], truth)


def test_residuals_sparse_bins_are_left_out():
    ax = plot_residuals([14.0, 14.5, 15.0], [14.1, 14.4, 15.0], n_bins=3, min_per_bin=5)
    assert [line.get_label() for line in ax.get_lines() if line.get_label() == "median"] == []


def test_residuals_errors(predictions):
    truth, mean, _, redshift = predictions
    with pytest.raises(ValueError, match="against"):
        plot_residuals(truth, mean, redshift[:10])
    with pytest.raises(ValueError, match="n_bins"):
        plot_residuals(truth, mean, n_bins=0)


def test_pulls_histogram_and_annotation(predictions):
    truth, mean, std, _ = predictions
    ax = plot_pulls(truth, mean, std, bins=20)
    assert len(ax.patches) == 20
    assert [line.get_label() for line in ax.get_lines()] == ["N(0, 1)"]
    heights = np.array([patch.get_height() for patch in ax.patches])
    assert heights.sum() * (10.0 / 20) == pytest.approx(1.0)  # a density
    text = ax.texts[0].get_text()
    assert f"68% coverage {interval_coverage(truth, mean, std):.2f}" in text


def test_pulls_beyond_the_range_are_counted():
    ax = plot_pulls([14.0, 14.0, 14.0], [14.0, 15.0, 13.0], 0.1, limit=3.0)
    assert "2 beyond ±3" in ax.texts[0].get_text()
    with pytest.raises(ValueError, match="limit"):
        plot_pulls([14.0], [14.0], 0.1, limit=0)


# ---------------------------------------------------------------------- studies
def sweep_results() -> dict:
    return {
        "param_clustermassregressor__lr": [1e-4, 1e-3, 1e-2, 1e-4, 1e-3, 1e-2],
        "param_clustermassregressor__optimizer": ["adam"] * 3 + ["sgd"] * 3,
        "mean_test_scatter": [-0.30, -0.20, -0.25, -0.40, -0.35, -0.33],
        "std_test_scatter": [0.01, 0.02, 0.03, 0.01, 0.02, 0.03],
        "split0_test_scatter": [-0.29, -0.18, -0.22, -0.39, -0.33, -0.30],
        "split1_test_scatter": [-0.31, -0.22, -0.28, -0.41, -0.37, -0.36],
        "mean_test_nll": [1.0, 0.5, 0.7, 1.2, 1.1, 1.0],
    }


def test_scatter_vs_parameter_best_row_per_value():
    ax = plot_scatter_vs_parameter(sweep_results(), "lr")
    assert ax.get_xlabel() == "lr" and ax.get_ylabel() == "scatter (dex)"
    assert ax.get_xscale() == "log"
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_xdata(), [1e-4, 1e-3, 1e-2])
    np.testing.assert_allclose(line.get_ydata(), [0.30, 0.20, 0.25])  # adam's, negated
    best = next(line for line in ax.get_lines() if line.get_label() == "best")
    assert best.get_xdata()[0] == pytest.approx(1e-3)
    folds = [line for line in ax.get_lines() if line.get_alpha() == pytest.approx(0.35)]
    assert len(folds) == 1 and len(folds[0].get_xdata()) == 6  # 3 values x 2 folds


def test_scatter_vs_parameter_grouped_lines():
    ax = plot_scatter_vs_parameter(sweep_results(), "lr", group_by="optimizer",
                                   show_folds=False)
    assert sorted(legend_texts(ax)) == ["best", "optimizer=adam", "optimizer=sgd"]
    assert len(ax.containers) == 2


def test_scatter_vs_parameter_categorical_and_other_scores():
    ax = plot_scatter_vs_parameter(pd.DataFrame(sweep_results()), "optimizer",
                                   score_key="nll", negate=False, ylabel="NLL")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["adam", "sgd"]
    assert ax.get_ylabel() == "NLL"
    single = {"param_n_filters": [10, 20], "mean_test_score": [-0.2, -0.1],
              "std_test_score": [0.01, 0.02]}
    ax = plot_scatter_vs_parameter(single, "param_n_filters")
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [0.2, 0.1])
    assert ax.get_ylabel() == "minus mean test score"
    assert ax.get_xscale() == "linear"


def test_scatter_vs_parameter_masked_cv_results():
    """A list of grids leaves a parameter masked where it does not apply."""
    results = {
        "param_dropout": np.ma.MaskedArray([0.0, 0.2, 0.5, 0], mask=[0, 0, 0, 1],
                                           dtype=object),
        "param_regularizer": np.ma.MaskedArray([0, 0, 0, "l2"], mask=[1, 1, 1, 0],
                                               dtype=object),
        "mean_test_scatter": np.array([-0.3, -0.2, -0.25, -0.22]),
        "std_test_scatter": np.array([0.01, 0.01, 0.01, 0.01]),
    }
    ax = plot_scatter_vs_parameter(results, "dropout")
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), [0.0, 0.2, 0.5])


def test_scatter_vs_parameter_errors():
    with pytest.raises(KeyError, match="not a swept parameter"):
        plot_scatter_vs_parameter(sweep_results(), "batch_size")
    with pytest.raises(KeyError, match="mean_test_coverage"):
        plot_scatter_vs_parameter(sweep_results(), "lr", score_key="coverage")
    with pytest.raises(TypeError, match="cv_results_"):
        plot_scatter_vs_parameter([1, 2, 3], "lr")
    ambiguous = {"param_a__lr": [1], "param_b__lr": [2], "mean_test_score": [0.0]}
    with pytest.raises(KeyError, match="several"):
        plot_scatter_vs_parameter(ambiguous, "lr")


# ---------------------------------------------------------------------- images
def test_cluster_gallery_layout():
    cubes = np.random.default_rng(0).poisson(1.0, (5, 3, 12, 12))
    fig = plot_cluster_gallery(cubes, titles=list("abcde"), ncols=3)
    assert isinstance(fig, Figure)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 5
    assert [ax.get_title() for ax in panels] == list("abcde")
    assert sum(1 for ax in fig.axes if not ax.axison) == 1  # the sixth grid cell
    assert len(fig.axes) == 7  # 6 grid cells and the colorbar
    np.testing.assert_allclose(panels[0].images[0].get_array(),
                               np.log10(1 + cubes[0].sum(axis=0)))


def test_cluster_gallery_accepts_X_and_one_cube_and_stretches():
    rng = np.random.default_rng(1)
    X = as_inputs(rng.poisson(1.0, (2, 3, 8, 8)), [0.1, 0.2])
    fig = plot_cluster_gallery(X, stretch="linear", colorbar=False)
    assert len(fig.axes) == 2
    np.testing.assert_allclose(fig.axes[1].images[0].get_array(), X["images"][1].sum(axis=0))
    fig = plot_cluster_gallery(X["images"][0], stretch="asinh", shared_scale=False)
    assert len([ax for ax in fig.axes if ax.images]) == 1


def test_cluster_gallery_errors():
    cubes = np.ones((2, 3, 8, 8))
    with pytest.raises(ValueError, match="stretch"):
        plot_cluster_gallery(cubes, stretch="sqrt")
    with pytest.raises(ValueError, match="titles"):
        plot_cluster_gallery(cubes, titles=["only one"])
    with pytest.raises(ValueError, match="ncols"):
        plot_cluster_gallery(cubes, ncols=0)
    with pytest.raises(ValueError, match="shape"):
        plot_cluster_gallery(np.ones(5))
    with pytest.raises(KeyError, match="images"):
        plot_cluster_gallery({"redshift": [0.1]})


def test_band_spectrum_default_edges():
    cubes = np.ones((2, 10, 4, 4))
    ax = plot_band_spectrum(cubes, labels=["a", "b"], log_scale=False)
    steps = [patch for patch in ax.patches if isinstance(patch, StepPatch)]
    assert len(steps) == 2 and len(ax.get_lines()) == 2
    widths = np.diff(BAND_EDGES_KEV)
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), 16 / widths)
    assert ax.get_xlim()[0] <= 0.25 and ax.get_xlim()[1] >= 2.3
    assert legend_texts(ax) == ["a", "b"]
    assert ax.get_ylabel() == "counts per keV"


def test_band_spectrum_custom_edges_and_errors():
    cube = np.ones((3, 4, 4))
    ax = plot_band_spectrum(cube, [0.25, 0.865, 1.48, 2.3], per_kev=False)
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [16, 16, 16])
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "counts per band"
    with pytest.raises(ValueError, match="n_bands \\+ 1 = 4"):
        plot_band_spectrum(cube)
    with pytest.raises(ValueError, match="labels"):
        plot_band_spectrum(cube, [0.25, 0.865, 1.48, 2.3], labels=["a", "b"])


def test_group_importance_bars_and_saliency_panels():
    from sklearn.utils import Bunch

    from sk_clustermass.plotting import plot_group_importance, plot_saliency

    result = Bunch(importances_mean=np.array([0.3, 0.0, 0.1]),
                   importances_std=np.array([0.01, 0.0, 0.02]),
                   names=["band 0", "redshift", "ring 0"], kinds=["band", "redshift", "ring"])
    ax = plot_group_importance(result)
    widths = [patch.get_width() for patch in ax.patches]
    assert widths == pytest.approx([0.3, 0.0, 0.1])
    labels = {tick.get_text(): tick.get_position()[1] for tick in ax.get_yticklabels()}
    assert labels == {"band 0": 2, "redshift": 1, "ring 0": 0}  # first group on top
    plt.close(ax.figure)
    images = np.ones((2, 3, 8, 8))
    maps = np.zeros((2, 3, 8, 8))
    maps[1, :, 4, 4] = [0.1, 0.2, -0.05]
    fig = plot_saliency(images, maps, index=1)
    shown = fig.axes[1].images[0].get_array()
    assert shown[4, 4] == pytest.approx(0.25) and shown.sum() == pytest.approx(0.25)
    plt.close(fig)


def test_residuals_clip_outliers_and_mark_them():
    from sk_clustermass.plotting import plot_residuals, residual_limits

    rng = np.random.default_rng(1)
    truth = rng.uniform(13.0, 15.0, 300)
    mean = truth + rng.normal(0.0, 0.08, 300)
    mean[:3] = truth[:3] - 2.5  # three wild predictions, as the baselines make
    ax = plot_residuals(truth, mean)
    low, high = ax.get_ylim()
    assert (low, high) == residual_limits(mean - truth) and 0.3 <= high < 1.0
    triangles = [c for c in ax.collections if c.get_offsets().shape[0] == 3]
    assert len(triangles) == 1
    np.testing.assert_allclose(triangles[0].get_offsets()[:, 1], low)
    assert any("3 outside" in text.get_text() for text in ax.texts)
    plt.close(ax.figure)
    ax = plot_residuals(truth, mean, ylim=(-0.5, 0.5))
    assert ax.get_ylim() == (-0.5, 0.5)
    plt.close(ax.figure)
    assert residual_limits(np.zeros(10), np.full(10, 0.1), floor_dex=0.05) == pytest.approx(
        (-0.12, 0.12))
    assert residual_limits(np.zeros(10)) == (-0.3, 0.3)


def test_predicted_vs_true_takes_shared_limits():
    ax = plot_predicted_vs_true([13.5, 14.0], [13.6, 14.1], limits=(12.0, 16.0))
    assert ax.get_xlim() == ax.get_ylim() == (12.0, 16.0)
    plt.close(ax.figure)


def test_gallery_draws_redshift_r500_circle_and_scale_bar():
    from matplotlib.patches import Circle

    from sk_clustermass.plotting import plot_cluster_gallery

    cubes = np.ones((2, 3, 50, 50))
    fig = plot_cluster_gallery(cubes, redshift=[0.12, 0.5], r500_pixels=[10.0, 4.0],
                               pixel_arcsec=24.0, scale_bar_arcmin=5.0)
    ax = fig.axes[1]
    [circle] = [p for p in ax.patches if isinstance(p, Circle)]
    assert circle.get_radius() == 4.0 and circle.center == (24.5, 24.5)
    texts = [text.get_text() for text in ax.texts]
    assert "z = 0.50" in texts and "5'" in texts
    [bar] = ax.get_lines()
    assert np.ptp(bar.get_xdata()) == pytest.approx(12.5)  # 5 arcmin of 24" pixels
    plt.close(fig)


def test_paired_comparison_bars_are_coloured_by_verdict():
    table = pd.DataFrame({
        "candidate": ["ref", "good", "bad", "same"],
        "difference": [0.0, -0.01, 0.02, 0.001],
        "difference_low": [0.0, -0.02, 0.01, -0.004],
        "difference_high": [0.0, -0.002, 0.03, 0.006],
        "verdict": ["reference", "better", "worse", "no difference in scatter larger than "
                    "0.006 dex"],
    })
    ax = plot_paired_comparison(table, title="t")
    bars = [line for line in ax.get_lines() if len(line.get_xdata()) == 2
            and line.get_linestyle() == "-"]
    assert [to_hex(bar.get_color()) for bar in bars] == [
        to_hex(c) for c in ("black", "tab:green", "tab:red", "tab:grey")]
    assert list(bars[2].get_xdata()) == [0.01, 0.03]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["ref", "good", "bad", "same"]
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="lacks the columns"):
        plot_paired_comparison(table.drop(columns="verdict"))
