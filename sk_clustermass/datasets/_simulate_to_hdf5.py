"""Simulating straight into an HDF5 file: the simulator feeding the HDF5 writer.

The one piece of :mod:`sk_clustermass.datasets` that needs both the simulator
(:mod:`sk_clustermass.simulate`) and the file formats (:mod:`sk_clustermass.io`).
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Any

from .._utils import check_number, raise_if_signalled, sigterm_as_keyboard_interrupt
from ..io import DEFAULT_COMPRESSION, HDF5ClusterWriter
from ..simulate import stream_clusters

__all__ = ["simulate_to_hdf5"]

#: The keywords of :func:`stream_clusters` that ``**kwargs`` may set.
_SETTINGS = frozenset(inspect.signature(stream_clusters).parameters) - {
    "n_samples", "chunk_size", "survey", "random_state", "n_jobs", "progress",
}


def simulate_to_hdf5(
    path: str | os.PathLike,
    n_samples: int,
    *,
    chunk_size: int = 1000,
    survey: Any = "efeds_lab",
    random_state: Any = None,
    n_jobs: int | None = 1,
    progress: bool = True,
    compression: str | None = DEFAULT_COMPRESSION,
    **kwargs: Any,
) -> Path:
    """Simulate clusters straight into an HDF5 file, chunk by chunk.

    Memory stays bounded by ``chunk_size`` (times the chunks in flight, 2 per job)
    whatever ``n_samples`` is. The file is written under a temporary name and renamed
    when complete (:class:`~sk_clustermass.io.HDF5ClusterWriter`); read it
    back with :func:`~sk_clustermass.io.read_hdf5`. The clusters are
    identical to those of :func:`~sk_clustermass.simulate.make_clusters` with the same settings.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file (its directory must exist).
    n_samples : int
    chunk_size : int, default=1000
        Clusters per chunk (capped at ``n_samples``, rounded up to a multiple of 64).
    survey, random_state, n_jobs : see :func:`~sk_clustermass.simulate.make_clusters`
    progress : bool, default=True
        Show a progress bar.
    compression : {'gzip', 'bitshuffle', 'lzf', None}, default='gzip'
        HDF5 compression (see :class:`~sk_clustermass.datasets.HDF5ClusterWriter`).
    **kwargs
        Any other keyword of :func:`~sk_clustermass.simulate.make_clusters`
        (``mass_range``, ``sampling``, ``detected_only``, ``scatter``, ...), except
        ``return_catalog`` (the catalogue is always written).

    Returns
    -------
    pathlib.Path
        The written file. Its attributes hold ``band_edges_kev``, ``survey``,
        ``pixel_arcsec``, ``random_state_entropy`` (to reproduce a run made with
        ``random_state=None``) and ``simulation_settings`` (JSON).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sk_clustermass.datasets import read_hdf5
    >>> from sk_clustermass.datasets import simulate_to_hdf5
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = simulate_to_hdf5(pathlib.Path(folder) / "mock.h5", 6, chunk_size=64,
    ...                             random_state=0, progress=False)
    ...     X, y, catalog = read_hdf5(path)
    >>> X["images"].shape, len(catalog)
    ((6, 10, 50, 50), 6)
    """
    unknown = sorted(set(kwargs) - _SETTINGS)
    if unknown:
        message = (
            f"unexpected keyword(s) {unknown}; simulate_to_hdf5 accepts {sorted(_SETTINGS)}"
        )
        raise TypeError(message)
    check_number("n_samples", n_samples, integer=True, low=1)
    if kwargs.get("contaminants"):
        message = (
            "simulate_to_hdf5 cannot write contaminants: they have no mass (y = NaN) and "
            "the HDF5 format stores finite targets only; simulate them in memory with "
            "make_clusters(..., contaminants=True)"
        )
        raise ValueError(message)
    stream = stream_clusters(
        n_samples, chunk_size=chunk_size, survey=survey, random_state=random_state,
        n_jobs=n_jobs, progress=progress, **kwargs,
    )
    writer = HDF5ClusterWriter(
        path, n_bands=stream.n_bands, height=stream.image_size, width=stream.image_size,
        compression=compression, attrs=stream.attrs,
    )
    with sigterm_as_keyboard_interrupt(), writer:  # kill/SLURM/docker stop act as Ctrl-C
        for chunk in stream.chunks:
            raise_if_signalled()  # a SIGTERM whose exception a weakref callback swallowed
            inputs = {key: chunk[key] for key in ("images", "redshift", "exposure")}
            writer.append(inputs, chunk["y"], chunk["catalog"])
        raise_if_signalled()  # before the writer puts the file in place
    return Path(path)
