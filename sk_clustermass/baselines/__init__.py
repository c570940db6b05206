"""Classical mass estimators: scaling relations and boosted trees on aperture photometry.

The methods the CNN must beat, as scikit-learn regressors on the same ``X``:
:class:`CountRateRelation` and :class:`LuminosityRelation` (scaling relations), and
:class:`BoostedApertureRegressor` (gradient-boosted trees on aperture counts,
hardness, background and redshift: the strong classical competitor).
"""

from ._boosted import BoostedApertureRegressor
from ._relations import CountRateRelation, LuminosityRelation, redshifted_ecf

__all__ = ["BoostedApertureRegressor", "CountRateRelation", "LuminosityRelation",
           "redshifted_ecf"]
