"""Tests for FITS cubes: one cluster per file, redshift from headers or a catalogue."""

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits
from hypothesis import given, settings
from hypothesis import strategies as st

from sk_clustermass.io._fits import read_fits_cubes, write_fits_cube


def make_cubes(n=3, shape=(4, 6, 5), seed=0):
    rng = np.random.default_rng(seed)
    images = rng.poisson(2.0, size=(n, *shape)).astype(np.float32)
    images += rng.random(images.shape, dtype=np.float32)
    return images, np.round(rng.uniform(0.05, 1.4, n), 6)


def write_cubes(folder, images, redshifts=None, keyword="REDSHIFT", suffix=".fits"):
    paths = []
    for index, image in enumerate(images):
        path = Path(folder) / f"cluster_{index:03d}{suffix}"
        z = None if redshifts is None else redshifts[index]
        write_fits_cube(path, image, z, redshift_keyword=keyword)
        paths.append(path)
    return paths


@pytest.mark.parametrize("suffix", [".fits", ".fits.gz"])
def test_round_trip_with_header_redshift(tmp_path, suffix):
    images, redshifts = make_cubes()
    paths = write_cubes(tmp_path, images, redshifts, suffix=suffix)
    X, y, catalog = read_fits_cubes(paths)
    np.testing.assert_array_equal(X["images"], images)
    np.testing.assert_array_equal(X["redshift"], redshifts.astype(np.float32))
    assert y is None
    assert list(catalog.columns) == ["path", "z"] and catalog["path"][2] == str(paths[2])
    assert sorted(p.name for p in tmp_path.iterdir()) == [p.name for p in paths]
    header = fits.getheader(paths[0])
    assert (header["NAXIS1"], header["NAXIS2"], header["NAXIS3"]) == (5, 6, 4)
    assert "CHECKSUM" in header and header["REDSHIFT"] == redshifts[0]


def test_single_path_and_header_extras(tmp_path):
    image = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    path = tmp_path / "one.fits"
    extras = {"OBJECT": "A1795", "BUNIT": "count", "NAXIS": 7, "REDSHIFT": 9.0}
    write_fits_cube(path, image, 0.0625, header=extras)
    header = fits.getheader(path)
    assert header["OBJECT"] == "A1795" and header["NAXIS"] == 3 and header["REDSHIFT"] == 0.0625
    X, _, _ = read_fits_cubes(str(path))
    np.testing.assert_array_equal(X["images"][0], image)
    write_fits_cube(path, image, header=fits.Header([("Z", 0.5)]))
    assert read_fits_cubes(path)[0]["redshift"][0] == np.float32(0.5)


def test_redshift_keyword_fallbacks_and_precedence(tmp_path):
    images, redshifts = make_cubes()
    paths = write_cubes(tmp_path, images, redshifts, keyword="Z")
    np.testing.assert_array_equal(read_fits_cubes(paths)[0]["redshift"], redshifts.astype("f4"))
    (tmp_path / "custom").mkdir()
    custom = write_cubes(tmp_path / "custom", images[:1], [0.7], keyword="ZSPEC")
    assert read_fits_cubes(custom, redshift_keyword="ZSPEC")[0]["redshift"][0] == np.float32(0.7)
    with pytest.raises(ValueError, match=r"no redshift.*\['REDSHIFT', 'Z'\]"):
        read_fits_cubes(custom)
    explicit = [0.11, 0.22, 0.33]
    np.testing.assert_allclose(read_fits_cubes(paths, redshift=explicit)[0]["redshift"], explicit)
    catalog = pd.DataFrame({"z": [0.5, 0.6, 0.7]})
    np.testing.assert_allclose(read_fits_cubes(paths, catalog=catalog)[0]["redshift"], catalog["z"])
    with pytest.raises(ValueError, match="redshift must be > 0"):
        read_fits_cubes(paths, redshift=[0.1, -1.0, 0.2])


def test_missing_redshift_names_the_file(tmp_path):
    images, redshifts = make_cubes()
    paths = write_cubes(tmp_path, images, None)
    with pytest.raises(ValueError, match=r"cluster_000\.fits.*and 2 other file\(s\)"):
        read_fits_cubes(paths)
    write_fits_cube(paths[1], images[1], header={"REDSHIFT": "unknown"})
    with pytest.raises(ValueError, match=r"cluster_001\.fits.*'unknown' is not a redshift"):
        read_fits_cubes(paths, redshift=redshifts)


def test_catalogue_in_file_order_gives_y(tmp_path):
    images, redshifts = make_cubes()
    paths = write_cubes(tmp_path, images)
    catalog = pd.DataFrame({"z": redshifts, "M500c": [1e13, 1e14, 1e15]}, index=[9, 8, 7])
    _, y, catalog2 = read_fits_cubes(paths, catalog=catalog)
    np.testing.assert_allclose(y, [13, 14, 15])
    pd.testing.assert_frame_equal(catalog2, catalog.reset_index(drop=True))
    log_catalog = pd.DataFrame({"z": redshifts, "log10_m500c": [13.5, 14.0, 14.5]})
    np.testing.assert_array_equal(read_fits_cubes(paths, catalog=log_catalog)[1], [13.5, 14, 14.5])
    with pytest.raises(ValueError, match="non-positive 'M500c'"):
        read_fits_cubes(paths, catalog=catalog.assign(M500c=[1e14, -1.0, 1e14]))
    with pytest.raises(ValueError, match="catalog has 2 rows but 3 files"):
        read_fits_cubes(paths, catalog=catalog.iloc[:2])


def test_catalogue_matched_by_path_column(tmp_path, monkeypatch):
    images, redshifts = make_cubes()
    paths = write_cubes(tmp_path, images)
    catalog = pd.DataFrame(
        {
            "file": ["extra.fits", paths[2].name, str(paths[0]), paths[1].name],
            "z": [0.9, redshifts[2], redshifts[0], redshifts[1]],
            "M500c": [1e15, 3e14, 1e14, 2e14],
        }
    )
    X, y, catalog2 = read_fits_cubes(paths, catalog=catalog, catalog_path_column="file")
    np.testing.assert_array_equal(X["redshift"], redshifts.astype(np.float32))
    np.testing.assert_allclose(10**y, [1e14, 2e14, 3e14])
    assert list(catalog2["file"]) == [str(paths[0]), paths[1].name, paths[2].name]
    monkeypatch.chdir(tmp_path)  # relative paths with a directory resolve from the cwd
    relative = catalog.assign(file=["x/extra.fits", *(f"./{p}" for p in catalog["file"][1:])])
    relative.loc[2, "file"] = os.path.relpath(paths[0], tmp_path)
    read_fits_cubes(paths, catalog=relative, catalog_path_column="file")


@pytest.mark.parametrize(
    ("catalog", "column", "match"),
    [
        (pd.DataFrame({"file": ["cluster_000.fits"], "z": [0.1]}), "file", "has no row"),
        (pd.DataFrame({"file": ["cluster_000.fits"] * 3}), "file", "more than once"),
        (pd.DataFrame({"z": [0.1, 0.2, 0.3]}), "file", "not a column"),
        (None, "file", "without a catalog"),
    ],
)
def test_catalogue_matching_errors(tmp_path, catalog, column, match):
    images, redshifts = make_cubes()
    paths = write_cubes(tmp_path, images, redshifts)
    with pytest.raises(ValueError, match=match):
        read_fits_cubes(paths, catalog=catalog, catalog_path_column=column)


@pytest.mark.parametrize("other_shape", [(3, 6, 5), (4, 6, 6)])
def test_band_or_size_mismatch_names_the_file(tmp_path, other_shape):
    images, redshifts = make_cubes()
    paths = write_cubes(tmp_path, images, redshifts)
    write_fits_cube(paths[1], np.ones(other_shape), 0.3)
    with pytest.raises(ValueError, match=r"cluster_001\.fits.*shape.*cluster_000\.fits"):
        read_fits_cubes(paths)


def test_foreign_files_scaled_integers_and_extensions(tmp_path):
    counts = np.arange(60, dtype=np.int16).reshape(3, 4, 5)
    primary = fits.PrimaryHDU()
    primary.header["Z"] = 0.2
    image = fits.ImageHDU(counts, header=fits.Header([("REDSHIFT", 0.4)]))
    path = tmp_path / "foreign.fits"
    fits.HDUList([primary, image]).writeto(path)  # no checksums, cube in an extension
    X, _, _ = read_fits_cubes([path])
    np.testing.assert_array_equal(X["images"][0], counts)
    assert X["redshift"][0] == np.float32(0.4)


def test_bad_files(tmp_path):
    images, redshifts = make_cubes(n=1)
    (path,) = write_cubes(tmp_path, images, redshifts)
    raw = path.read_bytes()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_fits_cubes([tmp_path / "missing.fits"])
    garbage = tmp_path / "garbage.fits"
    garbage.write_bytes(b"this is not FITS " * 300)
    with pytest.raises(ValueError, match=r"garbage\.fits.*could not be read as FITS"):
        read_fits_cubes([garbage])
    for fraction in (0.3, 0.6, 0.9, 0.99):
        truncated = tmp_path / f"truncated_{fraction}.fits"
        truncated.write_bytes(raw[: int(len(raw) * fraction)])
        with pytest.raises(ValueError, match=r"truncated_.*\.fits.*could not be read as FITS"):
            read_fits_cubes([truncated], redshift=[0.1])
    damaged = bytearray(raw)
    offset = raw.find(images[0].astype(">f4").tobytes())
    assert offset > 0
    damaged[offset + 100] ^= 0x10  # one bit in the pixel data
    path.write_bytes(bytes(damaged))
    with pytest.raises(ValueError, match=r"is damaged.*(Checksum|Datasum)"):
        read_fits_cubes([path])
    flat = tmp_path / "flat.fits"
    fits.PrimaryHDU(np.zeros((4, 4))).writeto(flat)
    with pytest.raises(ValueError, match=r"no 3-D image HDU.*\(4, 4\)"):
        read_fits_cubes([flat], redshift=[0.1])
    blank = tmp_path / "blank.fits"
    fits.PrimaryHDU(np.full((2, 3, 3), np.nan, dtype=np.float32)).writeto(blank)
    with pytest.raises(ValueError, match=r"blank\.fits.*NaN"):
        read_fits_cubes([blank], redshift=[0.1])
    with pytest.raises(ValueError, match="paths is empty"):
        read_fits_cubes([])


def test_writer_refuses_bad_input_and_writes_nothing(tmp_path):
    path = tmp_path / "c.fits"
    cases = [
        ((np.zeros((2, 4, 4, 4)), 0.1), ValueError, "one cube of shape"),
        ((np.zeros((4, 4)), 0.1), ValueError, "one cube of shape"),
        ((np.full((2, 4, 4), np.nan), 0.1), ValueError, "NaN"),
        ((np.zeros((2, 4, 4)), -0.1), ValueError, "redshift must be > 0"),
        ((np.zeros((2, 4, 4)), [0.1, 0.2]), TypeError, "one number"),
    ]
    for arguments, error, match in cases:
        with pytest.raises(error, match=match):
            write_fits_cube(path, *arguments)
    assert list(tmp_path.iterdir()) == []


@settings(max_examples=15, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 3), st.integers(1, 5), st.integers(1, 5)),
    n=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_property_exact_round_trip(shape, n, seed):
    rng = np.random.default_rng(seed)
    images = rng.normal(0, 100, size=(n, *shape)).astype(np.float32)
    redshifts = rng.uniform(0.01, 2.0, n)
    with tempfile.TemporaryDirectory() as folder:
        X, _, catalog = read_fits_cubes(write_cubes(folder, images, redshifts))
    np.testing.assert_array_equal(X["images"], images)
    np.testing.assert_array_equal(catalog["z"], redshifts.astype(np.float32))


# ------------------------------------------------------------ axis order and sizes
def test_channels_last_cube_is_refused(tmp_path):
    path = tmp_path / "last.fits"
    header = fits.Header({"REDSHIFT": 0.3})
    fits.PrimaryHDU(np.ones((50, 50, 10), dtype=np.float32), header=header).writeto(path)
    with pytest.raises(ValueError, match=r"last\.fits.*channels-last.*NAXIS3 = n_bands"):
        read_fits_cubes([path])


def _forged(path, naxes, *, compress=False):
    header = fits.Header()
    header["SIMPLE"] = True
    header["BITPIX"] = -32
    header["NAXIS"] = len(naxes)
    for axis, size in enumerate(naxes, start=1):
        header[f"NAXIS{axis}"] = size
    header["REDSHIFT"] = 0.2
    raw = header.tostring().encode("ascii") + bytes(2880)
    if compress:
        import gzip

        raw = gzip.compress(raw)
    path.write_bytes(raw)
    return path


@pytest.mark.parametrize("compress", [False, True])
def test_header_declaring_a_huge_cube_is_refused_before_allocating(tmp_path, compress):
    # 100000 x 100000 pixels x 100 bands of float32: a 4 TB cube in a file of a few kB
    path = _forged(tmp_path / ("huge.fits.gz" if compress else "huge.fits"),
                   (100_000, 100_000, 100), compress=compress)
    with pytest.raises(ValueError, match=r"declares a cube of 4,000,000,000,000 bytes"):
        read_fits_cubes([path])


def test_catalogue_log_masses_outside_the_physical_range_are_refused(tmp_path):
    images, redshifts = make_cubes()
    paths = write_cubes(tmp_path, images, redshifts)
    catalog = pd.DataFrame({"log10_m500c": [14.0, 47.3, 14.5]})
    with pytest.raises(ValueError, match=r"first at row 1.*log10\(M500c / Msun\)"):
        read_fits_cubes(paths, catalog=catalog)


def test_tile_compressed_cube_of_zeros_is_read(tmp_path):
    # compresses far below its declared size: must not be taken for a forged header
    path = tmp_path / "tiled.fits"
    header = fits.Header({"REDSHIFT": 0.3})
    fits.HDUList([fits.PrimaryHDU(),
                  fits.CompImageHDU(np.zeros((10, 50, 50), np.float32), header=header)]
                 ).writeto(path)
    X, _, _ = read_fits_cubes([path])
    assert X["images"].shape == (1, 10, 50, 50) and not X["images"].any()
