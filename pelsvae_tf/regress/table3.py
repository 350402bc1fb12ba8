"""The Table 3 analogue of ``fit_regressors``: ``RUN_DIR/regressors/table3.csv`` and ``table3.md``
(latent RMSE per regressor kind, out of sample and in sample, with baselines and calibration)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from pelsvae_tf.atomic import atomic_write_text
from pelsvae_tf.textio import markdown_table

#: Paper Table 3 (validation RMSE in latent space, computed in-sample by the reference code).
PAPER_TABLE3 = {
    ("cVAE", "linear"): 0.863,
    ("cVAE", "forest"): 0.299,
    ("cVAE", "mlp"): 0.863,
    ("cVAE-P", "linear"): 0.794,
    ("cVAE-P", "forest"): 0.289,
    ("cVAE-P", "mlp"): 0.798,
}

_HEADER = (
    "model",
    "physics",
    "kind",
    "rmse_val",
    "val_avg",
    "rmse_train",
    "baseline",
    "paper",
    "nll_val",
    "gauss nll",
    "cov68",
    "cov95",
    "gauss cov68",
    "gauss cov95",
    "n_train",
    "n_val",
    "fit_s",
)


def write_table3(reg_dir: Path, rows: Sequence[dict[str, Any]]) -> tuple[Path, Path]:
    """Merge ``rows`` (one per regressor, replacing rows of the same ``name``) into
    ``reg_dir/table3.csv`` and rewrite ``reg_dir/table3.md``; returns both paths."""
    table = pd.DataFrame(list(rows))
    csv_path = reg_dir / "table3.csv"
    if csv_path.exists():
        old = pd.read_csv(csv_path)
        keep = ~old["name"].isin(table["name"])
        table = pd.concat([old[keep], table], ignore_index=True)
    atomic_write_text(csv_path, table.to_csv(index=False))
    md_path = reg_dir / "table3.md"
    atomic_write_text(md_path, table3_markdown(table))
    return csv_path, md_path


def table3_markdown(table: pd.DataFrame) -> str:
    """``table3.md``: an explanation of the columns, then one Markdown row per regressor."""
    lines = [
        "# Table 3 analogue: physics -> latent regression RMSE (latent units)",
        "",
        "`rmse_val`: validation stars never used in fitting (out of sample). `rmse_train`: the",
        "fitting stars (in sample; what the reference code reported). `val_avg`: validation RMSE of",
        "the prediction averaged over 16 dummy draws (E[z | physics]; a single draw also carries the",
        "spread the dummy reproduces). `baseline`: the training-mean latent for every validation star.",
        "Paper values (in sample, OGLE-III) for context only: different data. RMSE vs z_mean.",
        "For `density` the point prediction is the mixture mean E[z | physics, class].",
        "",
        "`nll_val`: mean negative log-likelihood [nats per star] of the validation posterior means",
        "under the distribution `sample()` draws from (out of sample); `cov68`/`cov95`: share of",
        "them inside its 68 % / 95 % regions (density: highest-density regions estimated from 2000",
        "draws per star; residual mode: the Gaussian's ellipsoids; neighbours mode: the ellipsoid",
        "of the class's residual covariance holding that share of the k neighbours' residual vectors).",
        "`gauss`: a per-class Gaussian fitted on the same training latents (physics ignored). NaN: no",
        "density (paper mode; neighbours mode, whose draws are the neighbours' residual vectors).",
        "",
    ]

    def g(r, k):
        v = r.get(k, float("nan"))
        return float("nan") if v is None else float(v)

    cells = [
        (
            str(r["model"]),
            str(r["physics"]),
            str(r["kind"]),
            f"{r['rmse_val']:.3f}",
            f"{g(r, 'rmse_val_dummy_avg'):.3f}",
            f"{r['rmse_train']:.3f}",
            f"{r['rmse_val_mean_baseline']:.3f}",
            f"{r['paper_table3']:.3f}",
            f"{g(r, 'nll_val'):.2f}",
            f"{g(r, 'nll_val_baseline'):.2f}",
            f"{g(r, 'cover68_val'):.2f}",
            f"{g(r, 'cover95_val'):.2f}",
            f"{g(r, 'cover68_val_baseline'):.2f}",
            f"{g(r, 'cover95_val_baseline'):.2f}",
            str(int(r["n_train_stars"])),
            str(int(r["n_val_stars"])),
            f"{g(r, 'fit_seconds'):.1f}",
        )
        for _, r in table.iterrows()
    ]
    return "\n".join(lines + [markdown_table(_HEADER, cells)]) + "\n"
