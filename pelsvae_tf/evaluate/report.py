"""``report.md`` of the evaluation: the metrics as Markdown tables next to the figures."""

from __future__ import annotations

import json
from pathlib import Path

from pelsvae_tf.textio import markdown_table


def _report_md(m: dict, table3, figures: dict[str, str], realism_md: str = "") -> str:
    cls = list(m["classes"])
    rec = m["reconstruction"]
    parts = [
        f"# PELS-VAE evaluation: `{m['run_dir']}`",
        "",
        f"Created {m['created']} in {m['seconds']:.1f} s. Model: {m['model']}. Generation: {m['generation']}.",
        "",
        "## Training (paper Fig. 4)",
        f"![loss curves]({figures['loss']})",
        "",
        "## Reconstruction of real test stars (paper Fig. 5/7)",
        f"Error-weighted RMSE per star (z = latent mean); {rec['n_stars']} test stars"
        + (
            f", {rec['n_dropped_missing_physics']} without the model's physical parameters skipped."
            if rec["n_dropped_missing_physics"]
            else "."
        ),
        "",
        markdown_table(
            [
                "class",
                "n",
                "median wRMSE (scaled)",
                "mean wRMSE (scaled)",
                "median wRMSE (mag)",
                "flat baseline median (scaled)",
                "share beating flat",
            ],
            [
                [
                    c,
                    rec["per_class"][c]["n"],
                    rec["per_class"][c].get("weighted_rmse_scaled", {}).get("median", float("nan")),
                    rec["per_class"][c].get("weighted_rmse_scaled", {}).get("mean", float("nan")),
                    rec["per_class"][c].get("weighted_rmse_mag", {}).get("median", float("nan")),
                    rec["per_class"][c].get("flat_baseline_weighted_rmse_scaled", {}).get("median", float("nan")),
                    rec["per_class"][c].get("fraction_beating_flat", float("nan")),
                ]
                for c in cls
            ]
            + [
                [
                    "all",
                    rec["n_stars"],
                    rec["overall"]["weighted_rmse_scaled"]["median"],
                    rec["overall"]["weighted_rmse_scaled"]["mean"],
                    rec["overall"]["weighted_rmse_mag"]["median"],
                    rec["baseline_flat"]["weighted_rmse_scaled"]["median"],
                    rec["fraction_beating_flat"],
                ]
            ],
        ),
        "",
        "Flat baseline: each star predicted by its own error-weighted mean magnitude (no shape at all).",
        "",
        f"![reconstructions]({figures['reconstructions']})",
        "",
        "## Latent space (paper Fig. 6)",
        f"![latent pairs]({figures['latent_pairs']})",
        f"![latent vs physics]({figures['latent_vs_physics']})",
        "",
        "## Generated vs held-out real curves, per class",
        "Period: share of generated curves whose Lomb-Scargle period (at the survey-like cadence) is within "
        f"{m['config']['period_rtol']:.0%} of the requested one (strict, and accepting P/2 or 2P). "
        "KS: Kolmogorov-Smirnov statistic (0 = same distribution); amp (mag): Fourier peak-to-peak amplitude "
        "in magnitudes (the other features are of the min-max scaled curves, whose amplitude is ~1 by "
        "construction). C2ST AUC: 0.5 = a classifier cannot tell generated from real, 1 = fully separable.",
        "",
        f"Sampling: {m['generation_detail']['sampling']}. Period recovery uses separate generated curves "
        f"({m['generation_detail']['cadence']}).",
        "",
    ]
    rows = []
    for c in cls:
        pr = m["period_recovery"].get(c, {})
        dm = m["distribution_match"].get(c, {})
        f = dm.get("features", {})
        rows.append(
            [
                c,
                pr.get("rate", float("nan")),
                pr.get("rate_with_half_double", float("nan")),
                f.get("amplitude_mag", {}).get("ks", float("nan")),
                f.get("R21", {}).get("ks", float("nan")),
                f.get("cos_phi21", {}).get("ks", float("nan")),
                f.get("skewness", {}).get("ks", float("nan")),
                dm.get("c2st", {}).get("auc", float("nan")),
            ]
        )
    parts += [
        markdown_table(
            ["class", "P recovered", "P, P/2, 2P", "KS amp (mag)", "KS R21", "KS cos phi21", "KS skew", "C2ST AUC"],
            rows,
        ),
        "",
        f"![feature distributions]({figures['features']})",
        "",
        "## Train on synthetic, test on real",
        f"Accuracy on {m['tstr']['n_test']} real test stars: trained on real {m['tstr']['accuracy_trtr']:.3f} "
        f"({m['tstr']['n_real_train']} stars), trained on synthetic {m['tstr']['accuracy_tstr']:.3f} "
        f"({m['tstr']['n_synthetic']} curves); ratio {m['tstr']['ratio']:.3f}.",
        "",
        f"![confusion]({figures['confusion']})",
        "",
        "## Physics -> latent regressors (paper Table 3)",
    ]
    if table3 is not None:
        parts.append(markdown_table(list(map(str, table3.columns)), table3.values.tolist()))
    else:
        parts.append("Not available (see notes).")
    parts += ["", "## RR Lyrae Teff sweep (paper Fig. 8)"]
    pr = m.get("physics_recovery")
    if isinstance(pr, dict) and pr:
        figs = [p for p in sorted(Path(m["out_dir"]).glob("*.png")) if p.name not in figures.values()]
        parts += [f"![{p.stem}]({p.name})" for p in figs]
        parts.append("```json\n" + json.dumps(pr, indent=1, default=str)[:4000] + "\n```")
    else:
        parts.append("Not available (see notes).")
    if realism_md:
        parts += ["", realism_md.rstrip("\n")]
    parts += ["", "## Spread of shapes at fixed physics, generated / data"]
    sp = m.get("spread")
    if isinstance(sp, dict) and sp.get("per_class"):
        parts += [
            f"Method: {sp['method']}. IQR of R21 (dimensionless) and circular IQR of phi31 (rad), "
            "medians over the anchors; 1 = the generator keeps the real spread, 0 = one shape per physics "
            "vector.",
            "",
        ]
        rows = [
            [
                c,
                len(e.get("anchors", [])),
                e.get("median_gen_iqr_R21", float("nan")),
                e.get("median_data_iqr_R21", float("nan")),
                e.get("median_ratio_R21", float("nan")),
                e.get("median_gen_iqr_phi31", float("nan")),
                e.get("median_data_iqr_phi31", float("nan")),
                e.get("median_ratio_phi31", float("nan")),
            ]
            if "skipped" not in e
            else [c, 0, "skipped", e["skipped"], "", "", "", ""]
            for c, e in sp["per_class"].items()
        ]
        parts.append(
            markdown_table(
                [
                    "class",
                    "anchors",
                    "R21 IQR gen",
                    "R21 IQR data",
                    "R21 gen / data",
                    "phi31 IQR gen",
                    "phi31 IQR data",
                    "phi31 gen / data",
                ],
                rows,
            )
        )
    else:
        parts.append("Not available (see notes).")
    if m["notes"]:
        parts += ["", "## Notes"] + [f"- {n}" for n in m["notes"]]
    return "\n".join(parts) + "\n"


def _generation_summary(source: dict[str, str]) -> str:
    """``"regressor:forest for 7 classes (CEP, ...); prior N(0, I) ... for ACEP"``."""
    groups: dict[str, list[str]] = {}
    for cls, src in source.items():
        groups.setdefault(src, []).append(cls)
    parts = [
        f"{src} for {len(cl)} class{'es' if len(cl) > 1 else ''} ({', '.join(cl)})"
        for src, cl in sorted(groups.items(), key=lambda kv: -len(kv[1]))
    ]
    return "; ".join(parts)
