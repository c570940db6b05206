"""The progress bar of command-line training: a skorch callback over the epochs."""

from __future__ import annotations

import sys
from typing import Any

from skorch.callbacks import Callback
from tqdm.auto import tqdm

__all__ = ["EpochProgressBar"]


class EpochProgressBar(Callback):
    """skorch callback: one tqdm bar over the epochs, with the latest losses.

    Parameters
    ----------
    desc : str, default='train'
        Label of the bar.
    disable : bool, default=False
        No bar (``--quiet``).
    """

    def __init__(self, desc: str = "train", disable: bool = False) -> None:
        self.desc = desc
        self.disable = disable

    def initialize(self) -> EpochProgressBar:
        self.bar_ = None
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs) -> None:
        self.bar_ = tqdm(total=net.max_epochs, initial=len(net.history), unit="epoch",
                         desc=self.desc, disable=self.disable, file=sys.stderr)

    def on_epoch_end(self, net, **kwargs) -> None:
        row = net.history[-1]
        losses = {key.split("_")[0]: f"{row[key]:.3f}" for key in ("train_loss", "valid_loss")
                  if key in row}
        self.bar_.set_postfix(losses, refresh=False)
        self.bar_.update(1)

    def on_train_end(self, net, X=None, y=None, **kwargs) -> None:
        if self.bar_ is not None:
            self.bar_.close()
        self.bar_ = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["bar_"] = None
        return state
