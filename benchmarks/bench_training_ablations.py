"""What each of the later speed changes buys, measured by switching it off.

Interleaved in one run on the same clusters (``bench_training``'s data and loops), the
median of ``--rounds`` rounds:

1. ``fit`` with the training images standardised once per fit against per batch
   (``ClusterNet.standardise_once``), in float32 and bfloat16;
2. float32 ``fit`` with channels_last weights (the library's) against NCHW weights;
3. ``predict`` against the hand-written inference loop, with the input scan, without
   it (the out-of-domain and empty-cube check skipped), and with only its band sums:
   what the scan costs and which part of it; with the scan's bookkeeping done batch by
   batch, between two layers (as before the fifth round), instead of on the array's
   rows every 4096 clusters; with the module's layers as written instead of the
   inference kernels (and the hand loop with those kernels);
4. ``predict``'s fixed cost per call: one batch of 64 clusters through ``predict``
   against the same batch through the bare module (median of 21 calls);
5. ``fit`` and ``predict`` with each block's last activation before its max-pool, as
   the architecture is written, against after it (the library's order since the
   fourth round; the hand loops use the library's network, so they run after it);
6. ``predict`` at batch 1024 in chunks of at most 16 MiB of activation (the library's
   ``CPU_CHUNK_BYTES``), 64 MiB, 128 MiB and the whole batch, each call as a user
   makes it (its own allocator block, so what it leaves above the kept heap goes back).

Each row prints samples/s and the ratio to its baseline. Run:
``python benchmarks/bench_training_ablations.py`` (about 6 minutes on 2 idle cores;
``--quick`` for a smoke run; ``--parts`` picks some of fit, predict and chunks).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_training import (
    hand_written_fast,
    hand_written_inference,
    library_fit,
    library_predict,
    make_data,
)

from sk_clustermass import ClusterMassRegressor, as_inputs
from sk_clustermass._utils._memory import malloc_tuned
from sk_clustermass.estimator import _inference, _module
from sk_clustermass.estimator._net import ClusterNet
from sk_clustermass.estimator._precision import autocast


@contextmanager
def patched(owner, name, value):
    """``owner.name = value`` for the duration of the block."""
    original = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, original)


_LIBRARY_INITIALIZE = ClusterNet.initialize_module


def _nchw_weights(net):
    """The library's module set-up, then the weights back in NCHW layout."""
    _LIBRARY_INITIALIZE(net)
    net.module_.to(memory_format=torch.contiguous_format)
    return net


def _written_order():
    """Networks built from here on keep each block's last activation before its pool."""
    return patched(_module, "_activation_after_pool", lambda negative_slope: False)


def _no_scan(net, network, scan, images, scalars, eager):
    return network(images, *scalars)


def _sums_only(scan, images, centred, band_mean, redshift):
    centred.reshape(centred.shape[0], centred.shape[1], -1).sum(dim=-1)


@contextmanager
def scan_variant(variant: str):
    """The prediction loop with the full scan, its band sums only, or no scan at all."""
    if variant == "full":
        yield
        return
    with patched(ClusterMassRegressor, "_check_domain", lambda self, *args: None), \
            patched(_inference.InputScan, "ranges", lambda self: None):
        if variant == "none":
            with patched(ClusterNet, "_scanned_forward", _no_scan):
                yield
        else:
            with patched(_inference.InputScan, "observe_centred", _sums_only):
                yield


def _median_rows(rows: dict) -> dict:
    return {name: statistics.median(values) for name, values in rows.items()}


def _print(title: str, rates: dict, baseline: str) -> None:
    print(title)
    for name, rate in rates.items():
        print(f"  {name:<44}{rate:>9.0f}/s  {rate / rates[baseline]:.3f}x {baseline}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="512 clusters, one round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per fit")
    parser.add_argument("--parts", default="fit,predict,chunks",
                        help="comma-separated: fit, predict, chunks (default: all)")
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    n = 512 if args.quick else 4096
    rounds = 1 if args.quick else args.rounds
    images, redshift, y = make_data(n)
    X = as_inputs(images, redshift, counts=False)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, {n} clusters, "
          f"batch 64, median of {rounds} interleaved rounds")

    for precision in ("fp32", "bf16") if "fit" in parts else ():
        rows = {"standardised once (library)": [], "standardised per batch": [],
                "(a) hand loop": []}
        rows["activation before the pool"] = []
        if precision == "fp32":
            rows["NCHW weights, standardised once"] = []
        for _ in range(rounds):
            rows["standardised once (library)"].append(
                library_fit(images, redshift, y, 64, args.epochs, "cpu", precision)[0])
            with patched(ClusterNet, "standardise_once", False):
                rows["standardised per batch"].append(
                    library_fit(images, redshift, y, 64, args.epochs, "cpu", precision)[0])
            if precision == "fp32":
                with patched(ClusterNet, "initialize_module", _nchw_weights):
                    rows["NCHW weights, standardised once"].append(
                        library_fit(images, redshift, y, 64, args.epochs, "cpu",
                                    precision)[0])
            with _written_order():
                rows["activation before the pool"].append(
                    library_fit(images, redshift, y, 64, args.epochs, "cpu", precision)[0])
            rows["(a) hand loop"].append(
                hand_written_fast(images, redshift, y, 64, args.epochs, "cpu", precision))
        _print(f"fit, {precision}", _median_rows(rows), "standardised per batch")

    for precision in ("fp32", "bf16") if "predict" in parts else ():
        _, model = library_fit(images[:512], redshift[:512], y[:512], 64, 1, "cpu", precision)
        model.predict(X)
        with _written_order():
            _, written = library_fit(images[:512], redshift[:512], y[:512], 64, 1, "cpu",
                                     precision)
        written.predict(X)
        rows = {"hand loop": [], "hand loop, inference kernels": [],
                "predict (full scan)": [], "predict, scan's sums only": [],
                "predict, no scan": [], "predict, scan bookkeeping per batch": [],
                "predict, layers as written (no kernels)": [],
                "predict, activation before the pool": []}
        variants = {"predict (full scan)": "full", "predict, scan's sums only": "sums",
                    "predict, no scan": "none"}
        for _ in range(rounds):
            rows["hand loop"].append(
                hand_written_inference(images, redshift, 64, "cpu", 2, precision))
            rows["hand loop, inference kernels"].append(hand_written_inference(
                images, redshift, 64, "cpu", 2, precision, inference_kernels=True))
            with patched(_inference.ArrayBatches, "backing_arrays", lambda self: None):
                rows["predict, scan bookkeeping per batch"].append(
                    library_predict(model, X, 64, "cpu", 2))
            with patched(_module.ClusterMassCNN, "takes_inference_kernels", False):
                rows["predict, layers as written (no kernels)"].append(
                    library_predict(model, X, 64, "cpu", 2))
            for name, variant in variants.items():
                with scan_variant(variant):
                    rows[name].append(library_predict(model, X, 64, "cpu", 2))
            rows["predict, activation before the pool"].append(
                library_predict(written, X, 64, "cpu", 2))
        _print(f"predict, {precision}, batch 64", _median_rows(rows), "hand loop")
        print(f"  fixed cost of one predict call (64 clusters): "
              f"{1e3 * fixed_cost(model, images, redshift, precision):.2f} ms")

    for precision in ("fp32", "bf16") if "chunks" in parts else ():
        _, model = library_fit(images[:512], redshift[:512], y[:512], 64, 1, "cpu", precision)
        caps = {"chunks of 16 MiB (library)": _inference.CPU_CHUNK_BYTES,
                "chunks of 64 MiB": 64 * 2**20, "chunks of 128 MiB": 128 * 2**20,
                "the whole batch": 2**62}
        rows = {name: [] for name in caps}
        for _ in range(rounds):
            for name, cap in caps.items():
                with patched(_inference, "CPU_CHUNK_BYTES", cap):
                    rows[name].append(library_predict(model, X, 1024, "cpu", 2))
        _print(f"predict, {precision}, batch 1024", _median_rows(rows),
               "chunks of 16 MiB (library)")


def fixed_cost(model, images, redshift, precision: str, calls: int = 21) -> float:
    """Median seconds of ``predict`` on one batch of 64 minus the bare module's."""
    X = as_inputs(images[:64], redshift[:64], counts=False)
    module = model.net_.module_.eval()
    x, z = torch.from_numpy(images[:64]), torch.from_numpy(redshift[:64])

    def bare():
        with torch.inference_mode(), autocast(precision, "cpu"):
            module(x, z)

    def timed(call) -> float:
        call()
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    with malloc_tuned():
        return timed(lambda: model.predict(X)) - timed(bare)


if __name__ == "__main__":
    main()
