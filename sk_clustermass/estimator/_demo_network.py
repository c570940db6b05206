"""The demo network: a small, fast :class:`ClusterMassRegressor` preset.

``sk-clustermass demo``, the examples and the benchmarks all train this network, so
their numbers compare; this module is its one home. Public through
:func:`sk_clustermass.estimator.demo_parameters`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["demo_parameters"]

#: The seed's design, slimmed to train in minutes on 2 CPU cores (one convolution
#: before the first pool), with random flips/rotations against overfitting.
_DEMO: dict[str, Any] = {
    "n_filters": 16,
    "kernel_size": 3,
    "conv_layers": (1, 2),
    "pool_size": 4,
    "dense_layers": (256, 128, 64),
    "lr": 1e-3,
    "lr_schedule": "cosine",
    "batch_size": 64,
    "patience": 5,
    "augment": True,
}
#: A smoke test in seconds (the masses are poor).
_QUICK: dict[str, Any] = {
    "n_filters": 4,
    "kernel_size": 3,
    "conv_layers": (1,),
    "pool_size": 4,
    "dense_layers": (16,),
    "batch_size": 32,
    "patience": None,
}


def demo_parameters(quick: bool = False) -> dict[str, Any]:
    """The :class:`ClusterMassRegressor` parameters of the demo network.

    The network ``sk-clustermass demo`` trains: the seed lab's design slimmed to train
    in minutes on 2 CPU cores (16 filters of 3x3, one convolution before the first 4x4
    pool and two before the second, dense layers 256-128-64), Adam at ``lr=1e-3`` with
    a cosine schedule, batches of 64, early stopping after 5 epochs without a better
    validation loss, and random flips/rotations in training. With ``quick=True``, a
    network of 4 filters and one dense layer of 16 units without early stopping: a
    smoke test that trains in seconds and gives poor masses.

    The number of epochs, the device and the random state are not part of the preset:
    add them (``max_epochs``, ``device``, ``random_state``).

    Parameters
    ----------
    quick : bool, default=False
        The smoke-test network instead of the demo's.

    Returns
    -------
    dict of str to object
        Constructor parameters of :class:`ClusterMassRegressor`; a new dict on every
        call, so changing it changes nothing else.

    Examples
    --------
    >>> from sk_clustermass import ClusterMassRegressor
    >>> from sk_clustermass.estimator import demo_parameters
    >>> params = demo_parameters()
    >>> params["n_filters"], params["dense_layers"], params["lr_schedule"]
    (16, (256, 128, 64), 'cosine')
    >>> regressor = ClusterMassRegressor(**demo_parameters(), max_epochs=20, random_state=0)
    >>> demo_parameters(quick=True)["n_filters"]
    4
    """
    return dict(_QUICK if quick else _DEMO)
