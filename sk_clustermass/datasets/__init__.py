"""Data: the embedded simulator of eROSITA-like cluster observations, and file formats.

The one import for data. The names live in :mod:`sk_clustermass.simulate` (the
simulator), :mod:`sk_clustermass.io` (file formats, real survey data) and here
(:func:`simulate_to_hdf5`, which needs both).

- :func:`make_clusters` renders mock observations (the library's default data);
  :func:`make_catalog` draws only the catalogue; :func:`simulate_to_hdf5` streams any
  number of clusters to an HDF5 file; :func:`parent_density_deg2` turns detected
  fractions of the survey presets into surface densities.
- Our HDF5 format: :func:`write_hdf5`, :func:`read_hdf5`, :class:`HDF5ClusterWriter`
  and the lazy, out-of-core :class:`HDF5ClusterDataset`.
- The original lab's files (pickle of images + Feather catalogue):
  :func:`read_lab_dataset`, :func:`write_lab_dataset`.
- The lab's float image format for simulated counts: :func:`to_lab_style`
  (``make_clusters(..., image_format="lab")``).
- FITS cubes: :func:`read_fits_cubes`, :func:`write_fits_cube` (units, WCS, bands,
  exposure and pixel scale in the header: :func:`read_cube_header`).
- Real survey data: :func:`make_cutouts` cuts training-format cubes out of eSASS event
  lists and exposure maps (:func:`read_events`, :func:`read_exposure_map`,
  :func:`cutout_wcs`); :func:`write_mock_event_files` writes such files from simulated
  cubes; :func:`read_cluster_catalog` reads the eFEDS and eRASS1 cluster catalogues.

The population weights (:func:`population_weights`, :func:`population_density`) moved
to :mod:`sk_clustermass.uncertainty`; their old names here work until sk_clustermass
0.3, with a ``FutureWarning``.
"""

from .._utils import moved_names
from ..io import (
    CATALOG_LAYOUTS,
    DEFAULT_FLAG_MASK,
    ExposureMap,
    HDF5ClusterDataset,
    HDF5ClusterWriter,
    cutout_wcs,
    make_cutouts,
    read_cluster_catalog,
    read_cube_header,
    read_events,
    read_exposure_map,
    read_fits_cubes,
    read_hdf5,
    read_lab_dataset,
    write_fits_cube,
    write_hdf5,
    write_lab_dataset,
    write_mock_event_files,
)
from ..simulate import make_catalog, make_clusters, parent_density_deg2, to_lab_style
from ._simulate_to_hdf5 import simulate_to_hdf5

__all__ = [
    "CATALOG_LAYOUTS",
    "DEFAULT_FLAG_MASK",
    "ExposureMap",
    "HDF5ClusterDataset",
    "HDF5ClusterWriter",
    "cutout_wcs",
    "make_catalog",
    "make_clusters",
    "make_cutouts",
    "parent_density_deg2",
    "read_cluster_catalog",
    "read_cube_header",
    "read_events",
    "read_exposure_map",
    "read_fits_cubes",
    "read_hdf5",
    "read_lab_dataset",
    "simulate_to_hdf5",
    "to_lab_style",
    "write_fits_cube",
    "write_hdf5",
    "write_lab_dataset",
    "write_mock_event_files",
]

__getattr__ = moved_names(__name__, {
    "population_density": "sk_clustermass.uncertainty",
    "population_weights": "sk_clustermass.uncertainty",
})
