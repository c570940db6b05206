"""Data: the embedded simulator of eROSITA-like cluster observations, and file formats.

- :func:`make_clusters` renders mock observations (the library's default data);
  :func:`make_catalog` draws only the catalogue; :func:`simulate_to_hdf5` streams any
  number of clusters to an HDF5 file; :func:`parent_density_deg2` turns detected
  fractions of the survey presets into surface densities.
- Our HDF5 format: :func:`write_hdf5`, :func:`read_hdf5`, :class:`HDF5ClusterWriter`
  and the lazy, out-of-core :class:`HDF5ClusterDataset`.
- The original lab's files (pickle of images + Feather catalogue):
  :func:`read_lab_dataset`, :func:`write_lab_dataset`.
- FITS cubes: :func:`read_fits_cubes`, :func:`write_fits_cube`.
- Populations: :func:`population_weights` reweights a training set from one
  population of masses and redshifts to another (e.g. log-uniform to the mass
  function), :func:`population_density` gives their densities.
- The lab's float image format for simulated counts: :func:`to_lab_style`
  (``make_clusters(..., image_format="lab")``).
"""

from ._fits import read_fits_cubes, write_fits_cube
from ._hdf5 import HDF5ClusterDataset, HDF5ClusterWriter, read_hdf5, write_hdf5
from ._lab_format import read_lab_dataset, write_lab_dataset
from ._lab_style import to_lab_style
from ._make_clusters import make_catalog, make_clusters, parent_density_deg2, simulate_to_hdf5
from ._weights import population_density, population_weights

__all__ = [
    "HDF5ClusterDataset",
    "HDF5ClusterWriter",
    "make_catalog",
    "make_clusters",
    "parent_density_deg2",
    "population_density",
    "population_weights",
    "read_fits_cubes",
    "read_hdf5",
    "read_lab_dataset",
    "simulate_to_hdf5",
    "to_lab_style",
    "write_fits_cube",
    "write_hdf5",
    "write_lab_dataset",
]
