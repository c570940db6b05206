"""Bad input at every public entry point, as a table of cases, and how to judge them.

A case passes ("clear") when the call raises an exception of the expected kind, from
inside sk_clustermass (not from deep inside numpy, torch or h5py), whose message is a
sentence long enough to say what was wrong. Warnings count for cases that must warn;
cases with an ``ok`` check must succeed and pass it (a wrong result is "silent-wrong",
a lost or damaged file "data-loss"). The command-line cases run ``sk-clustermass`` in a
subprocess and pass when it exits with the expected status (2 and a one-line message
without a traceback, unless the case expects success) and its checks hold.

Every case that does not pass falls in one category (:func:`category`): unclear (an
error, but not a clear one), silent-wrong (no error, or a wrong result), data-loss, crash
(a signal, a segmentation fault, MemoryError) or hang (past its time limit).

``tests/test_bad_input.py`` runs these cases; ``python tests/bad_input_report.py``
counts them by category (``-v`` lists every case).
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.exceptions import NotFittedError

from sk_clustermass import ClusterMassRegressor, as_inputs, load_model, save_model
from sk_clustermass import preprocessing as pp
from sk_clustermass.datasets import (
    HDF5ClusterWriter,
    make_clusters,
    read_fits_cubes,
    read_hdf5,
    read_lab_dataset,
    write_hdf5,
    write_lab_dataset,
)
from sk_clustermass.estimator import OutOfDomainWarning

PACKAGE_DIR = str(Path(__file__).resolve().parents[1] / "sk_clustermass")
TINY = {"n_filters": 2, "kernel_size": 3, "conv_layers": (1,), "pool_size": 2,
        "dense_layers": (4,), "max_epochs": 1, "patience": None, "random_state": 0}


@dataclass
class Case:
    """One bad input: the entry point, what is wrong, the call and what it must raise.

    With ``ok``, the call must succeed instead: ``ok(result)`` returns None when the
    result is right, else what is wrong (counted as ``failure``). ``message``: a text
    the error's message must contain to be clear.
    """

    entry: str
    what: str
    call: Callable[[], object]
    expected: tuple[type[BaseException], ...] = (ValueError, TypeError, KeyError)
    warns: type[Warning] | None = None
    ok: Callable[[object], str | None] | None = None
    failure: str = "silent-wrong"
    message: str | None = None


#: The categories of a case that does not pass, worst first.
CATEGORIES = ("crash", "hang", "data-loss", "silent-wrong", "unclear")


def category(clear: bool, detail: str) -> str:
    """'clear', or the category of a failed case from its detail line."""
    if clear:
        return "clear"
    for name in CATEGORIES:
        if detail.startswith(f"{name}:"):
            return name
    if detail.startswith("no error raised"):
        return "silent-wrong"
    if detail.startswith(("UNEXPECTED MemoryError", "UNEXPECTED RecursionError")):
        return "crash"
    return "unclear"


def _images(n=6, bands=3, size=12, value=1.0):
    return np.full((n, bands, size, size), value, dtype=np.float32)


def _X(**kwargs):
    return as_inputs(_images(**kwargs), np.linspace(0.1, 0.6, kwargs.get("n", 6)))


Y = np.linspace(13.2, 14.8, 6)


def _fitted():
    return ClusterMassRegressor(**TINY).fit(_X(), Y)


def input_cases() -> list[Case]:
    z = np.linspace(0.1, 0.6, 6)
    return [
        Case("as_inputs", "3-D images (one cluster)",
             lambda: as_inputs(np.zeros((3, 12, 12)), [0.1])),
        Case("as_inputs", "5-D images", lambda: as_inputs(np.zeros((1, 1, 3, 12, 12)), [0.1])),
        Case("as_inputs", "2-D table", lambda: as_inputs(np.zeros((6, 10)), z)),
        Case("as_inputs", "string dtype", lambda: as_inputs(np.full((6, 3, 4, 4), "a"), z)),
        Case("as_inputs", "object dtype", lambda: as_inputs(np.empty((6, 3, 4, 4), object), z)),
        Case("as_inputs", "complex images", lambda: as_inputs(_images() + 1j, z)),
        Case("as_inputs", "NaN pixel", lambda: as_inputs(_images(value=np.nan), z)),
        Case("as_inputs", "inf pixel", lambda: as_inputs(_images(value=np.inf), z)),
        Case("as_inputs", "negative counts", lambda: as_inputs(_images(value=-1.0), z)),
        Case("as_inputs", "missing redshift", lambda: as_inputs(_images())),
        Case("as_inputs", "dict without redshift", lambda: as_inputs({"images": _images()})),
        Case("as_inputs", "dict without images", lambda: as_inputs({"redshift": z})),
        Case("as_inputs", "NaN redshift", lambda: as_inputs(_images(), np.full(6, np.nan))),
        Case("as_inputs", "zero redshift", lambda: as_inputs(_images(), np.zeros(6))),
        Case("as_inputs", "negative redshift", lambda: as_inputs(_images(), -z)),
        Case("as_inputs", "2-D redshift", lambda: as_inputs(_images(), z[None])),
        Case("as_inputs", "length mismatch", lambda: as_inputs(_images(), z[:4])),
        Case("as_inputs", "empty input", lambda: as_inputs(_images(n=0), [])),
    ]


def regressor_cases() -> list[Case]:
    X = _X()
    bad = [("loss", "huber"), ("optimizer", "lbfgs"), ("regularizer", "l3"),
           ("regularizer_target", "weights"), ("lr_schedule", "step"), ("padding", "full"),
           ("device", "tpu"), ("n_filters", 0), ("kernel_size", -1), ("batch_size", 0),
           ("max_epochs", 0), ("lr", 0.0), ("dropout", 1.5), ("validation_fraction", 1.0),
           ("patience", 0), ("conv_layers", 3), ("dense_layers", (64, -1)),
           ("kernel_size", 13)]
    cases = [
        Case("fit", f"{name}={value!r}",
             lambda n=name, v=value: ClusterMassRegressor(**dict(TINY, **{n: v})).fit(X, Y))
        for name, value in bad
    ]
    cases += [
        Case("fit", "NaN in y", lambda: ClusterMassRegressor(**TINY).fit(X, np.r_[Y[:5], np.nan])),
        Case("fit", "y length mismatch", lambda: ClusterMassRegressor(**TINY).fit(X, Y[:4])),
        Case("fit", "y of shape (n, 2)", lambda: ClusterMassRegressor(**TINY).fit(X, np.c_[Y, Y])),
        Case("fit", "y in Msun, not log10", lambda: ClusterMassRegressor(**TINY).fit(X, 10**Y),
             expected=(), warns=UserWarning),
        Case("fit", "images without redshift",
             lambda: ClusterMassRegressor(**TINY).fit({"images": _images()}, Y)),
        Case("fit", "NaN image", lambda: ClusterMassRegressor(**TINY).fit(
            {"images": _images(value=np.nan), "redshift": np.full(6, 0.2)}, Y)),
        Case("predict", "before fit", lambda: ClusterMassRegressor().predict(X),
             expected=(NotFittedError,)),
        Case("predict", "other band count", lambda: _fitted().predict(_X(bands=2))),
        Case("predict", "other image size", lambda: _fitted().predict(_X(size=14))),
        Case("predict", "NaN image", lambda: _fitted().predict(
            {"images": _images(value=np.nan), "redshift": np.full(6, 0.2)})),
        Case("predict", "missing redshift", lambda: _fitted().predict({"images": _images()})),
        Case("fit", "y as ln M (~32)", lambda: ClusterMassRegressor(**TINY).fit(
            X, Y * np.log(10)), expected=(), warns=UserWarning),
        Case("fit", "redshift as cz in km/s", lambda: ClusterMassRegressor(**TINY).fit(
            as_inputs(_images(), np.linspace(3e4, 1.8e5, 6)), Y)),
    ]
    cases += [  # issue 27.1: cubes that are not counts like those seen in fit
        Case("predict", what, lambda change=change: _counts_fitted().predict(change()),
             expected=(), warns=OutOfDomainWarning)
        for what, change in _unit_slips()
    ]
    return cases


_COUNTS_MODEL: list = []


def _counts_fitted() -> ClusterMassRegressor:
    """A tiny model fitted on Poisson counts (made once)."""
    if not _COUNTS_MODEL:
        X, y = _counts(40, seed=0)
        model = ClusterMassRegressor(**dict(TINY, validation_fraction=0.25))
        _COUNTS_MODEL.append(model.fit(X, y))  # 10 validation clusters: calibrated
    return _COUNTS_MODEL[0]


def _counts(n: int, seed: int):
    rng = np.random.default_rng(seed)
    y = rng.uniform(13.5, 14.5, n)
    images = rng.poisson(10 ** (y - 14.0)[:, None, None, None] * np.ones((1, 3, 12, 12)))
    return as_inputs(images.astype(np.float32), rng.uniform(0.1, 0.6, n)), y


def _unit_slips() -> list[tuple[str, Callable[[], object]]]:
    def given(factor=1.0, z=None):
        X, _ = _counts(6, seed=1)
        redshift = X["redshift"] if z is None else np.full(6, z)
        return as_inputs(X["images"] * factor, redshift, counts=False)

    return [("all-zero cubes", lambda: given(0.0)),
            ("count rates (counts / 1200 s)", lambda: given(1 / 1200)),
            ("fluxes (x 1e-15)", lambda: given(1e-15)),
            ("counts x 1000", lambda: given(1000.0)),
            ("z = 1e-6", lambda: given(z=1e-6))]


def transformer_cases() -> list[Case]:
    X = _X()
    return [
        Case("LogStretch", "negative counts with log1p", lambda: pp.LogStretch().fit_transform(
            as_inputs(_images(value=-2.0), np.full(6, 0.2), counts=False))),
        Case("LogStretch", "unknown method", lambda: pp.LogStretch(method="sqrt").fit(X)),
        Case("BandNormalizer", "band mismatch", lambda: pp.BandNormalizer().fit(X).transform(
            _X(bands=2))),
        Case("BandNormalizer", "before fit", lambda: pp.BandNormalizer().transform(X),
             expected=(NotFittedError,)),
        Case("Rebin", "size not divisible", lambda: pp.Rebin(factor=5).fit_transform(X)),
        Case("Rebin", "factor 0", lambda: pp.Rebin(factor=0).fit_transform(X)),
        Case("CenterCrop", "crop larger than image",
             lambda: pp.CenterCrop(size=20).fit_transform(X)),
        Case("BandMerge", "unknown preset", lambda: pp.BandMerge(groups="xyz").fit_transform(X)),
        Case("BandMerge", "band index out of range",
             lambda: pp.BandMerge(groups=[[0, 7]]).fit_transform(X)),
        Case("GaussianSmoothing", "negative sigma",
             lambda: pp.GaussianSmoothing(sigma_pixels=-1).fit_transform(X)),
        Case("BackgroundSubtract", "annulus outside image",
             lambda: pp.BackgroundSubtract(inner_radius=40).fit_transform(X)),
        Case("BandMerge", "NaN input", lambda: pp.BandMerge().fit_transform(
            {"images": _images(value=np.nan), "redshift": np.full(6, 0.2)})),
    ]


def reader_cases(folder: Path) -> list[Case]:
    garbage = folder / "garbage.h5"
    garbage.write_bytes(b"\x00garbage" * 64)
    good = folder / "good.h5"
    write_hdf5(good, _X(), Y)
    truncated = folder / "truncated.h5"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    bad_pickle = folder / "images.pickle"
    bad_pickle.write_bytes(b"not a pickle")
    catalog = folder / "catalog.feather"
    catalog.write_bytes(b"not feather")
    fits = folder / "cube.fits"
    fits.write_bytes(b"SIMPLE  = nonsense")
    model = folder / "model.safetensors"
    model.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{garbage}")
    fake_model = folder / "pickle_as_model.safetensors"
    fake_model.write_bytes(pickle.dumps({"a": 1}))
    missing = folder / "missing.h5"
    io_errors = (ValueError, TypeError, KeyError, OSError)
    return [
        Case("read_hdf5", "missing file", lambda: read_hdf5(missing), expected=io_errors),
        Case("read_hdf5", "garbage file", lambda: read_hdf5(garbage), expected=io_errors),
        Case("read_hdf5", "truncated file", lambda: read_hdf5(truncated), expected=io_errors),
        Case("read_hdf5", "rows out of range", lambda: read_hdf5(good, rows=[100]),
             expected=(*io_errors, IndexError)),
        Case("read_lab_dataset", "pickle without trusted=True",
             lambda: read_lab_dataset(bad_pickle, catalog)),
        Case("read_lab_dataset", "garbage pickle",
             lambda: read_lab_dataset(bad_pickle, catalog, trusted=True), expected=io_errors),
        Case("read_fits_cubes", "garbage FITS", lambda: read_fits_cubes([fits], redshift=[0.1]),
             expected=io_errors),
        Case("load_model", "garbage model file", lambda: load_model(model), expected=io_errors),
        Case("load_model", "a pickle renamed .safetensors", lambda: load_model(fake_model),
             expected=io_errors),
        Case("load_model", "missing file", lambda: load_model(missing), expected=io_errors),
        Case("make_clusters", "n_samples=0", lambda: make_clusters(0)),
        Case("make_clusters", "unknown survey", lambda: make_clusters(10, survey="chandra")),
        Case("make_clusters", "inverted mass range",
             lambda: make_clusters(10, mass_range=(15, 13))),
    ]


# ------------------------------------------------- issue 19: nothing lost, nothing silently wrong
def _model_file(folder: Path) -> Path:
    path = folder / "fitted.safetensors"
    if not path.exists():
        save_model(_fitted(), path)
    return path


def _flipped_byte(folder: Path) -> Path:
    """A model file with one byte flipped inside a weight tensor."""
    raw = bytearray(_model_file(folder).read_bytes())
    header_size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + header_size])
    start = header["estimator.module.output.weight"]["data_offsets"][0]
    raw[8 + header_size + start + 1] ^= 0x40
    path = folder / "flipped.safetensors"
    path.write_bytes(bytes(raw))
    return path


def _crafted(folder: Path, name: str, edit: Callable[[dict, dict, dict], None]) -> Path:
    """A model file edited as an attacker would, checksums recomputed to match."""
    from safetensors import safe_open
    from safetensors.numpy import save_file

    from sk_clustermass.models._integrity import payload_checksums  # to forge them

    with safe_open(str(_model_file(folder)), framework="numpy") as handle:
        metadata = dict(handle.metadata())
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    spec = json.loads(metadata["spec"])
    edit(spec, tensors, metadata)
    if "spec" in metadata:
        metadata["spec"] = json.dumps(spec)
        metadata["checksums"] = payload_checksums(metadata["spec"], tensors)
    path = folder / f"{name}.safetensors"
    save_file(tensors, str(path), metadata=metadata)
    return path


def _drop_spec(spec, tensors, metadata):
    del metadata["spec"]


def _huge_dense_layer(spec, tensors, metadata):
    spec["steps"][-1]["module_params"]["dense_layers"] = {"__tuple__": [10**9]}


def _wrong_weight_shape(spec, tensors, metadata):
    key = "estimator.module.output.weight"
    tensors[key] = np.zeros((3, tensors[key].shape[1]), dtype=tensors[key].dtype)


def _lab_pair(folder: Path, *, channels_first=False, mass_factor=1.0) -> tuple[Path, Path]:
    import pandas as pd

    rng = np.random.default_rng(0)
    cubes = rng.random((4, 50, 50, 10))
    catalog = pd.DataFrame({"z": rng.uniform(0.1, 1.0, 4),
                            "M500c": 10 ** rng.uniform(13, 15, 4) * mass_factor})
    tag = f"{int(channels_first)}-{mass_factor:g}"
    images, table = folder / f"lab-{tag}.pickle", folder / f"lab-{tag}.feather"
    write_lab_dataset(images, table, cubes, catalog.assign(M500c=catalog["M500c"] / mass_factor),
                      np.arange(4))
    catalog.to_feather(table)
    if channels_first:
        with open(images, "wb") as handle:
            pickle.dump({"cluster": np.arange(4),
                         "gsm_3dImgs": [np.moveaxis(cube, -1, 0) for cube in cubes]}, handle)
    return images, table


def _contradicting_hdf5(folder: Path) -> Path:
    import h5py

    path = folder / "contradicting.h5"
    write_hdf5(path, _X(), Y)
    with h5py.File(path, "r+") as file:
        file.attrs["n_bands"] = 12  # the images have 3 bands
    return path


def _fits(folder: Path, name: str, cube: np.ndarray | None = None) -> Path:
    from astropy.io import fits

    path = folder / name
    if cube is not None:
        fits.PrimaryHDU(cube, header=fits.Header({"REDSHIFT": 0.3})).writeto(path)
        return path
    header = fits.Header({"SIMPLE": True, "BITPIX": -32, "NAXIS": 3, "NAXIS1": 100_000,
                          "NAXIS2": 100_000, "NAXIS3": 100, "REDSHIFT": 0.3})
    path.write_bytes(header.tostring().encode("ascii") + bytes(2880))  # "4 TB" in 5 kB
    return path


def _second_writer(folder: Path) -> None:
    path = folder / "busy.h5"
    with HDF5ClusterWriter(path, n_bands=3, height=12, width=12):
        with HDF5ClusterWriter(path, n_bands=3, height=12, width=12):
            pass


def safety_cases(folder: Path) -> list[Case]:
    """Issue 19: writers, model files, checkpoints and readers under hostile input."""
    io_errors = (ValueError, TypeError, KeyError, OSError)
    fifo = folder / "pipe.h5"
    if hasattr(os, "mkfifo"):
        os.mkfifo(fifo)
    cases = [
        Case("write_hdf5", "a FIFO as output (stands for /dev/null)",
             lambda: write_hdf5(fifo, _X(), Y)),
        Case("HDF5ClusterWriter", "a second writer of the same path",
             lambda: _second_writer(folder), expected=io_errors),
        Case("load_model", "one byte flipped in a weight", lambda: load_model(
            _flipped_byte(folder))),
        Case("load_model", "crafted: no description", lambda: load_model(
            _crafted(folder, "no-spec", _drop_spec))),
        Case("load_model", "crafted: 1e9-unit dense layer", lambda: load_model(
            _crafted(folder, "huge", _huge_dense_layer))),
        Case("load_model", "crafted: weight of wrong shape", lambda: load_model(
            _crafted(folder, "reshaped", _wrong_weight_shape))),
        Case("read_lab_dataset", "channels-first cubes", lambda: read_lab_dataset(
            *_lab_pair(folder, channels_first=True), trusted=True)),
        Case("read_lab_dataset", "masses in grams (1e47)", lambda: read_lab_dataset(
            *_lab_pair(folder, mass_factor=1.989e33), trusted=True)),
        Case("read_hdf5", "n_bands attribute contradicts /images",
             lambda: read_hdf5(_contradicting_hdf5(folder))),
        Case("read_fits_cubes", "channels-last cube", lambda: read_fits_cubes(
            [_fits(folder, "last.fits", np.ones((50, 50, 10), np.float32))])),
        Case("read_fits_cubes", "header declaring a 4 TB cube", lambda: read_fits_cubes(
            [_fits(folder, "forged.fits")])),
    ]
    import torch

    if not torch.cuda.is_available():
        cases.append(Case("load_model", "device='cuda' without CUDA",
                          lambda: load_model(_model_file(folder), device="cuda")))
    if not hasattr(os, "mkfifo"):
        cases = cases[1:]
    return cases


def _event_field(folder: Path) -> tuple[Path, Path, object]:
    """A small eSASS-like event list and exposure map of two simulated cubes."""
    import pandas as pd

    from sk_clustermass.datasets import write_mock_event_files

    images = np.random.default_rng(0).poisson(0.3, (2, 10, 50, 50)).astype(np.float32)
    catalog = pd.DataFrame({"ra_deg": [150.0, 151.0], "dec_deg": [2.0, 2.0], "z": [0.2, 0.4]})
    events, expmap = folder / "events.fits", folder / "expmap.fits"
    if not events.exists():
        write_mock_event_files(events, expmap, as_inputs(images, catalog["z"]),
                               catalog["ra_deg"], catalog["dec_deg"], random_state=1)
    return events, expmap, catalog


def _events_without(folder: Path, column: str) -> Path:
    from astropy.io import fits

    events, _, _ = _event_field(folder)
    with fits.open(events) as hdul:
        data = hdul["EVENTS"].data
        columns = [fits.Column(name, "D" if data[name].dtype.kind == "f" else "J",
                               array=np.array(data[name]))
                   for name in data.columns.names if name != column]
    path = folder / f"events-without-{column}.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(columns, name="EVENTS")]
                 ).writeto(path, overwrite=True)
    return path


def _map_without_wcs(folder: Path) -> Path:
    from astropy.io import fits

    path = folder / "expmap-nowcs.fits"
    fits.PrimaryHDU(np.ones((10, 10))).writeto(path, overwrite=True)
    return path


def _other_field_map(folder: Path) -> Path:
    from sk_clustermass.datasets import write_mock_event_files

    events, expmap = folder / "other-events.fits", folder / "other-expmap.fits"
    images = np.ones((1, 10, 50, 50), np.float32)
    write_mock_event_files(events, expmap, as_inputs(images, [0.3]), [200.0], [-30.0],
                           random_state=0)
    return expmap


def real_data_cases(folder: Path) -> list[Case]:
    """Issue 16: event lists, exposure maps and catalogues that cannot give cubes."""
    import pandas as pd

    from sk_clustermass.datasets import make_cutouts

    events, expmap, catalog = _event_field(folder)
    far = pd.DataFrame({"ra_deg": [10.0], "dec_deg": [-40.0], "z": [0.3]})
    return [
        Case("make_cutouts", "events without the PI column", lambda: make_cutouts(
            _events_without(folder, "PI"), expmap, catalog)),
        Case("make_cutouts", "a position outside every file",
             lambda: make_cutouts(events, expmap, far)),
        Case("make_cutouts", "an exposure map without a celestial WCS",
             lambda: make_cutouts(events, _map_without_wcs(folder), catalog)),
        Case("make_cutouts", "an exposure map of another field", lambda: make_cutouts(
            events, _other_field_map(folder),
            catalog.assign(ra_deg=[200.0, 200.0], dec_deg=[-30.0, -30.2]))),
        # issue 27.1: ordinary mistakes that gave all-zero cubes
        Case("make_cutouts", "PI in keV instead of eV", lambda: make_cutouts(
            _events_scaled(folder, "PI", 1e-3), expmap, catalog)),
        Case("make_cutouts", "an empty EVENTS table", lambda: make_cutouts(
            _events_scaled(folder, "PI", 0.0), expmap, catalog)),
        Case("make_cutouts", "time_range (10, 5)", lambda: make_cutouts(
            events, expmap, catalog, time_range=(10, 5))),
        Case("make_cutouts", "min_coverage=-1", lambda: make_cutouts(
            events, expmap, catalog, min_coverage=-1.0)),
    ]


def _events_scaled(folder: Path, column: str, factor: float) -> Path:
    """The event file with ``column`` times ``factor`` (0: no event at all)."""
    from astropy.io import fits

    events, _, _ = _event_field(folder)
    with fits.open(events) as hdul:
        data = hdul["EVENTS"].data
        table = {name: np.array(data[name]) for name in data.columns.names}
    table[column] = table[column] * factor
    keep = slice(None) if factor else slice(0)
    columns = [fits.Column(name, "D" if values.dtype.kind == "f" else "J",
                           array=values[keep]) for name, values in table.items()]
    path = folder / f"events-{column}-x{factor:g}.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(columns, name="EVENTS")]
                 ).writeto(path, overwrite=True)
    return path


def library_cases(folder: Path) -> list[Case]:
    """Every case of the library (not the command line); files are made in ``folder``."""
    return (input_cases() + regressor_cases() + transformer_cases() + reader_cases(folder)
            + safety_cases(folder) + real_data_cases(folder))


def _raised_by_us(exc: BaseException) -> bool:
    """Whether the exception (or one in its chain) was raised by sk_clustermass code."""
    while exc is not None:
        frames = traceback.extract_tb(exc.__traceback__)
        if frames and frames[-1].filename.startswith(PACKAGE_DIR):
            return True
        exc = exc.__context__
    return False


def run_case(case: Case) -> tuple[bool, str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = case.call()
        except case.expected as exc:
            message = str(exc)
            # sklearn's own NotFittedError is the standard, clear message
            ours = _raised_by_us(exc) or isinstance(exc, NotFittedError)
            clear = ours and len(message) >= 30 and "Traceback" not in message and (
                case.message is None or case.message in message)
            return clear, f"{type(exc).__name__}: {message.splitlines()[0][:110]}"
        except Exception as exc:  # anything else is reported as unclear
            return False, f"UNEXPECTED {type(exc).__name__}: {exc}"
    if case.ok is not None:
        problem = case.ok(result)
        return problem is None, "works as it should" if problem is None else (
            f"{case.failure}: {problem}")
    if case.warns is not None and any(issubclass(w.category, case.warns) for w in caught):
        return True, f"warning: {next(str(w.message) for w in caught)[:110]}"
    return False, "no error raised"


def cli_cases(folder: Path) -> list[tuple[str, list[str]]]:
    missing = str(folder / "missing.h5")
    garbage = str(folder / "garbage.h5")
    return [
        ("predict with a missing model", ["predict", missing, str(folder / "good.h5"),
                                          "-o", str(folder / "p.csv")]),
        ("train from a garbage file", ["train", garbage, "-o", str(folder / "m.safetensors")]),
        ("simulate with n=0", ["simulate", "--n-samples", "0", "-o", str(folder / "s.h5")]),
        ("unknown study", ["study", "no-such-study"]),
        ("train with unknown loss", ["train", "--simulate", "20", "--loss", "huber",
                                     "-o", str(folder / "m2")]),
        ("predict -o its own data file", ["predict", str(folder / "fitted.safetensors"),
                                          str(folder / "good.h5"), "-o",
                                          str(folder / "good.h5")]),
        ("predict -o its own model", ["predict", str(folder / "fitted.safetensors"),
                                      str(folder / "good.h5"), "-o",
                                      str(folder / "fitted.safetensors")]),
        ("evaluate -o a file, not a folder", ["evaluate", str(folder / "fitted.safetensors"),
                                              str(folder / "good.h5"), "-o",
                                              str(folder / "good.h5")]),
        ("simulate -o a FIFO", ["simulate", "-n", "3", "-o", str(folder / "pipe.h5")]),
        ("predict -o x.ecsv --format fits", ["predict", str(folder / "fitted.safetensors"),
                                             str(folder / "good.h5"), "--format", "fits",
                                             "-o", str(folder / "masses.ecsv")]),
        ("simulate -o x.fits (not HDF5)", ["simulate", "-n", "3", "-o",
                                           str(folder / "sim.fits")]),
        *_issue27_cli_cases(folder),
    ]


def _issue27_cli_cases(folder: Path) -> list[tuple[str, list[str]]]:
    """Issue 27: outputs over inputs (4), cutouts giving empty cubes (1), slips (14)."""
    model, good = folder / "fitted.safetensors", str(folder / "good.h5")
    evaluation = folder / "evaluation"
    evaluation.mkdir(exist_ok=True)
    hidden = evaluation / "index.html"  # the model, under the name of a report file
    if model.exists():
        hidden.write_bytes(model.read_bytes())
    existing = folder / "existing.txt"
    existing.write_text("keep")
    events, expmap, table = _event_field(folder)
    catalog = folder / "catalog.csv"  # the eFEDS layout's column names
    table.rename(columns={"ra_deg": "RA_CORR", "dec_deg": "DEC_CORR"}).to_csv(catalog,
                                                                         index=False)
    events_h5 = folder / "evin.h5"
    events_h5.write_bytes(events.read_bytes())
    cutouts = ["cutouts", str(events), "--exposure", str(expmap), "--catalog", str(catalog)]
    return [
        ("evaluate --model DIR/index.html -o DIR", ["evaluate", "--model", str(hidden), good,
                                                    "-o", str(evaluation)]),
        ("cutouts -o its own event file", ["cutouts", str(events_h5), "--exposure",
                                           str(expmap), "--catalog", str(catalog),
                                           "-o", str(events_h5)]),
        ("cutouts --time-range 10 5", [*cutouts, "--time-range", "10", "5",
                                       "-o", str(folder / "t.h5")]),
        ("cutouts --min-coverage nan", [*cutouts, "--min-coverage", "nan",
                                        "-o", str(folder / "c.h5")]),
        ("train -o model.csv", ["train", good, "-o", str(folder / "model.csv")]),
        ("study -o an existing file", ["study", "filters", good, "-o", str(existing)]),
        ("demo --max-epochs 0", ["demo", "--max-epochs", "0", "-o", str(folder / "d")]),
        ("demo --n-samples 0", ["demo", "--n-samples", "0", "-o", str(folder / "d")]),
        ("train --conv-layers 3,,2", ["train", good, "--conv-layers", "3,,2",
                                      "-o", str(folder / "m3.safetensors")]),
    ]


@dataclass
class CliCase:
    """One command line: its arguments, the exit status it must give and what must hold.

    ``message``: a text the one-line error must contain. ``check()``: None when the
    files are as they must be after the run, else what is wrong (a ``failure``).
    ``python``: run this Python code with the arguments instead of the command line.
    ``file_size_limit``/``memory_limit``: RLIMIT_FSIZE/RLIMIT_AS of the run, bytes.
    ``sigterm_after``: send SIGTERM once the run printed this line on stdout.
    """

    what: str
    args: list[str]
    expected_rc: int = 2
    message: str | None = None
    check: Callable[[], str | None] | None = None
    failure: str = "data-loss"
    cwd: Path | None = None
    python: str | None = None
    file_size_limit: int | None = None
    memory_limit: int | None = None
    sigterm_after: str | None = None
    timeout: float = 300


def _limits(case: CliCase) -> Callable[[], None] | None:
    if case.file_size_limit is None and case.memory_limit is None:
        return None

    def apply() -> None:
        import resource

        if case.file_size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (case.file_size_limit,) * 2)
        if case.memory_limit is not None:
            resource.setrlimit(resource.RLIMIT_AS, (case.memory_limit,) * 2)

    return apply


def _run(case: CliCase) -> tuple[int, str]:
    """Exit status and stderr of the case's process (SIGTERM sent when it says so)."""
    command = ([sys.executable, "-c", case.python, *case.args] if case.python is not None
               else [sys.executable, "-m", "sk_clustermass.cli", *case.args])
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg",
           "PYTHONPATH": str(Path(PACKAGE_DIR).parent)}
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, cwd=case.cwd, env=env, preexec_fn=_limits(case))
    try:
        if case.sigterm_after is not None:
            for line in child.stdout:
                if case.sigterm_after in line:
                    child.send_signal(signal.SIGTERM)
                    break
        _, stderr = child.communicate(timeout=case.timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise
    return child.returncode, stderr.strip()


def run_cli_case(case: CliCase | tuple[str, list[str]]) -> tuple[bool, str]:
    if not isinstance(case, CliCase):
        case = CliCase(*case)
    try:
        code, stderr = _run(case)
    except subprocess.TimeoutExpired:
        return False, f"hang: still running after {case.timeout:.0f} s"
    final_line = stderr.splitlines()[-1] if stderr else ""
    last = final_line[:110]
    if code < 0 or (code > 128 and code != 130):
        return False, f"crash: exit {code} ({last})"
    problem = case.check() if case.check is not None else None
    if problem is not None:
        return False, f"{case.failure}: {problem} (exit {code})"
    if code != case.expected_rc:
        kind = "silent-wrong" if code == 0 else "unclear"
        return False, f"{kind}: exit {code}, expected {case.expected_rc} ({last})"
    if case.expected_rc == 2:
        clear = "Traceback" not in stderr and bool(stderr)
        if case.message is not None and case.message not in final_line:
            return False, f"unclear: the message lacks {case.message!r}: {last}"
        return clear, f"exit {code}: {last}"
    return True, f"exit {code}: works as it should"
