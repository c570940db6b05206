"""Tests of the aperture photometry and the scaling-relation baselines."""

from __future__ import annotations

import functools

import joblib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from sk_clustermass import as_inputs
from sk_clustermass.baselines import (
    CountRateRelation,
    LuminosityRelation,
    _aperture,
    redshifted_ecf,
)
from sk_clustermass.baselines._aperture import aperture_counts, aperture_masks
from sk_clustermass.baselines._relations import intrinsic_scatter
from sk_clustermass.metrics import SCORERS, binned_metrics, scatter_dex, scatter_scorer
from sk_clustermass.simulate import (
    band_response,
    ecf_counts_cm2_erg,
    efunc,
    get_survey,
    luminosity_distance_cm,
    temperature_kev,
    thermal_count_rates,
)

SIZE = 15  # toy images: 15 x 15 pixels of 1 arcmin, so arcmin and pixels coincide
TOY = {"pixel_size_arcsec": 60.0, "aperture_radius_arcmin": 3.0,
       "background_annulus_arcmin": (5.0, None), "exposure_s": 1000.0}
TWO_BANDS_KEV = (0.5, 1.2, 2.0)


def _render(counts: np.ndarray, rng: np.random.Generator, background: float = 0.5):
    """Poisson images of compact Gaussian blobs (sigma 0.7 px) on a flat background.

    ``counts`` is (n, n_bands) expected source counts; >99.9% fall in a 3 px aperture.
    """
    offset = np.arange(SIZE) - (SIZE - 1) / 2.0
    profile = np.exp(-(offset[:, None] ** 2 + offset[None, :] ** 2) / (2 * 0.7**2))
    profile /= profile.sum()
    expected = counts[:, :, None, None] * profile + background
    return rng.poisson(expected).astype(np.float32)


def power_law_clusters(n: int, seed: int, sigma_dex: float, beta: float = 1.5,
                       ez_power: float = 2.0, n_bands: int = 1, depth: float = 1.0):
    """Count rate CR = 50 (M / 1e14)^beta E(z)^ez_power (dL / Gpc)^-2, log-normal scatter.

    Without scatter at least ~1900 counts per cluster in 1 ks: Poisson noise is small.
    """
    rng = np.random.default_rng(seed)
    log_mass = rng.uniform(13.5, 15.0, n)
    z = rng.uniform(0.2, 0.5, n)
    dl_gpc = luminosity_distance_cm(z) / 3.0856775814913673e27
    log_rate = (np.log10(50.0) + beta * (log_mass - 14.0) + ez_power * np.log10(efunc(z))
                - 2.0 * np.log10(dl_gpc) + rng.normal(0.0, sigma_dex, n))
    counts = np.repeat(10.0**log_rate[:, None] * 1000.0 * depth / n_bands, n_bands, axis=1)
    return as_inputs(_render(counts, rng), z), log_mass


def thermal_clusters(n: int, seed: int, sigma_dex: float = 0.0, kt_kev=None):
    """Clusters following L[0.5-2] = 6e43 E(z)^(7/3) (M / 2e14)^1.53 and the Arnaud M-T.

    Counts through the simulator's own response (eFEDS ARF and nH) in two bands.
    """
    rng = np.random.default_rng(seed)
    log_mass = rng.uniform(13.5, 15.0, n)
    z = rng.uniform(0.1, 0.8, n)
    ez = efunc(z)
    mass = 10.0**log_mass
    luminosity = 6e43 * ez ** (7 / 3) * (mass / 2e14) ** 1.53 * 10 ** rng.normal(0, sigma_dex, n)
    kt = temperature_kev(mass, ez) if kt_kev is None else np.full(n, kt_kev)
    survey = get_survey("efeds")
    response = band_response(TWO_BANDS_KEV, survey.nh_cm2, survey.effective_area)
    rates = thermal_count_rates(luminosity, kt, z, luminosity_distance_cm(z), response)
    X = as_inputs(_render(rates * 3e5, rng), z)  # 300 ks: over 1000 counts each
    return X, log_mass, luminosity, kt


def _luminosity_model(**params) -> LuminosityRelation:
    return LuminosityRelation(**{**TOY, "exposure_s": 3e5, "band_edges_kev": TWO_BANDS_KEV,
                                 **params})


@pytest.fixture(scope="module")
def toy():
    return power_law_clusters(120, seed=3, sigma_dex=0.1, n_bands=3)


# ---------------------------------------------------------------------- photometry
def test_aperture_counts_exact_on_known_image():
    images = np.zeros((2, 2, 9, 9), dtype=np.float32)
    images[0, 0, 4, 4] = 7.0          # centre: inside r <= 1
    images[0, 1, 3, 4] = 5.0          # r = 1: inside (boundary included)
    images[0, 0, 3, 3] = 100.0        # r = sqrt(2): outside the aperture and the annulus
    images[1, :, 0, 0] = 3.0          # corner: in the annulus only
    counts = aperture_counts(images, radius=1.0, annulus=(3.0, None))
    np.testing.assert_array_equal(counts.aperture, [[7.0, 5.0], [0.0, 0.0]])
    assert counts.n_aperture == 5 and counts.n_annulus == 56
    np.testing.assert_array_equal(counts.background, [[0.0, 0.0], [3 / 56, 3 / 56]])
    np.testing.assert_array_equal(counts.net, [12.0, -2 * 5 * 3 / 56])


def test_masks_follow_the_pixel_convention():
    # even images: the centre lies between pixels, the 4 nearest are at r = 0.707
    aperture, annulus = aperture_masks((50, 50), 0.75, 20.0, 25.0)
    assert np.argwhere(aperture).tolist() == [[24, 24], [24, 25], [25, 24], [25, 25]]
    offset = np.arange(50) - 24.5
    r = np.hypot(offset[:, None], offset[None, :])
    np.testing.assert_array_equal(annulus, (r >= 20.0) & (r < 25.0))


def test_flat_background_is_removed_exactly():
    images = np.full((3, 2, 21, 21), 0.5, dtype=np.float32)
    images[:, :, 10, 10] += np.array([[10.0, 3.0], [0.0, 1.0], [250.0, 0.0]], np.float32)
    counts = aperture_counts(images, radius=2.5, annulus=(6.0, 9.0))
    np.testing.assert_array_equal(counts.background, np.full((3, 2), 0.5))
    np.testing.assert_array_equal(counts.net, [13.0, 1.0, 250.0])
    np.testing.assert_array_equal(counts.background_in_aperture, np.full(3, counts.n_aperture))


def test_band_selection_and_chunking(monkeypatch):
    rng = np.random.default_rng(0)
    images = rng.poisson(2.0, (7, 4, 11, 11)).astype(np.float32)
    whole = aperture_counts(images, 2.0, (4.0, None), bands=[1, 3])
    monkeypatch.setattr(_aperture, "_CHUNK", 3)
    chunked = aperture_counts(images, 2.0, (4.0, None), bands=[1, 3])
    np.testing.assert_array_equal(whole.aperture, chunked.aperture)
    np.testing.assert_array_equal(whole.aperture, aperture_counts(images[:, [1, 3]], 2.0,
                                                                  (4.0, None)).aperture)


@settings(max_examples=25, deadline=None)
@given(level=st.floats(0.0, 50.0), seed=st.integers(0, 2**16))
def test_adding_a_flat_level_leaves_net_counts_unchanged(level, seed):
    images = np.random.default_rng(seed).poisson(3.0, (2, 2, 13, 13)).astype(np.float64)
    plain = aperture_counts(images, 2.0, (4.0, None)).net
    raised = aperture_counts(images + level, 2.0, (4.0, None)).net
    np.testing.assert_allclose(raised, plain, atol=1e-9 * (1 + level) * images.size)


def test_empty_aperture_or_annulus_raises():
    images = np.zeros((1, 1, 10, 10))
    with pytest.raises(ValueError, match="aperture"):
        aperture_counts(images, 0.5, (3.0, None))
    with pytest.raises(ValueError, match="annulus"):
        aperture_counts(images, 1.0, (8.0, None))


# ---------------------------------------------------------------------- count rate
def test_count_rate_relation_recovers_slope_and_scatter():
    beta, sigma, variance = 1.5, 0.15, 1.5**2 / 12  # log M uniform over 1.5 dex
    X, y = power_law_clusters(2000, seed=0, sigma_dex=sigma, beta=beta)
    model = CountRateRelation(**TOY, width="constant").fit(X, y)
    # least squares of log M on log CR attenuates the slope 1 / beta by the scatter
    slope = beta * variance / (beta**2 * variance + sigma**2)
    scatter = np.sqrt(variance * sigma**2 / (beta**2 * variance + sigma**2))
    assert model.feature_names_ == ["log10_rate_dl2", "log10_ez", "log10_one_plus_z"]
    assert model.coef_[0] == pytest.approx(slope, rel=0.03)
    assert model.scatter_ == pytest.approx(scatter, rel=0.06)
    X_test, y_test = power_law_clusters(1000, seed=1, sigma_dex=sigma, beta=beta)
    mean, std = model.predict(X_test, return_std=True)
    assert scatter_dex(y_test, mean) == pytest.approx(scatter, rel=0.08)
    assert abs(np.mean(mean - y_test)) < 0.01
    np.testing.assert_array_equal(std, model.scatter_)
    assert model.n_clipped_ == 0


def test_intrinsic_scatter_removes_known_measurement_errors():
    rng = np.random.default_rng(5)
    noise = rng.uniform(0.0, 0.3, 20_000)
    residual = rng.normal(0.0, 1.0, noise.size) * np.sqrt(0.1**2 + noise**2)
    assert intrinsic_scatter(residual, noise**2, 0) == pytest.approx(0.1, rel=0.05)
    assert intrinsic_scatter(residual, 4.0 * noise**2 + 0.1, 0) == 0.0
    assert intrinsic_scatter(np.zeros(10), np.ones(10), 2) == 0.0


@pytest.mark.parametrize("relation", [CountRateRelation, "luminosity"])
def test_poisson_widths_follow_the_counts(relation):
    if relation == "luminosity":
        relation = functools.partial(LuminosityRelation, temperature="fixed",
                                     band_edges_kev=(0.5, 2.0))
    # from ~6 to ~4000 source counts on ~14 background counts in the aperture
    X, y = power_law_clusters(3000, seed=6, sigma_dex=0.05, depth=0.005)
    X_test, y_test = power_law_clusters(3000, seed=7, sigma_dex=0.05, depth=0.005)
    poisson = relation(**TOY).fit(X, y)
    constant = relation(**TOY, width="constant").fit(X, y)
    # 0.05 dex of count scatter is 0.05 / 1.5 dex in mass; the rest is Poisson noise
    assert poisson.intrinsic_scatter_ == pytest.approx(0.05 / 1.5, abs=0.007)
    assert poisson.intrinsic_scatter_ < 0.7 * poisson.scatter_
    mean, std = poisson.predict(X_test, return_std=True)
    assert np.corrcoef(std, y_test)[0, 1] < -0.5  # the faint, light clusters are wider
    np.testing.assert_array_equal(constant.predict(X_test, return_std=True)[1],
                                  constant.scatter_)
    honest = binned_metrics(y_test, mean, std, bins=3, n_bootstrap=0)
    flat = binned_metrics(y_test, *constant.predict(X_test, return_std=True), bins=3,
                          n_bootstrap=0)
    np.testing.assert_allclose(honest["coverage_68"], 0.68, atol=0.06)
    assert (flat["coverage_68"] - 0.68).abs().max() > 0.1
    with pytest.raises(ValueError, match="width='gaussian' is not supported"):
        relation(**TOY, width="gaussian").fit(X, y)


def test_count_rate_without_scatter_inverts_the_relation():
    X, y = power_law_clusters(300, seed=2, sigma_dex=0.0, beta=1.5, ez_power=2.0)
    model = CountRateRelation(**TOY, redshift_terms=("ez",)).fit(X, y)
    assert model.coef_[0] == pytest.approx(1 / 1.5, rel=0.01)
    assert -model.coef_[1] / model.coef_[0] == pytest.approx(2.0, abs=0.15)
    # all the counts fall in the aperture: the intercept is that of the toy relation
    assert model.intercept_ == pytest.approx(14.0 - np.log10(50.0) / 1.5, abs=0.01)
    rate = model.count_rate(X)
    assert rate.shape == (300,) and (rate > 1.0).all()


def test_net_counts_are_floored():
    X, y = power_law_clusters(40, seed=4, sigma_dex=0.1)
    X["images"][:5] = 0.0
    X["images"][:5, :, 0, 0] = 50.0   # background only: net counts < 0
    model = CountRateRelation(**TOY, net_counts_floor=2.0).fit(X, y)
    assert model.n_clipped_ == 5
    np.testing.assert_allclose(model.count_rate(X)[:5], 2.0 / TOY["exposure_s"])
    assert np.isfinite(model.predict(X)).all()


# ---------------------------------------------------------------------- luminosity
def test_redshifted_ecf_agrees_with_the_simulator_at_z0():
    kt = np.array([1.0, 3.0, 8.0])
    ecf = redshifted_ecf(kt, np.full(3, 1e-8), [[0.5, 2.0]])
    np.testing.assert_allclose(ecf, ecf_counts_cm2_erg(kt), rtol=1e-6)
    # summing two adjacent bands equals the one wide band
    split = redshifted_ecf(kt, np.full(3, 0.3), [[0.5, 1.2], [1.2, 2.0]])
    np.testing.assert_allclose(split, redshifted_ecf(kt, np.full(3, 0.3), [[0.5, 2.0]]),
                               rtol=2e-3)


def test_luminosity_relation_recovers_luminosity_temperature_and_relation():
    X, y, luminosity, kt = thermal_clusters(400, seed=0)
    model = _luminosity_model().fit(X, y)
    assert 1 < model.n_iter_ < model.max_iter
    estimate, kt_estimate = model.luminosity(X, return_kt=True)
    np.testing.assert_allclose(estimate, luminosity, rtol=0.1)
    assert np.median(np.abs(np.log10(estimate / luminosity))) < 0.01
    np.testing.assert_allclose(kt_estimate, kt, rtol=0.05)
    assert model.slope_ == pytest.approx(1 / 1.53, rel=0.02)
    assert model.ez_power_ == pytest.approx(7 / 3, abs=0.02)
    assert model.intercept_ == pytest.approx(np.log10(2e14) - np.log10(0.6) / 1.53, abs=0.005)
    assert model.scatter_ < 0.005  # Poisson noise only


def test_luminosity_relation_fixed_temperature_and_fixed_evolution():
    X, y, luminosity, _ = thermal_clusters(200, seed=1, sigma_dex=0.1, kt_kev=4.0)
    model = _luminosity_model(temperature="fixed", kt_kev=4.0, ez_power=7 / 3).fit(X, y)
    assert model.n_iter_ == 1 and model.ez_power_ == 7 / 3
    np.testing.assert_allclose(model.luminosity(X), luminosity, rtol=0.1)
    # with L known at fixed mass scatter 0.1 dex, the fit is attenuated like the count rate
    variance = 1.5**2 / 12
    expected = 1.53 * variance / (1.53**2 * variance + 0.1**2)
    assert model.slope_ == pytest.approx(expected, rel=0.06)


# ---------------------------------------------------------------------- simulator
@pytest.mark.slow
def test_baselines_on_simulated_efeds_clusters():
    pytest.importorskip("sk_clustermass.simulate")
    from sk_clustermass.simulate import make_clusters

    X, y, catalog = make_clusters(800, survey="efeds", random_state=0, return_catalog=True)
    train, test = np.arange(400), np.arange(400, 800)
    for model in (CountRateRelation(), LuminosityRelation()):
        model.fit(X[train], y[train])
        mean, std = model.predict(X[test], return_std=True)
        # about 0.25 dex on detected eFEDS-depth clusters; the CNN has to beat this
        assert scatter_dex(y[test], mean) < 0.35
        assert abs(np.mean(mean - y[test])) < 0.08
        # heavy-tailed residuals: the rms width covers more than 68% of the clusters
        assert 0.6 < np.mean(np.abs(mean - y[test]) <= std) < 0.9
    bright = (catalog["net_counts"].to_numpy() > 200)[test]
    log_l = np.log10(model.luminosity(X[test])[bright])
    log_l_true = np.log10(catalog["Lx_soft"].to_numpy()[test][bright])
    assert np.corrcoef(log_l, log_l_true)[0, 1] > 0.85
    # a 1.5' aperture holds less than the R500 luminosity of the catalogue
    assert -0.4 < np.median(log_l - log_l_true) < 0.0


# ----------------------------- sklearn contract (instance checks: test_contract.py)
ESTIMATORS = [
    pytest.param(lambda: CountRateRelation(**TOY), id="CountRateRelation"),
    pytest.param(lambda: LuminosityRelation(**TOY, band_edges_kev=(0.5, 1.0, 1.5, 2.0)),
                 id="LuminosityRelation"),
]


@pytest.mark.parametrize("factory", ESTIMATORS)
def test_fit_predict_contract(factory, toy, tmp_path):
    X, y = toy
    model = factory()
    with pytest.raises(NotFittedError):
        model.predict(X)
    assert model.fit(X, y) is model
    mean = model.predict(X)
    assert mean.shape == (len(y),) and mean.dtype == np.float64
    np.testing.assert_array_equal(clone(model).fit(X, y).predict(X), mean)  # deterministic
    assert model.score(X, y) > 0.8
    assert model.n_bands_in_ == 3
    joblib.dump(model, tmp_path / "model.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "model.joblib").predict(X), mean)


@pytest.mark.parametrize("factory", ESTIMATORS)
def test_pipeline_grid_search_and_cross_validation(factory, toy):
    X, y = toy
    pipe = Pipeline([("identity", FunctionTransformer()), ("relation", factory())])
    scores = cross_val_score(pipe, X, y, cv=KFold(3), scoring=scatter_scorer)
    assert scores.shape == (3,) and (scores < 0).all()
    search = GridSearchCV(pipe, {"relation__aperture_radius_arcmin": [2.0, 3.0]},
                          cv=KFold(3), scoring=SCORERS, refit="scatter").fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_nll"]).all()
    mean, std = search.best_estimator_.predict(X, return_std=True)
    assert mean.shape == std.shape == (len(y),)


# ---------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize(
    "params, match",
    [
        ({"aperture_radius_arcmin": 0.0}, "aperture_radius_arcmin must be a finite number > 0"),
        ({"background_annulus_arcmin": (2.0, None)}, "inside the aperture"),
        ({"background_annulus_arcmin": (5.0, 4.0)}, r"background_annulus_arcmin\[1\]"),
        ({"background_annulus_arcmin": 5.0}, "pair"),
        ({"background_annulus_arcmin": (12.0, None)}, "corners"),
        ({"bands": [0, 5]}, r"band indices in \[0, 3\)"),
        ({"survey": "rosat"}, "unknown survey"),
        ({"exposure_s": -1.0}, "exposure_s"),
        ({"redshift_terms": ("ez", "distance")}, "redshift_terms"),
    ],
)
def test_bad_parameters_raise(params, match, toy):
    X, y = toy
    with pytest.raises(ValueError, match=match):
        CountRateRelation(**{**TOY, **params}).fit(X, y)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"temperature": "spectral"}, "temperature"),
        ({"band_edges_kev": (0.5, 2.0)}, "n_bands \\+ 1 = 4"),
        ({"max_iter": 0}, "max_iter"),
        ({"kt_kev": 0.0}, "kt_kev"),
    ],
)
def test_bad_luminosity_parameters_raise(params, match, toy):
    X, y = toy
    with pytest.raises(ValueError, match=match):
        LuminosityRelation(**{**TOY, "band_edges_kev": (0.5, 1.0, 1.5, 2.0), **params}).fit(X, y)


def test_bad_data_raise_clear_errors(toy):
    X, y = toy
    model = CountRateRelation(**TOY)
    with pytest.raises(ValueError, match="negative"):
        model.fit(as_inputs(-X["images"], X["redshift"], counts=False), y)
    with pytest.raises(ValueError, match="120 clusters but y has 119"):
        model.fit(X, y[:-1])
    with pytest.raises(ValueError, match="more than 4 clusters"):
        model.fit(X[:4], y[:4])
    model.fit(X, y)
    with pytest.raises(ValueError, match="fitted on 3"):
        model.predict(as_inputs(X["images"][:, :2], X["redshift"]))
