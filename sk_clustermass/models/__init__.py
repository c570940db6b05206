"""Model files: save, load, ship, export and tabulate fitted models.

:func:`save_model` and :func:`load_model` write and read safe ``.safetensors`` model
files (no code runs on loading; checksums and shapes are verified) of this library's
estimators and pipelines, meta-estimators included; both are also importable from the
package root. :func:`load_pretrained` loads a model shipped with the package
(:data:`PRETRAINED_MODELS`; :func:`pretrained_info` is its record,
:func:`pretrained_path` its file). :func:`export_onnx` and :func:`export_torch` export
a fitted network (with its standardisation folded in) to ONNX or
:mod:`torch.export`. :func:`mass_table` and :func:`write_mass_table` turn predictions
into tables with units and provenance, in one of :data:`TABLE_FORMATS` (ECSV or FITS,
as :func:`table_format` picks from a file name); :func:`cosmology_from_json` rebuilds the
cosmology a FITS table's header names.

The names are imported when first used, so that the command line's ``--help`` reads
:data:`PRETRAINED_MODELS` and :data:`TABLE_FORMATS` without loading PyTorch.
"""

from typing import TYPE_CHECKING

from .._utils import lazy_exports

if TYPE_CHECKING:
    from ._export import export_onnx, export_torch
    from ._mass_tables import cosmology_from_json, mass_table, write_mass_table
    from ._persistence import load_model, save_model
    from ._pretrained import PRETRAINED_MODELS, load_pretrained, pretrained_info, pretrained_path
    from ._table_formats import TABLE_FORMATS, table_format

__all__ = [
    "PRETRAINED_MODELS",
    "TABLE_FORMATS",
    "cosmology_from_json",
    "export_onnx",
    "export_torch",
    "load_model",
    "load_pretrained",
    "mass_table",
    "pretrained_info",
    "pretrained_path",
    "save_model",
    "table_format",
    "write_mass_table",
]

__getattr__, __dir__ = lazy_exports(__name__, {
    "PRETRAINED_MODELS": "._pretrained",
    "TABLE_FORMATS": "._table_formats",
    "cosmology_from_json": "._mass_tables",
    "export_onnx": "._export",
    "export_torch": "._export",
    "load_model": "._persistence",
    "load_pretrained": "._pretrained",
    "mass_table": "._mass_tables",
    "pretrained_info": "._pretrained",
    "pretrained_path": "._pretrained",
    "save_model": "._persistence",
    "table_format": "._table_formats",
    "write_mass_table": "._mass_tables",
})
del TYPE_CHECKING, lazy_exports
