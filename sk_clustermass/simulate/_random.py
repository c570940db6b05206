"""Random streams that make the simulator deterministic whatever the parallel layout.

The clusters are cut into consecutive blocks of :data:`SEED_BLOCK` clusters. Block
``b`` draws from two generators of its own, seeded with
``SeedSequence(entropy, spawn_key=(*root_key, b, stream))`` for ``stream`` 0 (the
cluster population: masses, redshifts, scatter, morphology, exposure) and 1 (the
observation: field AGN and photon counts). Each draw is made for the whole block and
then cut to the clusters needed, so cluster ``i`` gets the same numbers whatever
``n_samples``, ``chunk_size`` (a multiple of the block) and ``n_jobs`` are: the same
``random_state`` always gives the same clusters, and ``make_clusters(n)`` is a prefix
of ``make_clusters(m)`` for ``m > n``.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Integral
from typing import Any

import numpy as np

__all__ = [
    "COUNTERPART",
    "CUTOUT",
    "OBSERVATION",
    "POPULATION",
    "SEED_BLOCK",
    "SELECTION",
    "BlockRandom",
    "root_seed_sequence",
]

#: Clusters per independently seeded block.
SEED_BLOCK = 64
#: Stream index of the population draws.
POPULATION = 0
#: Stream index of the observation draws.
OBSERVATION = 1
#: Stream index of the selection draws (contaminants, detection and extent noise).
SELECTION = 2
#: Stream index of the cut-out draws (detected-position error, exposure gradient).
CUTOUT = 3
#: Stream index of the optical-counterpart draws (contaminants' redshifts).
COUNTERPART = 4


def root_seed_sequence(random_state: Any) -> np.random.SeedSequence:
    """The root :class:`numpy.random.SeedSequence` for a scikit-learn style ``random_state``.

    Parameters
    ----------
    random_state : None, int, numpy.random.SeedSequence, Generator or RandomState
        None draws fresh entropy from the OS; an int (>= 0) is the seed; a
        Generator or RandomState is asked for one integer (advancing it).

    Returns
    -------
    numpy.random.SeedSequence

    Examples
    --------
    >>> root_seed_sequence(42).entropy
    42
    """
    if random_state is None:
        return np.random.SeedSequence()
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if isinstance(random_state, Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            message = f"random_state must be a non-negative integer; got {random_state}"
            raise ValueError(message)
        return np.random.SeedSequence(int(random_state))
    if isinstance(random_state, np.random.Generator):
        return np.random.SeedSequence(int(random_state.integers(2**63)))
    if isinstance(random_state, np.random.RandomState):
        return np.random.SeedSequence(int(random_state.randint(2**31 - 1)))
    message = (
        "random_state must be None, a non-negative int, a numpy SeedSequence, Generator "
        f"or RandomState; got {type(random_state).__name__}"
    )
    raise TypeError(message)


def _pad_columns(parts: list[np.ndarray]) -> np.ndarray:
    """Concatenate along axis 0, zero-padding axis 1 to the widest part."""
    if parts[0].ndim < 2:
        return np.concatenate(parts)
    width = max(part.shape[1] for part in parts)
    if all(part.shape[1] == width for part in parts):
        return np.concatenate(parts)
    rows = sum(part.shape[0] for part in parts)
    out = np.zeros((rows, width, *parts[0].shape[2:]), dtype=np.result_type(*parts))
    start = 0
    for part in parts:
        out[start : start + part.shape[0], : part.shape[1]] = part
        start += part.shape[0]
    return out


class BlockRandom:
    """Vectorised draws for ``n`` consecutive clusters, one generator per seed block.

    Parameters
    ----------
    root : numpy.random.SeedSequence
    first_cluster : int
        Index of the first cluster; must be a multiple of ``block_size``.
    n : int
        Number of clusters.
    stream : int
        :data:`POPULATION` or :data:`OBSERVATION`.
    block_size : int, default=SEED_BLOCK

    Examples
    --------
    >>> import numpy as np
    >>> root = np.random.SeedSequence(0)
    >>> whole = BlockRandom(root, 0, 200, 0).apply(lambda rng, size: rng.random(size))
    >>> part = BlockRandom(root, 128, 72, 0).apply(lambda rng, size: rng.random(size))
    >>> bool(np.array_equal(whole[128:], part))
    True
    """

    def __init__(
        self,
        root: np.random.SeedSequence,
        first_cluster: int,
        n: int,
        stream: int,
        block_size: int = SEED_BLOCK,
    ) -> None:
        if first_cluster % block_size:
            message = f"first_cluster={first_cluster} is not a multiple of {block_size}"
            raise ValueError(message)
        first_block = first_cluster // block_size
        n_blocks = -(-n // block_size)
        self.n = n
        self.keep: np.ndarray | None = None
        self.block_size = block_size
        self.generators = [
            np.random.Generator(
                np.random.PCG64(
                    np.random.SeedSequence(
                        root.entropy, spawn_key=(*root.spawn_key, first_block + b, stream)
                    )
                )
            )
            for b in range(n_blocks)
        ]

    def apply(self, draw: Callable[[np.random.Generator, int], Any]) -> Any:
        """Call ``draw(generator, block_size)`` per block; join and cut to ``n`` rows.

        ``draw`` returns an array with ``block_size`` rows, or a dict of such arrays
        (second axes may differ between blocks: they are zero-padded).
        """
        if self.keep is None:
            parts = [draw(generator, self.block_size) for generator in self.generators]
            rows = slice(None, self.n)
        else:  # blocks without a kept cluster need no draw: their generators serve no one
            padded = np.zeros(len(self.generators) * self.block_size, dtype=bool)
            padded[: self.n] = self.keep
            blocks = padded.reshape(len(self.generators), self.block_size)
            used = np.flatnonzero(blocks.any(axis=1))
            used = used if used.size else np.array([0])
            parts = [draw(self.generators[b], self.block_size) for b in used]
            rows = np.flatnonzero(blocks[used].ravel())
        if isinstance(parts[0], dict):
            return {key: _pad_columns([part[key] for part in parts])[rows] for key in parts[0]}
        return _pad_columns(parts)[rows]

    def subset(self, keep: np.ndarray) -> BlockRandom:
        """The same generators, for the clusters where ``keep`` (shape (n,)) is True.

        :meth:`apply` still draws whole blocks, so a kept cluster gets the numbers it
        would get without the subset; :meth:`poisson` draws for the kept rows only.
        """
        other = object.__new__(BlockRandom)
        other.__dict__.update(self.__dict__)
        other.keep = np.asarray(keep, dtype=bool)
        return other

    def poisson(self, expected: np.ndarray, dtype: type = np.float32) -> np.ndarray:
        """Poisson counts for ``expected`` of shape (n, ...), block by block, as ``dtype``.

        After :meth:`subset`, ``expected`` holds the kept rows only.
        """
        counts = np.empty(expected.shape, dtype=dtype)
        kept = np.ones(self.n, dtype=bool) if self.keep is None else self.keep
        stops = np.cumsum([kept[b * self.block_size : (b + 1) * self.block_size].sum()
                           for b in range(len(self.generators))])
        for generator, stop, start in zip(self.generators, stops, np.r_[0, stops[:-1]],
                                          strict=True):
            if stop > start:
                counts[start:stop] = generator.poisson(expected[start:stop])
        return counts
