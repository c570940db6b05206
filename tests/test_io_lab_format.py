"""Tests for the lab's original files: image pickle plus Feather or FITS catalogue."""

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sk_clustermass.io._lab_files import (
    LAB_CATALOG_COLUMNS,
    read_lab_dataset,
    write_lab_dataset,
)


def make_lab(n=4, height=6, width=5, bands=10, seed=0):
    """Channels-last cubes, a catalogue with every lab column, and integer ids."""
    rng = np.random.default_rng(seed)
    cubes = rng.random((n, height, width, bands))  # float64, as pickled by the lab
    catalog = pd.DataFrame({name: rng.random(n) for name in LAB_CATALOG_COLUMNS})
    catalog["z"] = rng.uniform(0.01, 1.5, n)
    catalog["M500c"] = 10 ** rng.uniform(13, 15, n)
    catalog["SRC_ID_IN"] = np.arange(n) + 1000
    return cubes, catalog, np.arange(n) + 1000


def write_pair(tmp_path, suffix=".feather", **kwargs):
    cubes, catalog, ids = make_lab(**kwargs)
    images_path = tmp_path / "eFEDS-3dImgs.pickle"
    catalog_path = tmp_path / f"eFEDS-catalog{suffix}"
    write_lab_dataset(images_path, catalog_path, cubes, catalog, ids)
    return images_path, catalog_path, cubes, catalog, ids


@pytest.mark.parametrize("suffix", [".feather", ".fits"])
def test_round_trip_converts_to_channels_first(tmp_path, suffix):
    images_path, catalog_path, cubes, catalog, ids = write_pair(tmp_path, suffix)
    X, y, catalog2 = read_lab_dataset(images_path, catalog_path, trusted=True)
    assert X["images"].shape == (4, 10, 6, 5) and X["images"].dtype == np.float32
    assert X["images"].flags.c_contiguous
    np.testing.assert_array_equal(X["images"], np.moveaxis(cubes, -1, 1).astype(np.float32))
    assert X["images"][2, 7, 3, 1] == np.float32(cubes[2][3, 1, 7])
    np.testing.assert_array_equal(X["redshift"], catalog["z"].astype(np.float32))
    np.testing.assert_allclose(y, np.log10(catalog["M500c"]), rtol=0, atol=1e-12)
    expected = catalog.copy()
    expected.insert(0, "cluster", ids)
    pd.testing.assert_frame_equal(catalog2, expected)


def test_files_have_the_lab_layout(tmp_path):
    images_path, catalog_path, _, catalog, ids = write_pair(tmp_path)
    with open(images_path, "rb") as handle:
        payload = pickle.load(handle)  # our own file, written just above
    assert sorted(payload) == ["cluster", "gsm_3dImgs"]
    assert isinstance(payload["gsm_3dImgs"], list) and payload["gsm_3dImgs"][0].shape == (6, 5, 10)
    np.testing.assert_array_equal(payload["cluster"], ids)
    pd.testing.assert_frame_equal(pd.read_feather(catalog_path), catalog)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [images_path.name, catalog_path.name]
    )


def test_untrusted_pickle_is_refused_before_loading(tmp_path):
    images_path, catalog_path, *_ = write_pair(tmp_path)
    with pytest.raises(ValueError, match=r"runs whatever code.*trusted=True"):
        read_lab_dataset(images_path, catalog_path)
    # refused even before looking at the file
    with pytest.raises(ValueError, match="refusing to unpickle"):
        read_lab_dataset(tmp_path / "missing.pickle", catalog_path)
    with pytest.raises(TypeError, match="True or False"):
        read_lab_dataset(images_path, catalog_path, trusted="yes")


def test_list_of_cubes_and_string_ids_checked_against_catalogue(tmp_path):
    cubes, catalog, _ = make_lab(n=3)
    ids = ["a", "b", "c"]
    catalog["cluster"] = ids
    write_lab_dataset(tmp_path / "i.pickle", tmp_path / "c.fits", list(cubes), catalog, ids)
    _, _, catalog2 = read_lab_dataset(tmp_path / "i.pickle", tmp_path / "c.fits", trusted=True)
    assert list(catalog2["cluster"]) == ids and catalog2.columns[-1] == "cluster"
    catalog["cluster"] = ["a", "c", "b"]
    write_lab_dataset(tmp_path / "i.pickle", tmp_path / "c.fits", cubes, catalog, ids)
    with pytest.raises(ValueError, match=r"differ in 2 row\(s\) \(first at row 1"):
        read_lab_dataset(tmp_path / "i.pickle", tmp_path / "c.fits", trusted=True)


def test_explicit_id_column(tmp_path):
    images_path, catalog_path, *_ = write_pair(tmp_path)
    read_lab_dataset(images_path, catalog_path, trusted=True, id_column="SRC_ID_IN")
    with pytest.raises(ValueError, match="differ in 4 row"):
        read_lab_dataset(images_path, catalog_path, trusted=True, id_column="RA")
    with pytest.raises(ValueError, match="is not a column"):
        read_lab_dataset(images_path, catalog_path, trusted=True, id_column="nope")


def test_catalogue_format_is_sniffed_without_extension(tmp_path):
    images_path, catalog_path, *_ = write_pair(tmp_path)
    renamed = catalog_path.rename(tmp_path / "catalogue.dat")
    X, _, _ = read_lab_dataset(images_path, renamed, trusted=True)
    assert len(X) == 4
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="cannot tell the catalogue format"):
        read_lab_dataset(images_path, tmp_path / "notes.txt", trusted=True)


def _write_raw(tmp_path, payload, catalog):
    images_path, catalog_path = tmp_path / "raw.pickle", tmp_path / "raw.feather"
    pd.to_pickle(payload, images_path)
    catalog.to_feather(catalog_path)
    return images_path, catalog_path


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        ([1, 2], "must hold a dict"),
        ({"cluster": [1, 2]}, "must hold a dict with the keys"),
        ({"cluster": [1, 2], "gsm_3dImgs": [np.zeros((6, 5, 10))] * 3}, "one id per image"),
        ({"cluster": [1, 2], "gsm_3dImgs": [np.zeros((6, 5))] * 2}, "channels last"),
        ({"cluster": [1, 2], "gsm_3dImgs": [np.zeros((6, 5, 10)), np.zeros((5, 5, 10))]},
         "image 1 has shape"),
        ({"cluster": [], "gsm_3dImgs": []}, "holds no images"),
        ({"cluster": [1, 2], "gsm_3dImgs": [np.full((6, 5, 10), np.nan)] * 2}, "NaN"),
    ],
)  # fmt: skip
def test_bad_pickle_contents(tmp_path, payload, match):
    _, catalog, _ = make_lab(n=2)
    with pytest.raises(ValueError, match=match):
        read_lab_dataset(*_write_raw(tmp_path, payload, catalog), trusted=True)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda c: c.iloc[:3], "holds 4 clusters but .* has 3 rows"),
        (lambda c: c.drop(columns=["M500c"]), r"lacks the column\(s\) \['M500c'\]"),
        (lambda c: c.drop(columns=["z", "M500c"]), r"\['M500c', 'z'\]"),
        (lambda c: c.assign(M500c=[1e14, 0.0, 1e14, 1e14]), "non-positive 'M500c'.*row 1"),
        (lambda c: c.assign(M500c=[1e14, 1e14, np.nan, -1.0]), "2 cluster"),
        (lambda c: c.assign(M500c=[14.0, 13.5, 14.2, 13.9]), "looks like log10"),
        (lambda c: c.assign(z=[0.1, 0.0, 0.2, 0.3]), "redshift must be > 0"),
    ],
)
def test_bad_catalogue_contents(tmp_path, edit, match):
    cubes, catalog, ids = make_lab()
    payload = {"cluster": ids, "gsm_3dImgs": list(cubes)}
    with pytest.raises(ValueError, match=match):
        read_lab_dataset(*_write_raw(tmp_path, payload, edit(catalog)), trusted=True)


def test_writer_refuses_inconsistent_input(tmp_path):
    cubes, catalog, ids = make_lab()
    cases = [
        ((cubes, catalog, ids[:3]), ValueError, "one id and one catalogue row"),
        ((cubes, catalog.iloc[:2], ids), ValueError, "one id and one catalogue row"),
        ((cubes, catalog.drop(columns="z"), ids), ValueError, "lacks the column"),
        ((cubes, catalog.assign(M500c=-1.0), ids), ValueError, "non-positive"),
        ((cubes[..., 0], catalog, ids), ValueError, "channels last"),
        ((cubes, catalog.to_dict(), ids), TypeError, "DataFrame"),
    ]
    for arguments, error, match in cases:
        with pytest.raises(error, match=match):
            write_lab_dataset(tmp_path / "i.pickle", tmp_path / "c.feather", *arguments)
    with pytest.raises(ValueError, match="cannot tell the catalogue format"):
        write_lab_dataset(tmp_path / "i.pickle", tmp_path / "c.csv", cubes, catalog, ids)
    assert list(tmp_path.iterdir()) == []


def test_corrupt_and_truncated_files(tmp_path):
    images_path, catalog_path, *_ = write_pair(tmp_path)
    raw_images, raw_catalog = images_path.read_bytes(), catalog_path.read_bytes()
    images_path.write_bytes(raw_images[: len(raw_images) // 2])
    with pytest.raises(ValueError, match=r"could not be unpickled.*truncated"):
        read_lab_dataset(images_path, catalog_path, trusted=True)
    images_path.write_bytes(b"\x00garbage" * 50)
    with pytest.raises(ValueError, match="could not be unpickled"):
        read_lab_dataset(images_path, catalog_path, trusted=True)
    images_path.write_bytes(raw_images)
    catalog_path.write_bytes(raw_catalog[: len(raw_catalog) // 2])
    with pytest.raises(ValueError, match="could not be read as a feather catalogue"):
        read_lab_dataset(images_path, catalog_path, trusted=True)
    fits_path = tmp_path / "c.fits"
    fits_path.write_bytes(b"SIMPLE  = garbage" * 10)
    with pytest.raises(ValueError, match="could not be read as a fits catalogue"):
        read_lab_dataset(images_path, fits_path, trusted=True)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_lab_dataset(tmp_path / "none.pickle", catalog_path, trusted=True)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_lab_dataset(images_path, tmp_path / "none.feather", trusted=True)


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(1, 4),
    shape=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3)),
    seed=st.integers(0, 2**16),
)
def test_property_channel_order(tmp_path_factory, n, shape, seed):
    height, width, bands = shape
    cubes, catalog, ids = make_lab(n, height, width, bands, seed)
    folder = tmp_path_factory.mktemp("lab")
    write_lab_dataset(folder / "i.pickle", folder / "c.feather", cubes, catalog, ids)
    X, _, _ = read_lab_dataset(folder / "i.pickle", folder / "c.feather", trusted=True)
    for index in np.ndindex(n, height, width, bands):
        cluster, row, column, band = index
        assert X["images"][cluster, band, row, column] == np.float32(cubes[index])


# ------------------------------------------------------------ axis order and units
def test_channels_first_cubes_are_refused(tmp_path):
    images_path, catalog_path, cubes, _, ids = write_pair(tmp_path, height=50, width=50)
    channels_first = [np.moveaxis(cube, -1, 0) for cube in cubes]  # (10, 50, 50) each
    with open(images_path, "wb") as handle:
        pickle.dump({"cluster": ids, "gsm_3dImgs": channels_first}, handle)
    with pytest.raises(ValueError, match=r"channels-first.*np\.moveaxis"):
        read_lab_dataset(images_path, catalog_path, trusted=True)


@pytest.mark.parametrize(("factor", "unit"), [(1.989e33, "grams"), (1.989e30, "kg"),
                                              (1e4, "1e10 Msun too many")])
def test_masses_outside_the_physical_range_are_refused(tmp_path, factor, unit):
    images_path, catalog_path, _, catalog, _ = write_pair(tmp_path)
    catalog["M500c"] = catalog["M500c"] * factor
    catalog.to_feather(catalog_path)
    with pytest.raises(ValueError, match=r"physical range 1e\+10-1e\+17 Msun"):
        read_lab_dataset(images_path, catalog_path, trusted=True)


def test_a_single_broken_mass_is_refused(tmp_path):
    images_path, catalog_path, _, catalog, _ = write_pair(tmp_path)
    catalog.loc[2, "M500c"] = 3e47
    catalog.to_feather(catalog_path)
    with pytest.raises(ValueError, match="first at row 2"):
        read_lab_dataset(images_path, catalog_path, trusted=True)
