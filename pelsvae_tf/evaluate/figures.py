"""The report's figures (loss curves, reconstructions, latents, feature histograms, confusion
matrices), composed from the one-idea drawings of :mod:`pelsvae_tf.evaluate.plots`."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import spearmanr

from pelsvae_tf.classes import PHYSICS_PARAMS
from pelsvae_tf.evaluate.config import LOSS_TERMS
from pelsvae_tf.evaluate.distribution import COMPARED_FEATURES
from pelsvae_tf.evaluate.plots import (
    class_colour,
    plot_confusion_matrix,
    plot_feature_hist,
    plot_latent_pair,
    plot_latent_vs_param,
    plot_loss_term,
    plot_reconstruction,
    save_figure,
)
from pelsvae_tf.evaluate.runview import _RunView


def _fig_loss(history, out: Path) -> list[str]:

    terms = [t for t in LOSS_TERMS if t in history.columns or f"val_{t}" in history.columns]
    if not terms:
        raise ValueError(f"history.csv has none of the loss terms {LOSS_TERMS}; columns: {list(history.columns)}")
    fig, axes = plt.subplots(1, len(terms), figsize=(3.6 * len(terms), 3.2), squeeze=False)
    for ax, term in zip(axes[0], terms):
        plot_loss_term(history, term, ax=ax)
    fig.suptitle("Training and validation loss per term (paper Fig. 4 analogue)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    save_figure(fig, out)
    return terms


def _fig_reconstructions(fig_data: dict, classes, out: Path, n_per_class: int) -> None:

    rows = fig_data["rows"]
    by_class: dict[int, list] = {}
    for r in rows:
        by_class.setdefault(r["label"], []).append(r)
    present = sorted(by_class)
    fig, axes = plt.subplots(len(present), n_per_class, figsize=(3.2 * n_per_class, 2.2 * len(present)), squeeze=False)
    for i, c in enumerate(present):
        for j in range(n_per_class):
            ax = axes[i, j]
            if j >= len(by_class[c]):
                ax.axis("off")
                continue
            r = by_class[c][j]
            plot_reconstruction(
                r["phase"],
                r["mag"],
                r["err"],
                r["grid"],
                r["mag_model"],
                r["err_model"],
                ax=ax,
                title=f"{classes[c]} {r['star_id']}  wRMSE={r['wrmse']:.3f}",
                colour=class_colour(c),
            )
            if i < len(present) - 1:
                ax.set_xlabel("")
    fig.suptitle("Test stars: observed vs decoded, folded (paper Fig. 5/7 analogue)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    save_figure(fig, out)


def _fig_latents(view: _RunView, out_pairs: Path, out_phys: Path) -> dict:

    path = view.paths.latents_path
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; `pelsvae train` writes it after training")
    with np.load(path, allow_pickle=False) as f:
        lat = {k: f[k] for k in f.files}
    for key in ("z_mean", "label"):
        if key not in lat:
            raise ValueError(f"{path} lacks array {key!r} (has {sorted(lat)})")
    z, lab = lat["z_mean"], lat["label"].astype(int)
    d = z.shape[1]
    # pair plot (lower triangle)
    k = max(d - 1, 1)
    fig, axes = plt.subplots(k, k, figsize=(2.6 * k, 2.6 * k), squeeze=False)
    if d == 1:  # one latent dimension: its distribution per class
        for c, name in enumerate(view.classes):
            if np.any(lab == c):
                axes[0, 0].hist(z[lab == c, 0], bins=30, histtype="step", label=name)
        axes[0, 0].set_xlabel("z0")
        axes[0, 0].legend(fontsize=6)
    for i in range(k if d > 1 else 0):
        for j in range(k):
            if j > i:
                axes[i, j].axis("off")
                continue
            plot_latent_pair(z, lab, view.classes, j, i + 1, ax=axes[i, j], legend=(i == 0 and j == 0))
    fig.suptitle("Latent means of real stars, by class (paper Fig. 6 analogue)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    save_figure(fig, out_pairs)
    # latent vs physical parameters

    phys_names = ("teff", "abs_gmag", "period")
    cols = list(view.dataset.physics_columns)
    phys = lat.get("phys")
    corr = {}
    fig, axes = plt.subplots(d, len(phys_names), figsize=(3.2 * len(phys_names), 2.3 * d), squeeze=False)
    for j, p in enumerate(phys_names):
        vals = phys[:, cols.index(p)] if phys is not None and phys.ndim == 2 and p in cols else np.full(len(z), np.nan)
        unit = PHYSICS_PARAMS[p][1]
        for i in range(d):
            plot_latent_vs_param(
                vals, z[:, i], lab, view.classes, f"{p} [{unit}]", f"z{i}", ax=axes[i, j], logx=(p == "period")
            )
            ok = np.isfinite(vals)
            if ok.sum() > 2:
                x = np.log10(vals[ok]) if p == "period" else vals[ok]
                corr[f"z{i}~{p}"] = float(spearmanr(x, z[ok, i]).statistic)
    axes[0, 0].legend(fontsize=6, markerscale=2)
    fig.suptitle("Latent means vs physical parameters", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    save_figure(fig, out_phys)
    return {"n_stars": int(len(z)), "latent_dim": int(d), "spearman_latent_vs_physics": corr}


def _fig_features(feats: dict, out: Path) -> None:

    names = ("amplitude_mag", "R21", "cos_phi21", "skewness")
    cols = [COMPARED_FEATURES.index(n) for n in names]
    classes = list(feats)
    if not classes:
        return
    fig, axes = plt.subplots(len(classes), len(names), figsize=(2.8 * len(names), 1.9 * len(classes)), squeeze=False)
    for i, c in enumerate(classes):
        fr, fg = feats[c]
        for j, (n, col) in enumerate(zip(names, cols)):
            plot_feature_hist(fr[:, col], fg[:, col], n if i == len(classes) - 1 else "", ax=axes[i, j])
            if j == 0:
                axes[i, j].set_ylabel(c)
    axes[0, 0].legend(fontsize=6)
    fig.suptitle("Held-out real vs generated: amplitude [mag] and shape of the scaled curves", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    save_figure(fig, out)


def _fig_confusion(tstr: dict, classes, out: Path) -> None:

    fig, axes = plt.subplots(1, 2, figsize=(9, 4.2))
    plot_confusion_matrix(
        np.array(tstr["confusion_trtr"]), classes, ax=axes[0], title=f"train on real: acc {tstr['accuracy_trtr']:.2f}"
    )
    plot_confusion_matrix(
        np.array(tstr["confusion_tstr"]),
        classes,
        ax=axes[1],
        title=f"train on synthetic: acc {tstr['accuracy_tstr']:.2f}",
    )
    fig.suptitle("Test on real held-out stars", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    save_figure(fig, out)
