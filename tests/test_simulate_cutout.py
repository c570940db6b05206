"""Cut-outs as a survey makes them: centred on the detection, with an exposure gradient."""

import numpy as np
import pytest

from sk_clustermass.datasets import make_catalog, make_clusters
from sk_clustermass.simulate import OpticalConfirmation, get_survey
from sk_clustermass.simulate._cutout import detection_centroid_offset, exposure_tilt

CENTRE = 24.5
POSITIONAL = {"x_pix", "y_pix", "position_error_arcsec", "centre_offset_arcsec",
              "exposure_gradient_per_deg", "optical_offset_kpc"}
#: Mean X-ray-to-optical centre offset of 87 massive eFEDS clusters, kpc (Seppi et al.
#: 2023, A&A 671, A57: 76.3 +30.1 -27.1 kpc).
SEPPI23_MEAN_OFFSET_KPC = 76.3


@pytest.fixture(scope="module")
def pair():
    """The same parents, cut out around the truth and around the detection."""
    settings = {"survey": "efeds_survey", "random_state": 7, "return_catalog": True,
                "exposure_gradient": False}
    truth = make_clusters(256, centre_on="truth", **settings)
    detection = make_clusters(256, centre_on="detection", **settings)
    return truth, detection


def _photon_centroid_offset(images, radius=5.0):
    """Distance (pixels) of the photon centroid inside ``radius`` from the image centre."""
    counts = images.sum(axis=1)
    grid = np.arange(counts.shape[-1]) - CENTRE
    inside = grid[None, :] ** 2 + grid[:, None] ** 2 <= radius**2
    weights = counts * inside
    total = weights.sum(axis=(1, 2))
    x = (weights * grid[None, None, :]).sum(axis=(1, 2)) / total
    y = (weights * grid[None, :, None]).sum(axis=(1, 2)) / total
    return np.hypot(x, y)


def test_presets_centre_on_the_detection_and_plain_surveys_on_the_truth():
    plain = make_catalog(64, survey="efeds", random_state=0)
    assert "centre_offset_arcsec" not in plain.columns
    preset = make_catalog(256, survey="efeds_survey", random_state=0)
    assert (preset["centre_offset_arcsec"] > 0).all()
    assert (preset["exposure_gradient_per_deg"] > 0).all()


def test_centring_moves_positions_only(pair):
    (_, y_truth, cat_truth), (_, y_det, cat_det) = pair
    np.testing.assert_array_equal(y_truth, y_det)
    same = [name for name in cat_truth.columns
            if name not in POSITIONAL and not name.startswith(("counts", "n_agn", "net",
                                                                "mu_agn", "mu_cluster_image",
                                                                "background_aperture"))]
    for name in same:
        np.testing.assert_array_equal(cat_truth[name], cat_det[name], err_msg=name)
    assert "centre_offset_arcsec" not in cat_truth.columns  # no cut-out effect at all
    assert (cat_det["centre_offset_arcsec"] > 0).all()
    # With the truth the gas sits at its offset from the halo (image) centre.
    truth_offset = np.hypot(cat_truth["x_pix"] - CENTRE, cat_truth["y_pix"] - CENTRE)
    np.testing.assert_allclose(truth_offset * 24.0 / 60.0, cat_truth["Xoff_arcmin"],
                               rtol=1e-6, atol=1e-9)


def test_relaxed_clusters_sit_within_their_position_error(pair):
    _, (_, _, catalog) = pair
    relaxed = catalog[catalog["morphology_class"] == 1]
    assert len(relaxed) > 50
    pulls = np.concatenate([(relaxed["x_pix"] - CENTRE), (relaxed["y_pix"] - CENTRE)])
    pulls = pulls * 24.0 / np.tile(relaxed["position_error_arcsec"], 2)
    assert np.std(pulls) == pytest.approx(1.0, abs=0.15)


def test_detection_centring_brings_disturbed_emission_to_the_centre(pair):
    (X_truth, _, cat_truth), (X_det, _, _) = pair
    disturbed = (cat_truth["morphology_class"] == 2).to_numpy()
    assert disturbed.sum() > 15
    truth = _photon_centroid_offset(X_truth["images"][disturbed])
    detection = _photon_centroid_offset(X_det["images"][disturbed])
    assert np.median(detection) < 0.8 * np.median(truth)


def test_position_error_follows_centroid_statistics():
    base = {"x_pix": np.zeros(3), "y_pix": np.zeros(3), "rc_arcmin": np.full(3, 0.5),
            "mu_cluster_r500": np.full(3, 100.0), "mu_central_agn": np.zeros(3),
            "_second_ratio": np.zeros(3), "mu_detection_background": np.zeros(3),
            "mu_detection_source": np.array([25.0, 100.0, 400.0])}
    kwargs = {"psf_core_arcsec": 8.64, "psf_alpha": 1.5, "pixel_arcsec": 24.0,
              "aperture_arcmin": 1.0}
    sigma = detection_centroid_offset(base, np.zeros((3, 2)), **kwargs)["sigma_arcsec"]
    np.testing.assert_allclose(sigma[:2] / sigma[1:], [2.0, 2.0])  # 1 / sqrt(counts)
    noisy = dict(base, mu_detection_background=np.full(3, 100.0))
    assert (detection_centroid_offset(noisy, np.zeros((3, 2)), **kwargs)["sigma_arcsec"]
            > sigma).all()
    clump = dict(base, _second_ratio=np.ones(3), _second_x=np.full(3, 4.0),
                 _second_y=np.zeros(3))
    shift = detection_centroid_offset(clump, np.zeros((3, 2)), **kwargs)
    np.testing.assert_allclose(shift["dx"], 2.0)  # half the flux in the clump


def test_exposure_tilt_is_one_at_the_centre_and_log_linear():
    tilt = exposure_tilt(np.array([[0.4, -0.2]]), 50, 24.0)
    assert tilt[0, 24:26, 24:26].mean() == pytest.approx(1.0, abs=1e-3)
    log_tilt = np.log(tilt[0])
    # ln(exposure) changes by the gradient times the distance: 49 px * 24" = 0.3267 deg.
    assert log_tilt[0, -1] - log_tilt[0, 0] == pytest.approx(0.4 * 49 * 24 / 3600)
    assert log_tilt[-1, 0] - log_tilt[0, 0] == pytest.approx(-0.2 * 49 * 24 / 3600)


def test_exposure_gradient_statistics_follow_the_survey():
    catalog = make_catalog(4096, survey="efeds_survey", random_state=3, centre_on="truth")
    survey = get_survey("efeds")
    expected = survey.exposure_scatter_ln / survey.exposure_correlation_deg
    # The magnitude of a 2-d Gaussian vector has a Rayleigh distribution, mean sigma sqrt(pi/2).
    assert catalog["exposure_gradient_per_deg"].mean() == pytest.approx(
        expected * np.sqrt(np.pi / 2), rel=0.05)
    flat = make_catalog(64, survey="efeds_survey", random_state=3, scatter=False)
    assert (flat["exposure_gradient_per_deg"] == 0).all()


def test_exposure_gradient_shows_in_the_background_counts():
    settings = {"survey": "efeds_survey", "random_state": 11, "return_catalog": True,
                "centre_on": "truth", "n_samples": 384}
    X_flat, _, _ = make_clusters(exposure_gradient=False, **settings)
    X_tilt, _, catalog = make_clusters(exposure_gradient=True, **settings)
    # Outer columns only (the cluster sits in the middle): right minus left over both.
    def asymmetry(images):
        counts = images.sum(axis=(1, 2))
        left, right = counts[:, :15].sum(axis=1), counts[:, -15:].sum(axis=1)
        return (right - left) / (right + left)

    change = asymmetry(X_tilt["images"]) - asymmetry(X_flat["images"])
    # Expected: tanh of the gradient times the distance between the strips' centres.
    lever_deg = 35 * 24 / 3600 / 2
    gx = _gradient_x(catalog, settings)
    predicted = np.tanh(gx * lever_deg)
    slope = np.polyfit(predicted, change, 1)[0]
    assert slope == pytest.approx(1.0, abs=0.3)
    np.testing.assert_allclose(X_tilt["exposure"], X_flat["exposure"])


def _gradient_x(catalog, settings):
    """The x component of the drawn gradient, recovered from the simulation's stream."""
    from sk_clustermass.simulate._random import (
        CUTOUT,
        BlockRandom,
        root_seed_sequence,
    )

    root = root_seed_sequence(settings["random_state"])
    ids = catalog["sim_id"].to_numpy()
    rand = BlockRandom(root, 0, int(ids.max()) + 1, CUTOUT)
    normal = rand.apply(lambda rng, size: rng.standard_normal((size, 4)))
    survey = get_survey("efeds")
    return normal[ids, 2] * survey.exposure_scatter_ln / survey.exposure_correlation_deg


def _kpc_per_pixel(catalog):
    return catalog["R500c_kpc"] / catalog["R500c_arcmin"] * 24.0 / 60.0


def test_optical_centring_moves_the_cutout_by_the_optical_offset_only():
    settings = {"survey": "efeds_survey", "random_state": 5}
    detection = make_catalog(4096, centre_on="detection", **settings)
    optical = make_catalog(4096, centre_on="optical", **settings)
    for name in detection.columns:
        if name not in POSITIONAL:
            np.testing.assert_array_equal(detection[name], optical[name], err_msg=name)
    np.testing.assert_array_equal(detection["position_error_arcsec"],
                                  optical["position_error_arcsec"])
    assert (detection["optical_offset_kpc"] == 0).all()
    moved = np.hypot(optical["x_pix"] - detection["x_pix"], optical["y_pix"] - detection["y_pix"])
    np.testing.assert_allclose(moved * _kpc_per_pixel(optical), optical["optical_offset_kpc"],
                               rtol=1e-9, atol=1e-9)
    # The default offsets reproduce the published mean (4096 draws: ~2% statistical error).
    assert optical["optical_offset_kpc"].mean() == pytest.approx(SEPPI23_MEAN_OFFSET_KPC,
                                                                 rel=0.06)
    # A quarter are miscentred (Zhang et al. 2019): beyond 100 kpc, which a 20 kpc
    # Rayleigh offset reaches with probability exp(-12.5) only.
    far = (optical["optical_offset_kpc"] > 100).mean()
    expected = 0.25 * (1 + 100 / 115) * np.exp(-100 / 115)  # Gamma(2) survival
    assert far == pytest.approx(expected, abs=0.02)


def test_optical_centring_moves_the_emission_off_the_image_centre():
    settings = {"survey": "efeds_survey", "random_state": 7, "return_catalog": True,
                "exposure_gradient": False, "n_samples": 192}
    X_det, _, _ = make_clusters(centre_on="detection", **settings)
    X_opt, _, catalog = make_clusters(centre_on="optical", **settings)
    offset_pix = catalog["optical_offset_kpc"] / _kpc_per_pixel(catalog)
    far = (offset_pix > 1.5).to_numpy()
    assert far.sum() > 10
    detection = _photon_centroid_offset(X_det["images"][far])
    optical = _photon_centroid_offset(X_opt["images"][far])
    assert np.median(optical) > np.median(detection) + 0.5


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"survey": "efeds", "centre_on": "detection"}, "needs the eSASS-like selection"),
    ({"survey": "efeds", "centre_on": "optical"}, "needs the eSASS-like selection"),
    ({"survey": "efeds_survey", "centre_on": "middle"}, "centre_on"),
])
def test_cutout_errors_say_how_to_fix(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_catalog(64, random_state=0, **kwargs)


@pytest.mark.parametrize(("field", "value"), [
    ("well_centred_fraction", 1.5), ("well_centred_offset_kpc", -1.0),
    ("miscentred_offset_kpc", -5.0),
])
def test_optical_offset_model_rejects_bad_values(field, value):
    with pytest.raises(ValueError, match=f"OpticalConfirmation.{field}"):
        OpticalConfirmation(**{field: value})
