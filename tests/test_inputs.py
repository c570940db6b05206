"""The X contract: as_inputs and check_target."""

import numpy as np
import pytest
from skorch.helper import SliceDict

from sk_clustermass import as_inputs
from sk_clustermass._inputs import check_target


def _images(n=4, bands=10, size=50):
    return np.zeros((n, bands, size, size), dtype=np.float32)


def test_builds_slicedict_without_copy():
    images = _images()
    X = as_inputs(images, np.full(4, 0.3))
    assert isinstance(X, SliceDict)
    assert X["images"] is images or np.shares_memory(X["images"], images)
    assert X["redshift"].dtype == np.float32
    assert X[1:3]["images"].shape == (2, 10, 50, 50)


def test_accepts_dict_and_integer_counts():
    X = as_inputs({"images": np.ones((2, 3, 5, 5), dtype=np.int64), "redshift": [0.1, 0.2]})
    assert X["images"].dtype == np.float32
    assert X["images"].sum() == 150


@pytest.mark.parametrize(
    ("images", "redshift", "error", "match"),
    [
        (np.zeros((3, 50, 50)), [0.1, 0.2, 0.3], ValueError, "n_samples, n_bands, height"),
        (np.zeros((3, 2, 5, 5)), None, ValueError, "redshift is missing"),
        (np.zeros((3, 2, 5, 5)), [0.1, 0.2], ValueError, "aligned"),
        (np.full((2, 2, 5, 5), np.nan), [0.1, 0.2], ValueError, "NaN or infinite"),
        (np.full((2, 2, 5, 5), np.inf), [0.1, 0.2], ValueError, "NaN or infinite"),
        (-np.ones((2, 2, 5, 5)), [0.1, 0.2], ValueError, "negative"),
        (np.zeros((2, 2, 5, 5)), [0.1, np.nan], ValueError, "redshift contains"),
        (np.zeros((2, 2, 5, 5)), [0.1, 0.0], ValueError, "redshift must be > 0"),
        (np.zeros((0, 2, 5, 5)), np.zeros(0), ValueError, "empty"),
        (np.array([["a"]]), [0.1], TypeError, "numeric"),
        (np.zeros((2, 2, 5, 5)), [[0.1, 0.2]], ValueError, r"shape \(n_samples,\)"),
    ],
)
def test_bad_input_gets_clear_error(images, redshift, error, match):
    with pytest.raises(error, match=match):
        as_inputs(images, redshift)


def test_missing_key_names_the_keys():
    with pytest.raises(KeyError, match="redshift"):
        as_inputs({"images": _images()})


def test_negative_values_allowed_for_transformed_images():
    X = as_inputs(-np.ones((2, 2, 5, 5)), [0.1, 0.2], counts=False)
    assert X["images"].min() == -1


def test_check_target():
    assert check_target([14.0, 13.0], 2).dtype == np.float64
    with pytest.raises(ValueError, match="has 3 clusters but y has 2"):
        check_target([14.0, 13.0], 3)
    with pytest.raises(ValueError, match="NaN"):
        check_target([14.0, np.nan])
    with pytest.warns(UserWarning, match="log10"):
        check_target([1e14, 3e14])


def test_huge_finite_counts_pass_the_finite_check_silently():
    # the float32 fast path overflows; the exact check that follows finds nothing wrong
    X = as_inputs(np.full((2, 1, 4, 4), 3e37, dtype=np.float32), [0.1, 0.2])
    assert np.isfinite(X["images"]).all()


def test_unchecked_inputs_keep_the_images_and_check_the_rest():
    from sk_clustermass._inputs import check_pixels, unchecked_inputs

    images = np.full((2, 3, 4, 4), np.nan)
    kept, redshift, exposure = unchecked_inputs({"images": images, "redshift": [0.1, 0.2]})
    assert kept is images and redshift.dtype == np.float32 and exposure is None
    with pytest.raises(ValueError, match="redshift must be > 0"):
        unchecked_inputs({"images": images, "redshift": [0.1, 0.0]})
    _, _, exposure = unchecked_inputs({"images": images, "redshift": [0.1, 0.2],
                                       "exposure": [1200, 900]})
    assert exposure.dtype == np.float32 and exposure.tolist() == [1200, 900]
    with pytest.raises(ValueError, match="exposure must be > 0 s"):
        unchecked_inputs({"images": images, "redshift": [0.1, 0.2], "exposure": [1200, 0]})
    with pytest.raises(ValueError, match=r"96 NaN or infinite value\(s\) \(first in sample 0\)"):
        check_pixels(images)


@pytest.mark.parametrize("cz", [3.0e4, 1.5e5])
def test_redshift_given_as_a_velocity_is_refused(cz):
    """Issue 27.14: redshifts given as cz in km/s were accepted silently."""
    with pytest.raises(ValueError, match=r"cz in km/s\. Pass z = cz / 299792\.458"):
        as_inputs(np.ones((2, 1, 4, 4)), [0.3, cz])
    as_inputs(np.ones((2, 1, 4, 4)), [0.3, 7.5])  # a distant cluster is fine


def test_y_given_as_natural_log_masses_warns():
    """Issue 27.14: ln M (~32) was accepted as log10 M without a warning."""
    with pytest.warns(UserWarning, match="natural-log masses"):
        check_target(np.log(np.array([1e14, 3e14])))
    check_target(np.array([13.0, 15.5]))  # log10 masses: quiet (warnings are errors)
