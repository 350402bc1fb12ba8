"""Plot helpers for the evaluation report; every function draws on ``ax=`` and returns the Axes.

Figures are composed in :mod:`pelsvae_tf.evaluate.evaluation`; here each function draws one idea on one
Axes (created with ``plt.subplots`` when ``ax`` is None), so users can place them in their own
figures. Magnitudes are drawn with the y axis inverted (brighter up), as astronomers expect.
Phases are in cycles, magnitudes in the unit passed (scaled magnitude in the report).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter

from pelsvae_tf.atomic import atomic_path

#: One colour per class index (tab10 without grey), stable across figures.
CLASS_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22")


def _ax(ax):
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    return ax


def class_colour(i: int) -> str:
    """Colour of class index ``i`` (cycles after 8)."""
    return CLASS_COLOURS[int(i) % len(CLASS_COLOURS)]


def plot_loss_term(history, term: str, ax=None, log: bool | None = None):
    """Training and validation curves of one loss term from a ``history.csv`` table.

    Args:
        history: pandas DataFrame with an ``epoch`` column (optional) and columns ``term`` and/or
            ``val_<term>`` (per-epoch mean loss, dimensionless).
        term: loss term name, e.g. ``"loss"``, ``"recon"``, ``"kl"``, ``"err_kl"``.
        log: log-scale y axis; default: when all values are > 0 and span more than a decade.
    """
    ax = _ax(ax)
    epoch = history["epoch"].to_numpy() if "epoch" in history.columns else np.arange(len(history))
    if "epoch" in history.columns and epoch.min() == 0:
        epoch = epoch + 1  # Keras CSVLogger counts from 0; plot epochs from 1
    drawn = []
    for col, style, label in ((term, "-", "train"), (f"val_{term}", "--", "validation")):
        if col in history.columns:
            y = history[col].to_numpy(dtype=float)
            ax.plot(epoch, y, style, marker="o", ms=3, label=label)
            drawn.append(y[np.isfinite(y)])
    if not drawn:
        raise ValueError(f"history has no column {term!r} or 'val_{term}'; columns are {list(history.columns)}")
    vals = np.concatenate(drawn)
    if log is None:
        log = bool(len(vals) and np.all(vals > 0) and vals.max() / max(vals.min(), 1e-300) > 10)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(term)
    ax.set_title(term)
    ax.legend(fontsize=8)
    return ax


def plot_reconstruction(
    phase: np.ndarray,
    mag: np.ndarray,
    err: np.ndarray | None,
    phase_model: np.ndarray,
    mag_model: np.ndarray,
    err_model: np.ndarray | None = None,
    ax=None,
    title: str | None = None,
    colour: str = "C0",
):
    """Observed folded curve (points with error bars) against the decoded curve (line, +-1 sigma band).

    Phases in cycles [0, 1); magnitudes in one unit (scaled magnitudes in the report), y inverted.
    Both are drawn over two cycles (phase and phase + 1) so the shape around phase 0 is visible.
    """
    ax = _ax(ax)
    phase = np.asarray(phase, float)
    order = np.argsort(phase_model)
    pm, mm = np.asarray(phase_model, float)[order], np.asarray(mag_model, float)[order]
    em = None if err_model is None else np.asarray(err_model, float)[order]
    for shift in (0.0, 1.0):
        ax.errorbar(
            phase + shift,
            mag,
            yerr=err,
            fmt=".",
            ms=3,
            color="0.45",
            elinewidth=0.5,
            alpha=0.7,
            label="observed" if shift == 0 else None,
        )
        ax.plot(pm + shift, mm, "-", color=colour, lw=1.5, label="decoded" if shift == 0 else None)
        if em is not None:
            ax.fill_between(pm + shift, mm - em, mm + em, color=colour, alpha=0.2, lw=0)
    if not ax.yaxis_inverted():
        ax.invert_yaxis()
    ax.set_xlim(0, 2)
    ax.set_xlabel("phase")
    ax.set_ylabel("scaled magnitude")
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def plot_latent_pair(
    z: np.ndarray,
    labels: np.ndarray,
    classes: Sequence[str],
    i: int,
    j: int,
    ax=None,
    legend: bool = False,
    max_points: int = 4000,
    seed: int = 0,
):
    """Scatter of latent mean dimension ``j`` against ``i`` coloured by class (latent units, dimensionless)."""
    ax = _ax(ax)
    z = np.asarray(z, float)
    labels = np.asarray(labels).astype(int)
    idx = np.arange(len(z))
    if len(idx) > max_points:
        idx = np.sort(np.random.default_rng(seed).choice(idx, max_points, replace=False))
    for c, name in enumerate(classes):
        m = idx[labels[idx] == c]
        if len(m):
            ax.scatter(z[m, i], z[m, j], s=4, alpha=0.6, color=class_colour(c), label=name)
    ax.set_xlabel(f"z{i}")
    ax.set_ylabel(f"z{j}")
    if legend:
        ax.legend(fontsize=6, markerscale=2, loc="best")
    return ax


def plot_latent_vs_param(
    param: np.ndarray,
    z: np.ndarray,
    labels: np.ndarray,
    classes: Sequence[str],
    param_label: str,
    z_label: str,
    ax=None,
    logx: bool = False,
):
    """One latent mean dimension against one physical parameter, coloured by class.

    ``param`` in its physical unit (K, mag, d); points with a missing (NaN) parameter are skipped.
    """
    ax = _ax(ax)
    param = np.asarray(param, float)
    z = np.asarray(z, float)
    labels = np.asarray(labels).astype(int)
    ok = np.isfinite(param) & np.isfinite(z)
    if logx:
        ok &= param > 0
    for c, name in enumerate(classes):
        m = ok & (labels == c)
        if np.any(m):
            ax.scatter(param[m], z[m], s=4, alpha=0.6, color=class_colour(c), label=name)
    if logx:
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels overlap on short ranges
    ax.set_xlabel(param_label)
    ax.set_ylabel(z_label)
    return ax


def plot_confusion_matrix(cm: np.ndarray, classes: Sequence[str], ax=None, title: str | None = None):
    """Row-normalised confusion matrix (rows = true class, fraction of that class), counts annotated."""
    ax = _ax(ax)
    cm = np.asarray(cm, dtype=float)
    rows = cm.sum(axis=1, keepdims=True)
    frac = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    ax.imshow(frac, vmin=0, vmax=1, cmap="Blues")
    n = len(classes)
    ax.set_xticks(range(n), classes, rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(n), classes, fontsize=7)
    for r in range(n):
        for c in range(n):
            if cm[r, c] > 0:
                ax.text(
                    c,
                    r,
                    f"{int(cm[r, c])}",
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if frac[r, c] > 0.5 else "black",
                )
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def plot_feature_hist(real: np.ndarray, generated: np.ndarray, name: str, ax=None, bins: int = 20):
    """Overlaid normalised histograms of one feature for real and generated curves (feature unit)."""
    ax = _ax(ax)
    real = np.asarray(real, float)
    generated = np.asarray(generated, float)
    both = np.concatenate([real, generated])
    lo, hi = (np.min(both), np.max(both)) if len(both) else (0.0, 1.0)
    if hi <= lo:
        hi = lo + 1e-6
    edges = np.linspace(lo, hi, bins + 1)
    ax.hist(real, bins=edges, density=True, histtype="stepfilled", alpha=0.4, color="0.4", label="held-out real")
    ax.hist(generated, bins=edges, density=True, histtype="step", lw=1.5, color="C3", label="generated")
    ax.set_xlabel(name)
    return ax


def save_figure(fig, path: str | Path, dpi: int = 90) -> Path:
    """Save a matplotlib figure as PNG atomically and close it; returns the path. ``dpi`` [dots per
    inch]. The saved area is the figure's tight bounding box, so axis labels, tick labels and
    titles are never clipped. Every figure the package writes goes through here."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
    plt.close(fig)
    return path
