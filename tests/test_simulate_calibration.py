"""The survey presets against the published eFEDS and eRASS1 cluster samples.

Every test draws catalogue-only parents (no images) on a seed that was not used to
calibrate the presets (calibration: seed 11 for eFEDS, 5 and 21 for eRASS1; see
docs/simulator.md) and compares with a published number, cited in the test. Where
published physics does not reach the published number the test is a strict ``xfail``
whose reason gives the measured value; docs/simulator.md explains each.
"""

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from sk_clustermass.datasets import make_catalog, parent_density_deg2
from sk_clustermass.simulate import (
    DEFAULT_BAND_EDGES_KEV,
    DEFAULT_COSMOLOGY,
    RELATIONS,
    LinearPowerSpectrum,
    OpticalConfirmation,
    ScalingRelations,
    chance_counterpart,
    contamination_probability,
    erosita_temperature_kev,
    kt_relative_error,
    luminosity_0p1_2p4_erg_s,
)

N_PARENTS = 524288
SEED = 2026

#: A local copy of eFEDSmasstable.fits (github.com/inonchiu/eFEDSproducts, Chiu et al.
#: 2022). The repository states no licence, so the table is not redistributed here.
EFEDS_TABLE = os.environ.get("SK_CLUSTERMASS_EFEDS_MASSTABLE", "")


@pytest.fixture(scope="module")
def efeds():
    catalog = make_catalog(N_PARENTS, survey="efeds_survey", random_state=SEED,
                           contaminants=True)
    return catalog, parent_density_deg2("efeds_survey", contaminants=True)


@pytest.fixture(scope="module")
def efeds_candidates(efeds):
    catalog, _ = efeds
    return catalog[catalog["detected"]]


@pytest.fixture(scope="module")
def efeds_clusters(efeds_candidates):
    return efeds_candidates[~efeds_candidates["is_contaminant"]]


@pytest.fixture(scope="module")
def erass1():
    catalog = make_catalog(N_PARENTS, survey="erass1_survey", random_state=SEED,
                           contaminants=True)
    per_parent = parent_density_deg2("erass1_survey", contaminants=True)
    return catalog[catalog["detected"]], per_parent * catalog["detected"].mean()


# ----------------------------------------------------------------- eFEDS


def test_efeds_density_of_candidates(efeds):
    # Liu et al. 2022 (A&A 661, A2): 542 extended-source candidates in ~140 deg^2,
    # 3.9 +- 0.6 per deg^2 (the threshold is calibrated to this density).
    catalog, per_parent = efeds
    assert per_parent * catalog["detected"].mean() == pytest.approx(3.9, abs=0.6)


@pytest.mark.xfail(strict=True, reason="measured 0.30 (seed 2026; 0.29-0.31 on other "
                   "seeds): published L-M relations leave too many groups detected at "
                   "z < 0.2. The +-0.02 ignores eFEDS's sample variance: counted, one "
                   "such field shows a median >= 0.35 with p = 0.003-0.02 (~2 sigma); "
                   "docs/simulator.md, 'Where the simulator still disagrees'")
def test_efeds_median_redshift_of_true_clusters(efeds_clusters):
    # Chiu et al. 2022 (A&A 661, A11), abstract: median z 0.35 of the 434 optically
    # confirmed clusters.
    assert efeds_clusters["z"].median() == pytest.approx(0.35, abs=0.02)


@pytest.mark.xfail(strict=True, reason="measured 0.30 (seed 2026): the low-z group "
                   "excess; with the field's sample variance p = 0.02-0.03 (~2 sigma); "
                   "docs/simulator.md, 'Where the simulator still disagrees'")
def test_efeds_share_of_true_clusters_below_z_0p2(efeds_clusters):
    # Liu et al. 2022 / Chiu et al. 2022: 94 of the 542 candidates lie below z = 0.2,
    # so at most 94 / 434 = 0.21 of the true clusters do.
    assert (efeds_clusters["z"] < 0.2).mean() <= 0.21


def test_efeds_median_mass_of_detected_clusters(efeds_clusters):
    # Chiu et al. 2022: median M500 ~1e14 Msun/h of the eFEDS sample, 1.37e14 Msun
    # for h = 0.7.
    assert efeds_clusters["log10_M500c"].median() == pytest.approx(np.log10(1.37e14),
                                                                   abs=0.05)


def test_efeds_contaminant_share(efeds_candidates):
    # Klein et al. 2022 (MNRAS 510, 3335): 17 +- 3% of the eFEDS candidates are
    # contaminants; Liu et al. 2022: ~20%.
    assert 0.17 <= efeds_candidates["is_contaminant"].mean() <= 0.21


def test_efeds_contaminants_carry_a_counterparts_redshift(efeds_candidates):
    # A contaminant gets the redshift of the system the optical follow-up finds along
    # its line of sight (Klein et al. 2022), not that of a random halo in the volume
    # (median 0.88 before): the real candidates' median, contaminants included, is
    # 0.35 (Liu et al. 2022).
    points = efeds_candidates[efeds_candidates["is_contaminant"]]
    assert 0.2 < points["z"].median() < 0.6
    assert efeds_candidates["z"].median() == pytest.approx(0.35, abs=0.05)


def test_f_cont_is_uniform_for_contaminants_and_small_for_clusters(efeds_candidates):
    # F_CONT is the share of random lines of sight with a counterpart at least as
    # rich (Klein et al. 2022): a p-value, uniform for a chance counterpart, small
    # for a real cluster.
    points = efeds_candidates[efeds_candidates["is_contaminant"]]
    clusters = efeds_candidates[~efeds_candidates["is_contaminant"]]
    assert stats.kstest(points["F_CONT"], "uniform").pvalue > 0.01
    assert clusters["F_CONT"].median() < 0.05
    assert ((clusters["F_CONT"] >= 0) & (clusters["F_CONT"] < 1)).all()


@pytest.mark.skipif(not Path(EFEDS_TABLE).is_file(),
                    reason="set SK_CLUSTERMASS_EFEDS_MASSTABLE to a local copy of "
                           "eFEDSmasstable.fits (inonchiu/eFEDSproducts; no licence "
                           "to redistribute)")
@pytest.mark.xfail(strict=True, reason="KS p ~ 3e-9 on 1,048,576 parents: the low-z "
                   "group excess (docs/simulator.md)")
def test_efeds_candidate_redshifts_match_the_real_542():
    from astropy.table import Table

    # Chiu et al. 2022, public mass table: Z_BEST_COMB of the 542 candidates.
    real = np.asarray(Table.read(EFEDS_TABLE)["Z_BEST_COMB"], dtype=float)
    catalog = make_catalog(N_PARENTS, survey="efeds_survey", random_state=SEED,
                           contaminants=True)
    simulated = catalog.loc[catalog["detected"], "z"]
    assert stats.ks_2samp(simulated, real).pvalue > 0.05


def _kt_precision(clusters):
    bands = clusters[[f"mu_cluster_band_{i}" for i in range(10)]].to_numpy()
    area_pix = np.pi * clusters["R500c_arcmin"] ** 2 / (24.0 / 60.0) ** 2
    return np.asarray(kt_relative_error(bands, DEFAULT_BAND_EDGES_KEV, clusters["kT"],
                                        clusters["mu_background_pixel"] * area_pix))


@pytest.mark.xfail(strict=True, reason="measured 2.9 keV (seed 11, 1,048,576 parents): "
                   "the Cramér-Rao > 2 sigma criterion admits twice as many clusters as "
                   "Liu et al. measured, on XMM-Newton's temperature scale; the like-for-"
                   "like comparison is the next test; docs/simulator.md, 'Temperatures'")
def test_efeds_mean_temperature_of_clusters_with_a_2_sigma_kt(efeds_clusters):
    # Liu et al. 2022: the 102 clusters with a > 2 sigma temperature have a mean kT
    # of ~2 keV. Here > 2 sigma: the Cramér-Rao error from the R500 counts.
    error = _kt_precision(efeds_clusters)
    assert efeds_clusters.loc[error < 0.5, "kT"].mean() == pytest.approx(2.0, abs=0.4)


def test_efeds_mean_erosita_temperature_of_the_102_best_measured_clusters(efeds):
    # Liu et al. 2022: eROSITA measured the temperature of 102 of the eFEDS clusters
    # (> 2 sigma), mean ~2 keV. Like for like: the 102 per 140 deg² simulated clusters
    # with the most precise temperatures (Cramér-Rao ranking), their kT put on
    # eROSITA's scale (Migkas et al. 2024: eROSITA measures 14-32% below XMM-Newton,
    # on whose scale the simulator's M-T relation of Arnaud et al. 2005 is).
    catalog, per_parent = efeds
    clusters = catalog[catalog["detected"] & ~catalog["is_contaminant"]]
    n_measured = round(102 * len(catalog) / (140.0 * per_parent))
    best = np.argsort(_kt_precision(clusters))[:n_measured]
    kt_erosita = erosita_temperature_kev(clusters["kT"].to_numpy()[best])
    assert kt_erosita.mean() == pytest.approx(2.0, abs=0.4)


# ----------------------------------------------------------------- eRASS1


def test_erass1_density(erass1):
    # Bulbul et al. 2024 (A&A 685, A106): 12,247 optically confirmed clusters in
    # 13,116 deg^2, 0.93 per deg^2 (calibrated to this density).
    _, density = erass1
    assert density == pytest.approx(0.93, abs=0.15)


def test_erass1_median_redshift(erass1):
    # Kluge et al. 2024 (eRASS1 identification): median z 0.31.
    candidates, _ = erass1
    assert candidates["z"].median() == pytest.approx(0.31, abs=0.03)


def test_erass1_high_redshift_share(erass1):
    # Kluge et al. 2024: 10% of the eRASS1 clusters lie above z = 0.72.
    candidates, _ = erass1
    assert 0.06 <= (candidates["z"] > 0.72).mean() <= 0.14


def test_erass1_purity(erass1):
    # Kluge et al. 2024: the primary eRASS1 sample is 86% pure (calibrated).
    candidates, _ = erass1
    assert 1 - candidates["is_contaminant"].mean() == pytest.approx(0.86, abs=0.04)


def test_erass1_selection_thresholds():
    # Bulbul et al. 2024: eRASS1 candidates have DET_LIKE >= 5 and EXT_LIKE >= 3.
    catalog = make_catalog(8192, survey="erass1_survey", random_state=SEED,
                           contaminants=True)
    detected = catalog[catalog["detected"]]
    assert (detected["DET_LIKE"] >= 5).all() and (detected["EXT_LIKE"] >= 3).all()
    assert (detected["F_CONT"] < 0.16).all()


# ----------------------------------------------------------------- physics pieces


def test_group_slope_steepens_below_the_break_and_is_continuous():
    rel = RELATIONS["lovisari15_groups"]
    at_break = luminosity_0p1_2p4_erg_s([rel.lm_break_msun * (1 - 1e-9),
                                         rel.lm_break_msun], 1.0, rel)
    assert at_break[0] == pytest.approx(at_break[1], rel=1e-6)
    low = luminosity_0p1_2p4_erg_s([1e13, 2e13], 1.0, rel)
    assert np.log10(low[1] / low[0]) / np.log10(2) == pytest.approx(1.66)
    single = RELATIONS["pratt09_malmquist_corrected"]
    assert luminosity_0p1_2p4_erg_s(3e14, 1.0, rel) == luminosity_0p1_2p4_erg_s(
        3e14, 1.0, single)


def test_default_relations_keep_one_power_law():
    # ScalingRelations() is the Pratt et al. 2009 BCES(Y|X) fit, unchanged.
    rel = ScalingRelations()
    assert rel.lm_slope_groups is None
    assert luminosity_0p1_2p4_erg_s(1e13, 1.0) == pytest.approx(
        1.03e44 * (1e13 / 2e14) ** 1.53)


def test_input_relation_with_group_slope_recovered_from_all_haloes(efeds):
    # The preset's input: Pratt et al. 2009 (Malmquist-corrected) above 1e14 Msun,
    # Lovisari et al. 2015's group slope 1.66 below.
    catalog, _ = efeds
    haloes = catalog[~catalog["is_contaminant"]]
    rel = RELATIONS["lovisari15_groups"]
    y = np.log10(haloes["Lx_0p1_2p4"] * haloes["E_z"] ** -rel.lm_ez_power)
    x = np.log10(haloes["M500c"])
    for low, high, slope in ((13.0, 14.0, 1.66), (14.0, 15.5, 1.62)):
        inside = (x >= low) & (x < high)
        assert stats.linregress(x[inside], y[inside]).slope == pytest.approx(slope, abs=0.06)


def test_chance_counterparts_favour_low_redshift():
    # A fixed physical aperture covers more sky at low z: the counterpart of a random
    # line of sight sits lower than a volume-weighted halo above the same mass.
    uniform = np.random.default_rng(0).random((20000, 2))
    z, log_m = chance_counterpart(uniform, OpticalConfirmation(), DEFAULT_COSMOLOGY,
                                  LinearPowerSpectrum())
    assert np.median(z) < 0.5 and log_m.min() >= 14.0
    deeper = chance_counterpart(uniform, replace(OpticalConfirmation(), min_log10_mass=13.5),
                                DEFAULT_COSMOLOGY, LinearPowerSpectrum())[0]
    assert np.median(deeper) != pytest.approx(np.median(z), abs=1e-3)


def test_f_cont_falls_with_mass():
    f = contamination_probability([13.0, 13.5, 14.0, 14.5], np.full(4, 0.3),
                                  OpticalConfirmation(), DEFAULT_COSMOLOGY,
                                  LinearPowerSpectrum())
    assert (np.diff(f) < 0).all() and 0 <= f.min() and f.max() < 1


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"max_f_cont": 0.0}, "max_f_cont"),
    ({"redshift_range": (0.5, 0.1)}, "redshift_range"),
    ({"aperture_mpc": -1.0}, "aperture_mpc"),
    ({"min_log10_mass": 16.0}, "min_log10_mass < max_log10_mass"),
])
def test_optical_confirmation_errors_say_what_is_wrong(kwargs, match):
    with pytest.raises(ValueError, match=match):
        OpticalConfirmation(**kwargs)


def test_kt_error_falls_as_one_over_root_counts():
    edges = np.asarray(DEFAULT_BAND_EDGES_KEV)
    shape = np.exp(-0.5 * (edges[1:] + edges[:-1]) / 3.0)
    shape /= shape.sum()  # counts per band of one photon
    error = kt_relative_error(np.outer([100.0, 400.0], shape), edges, [3.0, 3.0], [0.0, 0.0])
    assert error[0] == pytest.approx(2 * error[1])
    with_background = kt_relative_error(np.outer([100.0], shape), edges, [3.0], [300.0])
    assert with_background[0] == pytest.approx(2 * error[0])
