"""Catalogue readers: eFEDS and eRASS1 layouts, Feather V1/V2, mass units, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pytest
from astropy.table import Table

from sk_clustermass.datasets import read_cluster_catalog, read_lab_dataset


def _write(table: Table, path) -> None:
    table.write(path, overwrite=True)


def _write_feather(table: pa.Table, path, version: int) -> None:
    with warnings.catch_warnings():
        # writing V1 is deprecated in pyarrow; the files users hold still exist
        warnings.filterwarnings("ignore", "Feather V1", DeprecationWarning)
        feather.write_feather(table, path, version=version)


def test_erass1_layout_with_units(tmp_path):
    table = Table({"NAME": ["1eRASS J1", "1eRASS J2"], "RA": [10.0, 20.0],
                   "DEC": [-5.0, -6.0], "BEST_Z": [0.1, 0.5], "M500": [1.0, 3.0],
                   "M500_L": [0.8, 2.5], "M500_H": [1.3, 3.6]})
    for name in ("M500", "M500_L", "M500_H"):
        table[name].unit = "1e14 Msun"
    _write(table, tmp_path / "erass1.fits")
    catalog = read_cluster_catalog(tmp_path / "erass1.fits")
    assert catalog["name"].tolist() == ["1eRASS J1", "1eRASS J2"]
    np.testing.assert_allclose(catalog["z"], [0.1, 0.5])
    np.testing.assert_allclose(catalog["M500c"], [1e14, 3e14])
    np.testing.assert_allclose(catalog["M500c_low"], [0.8e14, 2.5e14])
    assert "BEST_Z" in catalog.columns  # the original columns stay


def test_efeds_layout_prefers_corrected_positions(tmp_path):
    table = Table({"ID_SRC": [7], "RA": [135.0], "DEC": [1.0], "RA_CORR": [135.001],
                   "DEC_CORR": [1.001], "z": [0.35], "M500": [13.8]})  # log10 masses
    _write(table, tmp_path / "efeds.fits")
    with pytest.raises(ValueError, match=r"could be log10.*or masses in 1e14 Msun"):
        read_cluster_catalog(tmp_path / "efeds.fits", layout="efeds")  # issue 26: ambiguous
    catalog = read_cluster_catalog(tmp_path / "efeds.fits", layout="efeds",
                                   mass_unit="dex(Msun)")
    assert catalog[["ra_deg", "dec_deg"]].iloc[0].tolist() == [135.001, 1.001]
    np.testing.assert_allclose(catalog["M500c"], [10**13.8])


def test_mass_without_unit_needs_mass_unit(tmp_path):
    _write(Table({"RA": [1.0], "DEC": [2.0], "BEST_Z": [0.2], "M500": [2.5]}),
           tmp_path / "c.fits")
    with pytest.raises(ValueError, match="pass mass_unit"):
        read_cluster_catalog(tmp_path / "c.fits")
    catalog = read_cluster_catalog(tmp_path / "c.fits", mass_unit="1e13 Msun")
    np.testing.assert_allclose(catalog["M500c"], [2.5e13])


@pytest.mark.parametrize("version", [1, 2])
def test_feather_versions(tmp_path, version):
    path = tmp_path / "catalog.dat"  # no suffix: the format comes from the content
    _write_feather(pa.table({"RA": [1.0], "DEC": [2.0], "z": [0.3]}), path, version)
    catalog = read_cluster_catalog(path)
    assert catalog[["ra_deg", "dec_deg", "z"]].iloc[0].tolist() == [1.0, 2.0, 0.3]


def test_lab_reader_accepts_feather_v1(tmp_path):
    from sk_clustermass.datasets import write_lab_dataset

    images = np.zeros((2, 50, 50, 10), dtype=np.float32)
    frame = pd.DataFrame({"z": [0.1, 0.2], "M500c": [1e14, 2e14]})
    write_lab_dataset(tmp_path / "images.pkl", tmp_path / "cat.feather", images, frame,
                      [0, 1])
    v1 = tmp_path / "cat_v1"
    _write_feather(pa.Table.from_pandas(pd.read_feather(tmp_path / "cat.feather")), v1, 1)
    _X, y, _catalog = read_lab_dataset(tmp_path / "images.pkl", v1, trusted=True)
    np.testing.assert_allclose(y, np.log10([1e14, 2e14]))


def test_explicit_columns_and_errors(tmp_path):
    _write(Table({"ALPHA": [1.0], "DELTA": [2.0], "ZSPEC": [0.3]}), tmp_path / "c.fits")
    with pytest.raises(ValueError, match="has no column for"):
        read_cluster_catalog(tmp_path / "c.fits")
    catalog = read_cluster_catalog(tmp_path / "c.fits", columns={
        "ra_deg": "ALPHA", "dec_deg": "DELTA", "z": "ZSPEC"})
    assert catalog["z"].item() == 0.3
    with pytest.raises(ValueError, match="is not a column"):
        read_cluster_catalog(tmp_path / "c.fits", columns={"z": "NOPE"})
    with pytest.raises(ValueError, match="layout"):
        read_cluster_catalog(tmp_path / "c.fits", layout="rass")
    with pytest.raises(FileNotFoundError):
        read_cluster_catalog(tmp_path / "absent.fits")
