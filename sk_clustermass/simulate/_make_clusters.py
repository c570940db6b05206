"""The cluster simulator: eROSITA-like mock observations as the library's ``X, y``.

:func:`make_clusters` draws a population of clusters (mass, redshift), gives each a
temperature and luminosity from scaling relations with correlated scatter, a beta-model
gas distribution with ellipticity and a centre offset, folds a redshifted
bremsstrahlung spectrum through the eROSITA effective area into energy bands, adds the
PSF, sky and particle background, field and central AGN, draws Poisson photons and
applies a detection cut. The physics lives in the sibling modules of
:mod:`sk_clustermass.simulate`; every number and its source is listed in
``docs/simulator.md``.

The work is cut into chunks run in parallel with joblib; the random numbers come in
seed blocks of 64 clusters (see :mod:`._random`), so the output depends only
on ``random_state`` and the physical settings, never on ``n_jobs`` or ``chunk_size``.
:func:`make_catalog` gives the catalogue without images (fast). The arguments are
checked in :mod:`._settings`, the chunks run in :mod:`._chunks`, and
:func:`~sk_clustermass.simulate.stream_clusters` hands them out one at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from astropy.cosmology import FLRW

from .._inputs import as_inputs
from ._agn import AGNPopulation
from ._chunks import iter_chunks
from ._massfunction import LinearPowerSpectrum
from ._morphology import Morphology
from ._pipeline import parent_density_deg2 as _parent_density
from ._profiles import GasProfile
from ._random import root_seed_sequence
from ._scaling import ScalingRelations
from ._selection import ESASSSelection
from ._settings import build_config, check_image_format, check_int, check_n_jobs, round_chunk_size

__all__ = ["make_catalog", "make_clusters", "parent_density_deg2"]

_AUTO_PROGRESS_SAMPLES = 10_000


def make_clusters(
    n_samples: int = 1000,
    *,
    survey: Any = "efeds_lab",
    random_state: Any = None,
    n_jobs: int | None = 1,
    chunk_size: int = 256,
    return_catalog: bool = False,
    mass_range: Sequence[float] | None = None,
    redshift_range: Sequence[float] | None = None,
    sampling: str | None = None,
    detected_only: bool = True,
    min_net_counts: float | None = None,
    scatter: bool = True,
    band_edges_kev: Sequence[float] | None = None,
    image_size: int = 50,
    relations: ScalingRelations | None = None,
    gas: GasProfile | None = None,
    agn: AGNPopulation | None = None,
    cosmology: FLRW | None = None,
    power_spectrum: LinearPowerSpectrum | None = None,
    oversample: int = 2,
    progress: bool | None = None,
    morphology: Morphology | None = None,
    selection: ESASSSelection | None = None,
    contaminants: bool = False,
    image_format: str = "counts",
    centre_on: str | None = None,
    exposure_gradient: bool | None = None,
):
    """Simulate eROSITA-like X-ray image cubes of galaxy clusters with known masses.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of clusters returned (after the detection cut when ``detected_only``).
    survey : str or Survey, default='efeds_lab'
        One of 'efeds_lab', 'erass1_lab', 'efeds_survey', 'erass1_survey': two kinds of
        population. 'efeds_lab' and 'erass1_lab' (formerly 'efeds' and
        'erass1', names still accepted), or a :class:`~sk_clustermass.simulate.Survey`,
        are the lab's population: log-uniform masses and redshifts at that survey's
        depth, instrument and background (change single numbers with
        ``dataclasses.replace(get_survey('efeds'), ...)``). The presets
        'efeds_survey' and 'erass1_survey' also set the sky and the selection so that
        the detected sample looks like the survey (see
        :class:`~sk_clustermass.simulate.SurveyPreset`): haloes from the mass
        function, the Malmquist-corrected L–M relation, cool cores and disturbed
        clusters, the eSASS-like detection and extent selection; every argument left
        to None takes the preset's value.
    random_state : int, numpy Generator/RandomState/SeedSequence or None, default=None
        Seeds every random number. The same value gives identical output whatever
        ``n_jobs`` and ``chunk_size`` are.
    n_jobs : int or None, default=1
        Chunks run in parallel with joblib (-1 uses every core), on joblib's default
        backend (loky processes) or whatever ``joblib.parallel_config`` selects; the
        output is the same for every backend.
    chunk_size : int, default=256
        Clusters per unit of work, capped at ``n_samples`` and rounded up to a
        multiple of 64; bounds memory
        (about 0.5 MB per cluster and chunk in flight for the default cube).
    return_catalog : bool, default=False
        Also return the catalogue (one row per cluster; columns in
        :data:`~sk_clustermass.simulate.CATALOG_COLUMNS`).
    mass_range : (float, float), optional
        Range of log10(M500c / Msun); default (13, 15) (PHYSICS.md), (13, 15.5) for
        the presets. Equal ends fix the mass.
    redshift_range : (float, float), optional
        Range of redshift; default (0.01, 1.5) (PHYSICS.md). Equal ends fix it.
    sampling : {'log-uniform', 'mass-function'}, optional
        The prior on mass and redshift (underscores accepted). 'log-uniform' (the
        default for 'efeds_lab' and 'erass1_lab'): uniform in log10 M500c and in z, the
        lab's training choice. 'mass-function' (the presets' default): as found in
        a light cone, ``dn/dlnM dV/dz`` (Tinker et al. 2008). A network's posterior
        mean leans towards its training prior: train with 'mass-function' to predict
        masses of a survey's detections, with 'log-uniform' for an even error over
        the mass range (see docs/simulator.md).
    detected_only : bool, default=True
        Keep only clusters passing the detection cut, like the eSASS-selected sample
        of the lab; more parents are simulated until ``n_samples`` are found.
        False keeps every cluster and flags detection in the ``detected`` column.
    min_net_counts : float, optional
        Detection threshold on background-subtracted counts in the detection
        aperture (all bands); defaults to the survey's (14, the eFEDS extent limit).
    scatter : bool, default=True
        If False, temperatures and luminosities sit on the mean relations and every
        exposure equals the survey median (morphology and AGN stay random).
    band_edges_kev : sequence of float, optional
        Band edges in keV; default 10 equal bands over 0.25–2.3 keV.
    image_size : int, default=50
        Images are ``image_size`` x ``image_size`` pixels of ``survey.pixel_arcsec``.
    relations : ScalingRelations, optional
        M–T and L–M relations and scatter (Arnaud et al. 2005; Pratt et al. 2009).
    gas : GasProfile, optional
        Distributions of beta, core radius, ellipticity and offset.
    agn : AGNPopulation, optional
        Field and central AGN.
    cosmology : astropy.cosmology.FLRW, optional
        Default flat LambdaCDM, H0 = 70, Omega_m = 0.3.
    power_spectrum : LinearPowerSpectrum, optional
        Only for ``sampling='mass-function'``.
    oversample : int, default=2
        Sub-pixels per pixel side when rendering the gas (a 10x finer grid is always
        used in a 5 x 5 pixel box around each centre).
    progress : bool, optional
        Show a progress bar; by default only for 10,000 clusters or more.
    morphology : Morphology, optional
        Cool cores, relaxed and disturbed clusters with a double-beta gas profile
        (:class:`~sk_clustermass.simulate.Morphology`); None: the presets'
        model, or the single beta model of ``gas`` for 'efeds_lab'/'erass1_lab'.
    selection : ESASSSelection, optional
        The eSASS-like detection and extent selection
        (:class:`~sk_clustermass.simulate.ESASSSelection`), decided before
        rendering; None: the presets' selection, or the net-count cut
        ``min_net_counts`` for 'efeds_lab'/'erass1_lab'.
    contaminants : bool, default=False
        Let point sources that pass the extent cut into the sample (needs the
        selection and 'mass-function'): flagged by ``is_contaminant`` in the
        catalogue, with y = NaN; drop them before training, keep them to study their
        effect on predictions.
    image_format : {'counts', 'lab'}, default='counts'
        'counts': Poisson photon counts. 'lab': the lab's format, floats rescaled from
        fine pixels and Gaussian-smoothed (:func:`~sk_clustermass.datasets.to_lab_style`
        with its defaults), so that models can be trained for the lab's data.
    centre_on : {'truth', 'detection', 'optical'}, optional
        Where each cut-out is centred: on the halo centre ('truth', the default for
        'efeds_lab' and 'erass1_lab'), or, like real cut-outs, on the position the eSASS-like
        detection measured ('detection', the presets' default; needs the selection):
        the centroid of the detected emission with its statistical error; or on an
        optical centre ('optical', needs the selection): the detected position moved
        by an optical-to-X-ray offset drawn from the selection's
        :class:`~sk_clustermass.simulate.OpticalConfirmation` (mean 76 kpc, Seppi et
        al. 2023), as for images cut out around an optical catalogue's positions. The
        catalogue's ``x_pix``, ``y_pix`` are the gas centre in the cut-out's pixels,
        ``centre_offset_arcsec`` the image centre's distance from the halo centre,
        ``optical_offset_kpc`` the optical offset.
    exposure_gradient : bool, optional
        Tilt each cut-out's exposure by the gradient of the survey's exposure map
        (``Survey.exposure_scatter_ln`` over ``Survey.exposure_correlation_deg``); the
        presets' default is True, 'efeds_lab' and 'erass1_lab' default to False.
        ``X["exposure"]`` is the exposure at the image centre.

    Returns
    -------
    X : skorch.helper.SliceDict
        ``X["images"]``: float32 (n_samples, n_bands, image_size, image_size),
        Poisson photon counts (non-negative integers), channels first;
        ``X["redshift"]``: float32 (n_samples,); ``X["exposure"]``: float32
        (n_samples,), the vignetted exposure of every cluster in s (the catalogue's
        ``exposure_vignetted_s``; it varies from cluster to cluster by the survey's
        ``exposure_scatter_ln``), an input of models with ``use_exposure=True``.
    y : ndarray of shape (n_samples,)
        log10(M500c / Msun), float64.
    catalog : pandas.DataFrame
        Only with ``return_catalog=True``: one row per cluster, in the order of ``X``.

    Raises
    ------
    ValueError
        For an unknown survey or sampling mode, n_samples < 1, bad ranges or edges.
    RuntimeError
        If ``detected_only`` and almost no cluster passes the detection cut.

    See Also
    --------
    make_catalog : the catalogue alone, without images (fast).
    simulate_to_hdf5 : stream any number of clusters to an HDF5 file.

    Examples
    --------
    >>> from sk_clustermass.datasets import make_clusters
    >>> X, y, catalog = make_clusters(8, random_state=0, chunk_size=64, return_catalog=True)
    >>> X["images"].shape, X["images"].dtype, y.shape
    ((8, 10, 50, 50), dtype('float32'), (8,))
    >>> bool(catalog["detected"].all()), bool((X["images"] % 1 == 0).all())
    (True, True)
    """
    n_samples = check_int(n_samples, "n_samples", 1)
    check_image_format(image_format)
    config = build_config(
        survey=survey, mass_range=mass_range, redshift_range=redshift_range,
        sampling=sampling, scatter=scatter, min_net_counts=min_net_counts,
        band_edges_kev=band_edges_kev, image_size=image_size, relations=relations, gas=gas,
        agn=agn, cosmology=cosmology, power_spectrum=power_spectrum, oversample=oversample,
        morphology=morphology, selection=selection, contaminants=contaminants,
        centre_on=centre_on, exposure_gradient=exposure_gradient,
    )
    size, root = round_chunk_size(chunk_size, n_samples), root_seed_sequence(random_state)
    show = n_samples >= _AUTO_PROGRESS_SAMPLES if progress is None else bool(progress)
    shape = (n_samples, config.n_bands, config.image_size, config.image_size)
    images = np.empty(shape, dtype=np.float32)
    redshift = np.empty(n_samples, dtype=np.float32)
    exposure = np.empty(n_samples, dtype=np.float32)
    y = np.empty(n_samples, dtype=np.float64)
    catalogs, start = [], 0
    for chunk in iter_chunks(config, root, n_samples, size, check_n_jobs(n_jobs),
                              detected_only=bool(detected_only), progress=show,
                              image_format=image_format):
        stop = start + len(chunk["y"])
        images[start:stop] = chunk["images"]
        redshift[start:stop], y[start:stop] = chunk["redshift"], chunk["y"]
        exposure[start:stop] = chunk["exposure"]
        catalogs.append(chunk["catalog"])
        start = stop
    X = as_inputs(images, redshift, exposure=exposure)
    if not return_catalog:
        return X, y
    return X, y, pd.concat(catalogs, ignore_index=True)


def make_catalog(
    n_samples: int = 1000,
    *,
    survey: Any = "efeds_lab",
    random_state: Any = None,
    chunk_size: int = 4096,
    mass_range: Sequence[float] | None = None,
    redshift_range: Sequence[float] | None = None,
    sampling: str | None = None,
    scatter: bool = True,
    band_edges_kev: Sequence[float] | None = None,
    relations: ScalingRelations | None = None,
    gas: GasProfile | None = None,
    agn: AGNPopulation | None = None,
    cosmology: FLRW | None = None,
    power_spectrum: LinearPowerSpectrum | None = None,
    morphology: Morphology | None = None,
    selection: ESASSSelection | None = None,
    contaminants: bool = False,
    centre_on: str | None = None,
    exposure_gradient: bool | None = None,
) -> pd.DataFrame:
    """Simulate the cluster catalogue only: properties and expected counts, no images.

    The rows are the same clusters that :func:`make_clusters` with the same settings
    and ``detected_only=False`` renders (same ``sim_id``, same values in the columns
    that need no image). Tens of thousands of clusters take about a second.

    Parameters
    ----------
    n_samples : int, default=1000
    survey, random_state, mass_range, redshift_range, sampling, scatter, band_edges_kev, \
relations, gas, agn, cosmology, power_spectrum, morphology, selection, contaminants, \
centre_on, exposure_gradient
        As in :func:`make_clusters`. With a selection (the presets), ``detected``,
        ``DET_LIKE`` and ``EXT_LIKE`` are in the catalogue: the detected rows are the
        clusters :func:`make_clusters` returns with the same settings.
    chunk_size : int, default=4096
        Clusters per vectorised step (memory only; the output does not depend on it).

    Returns
    -------
    catalog : pandas.DataFrame
        One row per cluster; the columns of
        :data:`~sk_clustermass.simulate.CATALOG_COLUMNS` not marked image-only.

    Examples
    --------
    >>> from sk_clustermass.datasets import make_catalog
    >>> catalog = make_catalog(1000, random_state=0)
    >>> len(catalog), bool(catalog["kT"].between(0.3, 30).all())
    (1000, True)
    """
    n_samples = check_int(n_samples, "n_samples", 1)
    config = build_config(
        survey=survey, mass_range=mass_range, redshift_range=redshift_range,
        sampling=sampling, scatter=scatter, min_net_counts=None, band_edges_kev=band_edges_kev,
        image_size=50, relations=relations, gas=gas, agn=agn, cosmology=cosmology,
        power_spectrum=power_spectrum, oversample=2, morphology=morphology,
        selection=selection, contaminants=contaminants, centre_on=centre_on,
        exposure_gradient=exposure_gradient,
    )
    chunks = iter_chunks(config, root_seed_sequence(random_state), n_samples,
                          round_chunk_size(chunk_size, n_samples), 1, render=False)
    return pd.concat([chunk["catalog"] for chunk in chunks], ignore_index=True)


def parent_density_deg2(
    survey: Any = "efeds_survey",
    *,
    contaminants: bool = False,
    mass_range: Sequence[float] | None = None,
    redshift_range: Sequence[float] | None = None,
    selection: ESASSSelection | None = None,
    cosmology: FLRW | None = None,
    power_spectrum: LinearPowerSpectrum | None = None,
) -> float:
    """Sky density that one simulated parent stands for, per deg^2.

    With ``sampling='mass-function'`` (the survey presets) every parent of
    :func:`make_catalog` or :func:`make_clusters` is one draw from the haloes (and,
    with ``contaminants``, the bright point sources) on the sky: the density of a
    selected sample is this number times its share of the parents.

    Parameters
    ----------
    survey, contaminants, mass_range, redshift_range, selection, cosmology, \
power_spectrum
        As in :func:`make_clusters` (the same values as the simulation).

    Returns
    -------
    float
        Parents per deg^2.

    Examples
    --------
    >>> from sk_clustermass.datasets import make_catalog, parent_density_deg2
    >>> catalog = make_catalog(4096, survey="efeds_survey", random_state=0)
    >>> per_deg2 = parent_density_deg2("efeds_survey") * catalog["detected"].mean()
    >>> bool(1.0 < per_deg2 < 8.0)
    True
    """
    config = build_config(
        survey=survey, mass_range=mass_range, redshift_range=redshift_range,
        sampling="mass-function", scatter=True, min_net_counts=None, band_edges_kev=None,
        image_size=50, relations=None, gas=None, agn=None, cosmology=cosmology,
        power_spectrum=power_spectrum, oversample=2, selection=selection,
        contaminants=contaminants,
    )
    return _parent_density(config)
