"""Classical baselines: mass from a count-rate or a luminosity scaling relation.

Both estimators read the same ``X`` as :class:`~sk_clustermass.ClusterMassRegressor`
(photon-count cubes and redshifts), measure background-subtracted counts in an
aperture centred on the image (:mod:`sk_clustermass.baselines._aperture`) and fit a
log-linear relation for ``y = log10(M500c / Msun)`` by least squares:

:class:`CountRateRelation`
    ``log10 M = a + b log10(CR dL^2) + c log10 E(z) + d log10(1 + z)``, with ``CR`` the
    net count rate.
:class:`LuminosityRelation`
    count rate -> observed 0.5–2 keV flux -> rest-frame 0.5–2 keV luminosity
    (luminosity distance, K-correction of a bremsstrahlung spectrum at a temperature
    from the M–T relation or fixed), then ``log10 M = a + b [log10 L - c log10 E(z)]``.

The relation is fitted in the direction of the prediction (mass on observable), the
least-squares optimum for predicting masses of clusters drawn like the training
set; it is not the physical observable–mass relation, whose slope it attenuates.
``predict(X, return_std=True)`` returns a width per cluster: the intrinsic scatter of
the relation (fitted by maximum likelihood) and the Poisson error of the cluster's own
counts, added in quadrature (``width='poisson'``); or the residual scatter of the fit
for every cluster (``width='constant'``). The physics (distances, E(z), band response,
spectrum, K-correction, M–T relation, survey presets) comes from
:mod:`sk_clustermass.simulate`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from astropy.cosmology import FLRW
from numpy.typing import ArrayLike
from scipy.linalg import lstsq
from scipy.optimize import brentq
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from .._inputs import IMAGES_KEY, REDSHIFT_KEY, as_inputs, check_target
from .._utils import check_bool, check_choice, check_number
from ..instrument import DEFAULT_BAND_EDGES_KEV
from ..simulate import (
    ScalingRelations,
    Survey,
    band_response,
    efunc,
    get_survey,
    k_correction,
    luminosity_distance_cm,
    temperature_kev,
    thermal_count_rates,
)
from ._aperture import ApertureCounts, aperture_counts

__all__ = ["CountRateRelation", "LuminosityRelation", "redshifted_ecf"]

_GPC_CM = 3.0856775814913673e27
_L_PIVOT_ERG_S = 1e44
#: Temperatures from the M–T iteration are clipped to this range, keV (groups to the
#: hottest clusters; keeps the K-correction finite for wild first guesses).
KT_LIMITS_KEV = (0.3, 20.0)
REDSHIFT_TERMS = ("ez", "one_plus_z")
TEMPERATURE_MODES = ("mt_relation", "fixed")
WIDTHS = ("poisson", "constant")
#: The Poisson error of log10(net counts) is capped at this value (a 100% relative
#: error): below it the net counts are an upper limit and the log error meaningless.
MAX_LOG_COUNT_ERROR = 1.0 / np.log(10.0)


def redshifted_ecf(
    kt_kev: ArrayLike,
    z: ArrayLike,
    bands_kev: ArrayLike,
    flux_band_kev: tuple[float, float] = (0.5, 2.0),
    nh_cm2: float = 0.0,
    area_table: tuple[tuple[float, float], ...] | None = None,
) -> np.ndarray:
    """Count rate in observed bands per unit observed-frame energy flux, counts cm^2 / erg.

    The energy conversion factor of a bremsstrahlung spectrum at temperature ``kt_kev``
    seen at redshift ``z``: counts in all the bands ``bands_kev`` (observed frame,
    effective area and Galactic absorption included) over the unabsorbed energy flux
    in ``flux_band_kev`` (observed frame). At z = 0 with one band equal to
    ``flux_band_kev`` it is the simulator's
    :func:`~sk_clustermass.simulate.ecf_counts_cm2_erg`. Built from
    :func:`~sk_clustermass.simulate.thermal_count_rates` and
    :func:`~sk_clustermass.simulate.k_correction`; the simulator
    has no redshifted, multi-band ECF of its own.

    Parameters
    ----------
    kt_kev, z : array-like of shape (n,)
        Temperature in keV and redshift of each cluster.
    bands_kev : array-like of shape (n_bands, 2)
        Lower and upper edges of the observed bands that are summed, keV.
    flux_band_kev : tuple of float, default=(0.5, 2.0)
        Band of the energy flux, observed frame, keV.
    nh_cm2 : float, default=0.0
        Galactic hydrogen column absorbing the counts.
    area_table : tuple of (keV, cm^2) pairs, optional
        Effective area; the eROSITA ARF of the simulator by default.

    Returns
    -------
    ndarray of shape (n,)

    Examples
    --------
    >>> from sk_clustermass.baselines import redshifted_ecf
    >>> ecf = redshifted_ecf([5.0, 5.0], [0.01, 1.0], [[0.5, 2.0]])
    >>> (ecf / 1e12).round(2)
    array([1.2 , 1.22])
    """
    kt = np.atleast_1d(np.asarray(kt_kev, dtype=np.float64))
    redshift = np.atleast_1d(np.asarray(z, dtype=np.float64))
    bands = np.asarray(bands_kev, dtype=np.float64).reshape(-1, 2)
    extra = {} if area_table is None else {"area_table": area_table}
    # Contiguous band edges let one BandResponse serve every band; gaps are dropped.
    edges = np.unique(bands)
    response = band_response(edges, nh_cm2, **extra)
    keep = np.isin(edges[:-1], bands[:, 0])
    dl_cm = luminosity_distance_cm(redshift)
    luminosity = np.full(kt.shape, _L_PIVOT_ERG_S)
    rates = thermal_count_rates(luminosity, kt, redshift, dl_cm, response, flux_band_kev)
    flux = luminosity / (4.0 * np.pi * dl_cm**2 * k_correction(kt, redshift, flux_band_kev))
    return rates[:, keep].sum(axis=1) / flux


def _least_squares(design: np.ndarray, y: np.ndarray, fit_intercept: bool):
    """Ordinary least squares; returns (coef, intercept, residual scatter with ddof)."""
    n_samples, n_features = design.shape
    n_params = n_features + int(fit_intercept)
    if n_samples <= n_params:
        message = (
            f"fitting {n_params} coefficients needs more than {n_params} clusters; got "
            f"{n_samples}. Use more clusters or fewer redshift terms."
        )
        raise ValueError(message)
    matrix = np.column_stack([design, np.ones(n_samples)]) if fit_intercept else design
    solution, *_ = lstsq(matrix, y)
    residual = y - matrix @ solution
    scatter = float(np.sqrt(residual @ residual / (n_samples - n_params)))
    intercept = float(solution[-1]) if fit_intercept else 0.0
    return solution[:n_features], intercept, scatter


def intrinsic_scatter(residual: np.ndarray, noise_variance: np.ndarray, n_params: int) -> float:
    """Intrinsic scatter ``s`` for which ``sum(r^2 / (s^2 + v)) = n - n_params``.

    The moment (and, at fixed coefficients, maximum-likelihood) estimate of the
    scatter left once each residual's known measurement variance ``v`` is removed;
    0 when the measurement errors alone explain the residuals.
    """
    dof = residual.size - n_params
    squared = residual**2

    def excess(s2: float) -> float:
        return float(np.sum(squared / np.maximum(s2 + noise_variance, 1e-30)) - dof)

    upper = float(squared.sum() / dof)
    if upper == 0.0 or excess(0.0) <= 0.0:
        return 0.0
    return float(np.sqrt(brentq(excess, 0.0, upper, xtol=1e-12)))


class _ApertureRelation(RegressorMixin, BaseEstimator):
    """Shared machinery: parameter checks, aperture photometry, predictions with width."""

    def _resolved(self) -> tuple[Survey, float, float]:
        """Validate the shared parameters; return (survey, exposure_s, pixel_arcsec)."""
        survey = get_survey(self.survey)
        positive = {"low": 0, "low_inclusive": False}
        check_number("aperture_radius_arcmin", self.aperture_radius_arcmin, **positive)
        check_number("exposure_s", self.exposure_s, allow_none=True, **positive)
        check_number("pixel_size_arcsec", self.pixel_size_arcsec, allow_none=True, **positive)
        check_number("net_counts_floor", self.net_counts_floor, **positive)
        annulus = self.background_annulus_arcmin
        if not (isinstance(annulus, tuple | list) and len(annulus) == 2):
            message = (
                "background_annulus_arcmin must be a pair (inner, outer) in arcmin, outer "
                f"may be None (to the image corners); got {annulus!r}"
            )
            raise ValueError(message)
        inner, outer = annulus
        check_number("background_annulus_arcmin[0]", inner, **positive)
        check_number("background_annulus_arcmin[1]", outer, low=inner, low_inclusive=False,
                     allow_none=True)
        if inner < self.aperture_radius_arcmin:
            message = (
                f"the background annulus starts at {inner} arcmin, inside the aperture of "
                f"radius {self.aperture_radius_arcmin} arcmin: the cluster's own photons "
                "would be subtracted. Make background_annulus_arcmin[0] >= "
                "aperture_radius_arcmin."
            )
            raise ValueError(message)
        exposure = survey.exposure_vignetted_s if self.exposure_s is None else self.exposure_s
        pixel = survey.pixel_arcsec if self.pixel_size_arcsec is None else self.pixel_size_arcsec
        return survey, float(exposure), float(pixel)

    def _check_bands(self, n_bands: int) -> list[int] | None:
        if self.bands is None:
            return None
        bands = list(np.atleast_1d(self.bands))
        valid = all(isinstance(b, int | np.integer) and 0 <= b < n_bands for b in bands)
        if not bands or not valid or len(set(bands)) != len(bands):
            message = (
                f"bands must be None (all) or distinct band indices in [0, {n_bands}) for "
                f"images with {n_bands} bands; got {self.bands!r}"
            )
            raise ValueError(message)
        return [int(b) for b in bands]

    def _radii_pixels(self, shape: tuple[int, int], pixel_arcsec: float):
        """Aperture radius and annulus radii in pixels, checked against the image size."""
        to_pixels = 60.0 / pixel_arcsec
        inner, outer = self.background_annulus_arcmin
        corner_pix = np.hypot(shape[0] - 1, shape[1] - 1) / 2.0
        if inner * to_pixels > corner_pix:
            message = (
                f"the background annulus starts at {inner} arcmin but the corners of the "
                f"{shape[0]}x{shape[1]} images ({pixel_arcsec}\" pixels) lie "
                f"{corner_pix / to_pixels:.2f} arcmin from the centre; choose a smaller "
                "background_annulus_arcmin[0] (or set pixel_size_arcsec to the pixel size "
                "of these images)."
            )
            raise ValueError(message)
        annulus = (inner * to_pixels, None if outer is None else outer * to_pixels)
        return self.aperture_radius_arcmin * to_pixels, annulus

    def _photometry(self, X: Any, *, fitted: bool) -> tuple[ApertureCounts, np.ndarray, int]:
        """Validate X and measure the apertures: (counts, redshifts, number of bands)."""
        _, _, pixel_arcsec = self._resolved()
        X = as_inputs(X)
        images, redshift = X[IMAGES_KEY], X[REDSHIFT_KEY].astype(np.float64)
        n_bands = images.shape[1]
        if fitted and n_bands != self.n_bands_in_:
            message = (
                f"X has {n_bands} energy bands but the relation was fitted on "
                f"{self.n_bands_in_}; pass images with the same bands as in fit."
            )
            raise ValueError(message)
        radius, annulus = self._radii_pixels(images.shape[2:], pixel_arcsec)
        counts = aperture_counts(images, radius, annulus, self._check_bands(n_bands))
        return counts, redshift, n_bands

    def _net_rate(self, counts: ApertureCounts) -> np.ndarray:
        """Net count rate in counts/s, net counts clipped below at ``net_counts_floor``."""
        _, exposure, _ = self._resolved()
        return np.maximum(counts.net, self.net_counts_floor) / exposure

    def _log_count_error(self, counts: ApertureCounts) -> np.ndarray:
        """1-sigma Poisson error of log10(net counts) per cluster, capped."""
        source = counts.aperture.sum(axis=1)
        background = counts.n_aperture**2 * counts.background.sum(axis=1) / counts.n_annulus
        error = np.sqrt(np.maximum(source + background, 1.0))
        net = np.maximum(counts.net, self.net_counts_floor)
        return np.minimum(error / (net * np.log(10.0)), MAX_LOG_COUNT_ERROR)

    def _set_widths(self, counts: ApertureCounts, residual: np.ndarray, n_params: int) -> None:
        """``intrinsic_scatter_`` from the training residuals and their Poisson errors."""
        variance = (self._mass_per_count_dex() * self._log_count_error(counts)) ** 2
        self.intrinsic_scatter_ = intrinsic_scatter(residual, variance, n_params)

    def _start_fit(self, X: Any, y: Any) -> tuple[ApertureCounts, np.ndarray, np.ndarray]:
        check_choice("width", self.width, WIDTHS)
        counts, redshift, n_bands = self._photometry(X, fitted=False)
        y = check_target(y, len(redshift))
        self.n_bands_in_ = n_bands
        return counts, redshift, y

    def __sklearn_tags__(self):
        """Tags: ``X`` is dict-like (images in photon counts, >= 0, and redshift)."""
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.dict = True
        tags.input_tags.positive_only = True
        return tags

    def predict(self, X: Any, return_std: bool = False):
        """Predict ``log10(M500c / Msun)``, optionally with the width of the relation.

        Parameters
        ----------
        X : skorch.helper.SliceDict or dict
            ``X["images"]`` photon counts of shape (n_samples, n_bands, height,
            width) and ``X["redshift"]`` of shape (n_samples,).
        return_std : bool, default=False
            Also return the 1-sigma width of each cluster: with ``width='poisson'``
            ``sqrt(intrinsic_scatter_**2 + (b * e)**2)``, ``e`` the Poisson error of
            its log10 net counts and ``b`` the dex of mass per dex of counts; with
            ``width='constant'`` the residual scatter ``scatter_``.

        Returns
        -------
        mean : ndarray of shape (n_samples,)
            Predicted ``log10(M500c / Msun)``.
        std : ndarray of shape (n_samples,)
            Only with ``return_std=True``; in dex.
        """
        check_is_fitted(self)
        check_choice("width", self.width, WIDTHS)
        counts, redshift, n_bands = self._photometry(X, fitted=True)
        mean = self._predict_from(counts, redshift, n_bands)
        if not return_std:
            return mean
        if self.width == "constant":
            return mean, np.full(mean.shape, self.scatter_)
        poisson = self._mass_per_count_dex() * self._log_count_error(counts)
        return mean, np.sqrt(self.intrinsic_scatter_**2 + poisson**2)


class CountRateRelation(_ApertureRelation):
    """Mass from the background-subtracted count rate: an inverted count-rate relation.

    The net counts in an aperture centred on the image (background level from an
    outer annulus, per cluster, scaled to the aperture area), divided by the
    exposure, give the count rate ``CR`` in counts/s. The model is linear in logs::

        log10 M = a + b log10(CR (dL / Gpc)^2) + c log10 E(z) + d log10(1 + z)

    The inverse-square law is imposed (``dL`` from the cosmology, spanning 2.4 dex
    over z = 0.01–1.5, which a smooth function of ``1 + z`` cannot follow); E(z)
    takes up the self-similar evolution of the luminosity at fixed mass, and
    ``1 + z`` the drift of the band (K-correction and effective area) with redshift.
    Either redshift term can be dropped with ``redshift_terms``.

    Parameters
    ----------
    aperture_radius_arcmin : float, default=1.5
        Radius of the source aperture, centred on the image, in arcmin.
    background_annulus_arcmin : tuple of (float, float or None), default=(8.0, None)
        Inner and outer radius of the background annulus in arcmin; None reaches the
        image corners. The default suits the 20' (50 x 24") cut-outs.
    bands : sequence of int, optional
        Indices of the energy bands to count; all by default.
    survey : {'efeds', 'erass1'} or Survey, default='efeds'
        Survey preset for the exposure and pixel size when those are None.
    exposure_s : float, optional
        Exposure in s that turns counts into a rate; the survey's vignetted
        exposure by default (1.2 ks for eFEDS). With one exposure for all clusters
        it only moves the intercept.
    pixel_size_arcsec : float, optional
        Pixel size in arcsec; the survey's (24") by default.
    net_counts_floor : float, default=1.0
        Net counts below this value (including negative ones, where the background
        fluctuates above the source) are raised to it before the logarithm. Such
        clusters all get the same, low, count rate: the floor acts as an upper
        limit, and their masses are predicted near the low end.
    redshift_terms : tuple of {'ez', 'one_plus_z'}, default=('ez', 'one_plus_z')
        Redshift features with a free coefficient.
    fit_intercept : bool, default=True
        Fit ``a``; with False the relation goes through the origin.
    width : {'poisson', 'constant'}, default='poisson'
        The widths of ``predict(X, return_std=True)``: per cluster, intrinsic
        scatter plus the Poisson error of its counts; or ``scatter_`` for all.
    cosmology : astropy.cosmology.FLRW, optional
        For dL and E(z); flat LambdaCDM with H0 = 70, Omega_m = 0.3 by default.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Coefficients of the features, in the order of ``feature_names_``.
    intercept_ : float
        ``a``, in log10(Msun).
    feature_names_ : list of str
        ``'log10_rate_dl2'`` then the redshift terms (``'log10_ez'``,
        ``'log10_one_plus_z'``).
    scatter_ : float
        Residual scatter of the fit in dex (``n - p`` degrees of freedom); the width
        of every cluster with ``width='constant'``.
    intrinsic_scatter_ : float
        Scatter of the relation once the Poisson errors of the training clusters'
        counts are removed, dex.
    n_bands_in_ : int
        Number of bands of the images seen in ``fit``.
    n_clipped_ : int
        Number of training clusters whose net counts were raised to the floor.

    See Also
    --------
    LuminosityRelation : the same aperture counts turned into a luminosity.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass import as_inputs
    >>> from sk_clustermass.baselines import CountRateRelation
    >>> rng = np.random.default_rng(0)
    >>> log_mass, z = rng.uniform(13.5, 15.0, 200), rng.uniform(0.05, 0.5, 200)
    >>> images = rng.poisson(0.5, (200, 1, 21, 21)).astype(np.float32)
    >>> images[:, 0, 10, 10] += rng.poisson(2e3 * 10 ** (1.5 * (log_mass - 14)) / z**2 / 400)
    >>> model = CountRateRelation(aperture_radius_arcmin=1.0,
    ...                           background_annulus_arcmin=(2.0, None), exposure_s=1e3)
    >>> mean, std = model.fit(as_inputs(images, z), log_mass).predict(
    ...     as_inputs(images, z), return_std=True)
    >>> round(float(model.coef_[0]), 1), bool(std[0] < 0.1)
    (0.7, True)
    """

    def __init__(
        self,
        aperture_radius_arcmin: float = 1.5,
        background_annulus_arcmin: tuple[float, float | None] = (8.0, None),
        bands: Sequence[int] | None = None,
        survey: str | Survey = "efeds",
        exposure_s: float | None = None,
        pixel_size_arcsec: float | None = None,
        net_counts_floor: float = 1.0,
        redshift_terms: tuple[str, ...] = ("ez", "one_plus_z"),
        fit_intercept: bool = True,
        width: str = "poisson",
        cosmology: FLRW | None = None,
    ) -> None:
        self.aperture_radius_arcmin = aperture_radius_arcmin
        self.background_annulus_arcmin = background_annulus_arcmin
        self.bands = bands
        self.survey = survey
        self.exposure_s = exposure_s
        self.pixel_size_arcsec = pixel_size_arcsec
        self.net_counts_floor = net_counts_floor
        self.redshift_terms = redshift_terms
        self.fit_intercept = fit_intercept
        self.width = width
        self.cosmology = cosmology

    def _terms(self) -> list[str]:
        terms = list(self.redshift_terms)
        for term in terms:
            check_choice("redshift_terms entry", term, REDSHIFT_TERMS)
        if len(set(terms)) != len(terms):
            message = f"redshift_terms has repeated entries: {self.redshift_terms!r}"
            raise ValueError(message)
        return terms

    def _design(self, counts: ApertureCounts, redshift: np.ndarray) -> np.ndarray:
        dl_gpc = luminosity_distance_cm(redshift, self.cosmology) / _GPC_CM
        columns = [np.log10(self._net_rate(counts) * dl_gpc**2)]
        for term in self._terms():
            if term == "ez":
                columns.append(np.log10(efunc(redshift, self.cosmology)))
            else:
                columns.append(np.log10(1.0 + redshift))
        return np.column_stack(columns)

    def count_rate(self, X: Any) -> np.ndarray:
        """Net aperture count rate of each cluster, counts/s, floored as in the fit.

        Parameters
        ----------
        X : skorch.helper.SliceDict or dict
            Photon-count images and redshifts.

        Returns
        -------
        ndarray of shape (n_samples,)
            ``max(net counts, net_counts_floor) / exposure``.
        """
        counts, *_ = self._photometry(X, fitted=False)
        return self._net_rate(counts)

    def fit(self, X: Any, y: Any) -> CountRateRelation:
        """Fit the relation by least squares.

        Parameters
        ----------
        X : skorch.helper.SliceDict or dict
            ``X["images"]`` photon counts of shape (n_samples, n_bands, height,
            width) and ``X["redshift"]`` of shape (n_samples,).
        y : array-like of shape (n_samples,)
            ``log10(M500c / Msun)``.

        Returns
        -------
        self : CountRateRelation
        """
        check_bool("fit_intercept", self.fit_intercept)
        counts, redshift, y = self._start_fit(X, y)
        design = self._design(counts, redshift)
        self.coef_, self.intercept_, self.scatter_ = _least_squares(
            design, y, bool(self.fit_intercept)
        )
        residual = y - (design @ self.coef_ + self.intercept_)
        self._set_widths(counts, residual, design.shape[1] + int(self.fit_intercept))
        self.feature_names_ = ["log10_rate_dl2", *(f"log10_{t}" for t in self._terms())]
        self.n_clipped_ = int(np.count_nonzero(counts.net < self.net_counts_floor))
        return self

    def _predict_from(self, counts: ApertureCounts, redshift: np.ndarray, n_bands: int):
        return self._design(counts, redshift) @ self.coef_ + self.intercept_

    def _mass_per_count_dex(self) -> float:
        return float(abs(self.coef_[0]))


class LuminosityRelation(_ApertureRelation):
    """Mass from the X-ray luminosity: aperture counts to L_X, then an inverted L–M fit.

    For every cluster, vectorised over clusters:

    1. net counts in the aperture (as :class:`CountRateRelation`), over the exposure:
       the count rate ``CR`` in the chosen bands;
    2. flux ``F = CR / ECF(kT, z)``: the unabsorbed observed-frame energy flux in
       ``rest_band_kev``, with the ECF of a bremsstrahlung spectrum at ``kT``
       redshifted into the bands, through the survey's effective area and Galactic
       absorption (:func:`redshifted_ecf`);
    3. luminosity ``L = 4 pi dL^2 F K(kT, z)``, rest frame ``rest_band_kev``, with
       the K-correction of the same spectrum;
    4. ``log10 M = a + b [log10(L / 1e44 erg/s) - c log10 E(z)]``.

    The temperature is either fixed (``temperature='fixed'``, ``kt_kev``) or
    iterated (``'mt_relation'``): start at ``kt_kev``, predict the mass, take kT
    from the Arnaud et al. (2005) M–T relation at that mass and redshift, recompute
    L, and repeat (refitting ``a, b, c`` in ``fit``) until kT changes by less than
    ``tol`` dex. L is the luminosity inside the aperture, not inside R500: no
    aperture correction is made, the fitted coefficients absorb the average one.

    Parameters
    ----------
    aperture_radius_arcmin : float, default=1.5
        Radius of the source aperture, centred on the image, in arcmin.
    background_annulus_arcmin : tuple of (float, float or None), default=(8.0, None)
        Inner and outer radius of the background annulus in arcmin; None reaches the
        image corners.
    bands : sequence of int, optional
        Indices of the energy bands to count; all by default.
    band_edges_kev : sequence of float, optional
        Edges of the image bands, observed frame, keV (n_bands + 1 values); the
        default 10 bands over 0.25–2.3 keV.
    survey : {'efeds', 'erass1'} or Survey, default='efeds'
        Effective area, Galactic column, pixel size and exposure of the survey.
    exposure_s : float, optional
        Exposure in s; the survey's vignetted exposure by default.
    pixel_size_arcsec : float, optional
        Pixel size in arcsec; the survey's by default.
    net_counts_floor : float, default=1.0
        Net counts are raised to this value before the logarithm (see
        :class:`CountRateRelation`).
    rest_band_kev : tuple of float, default=(0.5, 2.0)
        Band of the flux (observed frame) and of the luminosity (rest frame), keV.
    temperature : {'mt_relation', 'fixed'}, default='mt_relation'
        How kT for the ECF and the K-correction is chosen.
    kt_kev : float, default=3.0
        The fixed temperature, or the first guess of the iteration, keV.
    relations : ScalingRelations, optional
        The M–T relation of the iteration (Arnaud et al. 2005 by default).
    ez_power : float, optional
        ``c``, the evolution of L at fixed mass; None fits it (default). Pratt et
        al. (2009) use 7/3, the soft-band self-similar value is 2.
    max_iter : int, default=20
        Maximum number of temperature iterations.
    tol : float, default=1e-4
        Convergence threshold on the largest change of log10 kT.
    width : {'poisson', 'constant'}, default='poisson'
        The widths of ``predict(X, return_std=True)``: per cluster, intrinsic
        scatter plus the Poisson error of its counts; or ``scatter_`` for all.
    cosmology : astropy.cosmology.FLRW, optional
        For dL and E(z); flat LambdaCDM with H0 = 70, Omega_m = 0.3 by default.

    Attributes
    ----------
    intercept_ : float
        ``a``, in log10(Msun).
    slope_ : float
        ``b``, dex of mass per dex of luminosity.
    ez_power_ : float
        ``c``, fitted or as given.
    scatter_ : float
        Residual scatter of the fit in dex; the width of every cluster with
        ``width='constant'``.
    intrinsic_scatter_ : float
        Scatter once the Poisson errors of the training counts are removed, dex.
    n_iter_ : int
        Temperature iterations used in ``fit`` (1 with ``temperature='fixed'``).
    n_bands_in_ : int
        Number of bands of the images seen in ``fit``.
    n_clipped_ : int
        Training clusters whose net counts were raised to the floor.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_clustermass import as_inputs
    >>> from sk_clustermass.baselines import LuminosityRelation
    >>> rng = np.random.default_rng(0)
    >>> log_mass, z = rng.uniform(13.5, 15.0, 200), rng.uniform(0.05, 0.5, 200)
    >>> images = rng.poisson(0.5, (200, 1, 21, 21)).astype(np.float32)
    >>> images[:, 0, 10, 10] += rng.poisson(2e3 * 10 ** (1.5 * (log_mass - 14)) / z**2 / 400)
    >>> model = LuminosityRelation(aperture_radius_arcmin=1.0,
    ...                            background_annulus_arcmin=(2.0, None),
    ...                            band_edges_kev=(0.5, 2.0), exposure_s=1e3)
    >>> mean = model.fit(as_inputs(images, z), log_mass).predict(as_inputs(images, z))
    >>> mean.shape, model.n_iter_ > 1, bool(model.scatter_ < 0.1)
    ((200,), True, True)
    """

    def __init__(
        self,
        aperture_radius_arcmin: float = 1.5,
        background_annulus_arcmin: tuple[float, float | None] = (8.0, None),
        bands: Sequence[int] | None = None,
        band_edges_kev: Sequence[float] | None = None,
        survey: str | Survey = "efeds",
        exposure_s: float | None = None,
        pixel_size_arcsec: float | None = None,
        net_counts_floor: float = 1.0,
        rest_band_kev: tuple[float, float] = (0.5, 2.0),
        temperature: str = "mt_relation",
        kt_kev: float = 3.0,
        relations: ScalingRelations | None = None,
        ez_power: float | None = None,
        max_iter: int = 20,
        tol: float = 1e-4,
        width: str = "poisson",
        cosmology: FLRW | None = None,
    ) -> None:
        self.aperture_radius_arcmin = aperture_radius_arcmin
        self.background_annulus_arcmin = background_annulus_arcmin
        self.bands = bands
        self.band_edges_kev = band_edges_kev
        self.survey = survey
        self.exposure_s = exposure_s
        self.pixel_size_arcsec = pixel_size_arcsec
        self.net_counts_floor = net_counts_floor
        self.rest_band_kev = rest_band_kev
        self.temperature = temperature
        self.kt_kev = kt_kev
        self.relations = relations
        self.ez_power = ez_power
        self.max_iter = max_iter
        self.tol = tol
        self.width = width
        self.cosmology = cosmology

    # ------------------------------------------------------------------ physics
    def _check_own_params(self) -> None:
        check_choice("temperature", self.temperature, TEMPERATURE_MODES)
        check_number("kt_kev", self.kt_kev, low=0, low_inclusive=False)
        check_number("tol", self.tol, low=0, low_inclusive=False)
        if not (isinstance(self.max_iter, int | np.integer) and self.max_iter >= 1):
            message = f"max_iter must be an integer >= 1; got {self.max_iter!r}"
            raise ValueError(message)
        if self.ez_power is not None:
            check_number("ez_power", self.ez_power)
        if self.relations is not None and not isinstance(self.relations, ScalingRelations):
            message = (
                "relations must be None or a sk_clustermass.simulate."
                f"ScalingRelations; got {type(self.relations).__name__}"
            )
            raise ValueError(message)
        band = np.asarray(self.rest_band_kev, dtype=np.float64).ravel()
        if band.size != 2 or not 0 < band[0] < band[1]:
            message = f"rest_band_kev must be (low, high) in keV, 0 < low < high; got {band}"
            raise ValueError(message)

    def _bands_kev(self, n_bands: int) -> np.ndarray:
        """(low, high) edges of the counted bands, shape (n_counted, 2)."""
        edges = DEFAULT_BAND_EDGES_KEV if self.band_edges_kev is None else self.band_edges_kev
        edges = np.asarray(edges, dtype=np.float64).ravel()
        if edges.size != n_bands + 1 or not np.all(np.diff(edges) > 0) or edges[0] <= 0:
            message = (
                f"band_edges_kev must be n_bands + 1 = {n_bands + 1} increasing energies "
                f"in keV for images with {n_bands} bands; got {edges.tolist()}. After "
                "merging or selecting bands, pass the edges of the new bands."
            )
            raise ValueError(message)
        pairs = np.column_stack([edges[:-1], edges[1:]])
        bands = self._check_bands(n_bands)
        return pairs if bands is None else pairs[bands]

    def _log_luminosity(
        self, rate: np.ndarray, redshift: np.ndarray, kt: np.ndarray, bands_kev: np.ndarray
    ) -> np.ndarray:
        """log10(L / 1e44 erg/s), rest frame ``rest_band_kev``, from the count rate."""
        survey = get_survey(self.survey)
        band = tuple(self.rest_band_kev)
        ecf = redshifted_ecf(kt, redshift, bands_kev, band, survey.nh_cm2, survey.effective_area)
        flux = rate / ecf
        dl_cm = luminosity_distance_cm(redshift, self.cosmology)
        luminosity = 4.0 * np.pi * dl_cm**2 * flux * k_correction(kt, redshift, band)
        return np.log10(luminosity / _L_PIVOT_ERG_S)

    def _design(self, log_l: np.ndarray, log_ez: np.ndarray) -> np.ndarray:
        if self.ez_power is None:
            return np.column_stack([log_l, log_ez])
        return (log_l - self.ez_power * log_ez)[:, None]

    def _set_coefficients(self, log_l: np.ndarray, log_ez: np.ndarray, y: np.ndarray) -> None:
        coef, self.intercept_, self.scatter_ = _least_squares(self._design(log_l, log_ez), y,
                                                              True)
        self.slope_ = float(coef[0])
        if self.ez_power is None:
            self.ez_power_ = float(-coef[1] / coef[0]) if coef[0] != 0 else float("nan")
        else:
            self.ez_power_ = float(self.ez_power)

    def _relation(self, log_l: np.ndarray, log_ez: np.ndarray) -> np.ndarray:
        return self.intercept_ + self.slope_ * (log_l - self.ez_power_ * log_ez)

    def _solve(
        self, counts: ApertureCounts, redshift: np.ndarray, n_bands: int,
        y: np.ndarray | None = None,
    ):
        """Iterate kT (refitting when ``y`` is given); return (mean, log_l, kt, n_iter, ok)."""
        rate = self._net_rate(counts)
        ez = efunc(redshift, self.cosmology)
        log_ez = np.log10(ez)
        bands_kev = self._bands_kev(n_bands)
        relations = ScalingRelations() if self.relations is None else self.relations
        kt = np.full(redshift.shape, float(self.kt_kev))
        for iteration in range(1, self.max_iter + 1):
            log_l = self._log_luminosity(rate, redshift, kt, bands_kev)
            if y is not None:
                self._set_coefficients(log_l, log_ez, y)
            mean = self._relation(log_l, log_ez)
            if self.temperature == "fixed":
                return mean, log_l, kt, iteration, True
            new_kt = np.clip(temperature_kev(10.0**mean, ez, relations), *KT_LIMITS_KEV)
            if np.max(np.abs(np.log10(new_kt / kt))) < self.tol:
                return mean, log_l, kt, iteration, True
            kt = new_kt
        return mean, log_l, kt, self.max_iter, False

    # ------------------------------------------------------------------ API
    def fit(self, X: Any, y: Any) -> LuminosityRelation:
        """Fit the inverted L–M relation, iterating the temperature if asked.

        Parameters
        ----------
        X : skorch.helper.SliceDict or dict
            ``X["images"]`` photon counts of shape (n_samples, n_bands, height,
            width) and ``X["redshift"]`` of shape (n_samples,).
        y : array-like of shape (n_samples,)
            ``log10(M500c / Msun)``.

        Returns
        -------
        self : LuminosityRelation

        Warns
        -----
        sklearn.exceptions.ConvergenceWarning
            If the temperatures have not converged after ``max_iter`` iterations.
        """
        self._check_own_params()
        counts, redshift, y = self._start_fit(X, y)
        mean, _, _, self.n_iter_, converged = self._solve(counts, redshift, self.n_bands_in_, y)
        if not converged:
            message = (
                f"the temperature iteration did not converge to tol={self.tol} dex in "
                f"max_iter={self.max_iter} iterations; increase max_iter or use "
                "temperature='fixed'."
            )
            warnings.warn(message, ConvergenceWarning, stacklevel=2)
        self.n_clipped_ = int(np.count_nonzero(counts.net < self.net_counts_floor))
        self._set_widths(counts, y - mean, 3 if self.ez_power is None else 2)
        return self

    def _predict_from(self, counts: ApertureCounts, redshift: np.ndarray, n_bands: int):
        self._check_own_params()
        return self._solve(counts, redshift, n_bands)[0]

    def _mass_per_count_dex(self) -> float:
        return float(abs(self.slope_))

    def luminosity(self, X: Any, return_kt: bool = False):
        """Rest-frame luminosity in the aperture, erg/s, at the converged temperature.

        Parameters
        ----------
        X : skorch.helper.SliceDict or dict
            Photon-count images and redshifts.
        return_kt : bool, default=False
            Also return the temperature used for each cluster, keV.

        Returns
        -------
        luminosity : ndarray of shape (n_samples,)
            ``L[rest_band_kev]`` in erg/s (from counts floored at
            ``net_counts_floor``).
        kt : ndarray of shape (n_samples,)
            Only with ``return_kt=True``.
        """
        check_is_fitted(self)
        self._check_own_params()
        counts, redshift, n_bands = self._photometry(X, fitted=True)
        _, log_l, kt, *_ = self._solve(counts, redshift, n_bands)
        luminosity = _L_PIVOT_ERG_S * 10.0**log_l
        return (luminosity, kt) if return_kt else luminosity
