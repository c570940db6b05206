"""Pretrained models shipped with the package.

Each model is a safe ``.safetensors`` file (see :func:`~sk_clustermass.save_model`)
in ``sk_clustermass/models/pretrained/`` with a JSON record beside it: the
training population, the settings, the file's SHA-256 and its metrics on freshly
simulated clusters. ``benchmarks/train_pretrained.py`` makes both; a test checks
that the shipped file still reproduces the recorded metrics.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator

__all__ = ["PRETRAINED_MODELS", "load_pretrained", "pretrained_info", "pretrained_path"]

#: Names of the shipped models.
PRETRAINED_MODELS: tuple[str, ...] = ("efeds",)


def _check_name(name: str) -> str:
    if name not in PRETRAINED_MODELS:
        message = (f"no pretrained model named {name!r}; the package ships "
                   f"{list(PRETRAINED_MODELS)}")
        raise ValueError(message)
    return name


def pretrained_path(name: str = "efeds") -> Path:
    """Path of a shipped model file.

    Parameters
    ----------
    name : {'efeds'}, default='efeds'

    Returns
    -------
    pathlib.Path
        The ``.safetensors`` file inside the installed package.
    """
    folder = resources.files("sk_clustermass.models") / "pretrained"
    return Path(str(folder / f"{_check_name(name)}.safetensors"))


def pretrained_info(name: str = "efeds") -> dict[str, Any]:
    """The record of a shipped model: training population, settings and metrics.

    Parameters
    ----------
    name : {'efeds'}, default='efeds'

    Returns
    -------
    dict
        Keys ``training_population``, ``regressor_params``, ``preprocessing``,
        ``sha256``, ``library_version``, ``test`` (how the metrics were measured)
        and ``metrics`` (``scatter_dex``, ``bias_dex``, ``coverage_68``,
        ``mean_std_dex`` on freshly simulated clusters).

    Examples
    --------
    >>> from sk_clustermass.models import pretrained_info
    >>> info = pretrained_info("efeds")
    >>> info["training_population"]["survey"], sorted(info["metrics"])[:2]
    ('efeds_survey', ['bias_dex', 'coverage_68'])
    """
    record = pretrained_path(name).with_suffix(".json")
    return json.loads(record.read_text(encoding="utf-8"))


def load_pretrained(name: str = "efeds", *, device: str = "cpu") -> BaseEstimator:
    """Load a model shipped with the package: a fitted ``LogStretch`` + CNN pipeline.

    The ``'efeds'`` model was trained on clusters simulated with the eFEDS preset of
    :func:`~sk_clustermass.datasets.make_clusters` (see :func:`pretrained_info`):
    it expects the library's cubes (10 bands over 0.25-2.3 keV, 50 x 50 pixels of
    24", photon counts) and redshifts. For other images, fine-tune it: set
    ``clustermassregressor__warm_start=True`` and fit on your own labelled clusters.

    Parameters
    ----------
    name : {'efeds'}, default='efeds'
    device : {'cpu', 'cuda'}, default='cpu'

    Returns
    -------
    sklearn.pipeline.Pipeline
        Fitted; ``predict(X, return_std=True)`` gives ``log10(M500c / Msun)`` and
        its width in dex.

    Examples
    --------
    >>> from sk_clustermass.datasets import make_clusters
    >>> from sk_clustermass.models import load_pretrained
    >>> X, y = make_clusters(4, random_state=1, chunk_size=64)
    >>> mean, std = load_pretrained("efeds").predict(X, return_std=True)
    >>> mean.shape, bool((std > 0).all())
    ((4,), True)
    """
    from ._persistence import load_model  # imports torch: only when a model is loaded

    return load_model(pretrained_path(name), device=device)
