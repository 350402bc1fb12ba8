"""RR Lyrae physics recovery, measured (paper Fig. 8 made a number).

The paper shows RR Lyrae generated along a Teff sweep morphing from sawtooth (RRab, cool) to
sinusoidal (RRc, hot) as a picture only. :func:`physics_recovery` generates RRLYR curves along a
Teff sweep [K] with the other physical parameters fixed (training medians of the class; or the
period following the ground-truth period-Teff relation with ``period_mode="truth"``), with each
fitted regressor, and measures the shape of the noise-free generated curves: Fourier
``R21``, ``phi31`` [rad] and peak-to-peak ``amplitude`` [mag] (least-squares fit,
:func:`pelsvae_tf.evaluate.metrics.fourier_fit`, OGLE cosine convention) and the ``skewness`` of the
magnitudes over a uniform phase grid.

They are compared with two references:

- ``truth``: the built-in sky's documented relation
  :func:`pelsvae_tf.sky.rrlyrae_shape_truth` (valid when the run was trained on the
  built-in sky; skewness from the truth Fourier shape on the same phase grid);
- ``data``: the same shape numbers measured on the run's real RR Lyrae TRAINING curves, binned
  in Teff around each sweep value (valid for any dataset).

Per regressor and quantity the numbers are: medians per Teff, Spearman correlation of the
generated value with Teff next to the reference's, Pearson correlation between generated and
reference medians across the sweep, the RMSE between them (circular for phi31) and the ratio of
the generated to the reference change across the sweep (``slope_ratio``; 1 = the full trend
recovered, 0 = no trend). Amplitude comes from the generator's magnitude metadata (k-nearest
training stars in physics), not from the decoder, and is labelled so.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any, Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from pelsvae_tf.evaluate.metrics import fourier_fit, skewness
from pelsvae_tf.evaluate.plots import save_figure
from pelsvae_tf.generate.cadence import phases
from pelsvae_tf.generate.generator import Generator, PhysicsRangeWarning
from pelsvae_tf.regress import KINDS, fit_regressors, load_regressor
from pelsvae_tf.rundir import RunDir
from pelsvae_tf.sky import fourier_shape, rrlyrae_shape_truth
from pelsvae_tf.textio import write_json

log = logging.getLogger("pelsvae_tf.evaluate.physics_recovery")

QUANTITIES = ("R21", "phi31", "skewness", "amplitude")
#: which part of the generator a quantity tests
QUANTITY_SOURCE = {
    "R21": "decoder+regressor",
    "phi31": "decoder+regressor",
    "skewness": "decoder+regressor",
    "amplitude": "knn magnitude metadata",
}


def shape_numbers(phase: np.ndarray, mag: np.ndarray, n_harmonics: int = 4) -> dict[str, np.ndarray]:
    """R21, phi31 [rad], amplitude [unit of mag] and skewness of curves [n, T] (phases in cycles).

    Skewness is of the Fourier model evaluated on a uniform 200-point phase grid, so uneven
    sampling does not bias it.
    """
    fit = fourier_fit(phase, mag, n_harmonics=n_harmonics)
    grid = np.linspace(0.0, 1.0, 200, endpoint=False)
    k = np.arange(1, n_harmonics + 1)
    model = np.zeros((len(fit["A0"]), grid.size))
    for i in k:
        model += fit[f"A{i}"][:, None] * np.cos(2 * np.pi * i * grid[None, :] + fit[f"phi{i}"][:, None])
    return {"R21": fit["R21"], "phi31": fit["phi31"], "amplitude": fit["amplitude"], "skewness": skewness(model)}


def truth_numbers(teff: np.ndarray) -> dict[str, np.ndarray]:
    """Built-in sky ground truth at ``teff`` [K]: R21, phi31 [rad], amplitude [mag], skewness."""
    tr = rrlyrae_shape_truth(np.asarray(teff, dtype=np.float64))
    grid = np.linspace(0.0, 1.0, 200, endpoint=False)
    shapes = np.stack(
        [
            fourier_shape(grid, r21, p21, r31, p31)
            for r21, p21, r31, p31 in zip(tr["R21"], tr["phi21"], tr["R31"], tr["phi31"])
        ]
    )
    return {
        "R21": tr["R21"],
        "phi31": np.mod(tr["phi31"], 2 * np.pi),
        "amplitude": tr["amplitude"],
        "skewness": skewness(shapes),
        "period": tr["period"],
    }


def _circ_median(a: np.ndarray) -> float:
    a = a[np.isfinite(a)]
    if a.size == 0:
        return float("nan")
    mean_dir = np.angle(np.mean(np.exp(1j * a)))
    d = np.angle(np.exp(1j * (a - mean_dir)))
    return float(np.mod(mean_dir + np.median(d), 2 * np.pi))


def _median(q: str, a: np.ndarray) -> float:
    if q == "phi31":
        return _circ_median(a)
    a = a[np.isfinite(a)]
    return float(np.median(a)) if a.size else float("nan")


def _compare(q: str, teff: np.ndarray, gen: np.ndarray, ref: np.ndarray) -> dict[str, float]:
    ok = np.isfinite(gen) & np.isfinite(ref)
    out = {
        "spearman_gen_vs_teff": float("nan"),
        "spearman_ref_vs_teff": float("nan"),
        "pearson_gen_vs_ref": float("nan"),
        "rmse": float("nan"),
        "slope_ratio": float("nan"),
    }
    if ok.sum() < 3:
        return out
    g, r, t = gen[ok], ref[ok], teff[ok]
    if q == "phi31":  # unwrap around the reference so differences are circular
        g = r + np.angle(np.exp(1j * (g - r)))
    if np.ptp(g) > 0:
        out["spearman_gen_vs_teff"] = float(stats.spearmanr(t, g).statistic)
    if np.ptp(r) > 0:
        out["spearman_ref_vs_teff"] = float(stats.spearmanr(t, r).statistic)
    if np.ptp(g) > 0 and np.ptp(r) > 0:
        out["pearson_gen_vs_ref"] = float(np.corrcoef(g, r)[0, 1])
    out["rmse"] = float(np.sqrt(np.mean((g - r) ** 2)))
    slope_g = np.polyfit(t, g, 1)[0]
    slope_r = np.polyfit(t, r, 1)[0]
    out["slope_ratio"] = float(slope_g / slope_r) if slope_r != 0 else float("nan")
    return out


def _data_relation(run_dir: Path, label: int, teffs: np.ndarray, half_width: float) -> dict[str, Any] | None:
    """Shape numbers of the real RRLYR training curves binned in Teff (None without the dataset)."""
    try:
        ds = RunDir(run_dir).dataset()
    except (ValueError, FileNotFoundError):  # no data_dir, or the dataset is gone
        return None
    a = ds.arrays("train")
    ti = list(ds.physics_columns).index("teff")
    m = a["is_real"].astype(bool) & (a["label"] == label) & np.isfinite(a["phys"][:, ti])
    if m.sum() < 3:
        return None
    nums = shape_numbers(a["phase"][m], a["mag"][m] * a["mag_range"][m][:, None])
    t = a["phys"][m, ti].astype(np.float64)
    med = {q: [] for q in QUANTITIES}
    counts = []
    for T in teffs:
        sel = np.abs(t - T) <= half_width
        counts.append(int(sel.sum()))
        for q in QUANTITIES:
            med[q].append(_median(q, nums[q][sel]) if sel.any() else float("nan"))
    return {"median": {q: np.asarray(v) for q, v in med.items()}, "n_per_bin": counts}


def physics_recovery(
    run_dir: str | Path,
    out_dir: str | Path | None = None,
    regressors: Sequence[str] | None = None,
    teff: Sequence[float] | None = None,
    n_teff: int = 7,
    n_per_teff: int = 32,
    n_points: int = 200,
    period_mode: str = "fixed",
    seed: int = 0,
    n_show: int = 5,
) -> dict[str, Any]:
    """Generate RRLYR along a Teff sweep per regressor; measure and compare shape numbers.

    Args:
        run_dir: trained run (regressors fitted with ``pelsvae regress``; missing ones are fitted
            with the default :class:`~pelsvae_tf.regress.regressors.RegressorConfig`).
        out_dir: where to write ``physics_recovery.json`` and ``physics_recovery.png``
            (default ``RUN_DIR/report``).
        regressors: regressor names under ``RUN_DIR/regressors`` (default linear, forest, mlp).
        teff: sweep values [K]; default ``n_teff`` values spanning the 5th-95th percentile of the
            RRLYR training Teff.
        n_per_teff: curves per Teff (different dummy draws); n_points: evenly spaced phases.
        period_mode: ``"fixed"`` (training median, the paper) or ``"truth"`` (period from the
            built-in sky's period-Teff relation, clipped to the training range).
        n_show: Teff columns in the figure.

    Returns the numbers written to the JSON (plus ``"json"``/``"figure"`` paths).
    """
    matplotlib.use("Agg")
    run_dir = Path(run_dir)
    out_dir = Path(out_dir) if out_dir is not None else run_dir / "report"
    if period_mode not in ("fixed", "truth"):
        raise ValueError(f"period_mode={period_mode!r}; expected 'fixed' or 'truth'")
    names = list(regressors) if regressors is not None else list(KINDS)
    missing = [k for k in names if not (RunDir(run_dir).regressors_dir / k / "regressor.json").exists()]
    if missing:
        bad = [k for k in missing if k not in KINDS]
        if bad:
            raise FileNotFoundError(f"regressor(s) {bad} not found under {run_dir / 'regressors'}")
        log.info("fitting missing regressors %s", missing)
        fit_regressors(run_dir, missing)
    g0 = Generator.load(run_dir, regressor=names[0])
    gens = {names[0]: g0}
    for k in names[1:]:  # share the decoder: load the run once
        gens[k] = g0.with_regressor(load_regressor(RunDir(run_dir).regressors_dir / k))
    if "RRLYR" not in g0.classes:
        raise ValueError(f"the run's classes {g0.classes} do not include RRLYR")
    label = g0.classes.index("RRLYR")
    if "teff" not in g0.physics:
        raise ValueError(f"the regressors use {g0.physics}; the Teff sweep needs 'teff' among them")
    stats = g0.train_stats
    if stats is None:
        raise FileNotFoundError(f"{run_dir}/regressors/train_stats.npz missing; run `pelsvae regress`")
    is_rr = np.asarray(stats["label"]) == label
    tcol = g0._stats_column("teff")[is_rr]
    tcol = tcol[np.isfinite(tcol)]
    if tcol.size < 3 and teff is None:
        raise ValueError("fewer than 3 RRLYR training stars have Teff; pass teff= explicitly")
    if teff is None:
        lo, hi = np.percentile(tcol, [5, 95])
        teffs = np.linspace(lo, hi, int(n_teff))
    else:
        teffs = np.asarray(teff, dtype=np.float64)
    fixed = {}
    for p in g0.physics:
        if p == "teff":
            continue
        col = g0._stats_column(p)[is_rr]
        fixed[p] = float(np.nanmedian(col))
    if "period" not in fixed:
        fixed["period"] = float(np.nanmedian(g0._stats_column("period")[is_rr]))
    truth = truth_numbers(teffs)
    n_t = len(teffs)
    rep_teff = np.repeat(teffs, n_per_teff)
    params = {p: np.full(rep_teff.size, v) for p, v in fixed.items()}
    if period_mode == "truth":
        plo, phi_ = np.nanmin(g0._stats_column("period")[is_rr]), np.nanmax(g0._stats_column("period")[is_rr])
        params["period"] = np.clip(np.repeat(truth["period"], n_per_teff), plo, phi_)
    step = float(np.median(np.diff(teffs))) if n_t > 1 else 200.0
    data_rel = _data_relation(run_dir, label, teffs, half_width=max(step / 2, 100.0))
    cad = phases(int(n_points))
    results: dict[str, Any] = {
        "teff": teffs.tolist(),
        "fixed": fixed,
        "period_mode": period_mode,
        "n_per_teff": int(n_per_teff),
        "n_points": int(n_points),
        "quantity_source": QUANTITY_SOURCE,
        "truth": {q: np.asarray(truth[q]).tolist() for q in QUANTITIES},
        "data": None
        if data_rel is None
        else {"median": {q: v.tolist() for q, v in data_rel["median"].items()}, "n_per_bin": data_rel["n_per_bin"]},
        "regressors": {},
    }
    curves = {}
    for name, gen in gens.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PhysicsRangeWarning)
            res = gen.generate("RRLYR", teff=rep_teff, n=rep_teff.size, cadence=cad, seed=seed, noise=False, **params)
        nums = shape_numbers(res.phase, res.mag_model)
        med = {
            q: np.asarray([_median(q, nums[q][i * n_per_teff : (i + 1) * n_per_teff]) for i in range(n_t)])
            for q in QUANTITIES
        }
        entry = {
            "median": {q: v.tolist() for q, v in med.items()},
            "iqr": {
                q: [
                    float(np.subtract(*np.nanpercentile(nums[q][i * n_per_teff : (i + 1) * n_per_teff], [75, 25])))
                    for i in range(n_t)
                ]
                for q in QUANTITIES
            },
            "vs_truth": {q: _compare(q, teffs, med[q], np.asarray(truth[q])) for q in QUANTITIES},
        }
        if data_rel is not None:
            entry["vs_data"] = {q: _compare(q, teffs, med[q], data_rel["median"][q]) for q in QUANTITIES}
        results["regressors"][name] = entry
        curves[name] = (res.phase, res.scaled_mag)
    out_dir.mkdir(parents=True, exist_ok=True)
    fig_path = out_dir / "physics_recovery.png"
    _figure(fig_path, teffs, curves, results, n_per_teff, n_show)
    json_path = out_dir / "physics_recovery.json"
    write_json(json_path, results, indent=2)
    results["json"] = str(json_path)
    results["figure"] = str(fig_path)
    return results


def _figure(path: Path, teffs, curves, results, n_per_teff, n_show) -> None:
    names = list(curves)
    cols = np.unique(np.linspace(0, len(teffs) - 1, min(n_show, len(teffs))).round().astype(int))
    fig, axes = plt.subplots(
        len(names), len(cols) + 1, figsize=(2.4 * (len(cols) + 1), 2.1 * len(names)), squeeze=False, sharey=False
    )
    for r, name in enumerate(names):
        ph, sm = curves[name]
        for c, ti in enumerate(cols):
            ax = axes[r, c]
            for j in range(min(3, n_per_teff)):
                i = ti * n_per_teff + j
                o = np.argsort(ph[i])
                ax.plot(ph[i][o], sm[i][o], lw=1)
            ax.set_ylim(1.05, -0.05)
            if r == 0:
                ax.set_title(f"Teff={teffs[ti]:.0f} K", fontsize=9)
            if c == 0:
                ax.set_ylabel(f"{name}\nnorm. mag", fontsize=9)
            if r == len(names) - 1:
                ax.set_xlabel("phase", fontsize=9)
        ax = axes[r, -1]
        ax.plot(teffs, results["truth"]["R21"], "k--", label="truth (sky)")
        if results.get("data"):
            ax.plot(teffs, results["data"]["median"]["R21"], "s", color="gray", ms=4, label="training data")
        ax.errorbar(
            teffs,
            results["regressors"][name]["median"]["R21"],
            yerr=np.asarray(results["regressors"][name]["iqr"]["R21"]) / 2,
            fmt="o-",
            ms=3,
            label="generated",
        )
        ax.set_ylabel("R21", fontsize=9)
        if r == 0:
            ax.legend(fontsize=7)
        if r == len(names) - 1:
            ax.set_xlabel("Teff [K]", fontsize=9)
    fig.suptitle("RR Lyrae generated along a Teff sweep (rows: regressors)", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
