"""File formats and real-data products: what reads and writes cluster data on disk.

- Our HDF5 format: :func:`write_hdf5`, :func:`read_hdf5`, :class:`HDF5ClusterWriter`
  and the lazy, out-of-core :class:`HDF5ClusterDataset` (compressed with
  :data:`DEFAULT_COMPRESSION` unless told otherwise).
- The original lab's files (pickle of images + Feather catalogue):
  :func:`read_lab_dataset`, :func:`write_lab_dataset`.
- FITS cubes: :func:`read_fits_cubes`, :func:`write_fits_cube` (units, WCS, bands,
  exposure and pixel scale in the header: :func:`read_cube_header`).
- Real survey data: :func:`make_cutouts` cuts training-format cubes out of eSASS event
  lists and exposure maps (:func:`read_events`, :func:`read_exposure_map`,
  :func:`cutout_wcs`); :func:`write_mock_event_files` writes such files from simulated
  cubes; :func:`read_cluster_catalog` reads the eFEDS and eRASS1 cluster catalogues.

Most users import these names from :mod:`sk_clustermass.datasets`, which re-exports
them next to the simulator.
"""

from ._catalogs import CATALOG_LAYOUTS, read_cluster_catalog
from ._event_cutouts import cutout_wcs, make_cutouts
from ._event_lists import DEFAULT_FLAG_MASK, ExposureMap, read_events, read_exposure_map
from ._fits import read_fits_cubes, write_fits_cube
from ._fits_header import read_cube_header
from ._hdf5 import HDF5ClusterDataset, HDF5ClusterWriter, read_hdf5, write_hdf5
from ._hdf5_format import DEFAULT_COMPRESSION
from ._lab_files import read_lab_dataset, write_lab_dataset
from ._mock_events import write_mock_event_files

__all__ = [
    "CATALOG_LAYOUTS",
    "DEFAULT_COMPRESSION",
    "DEFAULT_FLAG_MASK",
    "ExposureMap",
    "HDF5ClusterDataset",
    "HDF5ClusterWriter",
    "cutout_wcs",
    "make_cutouts",
    "read_cluster_catalog",
    "read_cube_header",
    "read_events",
    "read_exposure_map",
    "read_fits_cubes",
    "read_hdf5",
    "read_lab_dataset",
    "write_fits_cube",
    "write_hdf5",
    "write_lab_dataset",
    "write_mock_event_files",
]
