"""Tests of the calibration figures (plotting/_calibration.py)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from sk_clustermass.metrics import binned_table
from sk_clustermass.plotting import plot_binned_metric, plot_pit_histogram, plot_reliability


@pytest.fixture
def predictions():
    rng = np.random.default_rng(0)
    truth = rng.uniform(13.0, 15.0, 3000)
    return truth, truth + rng.normal(0.0, 0.2, truth.size)


def test_pit_histogram_is_u_shaped_for_overconfident_widths(predictions):
    truth, mean = predictions
    ax = plot_pit_histogram(truth, mean, 0.1, bins=10)
    heights = [p.get_height() for p in ax.patches if p.get_width() == pytest.approx(0.1)]
    assert len(heights) == 10
    # pulls ~ N(0, 2): the central bins hold P(|Z| < 0.127) = 0.10, a density of 0.5
    assert heights[0] > 2.0 and heights[-1] > 2.0 and max(heights[4:6]) < 0.65
    plt.close(ax.figure)
    ax = plot_pit_histogram(truth, mean, 0.2, bins=10)
    heights = [p.get_height() for p in ax.patches if p.get_width() == pytest.approx(0.1)]
    np.testing.assert_allclose(heights, 1.0, atol=0.2)
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="bins must be an integer >= 2"):
        plot_pit_histogram(truth, mean, 0.2, bins=1)


def test_reliability_curves_share_one_diagonal(predictions):
    truth, mean = predictions
    ax = plot_reliability(truth, mean, 0.2, label="calibrated")
    plot_reliability(truth, mean, 0.1, ax=ax, label="too narrow")
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines) == ["ideal", "calibrated", "too narrow"]
    level, calibrated = lines["calibrated"].get_data()
    np.testing.assert_allclose(calibrated, level, atol=0.03)
    assert (lines["too narrow"].get_data()[1] < level).all()
    plt.close(ax.figure)


def test_binned_metric_draws_one_line_per_method(predictions):
    truth, mean = predictions
    table = binned_table(truth, {"right": (mean, 0.2), "narrow": (mean, 0.1)}, n_bootstrap=20,
                         random_state=0)
    ax = plot_binned_metric(table, "pull_std")
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[-1] == "ideal" and ax.get_lines()[-1].get_ydata()[0] == 1.0
    assert ax.get_xlabel() == "true log10 M500c"
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert sorted(texts) == ["ideal", "narrow", "right"]
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="not a binned metric"):
        plot_binned_metric(table, "rmse")
