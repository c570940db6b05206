"""Survey presets: a sky that looks like the survey users observe, not just its depth.

A :class:`~sk_clustermass.simulate.Survey` says how deep and with which
instrument a field is observed. A :class:`SurveyPreset` adds what the sky holds and
how sources are selected, so that the detected sample resembles the published one:

* the population: haloes drawn from the mass function over the redshift range
  (``sampling='mass-function'``), so that detected fractions are surface densities;
* an L–M relation already corrected for Malmquist bias (Pratt et al. 2009 above
  1e14 Msun, where REXCESS measured it; the steeper bias-corrected group slope of
  Lovisari et al. 2015 below), so that the bias of the detected sample comes from the
  simulated selection alone;
* cool cores, relaxed and disturbed clusters (:class:`Morphology`);
* the eSASS-like detection and extent selection (:class:`ESASSSelection`) with point
  sources that pass it as contaminants;
* the exposure spread over the field, with its gradient across each cut-out;
* contaminants that carry the redshift of a chance optical counterpart and every
  candidate's ``F_CONT`` (:class:`OpticalConfirmation`);
* cut-outs centred on the detected position, not on the true halo centre.

``'efeds_survey'`` is calibrated against eFEDS (Liu et al. 2022, A&A 661, A2: 542
extended-source candidates over ~140 deg^2, before optical cleaning);
``'erass1_survey'`` against the optically confirmed eRASS1 catalogue (Bulbul et al.
2024, A&A 685, A106: 12,247 clusters over 13,116 deg^2; purity 86%, Kluge et al.
2024). The calibrated numbers and what they were calibrated to are listed in
``docs/simulator.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ._counterpart import OpticalConfirmation
from ._morphology import Morphology
from ._scaling import ScalingRelations
from ._selection import ESASSSelection
from ._survey import SURVEYS, Survey

__all__ = ["PRESETS", "RELATIONS", "SurveyPreset", "get_preset"]

#: Pratt et al. (2009) L–M relation corrected for Malmquist bias (PHYSICS.md), one
#: power law down to 1e13 Msun: the presets' relation before the group-scale slope.
MALMQUIST_CORRECTED_RELATIONS = ScalingRelations(lm_norm_erg_s=0.83e44, lm_slope=1.62)

#: The same above 1e14 Msun (the REXCESS mass range), and below it the
#: Malmquist-bias-corrected L–M slope of galaxy groups, 1.66 +- 0.22 (Lovisari et al.
#: 2015, A&A 573, A118, abstract), continuous at the break.
GROUP_SCALE_RELATIONS = ScalingRelations(lm_norm_erg_s=0.83e44, lm_slope=1.62,
                                         lm_slope_groups=1.66, lm_break_msun=1e14)

#: Named L–M variants, for the "L–M slope at group scale" systematic: pass
#: ``relations=RELATIONS[name]`` to ``make_clusters`` or ``make_catalog``.
#: 'groups_1sigma_steep' takes the upper end of Lovisari et al.'s 1-sigma range.
RELATIONS: dict[str, ScalingRelations] = {
    "pratt09_malmquist_corrected": MALMQUIST_CORRECTED_RELATIONS,
    "lovisari15_groups": GROUP_SCALE_RELATIONS,
    "groups_1sigma_steep": replace(GROUP_SCALE_RELATIONS, lm_slope_groups=1.88),
}


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
    relations : ScalingRelations, default=GROUP_SCALE_RELATIONS
        Pratt et al. (2009) Malmquist-corrected above 1e14 Msun, Lovisari et al.
        (2015) group slope below (:data:`RELATIONS` holds the variants).
    morphology : Morphology, default=Morphology()
    selection : ESASSSelection, default=ESASSSelection()
    centre_on : {'detection', 'truth', 'optical'}, default='detection'
        Cut-outs centred on the detected position, as a survey's are.
    exposure_gradient : bool, default=True
        The exposure varies across each cut-out as over the survey field.

    Examples
    --------
    >>> from sk_clustermass.simulate import get_preset
    >>> preset = get_preset("efeds_survey")
    >>> preset.survey.name, preset.sampling, preset.relations.lm_slope
    ('efeds', 'mass-function', 1.62)
    >>> preset.relations.lm_slope_groups, preset.relations.lm_break_msun
    (1.66, 100000000000000.0)
    """

    name: str
    survey: Survey
    area_deg2: float
    sampling: str = "mass-function"
    mass_range: tuple[float, float] = (13.0, 15.5)
    redshift_range: tuple[float, float] = (0.01, 1.5)
    relations: ScalingRelations = field(default=GROUP_SCALE_RELATIONS)
    morphology: Morphology = field(default_factory=Morphology)
    selection: ESASSSelection = field(default_factory=ESASSSelection)
    centre_on: str = "detection"
    exposure_gradient: bool = True


#: The eRASS1 selection: the X-ray cuts of the eRASS1 cluster candidates,
#: DET_LIKE >= 5 and EXT_LIKE >= 3 (Bulbul et al. 2024), then optical confirmation
#: (F_CONT < 0.16). ``extent_kappa`` = 0.035 and ``max_f_cont`` = 0.16 are calibrated
#: to the catalogue's 0.93 clusters per deg^2 and 86% purity (Bulbul et al. 2024;
#: Kluge et al. 2024); see docs/simulator.md.
ERASS1_SELECTION = ESASSSelection(det_like_min=5.0, ext_like_min=3.0, extent_kappa=0.035,
                                  confirmation=OpticalConfirmation(max_f_cont=0.16))

#: The presets by name. eRASS1 exposures vary strongly with ecliptic latitude
#: (~100 s near the ecliptic to over 1 ks near the poles, Merloni et al. 2024):
#: a log-normal spread of 0.5 in ln around 200 s is assumed (0.3–0.7 tried), varying
#: on the scale of that latitude dependence: a correlation length of 10 deg is assumed
#: (5–20 deg give exposure gradients of 0.1–0.025 in ln per deg, 1 sigma per axis).
PRESETS: dict[str, SurveyPreset] = {
    "efeds_survey": SurveyPreset("efeds_survey", SURVEYS["efeds"], area_deg2=140.0),
    "erass1_survey": SurveyPreset(
        "erass1_survey", replace(SURVEYS["erass1"], exposure_scatter_ln=0.5,
                                 exposure_correlation_deg=10.0),
        area_deg2=13116.0, selection=ERASS1_SELECTION,
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
