"""make_clusters, make_catalog and simulate_to_hdf5: contract, determinism, errors."""

from dataclasses import replace

import joblib
import numpy as np
import pandas as pd
import pytest
from skorch.helper import SliceDict

from sk_clustermass import as_inputs
from sk_clustermass.datasets import simulate_to_hdf5
from sk_clustermass.simulate import (
    DEFAULT_BAND_EDGES_KEV,
    ScalingRelations,
    catalog_column_names,
    get_survey,
    make_catalog,
    make_clusters,
)


@pytest.fixture(scope="module")
def simulated():
    return make_clusters(96, random_state=0, chunk_size=64, return_catalog=True)


@pytest.fixture(scope="module")
def all_clusters():
    """Parents without the detection cut, 128 clusters (two seed blocks)."""
    return make_clusters(128, random_state=5, detected_only=False, return_catalog=True)


def test_output_contract(simulated):
    X, y, _ = simulated
    assert isinstance(X, SliceDict)
    images, redshift = X["images"], X["redshift"]
    assert images.shape == (96, 10, 50, 50) and images.dtype == np.float32
    assert redshift.shape == (96,) and redshift.dtype == np.float32
    assert y.shape == (96,) and y.dtype == np.float64
    assert images.min() >= 0 and np.array_equal(images, np.round(images))
    assert np.all((y >= 13.0) & (y <= 15.0))
    assert np.all((redshift >= 0.01) & (redshift <= 1.5))
    as_inputs(images, redshift)  # passes the data contract as is


def test_catalog_rows_align_with_X(simulated):
    X, y, catalog = simulated
    assert list(catalog.columns) == catalog_column_names(10)
    np.testing.assert_array_equal(catalog["log10_M500c"].to_numpy(), y)
    np.testing.assert_array_equal(catalog["z"].to_numpy(np.float32), X["redshift"])
    band_sums = X["images"].sum(axis=(2, 3))
    np.testing.assert_array_equal(
        band_sums, catalog[[f"counts_band_{i}" for i in range(10)]].to_numpy()
    )
    assert catalog["detected"].all()
    assert (catalog["net_counts"] >= 14.0).all()
    assert catalog["sim_id"].is_monotonic_increasing


def test_typical_clusters_have_tens_of_counts_and_background_is_realistic(all_clusters):
    _, _, catalog = all_clusters
    assert 10 < catalog["mu_soft_r500"].median() < 300
    assert 0.5 < catalog["mu_background_pixel"].median() < 1.5
    assert catalog["detected"].any() and not catalog["detected"].all()


def test_total_counts_match_the_expected_counts(all_clusters):
    X, _, catalog = all_clusters
    expected = (
        catalog["mu_cluster_image"] + catalog["mu_agn_image"] + catalog["mu_central_agn"]
        + catalog["mu_background_pixel"] * 50 * 50
    )
    observed = X["images"].sum(axis=(1, 2, 3))
    # Sum over 128 images of Poisson counts: agree within 4 sigma (PSF edge losses
    # of the central AGN are < 1% and within the tolerance).
    assert abs(observed.sum() - expected.sum()) < 4 * np.sqrt(expected.sum()) + 0.01 * (
        catalog["mu_central_agn"].sum()
    )


def test_same_seed_same_output_for_any_n_jobs_and_chunk_size():
    # Two seed blocks of parents, detection cut on: several chunks of 64 in flight.
    kwargs = {"random_state": 11, "return_catalog": True}
    X1, y1, c1 = make_clusters(60, n_jobs=1, chunk_size=64, **kwargs)
    X2, y2, c2 = make_clusters(60, n_jobs=2, chunk_size=64, **kwargs)
    X3, y3, c3 = make_clusters(60, n_jobs=1, chunk_size=500, **kwargs)
    with joblib.parallel_config(backend="threading"):
        X4, y4, c4 = make_clusters(60, n_jobs=2, chunk_size=64, **kwargs)
    with joblib.parallel_config(backend="multiprocessing"):  # cannot stream: in waves
        X5, y5, c5 = make_clusters(60, n_jobs=2, chunk_size=64, **kwargs)
    assert c1["sim_id"].iloc[-1] >= 64  # the cut made it reach into a second chunk
    for X, y, c in ((X2, y2, c2), (X3, y3, c3), (X4, y4, c4), (X5, y5, c5)):
        np.testing.assert_array_equal(X["images"], X1["images"])
        np.testing.assert_array_equal(X["redshift"], X1["redshift"])
        np.testing.assert_array_equal(y, y1)
        pd.testing.assert_frame_equal(c, c1)


def test_smaller_request_is_a_prefix_and_seeds_differ():
    X_small, y_small = make_clusters(20, random_state=3, detected_only=False)
    X_big, y_big = make_clusters(70, random_state=3, detected_only=False)
    np.testing.assert_array_equal(X_big["images"][:20], X_small["images"])
    np.testing.assert_array_equal(y_big[:20], y_small)
    _, y_other = make_clusters(20, random_state=4, detected_only=False)
    assert not np.array_equal(y_other, y_small)


def test_make_catalog_matches_rendered_catalogue(all_clusters):
    _, _, rendered = all_clusters
    catalog = make_catalog(128, random_state=5)
    assert list(catalog.columns) == catalog_column_names(10, images=False)
    pd.testing.assert_frame_equal(catalog, rendered[catalog.columns])


def test_detection_flags_without_cut(all_clusters):
    _, _, catalog = all_clusters
    np.testing.assert_allclose(
        catalog["net_counts"], catalog["counts_aperture"] - catalog["background_aperture"]
    )
    np.testing.assert_array_equal(catalog["detected"], catalog["net_counts"] >= 14.0)
    # Detection follows the cluster signal: detected clusters are brighter.
    detected = catalog["detected"]
    assert catalog.loc[detected, "mu_soft_r500"].median() > catalog.loc[
        ~detected, "mu_soft_r500"
    ].median()


def test_custom_bands_image_size_and_fixed_cluster():
    X, y, catalog = make_clusters(
        4, band_edges_kev=(0.5, 1.0, 2.0), image_size=24, mass_range=(14.5, 14.5),
        redshift_range=(0.2, 0.2), detected_only=False, random_state=0, return_catalog=True,
    )
    assert X["images"].shape == (4, 2, 24, 24)
    np.testing.assert_allclose(y, 14.5)
    np.testing.assert_allclose(X["redshift"], 0.2)
    assert "mu_cluster_band_1" in catalog and "counts_band_2" not in catalog


def test_scatter_off_puts_clusters_on_the_relations():
    catalog = make_catalog(64, scatter=False, random_state=1, mass_range=(14.0, 14.0),
                           redshift_range=(0.3, 0.3))
    for column in ("kT", "Lx_0p1_2p4", "exposure_vignetted_s", "mu_soft_r500"):
        np.testing.assert_allclose(catalog[column], catalog[column].iloc[0])


def test_mass_function_sampling_favours_groups():
    catalog = make_catalog(2000, sampling="mass-function", random_state=0)
    assert (catalog["log10_M500c"] < 14.0).mean() > 0.8


def test_relations_are_parameters():
    steep = make_catalog(64, random_state=0, relations=ScalingRelations(lm_slope=2.0),
                         scatter=False)
    default = make_catalog(64, random_state=0, scatter=False)
    assert not np.allclose(steep["Lx_0p1_2p4"], default["Lx_0p1_2p4"])
    np.testing.assert_array_equal(steep["M500c"], default["M500c"])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"survey": "chandra"}, ValueError, r"unknown survey 'chandra'; use one of \['efeds'"),
        ({"n_samples": 0}, ValueError, "n_samples must be an integer >= 1"),
        ({"mass_range": (15.0, 13.0)}, ValueError, "mass_range must be"),
        ({"redshift_range": (0.0, 1.0)}, ValueError, "redshift_range must be"),
        ({"sampling": "uniform"}, ValueError, "sampling=.uniform. is not supported; choose one"),
        ({"band_edges_kev": (2.0, 0.5)}, ValueError, "band_edges_kev must hold"),
        ({"chunk_size": 0}, ValueError, "chunk_size must be"),
        ({"n_jobs": 0}, ValueError, "n_jobs must be"),
        ({"image_size": 2}, ValueError, "image_size must be"),
        ({"relations": "pratt"}, TypeError, "relations must be a ScalingRelations"),
        ({"random_state": "seed"}, TypeError, "random_state must be"),
    ],
)
def test_bad_parameters_raise_clear_errors(kwargs, error, match):
    arguments = {"n_samples": 2, **kwargs}
    with pytest.raises(error, match=match):
        make_clusters(**arguments)


def test_hopeless_detection_cut_raises():
    with pytest.raises(RuntimeError, match="passed the detection cut"):
        make_clusters(1, mass_range=(13.0, 13.0), redshift_range=(1.5, 1.5),
                      min_net_counts=1e6, random_state=0)


def test_survey_instances_are_accepted():
    shallow = replace(get_survey("efeds"), exposure_vignetted_s=600.0, name="half-efeds")
    _, _, catalog = make_clusters(2, survey=shallow, random_state=0, detected_only=False,
                                  scatter=False, return_catalog=True)
    np.testing.assert_allclose(catalog["exposure_vignetted_s"], 600.0)


def test_simulate_to_hdf5_streams_the_same_clusters(tmp_path):
    from sk_clustermass.io._hdf5 import read_hdf5

    path = simulate_to_hdf5(tmp_path / "mock.h5", 70, chunk_size=64, random_state=8,
                            progress=False, detected_only=False)
    X, y, catalog = read_hdf5(path)
    X_ref, y_ref, catalog_ref = make_clusters(70, random_state=8, detected_only=False,
                                              return_catalog=True)
    np.testing.assert_array_equal(X["images"], X_ref["images"])
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_allclose(catalog["net_counts"], catalog_ref["net_counts"])
    import h5py

    with h5py.File(path) as handle:
        np.testing.assert_allclose(handle.attrs["band_edges_kev"], DEFAULT_BAND_EDGES_KEV)
        assert handle.attrs["survey"] == "efeds"
        assert handle.attrs["random_state_entropy"] == "8"


def test_simulate_to_hdf5_rejects_unknown_keywords(tmp_path):
    with pytest.raises(TypeError, match="unexpected keyword"):
        simulate_to_hdf5(tmp_path / "x.h5", 2, return_catalog=True)
    assert not (tmp_path / "x.h5").exists()


@pytest.mark.parametrize(
    ("values", "dtype"),
    [
        ([0.0, 3.0, 255.0], np.uint8),
        ([0.0, 256.0, 65535.0], np.uint16),
        ([0.0, 65536.0], np.float32),  # too large for 16 bits
        ([0.0, 2.5], np.float32),  # not whole numbers
        ([-1.0, 2.0], np.float32),  # negative
        ([np.nan, 2.0], np.float32),
    ],
)
def test_worker_images_travel_in_the_smallest_exact_type(values, dtype):
    from sk_clustermass.simulate._chunks import _as_float32, _compact_counts

    images = np.array(values, dtype=np.float32).reshape(1, 1, 1, -1)
    compact = _compact_counts(images)
    assert compact.dtype == dtype
    np.testing.assert_array_equal(_as_float32(compact), images)  # exact round trip
    assert _as_float32(compact).dtype == np.float32
