"""Redshift errors: X["redshift_err"] validated, carried, and propagated by predict."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from sk_clustermass import ClusterMassRegressor, as_inputs
from sk_clustermass.estimator import OutOfDomainWarning
from sk_clustermass.estimator._redshift_errors import N_REDSHIFT_DRAWS, redshift_draws
from sk_clustermass.preprocessing import LogStretch


@pytest.fixture(scope="module")
def fitted(toy_data, tiny_params):
    X, y = toy_data
    return ClusterMassRegressor(**tiny_params).fit(X, y)


def _with_error(X, error):
    return as_inputs(X["images"], X["redshift"], redshift_err=error)


def test_as_inputs_checks_and_carries_redshift_errors():
    images, z = np.zeros((3, 1, 4, 4)), [0.1, 0.2, 0.3]
    X = as_inputs(images, z, redshift_err=[0.0, 0.01, 0.02])
    assert X["redshift_err"].dtype == np.float32
    np.testing.assert_allclose(X[1:]["redshift_err"], [0.01, 0.02])
    np.testing.assert_allclose(as_inputs(dict(X))["redshift_err"], [0.0, 0.01, 0.02])
    with pytest.raises(ValueError, match="redshift_err must be >= 0"):
        as_inputs(images, z, redshift_err=[0.0, -0.01, 0.0])
    with pytest.raises(ValueError, match="redshift_err"):
        as_inputs(images, z, redshift_err=[0.0, np.nan, 0.0])
    with pytest.raises(ValueError, match=r"shape \(n_samples,\) = \(3,\)"):
        as_inputs(images, z, redshift_err=[0.01, 0.01])


def test_zero_errors_give_exactly_the_plain_prediction(fitted, toy_data):
    X, _ = toy_data
    plain = fitted.predict(X[:50], return_std=True)
    zero = fitted.predict(_with_error(X[:50], np.zeros(50)), return_std=True)
    for a, b in zip(plain, zero, strict=True):
        np.testing.assert_array_equal(a, b)


def test_errors_are_propagated_by_total_variance(fitted, toy_data):
    X, _ = toy_data
    X = X[:60]
    error = 0.05 * (1.0 + X["redshift"])
    noisy = _with_error(X, error)
    mean, std = fitted.predict(noisy, return_std=True)
    draws = redshift_draws(noisy)
    assert len(draws) == N_REDSHIFT_DRAWS
    with warnings.catch_warnings():  # draws reach below the training redshifts, as inside
        warnings.simplefilter("ignore", OutOfDomainWarning)
        by_draw = [fitted.predict(d, return_std=True) for d in draws]
    means = np.stack([m for m, _ in by_draw])
    variances = np.stack([s**2 for _, s in by_draw])
    np.testing.assert_allclose(mean, means.mean(axis=0))
    np.testing.assert_allclose(std**2, variances.mean(axis=0) + means.var(axis=0), rtol=1e-6)
    assert (means.var(axis=0) > 0).all()  # the redshift moved the masses
    np.testing.assert_array_equal(fitted.predict(noisy), mean)  # seeded: the same again


def test_pipelines_carry_redshift_errors_to_the_regressor(toy_data, tiny_params):
    X, y = toy_data
    pipe = make_pipeline(LogStretch(), ClusterMassRegressor(**tiny_params)).fit(X, y)
    noisy = _with_error(X[:40], 0.05 * np.ones(40))
    direct = pipe[-1].predict(pipe[0].transform(noisy), return_std=True)
    through = pipe.predict(noisy, return_std=True)
    np.testing.assert_array_equal(through[1], direct[1])
    assert not np.array_equal(through[1], pipe.predict(X[:40], return_std=True)[1])
