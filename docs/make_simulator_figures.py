"""Write the simulator figures of docs/simulator.md into docs/_static/.

* ``simulated_clusters_grid.png``: one simulated eFEDS-depth cluster per mass (rows)
  and redshift (columns), counts summed over the 10 bands, log stretch.
* ``simulated_band_spectra.png``: counts per band for a hot and a cool cluster,
  observed (Poisson) against the model and the background.

Run from the repository root: ``python docs/make_simulator_figures.py``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sk_clustermass.datasets._make_clusters import make_clusters
from sk_clustermass.datasets.simulate import (
    DEFAULT_BAND_EDGES_KEV,
    AGNPopulation,
    background_counts_per_pixel,
    band_response,
    get_survey,
    powerlaw_count_rates,
)

LOG_MASSES = (13.5, 14.0, 14.5, 15.0)
REDSHIFTS = (0.05, 0.1, 0.3, 0.6, 1.0)


def one_cluster(log_mass: float, z: float, seed: int):
    """A single cluster at fixed mass and redshift (no detection cut)."""
    X, _, catalog = make_clusters(
        1, mass_range=(log_mass, log_mass), redshift_range=(z, z), random_state=seed,
        detected_only=False, return_catalog=True,
    )
    return X["images"][0], catalog.iloc[0]


def grid_figure(path: Path, seed: int) -> None:
    fig, axes = plt.subplots(
        len(LOG_MASSES), len(REDSHIFTS), figsize=(2.0 * len(REDSHIFTS), 2.05 * len(LOG_MASSES)),
        constrained_layout=True,
    )
    vmax = np.log10(1 + 400.0)
    for i, log_mass in enumerate(LOG_MASSES[::-1]):
        for j, z in enumerate(REDSHIFTS):
            image, row = one_cluster(log_mass, z, seed + 7 * i + j)
            ax = axes[i, j]
            ax.imshow(np.log10(1 + image.sum(axis=0)), origin="lower", cmap="magma", vmin=0,
                      vmax=vmax, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.text(2, 46, f"{row['mu_cluster_image']:.0f} cts", color="w", fontsize=7,
                    va="top")
            if i == len(LOG_MASSES) - 1:
                ax.set_xlabel(f"z = {z}")
            if j == 0:
                ax.set_ylabel(f"log M500c = {log_mass}")
    fig.suptitle(
        "Simulated eFEDS-depth clusters, 0.25–2.3 keV counts (log), 20' x 20', "
        "24\" pixels\nlabel: expected cluster counts in the image", fontsize=9,
    )
    fig.savefig(path, dpi=80)
    plt.close(fig)


def spectra_figure(path: Path, seed: int) -> None:
    edges = np.asarray(DEFAULT_BAND_EDGES_KEV)
    centres = 0.5 * (edges[1:] + edges[:-1])
    survey = get_survey("efeds")
    agn_shape = powerlaw_count_rates(1.9, band_response(edges, survey.nh_cm2))
    agn_shape = agn_shape / agn_shape.sum()
    cases = (("hot: M500c = 1e15 Msun, z = 0.3", 15.0, 0.3),
             ("cool: M500c = 2e13 Msun, z = 0.05", 13.3, 0.05))
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), constrained_layout=True)
    for ax, (title, log_mass, z) in zip(axes, cases):
        image, row = one_cluster(log_mass, z, seed)
        n_pixels = image.shape[1] * image.shape[2]
        background = background_counts_per_pixel(
            edges, survey, [row["exposure_vignetted_s"]], [row["exposure_s"]], AGNPopulation()
        )[0] * n_pixels
        in_image = row["mu_cluster_image"] / row["mu_cluster_r500"]
        cluster = np.array([row[f"mu_cluster_band_{i}"] for i in range(len(centres))]) * in_image
        agn = (row["mu_agn_image"] + row["mu_central_agn"]) * agn_shape
        observed = image.sum(axis=(1, 2))
        ax.errorbar(centres, observed, yerr=np.sqrt(observed), fmt="o", ms=3, color="k",
                    label="observed counts, whole image")
        for values, label, style in (
            (cluster + background + agn, "model: total", "-"),
            (cluster, "cluster (bremsstrahlung x area)", "-"),
            (background, "sky + particle background", "--"),
            (agn, "AGN", ":"),
        ):
            ax.step(edges, np.r_[values, values[-1]], where="post", ls=style, label=label)
        ax.set_yscale("log")
        ax.set_xlabel("observed energy (keV)")
        ax.set_ylabel("counts per band")
        ax.set_title(f"{title}, kT = {row['kT']:.1f} keV", fontsize=9)
        ax.legend(fontsize=7)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "_static")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    grid_figure(args.out / "simulated_clusters_grid.png", args.seed)
    spectra_figure(args.out / "simulated_band_spectra.png", args.seed)
    for name in ("simulated_clusters_grid.png", "simulated_band_spectra.png"):
        size = (args.out / name).stat().st_size
        print(f"wrote {args.out / name} ({size / 1024:.0f} kB)")


if __name__ == "__main__":
    main()
