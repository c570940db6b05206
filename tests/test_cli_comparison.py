"""The demo's verdict: paired-bootstrap intervals and the under-training note."""

from __future__ import annotations

import numpy as np
import pytest

from sk_clustermass.cli._comparison import (
    comparison_table,
    headline,
    paired_scatter,
    training_note,
)
from sk_clustermass.cli._report import Report, render_html


@pytest.fixture(scope="module")
def clusters():
    rng = np.random.default_rng(0)
    y = rng.uniform(13.5, 15.0, 400)
    noise = rng.normal(0.0, 0.1, 400)
    return y, noise


def _predictions(y, noise, **scales):
    return {name: (y + scale * noise, np.full_like(y, 0.1)) for name, scale in scales.items()}


def test_a_noisier_method_scatters_more_with_an_interval_above_zero(clusters):
    y, noise = clusters
    paired = paired_scatter(y, _predictions(y, noise, CNN=1.0, relation=1.5))
    row = paired.loc["relation"]
    assert row["scatter_low"] < row["scatter_dex"] < row["scatter_high"]
    assert 0 < row["difference_low"] < row["difference_dex"] < row["difference_high"]
    assert row["verdict"] == "worse"
    assert paired.loc["CNN", "verdict"] == "reference"


def test_the_resample_is_paired(clusters):
    """Same residuals: each scatter has an interval, their difference none at all."""
    y, noise = clusters
    paired = paired_scatter(y, _predictions(y, noise, CNN=1.0, copy=1.0))
    assert paired.loc["copy", "scatter_high"] - paired.loc["copy", "scatter_low"] > 0.005
    assert paired.loc["copy", ["difference_low", "difference_high"]].tolist() == [0.0, 0.0]


def test_headline_quotes_the_intervals_and_the_best_classical_method(clusters):
    y, noise = clusters
    paired = paired_scatter(y, _predictions(y, noise, CNN=1.0, trees=1.2, relation=1.6))
    text = headline(paired, len(y))
    assert "best classical method (trees" in text
    assert "95% interval" in text and "400 held-out clusters" in text
    assert text.endswith("so the CNN is better.")


def test_headline_says_when_the_interval_spans_zero(clusters):
    y, noise = clusters
    rng = np.random.default_rng(1)
    y_other = y + rng.permutation(noise)  # as noisy, not noisier: the same residual values
    predictions = {"CNN": (y + noise, noise * 0 + 0.1), "relation": (y_other, noise * 0 + 0.1)}
    text = headline(paired_scatter(y, predictions), len(y))
    assert "do not differ by more than" in text and "better" not in text


def test_comparison_table_rows_and_note(clusters):
    y, noise = clusters
    table = comparison_table(paired_scatter(y, _predictions(y, noise, CNN=1.0, relation=1.5)))
    assert list(table.table["method"]) == ["CNN", "relation"]
    assert list(table.table["verdict"]) == ["reference", "scatters more"]
    assert "paired bootstrap" in table.note


@pytest.mark.parametrize(("losses", "max_epochs", "noted"), [
    ((1.0, 0.8, 0.7, 0.65, 0.6), 5, True),  # every epoch used, still falling
    ((1.0, 0.8, 0.7, 0.65, 0.6), 8, False),  # early stopping ended it
    ((1.0, 0.5, 0.6, 0.7, 0.8, 0.9), 6, False),  # used every epoch, but flat long before
    ((1.0, 0.5, 0.6, 0.7, 0.45, 0.9), 6, True),  # the best epoch among the last three
])
def test_training_note(losses, max_epochs, noted):
    history = [{"train_loss": 1.0, "valid_loss": value} for value in losses]
    note = training_note(history, max_epochs)
    assert bool(note) is noted
    if noted:
        best = int(np.argmin(losses)) + 1
        assert f"epoch {best} of {len(losses)}" in note and "--max-epochs" in note


def test_report_shows_the_warnings_and_wide_tables_scroll_without_wrapping(clusters):
    y, noise = clusters
    import pandas as pd

    summary = pd.DataFrame({"scatter_dex": [0.1]}, index=["CNN"])
    paired = paired_scatter(y, _predictions(y, noise, CNN=1.0, relation=1.5))
    page = render_html(Report(title="t", summary=summary, highlight="h",
                              warnings=["under-trained & more"],
                              tables=[comparison_table(paired)]))
    assert '<p class="warning">under-trained &amp; more</p>' in page
    assert page.count('<div class="table-scroll"><table') == 2
    assert "td { white-space: nowrap; }" in page and "overflow-x: auto" in page
