"""Checks of the simulator's arguments, and the SimulationConfig they build.

:func:`build_config` validates every physical setting of :func:`make_clusters`,
:func:`make_catalog` and :func:`stream_clusters` (fills a survey preset's values where
None is given) and bundles them into one :class:`._population.SimulationConfig`.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
from astropy.cosmology import FLRW

from .._utils import check_choice, check_number
from ..instrument import DEFAULT_BAND_EDGES_KEV
from ._agn import AGNPopulation
from ._cosmology import DEFAULT_COSMOLOGY
from ._cutout import CENTRES
from ._lab_float_images import IMAGE_FORMATS
from ._massfunction import LinearPowerSpectrum
from ._morphology import Morphology
from ._pipeline import SAMPLINGS, SimulationConfig
from ._presets import PRESETS, get_preset
from ._profiles import GasProfile
from ._random import SEED_BLOCK
from ._scaling import ScalingRelations
from ._selection import ESASSSelection
from ._survey import LAB_POPULATIONS, get_survey

__all__ = [
    "SURVEYS_AND_PRESETS",
    "build_config",
    "check_image_format",
    "check_int",
    "check_n_jobs",
    "round_chunk_size",
]


def check_int(value: Any, name: str, minimum: int) -> int:
    """``value`` as an int, after checking it is an integer >= ``minimum``."""
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


def build_config(
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
    if filled["centre_on"] in ("detection", "optical") and filled["selection"] is None:
        message = (
            f"centre_on={filled['centre_on']!r} needs the eSASS-like selection, which "
            "measures the detected position: use a survey preset such as "
            "survey='efeds_survey', pass selection=ESASSSelection(), or centre_on='truth'"
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
        image_size=check_int(image_size, "image_size", 4),
        mass_range=_check_range(mass_range, "mass_range", 11.0, 16.0, "log10(M500c / Msun)"),
        redshift_range=_check_range(
            redshift_range, "redshift_range", 0.0, 3.0, "redshift", open_low=True
        ),
        sampling=sampling,
        scatter=bool(scatter),
        min_net_counts=float(min_net_counts),
        oversample=check_int(oversample, "oversample", 1),
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


#: The names ``survey`` accepts: the lab populations at a survey's depth (and their
#: former names, the depths), and the survey presets.
SURVEYS_AND_PRESETS = (*LAB_POPULATIONS, "efeds", "erass1", *PRESETS)


def check_image_format(image_format: Any) -> None:
    """Raise ValueError unless ``image_format`` is one of the simulator's image formats."""
    if image_format not in IMAGE_FORMATS:
        message = f"image_format must be one of {list(IMAGE_FORMATS)}; got {image_format!r}"
        raise ValueError(message)


def round_chunk_size(chunk_size: Any, n_samples: int | None = None) -> int:
    """The chunk size, checked, capped at ``n_samples`` and rounded up to whole seed
    blocks (64 clusters).

    The clusters depend on the random state alone, not on the chunk size, so the cap
    changes nothing but memory: ``chunk_size=10**9`` for 300 clusters would otherwise
    allocate a billion clusters' arrays.
    """
    size = check_int(chunk_size, "chunk_size", 1)
    if n_samples is not None:
        size = min(size, max(int(n_samples), 1))
    return -(-size // SEED_BLOCK) * SEED_BLOCK


def check_n_jobs(n_jobs: Any) -> int | None:
    """``n_jobs`` checked with joblib's semantics (non-zero int or None)."""
    if n_jobs is None:
        return None
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, Integral) or n_jobs == 0:
        message = f"n_jobs must be a non-zero integer or None (joblib semantics); got {n_jobs!r}"
        raise ValueError(message)
    return int(n_jobs)
