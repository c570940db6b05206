"""A skorch callback that ends training once a wall-time budget is spent.

Used by the standard-mode studies to compare settings "at equal wall time" (optimizers,
batch sizes) as well as at convergence.
"""

from __future__ import annotations

from typing import Any

from skorch.callbacks import Callback

__all__ = ["TimeBudget"]


class TimeBudget(Callback):
    """Stop training at the end of the first epoch that takes the total past ``seconds``.

    The duration is skorch's per-epoch ``dur`` (training and validation), summed over
    the epochs of the current fit. Stopping works like early stopping: training ends
    normally, so the regressor's ``EarlyStopping`` (when ``patience`` is set) still
    restores the best epoch's weights and the width calibration still runs.

    Parameters
    ----------
    seconds : float
        Wall-time budget of one fit, in seconds. Budgets depend on the machine: state
        its hardware beside any result.

    Attributes
    ----------
    spent_ : float
        Seconds used by the last fit.
    stopped_ : bool
        Whether the last fit was ended by the budget; the regressor then treats the fit
        as finished (no ``TrainingInterruptedWarning``, a checkpoint marked complete).

    Examples
    --------
    >>> from sk_clustermass import ClusterMassRegressor
    >>> from sk_clustermass.studies import TimeBudget
    >>> model = ClusterMassRegressor(callbacks=[TimeBudget(30.0)])
    >>> model.callbacks
    [TimeBudget(seconds=30.0)]
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def initialize(self) -> TimeBudget:
        """Check the budget and reset the time spent."""
        if not float(self.seconds) > 0:
            message = f"TimeBudget needs seconds > 0; got {self.seconds!r}"
            raise ValueError(message)
        self.spent_ = 0.0
        self.stopped_ = False
        return self

    def on_train_begin(self, net: Any, **kwargs: Any) -> None:
        """Start counting at zero for this fit."""
        self.spent_ = 0.0
        self.stopped_ = False

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        """Add the epoch's duration; stop once the budget is spent."""
        self.spent_ += float(net.history[-1, "dur"])
        if self.spent_ >= self.seconds:
            self.stopped_ = True
            raise KeyboardInterrupt

    def __repr__(self) -> str:
        return f"TimeBudget(seconds={float(self.seconds)!r})"
