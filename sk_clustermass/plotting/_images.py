"""Figures of the images: a gallery of clusters and counts per band.

Part of :mod:`sk_clustermass.plotting`, which re-exports the public functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle
from numpy.typing import ArrayLike

from .._inputs import IMAGES_KEY
from ._common import _STRETCHES, _axes


# ---------------------------------------------------------------------- images
def _image_cube(images: Any) -> np.ndarray:
    """(n, n_bands, h, w) float array from X, a 4-D, a 3-D (one cluster) or 2-D array."""
    if isinstance(images, Mapping) or hasattr(images, "keys"):
        try:
            images = images[IMAGES_KEY]
        except KeyError as exc:
            message = f"X has no {IMAGES_KEY!r} key; pass X or X['images']"
            raise KeyError(message) from exc
    cube = np.asarray(images, dtype=np.float64)
    if cube.ndim == 2:
        cube = cube[np.newaxis, np.newaxis]
    elif cube.ndim == 3:
        cube = cube[np.newaxis]
    if cube.ndim != 4 or 0 in cube.shape:
        message = (
            "images must have shape (n_samples, n_bands, height, width) (or one "
            f"cluster's (n_bands, height, width)); got {np.shape(images)}"
        )
        raise ValueError(message)
    return cube


def _stretched(image: np.ndarray, stretch: str) -> np.ndarray:
    if stretch == "log":
        return np.log10(1.0 + np.clip(image, 0.0, None))
    if stretch == "asinh":
        return np.arcsinh(image)
    return image


def plot_cluster_gallery(
    images: Any,
    titles: Sequence[str] | None = None,
    ncols: int = 4,
    stretch: str = "log",
    *,
    colorbar: bool = True,
    cmap: str = "magma",
    shared_scale: bool = True,
    panel_size: float = 2.2,
    redshift: ArrayLike | None = None,
    r500_pixels: ArrayLike | None = None,
    pixel_arcsec: float | None = None,
    scale_bar_arcmin: float = 5.0,
) -> Figure:
    """A grid of cluster images, counts summed over the energy bands.

    Parameters
    ----------
    images : X, or array-like of shape (n_samples, n_bands, height, width)
        Photon counts per pixel (``X["images"]`` before preprocessing); ``X`` itself
        is accepted, and one cluster's ``(n_bands, height, width)`` cube too. Show a
        handful: slice ``X[:8]`` first.
    titles : sequence of str, optional
        One title per image (e.g. true and predicted masses).
    ncols : int, default=4
        Panels per row.
    stretch : {'log', 'asinh', 'linear'}, default='log'
        Display stretch of the summed counts: ``log10(1 + counts)``,
        ``asinh(counts)`` (for background-subtracted images, which can be
        negative) or the counts themselves.
    colorbar : bool, default=True
        Add one colorbar (shared scale) or one per panel.
    cmap : str, default='magma'
        Matplotlib colormap.
    shared_scale : bool, default=True
        One colour scale for all panels, so brightness compares between clusters;
        False scales each panel to its own range.
    panel_size : float, default=2.2
        Side of one panel in inches.
    redshift : array-like of shape (n_samples,), optional
        Written in the lower-left corner of each panel.
    r500_pixels : array-like of shape (n_samples,), optional
        Radius R500c of each cluster in pixels, drawn as a dashed circle around the
        image centre (where the clusters are centred).
    pixel_arcsec : float, optional
        Pixel size in arcsec (24 for eROSITA survey images); draws a scale bar of
        ``scale_bar_arcmin`` in the lower-right corner of each panel.
    scale_bar_arcmin : float, default=5.0
        Length of the scale bar in arcmin.

    Returns
    -------
    fig : matplotlib.figure.Figure
        With one image axes per cluster (unused grid cells hidden).

    Raises
    ------
    ValueError
        On a wrong shape, a wrong number of titles, ``ncols < 1`` or an unknown
        ``stretch``.

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib.pyplot as plt
    >>> from sk_clustermass.plotting import plot_cluster_gallery
    >>> cubes = np.random.default_rng(0).poisson(1.0, (5, 10, 50, 50))
    >>> fig = plot_cluster_gallery(cubes, titles=[f"cluster {i}" for i in range(5)], ncols=3)
    >>> sum(len(ax.images) for ax in fig.axes)
    5
    >>> plt.close(fig)
    """
    cube = _image_cube(images)
    if stretch not in _STRETCHES:
        message = f"stretch={stretch!r} is not supported; choose one of {list(_STRETCHES)}"
        raise ValueError(message)
    if isinstance(ncols, bool) or not isinstance(ncols, int | np.integer) or ncols < 1:
        message = f"ncols must be an integer >= 1; got {ncols!r}"
        raise ValueError(message)
    n = cube.shape[0]
    if titles is not None and len(titles) != n:
        message = f"got {len(titles)} titles for {n} images; pass one title per image"
        raise ValueError(message)
    maps = _stretched(cube.sum(axis=1), stretch)
    ncols = int(min(ncols, n))
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(panel_size * ncols + (0.6 if colorbar else 0.0),
                               panel_size * nrows + (0.3 if titles is not None else 0.0)),
        squeeze=False, layout="constrained",
    )
    vmin, vmax = (float(maps.min()), float(maps.max())) if shared_scale else (None, None)
    shown = []
    for index, ax in enumerate(axes.ravel()):
        if index >= n:
            ax.set_axis_off()
            continue
        shown.append(ax.imshow(maps[index], origin="lower", cmap=cmap, vmin=vmin, vmax=vmax,
                               interpolation="nearest"))
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(str(titles[index]), fontsize="small")
        _annotate_panel(ax, maps.shape[1:], index, redshift, r500_pixels, pixel_arcsec,
                        scale_bar_arcmin)
        if colorbar and not shared_scale:
            fig.colorbar(shown[-1], ax=ax, shrink=0.8)
    if colorbar and shared_scale:
        unit = {"log": "log10(1 + counts)", "asinh": "asinh(counts)", "linear": "counts"}
        fig.colorbar(shown[0], ax=axes, shrink=0.8, label=f"{unit[stretch]} per pixel")
    return fig


def _annotate_panel(ax: Axes, shape: tuple[int, int], index: int, redshift: Any,
                    r500_pixels: Any, pixel_arcsec: float | None, bar_arcmin: float) -> None:
    """Redshift label, R500 circle and scale bar of one gallery panel."""
    height, width = shape
    style = {"color": "white", "fontsize": "x-small", "transform": ax.transAxes}
    if redshift is not None:
        ax.text(0.04, 0.04, f"z = {float(np.ravel(redshift)[index]):.2f}", **style)
    if r500_pixels is not None:
        centre = ((width - 1) / 2, (height - 1) / 2)
        ax.add_patch(Circle(centre, float(np.ravel(r500_pixels)[index]), fill=False,
                            color="cyan", linestyle="--", linewidth=0.9, label="R500"))
    if pixel_arcsec is not None:
        length = bar_arcmin * 60.0 / float(pixel_arcsec)
        right, y = width - 2.0, 2.5
        ax.plot([right - length, right], [y, y], color="white", linewidth=2)
        ax.text(right - length / 2, y + 1.0, f"{bar_arcmin:g}'", color="white",
                fontsize="x-small", ha="center", va="bottom")


def plot_band_spectrum(
    images: Any,
    band_edges_kev: ArrayLike | None = None,
    ax: Axes | None = None,
    *,
    labels: Sequence[str] | None = None,
    per_kev: bool = True,
    log_scale: bool = True,
) -> Axes:
    """Counts per energy band, summed over the pixels, as a step spectrum per cluster.

    Parameters
    ----------
    images : X, or array-like of shape (n_samples, n_bands, height, width)
        Photon counts per pixel; one cluster's ``(n_bands, height, width)`` cube is
        accepted too. Every cluster is one line: pass a few.
    band_edges_kev : array-like of shape (n_bands + 1,), optional
        Increasing band edges in keV; the library's 10 bands over 0.25-2.3 keV
        (:data:`sk_clustermass.preprocessing.BAND_EDGES_KEV`) if None.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if None.
    labels : sequence of str, optional
        Legend label of each cluster.
    per_kev : bool, default=True
        Divide by the band width: counts per keV, comparable between bands of
        different widths. False plots counts per band.
    log_scale : bool, default=True
        Logarithmic counts axis (zero-count bands are then not drawn).

    Returns
    -------
    ax : matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If the edges are not increasing or their number is not ``n_bands + 1``,
        or the number of labels differs from the number of clusters.

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib.pyplot as plt
    >>> from sk_clustermass.plotting import plot_band_spectrum
    >>> cubes = np.random.default_rng(0).poisson(2.0, (2, 10, 50, 50))
    >>> ax = plot_band_spectrum(cubes, labels=["hot", "cool"])
    >>> len(ax.get_lines()), ax.get_xlabel()
    (2, 'energy (keV)')
    >>> plt.close(ax.figure)
    """
    cube = _image_cube(images)
    n, n_bands = cube.shape[:2]
    if band_edges_kev is None:
        from ..preprocessing import BAND_EDGES_KEV

        band_edges_kev = BAND_EDGES_KEV
    edges = np.asarray(band_edges_kev, dtype=np.float64).ravel()
    if edges.size != n_bands + 1 or not np.all(np.diff(edges) > 0):
        message = (
            f"band_edges_kev must hold n_bands + 1 = {n_bands + 1} increasing energies in "
            f"keV for images with {n_bands} bands; got {edges.size} values. Pass the edges "
            "of your bands (after a BandMerge, e.g. [0.25, 0.865, 1.48, 2.3])."
        )
        raise ValueError(message)
    if labels is not None and len(labels) != n:
        message = f"got {len(labels)} labels for {n} clusters; pass one label per cluster"
        raise ValueError(message)
    counts = cube.sum(axis=(2, 3))
    if per_kev:
        counts = counts / np.diff(edges)
    ax = _axes(ax)
    centres = 0.5 * (edges[1:] + edges[:-1])
    for index in range(n):
        color = f"C{index % 10}"
        label = None if labels is None else str(labels[index])
        ax.stairs(counts[index], edges, baseline=None, color=color, linewidth=1.5)
        ax.plot(centres, counts[index], linestyle="none", marker="o", markersize=3,
                color=color, label=label)
    if log_scale and np.any(counts > 0):
        ax.set_yscale("log")
    ax.set_xlabel("energy (keV)")
    ax.set_ylabel("counts per keV" if per_kev else "counts per band")
    if labels is not None:
        ax.legend(fontsize="small")
    return ax
