"""Training and inference throughput: ClusterMassRegressor against hand-written PyTorch.

Everything is measured in one run, on the same model (the seed architecture), the same
in-memory data, batch size and thread count, in each precision asked for (float32, and
bfloat16 autocast with float32 weights and loss):

(a) the fastest hand-written training loop we could write, in the same precision:
    pre-made tensors, contiguous batch slices, channels_last, Adam, the Gaussian
    likelihood loss (under ``torch.autocast(dtype=torch.bfloat16)`` for bf16);
(b) a plain hand-written loop in NCHW with a shuffled ``DataLoader`` over a
    ``TensorDataset`` (what most scripts do; float32 only);
(c) ``ClusterMassRegressor.fit`` (shuffled batches, internal standardisation) with
    ``precision='fp32'`` or ``'bf16'``;

and the same for inference: a hand-written loop over slices of the same numpy arrays
that ``predict`` receives (each batch moved to the device and run under
``torch.inference_mode``, in the same precision), against ``predict``.

It prints one table with the precisions side by side: samples/s of every loop, each
library call against the hand-written loop of its precision, the bf16/fp32 ratio of
every row, and the achieved GFLOP/s of ``fit`` and ``predict`` (FLOPs of one training
step and of one forward pass counted by ``torch.utils.flop_counter``) as a fraction of
a matrix product timed in the same run, both in the row's own precision and in
bfloat16 (which uses AMX where the CPU has it: the machine's fastest arithmetic). On the
CPU it then prints the peak RSS of ``fit`` at two sizes.

Run: ``python benchmarks/bench_training.py`` (about 3 minutes on 2 idle cores;
``--precision fp32`` or ``bf16`` for one side only, ``--quick`` for a smoke run,
``--device cuda`` on a GPU machine, ``--compile`` to fit and predict with
``compile=True``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback
from torch.utils.flop_counter import FlopCounterMode

from sk_clustermass import ClusterMassRegressor, as_inputs
from sk_clustermass._utils._memory import malloc_tuned
from sk_clustermass.estimator import network_parameters
from sk_clustermass.estimator._loss import GaussianNLLLoss
from sk_clustermass.estimator._module import ClusterMassCNN
from sk_clustermass.estimator._precision import autocast


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


def hand_written_fast(images, redshift, y, batch_size, epochs, device,
                      precision: str = "fp32") -> float:
    """(a): contiguous slices of pre-made channels_last tensors. Returns samples/s."""
    torch.manual_seed(0)
    model = ClusterMassCNN(10, (50, 50), **network_parameters())
    model = model.to(device).to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = GaussianNLLLoss()
    x = torch.from_numpy(images).to(device).contiguous(memory_format=torch.channels_last)
    z = torch.from_numpy(redshift).to(device)
    t = torch.from_numpy(((y - y.mean()) / y.std()).astype(np.float32)).to(device)
    n = len(x)

    def epoch():
        for start in range(0, n, batch_size):
            stop = start + batch_size
            optimizer.zero_grad(set_to_none=True)
            with autocast(precision, device):
                out = model(x[start:stop], z[start:stop])
            loss = loss_fn(out.float(), t[start:stop])
            loss.backward()
            optimizer.step()

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
        super().__init__(10, (50, 50))

    def forward(self, images, redshift):
        x = self.features((images - self.band_mean) / self.band_scale).flatten(1)
        x = torch.cat([x, redshift.reshape(-1, 1)], dim=1)
        for linear in self.dense:
            x = self.activation(linear(x))
        return self.output(x)


def _time_epochs(epoch, n, epochs, device) -> float:
    epoch()  # warm-up
    sync(device)
    rates = []
    for _ in range(epochs):
        start = time.perf_counter()
        epoch()
        sync(device)
        rates.append(n / (time.perf_counter() - start))
    return statistics.median(rates)


def library_fit(images, redshift, y, batch_size, epochs, device, precision: str = "fp32",
                compile: bool = False) -> tuple[float, ClusterMassRegressor]:
    """(c): ClusterMassRegressor.fit: samples/s over the epochs after the first, model."""
    X = as_inputs(images, redshift, counts=False)
    times = []

    class EpochClock(Callback):
        def on_epoch_end(self, net, **kwargs):
            times.append(time.perf_counter())

    model = ClusterMassRegressor(
        max_epochs=epochs + 1, patience=None, validation_fraction=0.0, batch_size=batch_size,
        device=device, precision=precision, compile=compile, random_state=0,
        callbacks=[EpochClock()],
    )
    model.fit(X, y)
    durations = np.diff(times)
    return statistics.median(len(images) / durations), model


def hand_written_inference(images, redshift, batch_size, device,
                           precision: str = "fp32") -> float:
    """Inference from the same numpy arrays that predict receives (copies to device timed).

    Batches are slices of the arrays, moved to the device one at a time; the module
    (channels_last weights, as in the library) makes each batch channels_last itself.
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
                out.append(model(x, z))
            torch.cat(out).float().cpu().numpy()

    return _time_epochs(run, len(images), 3, device)


def library_predict(model, X, device) -> float:
    def run():
        model.predict(X)

    return _time_epochs(run, len(X["images"]), 3, device)


def training_step_flops(batch_size: int) -> float:
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


def peak_rss_of_fit(n_samples: int, epochs: int) -> tuple[float, float]:
    """Run a fit in a fresh process; return (peak RSS MiB, data set MiB)."""
    import subprocess
    import sys

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


PRECISIONS = {"fp32": ("fp32",), "bf16": ("bf16",), "both": ("fp32", "bf16")}
MATMUL_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


def measure_training(args, images, redshift, y, precisions) -> tuple[dict, dict, dict]:
    """(a) and (c) in each precision, interleaved twice (best of each); models of (c)."""
    fast = dict.fromkeys(precisions, 0.0)
    fit = dict.fromkeys(precisions, 0.0)
    models = {}
    # Interleaved, so that a slow moment of the machine does not land on one side only.
    for _ in range(2):
        for precision in precisions:
            with malloc_tuned():
                rate = hand_written_fast(images, redshift, y, args.batch_size, args.epochs,
                                         args.device, precision)
            fast[precision] = max(fast[precision], rate)
            rate, models[precision] = library_fit(images, redshift, y, args.batch_size,
                                                  args.epochs, args.device, precision,
                                                  args.compile)
            fit[precision] = max(fit[precision], rate)
    return fast, fit, models


def measure_inference(args, images, redshift, models) -> tuple[dict, dict]:
    """Hand-written inference and predict at batch 256 in each precision, interleaved
    twice (best of each)."""
    X = as_inputs(images, redshift, counts=False)
    hand = dict.fromkeys(models, 0.0)
    lib = dict.fromkeys(models, 0.0)
    for model in models.values():
        model.set_params(batch_size=256)
        model.net_.set_params(batch_size=256)
    for _ in range(2):
        for precision, model in models.items():
            with malloc_tuned():
                rate = hand_written_inference(images, redshift, 256, args.device, precision)
            hand[precision] = max(hand[precision], rate)
            lib[precision] = max(lib[precision], library_predict(model, X, args.device))
    return hand, lib


def _row(label: str, values: dict, precisions, unit: str, ratio: bool = True) -> str:
    """One line of the table: a value per precision, then bf16 / fp32 when both are there."""
    cells = "".join((f"{values[p]:.0f}/s" if unit == "/s" else f"{values[p]:.2f}x").rjust(15)
                    for p in precisions)
    if ratio and len(precisions) == 2 and values["fp32"] > 0:
        cells += f"{values['bf16'] / values['fp32']:.2f}x".rjust(13)
    return f"{label:<44}{cells}"


def _share_row(label: str, rates: dict, flops: float, peak: dict, precisions) -> str:
    cells = "".join(f"{rates[p] * flops / 1e9:.1f} = {rates[p] * flops / 1e9 / peak[p]:.0%}"
                    .rjust(15) for p in precisions)
    return f"{label:<44}{cells}"


def report(args, precisions, fast, fit, hand, lib, plain) -> None:
    """The side-by-side table of one run."""
    step_flops, forward_flops = training_step_flops(args.batch_size), inference_flops()
    matmul = {name: matmul_gflops(args.device, size=1024 if args.quick else 2048, dtype=dtype)
              for name, dtype in MATMUL_DTYPES.items()}
    bf16_peak = dict.fromkeys(precisions, matmul["bf16"])
    own_peak = {p: matmul[p] for p in precisions}
    header = "".join(f"{p:>15}" for p in precisions)
    if len(precisions) == 2:
        header += f"{'bf16 / fp32':>13}"
    print(f"{'samples/s (GFLOP/s = share of a matmul)':<44}{header}")
    print(_row("(a) hand-written training loop, fastest", fast, precisions, "/s"))
    print(_row("(c) ClusterMassRegressor.fit", fit, precisions, "/s"))
    print(_row("    fit / (a)", {p: fit[p] / fast[p] for p in precisions}, precisions, "x",
               ratio=False))
    print(_row("hand-written inference loop (batch 256)", hand, precisions, "/s"))
    print(_row("ClusterMassRegressor.predict (batch 256)", lib, precisions, "/s"))
    print(_row("    predict / hand-written", {p: lib[p] / hand[p] for p in precisions},
               precisions, "x", ratio=False))
    print(_share_row("fit: GFLOP/s = share of own-precision", fit, step_flops,
                     own_peak, precisions))
    print(_share_row("fit: GFLOP/s = share of the bf16 matmul", fit, step_flops, bf16_peak,
                     precisions))
    print(_share_row("predict: GFLOP/s = share of own-precision", lib, forward_flops,
                     own_peak, precisions))
    print(_share_row("predict: GFLOP/s = share of the bf16 matmul", lib, forward_flops,
                     bf16_peak, precisions))
    print(f"matmul in this run: fp32 {matmul['fp32']:.0f} GFLOP/s, bf16 {matmul['bf16']:.0f} "
          f"GFLOP/s; training step {step_flops / 1e6:.1f} MFLOP/sample, forward pass "
          f"{forward_flops / 1e6:.1f} MFLOP/sample")
    if plain is not None:
        print(f"(b) hand-written, plain NCHW loop, fp32: {plain:.0f} samples/s; "
              f"fit / (b) = {fit['fp32'] / plain:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-samples", type=int, default=4096)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs (median)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", choices=list(PRECISIONS), default="both",
                        help="fp32, bf16 or both side by side (default)")
    parser.add_argument("--compile", action="store_true",
                        help="fit and predict with ClusterMassRegressor(compile=True)")
    parser.add_argument("--quick", action="store_true", help="small sizes, smoke run")
    parser.add_argument("--memory-only", action="store_true", help="only the peak-RSS part")
    args = parser.parse_args()
    if args.memory_only:
        print_peak_memory(args.quick)
        return
    if args.quick:
        args.n_samples, args.epochs = min(args.n_samples, 512), 2
    precisions = PRECISIONS[args.precision]

    images, redshift, y = make_data(args.n_samples)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, device "
          f"{args.device}, {args.n_samples} samples, batch {args.batch_size}, "
          f"CPU capability {torch.backends.cpu.get_cpu_capability()}"
          + (", compile=True" if args.compile else ""))
    fast, fit, models = measure_training(args, images, redshift, y, precisions)
    plain = None
    if "fp32" in precisions:
        plain = hand_written_plain(images, redshift, y, args.batch_size, args.epochs,
                                   args.device)
    hand, lib = measure_inference(args, images, redshift, models)
    report(args, precisions, fast, fit, hand, lib, plain)
    if args.device == "cpu":
        print_peak_memory(args.quick)


def print_peak_memory(quick: bool) -> None:
    for n in (1024, 4096) if quick else (2048, 8192):
        peak_mib, data_mib = peak_rss_of_fit(n, 1)
        print(f"peak RSS of fit on {n:6d} clusters: {peak_mib:7.0f} MiB "
              f"(float32 data {data_mib:6.0f} MiB, overhead {peak_mib - data_mib:5.0f} MiB)")


if __name__ == "__main__":
    main()
