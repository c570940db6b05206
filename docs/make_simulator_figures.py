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

from sk_clustermass.datasets import make_catalog, make_clusters
from sk_clustermass.simulate import (
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


def survey_figure(path: Path, seed: int) -> None:
    """The eFEDS-like preset: one detection per class, and the detected sample."""
    X, _, catalog = make_clusters(60, survey="efeds_survey", contaminants=True,
                                  random_state=seed, return_catalog=True)
    parents = make_catalog(65536, survey="efeds_survey", contaminants=True,
                           random_state=2022)
    detected = parents[parents["detected"] & ~parents["is_contaminant"]]
    fig, axes = plt.subplot_mosaic([["0", "1", "2", "-1"], ["z", "z", "m", "m"]],
                                   figsize=(9, 5.2), constrained_layout=True)
    names = {0: "cool core", 1: "relaxed, no cool core", 2: "disturbed", -1: "contaminant"}
    for klass, name in names.items():
        row = int(np.flatnonzero(catalog["morphology_class"].to_numpy() == klass)[0])
        ax = axes[str(klass)]
        ax.imshow(np.log10(1 + X["images"][row].sum(axis=0)), origin="lower", cmap="magma",
                  vmin=0, vmax=2.5, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        mass = catalog["log10_M500c"].iloc[row]
        label = "no cluster" if np.isnan(mass) else f"log M = {mass:.2f}"
        ax.set_title(f"{name}\n{label}, z = {catalog['z'].iloc[row]:.2f}", fontsize=8)
    axes["z"].hist(detected["z"], bins=np.linspace(0, 1.3, 27), color="0.5")
    candidates = parents[parents["detected"]]
    axes["z"].axvline(0.35, color="C3", label="eFEDS median, all candidates 0.35 (Liu+22)")
    axes["z"].axvline(candidates["z"].median(), color="C0", ls=":",
                      label=f"simulated, all candidates {candidates['z'].median():.2f}")
    axes["z"].axvline(detected["z"].median(), color="k", ls="--",
                      label=f"simulated, clusters {detected['z'].median():.2f}")
    axes["z"].set_xlabel("redshift of detected clusters")
    axes["m"].hist(detected["log10_M500c"], bins=np.linspace(13, 15.5, 26), color="0.5")
    axes["m"].axvline(np.log10(1.4e14), color="C3", label="eFEDS median (Chiu+22)")
    axes["m"].axvline(detected["log10_M500c"].median(), color="k", ls="--",
                      label="simulated median")
    axes["m"].set_xlabel("log10 M500c of detected clusters")
    for key in ("z", "m"):
        axes[key].legend(fontsize=7)
    fig.suptitle("survey='efeds_survey': detections (counts, log) and the detected "
                 "sample of 65,536 parents", fontsize=9)
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
    survey_figure(args.out / "simulated_efeds_survey.png", args.seed)
    names = ("simulated_clusters_grid.png", "simulated_band_spectra.png",
             "simulated_efeds_survey.png")
    for name in names:
        size = (args.out / name).stat().st_size
        print(f"wrote {args.out / name} ({size / 1024:.0f} kB)")


if __name__ == "__main__":
    main()
