"""Classical mass estimators: scaling relations from aperture count rates and luminosities.

The methods the CNN must beat, as scikit-learn regressors on the same ``X``:
:class:`CountRateRelation` and :class:`LuminosityRelation`.
"""

from ._relations import CountRateRelation, LuminosityRelation, redshifted_ecf

__all__ = ["CountRateRelation", "LuminosityRelation", "redshifted_ecf"]
