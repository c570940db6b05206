"""Real catalogues read right or refused (issue 26): h, log10 masses, IAU names, F_CONT."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table

from sk_clustermass.datasets import read_cluster_catalog
from sk_clustermass.io._iau_names import positions_from_names
from sk_clustermass.io._mass_units import parse_mass_unit

LOG_M_PER_H = np.array([13.75, 13.9, 13.983, 14.1, 14.3])  # median 13.983
NAMES = ["eFEDS J093513.3+004746", "eFEDS J092821.2-012405", "eFEDS J083811.8-015934",
         "eFEDS J091610.0+032255", "eFEDS J085751.6+031039"]


def _chiu_like(tmp_path):
    """Chiu+22 layout: IAU names, no RA/DEC, log10 masses labelled Msun/h, linear errors."""
    table = Table({"Name": NAMES, "z": [0.2, 0.35, 0.5, 0.41, 0.62], "M500": LOG_M_PER_H,
                   "M500_err_lo": 0.3 * 10**LOG_M_PER_H, "M500_err_hi": 0.4 * 10**LOG_M_PER_H})
    for name in ("M500", "M500_err_lo", "M500_err_hi"):
        table[name].unit = "Msun/h"
    path = tmp_path / "chiu22.fits"
    table.write(path)
    return path


def _liu_like(tmp_path):
    """Liu+22 as VizieR writes it: RAJ2000/DEJ2000, masses in 10+13Msun, MCMF F_CONT."""
    table = Table({"eFEDS": NAMES, "RAJ2000": [143.80, 142.09, 129.55, 139.04, 134.46],
                   "DEJ2000": [0.80, -1.40, -2.0, 3.38, 3.18], "z": [0.2, 0.35, 0.5, 0.41, 0.62],
                   "M500": [5.0, 12.0, 8.0, 20.0, 3.0], "M500_L": [3.5, 9.0, 6.0, 16.0, 2.0],
                   "M500_H": [6.5, 15.0, 10.0, 24.0, 4.0],
                   "F_CONT_BEST_COMB": [0.01, 0.5, np.nan, 0.05, 0.9]})
    path = tmp_path / "liu22.csv"
    table.write(path)
    return path


def test_chiu_like_table_gives_the_median_mass_in_msun(tmp_path):
    path = _chiu_like(tmp_path)
    catalog = read_cluster_catalog(
        path, columns={"M500c_low": "M500_err_lo", "M500c_high": "M500_err_hi"},
        mass_unit={"M500c": "log(Msun/h)"}, h=0.7, mass_bounds="errors")
    assert f"{np.median(catalog['M500c']):.3g}" == "1.37e+14"
    np.testing.assert_allclose(catalog["M500c_low"], 0.7 * catalog["M500c"])
    np.testing.assert_allclose(catalog["M500c_high"], 1.4 * catalog["M500c"])
    ra, dec = catalog.loc[0, ["ra_deg", "dec_deg"]]
    assert ra == pytest.approx(143.80542, abs=1e-4) and dec == pytest.approx(0.79611, abs=1e-4)
    assert catalog.loc[1, "dec_deg"] == pytest.approx(-(1 + 24 / 60 + 5 / 3600))


def test_chiu_like_table_silent_cases_are_refused(tmp_path):
    path = _chiu_like(tmp_path)
    # as written: Msun/h needs h
    with pytest.raises(ValueError, match=r"'M500' is in '.*h', per little h; pass"):
        read_cluster_catalog(path)
    # with h, the log10 values read as linear masses leave the physical range
    with pytest.raises(ValueError, match=r"'M500'.*outside the physical range.*look like log10"):
        read_cluster_catalog(path, h=0.7)
    # an explicit wrong unit is checked too (it used to return masses of ~14 Msun)
    with pytest.raises(ValueError, match=r"'M500' read as 'Msun'.*outside the physical range"):
        read_cluster_catalog(path, mass_unit="Msun")
    # errors read as bounds do not bracket the mass
    with pytest.raises(ValueError, match=r"upper bound 'M500_err_hi' below the mass.*"
                       r"mass_bounds='errors'"):
        read_cluster_catalog(path, columns={"M500c_high": "M500_err_hi"}, h=0.7,
                             mass_unit={"M500c": "log(Msun/h)", "M500c_high": "Msun/h"})


def test_liu_like_vizier_table(tmp_path):
    path = _liu_like(tmp_path)
    catalog = read_cluster_catalog(path, mass_unit="10+13Msun")
    np.testing.assert_allclose(catalog["ra_deg"], [143.80, 142.09, 129.55, 139.04, 134.46])
    np.testing.assert_allclose(catalog["dec_deg"][:2], [0.80, -1.40])
    np.testing.assert_allclose(catalog["M500c"], [5e13, 1.2e14, 8e13, 2e14, 3e13])
    np.testing.assert_allclose(catalog["f_cont"][[0, 1, 3, 4]], [0.01, 0.5, 0.05, 0.9])
    clean = read_cluster_catalog(path, mass_unit="10+13Msun", max_contamination=0.2)
    assert clean["M500c"].tolist() == [5e13, 8e13, 2e14]  # unknown F_CONT (NaN) stays
    with pytest.raises(ValueError, match="max_contamination must be"):
        read_cluster_catalog(path, mass_unit="10+13Msun", max_contamination=1.5)


def test_max_contamination_without_a_column_says_how_to_name_it(tmp_path):
    Table({"RA": [1.0], "DEC": [2.0], "z": [0.3]}).write(tmp_path / "c.fits")
    with pytest.raises(ValueError, match=r"columns=\{'f_cont': ...\}"):
        read_cluster_catalog(tmp_path / "c.fits", max_contamination=0.2)


@pytest.mark.parametrize("text, log, per_h, msun", [
    ("Msun", False, False, 1.0), ("1e14 Msun", False, False, 1e14),
    ("dex(Msun)", True, False, 1.0), ("log(Msun/h)", True, True, 1.0),
    ("log10(Msun)", True, False, 1.0), ("[Msun]", True, False, 1.0),
    ("Msun h-1", False, True, 1.0), ("h^-1 Msun", False, True, 1.0),
    ("1e14 Msun/h", False, True, 1e14), ("10+14Msun", False, False, 1e14),
    ("dex(solMass)", True, False, 1.0),
])
def test_mass_units_as_catalogues_write_them(text, log, per_h, msun):
    unit = parse_mass_unit(text, "M500")
    assert (unit.log, unit.per_h) == (log, per_h)
    assert unit.msun == pytest.approx(msun)


def test_non_mass_units_are_refused_with_the_column_named():
    with pytest.raises(ValueError, match=r"'M500' has unit 'erg/s'.*pass mass_unit"):
        parse_mass_unit("erg/s", "M500")


def test_log_column_with_dex_unit_from_ecsv(tmp_path):
    table = Table({"RA": [1.0, 2.0], "DEC": [0.0, 0.0], "z": [0.1, 0.2],
                   "M500": [14.0, 14.5]})
    table["M500"].unit = "dex(Msun)"
    table.write(tmp_path / "c.ecsv")
    catalog = read_cluster_catalog(tmp_path / "c.ecsv")
    np.testing.assert_allclose(catalog["M500c"], [1e14, 10**14.5])


def test_unitless_masses_in_grams_are_refused(tmp_path):
    Table({"RA": [1.0], "DEC": [2.0], "z": [0.3], "M500": [2e47]}).write(tmp_path / "c.fits")
    with pytest.raises(ValueError, match="outside the physical range"):
        read_cluster_catalog(tmp_path / "c.fits")


def test_names_without_designations_name_the_fix():
    with pytest.raises(ValueError, match=r"row 1: 'Abell 2029'.*columns="):
        positions_from_names(["eFEDS J093513.3+004746", "Abell 2029"], "Name")


def test_bad_h_is_refused(tmp_path):
    path = _chiu_like(tmp_path)
    with pytest.raises(ValueError, match="h must be"):
        read_cluster_catalog(path, h=70.0)
