"""Tests of the binned figures of merit and the reliability curve (metrics/_binned.py)."""

from __future__ import annotations

import numpy as np
import pytest

from sk_clustermass.metrics import (
    BINNED_METRICS,
    binned_metrics,
    binned_table,
    interval_coverage,
    reliability_curve,
    scatter_dex,
)


@pytest.fixture
def low_mass_overconfident():
    """True scatter 0.3 dex below 13.5 but claimed 0.1 everywhere; 0.1 above."""
    rng = np.random.default_rng(1)
    truth = rng.uniform(13.0, 15.0, 6000)
    sigma = np.where(truth < 13.5, 0.3, 0.1)
    mean = truth + rng.normal(0.0, 1.0, truth.size) * sigma
    return truth, mean, np.full(truth.size, 0.1)


def test_bins_show_what_the_global_coverage_hides(low_mass_overconfident):
    truth, mean, std = low_mass_overconfident
    table = binned_metrics(truth, mean, std, random_state=0)
    assert table["bin_low"].tolist() == [13.0, 13.5, 14.0, 14.5]
    assert table["n"].sum() == truth.size
    low, high = table.iloc[0], table.iloc[1:]
    # 1-sigma claimed, 3-sigma true: |pull| < 0.994 means |N(0,1)| < 0.33 -> 0.26
    assert low["coverage_68"] == pytest.approx(0.26, abs=0.04)
    assert low["pull_std"] == pytest.approx(3.0, rel=0.05)
    assert low["scatter_dex"] == pytest.approx(0.3, rel=0.05)
    np.testing.assert_allclose(high["coverage_68"], 0.68, atol=0.04)
    np.testing.assert_allclose(high["coverage_95"], 0.95, atol=0.02)
    np.testing.assert_allclose(high["pull_std"], 1.0, atol=0.05)


def test_values_match_the_global_metrics_in_one_bin(low_mass_overconfident):
    truth, mean, std = low_mass_overconfident
    table = binned_metrics(truth, mean, std, bins=[12.0, 16.0], n_bootstrap=0)
    assert len(table) == 1 and table.loc[0, "n"] == truth.size
    assert table.loc[0, "scatter_dex"] == pytest.approx(scatter_dex(truth, mean))
    assert table.loc[0, "coverage_95"] == pytest.approx(interval_coverage(truth, mean, std, 0.95))
    assert np.isnan(table.loc[0, "scatter_dex_err"])


def test_bootstrap_errors_match_the_binomial_error():
    rng = np.random.default_rng(2)
    truth = rng.uniform(13.0, 15.0, 2000)
    mean = truth + rng.normal(0.0, 0.1, truth.size)
    table = binned_metrics(truth, mean, 0.1, bins=[13.0, 15.0], n_bootstrap=400,
                           random_state=0)
    expected = np.sqrt(0.68 * 0.32 / truth.size)
    assert table.loc[0, "coverage_68_err"] == pytest.approx(expected, rel=0.2)
    assert table.loc[0, "bias_dex_err"] == pytest.approx(0.1 / np.sqrt(truth.size), rel=0.2)
    again = binned_metrics(truth, mean, 0.1, bins=[13.0, 15.0], n_bootstrap=400,
                           random_state=0)
    assert again.equals(table)


def test_binning_on_predictions_redshift_and_equal_counts(low_mass_overconfident):
    truth, mean, std = low_mass_overconfident
    by_pred = binned_metrics(truth, mean, std, by="predicted", n_bootstrap=0)
    assert by_pred.attrs["by"] == "predicted log10 M500c"
    assert by_pred["bin_low"].min() <= mean.min() and by_pred["bin_high"].max() >= mean.max()
    redshift = np.random.default_rng(3).uniform(0.05, 1.0, truth.size)
    by_z = binned_metrics(truth, mean, std, by=redshift, bins=4, n_bootstrap=0)
    assert len(by_z) == 4 and by_z["n"].tolist() == [1500] * 4
    points = binned_metrics(truth, mean, by=redshift, n_bootstrap=0)
    assert points[["coverage_68", "nll"]].isna().all().all()
    assert points["scatter_dex"].notna().all()
    sparse = binned_metrics(truth, mean, std, bins=[13.0, 13.01, 15.0], min_count=50,
                            n_bootstrap=0)
    assert sparse["bin_low"].tolist() == [13.01]


def test_binned_table_stacks_methods_on_the_same_bins(low_mass_overconfident):
    truth, mean, std = low_mass_overconfident
    table = binned_table(truth, {"net": (mean, std), "truth": truth}, n_bootstrap=0)
    assert table["method"].tolist() == ["net"] * 4 + ["truth"] * 4
    assert (table.loc[table["method"] == "truth", "scatter_dex"] == 0).all()
    assert [c for c in table.columns if c in BINNED_METRICS] == list(BINNED_METRICS)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"by": "mass"}, "by='mass' is not supported"),
        ({"by": [0.1, 0.2]}, "by has 2 values"),
        ({"bins": 0}, "bins must be >= 1"),
        ({"bins": [14.0, 13.0]}, "increasing"),
        ({"n_bootstrap": -1}, "n_bootstrap"),
    ],
)
def test_bad_arguments_say_what_to_pass(kwargs, match):
    with pytest.raises(ValueError, match=match):
        binned_metrics([13.0, 14.0, 15.0], [13.0, 14.0, 15.0], 0.1, **kwargs)
    with pytest.raises(ValueError, match="non-empty dict"):
        binned_table([13.0], {})


def test_reliability_curve_diagonal_when_calibrated(low_mass_overconfident):
    truth, mean, _ = low_mass_overconfident
    calibrated = np.where(truth < 13.5, 0.3, 0.1)
    curve = reliability_curve(truth, mean, calibrated)
    np.testing.assert_allclose(curve["level"], np.arange(1, 20) / 20)
    np.testing.assert_allclose(curve["coverage"], curve["level"], atol=0.03)
    over = reliability_curve(truth, mean, 0.5 * calibrated)
    assert (over["coverage"] < over["level"]).all()
    assert over["coverage"].iloc[-1] == pytest.approx(0.68, abs=0.03)  # 2 x 0.98 sigma
    with pytest.raises(ValueError, match="levels must be probabilities"):
        reliability_curve(truth, mean, calibrated, [0.5, 1.0])
