"""The names a parameter of the regressor may take, in a module that imports no torch.

The parameter table (:mod:`._parameters`) and the command line built from it read
these tuples, so that ``sk-clustermass --help`` answers without loading PyTorch; the
modules that act on the names (:mod:`._loss`, :mod:`._module`, :mod:`._precision`,
the optimizers of :mod:`._parameters`) import them from here.
"""

from __future__ import annotations

__all__ = [
    "LOSSES",
    "OPTIMIZER_NAMES",
    "PADDING_MODES",
    "PRECISIONS",
    "REGULARIZERS",
    "REGULARIZE_TARGETS",
]

#: Values of ``loss``: the Gaussian negative log-likelihood (mean and width) or the
#: mean squared error (mean only).
LOSSES = ("gaussian_nll", "mse")
#: Values of ``regularizer`` (None: no penalty).
REGULARIZERS = (None, "l1", "l2", "l1l2")
#: Values of ``regularizer_target``: what the penalty applies to.
REGULARIZE_TARGETS = ("kernel", "bias", "activity")
#: Values of ``padding`` of the convolutions.
PADDING_MODES = ("valid", "same")
#: Values of ``ClusterMassRegressor(precision=...)``: float32, bfloat16 autocast, or
#: bfloat16 where the hardware runs it natively.
PRECISIONS = ("fp32", "bf16", "auto")
#: Values of ``optimizer``, in the order of ``torch.optim`` class names
#: ``Adam``, ``AdamW``, ``SGD``, ``RMSprop`` (:data:`._parameters.OPTIMIZERS` maps them).
OPTIMIZER_NAMES = ("adam", "adamw", "sgd", "rmsprop")
