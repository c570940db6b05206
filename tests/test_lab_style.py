"""The lab's float image format: to_lab_style and make_clusters(image_format='lab')."""

import numpy as np
import pytest

from sk_clustermass.datasets import make_clusters, to_lab_style


def test_lab_style_keeps_each_band_flux_in_fine_pixel_units():
    rng = np.random.default_rng(0)
    counts = rng.poisson(2.0, size=(3, 4, 20, 20)).astype(np.float32)
    lab = to_lab_style(counts, smoothing_pix=1.5)
    np.testing.assert_allclose(lab.sum(axis=(2, 3)), counts.sum(axis=(2, 3)) / 36, rtol=1e-5)
    assert lab.std() < (counts / 36).std()  # smoothed
    np.testing.assert_allclose(to_lab_style(counts, smoothing_pix=0), counts / 36)


def test_make_clusters_lab_format_is_the_smoothed_counts_of_the_same_clusters():
    X_counts, y_counts = make_clusters(6, random_state=0, chunk_size=64)
    X_lab, y_lab = make_clusters(6, random_state=0, chunk_size=64, image_format="lab")
    np.testing.assert_array_equal(y_lab, y_counts)
    np.testing.assert_allclose(X_lab["images"], to_lab_style(X_counts["images"]), rtol=1e-6)
    assert X_lab["images"].dtype == np.float32
    assert not np.allclose(X_lab["images"] % 1, 0)  # floats, not counts


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"smoothing_pix": -1.0}, "smoothing_pix >= 0"), ({"rebin_factor": 0}, "rebin_factor")],
)
def test_lab_style_rejects_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        to_lab_style(np.zeros((1, 1, 4, 4)), **kwargs)


def test_lab_style_needs_cubes_and_a_known_format():
    with pytest.raises(ValueError, match="n_samples, n_bands, height, width"):
        to_lab_style(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="image_format must be one of"):
        make_clusters(2, random_state=0, image_format="fits")
