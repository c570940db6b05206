"""Out-of-core training: throughput from an HDF5 file against in memory, and peak memory.

Measured in one run:

1. training throughput (samples/s, median over the timed epochs after a warm-up
   epoch) of ``ClusterMassRegressor.fit`` on the same N clusters, same model (the
   seed architecture), batch size and thread count, once from arrays in memory and
   once from the HDF5 file (in the page cache: the file is read once before), in
   ``--pairs`` back-to-back pairs (alternating which goes first); the median ratio
   of the pairs (target >= 0.8x), and the ratio of whole ``fit`` calls, which for
   the file includes its one statistics pass. The CPU time per sample (all threads
   of the process) is printed too: on a machine shared with other work it is
   steadier than wall-clock rates;
2. the size on disk and the read time per cluster of 2,000 of those clusters written
   with each compression codec (``bitshuffle``, the default, ``lzf``, ``gzip``, none);
3. the peak resident memory of ``fit`` from a file at two sizes, each in a fresh
   process: flat when memory is bounded by the read buffers, not by N. The peak is
   the process's ``VmHWM`` (Linux), not ``ru_maxrss``: a child started by
   ``subprocess`` inherits the parent's ``ru_maxrss`` across fork and exec, so a
   parent holding the in-memory data set would set the child's figure.

Data: N clusters from :func:`~sk_clustermass.simulate_to_hdf5` (the real
simulator, so the file compresses, and costs to decompress, like real data). The
larger file for the memory test is made by tiling those rows with
:class:`~sk_clustermass.datasets.HDF5ClusterWriter`: the memory of ``fit`` depends
on the number of rows and the file layout, not on what the images show, and tiling
is about 20x faster than simulating (the simulator makes ~200 clusters/s per core).
All files go to ``--workdir`` (check ``df -h``: ~6 kB per cluster) and are deleted
at the end.

Usage::

    python benchmarks/bench_out_of_core.py           # N = 10,000; memory at 2,000 and 10,000
    python benchmarks/bench_out_of_core.py --full    # also memory at 100,000 (~1.6 GB file)
    python benchmarks/bench_out_of_core.py --quick   # N = 2,000; smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback

from sk_clustermass import ClusterMassRegressor
from sk_clustermass.datasets import HDF5ClusterDataset, HDF5ClusterWriter, simulate_to_hdf5
from sk_clustermass.io._hdf5 import read_hdf5, write_hdf5

# A small network for the memory runs: their time goes to reading, not to the model.
SMALL_NET = {"n_filters": 8, "kernel_size": 3, "conv_layers": (1, 1), "dense_layers": (32,)}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class EpochClock(Callback):
    """Records wall-clock and process CPU time at the end of every epoch."""

    def __init__(self) -> None:
        self.times: list[tuple[float, float]] = []

    def on_train_begin(self, net, **kwargs) -> None:
        self.times = [(time.perf_counter(), cpu_seconds())]

    def on_epoch_end(self, net, **kwargs) -> None:
        self.times.append((time.perf_counter(), cpu_seconds()))


def timed_fit(X, y, n_samples: int, epochs: int, batch_size: int, device: str) -> dict:
    """Fit for ``epochs + 1`` epochs; median samples/s and CPU ms/sample after the first."""
    clock = EpochClock()
    model = ClusterMassRegressor(
        max_epochs=epochs + 1, patience=None, validation_fraction=0.0, batch_size=batch_size,
        device=device, random_state=0, callbacks=[clock],
    )
    start = time.perf_counter()
    model.fit(X, y)
    total = time.perf_counter() - start
    wall, cpu = np.diff(np.array(clock.times), axis=0)[1:].T
    return {"rate": statistics.median(n_samples / wall),
            "cpu_ms": statistics.median(cpu / n_samples * 1e3), "fit_s": total}


def tile(source: Path, destination: Path, n_rows: int, block: int = 512) -> None:
    """Write ``n_rows`` rows by repeating the rows of ``source`` (images, z, mass)."""
    data = HDF5ClusterDataset(source)
    _, height, width = data.image_shape
    with HDF5ClusterWriter(destination, n_bands=data.n_bands, height=height,
                           width=width) as writer:
        written = 0
        while written < n_rows:
            start = written % len(data)
            stop = min(start + block, len(data), start + n_rows - written)
            X, y = data.read(slice(start, stop))
            writer.append(X, y)
            written += stop - start
    data.close()


def codec_costs(source: Path, folder: Path, n_rows: int = 2000) -> None:
    """Size on disk and read time per cluster of the same clusters in every codec."""
    X, y, _ = read_hdf5(source, rows=slice(0, n_rows))
    n = len(y)
    images = np.empty_like(X["images"])
    redshift = np.empty_like(X["redshift"])
    for compression in ("bitshuffle", "lzf", "gzip", None):
        path = folder / f"codec_{compression}.h5"
        write_hdf5(path, X, y, compression=compression)
        warm_page_cache(path)
        best = np.inf
        with HDF5ClusterDataset(path) as data:
            for _ in range(3):
                start = time.perf_counter()
                for first in range(0, n, 512):
                    stop = min(first + 512, n)
                    data.read_into(first, images[first:stop], redshift[first:stop])
                best = min(best, time.perf_counter() - start)
        print(f"codec {compression!s:10s} {path.stat().st_size / n / 1e3:6.1f} kB per cluster,"
              f" read {best / n * 1e3:5.3f} ms per cluster (page cache, best of 3)")
        path.unlink()


def peak_rss_of_fit_from_file(path: Path) -> dict:
    """Fit a small network for one epoch from ``path`` in a fresh process."""
    code = (
        "import json, time\n"
        "from sk_clustermass import ClusterMassRegressor\n"
        "def rss(key='VmHWM'):\n"
        "    status = open('/proc/self/status').read()\n"
        "    return int(status.split(key + ':')[1].split()[0]) / 1024\n"
        "base = rss('VmRSS')\n"
        "start = time.perf_counter()\n"
        f"ClusterMassRegressor(**{SMALL_NET!r}, max_epochs=1, patience=None,\n"
        f"                     random_state=0).fit({str(path)!r})\n"
        "print(json.dumps({'base': base, 'peak': rss(),\n"
        "                  'seconds': time.perf_counter() - start}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def warm_page_cache(path: Path) -> None:
    with path.open("rb") as stream:
        while stream.read(1 << 24):
            pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="clusters for throughput")
    parser.add_argument("--epochs", type=int, default=1, help="timed epochs per fit")
    parser.add_argument("--pairs", type=int, default=3,
                        help="memory/file pairs of fits, run back to back")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="cpu", help="cpu or cuda (throughput only)")
    parser.add_argument("--full", action="store_true", help="memory also at 100,000")
    parser.add_argument("--quick", action="store_true", help="N = 2,000, 1 timed epoch")
    parser.add_argument("--workdir", default=tempfile.gettempdir(),
                        help="where the HDF5 files are written (deleted at the end)")
    args = parser.parse_args()
    if args.quick:
        args.n, args.pairs = 2000, 2
    folder = Path(tempfile.mkdtemp(prefix="bench_ooc_", dir=args.workdir))
    try:
        run(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(args: argparse.Namespace, folder: Path) -> None:
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
          f"N = {args.n}, batch {args.batch_size}, {args.epochs} timed epoch(s)")
    path = folder / f"sim_{args.n}.h5"
    start = time.perf_counter()
    simulate_to_hdf5(path, args.n, chunk_size=512, random_state=0, n_jobs=2, progress=False)
    print(f"simulated {args.n} clusters in {time.perf_counter() - start:.0f} s (2 jobs); "
          f"file {path.stat().st_size / 2**20:.0f} MiB "
          f"({path.stat().st_size / args.n / 1e3:.1f} kB per cluster)")

    codec_costs(path, folder)
    X, y, _ = read_hdf5(path)
    warm_page_cache(path)
    ratios, runs = [], {"memory": [], "file": []}
    for pair in range(args.pairs):  # adjacent runs share the machine's load; alternate
        order = ("memory", "file") if pair % 2 == 0 else ("file", "memory")
        for name in order:
            data, target = (X, y) if name == "memory" else (str(path), None)
            runs[name].append(timed_fit(data, target, args.n, args.epochs, args.batch_size,
                                        args.device))
        ratios.append(runs["file"][-1]["rate"] / runs["memory"][-1]["rate"])
    for name, results in runs.items():
        label = "from memory" if name == "memory" else "from HDF5 (cached)"
        rate = statistics.median(r["rate"] for r in results)
        cpu = statistics.median(r["cpu_ms"] for r in results)
        fit_s = statistics.median(r["fit_s"] for r in results)
        print(f"training {label:19s} {rate:7.0f} samples/s  {cpu:5.2f} CPU ms/sample  "
              f"(whole fit {fit_s:.0f} s; medians of {len(results)} runs)")
    whole = [m["fit_s"] / f["fit_s"] for m, f in zip(runs["memory"], runs["file"])]
    print(f"    file / memory, samples/s   {statistics.median(ratios):7.2f}x  (median of "
          f"{len(ratios)} adjacent pairs; target >= 0.8x)")
    print(f"    file / memory, whole fit   {statistics.median(whole):7.2f}x  "
          "(the file's fit includes its statistics pass)")
    print("    per pair, samples/s memory/file: "
          + ", ".join(f"{m['rate']:.0f}/{f['rate']:.0f}"
                      for m, f in zip(runs["memory"], runs["file"])))
    del X

    sizes = [args.n // 5, args.n] + ([100_000] if args.full else [])
    for n_rows in sizes:
        sized = path if n_rows == args.n else folder / f"tiled_{n_rows}.h5"
        if not sized.exists():
            tile(path, sized, n_rows)
        warm_page_cache(sized)
        result = peak_rss_of_fit_from_file(sized)
        in_memory = n_rows * np.prod(HDF5ClusterDataset(sized).image_shape) * 4 / 2**20
        print(f"peak RSS of fit from file, {n_rows:7d} clusters: {result['peak']:6.0f} MiB "
              f"(after imports {result['base']:4.0f} MiB; the images as float32: "
              f"{in_memory:6.0f} MiB; fit {result['seconds']:.0f} s)")
        if sized != path:
            sized.unlink()
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
