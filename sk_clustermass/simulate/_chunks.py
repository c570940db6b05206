"""Running the simulation chunk by chunk, in parallel, in cluster order.

The random numbers come in seed blocks of 64 clusters (see :mod:`._random`), so the
rows :func:`iter_chunks` yields depend only on the random state and the physical
settings, never on ``n_jobs``, the chunk size or the order in which chunks finish.
"""

from __future__ import annotations

import warnings
from collections.abc import Generator, Iterator
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed, effective_n_jobs
from tqdm.auto import tqdm

from ._lab_float_images import to_lab_style
from ._pipeline import SimulationConfig, simulate_chunk

__all__ = ["EXPOSURE_COLUMN", "iter_chunks"]

#: Give up when this many parent clusters per requested cluster yield too few detections
#: (net-count cut; the eSASS-like selection keeps ~1% of a mass-function population).
_MAX_PARENTS_PER_SAMPLE = 50
_MAX_PARENTS_PER_SAMPLE_SELECTION = 2000
#: Parents per chunk, in units of chunk_size, when the selection comes before rendering.
_SELECTION_CHUNK_FACTOR = 16
_CANCELLED_CHUNKS = r".*(successfully executed +but not used|still being processed)"
#: The catalogue column that becomes X["exposure"]: the exposure the cluster's photons
#: see (what an exposure map gives), s.
EXPOSURE_COLUMN = "exposure_vignetted_s"


def _run_chunk(
    root: np.random.SeedSequence,
    first: int,
    n: int,
    config: SimulationConfig,
    render: bool,
    detected_only: bool,
    compact: bool = False,
) -> dict[str, Any]:
    """Simulate one chunk and keep what the caller needs (the detected rows if asked).

    ``compact``: images in the smallest exact integer type, for the trip back from a
    worker process.
    """
    result = simulate_chunk(root, first, n, config, render=render, detected_only=detected_only)
    catalog = pd.DataFrame(result["catalog"])
    images = result.get("images")
    if render and detected_only:
        keep = catalog["detected"].to_numpy()
        catalog = catalog.loc[keep].reset_index(drop=True)
        images = images[keep]
    return {
        "images": _compact_counts(images) if compact and images is not None else images,
        "redshift": catalog["z"].to_numpy(np.float32),
        "exposure": catalog[EXPOSURE_COLUMN].to_numpy(np.float32),
        "y": catalog["log10_M500c"].to_numpy(np.float64),
        "catalog": catalog,
        "n_parents": n,
    }


def _compact_counts(images: np.ndarray) -> np.ndarray:
    """The images in the smallest unsigned integer type that holds them exactly.

    Simulated images are photon counts, so a chunk usually fits in 8 or 16 bits: the
    copy sent back from a worker process is 2-4 times smaller than float32, which
    matters because one process receives and writes every chunk. Anything that is not
    a whole number below 65536 stays float32. :func:`_as_float32` undoes it.
    """
    peak = images.max(initial=0.0)
    for dtype in (np.uint8, np.uint16):
        if peak <= np.iinfo(dtype).max:
            compact = images.astype(dtype)
            if np.array_equal(compact, images):  # whole, non-negative numbers only
                return compact
            break
    return images


def _as_float32(images: np.ndarray) -> np.ndarray:
    return images if images.dtype == np.float32 else images.astype(np.float32)


def _chunk_tasks(
    n_samples: int, chunk_size: int, detected_only: bool, max_parents: int
) -> Iterator[tuple[int, int]]:
    """(first parent, parents) of each chunk, in order; endless when cutting on detection."""
    first = 0
    while detected_only or first < n_samples:
        if detected_only and first > max_parents * n_samples + chunk_size:
            return  # the caller reports how many were found
        yield first, chunk_size if detected_only else min(chunk_size, n_samples - first)
        first += chunk_size


def _chunk_results(
    calls: Iterator[tuple], n_jobs: int | None, workers: int
) -> Generator[dict[str, Any], None, None]:
    """Run the chunk calls; results in order as they complete (``close()`` stops the rest).

    With several workers the chunks go to joblib (loky locally, or whatever backend
    a ``parallel_config`` block selects, dask included) with results streamed back in
    order: a worker never waits for the others or for the file being written. At most
    ``2 * n_jobs`` chunks are dispatched ahead of the last one completed.
    """
    if workers == 1:
        return (function(*args) for function, args, _ in calls)
    try:
        parallel = Parallel(n_jobs=n_jobs, return_as="generator")
    except ValueError:  # a backend that cannot stream results (multiprocessing)
        parallel = Parallel(n_jobs=n_jobs)
        return (result for wave in _waves(calls, 2 * workers) for result in parallel(wave))
    return parallel(calls)


def _waves(calls: Iterator[tuple], size: int) -> Iterator[list[tuple]]:
    wave = []
    for call in calls:
        wave.append(call)
        if len(wave) == size:
            yield wave
            wave = []
    if wave:
        yield wave


def iter_chunks(
    config: SimulationConfig,
    root: np.random.SeedSequence,
    n_samples: int,
    chunk_size: int,
    n_jobs: int | None,
    *,
    render: bool = True,
    detected_only: bool = False,
    progress: bool = False,
    image_format: str = "counts",
) -> Iterator[dict[str, Any]]:
    """Yield chunk results in cluster order, cut so that exactly n_samples rows come out.

    The rows depend only on the random state and the chunk size, never on the number
    of workers or the order in which chunks finish.
    """
    workers = 1 if n_jobs == 1 else effective_n_jobs(n_jobs)
    max_parents = (_MAX_PARENTS_PER_SAMPLE if config.selection is None
                   else _MAX_PARENTS_PER_SAMPLE_SELECTION)
    if config.selection is not None and detected_only and render:
        # ~1% of the parents are rendered: bigger chunks of parents, same memory
        chunk_size *= _SELECTION_CHUNK_FACTOR
    calls = (
        delayed(_run_chunk)(root, first, size, config, render, detected_only, workers > 1)
        for first, size in _chunk_tasks(n_samples, chunk_size, detected_only, max_parents)
    )
    results = _chunk_results(calls, n_jobs, workers)
    remaining, parents = n_samples, 0
    bar = tqdm(total=n_samples, unit="cluster", desc="make_clusters", disable=not progress)
    try:
        with bar:
            for result in results:
                parents += result["n_parents"]
                taken = min(remaining, len(result["y"]))
                if taken < len(result["y"]):
                    result = _head(result, taken)
                remaining -= taken
                bar.update(taken)
                if taken:
                    if result["images"] is not None:
                        result["images"] = _as_float32(result["images"])
                        if image_format == "lab":
                            result["images"] = to_lab_style(result["images"])
                    yield result
                if remaining == 0:
                    return
    finally:
        # with a detection cut, the chunks dispatched ahead are not needed once enough
        # clusters are found: cancelling them is the point, not worth joblib's warning
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_CANCELLED_CHUNKS, category=UserWarning)
            results.close()
    found = n_samples - remaining
    message = (
        f"only {found} of {n_samples} clusters passed the detection cut after "
        f"simulating {parents} (detected fraction {found / parents:.2%}); widen "
        "mass_range/redshift_range, lower min_net_counts, choose a deeper "
        "survey or pass detected_only=False"
    )
    raise RuntimeError(message)


def _head(result: dict[str, Any], n: int) -> dict[str, Any]:
    return {
        "images": None if result["images"] is None else result["images"][:n],
        "redshift": result["redshift"][:n],
        "exposure": result["exposure"][:n],
        "y": result["y"][:n],
        "catalog": result["catalog"].iloc[:n].reset_index(drop=True),
        "n_parents": result["n_parents"],
    }
