"""Issue 27, round three: limits, long names, signals, model contents and real-data slips.

Cases of :mod:`tests.bad_input_cases` (same :class:`Case` and :class:`CliCase`, same
judging) for the defects of issue 27 that the first rounds left: crashes and huge
allocations (27.7), output names near ``NAME_MAX`` (27.9), SIGTERM mid-write (27.10),
shipped model names shadowed by local files (27.11), crafted or downgraded model files
(27.13) and the smaller slips of 27.14. Command-line cases that could allocate without
bound run under a memory limit (``RLIMIT_AS``), so that a regression fails instead of
taking the machine.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np

from sk_clustermass import ClusterMassRegressor, load_model, save_model
from sk_clustermass.datasets import (
    make_clusters,
    make_cutouts,
    read_events,
    write_fits_cube,
    write_hdf5,
)
from tests.bad_input_cases import (
    _X,
    TINY,
    Case,
    CliCase,
    Y,
    _event_field,
    _events_scaled,
    _model_file,
)

#: The memory a command line may take where a bad option could ask for terabytes.
MEMORY_LIMIT = 8 * 2**30
#: Bytes a file may grow to under `ulimit -f 200`.
ULIMIT_F_200 = 200 * 1024


def _name_max(folder: Path) -> int:
    """The longest file name (bytes) the file system of ``folder`` allows."""
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):  # pragma: no cover - no pathconf
        return 255


def _craft(source: Path, target: Path, edit, *, checksums: bool = True) -> Path:
    """``source`` edited as an attacker would (checksums recomputed unless told not to)."""
    from safetensors import safe_open
    from safetensors.numpy import save_file

    from sk_clustermass.models._integrity import payload_checksums  # to forge them

    with safe_open(str(source), framework="numpy") as handle:
        metadata = dict(handle.metadata())
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    spec = json.loads(metadata["spec"])
    edit(spec, tensors, metadata)
    metadata["spec"] = json.dumps(spec)
    if checksums and "checksums" in metadata:
        metadata["checksums"] = payload_checksums(metadata["spec"], tensors)
    save_file(tensors, str(target), metadata=metadata)
    return target


def _downgrade_and_damage(spec, tensors, metadata):
    metadata["format_version"] = "1"
    tensors["estimator.module.output.bias"] = tensors["estimator.module.output.bias"] + 1.0


def _version_1(spec, tensors, metadata):
    metadata["format_version"] = "1"
    del metadata["checksums"]


def _attribute(name, value):
    def edit(spec, tensors, metadata):
        spec["steps"][-1]["attributes"][name] = value
    return edit


def _wide_band_ranges(spec, tensors, metadata):
    key = "estimator.band_total_range_"
    tensors[key] = np.concatenate([tensors[key], tensors[key]])


def _checkpoint_dir(spec, tensors, metadata):
    spec["steps"][-1]["params"]["checkpoint_dir"] = "/somewhere/else"


def _crafted(folder: Path, name: str, edit, **kwargs) -> Path:
    return _craft(_model_file(folder), folder / f"{name}.safetensors", edit, **kwargs)


def _no_checkpoint_dir(model) -> str | None:
    if model.checkpoint_dir is None:
        return None
    return f"the loaded model writes its checkpoints to {model.checkpoint_dir!r}"


def _gzip_name(path: Path, expected: str) -> str | None:
    header = path.read_bytes()[:10 + len(expected) + 1]
    if header[3] & 0x08 and header[10:] != expected.encode() + b"\x00":
        stored = header[10:].split(b"\x00")[0].decode(errors="replace")
        return f"the gzip header names {stored!r}, not {expected!r}"
    return None


def _fits_gz(folder: Path) -> str | None:
    path = folder / "cube.fits.gz"
    write_fits_cube(path, np.ones((10, 8, 8), np.float32), redshift=0.3)
    return _gzip_name(path, "cube.fits")


def _long_named_hdf5(folder: Path) -> str | None:
    path = folder / ("h" * (_name_max(folder) - 3) + ".h5")
    write_hdf5(path, _X(), Y)
    return None if path.is_file() else "nothing was written"


def _map_of(folder: Path, name: str, fill: float | None = None, naxis: int | None = None):
    from astropy.io import fits

    _, expmap, _ = _event_field(folder)
    with fits.open(expmap) as hdul:
        header, data = hdul[0].header.copy(), hdul[0].data.copy()
    path = folder / name
    if naxis is not None:  # a header that declares naxis x naxis pixels, with no data
        header["NAXIS1"] = header["NAXIS2"] = naxis
        path.write_bytes(header.tostring().encode("ascii") + bytes(2880))
    else:
        fits.PrimaryHDU(np.full_like(data, fill), header).writeto(path, overwrite=True)
    return path


def _forged_events(folder: Path) -> Path:
    from astropy.io import fits

    events, _, _ = _event_field(folder)
    header = fits.getheader(events, "EVENTS")
    header["NAXIS2"] = 10**10
    path = folder / "forged-events.fits"
    path.write_bytes(fits.PrimaryHDU().header.tostring().encode("ascii")
                     + header.tostring().encode("ascii") + bytes(2880))
    return path


def _nan_positions(folder: Path):
    import pandas as pd

    _, _, catalog = _event_field(folder)
    many = pd.concat([catalog] * 50, ignore_index=True)
    many.loc[99, "ra_deg"] = np.nan  # 1% of the rows
    return many


def limit_cases(folder: Path) -> list[Case]:
    """The library's cases (files are made in ``folder``)."""
    from sk_clustermass.metrics import binned_metrics

    X = _X()
    events, expmap, catalog = _event_field(folder)
    masses = 10 ** np.linspace(13.5, 14.5, 20)
    return [
        # 27.7: sizes checked before anything is allocated
        Case("fit", "dense_layers=(3_000_000_000,)", lambda: ClusterMassRegressor(
            **dict(TINY, dense_layers=(3_000_000_000,))).fit(X, Y)),
        Case("fit", "lr=1e300", lambda: ClusterMassRegressor(**dict(TINY, lr=1e300)).fit(X, Y)),
        Case("binned_metrics", "true masses in Msun (~1e14)",
             lambda: binned_metrics(masses, masses, 0.1)),
        # 27.9: a name of NAME_MAX bytes is valid
        Case("write_hdf5", "an output name of NAME_MAX bytes",
             lambda: _long_named_hdf5(folder), expected=(), ok=lambda problem: problem,
             failure="data-loss"),
        # 27.13: model files
        Case("load_model", "format_version 2 -> 1, checksums kept, a weight damaged",
             lambda: load_model(_crafted(folder, "downgraded", _downgrade_and_damage,
                                         checksums=False))),
        Case("load_model", "version-1 file without checksums (no opt-in)",
             lambda: load_model(_crafted(folder, "version1", _version_1, checksums=False))),
        Case("load_model", "crafted: band ranges of twice the bands (broadcast)",
             lambda: load_model(_crafted(folder, "wide", _wide_band_ranges))),
        Case("load_model", "crafted: an attribute named 'predict'",
             lambda: load_model(_crafted(folder, "predict", _attribute("predict", 1.0)))),
        Case("load_model", "crafted: y_scale_ = 1e300",
             lambda: load_model(_crafted(folder, "scale", _attribute("y_scale_", 1e300)))),
        Case("load_model", "crafted: a checkpoint_dir elsewhere",
             lambda: load_model(_crafted(folder, "checkpoints", _checkpoint_dir)),
             expected=(), ok=_no_checkpoint_dir),
        # 27.14: writers and real-data slips
        Case("write_fits_cube", ".fits.gz: the gzip header's name", lambda: _fits_gz(folder),
             expected=(), ok=lambda problem: problem),
        Case("make_cutouts", "an empty catalogue",
             lambda: make_cutouts(events, expmap, catalog.iloc[:0])),
        Case("make_cutouts", "1% of the rows without RA",
             lambda: make_cutouts(events, expmap, _nan_positions(folder)), message="row 99"),
        Case("make_cutouts", "an exposure map of inf", lambda: make_cutouts(
            events, _map_of(folder, "inf-map.fits", fill=np.inf), catalog),
            message="infinite"),
        Case("make_cutouts", "an exposure map whose NAXIS lies", lambda: make_cutouts(
            events, _map_of(folder, "forged-map.fits", naxis=10**6), catalog)),
        Case("read_events", "an EVENTS table whose NAXIS2 lies",
             lambda: read_events(_forged_events(folder))),
        Case("read_events", "PI in keV", lambda: read_events(
            _events_scaled(folder, "PI", 1e-3))),
    ]


# ------------------------------------------------------------------- command line
_SLOW_WRITE_HDF5 = """
import sys, time
import numpy as np
from sk_clustermass import as_inputs
from sk_clustermass.datasets import HDF5ClusterWriter, write_hdf5

original = HDF5ClusterWriter._write_block

def slow_block(self, *args):
    original(self, *args)
    print("writing", flush=True)
    time.sleep(60)

HDF5ClusterWriter._write_block = slow_block
try:
    write_hdf5(sys.argv[1], as_inputs(np.ones((4, 3, 8, 8)), np.full(4, 0.3)), None)
except KeyboardInterrupt as stop:
    print(f"interrupted: {stop}", file=sys.stderr)
    sys.exit(130)
"""


def _only(folder: Path, names: list[str]) -> str | None:
    """None if ``folder`` holds exactly ``names`` (no temporary file, nothing more)."""
    found = sorted(path.name for path in folder.iterdir())
    return None if found == sorted(names) else f"{folder.name}/ holds {found}"


def _simulated(folder: Path) -> tuple[Path, Path]:
    """A small simulated data set and a tiny model trained on it."""
    data, model = folder / "sim.h5", folder / "sim-model.safetensors"
    if not model.exists():
        X, y = make_clusters(12, random_state=4, chunk_size=64)
        write_hdf5(data, X, y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # y in Msun: what the case is about
            write_hdf5(folder / "sim-msun.h5", X, 10 ** y)
        regressor = ClusterMassRegressor(n_filters=2, kernel_size=3, conv_layers=(1,),
                                         pool_size=4, dense_layers=(4,), max_epochs=1,
                                         patience=None, validation_fraction=0.0,
                                         random_state=0)
        save_model(regressor.fit(X, y), model)
        import joblib

        joblib.dump(regressor, folder / "sim-model.joblib.gz")
    return data, model


def _cutouts(folder: Path, catalog, name: str, expmap: Path | None = None) -> list[str]:
    events, default_map, _ = _event_field(folder)
    table = folder / f"{name}.csv"  # in the eFEDS layout's column names
    catalog.rename(columns={"ra_deg": "RA_CORR", "dec_deg": "DEC_CORR"}).to_csv(table,
                                                                             index=False)
    return ["cutouts", str(events), "--exposure", str(expmap or default_map), "--catalog",
            str(table), "-o", str(folder / f"{name}.h5")]


def _events_case(folder: Path) -> list[str]:
    _, expmap, catalog = _event_field(folder)
    table = folder / "kev-catalog.csv"
    catalog.rename(columns={"ra_deg": "RA_CORR", "dec_deg": "DEC_CORR"}).to_csv(table,
                                                                             index=False)
    return ["cutouts", str(_events_scaled(folder, "PI", 1e-3)), "--exposure", str(expmap),
            "--catalog", str(table), "-o", str(folder / "kev.h5")]


def limit_cli_cases(folder: Path) -> list[CliCase]:
    """The command-line cases (files are made in ``folder``); POSIX only (limits, signals
    and symbolic links)."""
    if os.name != "posix":  # pragma: no cover
        return []
    data, model = _simulated(folder)
    tiny = ["--n-filters", "2", "--kernel-size", "3", "--conv-layers", "1", "--pool-size",
            "4", "--dense-layers", "4", "--patience", "none", "--max-epochs", "1",
            "--validation-fraction", "0", "-q"]
    limited = folder / "limited"
    limited.mkdir(exist_ok=True)
    evaluation = folder / "msun-evaluation"
    long_name = folder / ("m" * (_name_max(folder) - len(".safetensors")) + ".safetensors")
    too_long = folder / ("m" * _name_max(folder) + ".safetensors")
    writing = folder / "writing"
    writing.mkdir(exist_ok=True)
    (writing / "data.h5").write_bytes(b"the old, complete file")
    shipped = folder / "shipped"
    shipped.mkdir(exist_ok=True)
    (shipped / "efeds").write_bytes(b"a local file that is no model")
    loop = folder / "loop.h5"
    if not loop.is_symlink():
        loop.symlink_to(loop)
    _, _, catalog = _event_field(folder)
    gz = folder / "masses.fits.gz"
    return [
        # 27.7
        CliCase("simulate under `ulimit -f 200`", ["simulate", "-q", "-n", "300", "-o",
                                                   str(limited / "x.h5")],
                message="EFBIG", file_size_limit=ULIMIT_F_200,
                check=lambda: _only(limited, [])),
        CliCase("simulate --chunk-size 1000000000 -n 3",
                ["simulate", "-q", "-n", "3", "--chunk-size", "1000000000", "-o",
                 str(folder / "capped.h5")], expected_rc=0, memory_limit=MEMORY_LIMIT),
        CliCase("evaluate on true masses in Msun",
                ["evaluate", str(model), str(folder / "sim-msun.h5"), "-o", str(evaluation),
                 "--no-figures", "-q"], message="not log10",
                check=lambda: f"{evaluation.name}/ was written" if evaluation.exists() else None),
        CliCase("train --n-filters 30000", ["train", str(data), *tiny, "--n-filters", "30000",
                                            "-o", str(folder / "n.safetensors")],
                message="n_filters", memory_limit=MEMORY_LIMIT),
        CliCase("train --dense-layers 3000000000",
                ["train", str(data), *tiny, "--dense-layers", "3000000000",
                 "-o", str(folder / "d.safetensors")],
                message="dense_layers", memory_limit=MEMORY_LIMIT),
        CliCase("train --lr 1e300", ["train", str(data), *tiny, "--lr", "1e300",
                                     "-o", str(folder / "lr.safetensors")], message="lr"),
        # 27.9
        CliCase("train -o a name of NAME_MAX bytes", ["train", str(data), *tiny, "-o",
                                                      str(long_name)], expected_rc=0,
                check=lambda: None if long_name.is_file() else "the trained model was lost"),
        CliCase("train -o a name over NAME_MAX", ["train", str(data), *tiny, "-o",
                                                  str(too_long)], message="NAME_MAX"),
        # 27.10
        CliCase("write_hdf5 sent SIGTERM mid-write", [str(writing / "data.h5")],
                python=_SLOW_WRITE_HDF5, sigterm_after="writing", expected_rc=130,
                check=lambda: _only(writing, ["data.h5"]) or (
                    None if (writing / "data.h5").read_bytes() == b"the old, complete file"
                    else "the old file was replaced")),
        # 27.11
        CliCase("predict --model efeds, a file 'efeds' here",
                ["predict", "--model", "efeds", str(data), "-o", "p.csv", "-q"],
                expected_rc=0, cwd=shipped),
        # 27.13
        CliCase("predict with a version-downgraded damaged model",
                ["predict", str(_crafted(folder, "downgraded", _downgrade_and_damage,
                                         checksums=False)), str(data),
                 "-o", str(folder / "dd.csv")], message="SHA-256"),
        # 27.14
        CliCase("cutouts -o a symlink loop", [*_cutouts(folder, catalog, "loop")[:-1],
                                              str(loop)], message="loop",
                check=lambda: None if loop.is_symlink() else "the link was replaced"),
        CliCase("predict -o masses.fits.gz", ["predict", str(model), str(data), "-o", str(gz),
                                              "-q"], expected_rc=0, failure="silent-wrong",
                check=lambda: _gzip_name(gz, "masses.fits") if gz.exists() else "no table"),
        CliCase("predict model.joblib.gz --allow-pickle",
                ["predict", str(folder / "sim-model.joblib.gz"), str(data), "--allow-pickle",
                 "-o", str(folder / "pickled.csv"), "-q"], expected_rc=0),
        CliCase("cutouts with an empty catalogue",
                _cutouts(folder, catalog.iloc[:0], "empty"), message="no rows"),
        CliCase("cutouts with 1% of RA missing",
                _cutouts(folder, _nan_positions(folder), "nan-ra"), message="row"),
        CliCase("cutouts with an exposure map of inf",
                _cutouts(folder, catalog, "inf", _map_of(folder, "inf-map.fits", fill=np.inf)),
                message="infinite"),
        CliCase("cutouts with a NAXIS lie in the map",
                _cutouts(folder, catalog, "naxis",
                         _map_of(folder, "forged-map.fits", naxis=10**6)),
                message="declares"),
        CliCase("cutouts with PI in keV", _events_case(folder), message="keV"),
    ]
