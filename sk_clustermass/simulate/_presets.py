"""Survey presets: a sky that looks like the survey users observe, not just its depth.

A :class:`~sk_clustermass.simulate.Survey` says how deep and with which
instrument a field is observed. A :class:`SurveyPreset` adds what the sky holds and
how sources are selected, so that the detected sample resembles the published one:

* the population: haloes drawn from the mass function over the redshift range
  (``sampling='mass-function'``), so that detected fractions are surface densities;
* an L–M relation already corrected for Malmquist bias (Pratt et al. 2009), so that
  the bias of the detected sample comes from the simulated selection alone;
* cool cores, relaxed and disturbed clusters (:class:`Morphology`);
* the eSASS-like detection and extent selection (:class:`ESASSSelection`) with point
  sources that pass it as contaminants;
* the exposure spread over the field, with its gradient across each cut-out;
* cut-outs centred on the detected position, not on the true halo centre.

``'efeds_survey'`` is calibrated against eFEDS (Liu et al. 2022, A&A 661, A2: 542
extended-source candidates over ~140 deg^2); ``'erass1_survey'`` applies the same sky
at eRASS1 depth (Bulbul et al. 2024) and is not calibrated separately.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ._morphology import Morphology
from ._scaling import ScalingRelations
from ._selection import ESASSSelection
from ._survey import SURVEYS, Survey

__all__ = ["PRESETS", "SurveyPreset", "get_preset"]

#: Pratt et al. (2009) L–M relation corrected for Malmquist bias (PHYSICS.md).
MALMQUIST_CORRECTED_RELATIONS = ScalingRelations(lm_norm_erg_s=0.83e44, lm_slope=1.62)


@dataclass(frozen=True)
class SurveyPreset:
    """Survey depth plus the sky population and selection that reproduce a survey.

    Parameters
    ----------
    name : str
    survey : Survey
        Depth, instrument, background.
    area_deg2 : float
        Area of the real survey, deg^2 (to compare counts).
    sampling : str, default='mass-function'
    mass_range : tuple of float, default=(13.0, 15.5)
        log10(M500c / Msun): the eFEDS masses span ~1e13 to ~1e15 (Chiu et al. 2022).
    redshift_range : tuple of float, default=(0.01, 1.5)
    relations : ScalingRelations, default=Pratt et al. (2009) Malmquist-corrected
    morphology : Morphology, default=Morphology()
    selection : ESASSSelection, default=ESASSSelection()
    centre_on : {'detection', 'truth'}, default='detection'
        Cut-outs centred on the detected position, as a survey's are.
    exposure_gradient : bool, default=True
        The exposure varies across each cut-out as over the survey field.

    Examples
    --------
    >>> from sk_clustermass.simulate import get_preset
    >>> preset = get_preset("efeds_survey")
    >>> preset.survey.name, preset.sampling, preset.relations.lm_slope
    ('efeds', 'mass-function', 1.62)
    """

    name: str
    survey: Survey
    area_deg2: float
    sampling: str = "mass-function"
    mass_range: tuple[float, float] = (13.0, 15.5)
    redshift_range: tuple[float, float] = (0.01, 1.5)
    relations: ScalingRelations = field(default=MALMQUIST_CORRECTED_RELATIONS)
    morphology: Morphology = field(default_factory=Morphology)
    selection: ESASSSelection = field(default_factory=ESASSSelection)
    centre_on: str = "detection"
    exposure_gradient: bool = True


#: The presets by name. eRASS1 exposures vary strongly with ecliptic latitude:
#: a log-normal spread of 0.5 in ln around 200 s is assumed (0.3–0.7 tried), varying
#: on the scale of that latitude dependence: a correlation length of 10 deg is assumed
#: (5–20 deg give exposure gradients of 0.1–0.025 in ln per deg, 1 sigma per axis).
PRESETS: dict[str, SurveyPreset] = {
    "efeds_survey": SurveyPreset("efeds_survey", SURVEYS["efeds"], area_deg2=140.0),
    "erass1_survey": SurveyPreset(
        "erass1_survey", replace(SURVEYS["erass1"], exposure_scatter_ln=0.5,
                                 exposure_correlation_deg=10.0),
        area_deg2=13116.0,
    ),
}


def get_preset(name: str) -> SurveyPreset | None:
    """The preset of that (case-insensitive) name, or None for a plain survey depth.

    Examples
    --------
    >>> from sk_clustermass.simulate import get_preset
    >>> get_preset("eFEDS_survey").area_deg2, get_preset("efeds")
    (140.0, None)
    """
    if isinstance(name, str):
        return PRESETS.get(name.lower())
    return None
