"""Tests for the library's HDF5 format: round trips, streaming, row reads, bad files."""

import gc
import os
import pickle
import subprocess
import sys
import tempfile
import tracemalloc
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sk_clustermass
from sk_clustermass import as_inputs
from sk_clustermass.io._hdf5 import (
    FORMAT_VERSION,
    HDF5ClusterDataset,
    HDF5ClusterWriter,
    read_hdf5,
    write_hdf5,
)

EDGES = np.linspace(0.25, 2.3, 4)
BITSHUFFLE_FILTER_ID = "32008"  # the HDF5 registry number of the bitshuffle filter


def make_data(n=7, bands=3, height=5, width=4, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.poisson(3.0, size=(n, bands, height, width)).astype(np.float32)
    images[:, 0] += rng.random((n, height, width), dtype=np.float32)  # non-integer values
    X = as_inputs(images, rng.uniform(0.01, 1.5, n))
    y = rng.uniform(13, 15, n)
    catalog = pd.DataFrame(
        {
            "z": X["redshift"].astype(np.float64),
            "n_counts": rng.integers(0, 1000, n),
            "detected": rng.random(n) > 0.5,
            "name": [f"cl-{i}-é" for i in range(n)],
            "kT": rng.random(n).astype(np.float32),
        }
    )
    return X, y, catalog


def assert_same(X, y, catalog, X2, y2, catalog2):
    np.testing.assert_array_equal(X2["images"], X["images"])
    np.testing.assert_array_equal(X2["redshift"], X["redshift"])
    assert X2["images"].dtype == np.float32 and X2["redshift"].dtype == np.float32
    if y is None:
        assert y2 is None
    else:
        np.testing.assert_array_equal(y2, y)
    if catalog is None:
        assert catalog2 is None
    else:
        pd.testing.assert_frame_equal(catalog2, catalog.reset_index(drop=True))


def _names(folder):
    return sorted(path.name for path in Path(folder).iterdir())


# ----------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("compression", ["bitshuffle", "lzf", "gzip", None])
def test_round_trip_is_exact(tmp_path, compression):
    X, y, catalog = make_data()
    catalog.index = range(100, 107)  # the index is not stored; rows stay aligned
    path = tmp_path / "clusters.h5"
    write_hdf5(path, X, y, catalog, compression=compression, chunk_size=3)
    assert_same(X, y, catalog, *read_hdf5(path))
    assert _names(tmp_path) == ["clusters.h5"]


def test_layout_and_attributes(tmp_path):
    X, y, catalog = make_data(bands=3)
    path = tmp_path / "clusters.h5"
    write_hdf5(path, X, y, catalog, attrs={"band_edges_kev": EDGES, "survey": "efeds"})
    with h5py.File(path, "r") as file:
        assert file.attrs["format"] == "sk_clustermass.clusters"
        assert file.attrs["format_version"] == FORMAT_VERSION
        assert file.attrs["library_version"] == sk_clustermass.__version__
        assert file.attrs["survey"] == "efeds"
        np.testing.assert_array_equal(file.attrs["band_edges_kev"], EDGES)
        images = file["images"]
        assert images.chunks == (1, 3, 5, 4)
        assert images.compression == "gzip" and images.shuffle  # the default compression
        assert BITSHUFFLE_FILTER_ID not in images._filters
        assert images.fletcher32 and images.maxshape == (None, 3, 5, 4)
        assert file["log10_m500c"].dtype == np.float64
        assert sorted(file["catalog"]) == sorted(catalog.columns)
    data = HDF5ClusterDataset(path)
    np.testing.assert_array_equal(data.attrs["band_edges_kev"], EDGES)
    assert data.attrs["survey"] == "efeds" and data.attrs["n_bands"] == 3


def test_default_file_reads_in_plain_h5py_without_hdf5plugin(tmp_path):
    X, y, catalog = make_data()
    path = tmp_path / "clusters.h5"
    write_hdf5(path, X, y, catalog)
    reader = (
        "import sys, h5py, numpy as np\n"
        "with h5py.File(sys.argv[1], 'r') as f:\n"
        "    images = f['images'][:]\n"
        "    total = float(images.sum()) + float(f['log10_m500c'][:].sum())\n"
        "    total += float(f['catalog/kT'][:].sum())\n"
        "print(images.shape, repr(total), 'hdf5plugin' in sys.modules)\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "HDF5_PLUGIN_PATH"}
    result = subprocess.run([sys.executable, "-c", reader, str(path)], capture_output=True,
                            text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    expected = float(X["images"].sum()) + float(y.sum()) + float(catalog["kT"].sum())
    assert result.stdout.split(") ")[1].split() == [repr(expected), "False"]


def test_bitshuffle_is_an_opt_in_that_still_reads(tmp_path):
    X, y, catalog = make_data()
    path = tmp_path / "fast.h5"
    write_hdf5(path, X, y, catalog, compression="bitshuffle")
    with h5py.File(path, "r") as file:
        assert BITSHUFFLE_FILTER_ID in file["images"]._filters
    assert_same(X, y, catalog, *read_hdf5(path))


def test_unlabelled_without_catalog(tmp_path):
    X, _, _ = make_data()
    path = tmp_path / "observed.h5"
    write_hdf5(path, X, None)
    X2, y2, catalog2 = read_hdf5(path)
    assert_same(X, None, None, X2, y2, catalog2)


def test_transformed_images_and_plain_dict_are_accepted(tmp_path):
    X, y, _ = make_data()
    X_log = {"images": np.log1p(X["images"]) - 1.0, "redshift": list(X["redshift"])}
    write_hdf5(tmp_path / "log.h5", X_log, y)
    X2, _, _ = read_hdf5(tmp_path / "log.h5")
    np.testing.assert_array_equal(X2["images"], X_log["images"].astype(np.float32))


def test_nullable_and_empty_catalogue_columns(tmp_path):
    X, y, _ = make_data(n=3)
    catalog = pd.DataFrame(
        {"a": pd.array([1.5, None, 2.0], dtype="Float64"), "b": pd.array([1, 2, 3], "Int64")}
    )
    write_hdf5(tmp_path / "c.h5", X, y, catalog)
    _, _, catalog2 = read_hdf5(tmp_path / "c.h5")
    np.testing.assert_array_equal(catalog2["a"], [1.5, np.nan, 2.0])
    np.testing.assert_array_equal(catalog2["b"], [1, 2, 3])
    write_hdf5(tmp_path / "e.h5", X, y, pd.DataFrame(index=range(3)))
    assert read_hdf5(tmp_path / "e.h5")[2].shape == (3, 0)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("catalog", "error", "match"),
    [
        (pd.DataFrame({"t": pd.date_range("2020", periods=7)}), TypeError, "numbers"),
        (pd.DataFrame({"s": ["a"] * 6 + [None]}), ValueError, "missing strings"),
        (pd.DataFrame({"i": pd.array([1] * 6 + [None], "Int64")}), ValueError, "missing"),
        (pd.DataFrame({"a/b": np.zeros(7)}), ValueError, "'/'"),
        (pd.DataFrame({0: np.zeros(7)}), ValueError, "column name"),
        (pd.DataFrame({"z": np.zeros(6)}), ValueError, "6 rows but X has 7"),
        (np.zeros(7), TypeError, "DataFrame"),
    ],
)
def test_bad_catalogue_is_refused_before_writing(tmp_path, catalog, error, match):
    X, y, _ = make_data()
    with pytest.raises(error, match=match):
        write_hdf5(tmp_path / "bad.h5", X, y, catalog)
    assert _names(tmp_path) == []


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"compression": "zstd"}, ValueError, "compression must be one of"),
        ({"chunk_size": 0}, ValueError, "chunk_size must be a positive integer"),
        ({"attrs": {"format": "mine"}}, ValueError, "reserved"),
        ({"attrs": {"band_edges_kev": [1.0, 0.5, 2, 3]}}, ValueError, "increasing"),
        ({"attrs": {"band_edges_kev": [0.5, 1.0]}}, ValueError, "4 increasing"),
        ({"attrs": {"meta": {"nested": 1}}}, TypeError, "cannot be stored"),
        ({"attrs": ["not", "a", "dict"]}, TypeError, "dict"),
    ],
)
def test_bad_options_are_refused(tmp_path, options, error, match):
    X, y, _ = make_data()
    with pytest.raises(error, match=match):
        write_hdf5(tmp_path / "bad.h5", X, y, **options)
    assert _names(tmp_path) == []


def test_bad_arrays_are_refused(tmp_path):
    X, y, _ = make_data()
    with pytest.raises(ValueError, match="NaN"):
        write_hdf5(tmp_path / "a.h5", X, np.full(7, np.nan))
    images = X["images"].copy()
    images[2, 1, 0, 0] = np.inf
    with pytest.raises(ValueError, match="infinite"):
        write_hdf5(tmp_path / "a.h5", {"images": images, "redshift": X["redshift"]}, y)
    with pytest.raises(ValueError, match="7 clusters but y has 3"):
        write_hdf5(tmp_path / "a.h5", X, y[:3])
    assert _names(tmp_path) == []


# ----------------------------------------------------------------------------- streaming
def test_streaming_writer_equals_one_shot_write(tmp_path):
    X, y, catalog = make_data(n=10)
    path = tmp_path / "stream.h5"
    blocks = [slice(0, 3), slice(3, 4), slice(4, 10)]
    with HDF5ClusterWriter(path, n_bands=3, height=5, width=4, chunk_size=2) as writer:
        for block in blocks:
            writer.append(X[block], y[block], catalog.iloc[block])
            assert not path.exists()  # nothing under the final name until close
        assert writer.n_written == 10
    assert_same(X, y, catalog, *read_hdf5(path))
    assert _names(tmp_path) == ["stream.h5"]


def test_streaming_crash_leaves_nothing_and_keeps_old_file(tmp_path):
    X, y, catalog = make_data(n=6)
    path = tmp_path / "stream.h5"
    write_hdf5(path, X[:2], y[:2])
    with pytest.raises(RuntimeError, match="simulated crash"):
        with HDF5ClusterWriter(path, n_bands=3, height=5, width=4) as writer:
            writer.append(X[:3], y[:3], catalog.iloc[:3])
            raise RuntimeError("simulated crash")
    assert _names(tmp_path) == ["stream.h5"]
    assert len(HDF5ClusterDataset(path)) == 2  # the old, complete file


def test_abort_and_forgotten_writer_remove_the_temporary(tmp_path):
    X, y, _ = make_data(n=2)
    writer = HDF5ClusterWriter(tmp_path / "a.h5", n_bands=3, height=5, width=4).open()
    writer.append(X, y)
    writer.abort()
    assert _names(tmp_path) == []
    forgotten = HDF5ClusterWriter(tmp_path / "b.h5", n_bands=3, height=5, width=4).open()
    forgotten.append(X, y)
    assert len(_names(tmp_path)) == 1  # the temporary file
    del forgotten
    gc.collect()
    assert _names(tmp_path) == []


def test_streaming_writer_checks_every_block(tmp_path):
    X, y, catalog = make_data(n=4)
    path = tmp_path / "s.h5"
    with HDF5ClusterWriter(path, n_bands=3, height=5, width=4) as writer:
        writer.append(X[:2], y[:2], catalog.iloc[:2])
        bad_blocks = [
            ((as_inputs(np.zeros((2, 3, 5, 5)), [0.1, 0.2]), y[2:]), "cubes of shape"),
            ((X[2:], None, catalog.iloc[2:]), "y was given"),
            ((X[2:], y[2:]), "differ from the first"),
            ((X[2:], y[2:], catalog.iloc[2:, :2]), "differ from the first"),
            ((X[2:], y[2:], catalog.iloc[2:].assign(n_counts=0.5)), "dtype float64"),
            ((X[2:], y[2:], catalog.iloc[2:].assign(name=1)), "dtype int64"),
        ]
        for arguments, match in bad_blocks:
            with pytest.raises(ValueError, match=match):
                writer.append(*arguments)
        writer.append(X[2:], y[2:], catalog.iloc[2:].assign(n_counts=np.int32(7)))
    _, y2, catalog2 = read_hdf5(path)
    assert len(y2) == 4 and list(catalog2["n_counts"][2:]) == [7, 7]


def test_writer_misuse_is_a_clear_error(tmp_path):
    X, y, _ = make_data(n=2)
    writer = HDF5ClusterWriter(tmp_path / "a.h5", n_bands=3, height=5, width=4)
    with pytest.raises(RuntimeError, match="not open"):
        writer.append(X, y)
    with writer:
        writer.append(X, y)
    with pytest.raises(RuntimeError, match="not open"):
        writer.append(X, y)
    with pytest.raises(RuntimeError, match="already opened"):
        writer.open()
    with pytest.raises(ValueError, match="n_bands must be a positive integer"):
        HDF5ClusterWriter(tmp_path / "b.h5", n_bands=0, height=5, width=4)


def test_empty_stream_reads_as_a_clear_error(tmp_path):
    path = tmp_path / "empty.h5"
    with HDF5ClusterWriter(path, n_bands=2, height=3, width=3):
        pass
    assert len(HDF5ClusterDataset(path)) == 0
    with pytest.raises(ValueError, match="holds no clusters"):
        read_hdf5(path)


# ----------------------------------------------------------------------------- row reads
@pytest.mark.parametrize(
    "rows",
    [slice(2, 5), slice(None, None, 3), slice(None, None, -2), [5, 0, 5, -1], 3,
     np.array([True, False] * 3 + [True]), np.arange(1, 6)],
)  # fmt: skip
def test_read_rows_matches_numpy_indexing(tmp_path, rows):
    X, y, catalog = make_data()
    path = tmp_path / "c.h5"
    write_hdf5(path, X, y, catalog)
    X2, y2, catalog2 = read_hdf5(path, rows=rows)
    index = np.arange(7)[rows] if not isinstance(rows, int) else np.array([rows])
    expected = (X[index], y[index], catalog.iloc[index].reset_index(drop=True))
    assert_same(*expected, X2, y2, catalog2)
    X3, y3 = HDF5ClusterDataset(path).read(rows)
    assert_same(*expected[:2], None, X3, y3, None)


@pytest.mark.parametrize(
    ("rows", "error", "match"),
    [
        ([7], IndexError, "out of range"),
        ([-8], IndexError, "out of range"),
        (slice(5, 2), ValueError, "selects no clusters"),
        ([], ValueError, "selects no clusters"),
        ([0.5], TypeError, "integer indices"),
        (np.ones(3, dtype=bool), ValueError, "mask must have shape"),
        (True, TypeError, "single bool"),
    ],
)
def test_bad_rows_are_clear_errors(tmp_path, rows, error, match):
    X, y, _ = make_data()
    write_hdf5(tmp_path / "c.h5", X, y)
    with pytest.raises(error, match=match):
        read_hdf5(tmp_path / "c.h5", rows=rows)


def test_row_read_memory_is_bounded_by_the_selection(tmp_path):
    X, y, _ = make_data(n=400, bands=4, height=16, width=16)  # 1.6 MB of images
    path = tmp_path / "big.h5"
    write_hdf5(path, X, y, compression=None)
    full_bytes = X["images"].nbytes
    data = HDF5ClusterDataset(path)
    tracemalloc.start()
    try:
        X_part, _ = data.read([3, 390, 200])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        data.close()
    np.testing.assert_array_equal(X_part["images"], X["images"][[3, 390, 200]])
    assert peak < 0.05 * full_bytes


# ----------------------------------------------------------------------------- lazy view
def test_dataset_view_is_lazy_and_picklable(tmp_path):
    X, y, catalog = make_data()
    path = tmp_path / "c.h5"
    write_hdf5(path, X, y, catalog)
    data = HDF5ClusterDataset(path)
    assert (len(data), data.n_bands, data.image_shape) == (7, 3, (3, 5, 4))
    assert data.has_target and data.columns == tuple(catalog.columns)
    assert data._file is None  # nothing opened until the first read
    data.read(slice(0, 2))
    copy = pickle.loads(pickle.dumps(data))
    assert copy._file is None
    X2, y2 = copy.read(slice(None))
    assert_same(X, y, None, X2, y2, None)
    pd.testing.assert_frame_equal(
        copy.read_catalog([1, 2]), catalog.iloc[[1, 2]].reset_index(drop=True)
    )
    # a copy in another process (simulated by another pid) opens its own handle
    handle = copy._file
    copy._pid = -1
    copy.read(0)
    assert copy._file is not handle
    copy.close()
    data.close()
    assert "n=7" in repr(data)


def test_read_into_fills_caller_buffers(tmp_path):
    X, y, _ = make_data()
    path = tmp_path / "c.h5"
    write_hdf5(path, X, y)
    with HDF5ClusterDataset(path) as data:
        images, redshift = np.full((4, 3, 5, 4), -1, np.float32), np.zeros(4, np.float32)
        data.read_into(2, images[1:3], redshift[1:3])
        np.testing.assert_array_equal(images[1:3], X["images"][2:4])
        np.testing.assert_array_equal(redshift[1:3], X["redshift"][2:4])
        assert (images[0] == -1).all() and (images[3] == -1).all()  # the rest untouched
        np.testing.assert_array_equal(data.read_target(), y)
        with pytest.raises(ValueError, match="outside the 7 rows"):
            data.read_into(5, images, redshift)
        with pytest.raises(ValueError, match=r"float32 arrays of shapes \(n, \*\(3, 5, 4\)\)"):
            data.read_into(0, images.astype(np.float64), redshift)
        with pytest.raises(ValueError, match="float32 arrays"):
            data.read_into(0, images[:, :, :2], redshift)


def test_read_into_refuses_non_finite_data(tmp_path):
    X, _, _ = make_data()
    path = tmp_path / "c.h5"
    write_hdf5(path, X, None)
    with h5py.File(path, "a") as file:
        file["images"][3, 1, 2, 2] = np.nan
    with HDF5ClusterDataset(path) as data:
        images, redshift = np.empty((7, 3, 5, 4), np.float32), np.empty(7, np.float32)
        data.read_into(0, images[:3], redshift[:3])  # the rows before it are fine
        with pytest.raises(ValueError, match=r"rows 0:7: images contains 1 NaN"):
            data.read_into(0, images, redshift)
        with pytest.raises(ValueError, match="holds no log10_m500c"):
            data.read_target()


def test_dataset_view_detects_a_replaced_file(tmp_path):
    X, y, _ = make_data()
    path = tmp_path / "c.h5"
    write_hdf5(path, X, y)
    with HDF5ClusterDataset(path) as data:
        write_hdf5(path, X[:3], y[:3])
        with pytest.raises(ValueError, match="changed on disk"):
            data.read(0)


# ----------------------------------------------------------------------------- bad files
def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_hdf5(tmp_path / "nope.h5")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        HDF5ClusterDataset(tmp_path / "nope.h5")


def test_garbage_and_truncated_files(tmp_path):
    garbage = tmp_path / "garbage.h5"
    garbage.write_bytes(b"not an hdf5 file at all " * 100)
    with pytest.raises(ValueError, match=r"garbage\.h5.*cannot be opened as HDF5"):
        read_hdf5(garbage)
    X, y, catalog = make_data()
    good = tmp_path / "good.h5"
    write_hdf5(good, X, y, catalog)
    raw = good.read_bytes()
    for fraction in (0.1, 0.5, 0.95):
        truncated = tmp_path / f"truncated_{fraction}.h5"
        truncated.write_bytes(raw[: int(len(raw) * fraction)])
        with pytest.raises(ValueError, match="truncated"):
            read_hdf5(truncated)


def test_damaged_image_chunk_fails_loudly(tmp_path):
    X, y, _ = make_data()
    path = tmp_path / "c.h5"
    write_hdf5(path, X, y, compression=None)
    raw = bytearray(path.read_bytes())
    offset = raw.find(X["images"][4].tobytes())
    assert offset > 0
    raw[offset + 8] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="reading its data failed"):
        read_hdf5(path)
    np.testing.assert_array_equal(read_hdf5(path, rows=slice(0, 4))[0]["images"], X["images"][:4])


def _rewrite(path, edit):
    with h5py.File(path, "a") as file:
        edit(file)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda f: f.__delitem__("redshift"), "'/redshift' is missing"),
        (lambda f: f.__delitem__("images"), "'/images' is missing"),
        (lambda f: f.attrs.__delitem__("format"), "attribute 'format'"),
        (lambda f: f.attrs.__setitem__("format_version", FORMAT_VERSION + 1), "upgrade"),
        (lambda f: f.attrs.__setitem__("format_version", "one"), "not an integer"),
        (lambda f: f["log10_m500c"].resize((3,)), "expected 1-D with 7 rows"),
        (lambda f: f.__delitem__("catalog/name"), "'/catalog/name' is missing"),
        (lambda f: f["catalog"].attrs.__setitem__("columns", "{"), "'columns' attribute"),
    ],
)
def test_files_missing_parts_are_clear_errors(tmp_path, edit, match):
    X, y, catalog = make_data()
    path = tmp_path / "c.h5"
    write_hdf5(path, X, y, catalog)
    _rewrite(path, edit)
    with pytest.raises(ValueError, match=match):
        read_hdf5(path)


def test_plain_hdf5_file_is_not_ours(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as file:
        file["images"] = np.zeros((2, 1, 2, 2), dtype=np.float32)
        file["redshift"] = np.ones(2, dtype=np.float32)
    with pytest.raises(ValueError, match="not a valid sk_clustermass HDF5 file"):
        read_hdf5(path)


# ----------------------------------------------------------------------------- properties
@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 6),
    shape=st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4)),
    chunk_size=st.integers(1, 4),
    split=st.integers(0, 6),
    data=st.data(),
)
def test_property_stream_and_read_any_rows(n, shape, chunk_size, split, data):
    rng = np.random.default_rng(n * 100 + chunk_size)
    images = rng.normal(size=(n, *shape)).astype(np.float32)
    X = as_inputs(images, rng.uniform(0.1, 1.0, n), counts=False)
    y = rng.uniform(13, 15, n)
    catalog = pd.DataFrame({"i": np.arange(n), "s": [str(v) * v for v in range(n)]})
    rows = data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=8))
    split = min(split, n)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.h5"
        with HDF5ClusterWriter(path, n_bands=shape[0], height=shape[1], width=shape[2],
                               chunk_size=chunk_size) as writer:  # fmt: skip
            for block in (slice(0, split), slice(split, n)):
                if block.stop > block.start:
                    writer.append(X[block], y[block], catalog.iloc[block])
        X2, y2, catalog2 = read_hdf5(path, rows=rows)
    assert_same(X[rows], y[rows], catalog.iloc[rows], X2, y2, catalog2)


# ------------------------------------------------------------ declared layout
@pytest.mark.parametrize("attribute", ["n_bands", "height", "width"])
def test_attributes_that_contradict_the_images_are_refused(tmp_path, attribute):
    X, y, _ = make_data(bands=3, height=5, width=4)
    path = tmp_path / "data.h5"
    write_hdf5(path, X, y)
    with h5py.File(path, "r+") as file:
        file.attrs[attribute] = 9
    with pytest.raises(ValueError, match=r"data\.h5.*do not match '/images'"):
        read_hdf5(path)
    with pytest.raises(ValueError, match="wrong order"):
        HDF5ClusterDataset(path)


def test_channels_last_images_under_channels_first_attributes_are_refused(tmp_path):
    X, y, _ = make_data(bands=3, height=5, width=4)
    path = tmp_path / "data.h5"
    write_hdf5(path, X, y)
    with h5py.File(path, "r+") as file:
        images = file["images"][()]
        del file["images"]
        file["images"] = np.moveaxis(images, 1, -1)  # (n, 5, 4, 3): channels last
    with pytest.raises(ValueError, match=r"\(3, 5, 4\) do not match .* \(5, 4, 3\)"):
        read_hdf5(path)


# ------------------------------------------------ indirections (issue 27.2)
def _rewritten(path, tmp_path, edit):
    """A copy of ``path`` whose '/images' is replaced by what ``edit(file, images)`` makes."""
    import shutil

    copy = tmp_path / "edited.h5"
    shutil.copy(path, copy)
    with h5py.File(copy, "a") as file:
        images = file["images"][:]
        del file["images"]
        edit(file, images)
    return copy


def _virtual_over_a_missing_file(file, images):
    layout = h5py.VirtualLayout(shape=images.shape, dtype=images.dtype)
    layout[:] = h5py.VirtualSource("missing.h5", "images", shape=images.shape)
    file.create_virtual_dataset("images", layout, fillvalue=0)


def _external_link(file, images):
    with h5py.File(file.filename + ".other.h5", "w") as other:
        other["images"] = images
    file["images"] = h5py.ExternalLink(file.filename + ".other.h5", "images")


def _declared_but_never_written(file, images):
    shape = (10**6, *images.shape[1:])
    file.create_dataset("images", shape=shape, dtype=images.dtype, chunks=(1, *shape[1:]))


@pytest.fixture
def small_file(tmp_path):
    X, y, catalog = make_data()
    path = tmp_path / "clusters.h5"
    write_hdf5(path, X, y, catalog)
    return path


@pytest.mark.parametrize(
    ("edit", "match"),
    [(_virtual_over_a_missing_file, "virtual dataset"),
     (_external_link, "external link"),
     (_declared_but_never_written, "were ever written")],
)
def test_indirections_and_unwritten_data_are_refused(small_file, tmp_path, edit, match):
    """Issue 27.2: a virtual dataset over a missing file read as zeros, external links
    were followed, and a 6 kB file declaring 10^6 rows made predict run for hours."""
    path = _rewritten(small_file, tmp_path, edit)
    with pytest.raises(ValueError, match=match):
        read_hdf5(path)
    with pytest.raises(ValueError, match=match):
        HDF5ClusterDataset(path)
