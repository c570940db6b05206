"""The old path sk_clustermass.datasets.simulate: every name still there, with a warning."""

from __future__ import annotations

import importlib

import pytest

import sk_clustermass.datasets.simulate as old
from sk_clustermass import instrument, simulate
from sk_clustermass._utils._deprecation import REMOVED_IN

#: The public names of datasets.simulate before the move (its former ``__all__``);
#: names added to simulate since (LAB_POPULATIONS, the sample-variance and temperature-
#: scale functions) never had the old path.
ADDED_SINCE = {"LAB_POPULATIONS", "draw_with_sample_variance", "erosita_temperature_kev",
               "linear_power_mpc3", "shell_density_covariance", "tinker10_bias"}
OLD_NAMES = sorted(name for name in simulate.__all__ if name not in {
    "ClusterStream", "make_catalog", "make_clusters", "parent_density_deg2",
    "stream_clusters", "to_lab_style", *ADDED_SINCE,
})


@pytest.mark.parametrize("name", OLD_NAMES)
def test_old_name_warns_and_is_the_new_object(name):
    home = instrument if name in instrument.__all__ else simulate
    with pytest.warns(FutureWarning, match=rf"moved to {home.__name__}\.{name}.*{REMOVED_IN}"):
        moved = getattr(importlib.reload(old), name)
    assert moved is getattr(home, name)
