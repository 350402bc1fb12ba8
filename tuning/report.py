"""Report of a hyperparameter search: trial table, validation-loss plot, best training config.

Reads KerasTuner's project directory (``OUT/search/trial_*/trial.json``), so it works the same
after a local search, a resumed one, or a distributed one (the chief writes those files).
Writes, atomically, into ``OUT``:

- ``trials.csv`` / ``trials.md``: one row per trial (status, validation loss, best epoch,
  every Table 2 hyperparameter);
- ``val_loss_per_trial.png``: validation loss of every trial, the running best and (if run)
  the paper-baseline loss;
- ``best_hyperparameters.json``: the best trial's values and loss;
- ``best_config.json``: a ready training config (``{"model": ModelConfig, "train":
  TrainConfig}``) that ``pelsvae train --config`` accepts;
- ``summary.md``: the paper's best values (Table 2) beside the search's best.

Losses are the trials' training loss (the paper's eq. 4 unless ``--loss`` / the base config chose
another) on the validation split (dimensionless, per point).
"""

from __future__ import annotations

import contextlib
import json
import math
from pathlib import Path
from typing import Any

import keras_tuner as kt
import matplotlib
import numpy as np
import pandas as pd

from pelsvae_tf import textio
from pelsvae_tf.atomic import atomic_path, atomic_write_text
from pelsvae_tf.evaluate.plots import save_figure
from pelsvae_tf.tuning.config import PROJECT_NAME
from pelsvae_tf.tuning.hypermodel import HP_NAMES, model_config_from_values
from pelsvae_tf.tuning.search_space import PAPER_BEST, PAPER_TABLE2_BEST

#: Table columns for the hyperparameters, in Table 2 order (the names declared to KerasTuner).
HP_COLUMNS: tuple[str, ...] = HP_NAMES


#: Integer hyperparameters (kept as nullable integers in the table: inactive ones are <NA>).
INT_COLUMNS: tuple[str, ...] = (
    "best_epoch",
    "hidden",
    "n_blocks",
    "kernel_size",
    "dilation_base",
    "rnn_layers",
    "latent_dim",
    "batch_size",
)


def load_trials(project_dir: str | Path) -> pd.DataFrame:
    """One row per trial of a KerasTuner project directory, sorted by trial ID.

    Columns: ``trial_id``, ``status`` (COMPLETED / FAILED / INVALID / RUNNING), ``val_loss``
    (the objective at the best epoch, NaN when the trial has none), ``best_epoch`` (1-based),
    the hyperparameters of :data:`HP_COLUMNS` (<NA> when inactive, e.g. ``n_blocks`` for a
    GRU), Hyperband's ``tuner/*`` entries when present, and ``message`` (last line of a
    failure's traceback).
    """
    project_dir = Path(project_dir)
    if not project_dir.is_dir():
        raise FileNotFoundError(f"search directory {project_dir} does not exist; run `pelsvae tune` first")
    rows = []
    for path in sorted(project_dir.glob("trial_*/trial.json")):
        state = json.loads(path.read_text())
        values = state.get("hyperparameters", {}).get("values", {})
        score = state.get("score")
        row: dict[str, Any] = {
            "trial_id": state["trial_id"],
            "status": state.get("status"),
            "val_loss": float(score) if score is not None else math.nan,
            "best_epoch": int(state["best_step"]) + 1
            if state.get("best_step") is not None and score is not None
            else None,
        }
        for name in HP_COLUMNS:
            row[name] = values.get(name)
        for name, v in values.items():
            if name.startswith("tuner/"):
                row[name] = v
        msg = state.get("message") or ""
        lines = [ln for ln in str(msg).strip().splitlines() if ln.strip()]
        row["message"] = lines[-1][:200] if lines else ""
        rows.append(row)
    columns = ["trial_id", "status", "val_loss", "best_epoch", *HP_COLUMNS, "message"]
    df = pd.DataFrame(rows)
    if df.empty:
        return pd.DataFrame(columns=columns)
    for name in df.columns:
        if name in INT_COLUMNS or name.startswith("tuner/") and name != "tuner/trial_id":
            df[name] = pd.array(
                [None if v is None or (isinstance(v, float) and math.isnan(v)) else int(v) for v in df[name]],
                dtype="Int64",
            )
    extra = [c for c in df.columns if c not in columns]
    return df[columns[:-1] + extra + ["message"]].sort_values("trial_id").reset_index(drop=True)


def best_trial(trials: pd.DataFrame) -> pd.Series:
    """The completed trial with the lowest finite validation loss (ValueError if none)."""
    ok = trials[(trials["status"] == "COMPLETED") & np.isfinite(trials["val_loss"].astype(float))]
    if ok.empty:
        raise ValueError(
            "no completed trial with a finite validation loss: every trial failed "
            "(see the message column of trials.csv); lower the lr upper bound or check the data"
        )
    return ok.loc[ok["val_loss"].astype(float).idxmin()]


def _missing(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, (float, np.floating)) and math.isnan(float(v)))


def _fmt(v: Any) -> str:
    """A table cell: empty when missing, else :func:`pelsvae_tf.textio.format_value` (4 significant digits)."""
    return "" if _missing(v) else textio.format_value(v, 4, style="general")


def markdown_table(df: pd.DataFrame, columns: list[str] | None = None) -> str:
    """A GitHub-flavoured markdown table of ``df`` (floats to 4 significant digits, missing values
    empty): :func:`pelsvae_tf.textio.markdown_table` with ``style="general"``."""
    columns = list(columns or df.columns)
    rows = [[None if _missing(row[c]) else row[c] for c in columns] for _, row in df.iterrows()]
    return textio.markdown_table(columns, rows, digits=4, style="general") + "\n"


def plot_val_loss(trials: pd.DataFrame, ax=None, baseline_val_loss: float | None = None):
    """Plot the validation loss of every trial against its trial number; return the Axes.

    Completed trials are dots coloured by sequence architecture, the running best is a step
    line, failed trials are red crosses at the top edge, and ``baseline_val_loss`` (the paper's
    best configuration trained with the same budget) a dashed line.
    """
    import matplotlib.pyplot as plt  # after matplotlib.use("Agg") of the caller, if any

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    if trials.empty:
        ax.text(0.5, 0.5, "no trials", ha="center", va="center", transform=ax.transAxes)
        return ax
    x = np.arange(len(trials))
    loss = trials["val_loss"].astype(float).to_numpy()
    done = (trials["status"] == "COMPLETED").to_numpy() & np.isfinite(loss)
    colours = {"tcn": "tab:blue", "gru": "tab:orange", "lstm": "tab:green"}
    for arch, colour in colours.items():
        sel = done & (trials["seq_arch"] == arch).to_numpy()
        if sel.any():
            ax.scatter(x[sel], loss[sel], color=colour, label=arch.upper(), zorder=3)
    if done.any():
        running = np.minimum.accumulate(np.where(done, loss, np.inf))
        valid = np.isfinite(running)
        ax.step(x[valid], running[valid], where="post", color="k", lw=1, label="best so far")
    if baseline_val_loss is not None and math.isfinite(baseline_val_loss):
        ax.axhline(baseline_val_loss, color="tab:red", ls="--", lw=1, label="paper best config")
    if (~done).any():
        top = np.nanmax(loss[done]) if done.any() else 1.0
        ax.scatter(x[~done], np.full((~done).sum(), top), marker="x", color="red", label="failed", zorder=3)
    finite = loss[done]
    if finite.size and finite.min() > 0 and finite.max() / finite.min() > 30:
        ax.set_yscale("log")
    ax.set_xticks(x)
    ax.set_xticklabels(trials["trial_id"].astype(str), rotation=90 if len(x) > 20 else 0, fontsize=7)
    ax.set_xlabel("trial")
    ax.set_ylabel("validation loss")
    ax.legend(fontsize=8)
    return ax


def training_config(hypermodel, values: dict[str, Any], epochs: int) -> dict[str, Any]:
    """The ``{"model": ..., "train": ...}`` config ``pelsvae train --config`` accepts for ``values``."""
    model = model_config_from_values(hypermodel.base_config, values)
    train = hypermodel.train_config(values, epochs)
    return {"model": model.to_dict(), "train": train.to_dict()}


def paper_baseline(hypermodel, dataset, out_dir: str | Path, epochs: int, strategy=None, verbose: int = 1) -> dict:
    """Train the paper's best configuration once with the search's budget; cached in ``OUT``.

    Uses :data:`pelsvae_tf.tuning.search_space.PAPER_BEST` (lr 0.001, beta 0.75, dropout 0.2, latent 4,
    TCN 9 blocks x 48 channels, kernel 5, batch 128, no scheduler) on the same data and epoch
    count as each trial, and writes ``paper_baseline.json`` (``val_loss`` = best epoch's
    validation loss, ``history``). A second call with the same epochs reuses the file.
    """
    out = Path(out_dir) / "paper_baseline.json"
    if out.exists():
        cached = json.loads(out.read_text())
        if cached.get("epochs") == int(epochs) and cached.get("base_model") == hypermodel.base_config.to_dict():
            return cached
    values = dict(PAPER_BEST)
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    try:
        with scope:
            model = hypermodel.build_from_values(values)
        history = hypermodel.fit_values(values, model, dataset, epochs=int(epochs), verbose=verbose)
        hist = {k: [float(x) for x in v] for k, v in history.history.items()}
        val_loss = float(np.nanmin(hist["val_loss"]))
        status, message = "COMPLETED", ""
    except kt.errors.FailedTrialError as exc:
        hist, val_loss, status, message = {}, math.nan, "FAILED", str(exc)
    result = {
        "values": values,
        "epochs": int(epochs),
        "val_loss": val_loss,
        "status": status,
        "message": message,
        "history": hist,
        "base_model": hypermodel.base_config.to_dict(),
    }
    atomic_write_text(out, json.dumps(result, indent=1, default=float) + "\n")
    return result


def write_report(out_dir: str | Path, hypermodel, config, baseline: dict | None = None) -> dict[str, Path]:
    """Write the trial table, plot, best config and summary of the search in ``out_dir``.

    Args:
        out_dir: the ``pelsvae tune`` output directory (holds ``search/``).
        hypermodel: the :class:`~pelsvae_tf.tuning.hypermodel.PELSVAEHyperModel` of the search (for the
            base model config and the seed).
        config: the :class:`~pelsvae_tf.tuning.tuners.TuneConfig` (epochs written into the best config).
        baseline: the result of :func:`paper_baseline`, or None.

    Returns:
        name -> path of every file written.
    """
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pyplot only after the backend is chosen

    out_dir = Path(out_dir)
    trials = load_trials(out_dir / PROJECT_NAME)
    paths: dict[str, Path] = {}

    with atomic_path(out_dir / "trials.csv") as tmp:
        trials.to_csv(tmp, index=False)
    paths["trials_csv"] = out_dir / "trials.csv"
    md_cols = ["trial_id", "status", "val_loss", "best_epoch", *HP_COLUMNS]
    paths["trials_md"] = atomic_write_text(out_dir / "trials.md", "# Trials\n\n" + markdown_table(trials, md_cols))

    fig, ax = plt.subplots(figsize=(7, 4))
    plot_val_loss(trials, ax=ax, baseline_val_loss=(baseline or {}).get("val_loss"))
    ax.set_title(f"PELS-VAE {config.tuner} search: validation loss per trial")
    fig.tight_layout()
    paths["plot"] = save_figure(fig, out_dir / "val_loss_per_trial.png", dpi=120)

    best = best_trial(trials)
    values = trial_values(out_dir / PROJECT_NAME, best["trial_id"])
    best_info = {
        "trial_id": best["trial_id"],
        "val_loss": float(best["val_loss"]),
        "best_epoch": _py(best["best_epoch"]),
        "values": values,
    }
    paths["best_hyperparameters"] = atomic_write_text(
        out_dir / "best_hyperparameters.json", json.dumps(best_info, indent=2) + "\n"
    )
    cfg = training_config(hypermodel, values, config.final_epochs or config.epochs)
    paths["best_config"] = atomic_write_text(
        out_dir / "best_config.json", json.dumps(cfg, indent=2, sort_keys=True) + "\n"
    )

    rows = []
    for name in HP_COLUMNS:
        if name == "dilation_base" or (name not in PAPER_BEST and name not in values):
            continue
        rows.append(
            {
                "hyperparameter": name,
                "paper best": _fmt(PAPER_BEST.get(name)),
                "source": "Table 2" if name in PAPER_TABLE2_BEST else "reference code",
                "search best": _fmt(values.get(name)),
            }
        )
    table = pd.DataFrame(rows)
    n_done = int((trials["status"] == "COMPLETED").sum())
    lines = [
        "# Hyperparameter search summary",
        "",
        f"- tuner: {config.tuner}, objective: {config.objective} (minimised), epochs per trial: {config.epochs}",
        f"- trials: {len(trials)} ({n_done} completed, {len(trials) - n_done} failed/other)",
        f"- best trial: {best['trial_id']}, validation loss {float(best['val_loss']):.5g} at epoch {best_info['best_epoch']}",
    ]
    if baseline is not None:
        bl = baseline.get("val_loss")
        if bl is not None and math.isfinite(bl):
            lines.append(
                f"- paper's best configuration trained with the same data and {baseline['epochs']} epochs: "
                f"validation loss {bl:.5g} (search best / paper = {float(best['val_loss']) / bl:.3f})"
            )
        else:
            lines.append(f"- paper's best configuration: {baseline.get('status')} ({baseline.get('message', '')})")
    lines += ["", "## Paper's best values beside the search's best", "", markdown_table(table)]
    lines += ["Ready training config: `best_config.json` (`pelsvae train --config best_config.json`).", ""]
    paths["summary"] = atomic_write_text(out_dir / "summary.md", "\n".join(lines))
    return paths


def trial_values(project_dir: str | Path, trial_id: str) -> dict[str, Any]:
    """The active Table 2 hyperparameter values of one trial (Hyperband's ``tuner/*`` left out)."""
    path = Path(project_dir) / f"trial_{trial_id}" / "trial.json"
    if not path.exists():
        raise FileNotFoundError(f"trial {trial_id}: {path} does not exist")
    values = json.loads(path.read_text())["hyperparameters"]["values"]
    return {k: v for k, v in values.items() if k in HP_COLUMNS and v is not None}


def _py(v: Any) -> Any:
    """numpy/pandas scalar -> plain Python (None for NaN / missing)."""
    if v is None or v is pd.NA:
        return None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return None if math.isnan(float(v)) else float(v)
    return v
