"""Training and inference throughput: ClusterMassRegressor against hand-written PyTorch.

Everything is measured in one run, on the same model (the seed architecture), the same
in-memory data and thread count, in each precision asked for (float32, and bfloat16
autocast with float32 weights and loss), at every batch size of ``--batches`` (64, 128,
256 and 1024) and at the default batch (``--batch-size``, 64):

(a) the fastest hand-written training loop we could write, in the same precision:
    pre-made tensors, contiguous batch slices, channels_last, fused Adam, the Gaussian
    likelihood loss (under ``torch.autocast(dtype=torch.bfloat16)`` for bf16); it
    never shuffles, which no real training loop can afford;
(a') the same loop drawing shuffled batches (one ``index_select`` per batch from a
    new permutation every epoch, as stochastic gradient descent needs and ``fit``
    does): the fastest correct training loop;
(b) a plain hand-written loop in NCHW with a shuffled ``DataLoader`` over a
    ``TensorDataset`` (what most scripts do; float32, default batch; not with
    ``--quick``);
(c) ``ClusterMassRegressor.fit`` (shuffled batches, internal standardisation) with
    ``precision='fp32'`` or ``'bf16'``;

and the same for inference: a hand-written loop over slices of the same numpy arrays
that ``predict`` receives (each batch moved to the device and run under
``torch.inference_mode``, in the same precision, with the library's allocator tuning
held over all its passes), the same loop with an allocator block per pass (as each
``predict`` call has one: what a pass leaves above the kept heap goes back to the
system and is faulted in again), the same loop with the module running the library's
inference kernels (as ``predict`` runs it: activations folded into the convolutions in
bfloat16, max-pools as strided maxima), against ``predict``, and with ``--compile``
against ``predict`` through the frozen compiled graph of ``compile=True``. The plain
hand loop runs the network's layers as written: what a user's own PyTorch loop over
the same network gets.

It prints, per precision, the samples/s of every loop at every batch size; then a
summary: ``fit`` and ``predict`` at the default batch and at each one's best batch,
each against the hand-written loop's best batch, and their GFLOP/s (floating-point work
of a training step and of a forward pass, counted by ``torch.utils.flop_counter``) as a
share of a large matrix product timed in the same run in the same precision (bfloat16
uses AMX where the CPU has it); then a ``torch.profiler`` table of the top 10 operators
of a few of ``fit``'s training steps in each precision.

Run: ``python benchmarks/bench_training.py`` (about 8 minutes on 2 idle cores);
``--quick`` for a smoke run (512 clusters, one round, training at batches 64 and 256;
about a minute on 2 idle cores, under 2 on busy ones);
``--precision fp32`` or ``bf16`` for one side only; ``--device cuda`` on a GPU machine;
``--compile`` adds compiled prediction (compilation takes a minute or more per
precision on a small CPU); ``--memory`` adds the peak RSS of ``fit`` at two sizes
(``--memory-only`` for that alone). Set ``OMP_NUM_THREADS`` to compare machines.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback
from torch.utils.flop_counter import FlopCounterMode

from sk_clustermass import ClusterMassRegressor, as_inputs
from sk_clustermass._utils._memory import malloc_tuned
from sk_clustermass.estimator import network_parameters
from sk_clustermass.estimator._data import ClusterTensors
from sk_clustermass.estimator._loss import GaussianNLLLoss
from sk_clustermass.estimator._module import ClusterMassCNN
from sk_clustermass.estimator._precision import autocast
from sk_clustermass.estimator._standardised import standardised_once

PRECISIONS = {"fp32": ("fp32",), "bf16": ("bf16",), "both": ("fp32", "bf16")}
MATMUL_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


def make_data(n_samples: int, seed: int = 0):
    """Log-stretched Poisson images, made in chunks so no int64 copy inflates the RSS."""
    rng = np.random.default_rng(seed)
    images = np.empty((n_samples, 10, 50, 50), dtype=np.float32)
    for start in range(0, n_samples, 256):
        block = images[start : start + 256]
        block[...] = rng.poisson(0.7, block.shape)
        np.log1p(block, out=block)
    redshift = rng.uniform(0.05, 1.5, n_samples).astype(np.float32)
    y = rng.uniform(13.0, 15.0, n_samples)
    return images, redshift, y


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _time_epochs(epoch, n, epochs, device) -> float:
    """Median samples/s of ``epochs`` timed calls after one warm-up call."""
    epoch()
    sync(device)
    rates = []
    for _ in range(epochs):
        start = time.perf_counter()
        epoch()
        sync(device)
        rates.append(n / (time.perf_counter() - start))
    return statistics.median(rates)


# ---------------------------------------------------------------- training loops
def hand_written_fast(images, redshift, y, batch_size, epochs, device,
                      precision: str = "fp32", shuffle: bool = False) -> float:
    """(a): contiguous slices of pre-made channels_last tensors; (a') with ``shuffle``,
    batches gathered from a new permutation every epoch. Returns samples/s."""
    torch.manual_seed(0)
    model = ClusterMassCNN(10, (50, 50), **network_parameters())
    model = model.to(device).to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    loss_fn = GaussianNLLLoss()
    x = torch.from_numpy(images).to(device).contiguous(memory_format=torch.channels_last)
    z = torch.from_numpy(redshift).to(device)
    t = torch.from_numpy(((y - y.mean()) / y.std()).astype(np.float32)).to(device)
    n = len(x)
    generator = torch.Generator().manual_seed(0)

    def epoch():
        order = torch.randperm(n, generator=generator).to(device) if shuffle else None
        for start in range(0, n, batch_size):
            if order is None:
                rows = slice(start, start + batch_size)
                xb, zb, tb = x[rows], z[rows], t[rows]
            else:
                rows = order[start : start + batch_size]
                xb, zb, tb = (v.index_select(0, rows) for v in (x, z, t))
            optimizer.zero_grad(set_to_none=True)
            with autocast(precision, device):
                out = model(xb, zb)
            loss = loss_fn(out.float(), tb)
            loss.backward()
            optimizer.step()

    with malloc_tuned():
        return _time_epochs(epoch, n, epochs, device)


def hand_written_plain(images, redshift, y, batch_size, epochs, device) -> float:
    """(b): NCHW, shuffled DataLoader over a TensorDataset. Returns samples/s."""
    torch.manual_seed(0)
    model = _NCHWModel().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = GaussianNLLLoss()
    target = torch.from_numpy(((y - y.mean()) / y.std()).astype(np.float32))
    dataset = torch.utils.data.TensorDataset(
        torch.from_numpy(images), torch.from_numpy(redshift), target
    )
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True)

    def epoch():
        for xb, zb, tb in loader:
            xb, zb, tb = xb.to(device), zb.to(device), tb.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(xb, zb), tb)
            loss.backward()
            optimizer.step()

    return _time_epochs(epoch, len(images), epochs, device)


class _NCHWModel(ClusterMassCNN):
    """The same network without the channels_last conversion (a plain NCHW model)."""

    def __init__(self):
        super().__init__(10, (50, 50), **network_parameters())

    def forward(self, images, redshift):
        x = self.features((images - self.band_mean) / self.band_scale).flatten(1)
        x = torch.cat([x, redshift.reshape(-1, 1)], dim=1)
        for linear in self.dense:
            x = self.activation(linear(x))
        return self.output(x)


def library_fit(images, redshift, y, batch_size, epochs, device, precision: str = "fp32"
                ) -> tuple[float, ClusterMassRegressor]:
    """(c): ClusterMassRegressor.fit: samples/s over the epochs after the first, model."""
    X = as_inputs(images, redshift, counts=False)
    times = []

    class EpochClock(Callback):
        def on_epoch_end(self, net, **kwargs):
            times.append(time.perf_counter())

    model = ClusterMassRegressor(
        max_epochs=epochs + 1, patience=None, validation_fraction=0.0, batch_size=batch_size,
        device=device, precision=precision, random_state=0, callbacks=[EpochClock()],
    )
    model.fit(X, y)
    durations = np.diff(times)
    return statistics.median(len(images) / durations), model


# ---------------------------------------------------------------- inference loops
def hand_written_inference(images, redshift, batch_size, device, passes: int,
                           precision: str = "fp32", block_per_pass: bool = False,
                           inference_kernels: bool = False) -> float:
    """Inference from the same numpy arrays that predict receives (copies to device timed).

    Batches are slices of the arrays, moved to the device one at a time; the module
    (channels_last weights, as in the library) makes each batch channels_last itself.
    The passes run inside one allocator block (:func:`malloc_tuned`), or, with
    ``block_per_pass``, each in its own, as each ``predict`` call is: what a pass leaves
    above the heap kept between blocks then goes back to the system. With
    ``inference_kernels`` the module runs the library's inference kernels, as in
    ``predict`` (``ClusterMassCNN.forward(..., inference_kernels=True)``).
    """
    torch.manual_seed(0)
    model = ClusterMassCNN(10, (50, 50), **network_parameters())
    model = model.to(device).to(memory_format=torch.channels_last).eval()

    def run():
        with torch.inference_mode(), autocast(precision, device):
            out = []
            for start in range(0, len(images), batch_size):
                x = torch.from_numpy(images[start : start + batch_size]).to(device)
                z = torch.from_numpy(redshift[start : start + batch_size]).to(device)
                out.append(model(x, z, inference_kernels=inference_kernels))
            torch.cat(out).float().cpu().numpy()

    if block_per_pass:
        def run_in_block():
            with malloc_tuned():
                run()

        return _time_epochs(run_in_block, len(images), passes, device)
    with malloc_tuned():
        return _time_epochs(run, len(images), passes, device)


def library_predict(model, X, batch_size, device, passes: int) -> float:
    model.set_params(batch_size=batch_size)
    model.net_.set_params(batch_size=batch_size)
    return _time_epochs(lambda: model.predict(X), len(X["images"]), passes, device)


def compiled_copy(model: ClusterMassRegressor) -> ClusterMassRegressor:
    """The fitted model, predicting through compile=True's frozen graph."""
    compiled = copy.deepcopy(model)
    compiled.set_params(compile=True)
    compiled.net_.compile_network = True  # as a fit with compile=True would have set it
    return compiled


# ---------------------------------------------------------------- machine and model figures
def training_step_flops(batch_size: int = 16) -> float:
    """FLOPs per sample of one training step (forward and backward)."""
    model = ClusterMassCNN(10, (50, 50), **network_parameters())
    x = torch.rand(batch_size, 10, 50, 50)
    z = torch.rand(batch_size)
    with FlopCounterMode(display=False) as counter:
        loss = GaussianNLLLoss()(model(x, z), torch.rand(batch_size))
        loss.backward()
    return counter.get_total_flops() / batch_size


def inference_flops(batch_size: int = 16) -> float:
    """FLOPs per sample of one forward pass."""
    model = ClusterMassCNN(10, (50, 50), **network_parameters()).eval()
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        model(torch.rand(batch_size, 10, 50, 50), torch.rand(batch_size))
    return counter.get_total_flops() / batch_size


def matmul_gflops(device: str, size: int = 2048, dtype: torch.dtype = torch.float32) -> float:
    """Best-of-5 rate of a square matrix product in ``dtype`` (bfloat16: AMX if present)."""
    a = torch.rand(size, size, device=device).to(dtype)
    b = torch.rand(size, size, device=device).to(dtype)
    a @ b
    sync(device)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        a @ b
        sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def profile_training_step(model: ClusterMassRegressor, images, redshift, y, batch_size,
                          device, steps: int = 3) -> str:
    """torch.profiler's top 10 operators (self time) over ``steps`` of ``fit``'s steps."""
    from torch.profiler import ProfilerActivity, profile

    net = model.net_
    net.module_.train()
    target = ((y[:batch_size] - y.mean()) / y.std()).astype(np.float32)
    data = ClusterTensors.from_arrays(images[:batch_size], redshift[:batch_size], target)
    data = data.to(device)
    if net.standardise_once:  # the batch as fit's loop gets it: standardised once
        data, _ = standardised_once(data, None, net.module_, net.precision_in_use, device)
    batch = data.take(torch.arange(batch_size))
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
    with malloc_tuned():
        net.train_step(batch)  # warm-up
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with profile(activities=activities) as profiler:
                for _ in range(steps):
                    net.train_step(batch)
                sync(device)
    sort = "self_cuda_time_total" if device == "cuda" else "self_cpu_time_total"
    return profiler.key_averages().table(sort_by=sort, row_limit=10, max_name_column_width=40)


# ---------------------------------------------------------------- measurement
def measure_training(args, images, redshift, y, precisions
                     ) -> tuple[dict, dict, dict, dict]:
    """(a), (a') and (c) per precision and batch, interleaved; the default batch twice
    (best)."""
    fast = {p: {} for p in precisions}
    shuffled = {p: {} for p in precisions}
    fit = {p: {} for p in precisions}
    models = {}
    rounds = [args.train_batches]
    if not args.quick:
        rounds.append([args.batch_size])  # the default batch gets a second round
    for batches in rounds:
        for batch_size in batches:
            for precision in precisions:  # interleaved: a slow moment hits both sides
                rate = hand_written_fast(images, redshift, y, batch_size, args.epochs,
                                         args.device, precision)
                fast[precision][batch_size] = max(fast[precision].get(batch_size, 0), rate)
                rate = hand_written_fast(images, redshift, y, batch_size, args.epochs,
                                         args.device, precision, shuffle=True)
                shuffled[precision][batch_size] = max(
                    shuffled[precision].get(batch_size, 0), rate)
                rate, model = library_fit(images, redshift, y, batch_size, args.epochs,
                                          args.device, precision)
                fit[precision][batch_size] = max(fit[precision].get(batch_size, 0), rate)
                if batch_size == args.batch_size:
                    models[precision] = model
                print(f"  trained {precision} batch {batch_size:5d}: (a) "
                      f"{fast[precision][batch_size]:7.0f}/s, (a') "
                      f"{shuffled[precision][batch_size]:7.0f}/s, fit {rate:7.0f}/s",
                      flush=True)
    return fast, shuffled, fit, models


def measure_inference(args, images, redshift, models) -> tuple[dict, ...]:
    """Hand-written loop, predict (and compiled predict) per precision and batch,
    interleaved; the best of ``args.rounds`` rounds."""
    X = as_inputs(images, redshift, counts=False)
    hand = {p: {} for p in models}
    hand_blocks = {p: {} for p in models}
    hand_kernels = {p: {} for p in models}
    lib = {p: {} for p in models}
    compiled = {p: {} for p in models} if args.compile else {}
    compiled_models = {p: compiled_copy(m) for p, m in models.items()} if args.compile else {}
    for precision, model in compiled_models.items():
        start = time.perf_counter()
        for batch_size in args.batches:  # compile every shape before timing
            model.set_params(batch_size=batch_size)
            model.net_.set_params(batch_size=batch_size)
            model.predict(X)
        print(f"  compiled {precision} prediction in {time.perf_counter() - start:.0f} s",
              flush=True)
    for _ in range(args.rounds):
        for batch_size in args.batches:
            for precision, model in models.items():
                rate = hand_written_inference(images, redshift, batch_size, args.device,
                                              args.passes, precision)
                hand[precision][batch_size] = max(hand[precision].get(batch_size, 0), rate)
                rate = hand_written_inference(images, redshift, batch_size, args.device,
                                              args.passes, precision, block_per_pass=True)
                hand_blocks[precision][batch_size] = max(
                    hand_blocks[precision].get(batch_size, 0), rate)
                rate = hand_written_inference(images, redshift, batch_size, args.device,
                                              args.passes, precision, inference_kernels=True)
                hand_kernels[precision][batch_size] = max(
                    hand_kernels[precision].get(batch_size, 0), rate)
                rate = library_predict(model, X, batch_size, args.device, args.passes)
                lib[precision][batch_size] = max(lib[precision].get(batch_size, 0), rate)
                if precision in compiled_models:
                    rate = library_predict(compiled_models[precision], X, batch_size,
                                           args.device, args.passes)
                    compiled[precision][batch_size] = max(
                        compiled[precision].get(batch_size, 0), rate)
    for model in (*models.values(), *compiled_models.values()):
        model.set_params(batch_size=args.batch_size)
        model.net_.set_params(batch_size=args.batch_size)
    return hand, hand_blocks, hand_kernels, lib, compiled


# ---------------------------------------------------------------- report
def _best(rates: dict) -> int:
    return max(rates, key=rates.get)


def print_rates(title: str, rows: dict, batches) -> None:
    """One table: a row per loop, a column per batch size (samples/s)."""
    print(f"{title:<44}" + "".join(f"{'batch ' + str(b):>12}" for b in batches))
    for label, rates in rows.items():
        print(f"{label:<44}" + "".join(
            (f"{rates[b]:.0f}/s" if b in rates else "-").rjust(12) for b in batches))


def _share(rate: float, flops: float, peak: float) -> str:
    gflops = rate * flops / 1e9
    return f"{gflops:.1f} GFLOP/s = {gflops / peak:.0%}"


def report(args, precisions, fast, shuffled, fit, inference, matmul, step_flops,
           forward_flops) -> None:
    hand, hand_blocks, hand_kernels, lib, compiled = inference
    print()
    for precision in precisions:
        print_rates(f"training, {precision} (samples/s)", {
            "(a) hand-written training loop, fastest": fast[precision],
            "(a') the same, shuffled batches": shuffled[precision],
            "(c) ClusterMassRegressor.fit": fit[precision],
        }, args.train_batches)
        rows = {"hand-written inference loop": hand[precision],
                "the same, an allocator block per pass": hand_blocks[precision],
                "the same, the library's inference kernels": hand_kernels[precision],
                "ClusterMassRegressor.predict": lib[precision]}
        if compiled:
            rows["predict, compile=True (frozen graph)"] = compiled[precision]
        print_rates(f"inference, {precision} (samples/s)", rows, args.batches)
        print()
    print(f"matmul in this run: fp32 {matmul['fp32']:.0f} GFLOP/s, bf16 {matmul['bf16']:.0f} "
          f"GFLOP/s; training step {step_flops / 1e6:.1f} MFLOP/sample, forward pass "
          f"{forward_flops / 1e6:.1f} MFLOP/sample")
    default = args.batch_size
    for precision in precisions:
        peak = matmul[precision]
        best_fit, best_hand = _best(fit[precision]), _best(fast[precision])
        best_pred, best_loop = _best(lib[precision]), _best(hand[precision])
        rate = fit[precision]
        best_shuffled = _best(shuffled[precision])
        print(f"{precision}: fit at batch {default}: {rate[default]:.0f}/s = "
              f"{rate[default] / fast[precision][default]:.2f}x (a), "
              f"{rate[default] / shuffled[precision][default]:.2f}x (a') at that batch, "
              f"{_share(rate[default], step_flops, peak)} of the {precision} matmul")
        print(f"{precision}: fit at its best batch {best_fit}: {rate[best_fit]:.0f}/s = "
              f"{rate[best_fit] / fast[precision][best_hand]:.2f}x (a) at its best batch "
              f"{best_hand}, {rate[best_fit] / shuffled[precision][best_shuffled]:.2f}x "
              f"(a') at its best batch {best_shuffled}, "
              f"{_share(rate[best_fit], step_flops, peak)}")
        rate = lib[precision]
        cliff = ", ".join(f"{b}: {rate[b] / rate[args.batches[0]]:.2f}" for b in args.batches)
        print(f"{precision}: predict at batch {default}: {rate[default]:.0f}/s, at its best "
              f"batch {best_pred}: {rate[best_pred]:.0f}/s = "
              f"{rate[best_pred] / hand[precision][best_loop]:.2f}x the hand loop's best "
              f"(batch {best_loop}), {_share(rate[best_pred], forward_flops, peak)}")
        best_blocks = _best(hand_blocks[precision])
        print(f"{precision}: predict at its best batch = "
              f"{rate[best_pred] / hand_blocks[precision][best_blocks]:.2f}x the hand loop "
              f"with an allocator block per pass, like predict's per call, at its best "
              f"(batch {best_blocks})")
        best_kernels = _best(hand_kernels[precision])
        print(f"{precision}: predict at its best batch = "
              f"{rate[best_pred] / hand_kernels[precision][best_kernels]:.2f}x the hand loop "
              f"with the library's inference kernels at its best (batch {best_kernels}); "
              f"those kernels make the hand loop "
              f"{hand_kernels[precision][best_kernels] / hand[precision][best_loop]:.2f}x "
              f"faster (best against best)")
        print(f"{precision}: predict per batch / batch {args.batches[0]}: {cliff}")
        if compiled:
            best = _best(compiled[precision])
            print(f"{precision}: compiled predict at its best batch {best}: "
                  f"{compiled[precision][best]:.0f}/s = "
                  f"{compiled[precision][best] / rate[best_pred]:.2f}x eager predict's best")
    if len(precisions) == 2:
        print(f"bf16 / fp32 at batch {default}: fit "
              f"{fit['bf16'][default] / fit['fp32'][default]:.2f}x, predict "
              f"{lib['bf16'][default] / lib['fp32'][default]:.2f}x")


def peak_rss_of_fit(n_samples: int, epochs: int) -> tuple[float, float]:
    """Run a fit in a fresh process; return (peak RSS MiB, data set MiB)."""
    code = (
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from bench_training import make_data\n"
        "from sk_clustermass import ClusterMassRegressor, as_inputs\n"
        f"images, redshift, y = make_data({n_samples})\n"
        "X = as_inputs(images, redshift, counts=False)\n"
        "def hwm():  # this process's peak RSS in MiB (VmHWM; ru_maxrss keeps the parent's)\n"
        "    line = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "    return int(line.split()[1]) / 1024\n"
        "base = hwm()\n"
        f"ClusterMassRegressor(max_epochs={epochs}, patience=None, random_state=0).fit(X, y)\n"
        "peak = hwm()\n"
        "print(base, peak)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    data_mib = n_samples * 10 * 50 * 50 * 4 / 2**20
    return float(out[1]), data_mib


def print_peak_memory(quick: bool) -> None:
    for n in (1024, 4096) if quick else (2048, 8192):
        peak_mib, data_mib = peak_rss_of_fit(n, 1)
        print(f"peak RSS of fit on {n:6d} clusters: {peak_mib:7.0f} MiB "
              f"(float32 data {data_mib:6.0f} MiB, overhead {peak_mib - data_mib:5.0f} MiB)")


def _batches(text: str) -> list[int]:
    return [int(value) for value in text.split(",")]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-samples", type=int, default=4096)
    parser.add_argument("--batch-size", type=int, default=64, help="the default batch")
    parser.add_argument("--batches", type=_batches, default=[64, 128, 256, 1024],
                        help="batch sizes to compare (comma-separated)")
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs (median)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", choices=list(PRECISIONS), default="both",
                        help="fp32, bf16 or both side by side (default)")
    parser.add_argument("--compile", action="store_true",
                        help="also predict through compile=True's frozen compiled graph")
    parser.add_argument("--quick", action="store_true",
                        help="512 clusters, one round, training at two batch sizes")
    parser.add_argument("--memory", action="store_true", help="also the peak RSS of fit")
    parser.add_argument("--memory-only", action="store_true", help="only the peak-RSS part")
    args = parser.parse_args(argv)
    args.batches = sorted(set(args.batches) | {args.batch_size})
    args.train_batches = list(args.batches)
    args.passes, args.rounds = 3, 3  # inference: timed passes, interleaved rounds
    if args.quick:
        args.n_samples, args.epochs = min(args.n_samples, 512), 1
        args.passes, args.rounds = 1, 1
        args.train_batches = sorted({args.batch_size, 256})
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.memory_only:
        print_peak_memory(args.quick)
        return
    precisions = PRECISIONS[args.precision]
    images, redshift, y = make_data(args.n_samples)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, device "
          f"{args.device}, {args.n_samples} samples, default batch {args.batch_size}, "
          f"CPU capability {torch.backends.cpu.get_cpu_capability()}", flush=True)
    matmul = {name: matmul_gflops(args.device, size=1024 if args.quick else 2048, dtype=dtype)
              for name, dtype in MATMUL_DTYPES.items()}
    step_flops, forward_flops = training_step_flops(), inference_flops()
    fast, shuffled, fit, models = measure_training(args, images, redshift, y, precisions)
    inference = measure_inference(args, images, redshift, models)
    report(args, precisions, fast, shuffled, fit, inference, matmul, step_flops,
           forward_flops)
    if "fp32" in precisions and not args.quick:
        plain = hand_written_plain(images, redshift, y, args.batch_size, args.epochs,
                                   args.device)
        print(f"(b) hand-written, plain NCHW loop, fp32, batch {args.batch_size}: "
              f"{plain:.0f} samples/s; fit / (b) = "
              f"{fit['fp32'][args.batch_size] / plain:.2f}x")
    for precision, model in models.items():
        print(f"\nprofile of {precision} training steps (fit's net, batch {args.batch_size}), "
              "top 10 operators by self time:")
        print(profile_training_step(model, images, redshift, y, args.batch_size,
                                    args.device))
    if args.memory and args.device == "cpu":
        print_peak_memory(args.quick)


if __name__ == "__main__":
    main()
