"""Streaming a simulation: clusters chunk by chunk, with the settings that made them.

:func:`stream_clusters` is what writers build on (e.g.
:func:`sk_clustermass.datasets.simulate_to_hdf5`): the rows are those of
:func:`make_clusters` with the same settings, handed out one chunk at a time so that
memory stays bounded by the chunk size whatever the number of clusters.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from astropy.cosmology import FLRW

from ._agn import AGNPopulation
from ._chunks import iter_chunks
from ._massfunction import LinearPowerSpectrum
from ._morphology import Morphology
from ._pipeline import SimulationConfig
from ._profiles import GasProfile
from ._random import root_seed_sequence
from ._scaling import ScalingRelations
from ._selection import ESASSSelection
from ._settings import build_config, check_image_format, check_int, check_n_jobs, round_chunk_size

__all__ = ["ClusterStream", "stream_clusters"]


@dataclass(frozen=True)
class ClusterStream:
    """A simulation under way: the shape of its cubes, its settings and its chunks.

    Parameters
    ----------
    n_bands : int
        Energy bands per cube.
    image_size : int
        Side of every image in pixels.
    attrs : dict
        What describes the run, for a file's attributes: ``band_edges_kev`` (keV),
        ``survey``, ``pixel_arcsec``, ``random_state_entropy`` (to reproduce a run made
        with ``random_state=None``), ``generator`` and ``simulation_settings`` (JSON).
    chunks : iterator of dict
        The chunks in cluster order, each a dict with ``images`` float32 of shape
        (n_chunk, n_bands, image_size, image_size), ``redshift`` and ``exposure``
        (s) float32 of shape (n_chunk,), ``y`` (log10(M500c / Msun), float64),
        ``catalog`` (pandas.DataFrame) and ``n_parents`` (clusters simulated for it).
    """

    n_bands: int
    image_size: int
    attrs: dict[str, Any]
    chunks: Iterator[dict[str, Any]]


def stream_clusters(
    n_samples: int,
    *,
    chunk_size: int = 1000,
    survey: Any = "efeds_lab",
    random_state: Any = None,
    n_jobs: int | None = 1,
    progress: bool = True,
    detected_only: bool = True,
    image_format: str = "counts",
    mass_range: Sequence[float] | None = None,
    redshift_range: Sequence[float] | None = None,
    sampling: str | None = None,
    min_net_counts: float | None = None,
    scatter: bool = True,
    band_edges_kev: Sequence[float] | None = None,
    image_size: int = 50,
    relations: ScalingRelations | None = None,
    gas: GasProfile | None = None,
    agn: AGNPopulation | None = None,
    cosmology: FLRW | None = None,
    power_spectrum: LinearPowerSpectrum | None = None,
    oversample: int = 2,
    morphology: Morphology | None = None,
    selection: ESASSSelection | None = None,
    contaminants: bool = False,
) -> ClusterStream:
    """Simulate clusters chunk by chunk: the rows of :func:`make_clusters`, streamed.

    Parameters
    ----------
    n_samples : int
        Clusters in all (after the detection cut when ``detected_only``).
    chunk_size : int, default=1000
        Clusters per chunk (capped at ``n_samples``, rounded up to a multiple of 64).
    survey, random_state, n_jobs, detected_only, image_format, mass_range, \
redshift_range, sampling, min_net_counts, scatter, band_edges_kev, image_size, \
relations, gas, agn, cosmology, power_spectrum, oversample, morphology, selection, \
contaminants
        As in :func:`make_clusters`.
    progress : bool, default=True
        Show a progress bar.

    Returns
    -------
    ClusterStream
        The cube shape and run settings at once; the chunks are simulated as they are
        read.

    Examples
    --------
    >>> from sk_clustermass.simulate import stream_clusters
    >>> stream = stream_clusters(100, chunk_size=64, random_state=0, progress=False)
    >>> stream.n_bands, stream.attrs["survey"]
    (10, 'efeds')
    >>> sum(len(chunk["y"]) for chunk in stream.chunks)
    100
    """
    n_samples = check_int(n_samples, "n_samples", 1)
    check_image_format(image_format)
    config = build_config(
        survey=survey, mass_range=mass_range, redshift_range=redshift_range,
        sampling=sampling, scatter=scatter, min_net_counts=min_net_counts,
        band_edges_kev=band_edges_kev, image_size=image_size, relations=relations, gas=gas,
        agn=agn, cosmology=cosmology, power_spectrum=power_spectrum, oversample=oversample,
        morphology=morphology, selection=selection, contaminants=contaminants,
    )
    root = root_seed_sequence(random_state)
    detected_only = bool(detected_only)
    attrs = {
        "band_edges_kev": np.asarray(config.band_edges_kev),
        "survey": config.survey.name,
        "pixel_arcsec": config.survey.pixel_arcsec,
        "random_state_entropy": str(root.entropy),
        "generator": "sk_clustermass.datasets.make_clusters",
        "simulation_settings": _json_settings(config, {"detected_only": detected_only,
                                                       "image_format": image_format}),
    }
    chunks = iter_chunks(config, root, n_samples, round_chunk_size(chunk_size, n_samples),
                         check_n_jobs(n_jobs), detected_only=detected_only,
                         progress=bool(progress), image_format=image_format)
    return ClusterStream(n_bands=config.n_bands, image_size=config.image_size, attrs=attrs,
                         chunks=chunks)


def _json_settings(config: SimulationConfig, extra: dict[str, Any]) -> str:
    """The simulation settings as JSON, for the HDF5 file attributes."""
    settings = {
        "survey": asdict(config.survey),
        "relations": asdict(config.relations),
        "gas": asdict(config.gas),
        "agn": asdict(config.agn),
        "power_spectrum": asdict(config.power_spectrum),
        "morphology": None if config.morphology is None else asdict(config.morphology),
        "selection": None if config.selection is None else asdict(config.selection),
        "contaminants": config.contaminants,
        "cosmology": repr(config.cosmology),
        "band_edges_kev": list(config.band_edges_kev),
        "image_size": config.image_size,
        "mass_range": list(config.mass_range),
        "redshift_range": list(config.redshift_range),
        "sampling": config.sampling,
        "scatter": config.scatter,
        "min_net_counts": config.min_net_counts,
        "oversample": config.oversample,
        **extra,
    }
    return json.dumps(settings, default=str)
