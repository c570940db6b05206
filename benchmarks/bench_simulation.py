"""Speed and memory of the cluster simulator, as ratios measured in one run.

Prints:

0. the physics checks against PHYSICS.md quoted in docs/simulator.md (theta500, ECF,
   expected counts, background, AGN density, scaling relations from 20,000 clusters);
1. ``make_clusters`` throughput (clusters/s) at N clusters with 1 and 2 joblib jobs,
   the speed-up, peak resident memory (main process plus workers), and whether both
   runs gave identical arrays;
2. the floor: the cost of ``numpy.random.Generator.poisson`` alone on the same
   expected-count arrays (N, 10, 50, 50), and the ratio of the full simulation to it;
3. ``simulate_to_hdf5`` streaming of two sizes (default 20,000 and 100,000 clusters),
   each in a fresh process, with its peak resident memory: the same for both sizes
   when memory is bounded by the chunk, not by N;
4. the per-cluster cost of the ``'efeds_survey'`` preset (mass-function sky, cool
   cores, selection decided before rendering, only detected parents rendered) against
   today's default ``make_clusters()``, per returned cluster, and the preset's
   calibration numbers against eFEDS (density, median z and mass, contaminants).

Usage::

    python benchmarks/bench_simulation.py            # N = 10,000; HDF5 20k and 100k
    python benchmarks/bench_simulation.py --quick    # N = 2,000; HDF5 2k and 10k

Set OMP_NUM_THREADS=1 for clean single-core numbers; the machine's other load shows
in the 2-job figure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from itertools import pairwise
from pathlib import Path

import numpy as np
import psutil

from sk_clustermass.datasets import simulate_to_hdf5
from sk_clustermass.simulate import (
    ARF_BAND_MEANS_CM2,
    DEFAULT_BAND_EDGES_KEV,
    AGNPopulation,
    agn_cumulative_density_deg2,
    background_counts_per_pixel,
    ecf_counts_cm2_erg,
    effective_area_cm2,
    get_survey,
    king_half_energy_width_arcsec,
    make_catalog,
    make_clusters,
    theta500_arcmin,
)
from sk_clustermass.simulate._pipeline import simulate_chunk
from sk_clustermass.simulate._random import root_seed_sequence
from sk_clustermass.simulate._settings import build_config, round_chunk_size

DEFAULTS = {
    "survey": "efeds", "mass_range": (13.0, 15.0), "redshift_range": (0.01, 1.5),
    "sampling": "log-uniform", "scatter": True, "min_net_counts": None,
    "band_edges_kev": None, "image_size": 50, "relations": None, "gas": None, "agn": None,
    "cosmology": None, "power_spectrum": None, "oversample": 2,
}


class PeakRSS:
    """Peak resident memory (polled) and CPU seconds of this process and its children."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peak = 0
        self.cpu_seconds = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    @staticmethod
    def _processes() -> list[psutil.Process]:
        process = psutil.Process()
        return [process, *process.children(recursive=True)]

    def _sample(self) -> int:
        total = 0
        for process in self._processes():
            try:
                total += process.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _cpu(self) -> dict[int, float]:
        times = {}
        for process in self._processes():
            try:
                cpu = process.cpu_times()
                times[process.pid] = cpu.user + cpu.system
            except psutil.Error:
                pass
        return times

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            time.sleep(self.interval)

    def __enter__(self) -> PeakRSS:
        self.start = self.peak = self._sample()
        self._cpu_start = self._cpu()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())
        end = self._cpu()
        self.cpu_seconds = sum(t - self._cpu_start.get(pid, 0.0) for pid, t in end.items())


def physics_table() -> None:
    """Print the simulator's numbers next to the PHYSICS.md values they reproduce."""
    print("0. physics against PHYSICS.md (value: simulator / sheet)")
    sheet = [(1e14, 0.1, 6.2), (1e14, 0.3, 2.4), (1e14, 0.5, 1.6), (1e14, 1.0, 1.0),
             (1e13, 0.3, 1.1), (1e15, 0.3, 5.1)]
    print("   theta500 (arcmin): " + ", ".join(
        f"{m:.0e}@z={z}: {float(theta500_arcmin(m, z)):.2f}/{ref}" for m, z, ref in sheet))
    ecf = ecf_counts_cm2_erg([1.0, 2.0, 5.0, 8.0]) / 1e12
    print(f"   ECF 0.5-2 keV (1e12 counts cm^2/erg) at kT = 1, 2, 5, 8 keV: "
          f"{', '.join(f'{v:.2f}' for v in ecf)} / 1.26, ~1.2, ~1.2, 1.18")
    parts = []
    for log_mass, z, ref in ((14.0, 0.1, 1400), (14.0, 0.3, 160), (14.0, 0.5, 60),
                             (np.log10(3e14), 0.3, 850)):
        catalog = make_catalog(1, mass_range=(log_mass, log_mass), redshift_range=(z, z),
                               scatter=False, random_state=0)
        parts.append(f"{10**log_mass:.0e}@z={z}: {catalog['mu_soft_r500'].iloc[0]:.0f}/{ref}")
    print("   counts 0.5-2 keV in R500, eFEDS, no scatter: " + ", ".join(parts))
    efeds, edges = get_survey("efeds"), DEFAULT_BAND_EDGES_KEV
    total = background_counts_per_pixel(edges, efeds, [1200.0], [2200.0]).sum()
    diffuse = background_counts_per_pixel(edges, efeds, [1200.0], [2200.0],
                                          AGNPopulation()).sum()
    print(f"   background per 24\" pixel, 0.25-2.3 keV: diffuse {diffuse:.2f}, with AGN "
          f"{total:.2f} / ~0.5-1")
    per_field = agn_cumulative_density_deg2(6.5e-15) * (50 * 24 / 3600) ** 2
    print(f"   AGN above 6.5e-15 per 20' field: {float(per_field):.1f} / ~22;  PSF HEW "
          f"{king_half_energy_width_arcsec():.1f}\" / ~30\"")
    cat = make_catalog(20_000, random_state=2)
    x = np.log10(cat["E_z"] * cat["M500c"] / 3.84e14)
    slope, intercept = np.polyfit(x, np.log10(cat["kT"] / 5.0), 1)
    mt_scatter = np.std(np.log10(cat["kT"] / 5.0) - slope * x - intercept)
    x = np.log10(cat["M500c"] / 2e14)
    y = np.log10(cat["Lx_0p1_2p4"] / 1.03e44 / cat["E_z"] ** (7 / 3))
    lm_slope, lm_intercept = np.polyfit(x, y, 1)
    lm_scatter = np.std(y - lm_slope * x - lm_intercept)
    print(f"   from 20,000 clusters: M-T slope {1 / slope:.3f}/1.71, scatter "
          f"{mt_scatter:.3f}/0.07 dex; L-M slope {lm_slope:.3f}/1.53, scatter "
          f"{lm_scatter:.3f}/0.2 dex")
    edges = np.asarray(edges)
    means = [effective_area_cm2(np.linspace(lo, hi, 401)).mean()
             for lo, hi in pairwise(edges)]
    worst = np.max(np.abs(np.asarray(means) / ARF_BAND_MEANS_CM2 - 1))
    print(f"   effective-area band means (cm^2): {', '.join(f'{m:.0f}' for m in means)}; "
          f"largest deviation from the ARF band means {worst:.0%}")
    _, _, parents = make_clusters(512, random_state=0, detected_only=False,
                                  return_catalog=True, progress=False)
    print(f"   log-uniform parents: median counts 0.5-2 keV in R500 "
          f"{cat['mu_soft_r500'].median():.0f}; detected (net >= 14) "
          f"{parents['detected'].mean():.0%} of 512")


def _digest(array: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(array).view(np.uint8)).hexdigest()


def bench_make_clusters(n: int, chunk_size: int) -> dict[int, dict[str, float]]:
    # Start both loky workers (each imports the package once) before timing.
    make_clusters(256, random_state=0, n_jobs=2, chunk_size=64, detected_only=False,
                  progress=False)
    results = {}
    for n_jobs in (1, 2):
        with PeakRSS() as memory:
            start = time.perf_counter()
            X, _ = make_clusters(n, random_state=0, n_jobs=n_jobs, chunk_size=chunk_size,
                                 detected_only=False, progress=False)
            seconds = time.perf_counter() - start
        results[n_jobs] = {
            "cpu_seconds": memory.cpu_seconds,
            "start_mb": memory.start / 2**20,
            "seconds": seconds,
            "rate": n / seconds,
            "peak_mb": memory.peak / 2**20,
            "digest": _digest(X["images"]),
            "output_mb": X["images"].nbytes / 2**20,
        }
        del X
    return results


def bench_poisson_floor(n: int, chunk_size: int) -> dict[str, float]:
    """CPU seconds of the simulation core and of Generator.poisson alone, chunk by chunk.

    The two are timed alternately on each chunk (the simulation, then the Poisson draw
    on the expected counts that chunk produced), with the process CPU clock, so that
    other load on the machine affects both alike.
    """
    config = build_config(**DEFAULTS)
    root, size = root_seed_sequence(0), round_chunk_size(chunk_size)
    rng = np.random.default_rng(1)
    full = floor = 0.0
    for first in range(0, n, size):
        start = time.process_time()
        expected = simulate_chunk(root, first, min(size, n - first), config,
                                  return_expected=True)["expected"]
        middle = time.process_time()
        rng.poisson(expected).astype(np.float32)
        full += middle - start
        floor += time.process_time() - middle
    return {"full": full, "floor": floor}


def hdf5_child(n: int, path: str, chunk_size: int, n_jobs: int) -> None:
    """Run in a fresh process: stream n clusters and report time and peak memory."""
    with PeakRSS() as memory:
        start = time.perf_counter()
        simulate_to_hdf5(path, n, chunk_size=chunk_size, random_state=0, n_jobs=n_jobs,
                         progress=False, detected_only=False)
        seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_mb": memory.peak / 2**20,
                      "baseline_mb": memory.start / 2**20,
                      "file_mb": os.path.getsize(path) / 2**20}))


def bench_hdf5(sizes: list[int], chunk_size: int, n_jobs: int) -> list[dict[str, float]]:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            path = str(Path(folder) / f"mock_{n}.h5")
            command = [sys.executable, __file__, "--hdf5-child", str(n), path,
                       "--chunk-size", str(chunk_size), "--hdf5-jobs", str(n_jobs)]
            output = subprocess.run(command, check=True, capture_output=True, text=True)
            row = json.loads(output.stdout.strip().splitlines()[-1])
            row["n"] = n
            rows.append(row)
            os.remove(path)
    return rows


def bench_preset(n: int, chunk_size: int, repeats: int = 5) -> dict[str, float]:
    """CPU seconds per returned cluster: default make_clusters against the eFEDS preset.

    The two are timed in turn, ``repeats`` times, and each keeps its median, so that a
    passing disturbance does not decide the ratio.
    """
    settings = {"default": {}, "efeds_survey": {"survey": "efeds_survey"}}
    times: dict[str, list[float]] = {name: [] for name in settings}
    for kwargs in settings.values():
        make_clusters(8, random_state=1, chunk_size=chunk_size, **kwargs)  # warm caches
    for _ in range(repeats):
        for name, kwargs in settings.items():
            tic = time.process_time()
            make_clusters(n, random_state=0, chunk_size=chunk_size, **kwargs)
            times[name].append((time.process_time() - tic) / n)
    return {name: statistics.median(values) for name, values in times.items()}


def preset_calibration(n_parents: int = 65536, seeds: tuple[int, ...] = (2022, 7)) -> None:
    """The eFEDS preset's detected sample against Liu et al. (2022) and Chiu et al. (2022).

    Also the cut-outs: the detected position's error and the image centre's distance
    from the halo centre, per morphology class.
    """
    from sk_clustermass.datasets import parent_density_deg2

    per_parent = parent_density_deg2("efeds_survey", contaminants=True)
    for seed in seeds:
        catalog = make_catalog(n_parents, survey="efeds_survey", random_state=seed,
                               contaminants=True)
        detected = catalog[catalog["detected"]]
        point = detected["is_contaminant"].to_numpy()
        clusters = detected[~point]
        density = per_parent * len(detected) / n_parents
        print(f"   seed {seed}: {n_parents} parents, {len(detected)} detected: "
              f"{density:.2f} per deg^2 (eFEDS 3.9), contaminants {point.mean():.0%} (~20%), "
              f"median z of all candidates {detected['z'].median():.2f} (0.35, Liu et al. "
              f"2022: all 542 candidates), of clusters {clusters['z'].median():.2f}, median "
              f"M500 {10 ** clusters['log10_M500c'].median():.2e} Msun (1.4e14)")
        offsets = clusters.groupby("morphology_class")["centre_offset_arcsec"].median()
        error = clusters["position_error_arcsec"].median()
        point_error = detected.loc[point, "position_error_arcsec"].median()
        by_class = " / ".join(f'{value:.1f}"' for value in offsets)
        print(f'      cut-outs: median position error {error:.1f}" per axis (contaminants '
              f'{point_error:.1f}"), image centre from the halo centre '
              f'{clusters["centre_offset_arcsec"].median():.1f}" (cool core / relaxed / '
              f"disturbed: {by_class})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a minute)")
    parser.add_argument("--n", type=int, default=None, help="clusters for parts 1 and 2")
    parser.add_argument("--chunk-size", type=int, default=256)
    parser.add_argument("--hdf5-sizes", type=int, nargs="+", default=None)
    parser.add_argument("--hdf5-jobs", type=int, default=1)
    parser.add_argument("--skip-hdf5", action="store_true")
    parser.add_argument("--hdf5-child", nargs=2, metavar=("N", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hdf5_child:
        hdf5_child(int(args.hdf5_child[0]), args.hdf5_child[1], args.chunk_size, args.hdf5_jobs)
        return
    n = args.n or (2_000 if args.quick else 10_000)
    sizes = args.hdf5_sizes or ([2_000, 10_000] if args.quick else [20_000, 100_000])
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}; OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS', 'unset')}")
    physics_table()
    print(f"\n1. make_clusters, {n} clusters, 10 x 50 x 50, chunk_size={args.chunk_size}, "
          "detected_only=False")
    runs = bench_make_clusters(n, args.chunk_size)
    for n_jobs, run in runs.items():
        print(f"   n_jobs={n_jobs}: {run['seconds']:7.2f} s wall  {run['rate']:6.0f} clusters/s  "
              f"CPU {run['cpu_seconds']:6.1f} s (all processes: "
              f"{n / run['cpu_seconds']:.0f} clusters per CPU-second)  peak RSS "
              f"{run['peak_mb']:5.0f} MB (before {run['start_mb']:.0f} MB, output "
              f"{run['output_mb']:.0f} MB)")
    efficiency = runs[1]["cpu_seconds"] / runs[2]["cpu_seconds"]
    print(f"   wall speed-up 2 jobs / 1 job: {runs[2]['rate'] / runs[1]['rate']:.2f} (depends on "
          f"other load); parallel CPU efficiency: {efficiency:.2f}, i.e. about "
          f"{2 * efficiency:.1f}x on 2 idle cores; identical arrays: "
          f"{runs[1]['digest'] == runs[2]['digest']}")

    cost = bench_poisson_floor(n, args.chunk_size)
    print(f"\n2. floor: Generator.poisson alone on the same (N, 10, 50, 50) expected counts, "
          f"CPU time, interleaved chunk by chunk:\n   Poisson {cost['floor']:.2f} s "
          f"({n / cost['floor']:.0f} clusters/s); simulation core incl. its own Poisson "
          f"draw {cost['full']:.2f} s ({n / cost['full']:.0f} clusters/s)")
    print(f"   full simulation / Poisson floor: {cost['full'] / cost['floor']:.2f}x "
          f"(make_clusters end to end, 1 job, CPU: "
          f"{runs[1]['cpu_seconds'] / cost['floor']:.2f}x)")

    costs = bench_preset(max(n // 10, 200), args.chunk_size)
    print(f"\n4. per returned cluster, CPU, 1 job: default make_clusters() "
          f"{1e3 * costs['default']:.1f} ms, survey='efeds_survey' "
          f"{1e3 * costs['efeds_survey']:.1f} ms, ratio "
          f"{costs['efeds_survey'] / costs['default']:.2f} (issue 13 target: <= 1.5; medians of 5 "
          "interleaved runs)")
    preset_calibration()

    if args.skip_hdf5:
        return
    print(f"\n3. simulate_to_hdf5 streaming, chunk_size=1000, n_jobs={args.hdf5_jobs}, "
          "lzf (fresh process per size)")
    rows = bench_hdf5(sizes, 1000, args.hdf5_jobs)
    for row in rows:
        print(f"   N={row['n']:>7}: {row['seconds']:7.1f} s  {row['n'] / row['seconds']:6.0f} "
              f"clusters/s  peak RSS {row['peak_mb']:6.0f} MB (after imports "
              f"{row['baseline_mb']:.0f} MB)  file {row['file_mb']:.0f} MB")
    ratio = rows[-1]["peak_mb"] / rows[0]["peak_mb"]
    print(f"   peak RSS ratio N={rows[-1]['n']} / N={rows[0]['n']}: {ratio:.2f} "
          f"(N ratio {rows[-1]['n'] / rows[0]['n']:.0f})")


if __name__ == "__main__":
    main()
