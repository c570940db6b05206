"""The shipped pretrained model: it loads, and it reproduces its recorded metrics."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from sk_clustermass import as_inputs
from sk_clustermass.datasets import make_clusters
from sk_clustermass.estimator import OutOfDomainWarning
from sk_clustermass.metrics import bias_dex, interval_coverage, scatter_dex
from sk_clustermass.models import (
    PRETRAINED_MODELS,
    load_pretrained,
    pretrained_info,
    pretrained_path,
)


def test_shipped_file_is_the_recorded_one_and_small():
    path = pretrained_path("efeds")
    info = pretrained_info("efeds")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == info["sha256"]
    assert path.stat().st_size < 1_000_000  # ships with the package
    assert info["training_population"]["survey"] == "efeds_survey"  # the realistic preset
    assert PRETRAINED_MODELS == ("efeds",)


def test_reproduces_recorded_metrics_on_regenerated_clusters():
    info = pretrained_info("efeds")
    test = info["test"]
    X, y = make_clusters(test["n_samples"], survey=test["survey"],
                         random_state=test["random_state"])
    mean, std = load_pretrained("efeds").predict(X, return_std=True)
    recorded = info["metrics"]
    assert scatter_dex(y, mean) == pytest.approx(recorded["scatter_dex"], abs=2e-3)
    assert bias_dex(y, mean) == pytest.approx(recorded["bias_dex"], abs=2e-3)
    assert interval_coverage(y, mean, std) == pytest.approx(recorded["coverage_68"], abs=5e-3)
    assert float(np.mean(std)) == pytest.approx(recorded["mean_std_dex"], abs=2e-3)
    assert recorded["scatter_dex"] < 0.3  # it learnt something: the prior spread is 0.58


@pytest.mark.parametrize(
    ("scale", "redshift", "match"),
    [(0.0, None, "band 0 total per cluster down to 0"),
     (1 / 1200, None, "down to"),  # count rates
     (1e-15, None, "down to"),  # fluxes
     (1000.0, None, "up to"),
     (1.0, 1e-6, "redshift down to 1e-06")],
)
def test_shipped_model_warns_on_empty_or_rescaled_cubes(scale, redshift, match):
    """Issue 27.1: the model shipped before gave log10 M 13.6-17.8 with 0.17 dex widths,
    silently; today's file records the per-band, whole-cube and flat-cube ranges."""
    X, _ = make_clusters(8, survey="efeds_survey", random_state=1)
    z = X["redshift"] if redshift is None else np.full(8, redshift)
    given = as_inputs(X["images"] * scale, z, exposure=X["exposure"], counts=False)
    with pytest.warns(OutOfDomainWarning, match=match):
        load_pretrained("efeds").predict(given)


def test_unknown_name():
    with pytest.raises(ValueError, match="no pretrained model named 'rass'"):
        load_pretrained("rass")
