"""Binned figures of merit for the command line's reports: tables, CSV files, page tables.

``evaluate`` and ``demo`` compute, for every method, the figures of merit in bins of
true mass, predicted mass and redshift (:func:`sk_clustermass.metrics.binned_table`),
write each as a CSV file and show them on the report page as ``value ± error``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .._utils import atomic_path
from ..metrics import binned_table
from ._report import ReportTable

__all__ = ["BINNINGS", "binned_tables", "console_table", "report_tables", "write_binned"]

#: Binnings of the reports: name -> (title, what to bin on).
BINNINGS = {
    "true_mass": "true log10 M500c",
    "predicted_mass": "predicted log10 M500c",
    "redshift": "redshift",
}
#: Bootstrap resamplings behind the errors of the binned tables.
N_BOOTSTRAP = 200
_SHOWN = (("scatter_dex", "scatter", "{:.3f}"), ("bias_dex", "bias", "{:+.3f}"),
          ("coverage_68", "68% cov.", "{:.2f}"), ("coverage_95", "95% cov.", "{:.2f}"),
          ("pull_std", "pull std", "{:.2f}"), ("nll", "NLL", "{:.2f}"))
_NOTE = ("Per bin and method: scatter and bias of predicted - true (dex), fraction of true "
         "masses inside the central 68% and 95% intervals (ideal 0.68, 0.95), standard "
         "deviation of the pulls (ideal 1) and mean negative log-likelihood, each ± its "
         f"bootstrap error ({N_BOOTSTRAP} resamplings of the bin's clusters).")


def binned_tables(y: np.ndarray, predictions: Mapping, redshift: np.ndarray,
                  random_state: int = 0) -> dict[str, pd.DataFrame]:
    """Figures of merit per bin of true mass, predicted mass and redshift, every method.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        True ``log10(M500c / Msun)``.
    predictions : dict of str to (mean, std)
        Per method, for the same clusters.
    redshift : ndarray of shape (n_samples,)
    random_state : int, default=0
        Seeds the bootstrap.

    Returns
    -------
    dict of str to pandas.DataFrame
        Keyed by the names of :data:`BINNINGS`; tables of
        :func:`~sk_clustermass.metrics.binned_table`.
    """
    by = {"true_mass": "true", "predicted_mass": "predicted",
          "redshift": np.asarray(redshift, dtype=np.float64)}
    tables = {}
    for name, value in by.items():
        bins = 4 if name == "redshift" else None
        table = binned_table(y, dict(predictions), by=value, bins=bins,
                             n_bootstrap=N_BOOTSTRAP, random_state=random_state)
        table.attrs["by"] = BINNINGS[name]
        tables[name] = table
    return tables


def write_binned(folder: Path, tables: Mapping[str, pd.DataFrame]) -> list[tuple[str, str]]:
    """Write ``binned_<name>.csv`` per table; return the (file, description) pairs."""
    files = []
    for name, table in tables.items():
        filename = f"binned_{name}.csv"
        with atomic_path(folder / filename) as temporary:
            table.to_csv(temporary, index=False, float_format="%.6g")
        files.append((filename, f"figures of merit per bin of {BINNINGS[name]}, "
                                "with bootstrap errors"))
    return files


def _cell(value: float, error: float, fmt: str, error_fmt: str) -> str:
    if np.isnan(value):
        return "–"
    return fmt.format(value) + ("" if np.isnan(error) else " ± " + error_fmt.format(error))


def _display(table: pd.DataFrame) -> pd.DataFrame:
    """Cells as text: 'value ± error'."""
    shown = pd.DataFrame({
        "method": table["method"],
        "bin": [f"{low:.2f}–{high:.2f}" for low, high in zip(table["bin_low"],
                                                             table["bin_high"])],
        "N": table["n"].astype(int).astype(str),
    })
    for column, header, fmt in _SHOWN:
        error_fmt = fmt.replace("+", "")
        shown[header] = [_cell(value, error, fmt, error_fmt)
                         for value, error in zip(table[column], table[f"{column}_err"])]
    return shown


def report_tables(tables: Mapping[str, pd.DataFrame]) -> list[ReportTable]:
    """One page table per binning, cells formatted as 'value ± error'."""
    return [ReportTable(f"binned-{name.replace('_', '-')}", f"Per bin of {BINNINGS[name]}",
                        _display(table), _NOTE)
            for name, table in tables.items()]


def console_table(tables: Mapping[str, pd.DataFrame]) -> str:
    """The binned tables as plain text for the terminal."""
    blocks = []
    for name, table in tables.items():
        blocks.append(f"per bin of {BINNINGS[name]}:\n"
                      + _display(table).to_string(index=False))
    return "\n\n".join(blocks)
