"""The ``cutouts`` command: eROSITA event lists + exposure maps + catalogue -> HDF5.

``sk-clustermass cutouts EVENTS... --exposure EXPMAP... --catalog cat.fits -o
clusters.h5`` cuts one training-format cube per catalogue position with
:func:`sk_clustermass.datasets.make_cutouts` and writes them, with the catalogue
(positions, redshift, coverage, exposure, published masses) and the cubes' band edges
and pixel scale, to the library's HDF5 format, ready for ``predict``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ._common import CLIError, Console
from ._outputs import output_file

if TYPE_CHECKING:  # the parser is built without pandas (--help, --version)
    import pandas as pd

__all__ = ["add_cutouts_arguments", "run_cutouts"]

#: Catalogue columns written with the cubes (those present).
KEPT_COLUMNS = ("id", "ra_deg", "dec_deg", "z", "M500c", "M500c_low", "M500c_high",
                "coverage", "partial", "exposure_s", "n_events", "n_files")
HDF5_SUFFIXES = (".h5", ".hdf5", ".hdf")


def add_cutouts_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``cutouts``."""
    parser.add_argument("events", nargs="+", help="eSASS event files (EVENTS extension)")
    parser.add_argument("--exposure", nargs="+", required=True, metavar="EXPMAP",
                        help="one exposure map (s, with a celestial WCS) per event file, "
                        "in the same order")
    parser.add_argument("--catalog", required=True,
                        help="cluster catalogue: eFEDS or eRASS1 FITS table, ECSV, CSV or "
                        "Feather, with positions and redshifts")
    parser.add_argument("--layout", default="auto", choices=("auto", "efeds", "erass1"),
                        help="column layout of the catalogue (default: auto)")
    parser.add_argument("-o", "--output", required=True, help="HDF5 file to write (.h5)")
    parser.add_argument("--time-range", type=float, nargs=2, metavar=("START", "STOP"),
                        help="keep events with START <= TIME < STOP (s)")
    parser.add_argument("--flag-mask", type=lambda text: int(text, 0), default=None,
                        help="drop events whose FLAG has any of these bits (default "
                        "0xC00FFF30; 0 keeps all)")
    parser.add_argument("--min-coverage", type=float, default=0.0,
                        help="refuse positions with exposure on less than this fraction "
                        "of their cutout (default: 0, only positions outside every file)")
    parser.set_defaults(func="run_cutouts")


def _hdf5_output(args: argparse.Namespace) -> Path:
    output = Path(args.output)
    if output.suffix.lower() not in HDF5_SUFFIXES:
        message = (f"output {args.output!r}: cutouts writes the library's HDF5 format; name "
                   f"the file with {' or '.join(HDF5_SUFFIXES)} (e.g. {output.stem}.h5)")
        raise CLIError(message)
    return output_file(output, (*args.events, *args.exposure, args.catalog))


def _kept(catalog: pd.DataFrame) -> pd.DataFrame:
    table = catalog.copy()
    table["id"] = (table["name"].astype(str) if "name" in table.columns
                   else np.arange(len(table)))
    return table[[name for name in KEPT_COLUMNS if name in table.columns]]


def run_cutouts(args: argparse.Namespace, console: Console) -> int:
    """Cut cubes out of event lists at the catalogue's positions into an HDF5 file."""
    from ..instrument import DEFAULT_BAND_EDGES_KEV
    from ..io import DEFAULT_FLAG_MASK, make_cutouts, read_cluster_catalog, write_hdf5

    if not 0.0 <= args.min_coverage <= 1.0:  # also refuses nan
        message = (f"--min-coverage must be a fraction between 0 and 1; got "
                   f"{args.min_coverage}")
        raise CLIError(message)
    output = _hdf5_output(args)
    catalog = read_cluster_catalog(args.catalog, layout=args.layout)
    console.info(f"cutting {len(catalog)} positions out of {len(args.events)} event file(s)")
    flag_mask = DEFAULT_FLAG_MASK if args.flag_mask is None else args.flag_mask
    X, table = make_cutouts(args.events, args.exposure, catalog, time_range=args.time_range,
                            flag_mask=flag_mask, min_coverage=args.min_coverage)
    attrs = {"band_edges_kev": np.asarray(DEFAULT_BAND_EDGES_KEV), "pixel_arcsec": 24.0,
             "source": "sk-clustermass cutouts",
             "event_files": ",".join(Path(p).name for p in args.events),
             "catalog_file": Path(args.catalog).name}
    write_hdf5(output, X, None, _kept(table), attrs=attrs)
    partial = int(table["partial"].sum())
    note = f"; {partial} only partly covered (column 'partial')" if partial else ""
    console.info(f"wrote {len(table)} cubes to {output}{note}")
    return 0
