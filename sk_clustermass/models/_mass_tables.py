"""Mass tables with units and provenance: what ``predict`` hands to an astronomer.

:func:`mass_table` turns predicted ``log10(M500c / Msun)`` means and widths into an
:class:`astropy.table.QTable` with units on every column and, in its ``meta``, where
the numbers come from (model file and its SHA-256, library version, cosmology,
training population). :func:`write_mass_table` writes it as ECSV or FITS, the format
chosen by the file's suffix or by ``format``; a suffix that disagrees with ``format``
is an error, never a silently different file.

Columns (``n`` rows, one per cluster, in input order):

=====================  ===========  ==================================================
``id``                 --           cluster identifier
``coord``              deg          sky position, a :class:`~astropy.coordinates.SkyCoord`
                                    (ICRS; only when positions are given); FITS files
                                    hold it as the columns ``RA`` and ``DEC`` (deg)
``redshift``           --           redshift used for the prediction
``log10_M500c``        dex(Msun)    predicted mean of log10(M500c / Msun)
``log10_M500c_std``    dex          predicted 1-sigma width
``M500c``              Msun         10 ** log10_M500c (the median mass)
``M500c_low``          Msun         10 ** (log10_M500c - log10_M500c_std)
``M500c_high``         Msun         10 ** (log10_M500c + log10_M500c_std)
``R500c``              kpc          R500c of the predicted mass (physical)
``theta500c``          arcmin       R500c on the sky
``log10_M500c_true``   dex(Msun)    the true mass (only when known: ``evaluate``)
=====================  ===========  ==================================================

``meta["cosmology"]`` is the :class:`astropy.cosmology.Cosmology` used for R500c and
theta500c; ECSV stores it in astropy's own form, so ``QTable.read`` rebuilds the same
object (every parameter: H0, Om0, Ode0, Ob0, Tcmb0, Neff, m_nu). A FITS header keeps its
class, name and parameters as JSON (card ``COSMO``), from which :func:`cosmology_from_json`
rebuilds it.
"""

from __future__ import annotations

import datetime as _datetime
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.cosmology import FLRW, Cosmology
from astropy.table import QTable

from .._utils import atomic_path, check_choice, check_vector, gzip_aware_target
from .._version import __version__
from ..estimator import PRIORS
from ..simulate import DEFAULT_COSMOLOGY, r500_kpc, theta500_arcmin
from ._table_formats import TABLE_FORMATS, table_format

__all__ = [
    "TABLE_FORMATS",
    "cosmology_from_json",
    "file_sha256",
    "mass_table",
    "table_format",
    "write_mass_table",
]


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file, hex (the model's fingerprint in a table's provenance)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _vector(values: Any, name: str, n: int | None = None) -> np.ndarray:
    array = check_vector(name, values)
    if n is not None and len(array) != n:
        message = f"{name} has {len(array)} values but mean has {n}; give one per cluster"
        raise ValueError(message)
    return array


def _ids(ids: Any, n: int) -> np.ndarray:
    """Identifiers as numbers or text (bytes from HDF5 are decoded), one per cluster."""
    values = np.asarray(ids)
    if values.shape != (n,):
        message = f"ids has shape {values.shape}; give one identifier per cluster ({n})"
        raise ValueError(message)
    if values.dtype.kind in "OS":
        values = np.array([v.decode() if isinstance(v, bytes) else str(v) for v in values])
    return values


def _cosmology_meta(cosmology: FLRW) -> Cosmology:
    """The cosmology with its parameters only: the free-form ``meta`` of astropy's
    realizations (Planck18's reionisation redshift in a unit named 'redshift', ...) would
    make readers warn."""
    mapping = cosmology.to_format("mapping")
    mapping["meta"] = {}
    return Cosmology.from_format(mapping, format="mapping")


def _cosmology_json(cosmology: Cosmology) -> str:
    """Class, name and parameters as JSON, quantities in km/s/Mpc, K and eV."""
    mapping = cosmology.to_format("mapping", cosmology_as_str=True)
    record: dict[str, Any] = {}
    for key, value in mapping.items():
        if key == "meta":
            continue
        if isinstance(value, u.Quantity):
            value = np.asarray(value.value).tolist()
        record[key] = value
    record["units"] = {"H0": "km / (Mpc s)", "Tcmb0": "K", "m_nu": "eV"}
    return json.dumps(record)


def cosmology_from_json(text: str) -> Cosmology:
    """The cosmology a FITS mass table's ``COSMO`` card describes.

    Parameters
    ----------
    text : str
        The card's JSON: ``cosmology`` (the astropy class name), ``name``, the
        parameters and their ``units``.

    Returns
    -------
    astropy.cosmology.Cosmology

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from astropy.cosmology import Planck18
    >>> from astropy.io import fits
    >>> from sk_clustermass.models import cosmology_from_json, mass_table, write_mass_table
    >>> table = mass_table([14.0], [0.1], [0.3], cosmology=Planck18)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "masses.fits"
    ...     _ = write_mass_table(table, path)
    ...     card = fits.getheader(path, 1)["COSMO"]
    >>> rebuilt = cosmology_from_json(card)
    >>> rebuilt.name, float(rebuilt.Ob0), float(rebuilt.Tcmb0.value), float(rebuilt.Neff)
    ('Planck18', 0.04897, 2.7255, 3.046)
    """
    record = json.loads(text)
    units = record.pop("units", {})
    for key, unit in units.items():
        if record.get(key) is not None:
            record[key] = record[key] * u.Unit(unit)
    return Cosmology.from_format(record, format="mapping")


def mass_table(
    mean: Any,
    std: Any,
    redshift: Any,
    *,
    ids: Any = None,
    y_true: Any = None,
    cosmology: FLRW | None = None,
    ra_deg: Any = None,
    dec_deg: Any = None,
    model_path: str | os.PathLike | None = None,
    training_population: Mapping[str, Any] | str | None = None,
    extra_meta: Mapping[str, Any] | None = None,
    prior: str | None = None,
) -> QTable:
    """Predicted masses as a table with units and provenance.

    Parameters
    ----------
    mean, std : array-like of shape (n_clusters,)
        Predicted ``log10(M500c / Msun)`` and its 1-sigma width (dex), e.g. from
        ``model.predict(X, return_std=True)``.
    redshift : array-like of shape (n_clusters,)
        Redshifts the predictions used.
    ids : array-like of shape (n_clusters,), optional
        Cluster identifiers; row numbers by default.
    y_true : array-like of shape (n_clusters,), optional
        True ``log10(M500c / Msun)``, added as ``log10_M500c_true``.
    cosmology : astropy.cosmology.FLRW, optional
        For R500c and theta500c; the simulator's default (flat LambdaCDM, H0 = 70,
        Omega_m = 0.3) if not given; stored in ``meta["cosmology"]``.
    ra_deg, dec_deg : array-like of shape (n_clusters,), optional
        Sky positions (ICRS, deg), as the column ``coord`` (a
        :class:`~astropy.coordinates.SkyCoord`). Give both or neither.
    model_path : str or os.PathLike, optional
        The model file: its name and SHA-256 go into ``meta``.
    training_population : mapping or str, optional
        What the model was trained on (survey preset, number, ranges), for ``meta``.
    extra_meta : mapping, optional
        More ``meta`` entries (e.g. the data file).
    prior : {'training', 'flat'}, optional
        The mass prior of the predictions (the model's ``prior_``), for ``meta``:
        'training' means posterior means under the training population, 'flat'
        estimates under a prior flat in log10 M (see docs/uncertainties.md).

    Returns
    -------
    astropy.table.QTable
        The columns of the module description; ``meta`` holds ``library_version``,
        ``cosmology``, ``model_file``, ``model_sha256``, ``training_population``,
        ``created`` (UTC, ISO 8601) and ``extra_meta``.

    Examples
    --------
    >>> from sk_clustermass.models import mass_table
    >>> table = mass_table([14.0], [0.1], [0.3], ids=["A"])
    >>> table["M500c"].unit, f"{table['M500c_high'][0].value:.3g}"
    (Unit("solMass"), '1.26e+14')
    >>> table["R500c"].unit, table["theta500c"].unit
    (Unit("kpc"), Unit("arcmin"))
    """
    mean = _vector(mean, "mean")
    n = len(mean)
    std = _vector(std, "std", n)
    redshift = _vector(redshift, "redshift", n)
    cosmology = DEFAULT_COSMOLOGY if cosmology is None else cosmology
    mass = 10.0**mean
    if (ra_deg is None) != (dec_deg is None):
        message = "give both ra_deg and dec_deg (the clusters' positions), or neither"
        raise ValueError(message)
    table = QTable(meta={"library_version": __version__,
                         "cosmology": _cosmology_meta(cosmology)})
    table["id"] = np.arange(n) if ids is None else _ids(ids, n)
    if ra_deg is not None:
        table["coord"] = SkyCoord(_vector(ra_deg, "ra_deg", n) * u.deg,
                                  _vector(dec_deg, "dec_deg", n) * u.deg, frame="icrs")
    table["redshift"] = redshift
    table["log10_M500c"] = mean * u.dex(u.Msun)
    table["log10_M500c_std"] = std * u.dex
    table["M500c"] = mass * u.Msun
    table["M500c_low"] = 10.0 ** (mean - std) * u.Msun
    table["M500c_high"] = 10.0 ** (mean + std) * u.Msun
    table["R500c"] = r500_kpc(mass, redshift, cosmology) * u.kpc
    table["theta500c"] = theta500_arcmin(mass, redshift, cosmology) * u.arcmin
    if y_true is not None:
        table["log10_M500c_true"] = _vector(y_true, "y_true", n) * u.dex(u.Msun)
    descriptions = {
        "log10_M500c": "predicted mean of log10(M500c / Msun)",
        "log10_M500c_std": "predicted 1-sigma width of log10(M500c / Msun)",
        "M500c": "10**log10_M500c", "M500c_low": "lower 1-sigma bound of M500c",
        "M500c_high": "upper 1-sigma bound of M500c",
        "R500c": "R500c of the predicted mass", "theta500c": "R500c on the sky",
    }
    for name, text in descriptions.items():
        table[name].info.description = text
    if model_path is not None:
        table.meta["model_file"] = Path(model_path).name
        table.meta["model_sha256"] = file_sha256(model_path)
    if training_population is not None:
        table.meta["training_population"] = training_population
    table.meta["created"] = _datetime.datetime.now(_datetime.UTC).isoformat(timespec="seconds")
    if prior is not None:
        check_choice("prior", prior, PRIORS)
        table.meta["prior"] = prior
    if extra_meta:
        table.meta.update(dict(extra_meta))
    return table


def write_mass_table(table: QTable, path: str | os.PathLike, format: str | None = None) -> str:
    """Write a mass table atomically as ECSV or FITS (see :func:`table_format`).

    Parameters
    ----------
    table : astropy.table.QTable
        From :func:`mass_table`.
    path : str or os.PathLike
        Output file; its directory must exist.
    format : {'ecsv', 'fits'}, optional
        Must agree with the suffix when both say something.

    Returns
    -------
    str
        The format written.
    """
    kind = table_format(path, format)
    writer = TABLE_FORMATS[kind][0]
    output = _fits_ready(table) if kind == "fits" else table
    with atomic_path(path) as temporary, gzip_aware_target(temporary, path) as target:
        output.write(target, format=writer, overwrite=True)
    return kind


#: ``meta`` entry -> FITS header keyword (values that are not scalars go in as JSON).
_FITS_KEYWORDS = {"library_version": "LIBVER", "model_file": "MODEL",
                  "model_sha256": "MODELSHA", "cosmology": "COSMO",
                  "training_population": "TRAINPOP", "created": "DATE"}


def _fits_ready(table: QTable) -> QTable:
    """A copy FITS can hold: log columns as plain numbers, ``meta`` as header cards.

    FITS units cannot express ``dex``; those columns lose the astropy unit, and the
    header card ``LOGUNITS`` names their units instead. A sky position becomes the
    columns ``RA`` and ``DEC`` (deg), as catalogue tools expect.
    """
    out = QTable(table, copy=True)
    for name in [n for n in out.colnames if isinstance(out[n], SkyCoord)]:
        index, icrs = out.colnames.index(name), out[name].icrs
        out.remove_column(name)
        out.add_columns([icrs.ra.to(u.deg), icrs.dec.to(u.deg)], indexes=[index, index],
                        names=["RA", "DEC"])
    logs = []
    for name in out.colnames:
        unit = getattr(out[name], "unit", None)
        if isinstance(unit, u.FunctionUnitBase) or unit == u.dex:
            out[name] = np.asarray(out[name].value)
            logs.append(f"{name}: {'dex' if unit == u.dex else 'log10(Msun)'}")
    meta = {"LOGUNITS": "; ".join(logs)} if logs else {}
    for key, value in table.meta.items():
        keyword = _FITS_KEYWORDS.get(key, key.upper()[:8])
        if isinstance(value, Cosmology):
            value = _cosmology_json(value)
        meta[keyword] = value if isinstance(value, str | int | float) else json.dumps(value)
    out.meta = meta
    return out
