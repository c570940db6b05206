"""What ``predict`` and ``evaluate`` share: the model to use and the predictions table to write.

``--model efeds`` (or a ``.safetensors`` path) chooses the model, a shipped one by
name. The bare name of a shipped model always means the shipped model, even where a
file of that name lies in the current folder (a warning then says so); give a path with
a folder in it (``./efeds``) to load such a file. ``--format ecsv|fits`` or the output's
suffix chooses the table format
(:func:`sk_clustermass.models.write_mass_table`), and a suffix that disagrees
with ``--format`` is an error. A ``.csv`` output without ``--format`` keeps the
old four columns ``id, redshift, mean, std`` (no units, no provenance).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import numpy as np

from .._utils import atomic_path
from ._common import CLIError, Console, check_device, load_any_model

__all__ = ["add_table_options", "model_source", "resolve_model", "table_path",
           "write_predictions"]

_LOGGER = logging.getLogger("sk_clustermass")

#: HDF5 catalogue columns carried into the mass table when present (the positions as
#: its SkyCoord column `coord`: RA and DEC in a FITS table).
CARRIED_COLUMNS = ("ra_deg", "dec_deg", "coverage", "partial")


def add_table_options(parser: argparse.ArgumentParser) -> None:
    """``--model`` and ``--format`` for ``predict`` and ``evaluate``."""
    from ..models import PRETRAINED_MODELS, TABLE_FORMATS

    parser.add_argument("--model", dest="model_option", metavar="NAME_OR_FILE",
                        help=f"a model shipped with the package ({', '.join(PRETRAINED_MODELS)}"
                        ") or a .safetensors file, instead of the MODEL argument; a shipped "
                        "name means the shipped model even where a file of that name "
                        "exists (write ./NAME for the file)")
    parser.add_argument("--format", choices=tuple(TABLE_FORMATS), default=None,
                        help="table format (default: from the output's suffix); ECSV and "
                        "FITS tables carry units and provenance")


def resolve_model(args: argparse.Namespace, console: Console) -> tuple[Any, Path, Any]:
    """The fitted model, its file and its training population (None when unknown)."""
    from ..models import pretrained_info

    chosen = args.model_option
    if (args.model is None) == (chosen is None):
        raise CLIError("give the model either as the MODEL argument or with --model (once)")
    name = chosen if chosen is not None else args.model
    path, shipped = model_source(name)
    population = None
    if shipped:
        console.info(f"using the pretrained {name!r} model shipped with sk_clustermass")
        population = pretrained_info(name)["training_population"]
    device = check_device(args.device)
    model = load_any_model(path, allow_pickle=args.allow_pickle, device=device)
    return model, path, population


def model_source(name: str) -> tuple[Path, bool]:
    """The file a MODEL argument names, and whether it is a model shipped with the package.

    The bare name of a shipped model (``efeds``, exactly) is always the shipped model: a
    file or folder of that name in the current folder does not shadow it, and a warning
    says how to load it instead (``./efeds``). Anything else, a name with a folder part
    included, is a path.

    Parameters
    ----------
    name : str
        The MODEL argument or ``--model`` value.

    Returns
    -------
    path : pathlib.Path
    shipped : bool
    """
    from ..models import PRETRAINED_MODELS, pretrained_path

    if name not in PRETRAINED_MODELS:
        return Path(name), False
    if Path(name).exists():
        _LOGGER.warning("%r names the model shipped with sk_clustermass, which is used; the "
                        "file %r in the current folder is not (give ./%s to load it)",
                        name, name, name)
    return pretrained_path(name), True


def table_path(output: str | None, fmt: str | None, default_stem: str) -> tuple[Path, str]:
    """The output file and its format ('csv', 'ecsv' or 'fits'), checked before any work."""
    from ..models import table_format

    if output is None:
        output = f"{default_stem}.{fmt or 'ecsv'}"
    path = Path(output)
    if path.name.lower().endswith(".csv"):
        if fmt is not None:
            message = (f"output {output!r} has a .csv suffix but --format {fmt} was asked "
                       f"for; name it {path.stem}.{fmt} (or drop --format for a plain CSV)")
            raise CLIError(message)
        kind = "csv"
    else:
        kind = table_format(path, fmt)
    if path.is_dir():
        raise CLIError(f"output {output!r} is a directory; give a file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path, kind


def _carried(dataset: Any) -> dict[str, np.ndarray]:
    import h5py

    names = [name for name in CARRIED_COLUMNS if name in dataset.columns]
    if not names:
        return {}
    with h5py.File(dataset.path, "r") as file:
        return {name: np.asarray(file[f"catalog/{name}"][:]) for name in names}


def model_prior(model: Any) -> str | None:
    """The mass prior of a fitted model's predictions (``prior_`` of its last step)."""
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    return getattr(final, "prior_", None)


def write_predictions(path: Path, kind: str, predictions: dict[str, Any], dataset: Any,
                      model_path: Path, population: Any, prior: str | None = None) -> None:
    """Write ``predictions`` (id, redshift, mean, std and maybe true) as ``kind``.

    ``prior`` (the model's ``prior_``) goes into the table's metadata.
    """
    from ..models import mass_table, write_mass_table

    if kind == "csv":
        columns = ("id", "redshift", "true", "mean", "std")
        import pandas as pd  # not at import: --help and --version answer without it

        frame = pd.DataFrame({key: predictions[key] for key in columns if key in predictions})
        with atomic_path(path) as temporary:
            frame.to_csv(temporary, index=False, float_format="%.6g")
        return
    carried = _carried(dataset)
    positions = ({"ra_deg": carried.pop("ra_deg"), "dec_deg": carried.pop("dec_deg")}
                 if "ra_deg" in carried and "dec_deg" in carried else {})
    table = mass_table(
        predictions["mean"], predictions["std"], predictions["redshift"],
        ids=predictions["id"], y_true=predictions.get("true"), model_path=model_path,
        training_population=population if population is not None else "unknown",
        extra_meta={"data_file": Path(dataset.path).name}, prior=prior, **positions,
    )
    for name, values in carried.items():
        table[name] = values
    write_mass_table(table, path, kind)
