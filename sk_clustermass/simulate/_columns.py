"""The simulator's catalogue: every column, its unit and meaning, documented once.

One row per cluster, in the order of ``X``. ``{i}`` stands for the band index
0 .. n_bands - 1 (bands in increasing energy, edges in the ``band_edges_kev`` of the
simulation). Columns marked *image* exist only when images are rendered
(:func:`~sk_clustermass.simulate.make_clusters`); the others also come
from the catalogue-only :func:`~sk_clustermass.simulate.make_catalog`.
Names shared with the lab's eFEDS mock catalogue (``z``, ``M500c``, ``R500c_kpc``,
``R500c_arcmin``, ``kT``, ``Lx_soft``, ``Fx_soft``, ``DET_LIKE``, ``EXT_LIKE``) have the
same meaning there. Columns of kind *morphology* exist when the simulation draws cool
cores and disturbed clusters (:class:`~sk_clustermass.simulate.Morphology`),
columns of kind *selection* with the eSASS-like selection
(:class:`~sk_clustermass.simulate.ESASSSelection`), which also puts
``detected`` in catalogue-only output. For contaminants (``is_contaminant``) the
cluster-truth columns (mass, radius, temperature, luminosity, profile) are NaN.
Columns of kind *cutout* exist when cut-outs are centred on the detected position or
carry an exposure gradient (:mod:`._cutout`); ``x_pix`` and ``y_pix`` are then the gas
centre in the cut-out's own pixels.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["CATALOG_COLUMNS", "catalog_column_names", "describe_catalog_columns"]

#: name -> (unit, description, kind): kind False for every simulation, True for the
#: image-only columns, "morphology" or "selection" for the columns of those models,
#: "cutout" when cut-outs are centred on the detection or tilted by the exposure.
CATALOG_COLUMNS: dict[str, tuple[str, str, bool | str]] = {
    "sim_id": ("", "index of the cluster in the simulated parent sample (before the "
               "detection cut); fixes its random numbers", False),
    "z": ("", "redshift", False),
    "M500c": ("Msun", "mass inside R500c (500 times the critical density)", False),
    "log10_M500c": ("dex", "log10(M500c / Msun): the target y", False),
    "R500c_kpc": ("kpc", "R500c, physical", False),
    "R500c_arcmin": ("arcmin", "theta500 = R500c / D_A", False),
    "E_z": ("", "E(z) = H(z) / H0", False),
    "dL_Mpc": ("Mpc", "luminosity distance", False),
    "kT": ("keV", "gas temperature (M–T relation with scatter)", False),
    "Lx_0p1_2p4": ("erg/s", "rest-frame 0.1–2.4 keV luminosity inside R500 (L–M "
                   "relation with scatter)", False),
    "Lx_soft": ("erg/s", "rest-frame 0.5–2 keV luminosity inside R500", False),
    "Fx_soft": ("erg/s/cm^2", "observed-frame 0.5–2 keV flux inside R500, unabsorbed", False),
    "k_correction_soft": ("", "K-correction of the 0.5–2 keV band: Lx_soft = "
                          "4 pi dL^2 Fx_soft k_correction_soft", False),
    "beta": ("", "beta of the gas density profile", False),
    "rc_over_r500": ("", "core radius / R500", False),
    "rc_arcmin": ("arcmin", "core radius (geometric mean of the ellipse axes)", False),
    "b_to_a": ("", "minor-to-major axis ratio of the surface brightness", False),
    "position_angle_deg": ("deg", "major axis angle from the image x axis (axis -1) "
                           "towards y (axis -2)", False),
    "Xoff_kpc": ("kpc", "offset of the gas centre from the halo centre (image centre)",
                 False),
    "Xoff_arcmin": ("arcmin", "the same offset on the sky", False),
    "x_pix": ("pixel", "gas centre, column coordinate (pixel centres at integers)", False),
    "y_pix": ("pixel", "gas centre, row coordinate", False),
    "exposure_s": ("s", "unvignetted exposure (particle background)", False),
    "exposure_vignetted_s": ("s", "vignetted exposure (cluster, AGN and sky photons)", False),
    "central_agn": ("", "True if the cluster hosts a central AGN", False),
    "Lx_central_agn": ("erg/s", "rest-frame 0.5–2 keV luminosity of the central AGN "
                       "(0 without one)", False),
    "mu_soft_r500": ("counts", "expected cluster counts in 0.5–2 keV inside R500 "
                     "(vignetted exposure, absorbed), before the PSF", False),
    "mu_cluster_r500": ("counts", "expected cluster counts in all bands inside R500", False),
    "mu_cluster_band_{i}": ("counts", "expected cluster counts in band i inside R500", False),
    "mu_central_agn": ("counts", "expected counts of the central AGN, all bands", False),
    "mu_background_pixel": ("counts", "expected sky + particle counts per pixel, all "
                            "bands", False),
    "n_agn": ("", "number of field AGN in the image", True),
    "mu_cluster_image": ("counts", "expected cluster counts in the image, all bands, "
                         "after the PSF", True),
    "mu_agn_image": ("counts", "expected field-AGN counts in the image, all bands", True),
    "counts_band_{i}": ("counts", "observed counts in band i, whole image", True),
    "counts_total": ("counts", "observed counts, whole image, all bands", True),
    "aperture_arcmin": ("arcmin", "radius of the detection aperture, centred on the "
                        "image", True),
    "counts_aperture": ("counts", "observed counts in the aperture, all bands", True),
    "background_aperture": ("counts", "expected sky + particle + field-AGN counts in "
                            "the aperture", True),
    "net_counts": ("counts", "counts_aperture - background_aperture", True),
    "detected": ("", "net_counts >= min_net_counts, or with the eSASS-like selection "
                 "DET_LIKE >= det_like_min and EXT_LIKE >= ext_like_min (and F_CONT < max_f_cont "
                 "for an optically confirmed catalogue)", True),
    "morphology_class": ("", "0 cool core, 1 relaxed without cool core, 2 disturbed "
                         "(-1 for contaminants)", "morphology"),
    "second_ratio": ("", "flux of the cusp (class 0) or substructure clump (class 2) over "
                     "the ambient gas component", "morphology"),
    "Lx_soft_ce": ("erg/s", "core-excised (0.15-1 R500) rest-frame 0.5-2 keV luminosity",
                   "morphology"),
    "is_contaminant": ("", "True for a point source (AGN) that entered the sample, not a "
                       "cluster: its y is NaN", "selection"),
    "flux_contaminant": ("erg/s/cm^2", "0.5-2 keV flux of the contaminating point source "
                         "(0 for clusters)", "selection"),
    "F_CONT": ("", "contamination probability of the optical follow-up: share of random "
               "lines of sight holding a system at least as massive at that redshift "
               "(MCMF-like, Klein et al. 2022); for a contaminant, that of its chance "
               "counterpart", "selection"),
    "mu_detection_source": ("counts", "expected source counts in the detection aperture "
                            "after the PSF, all bands", "selection"),
    "mu_detection_background": ("counts", "expected background (sky, particles, mean "
                                "unresolved AGN) in the detection aperture", "selection"),
    "counts_detection": ("counts", "Poisson draw of the aperture counts used by the "
                         "selection", "selection"),
    "DET_LIKE": ("", "detection likelihood (Poisson likelihood ratio against the "
                 "background)", "selection"),
    "EXT_LIKE_expected": ("", "expected extent likelihood", "selection"),
    "EXT_LIKE": ("", "extent likelihood, with its noise", "selection"),
    "position_error_arcsec": ("arcsec", "statistical error per axis of the detected "
                              "position (centroid of the detected emission)", "cutout"),
    "centre_offset_arcsec": ("arcsec", "distance of the image centre from the halo "
                             "centre: 0 for cut-outs centred on the truth, the detected "
                             "position's offset for cut-outs centred on the detection, "
                             "plus the optical offset for cut-outs centred on the "
                             "optical centre", "cutout"),
    "optical_offset_kpc": ("kpc", "projected distance of the optical centre from the "
                           "detected X-ray position for cut-outs centred on the optical "
                           "centre (centre_on='optical'); 0 otherwise", "cutout"),
    "exposure_gradient_per_deg": ("1/deg", "gradient of ln(exposure) across the "
                                  "cut-out (0 without the exposure gradient)", "cutout"),
}


def catalog_column_names(
    n_bands: int, images: bool = True, morphology: bool = False, selection: bool = False,
    cutout: bool = False,
) -> list[str]:
    """Column names of a simulated catalogue, in order.

    Parameters
    ----------
    n_bands : int
        Number of energy bands (expands the ``{i}`` columns).
    images : bool, default=True
        Include the image-only columns.
    morphology, selection : bool, default=False
        Include the columns of the morphology model and of the eSASS-like selection
        (which brings ``detected`` without images).
    cutout : bool, default=False
        Include the columns of cut-outs centred on the detection or with an exposure
        gradient.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from sk_clustermass.simulate import catalog_column_names
    >>> names = catalog_column_names(10)
    >>> names[:3], "counts_band_9" in names, "detected" in catalog_column_names(10, False)
    (['sim_id', 'z', 'M500c'], True, False)
    """
    names: list[str] = []
    wanted = {False: True, True: images, "morphology": morphology, "selection": selection,
              "cutout": cutout}
    for pattern, (_unit, _text, kind) in CATALOG_COLUMNS.items():
        if not wanted[kind] and not (pattern == "detected" and selection):
            continue
        if "{i}" in pattern:
            names.extend(pattern.format(i=i) for i in range(n_bands))
        else:
            names.append(pattern)
    return names


def describe_catalog_columns() -> pd.DataFrame:
    """The column table (name, unit, description, image_only) as a DataFrame.

    Examples
    --------
    >>> from sk_clustermass.simulate import describe_catalog_columns
    >>> table = describe_catalog_columns()
    >>> table.loc[table["name"] == "kT", "unit"].item()
    'keV'
    """
    rows = [
        {"name": name, "unit": unit, "description": text, "image_only": kind is True,
         "model": kind if isinstance(kind, str) else ""}
        for name, (unit, text, kind) in CATALOG_COLUMNS.items()
    ]
    return pd.DataFrame(rows)
