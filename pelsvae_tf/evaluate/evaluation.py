"""The evaluation report of a trained run: ``pelsvae evaluate RUN_DIR [--out DIR]``.

:func:`evaluate` writes a report folder (default ``RUN_DIR/report/``) that shows whether a model
is any good without reading code:

- ``loss_curves.png`` (paper Fig. 4): train / validation curve of every loss term (history.csv);
- ``reconstructions.png`` (Fig. 5/7): three test stars per class, observed vs decoded, folded;
- ``latent_pairs.png`` and ``latent_vs_physics.png`` (Fig. 6): latent means coloured by class,
  and every latent dimension against every physical parameter;
- ``feature_distributions.png``: shape-feature histograms, held-out real vs generated, per class;
- ``confusion_tstr.png``: confusion matrices train-on-real vs train-on-synthetic (test on real);
- Table 3 (out-of-sample latent RMSE per regressor, from ``RUN_DIR/regressors/table3.csv``) and
  Fig. 8 (RR Lyrae Teff sweep, :func:`pelsvae_tf.evaluate.physics_recovery.physics_recovery`);
- with ``--real-eros1 DIR`` (``EvalConfig.real_eros1``), a "Realism against EROS-1" section
  (``metrics["realism"]``, :mod:`pelsvae_tf.evaluate.realism`): generated curves of the classes shared with
  EROS-1 at an EROS-1-like cadence and error model vs real EROS-1 LMC curves (per-class C2ST AUC,
  feature KS, train-on-generated / test-on-EROS-1 balanced accuracy next to train-on-EROS-1);
- the spread of R21 / phi31 at fixed physics, generated / data (RR Lyrae and classical Cepheids,
  :func:`pelsvae_tf.evaluate.spread.spread_at_fixed_physics`; 1 = the real spread, 0 = one shape per
  physics vector);
- ``metrics.json`` with every number, and ``report.md`` that shows them with the figures.

Metrics (see :mod:`pelsvae_tf.evaluate.metrics`): error-weighted reconstruction RMSE per class on the test
split (scaled magnitude, and magnitudes via each star's range) next to a flat-curve baseline
(each star predicted by its own mean); per class, between generated and held-out (test) real
curves: Lomb-Scargle period recovery at a survey-like cadence, KS and Wasserstein distances of the
amplitude in magnitudes and the Fourier shape parameters, and a classifier two-sample AUC
(0.5 = indistinguishable); train-on-synthetic / test-on-real accuracy vs train-on-real.

Generated curves come from :meth:`pelsvae_tf.generate.generator.Generator.generate`, the user-facing path
(physical parameters, period, mean magnitude and amplitude of real *training* stars of the class,
plus the U(0,1) dummy, -> fitted regressor -> latent -> decoder -> magnitudes) or, with
``EvalConfig(generation="prior")`` and for classes the regressor never saw, from latents drawn
from the N(0, I) prior. No held-out star informs generation. For the distribution match and
TSTR they are observed like the prepared real curves (``seq_len`` random times over
``EvalConfig.folded_baseline`` days, folded, noise and intrinsic jitter, min-max scaled on the
noisy points), so a classifier cannot tell them apart by sampling alone. The folder is written atomically: an interrupted evaluation leaves the
previous report intact, and re-running it starts over (it takes about a minute on a small run).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from pelsvae_tf.atomic import atomic_dir, atomic_write_text
from pelsvae_tf.evaluate.config import LOSS_TERMS, EvalConfig  # noqa: F401  (public here)
from pelsvae_tf.evaluate.distribution import COMPARED_FEATURES, _distribution_match, _period_recovery
from pelsvae_tf.evaluate.eros1_realism import EROS1_EPOCHS, EROS1_YEARS, _check_real_eros1, _realism_eros1  # noqa: F401
from pelsvae_tf.evaluate.figures import _fig_confusion, _fig_features, _fig_latents, _fig_loss, _fig_reconstructions
from pelsvae_tf.evaluate.generation import _ensure_regressors, _generate
from pelsvae_tf.evaluate.reconstruction import _reconstruction
from pelsvae_tf.evaluate.regressor_sections import _physics_recovery, _spread, _table3
from pelsvae_tf.evaluate.report import _generation_summary, _report_md
from pelsvae_tf.evaluate.runview import _open_run, _RunView
from pelsvae_tf.evaluate.tstr import _tstr
from pelsvae_tf.textio import from_jsonable_nan, to_jsonable, write_json

#: Stages of :func:`evaluate` (progress bar and ``metrics.json["stage_seconds"]``).
_STAGES: tuple[str, ...] = (
    "load run",
    "loss curves",
    "reconstruction",
    "latents",
    "generation",
    "period recovery",
    "distribution match",
    "train-on-synthetic",
    "table 3",
    "physics recovery",
    "realism (EROS-1)",
    "spread at fixed physics",
    "report",
)


def evaluate(
    run_dir: str | Path,
    out_dir: str | Path | None = None,
    config: EvalConfig | None = None,
    progress: bool = True,
) -> dict:
    """Write the evaluation report of a trained run and return its metrics.

    Args:
        run_dir: a ``pelsvae train`` run directory (config.json, model.keras, history.csv,
            latents.npz; the prepared dataset named by its ``data_dir`` must exist).
        out_dir: report folder (default ``run_dir/report``); replaced atomically when complete.
        config: sample sizes and options (:class:`EvalConfig`; defaults keep a small run ~1 min).
        progress: show a tqdm bar over the evaluation stages.

    Returns:
        The metrics dict also written to ``out_dir/metrics.json`` (RMSE in scaled magnitude and in
        mag, periods in days, AUC and accuracies as fractions).
    """

    t_start = time.perf_counter()
    cfg = config or EvalConfig()
    if not isinstance(cfg, EvalConfig):
        raise ValueError(f"config must be an EvalConfig, got {type(cfg).__name__}")
    run_dir = Path(run_dir)
    out_dir = Path(out_dir) if out_dir is not None else run_dir / "report"
    stages = _STAGES

    stage_seconds: dict[str, float] = {}
    t_last = [time.perf_counter()]

    def step(name: str) -> None:
        now = time.perf_counter()
        stage_seconds[name] = round(now - t_last[0], 3)
        t_last[0] = now
        bar.set_postfix_str(name)
        bar.update(1)

    notes: list[str] = []
    _check_real_eros1(cfg)
    view = _open_run(run_dir)
    hist_path = run_dir / "history.csv"
    if not hist_path.exists():
        raise FileNotFoundError(f"{hist_path} is missing; `pelsvae train` writes it every epoch")
    bar = tqdm(total=len(stages), desc="evaluate", disable=not progress, unit="stage")
    step(stages[0])
    history = pd.read_csv(hist_path)
    figures = {
        "loss": "loss_curves.png",
        "reconstructions": "reconstructions.png",
        "latent_pairs": "latent_pairs.png",
        "latent_vs_physics": "latent_vs_physics.png",
        "features": "feature_distributions.png",
        "confusion": "confusion_tstr.png",
    }
    try:
        metrics = _write_report(view, cfg, history, out_dir, figures, notes, step, t_start, stage_seconds)
    finally:
        bar.close()
    return metrics


def _write_report(
    view: _RunView,
    cfg: EvalConfig,
    history,
    out_dir: Path,
    figures: dict,
    notes: list,
    step,
    t_start: float,
    stage_seconds: dict,
) -> dict:
    """Compute every metric and figure into a temporary folder that atomically becomes ``out_dir``."""

    run_dir = view.run_dir
    stages = _STAGES
    with atomic_dir(out_dir) as tmp:
        terms = _fig_loss(history, tmp / figures["loss"])
        step(stages[1])
        rng = np.random.default_rng(cfg.seed)
        rec, rec_fig = _reconstruction(view, cfg, rng)
        _fig_reconstructions(rec_fig, view.classes, tmp / figures["reconstructions"], cfg.n_recon_per_class)
        step(stages[2])
        latent_info = _fig_latents(view, tmp / figures["latent_pairs"], tmp / figures["latent_vs_physics"])
        step(stages[3])
        use_reg = False
        if cfg.generation in ("auto", "regressor"):
            use_reg = _ensure_regressors(view, cfg, notes)
            if cfg.generation == "regressor" and not use_reg:
                raise FileNotFoundError(
                    f"EvalConfig.generation='regressor' but {run_dir / 'regressors' / cfg.regressor} does not exist; "
                    f"run `pelsvae regress {run_dir}` or use generation='prior'"
                )
        gen = _generate(view, cfg, use_reg)
        step(stages[4])
        train = view.dataset.arrays("train")
        train_periods = {c: train["period"][train["label"] == c] for c in range(len(view.classes))}
        periods = _period_recovery(gen["survey"], view.classes, train_periods, cfg, np.random.default_rng(cfg.seed + 2))
        step(stages[5])
        test = view.dataset.arrays("test")
        held = np.flatnonzero(test["is_real"].astype(bool))
        held_out = {k: test[k][held] for k in ("phase", "mag", "mag_range", "period", "label")}
        dist, feats = _distribution_match(
            gen["folded"], held_out, view.classes, cfg, np.random.default_rng(cfg.seed + 3)
        )
        _fig_features(feats, tmp / figures["features"])
        step(stages[6])
        tstr = _tstr(gen["folded"], view, cfg, np.random.default_rng(cfg.seed + 4))
        _fig_confusion(tstr, view.classes, tmp / figures["confusion"])
        step(stages[7])
        table3 = _table3(view, notes)
        if table3 is None and use_reg:
            notes.append("regressors exist but table3.csv does not")
        step(stages[8])
        phys_rec = None
        if cfg.physics_recovery and use_reg:
            phys_rec = _physics_recovery(view, tmp, notes)
        elif cfg.physics_recovery:
            notes.append("physics recovery (Fig. 8) needs fitted regressors; skipped")
        step(stages[9])
        realism, realism_md = None, ""
        eros_dir = _check_real_eros1(cfg)
        if eros_dir is not None:
            realism, realism_md = _realism_eros1(view, cfg, use_reg, eros_dir, notes)
        step("realism (EROS-1)")
        spread = _spread(view, cfg, notes) if use_reg else None
        step("spread at fixed physics")
        mc = view.run.model.model_config
        metrics = {
            "run_dir": str(run_dir),
            "out_dir": str(out_dir),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "seconds": time.perf_counter() - t_start,
            "stage_seconds": stage_seconds,
            "model": f"{'cVAE-P' if mc.physics else 'cVAE'} {mc.arch} latent {mc.latent_dim}, loss {mc.loss}",
            "classes": list(view.classes),
            "config": cfg.to_dict(),
            "loss_terms": terms,
            "final_epoch": {k: float(v) for k, v in history.iloc[-1].items() if np.isscalar(v)},
            "reconstruction": rec,
            "latents": latent_info,
            "generation": {
                "per_class_source": gen["source"],
                "n_per_class": cfg.n_generated_per_class,
                "path": "pelsvae_tf.generate.generator.Generator.generate" if use_reg else "decoder on N(0, I) latents",
                "sampling": f"distribution match and TSTR: {view.dataset.seq_len} random times over "
                f"{cfg.folded_baseline:g} d per curve, folded (the prepared real curves' point count), "
                f"noise and intrinsic jitter, min-max scaled on the noisy "
                f"points like the real curves; features {list(COMPARED_FEATURES)}",
                "cadence": f"period recovery: {cfg.n_period_checks_per_class} curves per class, survey-like, "
                f"{cfg.cadence_epochs} epochs over {cfg.cadence_baseline:g} d, "
                f"{cfg.cadence_season:g} d seasons",
                "noise": cfg.add_noise,
            },
            "period_recovery": periods,
            "distribution_match": dist,
            "tstr": tstr,
            "table3": None if table3 is None else table3.to_dict(orient="records"),
            "physics_recovery": phys_rec,
            "realism": realism,
            "spread": spread,
            "figures": figures,
            "notes": notes,
        }
        metrics = to_jsonable(metrics)
        metrics["out_dir"] = str(out_dir)
        report_view = dict(
            metrics,
            out_dir=str(tmp),
            generation=_generation_summary(gen["source"]),
            generation_detail=metrics["generation"],
        )
        atomic_write_text(tmp / "report.md", _report_md(from_jsonable_nan(report_view), table3, figures, realism_md))
        write_json(tmp / "metrics.json", metrics, indent=1)
        step(stages[-1])
    return metrics
