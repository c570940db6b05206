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
:func:`make_catalog` gives the catalogue without images (fast), and
:func:`simulate_to_hdf5` streams any number of clusters to an HDF5 file with memory
bounded by the chunk size.
"""

from __future__ import annotations

import inspect
import json
import os
import warnings
from collections.abc import Generator, Iterator, Sequence
from dataclasses import asdict
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from astropy.cosmology import FLRW
from joblib import Parallel, delayed, effective_n_jobs
from tqdm.auto import tqdm

from .._inputs import as_inputs
from .._utils import check_choice, check_number, sigterm_as_keyboard_interrupt
from ..instrument import DEFAULT_BAND_EDGES_KEV
from ..io._hdf5_format import DEFAULT_COMPRESSION
from ._agn import AGNPopulation
from ._cosmology import DEFAULT_COSMOLOGY
from ._cutout import CENTRES
from ._lab_float_images import IMAGE_FORMATS, to_lab_style
from ._massfunction import LinearPowerSpectrum
from ._morphology import Morphology
from ._pipeline import SAMPLINGS, SimulationConfig, simulate_chunk
from ._pipeline import parent_density_deg2 as _parent_density
from ._presets import PRESETS, get_preset
from ._profiles import GasProfile
from ._random import SEED_BLOCK, root_seed_sequence
from ._scaling import ScalingRelations
from ._selection import ESASSSelection
from ._survey import get_survey

__all__ = ["make_catalog", "make_clusters", "parent_density_deg2", "simulate_to_hdf5"]

#: Give up when this many parent clusters per requested cluster yield too few detections
#: (net-count cut; the eSASS-like selection keeps ~1% of a mass-function population).
_MAX_PARENTS_PER_SAMPLE = 50
_MAX_PARENTS_PER_SAMPLE_SELECTION = 2000
#: Parents per chunk, in units of chunk_size, when the selection comes before rendering.
_SELECTION_CHUNK_FACTOR = 16
_CANCELLED_CHUNKS = r".*(successfully executed +but not used|still being processed)"
_AUTO_PROGRESS_SAMPLES = 10_000
#: The catalogue column that becomes X["exposure"]: the exposure the cluster's photons
#: see (what an exposure map gives), s.
EXPOSURE_COLUMN = "exposure_vignetted_s"


# ----------------------------------------------------------------------------- checks
def _check_int(value: Any, name: str, minimum: int) -> int:
    check_number(name, value, integer=True, low=minimum)
    return int(value)


def _check_range(
    value: Any, name: str, low: float, high: float, unit: str, *, open_low: bool = False
) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        lo = hi = float("nan")
    below = lo <= low if open_low else lo < low
    if not (np.isfinite(lo) and np.isfinite(hi)) or below or hi > high or lo > hi:
        bound = "(" if open_low else "["
        message = (
            f"{name} must be a pair (low, high) of {unit} with low <= high, both inside "
            f"{bound}{low}, {high}]; got {value!r}"
        )
        raise ValueError(message)
    return lo, hi


def _check_edges(edges: Any) -> tuple[float, ...]:
    if edges is None:
        return DEFAULT_BAND_EDGES_KEV
    array = np.asarray(edges, dtype=np.float64).ravel()
    if array.size < 2 or not np.all(np.diff(array) > 0) or array[0] < 0.1 or array[-1] > 10.0:
        message = (
            "band_edges_kev must hold at least two increasing energies within 0.1–10 keV "
            f"(the default is 10 bands over 0.25–2.3 keV); got {edges!r}"
        )
        raise ValueError(message)
    return tuple(float(e) for e in array)


def _check_instance(value: Any, kind: type, name: str) -> Any:
    if value is None:
        return kind()
    if not isinstance(value, kind):
        message = f"{name} must be a {kind.__name__} or None; got {type(value).__name__}"
        raise TypeError(message)
    return value


def _preset_defaults(survey: Any, given: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The Survey and, for a preset, its population and selection where None is given."""
    preset = get_preset(survey)
    defaults = {"sampling": "log-uniform", "mass_range": (13.0, 15.0),
                "redshift_range": (0.01, 1.5), "relations": None, "morphology": None,
                "selection": None, "centre_on": "truth", "exposure_gradient": False}
    if preset is not None:
        defaults = {name: getattr(preset, name) for name in defaults}
        survey = preset.survey
    elif isinstance(survey, str) and survey.lower() not in SURVEYS_AND_PRESETS:
        message = (
            f"unknown survey {survey!r}; use one of {sorted(SURVEYS_AND_PRESETS)} (the "
            f"presets {sorted(PRESETS)} add a mass-function population, the eSASS-like "
            "selection, cool cores and contaminants) or a "
            "sk_clustermass.simulate.Survey"
        )
        raise ValueError(message)
    filled = {name: defaults[name] if given[name] is None else given[name] for name in defaults}
    if isinstance(filled["sampling"], str):
        filled["sampling"] = filled["sampling"].replace("_", "-")
    return get_survey(survey), filled


def _build_config(
    *,
    survey: Any,
    mass_range: Any,
    redshift_range: Any,
    sampling: Any,
    scatter: bool,
    min_net_counts: Any,
    band_edges_kev: Any,
    image_size: Any,
    relations: Any,
    gas: Any,
    agn: Any,
    cosmology: Any,
    power_spectrum: Any,
    oversample: Any,
    morphology: Any = None,
    selection: Any = None,
    contaminants: Any = False,
    centre_on: Any = None,
    exposure_gradient: Any = None,
) -> SimulationConfig:
    """Validate every physical setting and bundle it into a SimulationConfig."""
    survey_obj, filled = _preset_defaults(survey, {
        "sampling": sampling, "mass_range": mass_range, "redshift_range": redshift_range,
        "relations": relations, "morphology": morphology, "selection": selection,
        "centre_on": centre_on, "exposure_gradient": exposure_gradient,
    })
    check_choice("centre_on", filled["centre_on"], CENTRES)
    if filled["centre_on"] == "detection" and filled["selection"] is None:
        message = (
            "centre_on='detection' needs the eSASS-like selection, which measures the "
            "detected position: use a survey preset such as survey='efeds_survey', pass "
            "selection=ESASSSelection(), or centre_on='truth'"
        )
        raise ValueError(message)
    sampling, relations = filled["sampling"], filled["relations"]
    mass_range, redshift_range = filled["mass_range"], filled["redshift_range"]
    check_choice("sampling", sampling, SAMPLINGS)
    check_number("min_net_counts", min_net_counts, allow_none=True)
    if min_net_counts is None:
        min_net_counts = survey_obj.min_net_counts
    if cosmology is not None and not isinstance(cosmology, FLRW):
        message = (
            "cosmology must be an astropy.cosmology FLRW instance (e.g. "
            f"FlatLambdaCDM(H0=70, Om0=0.3)) or None; got {type(cosmology).__name__}"
        )
        raise TypeError(message)
    if contaminants and (filled["selection"] is None or sampling != "mass-function"):
        message = (
            "contaminants=True needs the eSASS-like selection and sampling='mass-function' "
            "(contaminant rates are surface densities): use a survey preset such as "
            "survey='efeds_survey', or pass selection=ESASSSelection() and "
            "sampling='mass-function'"
        )
        raise ValueError(message)
    return SimulationConfig(
        survey=survey_obj,
        relations=_check_instance(relations, ScalingRelations, "relations"),
        gas=_check_instance(gas, GasProfile, "gas"),
        agn=_check_instance(agn, AGNPopulation, "agn"),
        cosmology=DEFAULT_COSMOLOGY if cosmology is None else cosmology,
        power_spectrum=_check_instance(power_spectrum, LinearPowerSpectrum, "power_spectrum"),
        band_edges_kev=_check_edges(band_edges_kev),
        image_size=_check_int(image_size, "image_size", 4),
        mass_range=_check_range(mass_range, "mass_range", 11.0, 16.0, "log10(M500c / Msun)"),
        redshift_range=_check_range(
            redshift_range, "redshift_range", 0.0, 3.0, "redshift", open_low=True
        ),
        sampling=sampling,
        scatter=bool(scatter),
        min_net_counts=float(min_net_counts),
        oversample=_check_int(oversample, "oversample", 1),
        morphology=_check_optional(filled["morphology"], Morphology, "morphology"),
        selection=_check_optional(filled["selection"], ESASSSelection, "selection"),
        contaminants=bool(contaminants),
        centre_on=filled["centre_on"],
        exposure_gradient=bool(filled["exposure_gradient"]),
    )


def _check_optional(value: Any, kind: type, name: str) -> Any:
    if value is not None and not isinstance(value, kind):
        message = f"{name} must be a {kind.__name__} or None; got {type(value).__name__}"
        raise TypeError(message)
    return value


SURVEYS_AND_PRESETS = ("efeds", "erass1", *PRESETS)


def _check_image_format(image_format: Any) -> None:
    if image_format not in IMAGE_FORMATS:
        message = f"image_format must be one of {list(IMAGE_FORMATS)}; got {image_format!r}"
        raise ValueError(message)


def _chunk_size(chunk_size: Any) -> int:
    size = _check_int(chunk_size, "chunk_size", 1)
    return -(-size // SEED_BLOCK) * SEED_BLOCK


def _check_n_jobs(n_jobs: Any) -> int | None:
    if n_jobs is None:
        return None
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, Integral) or n_jobs == 0:
        message = f"n_jobs must be a non-zero integer or None (joblib semantics); got {n_jobs!r}"
        raise ValueError(message)
    return int(n_jobs)


# ----------------------------------------------------------------------------- engine
def _run_chunk(
    root: np.random.SeedSequence,
    first: int,
    n: int,
    config: SimulationConfig,
    render: bool,
    detected_only: bool,
    compact: bool = False,
) -> dict[str, Any]:
    """Simulate one chunk and keep what the caller needs (the detected rows if asked).

    ``compact``: images in the smallest exact integer type, for the trip back from a
    worker process.
    """
    result = simulate_chunk(root, first, n, config, render=render, detected_only=detected_only)
    catalog = pd.DataFrame(result["catalog"])
    images = result.get("images")
    if render and detected_only:
        keep = catalog["detected"].to_numpy()
        catalog = catalog.loc[keep].reset_index(drop=True)
        images = images[keep]
    return {
        "images": _compact_counts(images) if compact and images is not None else images,
        "redshift": catalog["z"].to_numpy(np.float32),
        "exposure": catalog[EXPOSURE_COLUMN].to_numpy(np.float32),
        "y": catalog["log10_M500c"].to_numpy(np.float64),
        "catalog": catalog,
        "n_parents": n,
    }


def _compact_counts(images: np.ndarray) -> np.ndarray:
    """The images in the smallest unsigned integer type that holds them exactly.

    Simulated images are photon counts, so a chunk usually fits in 8 or 16 bits: the
    copy sent back from a worker process is 2-4 times smaller than float32, which
    matters because one process receives and writes every chunk. Anything that is not
    a whole number below 65536 stays float32. :func:`_as_float32` undoes it.
    """
    peak = images.max(initial=0.0)
    for dtype in (np.uint8, np.uint16):
        if peak <= np.iinfo(dtype).max:
            compact = images.astype(dtype)
            if np.array_equal(compact, images):  # whole, non-negative numbers only
                return compact
            break
    return images


def _as_float32(images: np.ndarray) -> np.ndarray:
    return images if images.dtype == np.float32 else images.astype(np.float32)


def _chunk_tasks(
    n_samples: int, chunk_size: int, detected_only: bool, max_parents: int
) -> Iterator[tuple[int, int]]:
    """(first parent, parents) of each chunk, in order; endless when cutting on detection."""
    first = 0
    while detected_only or first < n_samples:
        if detected_only and first > max_parents * n_samples + chunk_size:
            return  # the caller reports how many were found
        yield first, chunk_size if detected_only else min(chunk_size, n_samples - first)
        first += chunk_size


def _chunk_results(
    calls: Iterator[tuple], n_jobs: int | None, workers: int
) -> Generator[dict[str, Any], None, None]:
    """Run the chunk calls; results in order as they complete (``close()`` stops the rest).

    With several workers the chunks go to joblib (loky locally, or whatever backend
    a ``parallel_config`` block selects, dask included) with results streamed back in
    order: a worker never waits for the others or for the file being written. At most
    ``2 * n_jobs`` chunks are dispatched ahead of the last one completed.
    """
    if workers == 1:
        return (function(*args) for function, args, _ in calls)
    try:
        parallel = Parallel(n_jobs=n_jobs, return_as="generator")
    except ValueError:  # a backend that cannot stream results (multiprocessing)
        parallel = Parallel(n_jobs=n_jobs)
        return (result for wave in _waves(calls, 2 * workers) for result in parallel(wave))
    return parallel(calls)


def _waves(calls: Iterator[tuple], size: int) -> Iterator[list[tuple]]:
    wave = []
    for call in calls:
        wave.append(call)
        if len(wave) == size:
            yield wave
            wave = []
    if wave:
        yield wave


def _iter_chunks(
    config: SimulationConfig,
    root: np.random.SeedSequence,
    n_samples: int,
    chunk_size: int,
    n_jobs: int | None,
    *,
    render: bool = True,
    detected_only: bool = False,
    progress: bool = False,
    image_format: str = "counts",
) -> Iterator[dict[str, Any]]:
    """Yield chunk results in cluster order, cut so that exactly n_samples rows come out.

    The rows depend only on the random state and the chunk size, never on the number
    of workers or the order in which chunks finish.
    """
    workers = 1 if n_jobs == 1 else effective_n_jobs(n_jobs)
    max_parents = (_MAX_PARENTS_PER_SAMPLE if config.selection is None
                   else _MAX_PARENTS_PER_SAMPLE_SELECTION)
    if config.selection is not None and detected_only and render:
        # ~1% of the parents are rendered: bigger chunks of parents, same memory
        chunk_size *= _SELECTION_CHUNK_FACTOR
    calls = (
        delayed(_run_chunk)(root, first, size, config, render, detected_only, workers > 1)
        for first, size in _chunk_tasks(n_samples, chunk_size, detected_only, max_parents)
    )
    results = _chunk_results(calls, n_jobs, workers)
    remaining, parents = n_samples, 0
    bar = tqdm(total=n_samples, unit="cluster", desc="make_clusters", disable=not progress)
    try:
        with bar:
            for result in results:
                parents += result["n_parents"]
                taken = min(remaining, len(result["y"]))
                if taken < len(result["y"]):
                    result = _head(result, taken)
                remaining -= taken
                bar.update(taken)
                if taken:
                    if result["images"] is not None:
                        result["images"] = _as_float32(result["images"])
                        if image_format == "lab":
                            result["images"] = to_lab_style(result["images"])
                    yield result
                if remaining == 0:
                    return
    finally:
        # with a detection cut, the chunks dispatched ahead are not needed once enough
        # clusters are found: cancelling them is the point, not worth joblib's warning
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_CANCELLED_CHUNKS, category=UserWarning)
            results.close()
    found = n_samples - remaining
    message = (
        f"only {found} of {n_samples} clusters passed the detection cut after "
        f"simulating {parents} (detected fraction {found / parents:.2%}); widen "
        "mass_range/redshift_range, lower min_net_counts, choose a deeper "
        "survey or pass detected_only=False"
    )
    raise RuntimeError(message)


def _head(result: dict[str, Any], n: int) -> dict[str, Any]:
    return {
        "images": None if result["images"] is None else result["images"][:n],
        "redshift": result["redshift"][:n],
        "exposure": result["exposure"][:n],
        "y": result["y"][:n],
        "catalog": result["catalog"].iloc[:n].reset_index(drop=True),
        "n_parents": result["n_parents"],
    }


# ----------------------------------------------------------------------------- public API
def make_clusters(
    n_samples: int = 1000,
    *,
    survey: Any = "efeds",
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
    survey : {'efeds', 'erass1', 'efeds_survey', 'erass1_survey'} or Survey, default='efeds'
        'efeds' and 'erass1' (or a :class:`~sk_clustermass.simulate.Survey`)
        set the depth, instrument and background only (change single numbers with
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
        Clusters per unit of work, rounded up to a multiple of 64; bounds memory
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
        default for 'efeds' and 'erass1'): uniform in log10 M500c and in z, the
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
        model, or the single beta model of ``gas`` for 'efeds'/'erass1'.
    selection : ESASSSelection, optional
        The eSASS-like detection and extent selection
        (:class:`~sk_clustermass.simulate.ESASSSelection`), decided before
        rendering; None: the presets' selection, or the net-count cut
        ``min_net_counts`` for 'efeds'/'erass1'.
    contaminants : bool, default=False
        Let point sources that pass the extent cut into the sample (needs the
        selection and 'mass-function'): flagged by ``is_contaminant`` in the
        catalogue, with y = NaN; drop them before training, keep them to study their
        effect on predictions.
    image_format : {'counts', 'lab'}, default='counts'
        'counts': Poisson photon counts. 'lab': the lab's format, floats rescaled from
        fine pixels and Gaussian-smoothed (:func:`~sk_clustermass.datasets.to_lab_style`
        with its defaults), so that models can be trained for the lab's data.
    centre_on : {'truth', 'detection'}, optional
        Where each cut-out is centred: on the halo centre ('truth', the default for
        'efeds' and 'erass1'), or, like real cut-outs, on the position the eSASS-like
        detection measured ('detection', the presets' default; needs the selection):
        the centroid of the detected emission with its statistical error. The
        catalogue's ``x_pix``, ``y_pix`` are the gas centre in the cut-out's pixels,
        ``centre_offset_arcsec`` the image centre's distance from the halo centre.
    exposure_gradient : bool, optional
        Tilt each cut-out's exposure by the gradient of the survey's exposure map
        (``Survey.exposure_scatter_ln`` over ``Survey.exposure_correlation_deg``); the
        presets' default is True, 'efeds' and 'erass1' default to False.
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
    n_samples = _check_int(n_samples, "n_samples", 1)
    _check_image_format(image_format)
    config = _build_config(
        survey=survey, mass_range=mass_range, redshift_range=redshift_range,
        sampling=sampling, scatter=scatter, min_net_counts=min_net_counts,
        band_edges_kev=band_edges_kev, image_size=image_size, relations=relations, gas=gas,
        agn=agn, cosmology=cosmology, power_spectrum=power_spectrum, oversample=oversample,
        morphology=morphology, selection=selection, contaminants=contaminants,
        centre_on=centre_on, exposure_gradient=exposure_gradient,
    )
    size, root = _chunk_size(chunk_size), root_seed_sequence(random_state)
    show = n_samples >= _AUTO_PROGRESS_SAMPLES if progress is None else bool(progress)
    shape = (n_samples, config.n_bands, config.image_size, config.image_size)
    images = np.empty(shape, dtype=np.float32)
    redshift = np.empty(n_samples, dtype=np.float32)
    exposure = np.empty(n_samples, dtype=np.float32)
    y = np.empty(n_samples, dtype=np.float64)
    catalogs, start = [], 0
    for chunk in _iter_chunks(config, root, n_samples, size, _check_n_jobs(n_jobs),
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
    survey: Any = "efeds",
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
    n_samples = _check_int(n_samples, "n_samples", 1)
    config = _build_config(
        survey=survey, mass_range=mass_range, redshift_range=redshift_range,
        sampling=sampling, scatter=scatter, min_net_counts=None, band_edges_kev=band_edges_kev,
        image_size=50, relations=relations, gas=gas, agn=agn, cosmology=cosmology,
        power_spectrum=power_spectrum, oversample=2, morphology=morphology,
        selection=selection, contaminants=contaminants, centre_on=centre_on,
        exposure_gradient=exposure_gradient,
    )
    chunks = _iter_chunks(config, root_seed_sequence(random_state), n_samples,
                          _chunk_size(chunk_size), 1, render=False)
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
    config = _build_config(
        survey=survey, mass_range=mass_range, redshift_range=redshift_range,
        sampling="mass-function", scatter=True, min_net_counts=None, band_edges_kev=None,
        image_size=50, relations=None, gas=None, agn=None, cosmology=cosmology,
        power_spectrum=power_spectrum, oversample=2, selection=selection,
        contaminants=contaminants,
    )
    return _parent_density(config)


def _json_settings(config: SimulationConfig, extra: dict[str, Any]) -> str:
    """The simulation settings as JSON, for the HDF5 file attributes."""
    settings = {
        "survey": asdict(config.survey),
        "relations": asdict(config.relations),
        "gas": asdict(config.gas),
        "agn": asdict(config.agn),
        "power_spectrum": asdict(config.power_spectrum),
        "morphology": None if config.morphology is None else asdict(config.morphology),
        "selection": None if config.selection is None else asdict(config.selection),
        "contaminants": config.contaminants,
        "cosmology": repr(config.cosmology),
        "band_edges_kev": list(config.band_edges_kev),
        "image_size": config.image_size,
        "mass_range": list(config.mass_range),
        "redshift_range": list(config.redshift_range),
        "sampling": config.sampling,
        "scatter": config.scatter,
        "min_net_counts": config.min_net_counts,
        "oversample": config.oversample,
        **extra,
    }
    return json.dumps(settings, default=str)


def simulate_to_hdf5(
    path: str | os.PathLike,
    n_samples: int,
    *,
    chunk_size: int = 1000,
    survey: Any = "efeds",
    random_state: Any = None,
    n_jobs: int | None = 1,
    progress: bool = True,
    compression: str | None = DEFAULT_COMPRESSION,
    **kwargs: Any,
) -> Path:
    """Simulate clusters straight into an HDF5 file, chunk by chunk.

    Memory stays bounded by ``chunk_size`` (times the chunks in flight, 2 per job)
    whatever ``n_samples`` is. The file is written under a temporary name and renamed
    when complete (:class:`~sk_clustermass.io._hdf5.HDF5ClusterWriter`); read it
    back with :func:`~sk_clustermass.io._hdf5.read_hdf5`. The clusters are
    identical to those of :func:`make_clusters` with the same settings.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file (its directory must exist).
    n_samples : int
    chunk_size : int, default=1000
        Clusters per chunk (rounded up to a multiple of 64).
    survey, random_state, n_jobs : see :func:`make_clusters`
    progress : bool, default=True
        Show a progress bar.
    compression : {'bitshuffle', 'lzf', 'gzip', None}, default='bitshuffle'
        HDF5 compression (see :class:`~sk_clustermass.datasets.HDF5ClusterWriter`).
    **kwargs
        Any other keyword of :func:`make_clusters` (``mass_range``, ``sampling``,
        ``detected_only``, ``scatter``, ...), except ``return_catalog`` (the catalogue
        is always written).

    Returns
    -------
    pathlib.Path
        The written file. Its attributes hold ``band_edges_kev``, ``survey``,
        ``pixel_arcsec``, ``random_state_entropy`` (to reproduce a run made with
        ``random_state=None``) and ``simulation_settings`` (JSON).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sk_clustermass.datasets import read_hdf5
    >>> from sk_clustermass.datasets import simulate_to_hdf5
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = simulate_to_hdf5(pathlib.Path(folder) / "mock.h5", 6, chunk_size=64,
    ...                             random_state=0, progress=False)
    ...     X, y, catalog = read_hdf5(path)
    >>> X["images"].shape, len(catalog)
    ((6, 10, 50, 50), 6)
    """
    from ..io._hdf5 import HDF5ClusterWriter

    allowed = {
        "mass_range", "redshift_range", "sampling", "detected_only", "min_net_counts",
        "scatter", "band_edges_kev", "image_size", "relations", "gas", "agn", "cosmology",
        "power_spectrum", "oversample", "morphology", "selection", "contaminants",
        "image_format",
    }
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        message = f"unexpected keyword(s) {unknown}; simulate_to_hdf5 accepts {sorted(allowed)}"
        raise TypeError(message)
    n_samples = _check_int(n_samples, "n_samples", 1)
    if kwargs.get("contaminants"):
        message = (
            "simulate_to_hdf5 cannot write contaminants: they have no mass (y = NaN) and "
            "the HDF5 format stores finite targets only; simulate them in memory with "
            "make_clusters(..., contaminants=True)"
        )
        raise ValueError(message)
    detected_only = bool(kwargs.pop("detected_only", True))
    image_format = kwargs.pop("image_format", "counts")
    _check_image_format(image_format)
    signature = inspect.signature(make_clusters).parameters
    settings = {name: signature[name].default
                for name in allowed - {"detected_only", "image_format"}}
    settings.update(kwargs)
    config = _build_config(survey=survey, **settings)
    root = root_seed_sequence(random_state)
    attrs = {
        "band_edges_kev": np.asarray(config.band_edges_kev),
        "survey": config.survey.name,
        "pixel_arcsec": config.survey.pixel_arcsec,
        "random_state_entropy": str(root.entropy),
        "generator": "sk_clustermass.datasets.make_clusters",
        "simulation_settings": _json_settings(config, {"detected_only": detected_only,
                                                       "image_format": image_format}),
    }
    writer = HDF5ClusterWriter(
        path, n_bands=config.n_bands, height=config.image_size, width=config.image_size,
        compression=compression, attrs=attrs,
    )
    chunks = _iter_chunks(config, root, n_samples, _chunk_size(chunk_size),
                          _check_n_jobs(n_jobs), detected_only=detected_only,
                          progress=bool(progress), image_format=image_format)
    with sigterm_as_keyboard_interrupt(), writer:  # kill/SLURM/docker stop act as Ctrl-C
        for chunk in chunks:
            inputs = {key: chunk[key] for key in ("images", "redshift", "exposure")}
            writer.append(inputs, chunk["y"], chunk["catalog"])
    return Path(path)
