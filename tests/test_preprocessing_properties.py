"""Property-based tests (hypothesis) of as_inputs and the preprocessing transformers.

Shapes and parameters come from hypothesis; the pixel values come from a numpy
generator seeded by hypothesis, which keeps example generation fast for whole cubes.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sk_clustermass import as_inputs
from sk_clustermass.preprocessing import (
    BackgroundSubtract,
    BandMerge,
    BandNormalizer,
    CenterCrop,
    GaussianSmoothing,
    LogStretch,
    Rebin,
)

PROPERTY = settings(max_examples=30, deadline=None)
CLEAR_ERRORS = (ValueError, TypeError)
SIDES = st.integers(1, 10)
BANDS = st.integers(1, 4)


@st.composite
def count_cubes(draw, sides=SIDES, bands=BANDS):
    """Integer photon counts, float32, of shape (n, b, h, w), from empty to bright."""
    shape = (draw(st.integers(1, 4)), draw(bands), draw(sides), draw(sides))
    level = draw(st.sampled_from([0.0, 0.05, 2.0, 1000.0]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.poisson(level, size=shape).astype(np.float32)


def _redshift(n_samples: int) -> np.ndarray:
    return np.linspace(0.1, 1.0, n_samples)


@st.composite
def transformers_for(draw, shape):
    """Any transformer, with parameters drawn among those valid for ``shape``."""
    _, n_bands, height, width = shape
    choice = draw(st.sampled_from(range(7)))
    if choice == 0:
        return LogStretch(method=draw(st.sampled_from(["log1p", "asinh"])),
                          scale=draw(st.floats(0.01, 100.0)))
    if choice == 1:
        return BandNormalizer(method=draw(st.sampled_from(["standard", "max", "median"])))
    if choice == 2:
        return GaussianSmoothing(sigma_pixels=draw(st.floats(0.0, 5.0)))
    if choice == 3:
        return Rebin(factor=draw(st.integers(1, min(height, width))), trim=True,
                     reduce=draw(st.sampled_from(["sum", "mean"])))
    if choice == 4:
        return CenterCrop(size=(draw(st.integers(1, height)), draw(st.integers(1, width))))
    if choice == 5:
        return BandMerge(groups=[list(range(n_bands))])
    return BackgroundSubtract(inner_radius=0.0, statistic=draw(st.sampled_from(["mean", "median"])),
                              clip_negative=draw(st.booleans()))


# ---------------------------------------------------------------- as_inputs
@PROPERTY
@given(images=count_cubes())
def test_as_inputs_accepts_any_finite_counts_without_copying(images):
    X = as_inputs(images, _redshift(len(images)))
    assert X["images"] is images
    assert X["redshift"].dtype == np.float32 and X["redshift"].shape == (len(images),)


@PROPERTY
@given(images=count_cubes(), data=st.data())
def test_as_inputs_rejects_nan_and_inf_anywhere(images, data):
    index = tuple(data.draw(st.integers(0, side - 1)) for side in images.shape)
    images[index] = data.draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    with pytest.raises(ValueError, match=f"NaN or infinite value.*first in sample {index[0]}"):
        as_inputs(images, _redshift(len(images)), counts=data.draw(st.booleans()))


@PROPERTY
@given(shape=st.lists(st.integers(1, 3), min_size=0, max_size=6).filter(lambda s: len(s) != 4))
def test_as_inputs_rejects_every_wrong_ndim(shape):
    images = np.ones(shape, dtype=np.float32)
    with pytest.raises(ValueError, match=r"\(n_samples, n_bands, height, width\)"):
        as_inputs(images, _redshift(shape[0] if shape else 1))


# ---------------------------------------------------------------- conservation
@PROPERTY
@given(data=st.data(), factor=st.integers(1, 3))
def test_rebin_sum_conserves_every_cluster_and_band_total(data, factor):
    images = data.draw(count_cubes(sides=st.integers(1, 4).map(lambda k: k * factor)))
    out = Rebin(factor=factor).fit_transform(as_inputs(images, _redshift(len(images))))
    np.testing.assert_array_equal(out["images"].sum(axis=(2, 3), dtype=np.float64),
                                  images.sum(axis=(2, 3), dtype=np.float64))


@PROPERTY
@given(images=count_cubes(bands=st.integers(1, 6)), data=st.data())
def test_band_merge_of_a_partition_conserves_every_pixel_total(images, data):
    n_bands = images.shape[1]
    order = data.draw(st.permutations(range(n_bands)))
    cuts = sorted(data.draw(st.sets(st.integers(1, n_bands - 1), max_size=n_bands - 1))
                  if n_bands > 1 else set())
    groups = [list(part) for part in np.split(np.array(order), cuts)]
    out = BandMerge(groups=groups).fit_transform(as_inputs(images, _redshift(len(images))))
    assert out["images"].shape[1] == len(groups)
    np.testing.assert_array_equal(out["images"].sum(axis=1, dtype=np.float64),
                                  images.sum(axis=1, dtype=np.float64))


# ---------------------------------------------------------------- LogStretch
@PROPERTY
@given(images=count_cubes(), scale=st.floats(0.01, 100.0),
       method=st.sampled_from(["log1p", "asinh"]))
def test_log_stretch_is_monotonic_and_inverted_by_expm1_or_sinh(images, scale, method):
    X = as_inputs(images, _redshift(len(images)))
    stretched = LogStretch(method=method, scale=scale).fit_transform(X)["images"]
    order = np.argsort(images, axis=None, kind="stable")
    assert (np.diff(stretched.ravel()[order]) >= 0).all()
    inverse = np.expm1 if method == "log1p" else np.sinh
    np.testing.assert_allclose(scale * inverse(stretched.astype(np.float64)), images,
                               rtol=1e-5, atol=1e-5 * scale)


# ---------------------------------------------------------------- finite in, finite out
@PROPERTY
@given(images=count_cubes(), data=st.data())
def test_transformers_never_produce_nan_on_finite_counts(images, data):
    transformer = data.draw(transformers_for(images.shape))
    X = as_inputs(images, _redshift(len(images)))
    out = transformer.fit_transform(X)
    assert np.isfinite(out["images"]).all()
    assert out["images"].shape[0] == len(images) and out["redshift"] is X["redshift"]


# ---------------------------------------------------------------- bad input
def _bad_inputs(images: np.ndarray, kind: str):
    redshift = _redshift(len(images))
    if kind == "nan":
        images = images.copy()
        images.flat[len(images.flat) // 2] = np.nan
        return {"images": images, "redshift": redshift}
    if kind == "ndim":
        return {"images": images[0], "redshift": redshift}
    if kind == "strings":
        return {"images": images.astype(str), "redshift": redshift}
    if kind == "length":
        return {"images": images, "redshift": np.append(redshift, 0.5)}
    return {"images": images, "redshift": -redshift}  # "redshift": not > 0


@PROPERTY
@given(images=count_cubes(), data=st.data(),
       kind=st.sampled_from(["nan", "ndim", "strings", "length", "redshift"]))
def test_bad_input_always_raises_a_clear_value_or_type_error(images, data, kind):
    transformer = data.draw(transformers_for(images.shape))
    bad = _bad_inputs(images, kind)
    with pytest.raises(CLEAR_ERRORS) as unfitted:
        transformer.fit_transform(bad)
    fitted = transformer.fit(as_inputs(images, _redshift(len(images))))
    with pytest.raises(CLEAR_ERRORS) as after_fit:
        fitted.transform(bad)
    for error in (unfitted, after_fit):
        assert len(str(error.value)) > 30  # a sentence, not a bare repr
