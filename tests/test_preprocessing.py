"""Preprocessing transformers: physics (what is conserved), values, and clear errors."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import numpy as np
import pytest
from skorch.helper import SliceDict

from sk_clustermass import as_inputs
from sk_clustermass.preprocessing import (
    BAND_EDGES_KEV,
    BAND_PRESETS,
    BackgroundSubtract,
    BandMerge,
    BandNormalizer,
    CenterCrop,
    GaussianSmoothing,
    LogStretch,
    Rebin,
)
from sk_clustermass.preprocessing._background import annulus_mask

from .conftest import make_toy_clusters

ALL_TRANSFORMERS = [
    LogStretch,
    BandNormalizer,
    GaussianSmoothing,
    Rebin,
    lambda: CenterCrop(size=12),
    lambda: BandMerge(groups=[[0, 1], [2]]),
    lambda: BackgroundSubtract(inner_radius=7),
]


@pytest.fixture(scope="module")
def counts():
    """40 toy clusters, 3 bands of 20x20 integer counts."""
    return make_toy_clusters(40, seed=1)[0]


@pytest.fixture(scope="module")
def counts_10_bands():
    return make_toy_clusters(12, seed=2, size=12, n_bands=10)[0]


def _totals(images: np.ndarray) -> np.ndarray:
    """Counts per cluster and band, in float64."""
    return images.sum(axis=(2, 3), dtype=np.float64)


def _centred_source(size: int = 41, sigma: float = 2.0) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size] - (size - 1) / 2
    return 1000.0 * np.exp(-(xx**2 + yy**2) / (2 * sigma**2))


# ---------------------------------------------------------------- LogStretch
@pytest.mark.parametrize(("method", "function"), [("log1p", np.log1p), ("asinh", np.arcsinh)])
@pytest.mark.parametrize("scale", [1.0, 2.5])
def test_log_stretch_values_and_inverse(counts, method, function, scale):
    stretch = LogStretch(method=method, scale=scale)
    Xt = stretch.fit_transform(counts)
    expected = function(counts["images"].astype(np.float64) / scale)
    np.testing.assert_allclose(Xt["images"], expected, rtol=1e-6, atol=1e-6)
    assert Xt["images"].dtype == np.float32
    assert Xt["redshift"] is counts["redshift"]
    back = stretch.inverse_transform(Xt)["images"]
    np.testing.assert_allclose(back, counts["images"], rtol=1e-5, atol=1e-4)


def test_log_stretch_asinh_keeps_sign_of_background_subtracted_images(counts):
    subtracted = BackgroundSubtract(inner_radius=7).fit_transform(counts)
    assert subtracted["images"].min() < 0
    Xt = LogStretch(method="asinh").fit_transform(subtracted)
    np.testing.assert_array_equal(np.sign(Xt["images"]), np.sign(subtracted["images"]))


def test_log1p_rejects_negative_values_and_points_to_asinh(counts):
    subtracted = BackgroundSubtract(inner_radius=7).fit_transform(counts)
    with pytest.raises(ValueError, match=r"negative value.*method='asinh'"):
        LogStretch().fit(subtracted)
    with pytest.raises(ValueError, match="asinh"):
        LogStretch().transform(subtracted)


# ---------------------------------------------------------------- BandNormalizer
def test_band_normalizer_standard_gives_zero_mean_unit_std_per_band(counts):
    normalizer = BandNormalizer().fit(counts)
    images = counts["images"].astype(np.float64)
    np.testing.assert_allclose(normalizer.offset_, images.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(normalizer.scale_, images.std(axis=(0, 2, 3)))
    out = normalizer.transform(counts)["images"]
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), 1.0, rtol=1e-5)
    assert normalizer.n_bands_in_ == 3


def test_band_normalizer_max_and_median(counts):
    images = counts["images"]
    out = BandNormalizer(method="max").fit_transform(counts)["images"]
    np.testing.assert_allclose(np.abs(out).max(axis=(0, 2, 3)), 1.0)
    median = BandNormalizer(method="median").fit(counts)
    expected = np.median(images.mean(axis=(2, 3), dtype=np.float64), axis=0)
    np.testing.assert_allclose(median.scale_, expected)
    np.testing.assert_array_equal(median.offset_, 0.0)


@pytest.mark.parametrize("method", ["standard", "max", "median"])
def test_band_normalizer_constant_band_keeps_scale_one(method):
    images = np.zeros((4, 2, 5, 5))
    images[:, 1] = np.arange(4)[:, None, None]
    normalizer = BandNormalizer(method=method).fit(as_inputs(images, np.full(4, 0.3)))
    assert normalizer.scale_[0] == 1.0
    assert np.isfinite(normalizer.transform(as_inputs(images, np.full(4, 0.3)))["images"]).all()


def test_band_normalizer_band_mismatch_is_a_clear_error(counts, counts_10_bands):
    normalizer = BandNormalizer().fit(counts)
    with pytest.raises(ValueError, match=r"10 energy band\(s\) but BandNormalizer was fitted on 3"):
        normalizer.transform(counts_10_bands)
    normalizer.fit(counts_10_bands)  # refitting on other bands is fine
    assert normalizer.n_bands_in_ == 10


# ---------------------------------------------------------------- GaussianSmoothing
@pytest.mark.parametrize("mode", ["reflect", "wrap"])
@pytest.mark.parametrize("sigma", [1.0, 3.0])
def test_smoothing_conserves_total_flux_of_centred_source(mode, sigma):
    images = np.stack([_centred_source(), 0.5 * _centred_source(sigma=5.0)])[None]
    X = as_inputs(images, [0.3])
    out = GaussianSmoothing(sigma_pixels=sigma, mode=mode).fit_transform(X)["images"]
    np.testing.assert_allclose(_totals(out), _totals(X["images"]), rtol=1e-2)  # the spec: 1%
    np.testing.assert_allclose(_totals(out), _totals(X["images"]), rtol=1e-5)  # ours: exact
    assert out[0, 0].max() < X["images"][0, 0].max()


def test_smoothing_reflect_conserves_flux_at_the_edge_where_constant_loses_it():
    images = np.zeros((1, 1, 15, 15))
    images[0, 0, 0, 1] = 100.0  # a source on the top edge
    X = as_inputs(images, [0.3])
    reflect = GaussianSmoothing(sigma_pixels=2.0).fit_transform(X)["images"]
    constant = GaussianSmoothing(sigma_pixels=2.0, mode="constant").fit_transform(X)["images"]
    assert reflect.sum(dtype=np.float64) == pytest.approx(100.0, rel=1e-5)
    assert constant.sum(dtype=np.float64) < 70.0


def test_smoothing_never_mixes_bands_or_clusters_and_sigma_zero_is_identity(counts):
    images = np.zeros((2, 2, 9, 9))
    images[0, 0, 4, 4] = 10.0
    out = GaussianSmoothing(sigma_pixels=1.0).fit_transform(as_inputs(images, [0.2, 0.3]))
    assert out["images"][0, 1].max() == 0.0 and out["images"][1].max() == 0.0
    same = GaussianSmoothing(sigma_pixels=0).fit_transform(counts)["images"]
    np.testing.assert_array_equal(same, counts["images"])
    assert not np.shares_memory(same, counts["images"])


# ---------------------------------------------------------------- Rebin
@pytest.mark.parametrize("factor", [1, 2, 4, 5])
def test_rebin_sum_conserves_counts_exactly(counts, factor):
    out = Rebin(factor=factor).fit_transform(counts)["images"]
    assert out.shape == (40, 3, 20 // factor, 20 // factor)
    np.testing.assert_array_equal(_totals(out), _totals(counts["images"]))


def test_rebin_mean_is_sum_over_block_area(counts):
    summed = Rebin(factor=2).fit_transform(counts)["images"]
    mean = Rebin(factor=2, reduce="mean").fit_transform(counts)["images"]
    np.testing.assert_allclose(mean, summed / 4)


def test_rebin_values_of_one_block():
    images = np.arange(16.0).reshape(1, 1, 4, 4)
    out = Rebin(factor=2).fit_transform(as_inputs(images, [0.1]))["images"]
    np.testing.assert_array_equal(out[0, 0], [[0 + 1 + 4 + 5, 2 + 3 + 6 + 7], [42, 50]])


def test_rebin_trim_keeps_the_centre(counts):
    images = counts["images"][:, :, :19, :17]
    X = as_inputs(images, counts["redshift"])
    with pytest.raises(ValueError, match=r"19x17 pixels cannot be cut into 4x4.*trim=True"):
        Rebin(factor=4).fit(X)
    out = Rebin(factor=4, trim=True).fit_transform(X)["images"]
    expected = Rebin(factor=4).fit_transform(as_inputs(images[:, :, 1:17, 0:16], X["redshift"]))
    np.testing.assert_array_equal(out, expected["images"])


def test_rebin_factor_larger_than_image(counts):
    with pytest.raises(ValueError, match="at least 21x21 pixels; got 20x20"):
        Rebin(factor=21, trim=True).fit(counts)


# ---------------------------------------------------------------- CenterCrop
@pytest.mark.parametrize(("size", "shape"), [(12, (12, 12)), ((20, 6), (20, 6)), (20, (20, 20))])
def test_center_crop_shape_and_values(counts, size, shape):
    out = CenterCrop(size=size).fit_transform(counts)["images"]
    assert out.shape == (40, 3, *shape)
    top, left = (20 - shape[0]) // 2, (20 - shape[1]) // 2
    np.testing.assert_array_equal(
        out, counts["images"][:, :, top : top + shape[0], left : left + shape[1]]
    )
    assert out.flags.c_contiguous and not np.shares_memory(out, counts["images"])


def test_center_crop_keeps_a_centred_source_centred():
    images = _centred_source(size=41)[None, None]
    out = CenterCrop(size=21).fit_transform(as_inputs(images, [0.3]))["images"][0, 0]
    assert np.unravel_index(out.argmax(), out.shape) == (10, 10)


def test_center_crop_larger_than_image(counts):
    match = r"cannot cut 24x24 pixels out of 20x20.*at most \(20, 20\)"
    with pytest.raises(ValueError, match=match):
        CenterCrop(size=24).fit(counts)


# ---------------------------------------------------------------- BandMerge
def test_band_edges_and_presets_cover_the_ten_bands():
    edges = np.asarray(BAND_EDGES_KEV)
    assert edges.shape == (11,) and edges[0] == 0.25 and edges[-1] == 2.3
    np.testing.assert_allclose(np.diff(edges), 0.205)
    for groups in BAND_PRESETS.values():
        assert sorted(band for group in groups for band in group) == list(range(10))


@pytest.mark.parametrize("preset", list(BAND_PRESETS))
def test_band_merge_presets_conserve_counts_exactly(counts_10_bands, preset):
    images = counts_10_bands["images"]
    out = BandMerge(groups=preset).fit_transform(counts_10_bands)["images"]
    groups = BAND_PRESETS[preset]
    assert out.shape == (12, len(groups), 12, 12)
    np.testing.assert_array_equal(out.sum(axis=1, dtype=np.float64),
                                  images.sum(axis=1, dtype=np.float64))
    for index, group in enumerate(groups):
        np.testing.assert_array_equal(out[:, index], images[:, list(group)].sum(axis=1))


def test_band_merge_explicit_non_consecutive_groups(counts):
    out = BandMerge(groups=[[2, 0], [1]]).fit_transform(counts)["images"]
    images = counts["images"]
    np.testing.assert_array_equal(out[:, 0], images[:, 0] + images[:, 2])
    np.testing.assert_array_equal(out[:, 1], images[:, 1])
    dropped = BandMerge(groups=[[1]]).fit_transform(counts)["images"]
    np.testing.assert_array_equal(dropped[:, 0], images[:, 1])


@pytest.mark.parametrize(
    ("groups", "match"),
    [
        ("rgb", r"not a known preset; choose one of \['bolometric', 'soft-hard'"),
        ("soft-medium-hard", r"defined for the 10 default bands.*X has 3 band"),
        ([[0, 3]], r"refers to band 3 but X has only 3 band\(s\)"),
        ([[0, 1], [1, 2]], r"band\(s\) \[1\] appear more than once"),
        ([[0], []], "non-empty list of non-empty lists"),
        ([[0, -1]], "band indices >= 0"),
        ([0, 1], "non-empty list of non-empty lists"),
        ([["a"]], "non-empty list of non-empty lists"),
    ],
)
def test_band_merge_bad_groups(counts, groups, match):
    with pytest.raises(ValueError, match=match):
        BandMerge(groups=groups).fit(counts)


# ---------------------------------------------------------------- BackgroundSubtract
def test_background_subtract_flat_background_plus_source_leaves_the_source():
    background = np.array([0.7, 0.2])[:, None, None]
    source = _centred_source(size=41, sigma=2.0)
    images = (background + np.stack([source, 0.1 * source]))[None]
    subtract = BackgroundSubtract(inner_radius=15)
    np.testing.assert_allclose(subtract.estimate_background(as_inputs(images, [0.4])),
                               [[0.7, 0.2]], rtol=1e-6)
    out = subtract.fit_transform(as_inputs(images, [0.4]))["images"][0]
    np.testing.assert_allclose(out[:, annulus_mask(41, 41, 15, None)], 0.0, atol=1e-6)
    np.testing.assert_allclose(_totals(out[None])[0], [source.sum(), 0.1 * source.sum()],
                               rtol=1e-5)


def test_background_subtract_poisson_background_is_unbiased():
    rng = np.random.default_rng(3)
    images = rng.poisson(0.6, size=(40, 3, 20, 20)).astype(np.float32)
    images[:, :, 8:12, 8:12] += 50.0
    X = as_inputs(images, rng.uniform(0.1, 1.0, 40))
    levels = BackgroundSubtract(inner_radius=7).estimate_background(X)
    assert levels.shape == (40, 3)
    n_pixels = annulus_mask(20, 20, 7, None).sum()
    standard_error = np.sqrt(0.6 / n_pixels / levels.size)
    assert abs(levels.mean() - 0.6) < 4 * standard_error
    out = BackgroundSubtract(inner_radius=7).fit_transform(X)["images"]
    assert abs(out[:, :, :2, :].mean()) < 0.05  # an outer strip: ~0 background left


def test_background_median_resists_a_point_source_in_the_annulus():
    images = np.full((1, 1, 21, 21), 2.0)
    images[0, 0, 0, 0] = 5000.0  # a bright AGN in a corner
    X = as_inputs(images, [0.2])
    mean = BackgroundSubtract(inner_radius=8).estimate_background(X)
    median = BackgroundSubtract(inner_radius=8, statistic="median").estimate_background(X)
    assert median[0, 0] == 2.0 and mean[0, 0] > 10.0


def test_background_output_is_signed_unless_clipped(counts):
    out = BackgroundSubtract(inner_radius=7).fit_transform(counts)["images"]
    assert out.min() < 0
    with pytest.raises(ValueError, match="negative"):
        as_inputs(out, counts["redshift"])  # hence the transformer builds X with counts=False
    clipped = BackgroundSubtract(inner_radius=7, clip_negative=True).fit_transform(counts)
    assert clipped["images"].min() == 0.0
    np.testing.assert_array_equal(clipped["images"], np.maximum(out, 0))


def test_background_outer_radius_limits_the_annulus():
    mask = annulus_mask(9, 9, 2.0, 3.0)
    assert mask[4, 6] and not mask[4, 4] and not mask[4, 8] and not mask[0, 0]
    images = np.zeros((1, 1, 9, 9))
    images[0, 0][mask] = 1.0
    images[0, 0, 0, 0] = 99.0  # outside the annulus: ignored
    X = as_inputs(images, [0.5])
    levels = BackgroundSubtract(inner_radius=2, outer_radius=3).estimate_background(X)
    assert levels[0, 0] == 1.0


def test_background_empty_annulus_is_a_clear_error(counts):
    with pytest.raises(ValueError, match=r"holds no pixel of the 20x20 images.*13.4 pixels"):
        BackgroundSubtract(inner_radius=14).fit(counts)


# ---------------------------------------------------------------- errors common to all
@pytest.mark.parametrize("factory", ALL_TRANSFORMERS)
def test_wrong_ndim_nan_and_missing_key_are_clear_errors(counts, factory):
    images, redshift = counts["images"], counts["redshift"]
    with pytest.raises(ValueError, match=r"\(n_samples, n_bands, height, width\)"):
        factory().fit({"images": images[0], "redshift": redshift[:1]})
    with pytest.raises(ValueError, match=r"\(n_samples, n_bands, height, width\)"):
        factory().fit_transform({"images": images[..., None], "redshift": redshift})
    bad = images.copy()
    bad[3, 1, 2, 2] = np.nan
    with pytest.raises(ValueError, match=r"NaN or infinite.*first in sample 3"):
        factory().fit(SliceDict(images=bad, redshift=redshift))
    fitted = factory().fit(counts)
    with pytest.raises(ValueError, match="NaN or infinite"):
        fitted.transform(SliceDict(images=bad, redshift=redshift))
    with pytest.raises(KeyError, match="redshift"):
        fitted.transform({"images": images})


@pytest.mark.parametrize("factory", ALL_TRANSFORMERS)
def test_plain_dict_in_slicedict_out_input_untouched(counts, factory):
    original = counts["images"].copy()
    out = factory().fit_transform({"images": counts["images"], "redshift": counts["redshift"]})
    assert isinstance(out, SliceDict)
    np.testing.assert_array_equal(counts["images"], original)
    assert not np.shares_memory(out["images"], counts["images"])


@pytest.mark.parametrize(
    ("transformer", "match"),
    [
        (LogStretch(method="log"), r"method='log' is not supported; choose one of \['log1p', "),
        (LogStretch(scale=0), "scale must be a finite number > 0; got 0"),
        (LogStretch(scale=float("nan")), "scale must be a finite number > 0"),
        (BandNormalizer(method="minmax"), r"choose one of \['standard', 'max', 'median'\]"),
        (GaussianSmoothing(sigma_pixels=-1), "sigma_pixels must be a finite number >= 0"),
        (GaussianSmoothing(mode="zeros"), r"choose one of \['reflect', 'wrap', 'nearest'"),
        (GaussianSmoothing(truncate=0), "truncate must be a finite number > 0"),
        (Rebin(factor=0), "factor must be an integer >= 1; got 0"),
        (Rebin(factor=1.5), "factor must be an integer >= 1; got 1.5"),
        (Rebin(reduce="max"), r"reduce='max' is not supported; choose one of \['sum', 'mean'\]"),
        (Rebin(trim="yes"), "trim must be True or False"),
        (CenterCrop(size=0), "size must be a positive int .* or a pair"),
        (CenterCrop(size=(4, 4, 4)), "size must be a positive int"),
        (CenterCrop(size="16"), "size must be a positive int"),
        (BandMerge(groups=None), "groups must be a preset name"),
        (BackgroundSubtract(inner_radius=-1), "inner_radius must be a finite number >= 0"),
        (BackgroundSubtract(inner_radius=5, outer_radius=5), "outer_radius must be .* > 5"),
        (BackgroundSubtract(statistic="mode"), r"choose one of \['mean', 'median'\]"),
        (BackgroundSubtract(clip_negative=1), "clip_negative must be True or False"),
    ],
    ids=lambda value: value if isinstance(value, str) else type(value).__name__,
)
def test_bad_parameters_name_the_allowed_values(counts, transformer, match):
    with pytest.raises(ValueError, match=match):
        transformer.fit(counts)
    if transformer.__sklearn_tags__().requires_fit is False:
        with pytest.raises(ValueError, match=match):
            transformer.transform(counts)  # stateless: checked without fit too


# ---------------------------------------------------------------- the user guide runs
def test_docs_preprocessing_examples_run():
    text = (Path(__file__).parents[1] / "docs" / "preprocessing.md").read_text()
    blocks = re.findall(r"```pycon\n(.*?)```", text, flags=re.DOTALL)
    assert blocks, "docs/preprocessing.md lost its runnable example"
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(verbose=False)
    for number, block in enumerate(blocks):
        test = parser.get_doctest(block, {}, f"preprocessing.md[{number}]", None, 0)
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
