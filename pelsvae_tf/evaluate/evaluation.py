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
TSTR they are observed like the prepared real curves (``seq_len`` random phases, noise, min-max
scaled on the noisy points), so a classifier cannot tell them apart by sampling alone. The folder is written atomically: an interrupted evaluation leaves the
previous report intact, and re-running it starts over (it takes about a minute on a small run).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from pelsvae_tf.evaluate import metrics as M
from pelsvae_tf.config import ConfigBase

#: Stages of :func:`evaluate` (progress bar and ``metrics.json["stage_seconds"]``).
_STAGES: tuple[str, ...] = ("load run", "loss curves", "reconstruction", "latents", "generation",
                            "period recovery", "distribution match", "train-on-synthetic", "table 3",
                            "physics recovery", "realism (EROS-1)", "spread at fixed physics", "report")
#: Loss terms drawn in the loss-curve figure when present in history.csv.
LOSS_TERMS: tuple[str, ...] = ("loss", "recon", "kl", "err_kl")
#: Features compared between generated and real curves: the shape features of the min-max scaled
#: curves (metrics.SHAPE_FEATURE_NAMES), the Fourier amplitude in magnitudes ("amplitude_mag") and
#: log10 of the period in days ("log10_period").
COMPARED_FEATURES: tuple[str, ...] = M.FEATURE_NAMES_WITH_MAG + ("log10_period",)


@dataclasses.dataclass
class EvalConfig(ConfigBase):
    """Sample sizes and options of :func:`evaluate`.

    Attributes:
        seed: seeds every random choice (star selection, cadences, noise, latent draws, classifiers).
        n_recon_per_class: test stars per class drawn in the reconstruction figure.
        max_test_per_class: at most this many test stars per class enter the reconstruction RMSE.
        n_generated_per_class: generated curves per class (distribution match and TSTR).
        max_real_per_class: at most this many real curves per class (held-out for the distribution
            match; real training stars for train-on-real).
        generation: ``"regressor"`` (paper: physics -> fitted regressor -> latent) or ``"prior"``
            (latent ~ N(0, I)); ``"auto"`` uses the regressor when one is fitted or can be fitted.
        regressor: which fitted regressor generates (``"forest"``, ``"linear"``, ``"mlp"``).
        fit_regressors_if_missing: fit the regressors (``pelsvae regress`` defaults) when the run has none.
        cadence_epochs: epochs of the survey-like cadence of the period-recovery curves (the
            distribution match and TSTR observe generated curves at the dataset's ``seq_len``
            random phases, like the real curves).
        cadence_baseline: its baseline in days.
        cadence_season: observable days per year (seasonal gaps) of that cadence.
        add_noise: add N(0, decoded error) noise to generated curves, as observed curves have.
        n_period_checks_per_class: curves per class generated at the survey cadence whose period
            Lomb-Scargle searches.
        period_rtol: relative tolerance for a recovered period.
        n_harmonics: harmonics of the Fourier fits (>= 3).
        classifier: ``"forest"`` or ``"logistic"`` for the two-sample test and TSTR.
        c2st_folds: folds of the two-sample test.
        err_floor: smallest scaled error used in the weighted RMSE (scaled-magnitude units).
        physics_recovery: run the RR Lyrae Teff sweep (paper Fig. 8) when a regressor exists.
        batch_size: curves per encoder/decoder call.
        real_eros1: EROS-1 LMC folder in the RAMP layout (``train.csv``, ``test.csv``,
            ``*_varlength_features.csv.gz``; :func:`pelsvae_tf.data.readers.read_eros1`) or None.
            Given, the report gets a "Realism against EROS-1" section (:mod:`pelsvae_tf.evaluate.realism`):
            generated curves of the classes shared with EROS-1 (RRLYR, CEP, ECL, LPV),
            ``n_generated_per_class`` each, observed at an EROS-1-like cadence and error model,
            against at most ``max_real_per_class`` red-band EROS-1 stars per class.
    """

    seed: int = 0
    n_recon_per_class: int = 3
    max_test_per_class: int = 500
    n_generated_per_class: int = 100
    max_real_per_class: int = 300
    generation: str = "auto"
    regressor: str = "mlp"  # = pelsvae_tf.generate.generator.DEFAULT_REGRESSOR (tested)
    fit_regressors_if_missing: bool = True
    cadence_epochs: int = 150
    cadence_baseline: float = 1000.0
    cadence_season: float = 240.0
    add_noise: bool = True
    n_period_checks_per_class: int = 20
    period_rtol: float = 0.01
    n_harmonics: int = 3
    classifier: str = "forest"
    c2st_folds: int = 5
    err_floor: float = 1e-3
    physics_recovery: bool = True
    batch_size: int = 512
    real_eros1: str | None = None

    def __post_init__(self):
        if isinstance(self.real_eros1, Path):
            self.real_eros1 = str(self.real_eros1)
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the field for an impossible setting."""
        positive = (
            "n_recon_per_class", "max_test_per_class", "n_generated_per_class", "max_real_per_class",
            "cadence_epochs", "n_period_checks_per_class", "batch_size",
        )
        for name in positive:
            if int(getattr(self, name)) < 1:
                raise ValueError(f"EvalConfig.{name} must be >= 1 (got {getattr(self, name)})")
        if self.generation not in ("auto", "regressor", "prior"):
            raise ValueError(f"EvalConfig.generation must be 'auto', 'regressor' or 'prior' (got {self.generation!r})")
        if self.regressor not in ("density", "forest", "linear", "mlp"):
            raise ValueError(f"EvalConfig.regressor must be 'density', 'forest', 'linear' or 'mlp' "
                             f"(got {self.regressor!r})")
        if self.classifier not in ("forest", "logistic"):
            raise ValueError(f"EvalConfig.classifier must be 'forest' or 'logistic' (got {self.classifier!r})")
        if not self.cadence_baseline > 0 or not self.cadence_season > 0:
            raise ValueError("EvalConfig.cadence_baseline and cadence_season must be > 0 days")
        if not 0 < self.period_rtol < 1:
            raise ValueError(f"EvalConfig.period_rtol must be in (0, 1) (got {self.period_rtol})")
        if int(self.n_harmonics) < 3:
            raise ValueError(f"EvalConfig.n_harmonics must be >= 3 (got {self.n_harmonics})")
        if int(self.c2st_folds) < 2:
            raise ValueError(f"EvalConfig.c2st_folds must be >= 2 (got {self.c2st_folds})")
        if not self.err_floor > 0:
            raise ValueError(f"EvalConfig.err_floor must be > 0 (got {self.err_floor})")
        if self.real_eros1 is not None and not isinstance(self.real_eros1, (str, Path)):
            raise ValueError(f"EvalConfig.real_eros1 must be a directory path or None (got {self.real_eros1!r})")


# --------------------------------------------------------------------------------------------
# Run access
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class _RunView:
    """What the evaluation needs from a run directory."""

    run_dir: Path
    run: Any  # pelsvae_tf.train.trainer.Run
    encoder: Any
    decoder: Any
    classes: tuple[str, ...]
    physics: tuple[str, ...]  # the encoder's physical parameters ( () for a cVAE )
    physics_scaler: Any
    dataset: Any  # PreparedDataset
    config_json: dict


def _open_run(run_dir: Path) -> _RunView:
    from pelsvae_tf.data.dataset import PreparedDataset
    from pelsvae_tf.train import load_run

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run directory {run_dir} does not exist; train one with `pelsvae train`")
    cfg_path = run_dir / "config.json"
    if not cfg_path.exists():
        raise FileNotFoundError(f"{cfg_path} is missing: {run_dir} is not a `pelsvae train` run directory")
    config_json = json.loads(cfg_path.read_text())
    run = load_run(run_dir)
    data_dir = config_json.get("data_dir")
    if not data_dir:
        raise ValueError(f"{cfg_path} has no 'data_dir': cannot find the test split to evaluate on")
    data_path = Path(data_dir)
    if not data_path.is_absolute() and not data_path.exists():
        data_path = (run_dir / data_path).resolve()
    if not (data_path / "schema.json").exists():
        raise FileNotFoundError(
            f"prepared dataset {data_path} (data_dir of {cfg_path}) is missing; the report needs its "
            f"test split — re-run `pelsvae prepare` to that path or edit data_dir"
        )
    model = run.model
    mc = model.model_config
    return _RunView(
        run_dir=run_dir,
        run=run,
        encoder=run.encoder,
        decoder=run.decoder,
        classes=tuple(run.classes),
        physics=tuple(mc.physics),
        physics_scaler=run.physics_scaler,
        dataset=PreparedDataset(data_path),
        config_json=config_json,
    )


def _onehot(labels: np.ndarray, n: int) -> np.ndarray:
    return np.eye(n, dtype=np.float32)[np.asarray(labels, dtype=int)]


def _batched(fn, inputs: dict[str, np.ndarray], batch: int) -> dict[str, np.ndarray]:
    """Call a Keras model on numpy dict inputs in batches; concatenate the numpy outputs."""
    n = len(next(iter(inputs.values())))
    outs: dict[str, list[np.ndarray]] = {}
    for s in range(0, n, batch):
        res = fn({k: v[s : s + batch] for k, v in inputs.items()}, training=False)
        for k, v in res.items():
            outs.setdefault(k, []).append(np.asarray(v))
    return {k: np.concatenate(v) for k, v in outs.items()}


def _encode(view: _RunView, a: dict[str, np.ndarray], idx: np.ndarray, batch: int) -> dict[str, np.ndarray]:
    inputs = {
        "phase": a["phase"][idx].astype(np.float32),
        "mag": a["mag"][idx].astype(np.float32),
        "err": a["err"][idx].astype(np.float32),
        "class_onehot": _onehot(a["label"][idx], len(view.classes)),
    }
    if view.physics:
        cols = [view.dataset.physics_columns.index(p) for p in view.physics]
        inputs["phys"] = view.physics_scaler.transform(a["phys"][idx][:, cols], view.physics).astype(np.float32)
    return _batched(view.encoder, inputs, batch)


def _decode(view: _RunView, z: np.ndarray, labels: np.ndarray, phase: np.ndarray, batch: int) -> dict[str, np.ndarray]:
    """Scaled ``mag``/``err`` [n, T] of latents ``z`` at ``phase`` [n, T] (any order): the curves'
    phase functions (:class:`~pelsvae_tf.generate.phase_function.PhaseFunction`, the generator's path), in
    batches of ``batch`` curves."""
    if "_phase_function" not in view.__dict__:
        from pelsvae_tf.generate.phase_function import PhaseFunction

        view.__dict__["_phase_function"] = PhaseFunction(view.decoder, n_grid=int(view.dataset.seq_len),
                                                         model_config=view.run.model.model_config)
    pf = view.__dict__["_phase_function"]
    z = np.asarray(z, np.float32)
    onehot = _onehot(labels, len(view.classes))
    phase = np.asarray(phase, np.float32)
    outs: dict[str, list[np.ndarray]] = {}
    for s in range(0, len(z), batch):
        for k, v in pf.scaled_np(z[s:s + batch], onehot[s:s + batch], phase[s:s + batch]).items():
            outs.setdefault(k, []).append(v)
    return {k: np.concatenate(v) for k, v in outs.items()}


def _pick(rng: np.random.Generator, idx: np.ndarray, k: int) -> np.ndarray:
    """Up to ``k`` of ``idx`` without replacement, in ascending order (seeded)."""
    if len(idx) <= k:
        return np.asarray(idx)
    return np.sort(rng.choice(idx, size=k, replace=False))


# --------------------------------------------------------------------------------------------
# Reconstruction
# --------------------------------------------------------------------------------------------


def _reconstruction(view: _RunView, cfg: EvalConfig, rng: np.random.Generator) -> tuple[dict, dict]:
    """Weighted RMSE per class on real test stars; returns (metrics, data for the figure)."""
    a = view.dataset.arrays("test")
    usable = a["is_real"].astype(bool)
    dropped_physics = 0
    if view.physics:
        has = view.dataset.physics_mask("test", view.physics)
        dropped_physics = int(np.sum(usable & ~has))
        usable &= has
    idx = np.concatenate([
        _pick(rng, np.flatnonzero(usable & (a["label"] == c)), cfg.max_test_per_class)
        for c in range(len(view.classes))
    ]).astype(int)
    if len(idx) == 0:
        raise ValueError(
            "the test split has no real star the model can encode"
            + (f" (all lack one of {view.physics})" if view.physics else "")
        )
    enc = _encode(view, a, idx, cfg.batch_size)
    dec = _decode(view, enc["z_mean"], a["label"][idx], a["phase"][idx], cfg.batch_size)
    w_scaled = M.weighted_rmse(a["mag"][idx], dec["mag"], a["err"][idx], err_floor=cfg.err_floor)
    plain = M.rmse(a["mag"][idx], dec["mag"])
    w_mag = w_scaled * a["mag_range"][idx].astype(np.float64)  # scaled -> magnitudes
    # flat-curve baseline: each star predicted by its own (error-weighted) mean magnitude
    flat = M.flat_baseline_rmse(a["mag"][idx], a["err"][idx], err_floor=cfg.err_floor)
    flat_mag = flat * a["mag_range"][idx].astype(np.float64)
    per_class = {}
    for c, name in enumerate(view.classes):
        m = a["label"][idx] == c
        if not np.any(m):
            per_class[name] = {"n": 0}
            continue
        per_class[name] = {
            "n": int(m.sum()),
            "weighted_rmse_scaled": M.summarize(w_scaled[m]),
            "weighted_rmse_mag": M.summarize(w_mag[m]),
            "rmse_scaled": M.summarize(plain[m]),
            "flat_baseline_weighted_rmse_scaled": M.summarize(flat[m]),
            "fraction_beating_flat": float(np.mean(w_scaled[m] < flat[m])),
        }
    out = {
        "split": "test",
        "n_stars": int(len(idx)),
        "n_dropped_missing_physics": dropped_physics,
        "latent": "z_mean (deterministic)",
        "units": "weighted_rmse_scaled: fraction of each star's magnitude range; weighted_rmse_mag: mag; "
                 "fraction_beating_flat: share of stars whose model error is below the flat baseline's",
        "overall": {
            "weighted_rmse_scaled": M.summarize(w_scaled),
            "weighted_rmse_mag": M.summarize(w_mag),
            "rmse_scaled": M.summarize(plain),
        },
        "baseline_flat": {
            "description": "each test star predicted by its own error-weighted mean (a flat curve): the best "
                           "constant under the weighted RMSE; a model that learnt any shape beats it",
            "weighted_rmse_scaled": M.summarize(flat),
            "weighted_rmse_mag": M.summarize(flat_mag),
        },
        "fraction_beating_flat": float(np.mean(w_scaled < flat)),
        "ratio_to_flat_median": float(np.median(w_scaled) / np.median(flat)) if np.median(flat) > 0 else float("nan"),
        "per_class": per_class,
    }
    # stars for the figure: n_recon_per_class per class, decoded on a fine phase grid
    fig_idx, fig_pos = [], []
    for c in range(len(view.classes)):
        pos = np.flatnonzero(a["label"][idx] == c)
        chosen = _pick(rng, pos, cfg.n_recon_per_class)
        fig_pos.extend(chosen.tolist())
        fig_idx.extend(idx[chosen].tolist())
    grid = np.linspace(0, 1, 200, endpoint=False, dtype=np.float32)
    fig = {"rows": []}
    if fig_idx:
        fi = np.asarray(fig_idx)
        fp = np.asarray(fig_pos)
        dense = _decode(view, enc["z_mean"][fp], a["label"][fi], np.tile(grid, (len(fi), 1)), cfg.batch_size)
        for k, (i, p) in enumerate(zip(fi, fp)):
            fig["rows"].append(dict(
                label=int(a["label"][i]), star_id=str(a["star_id"][i]), phase=a["phase"][i], mag=a["mag"][i],
                err=a["err"][i], grid=grid, mag_model=dense["mag"][k], err_model=dense["err"][k],
                wrmse=float(w_scaled[p]),
            ))
    return out, fig


# --------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------


def _regressor_available(run_dir: Path, kind: str) -> bool:
    return (run_dir / "regressors" / kind).exists()


def _ensure_regressors(view: _RunView, cfg: EvalConfig, notes: list[str]) -> bool:
    """True when ``cfg.regressor`` is fitted (fitting it when allowed)."""
    if _regressor_available(view.run_dir, cfg.regressor):
        return True
    if not cfg.fit_regressors_if_missing:
        return False
    try:
        from pelsvae_tf.regress.regressors import fit_regressors
    except ImportError as exc:  # regressor module absent in this install
        notes.append(f"regressors unavailable ({exc}); generation used the N(0, I) prior")
        return False
    fit_regressors(view.run_dir)
    notes.append("regressors were missing and were fitted with `pelsvae regress` defaults")
    return _regressor_available(view.run_dir, cfg.regressor)


def _make_generator(view: _RunView, cfg: EvalConfig, use_regressor: bool = True):
    """The run's :class:`~pelsvae_tf.generate.generator.Generator` (the user-facing generation path) with
    regressor ``cfg.regressor`` (or none: latents given), sharing the loaded decoder and scaler.

    One regressor-free generator is built per run view; the others are its
    :meth:`~pelsvae_tf.generate.generator.Generator.with_regressor` copies, so every stage shares one
    :class:`~pelsvae_tf.generate.phase_function.PhaseFunction` (traced once)."""
    from pelsvae_tf.generate.generator import Generator
    from pelsvae_tf.regress.regressors import _train_stats_current, write_train_stats

    if "_generator" not in view.__dict__:
        stats_path = view.run_dir / "regressors" / "train_stats.npz"
        if not _train_stats_current(stats_path):
            write_train_stats(view.run_dir)
        with np.load(stats_path, allow_pickle=False) as f:
            stats = {k: f[k] for k in f.files}
        view.__dict__["_generator"] = Generator(view.decoder, None, view.classes, view.physics_scaler, stats,
                                                n_grid=int(view.dataset.seq_len),
                                                model_config=view.run.model.model_config)
        # one phase function per run view: the reconstruction stage's (_decode) if it ran first
        pf = view.__dict__.setdefault("_phase_function", view.__dict__["_generator"].phase_function)
        view.__dict__["_generator"].phase_function = pf
    base = view.__dict__["_generator"]
    return base.with_regressor(_load_regressor_cached(view, cfg.regressor) if use_regressor else None)


def _load_regressor_cached(view: _RunView, kind: str):
    cache = view.__dict__.setdefault("_regressors", {})
    if kind not in cache:
        from pelsvae_tf.regress.regressors import load_regressor

        cache[kind] = load_regressor(view.run_dir / "regressors" / kind)
    return cache[kind]


def _class_curves(view: _RunView, cfg: EvalConfig, generator, c: int, n: int, cadence, seed: int,
                  use_regressor: bool) -> dict[str, np.ndarray] | None:
    """``n`` curves of class ``c`` observed at ``cadence``, in magnitudes, from ``generator``.

    With the regressor (``use_regressor``): :meth:`Generator.generate` (physics, period, mean
    magnitude and amplitude sampled from the class's training stars; noise when
    ``cfg.add_noise``). Otherwise :meth:`Generator.from_latents` with latents from the N(0, I)
    prior and period, model mean magnitude and model amplitude of the class's real training stars.
    Returns ``time`` [d], ``phase``, ``mag`` [mag], ``err`` [mag] ([n, T]), ``period`` [n] (d) and
    ``amplitude`` [n] (mag), or None when the class has no real training star.
    """
    import warnings

    rng = np.random.default_rng(seed)
    t0 = rng.uniform(0.0, 1000.0, n)
    if use_regressor:
        from pelsvae_tf.generate.generator import PhysicsRangeWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PhysicsRangeWarning)
            res = generator.generate(view.classes[c], n=n, cadence=cadence, seed=int(seed), t0=t0,
                                     noise=cfg.add_noise)
    else:
        st = generator.train_stats
        mm, amp = generator._meta_columns()
        real = (np.asarray(st["label"]) == c) & np.isfinite(mm) & np.isfinite(amp) & (amp > 0)
        real &= np.isfinite(np.asarray(st["period"], np.float64))
        if not np.any(real):
            return None
        d = int(view.run.model.model_config.latent_dim)
        z = rng.normal(size=(n, d)).astype(np.float32)
        pick = np.flatnonzero(real)[rng.integers(0, int(real.sum()), size=n)]
        res = generator.from_latents(z, view.classes[c], np.asarray(st["period"], np.float64)[pick], cadence, t0=t0,
                                     mag_mean=mm[pick], amplitude=amp[pick], seed=int(seed), noise=cfg.add_noise)
    return {"time": res.time, "phase": res.phase, "mag": res.mag, "err": res.err, "period": res.period,
            "amplitude": res.amplitude}


def _generate(view: _RunView, cfg: EvalConfig, use_regressor: bool) -> dict[str, Any]:
    """Generated curves of every class, two sets (no held-out star informs either).

    ``"folded"``: ``n_generated_per_class`` curves per class observed the way the prepared real
    curves are: ``seq_len`` random phases, noise, then min-max scaled per curve on the noisy
    points (:func:`pelsvae_tf.generate.augment.scale_like_prepared`); arrays ``phase`` (sorted),
    ``mag``/``err`` (scaled) [n, seq_len], ``mag_range`` [n] (mag, the scaling range), ``period`` [n]
    (d), ``label`` [n].
    Real and generated curves thus share point count, scaling and feature pipeline.

    ``"survey"``: ``n_period_checks_per_class`` curves per class at the survey-like cadence
    (``cadence_epochs`` epochs over ``cadence_baseline`` d) for period recovery: ``time`` [d],
    ``mag``/``err`` (divided by the curve's amplitude) [n, T], ``period`` [n] (d), ``label`` [n].

    Also ``"source"``: how each class was generated.
    """
    from pelsvae_tf.generate.augment import scale_like_prepared
    from pelsvae_tf.generate.cadence import Cadence, survey_cadence

    n = cfg.n_generated_per_class
    n_check = cfg.n_period_checks_per_class
    L = int(view.dataset.seq_len)
    generator = _make_generator(view, cfg, use_regressor)
    prior = _make_generator(view, cfg, use_regressor=False) if use_regressor else generator
    knows = set(generator.classes_with_physics) if use_regressor else set()
    folded: dict[str, list[np.ndarray]] = {k: [] for k in ("phase", "mag", "err", "mag_range", "period", "label")}
    survey: dict[str, list[np.ndarray]] = {k: [] for k in ("time", "mag", "err", "period", "label")}
    source: dict[str, str] = {}
    for c, name in enumerate(view.classes):
        g, with_reg = (generator, True) if name in knows else (prior, False)
        rng = np.random.default_rng([cfg.seed, 101, c])
        random_phases = Cadence.from_phases(np.sort(rng.uniform(0.0, 1.0, size=(n, L)), axis=1),
                                            f"{L} random phases")
        cur = _class_curves(view, cfg, g, c, n, random_phases, cfg.seed + 7 * c, with_reg)
        if cur is None:
            continue  # class absent from the training data
        source[name] = (f"regressor:{cfg.regressor}" if with_reg else
                        "prior N(0, I)" + (" (no training star with physics)" if use_regressor else ""))
        sc = scale_like_prepared(cur["phase"], cur["mag"], cur["err"])
        rng_range = np.ptp(cur["mag"], axis=1)
        folded["phase"].append(sc["phase"])
        folded["mag"].append(sc["mag"])
        folded["err"].append(sc["err"])
        folded["mag_range"].append(np.maximum(rng_range, 1e-6))
        folded["period"].append(np.asarray(cur["period"], np.float64))
        folded["label"].append(np.full(n, c))
        cad = survey_cadence(cfg.cadence_epochs, cfg.cadence_baseline, cfg.cadence_season,
                             seed=cfg.seed + 1000 + c, n_curves=n_check)
        sv = _class_curves(view, cfg, g, c, n_check, cad, cfg.seed + 7 * c + 3, with_reg)
        amp = sv["amplitude"][:, None]
        survey["time"].append(sv["time"])
        survey["mag"].append(sv["mag"] / amp)
        survey["err"].append(sv["err"] / amp)
        survey["period"].append(np.asarray(sv["period"], np.float64))
        survey["label"].append(np.full(n_check, c))
    if not folded["label"]:
        raise ValueError("the training split has no real star: nothing to condition generation on")
    return {"folded": {k: np.concatenate(v) for k, v in folded.items()},
            "survey": {k: np.concatenate(v) for k, v in survey.items()}, "source": source}


def _period_recovery(gen: dict, classes, train_periods: dict, cfg: EvalConfig, rng: np.random.Generator) -> dict:
    """Lomb-Scargle period recovery of generated curves at their cadence, per class.

    ``gen`` holds ``time`` [n, T] (d), ``mag``/``err`` [n, T], ``period`` [n] (d), ``label`` [n];
    ``train_periods`` maps a class index to the training periods (d) that set the search range.
    """
    out = {}
    for c, name in enumerate(classes):
        pos = np.flatnonzero(gen["label"] == c)
        if len(pos) == 0:
            continue
        pc = np.asarray(train_periods.get(c, []), dtype=np.float64)
        # search range: the class's training periods, widened by 2x on each side (days)
        lo = max(float(np.min(pc)) / 2 if len(pc) else 0.02, 0.02)
        hi = min(float(np.max(pc)) * 2 if len(pc) else cfg.cadence_baseline / 2, cfg.cadence_baseline)
        hi = max(hi, lo * 2)
        chosen = _pick(rng, pos, cfg.n_period_checks_per_class)
        found = np.array([
            M.lomb_scargle_period(gen["time"][i], gen["mag"][i], np.maximum(gen["err"][i], cfg.err_floor),
                                  min_period=lo, max_period=hi)
            for i in chosen
        ])
        true = gen["period"][chosen]
        out[name] = {
            "n": int(len(chosen)),
            "search_range_days": [lo, hi],
            "rate": float(np.mean(M.period_recovered(found, true, cfg.period_rtol))),
            "rate_with_half_double": float(np.mean(M.period_recovered(found, true, cfg.period_rtol, (0.5, 1.0, 2.0)))),
        }
    return out


def _features(d: dict[str, np.ndarray], idx: Any = slice(None), n_harmonics: int = 3) -> np.ndarray:
    """:data:`COMPARED_FEATURES` [n, 11] of the curves ``idx`` of ``d`` (``phase`` [n, T] cycles,
    ``mag`` [n, T] min-max scaled, ``mag_range`` [n] mag, ``period`` [n] d)."""
    f = M.shape_features_with_mag(d["phase"][idx], d["mag"][idx], d["mag_range"][idx], n_harmonics)
    return np.concatenate([f, np.log10(np.asarray(d["period"], np.float64)[idx])[:, None]], axis=1)


def _distribution_match(gen: dict, real: dict, classes, cfg: EvalConfig, rng: np.random.Generator) -> tuple[dict, dict]:
    """Per class: KS / Wasserstein of shape features and the two-sample AUC, real vs generated.

    ``gen`` and ``real`` hold ``phase`` [n, T] (cycles), ``mag`` [n, T] (min-max scaled per curve),
    ``mag_range`` [n] (mag, the scaling range), ``period`` [n] (d) and ``label`` [n]; features are
    :data:`COMPARED_FEATURES` (scaled shape + amplitude in mag + log10 period), for the KS / Wasserstein
    distances and the two-sample classifier alike.
    Returns (metrics per class, {class: (real features, generated features)}).
    """
    f_real_all = _features(real, n_harmonics=cfg.n_harmonics)
    f_gen_all = _features(gen, n_harmonics=cfg.n_harmonics)
    out, feats = {}, {}
    for c, name in enumerate(classes):
        rm = np.flatnonzero(real["label"] == c)
        rm = _pick(rng, rm, cfg.max_real_per_class)
        gm = np.flatnonzero(gen["label"] == c)
        if len(rm) < 2 or len(gm) < 2:
            out[name] = {"n_real": int(len(rm)), "n_generated": int(len(gm)), "skipped": "fewer than 2 curves"}
            continue
        fr, fg = f_real_all[rm], f_gen_all[gm]
        feats[name] = (fr, fg)
        entry: dict[str, Any] = {
            "n_real": int(len(rm)),
            "n_generated": int(len(gm)),
            "features": M.distribution_distances(fr, fg, COMPARED_FEATURES),
        }
        folds = min(cfg.c2st_folds, len(rm), len(gm))
        if folds >= 2:
            entry["c2st"] = M.c2st_auc(fr, fg, classifier=cfg.classifier, n_splits=folds, seed=cfg.seed)
        out[name] = entry
    return out, feats


def _tstr(gen: dict, view: _RunView, cfg: EvalConfig, rng: np.random.Generator) -> dict:
    """Train-on-synthetic / test-on-real vs train-on-real, :data:`COMPARED_FEATURES`, all classes.

    ``gen`` is the ``"folded"`` set of :func:`_generate` (observed and scaled like the real curves).
    """
    train = view.dataset.arrays("train")
    test = view.dataset.arrays("test")
    tr = np.flatnonzero(train["is_real"].astype(bool))
    tr = np.concatenate([_pick(rng, tr[train["label"][tr] == c], cfg.max_real_per_class)
                         for c in range(len(view.classes))]).astype(int)
    te = np.flatnonzero(test["is_real"].astype(bool))
    x_syn = _features(gen, n_harmonics=cfg.n_harmonics)
    x_tr = _features(train, tr, cfg.n_harmonics)
    x_te = _features(test, te, cfg.n_harmonics)
    res = M.tstr_accuracy(x_syn, gen["label"], x_tr, train["label"][tr], x_te, test["label"][te],
                          n_classes=len(view.classes), classifier=cfg.classifier, seed=cfg.seed)
    res["features"] = list(COMPARED_FEATURES)
    return res


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


#: EROS-1-like cadence of the realism check: epochs per curve (median of the shared EROS-1 red-band
#: light curves: 120) over three LMC seasons of the sky's ``survey="eros1"`` layout (baseline 842-878 d,
#: 5-95 %; real EROS-1 red band: median 894 d).
EROS1_EPOCHS = 120
EROS1_YEARS = 3


def _check_real_eros1(cfg: EvalConfig) -> Path | None:
    """``cfg.real_eros1`` as a Path, or None; ``FileNotFoundError`` naming the field when it is not
    an EROS-1 RAMP folder."""
    if cfg.real_eros1 is None:
        return None
    d = Path(cfg.real_eros1)
    missing = [f for f in ("train.csv", "test.csv", "train_varlength_features.csv.gz",
                           "test_varlength_features.csv.gz") if not (d / f).exists()]
    if not d.is_dir() or missing:
        raise FileNotFoundError(
            f"EvalConfig.real_eros1={cfg.real_eros1!r} (--real-eros1) is not an EROS-1 RAMP folder"
            + (f" (missing {missing})" if d.is_dir() else " (no such directory)")
            + "; point it at the folder holding train.csv, test.csv and *_varlength_features.csv.gz "
              "(e.g. shared/data/eros1_lmc_ramp), or leave it unset")
    return d


def _realism_eros1(view: _RunView, cfg: EvalConfig, use_regressor: bool, eros_dir: Path,
                   notes: list[str]) -> tuple[dict | None, str]:
    """Realism of the run's generated curves against real EROS-1 LMC curves (red band).

    For each class shared by the run and EROS-1, ``n_generated_per_class`` curves come from the
    run's :class:`~pelsvae_tf.generate.generator.Generator` (regressor when fitted for the class, else
    the N(0, I) prior) without the decoder's noise, observed at an EROS-1-like cadence
    (:data:`EROS1_EPOCHS` epochs over :data:`EROS1_YEARS` LMC seasons,
    :func:`pelsvae_tf.sky.ogle_cadence` with ``survey="eros1"``) and given EROS-1 photographic
    errors [mag] (:func:`pelsvae_tf.sky.eros1_error` of the model magnitude with the sky's
    per-point log-normal scatter), then compared with at most ``max_real_per_class`` EROS-1 stars
    per class by :func:`pelsvae_tf.evaluate.realism.realism_section`. Returns ``(metrics, markdown)``;
    ``(None, "")`` with a note when no class is shared.
    """
    from types import SimpleNamespace

    from pelsvae_tf.evaluate import realism as R
    from pelsvae_tf.generate.cadence import Cadence
    from pelsvae_tf.sky import ERROR_SCATTER_DEX, eros1_error, ogle_cadence

    eros_classes = ("CEP", "ECL", "LPV", "RRLYR")
    shared = [c for c in view.classes if c in eros_classes]
    if not shared:
        notes.append(f"realism against EROS-1 skipped: the run's classes {list(view.classes)} include none of "
                     f"EROS-1's {list(eros_classes)}")
        return None, ""
    real = R.curves_from_eros1(eros_dir, band="r", classes=shared, max_per_class=cfg.max_real_per_class,
                               seed=cfg.seed)
    shared = [c for c in shared if c in set(real.cls)]
    generator = _make_generator(view, cfg, use_regressor)
    prior = _make_generator(view, cfg, use_regressor=False) if use_regressor else generator
    knows = set(generator.classes_with_physics) if use_regressor else set()
    quiet = cfg.replace(add_noise=False)
    n = cfg.n_generated_per_class
    t, m, e, cl, per = [], [], [], [], []
    for name in shared:
        c = view.classes.index(name)
        g, with_reg = (generator, True) if name in knows else (prior, False)
        rng = np.random.default_rng([cfg.seed, 202, c])
        times = np.stack([ogle_cadence(rng, EROS1_EPOCHS, EROS1_YEARS, "mc", "eros1") for _ in range(n)])
        cad = Cadence.from_times(times, f"EROS-1-like: {EROS1_EPOCHS} epochs, {EROS1_YEARS} LMC seasons")
        cur = _class_curves(view, quiet, g, c, n, cad, cfg.seed + 7 * c + 5, with_reg)
        if cur is None:
            continue
        model = np.asarray(cur["mag"], np.float64)
        err = eros1_error(model) * 10 ** rng.normal(0, ERROR_SCATTER_DEX["eros1"], size=model.shape)
        t.append(np.asarray(cur["time"], np.float64))
        m.append(model + rng.normal(0, err) if cfg.add_noise else model)
        e.append(err)
        cl += [name] * n
        per.append(np.asarray(cur["period"], np.float64))
    if not cl:
        notes.append("realism against EROS-1 skipped: no training star of the shared classes to condition on")
        return None, ""
    gen = SimpleNamespace(time=np.concatenate(t), mag=np.concatenate(m), err=np.concatenate(e),
                          cls=np.asarray(cl), period=np.concatenate(per))
    curves = R.curves_from_generated(gen, name="generated")
    classes = sorted(set(cl) & set(real.cls))
    res, _ = R.realism_section(curves, real, classes, seed=cfg.seed)
    res["reference"] = {"path": str(eros_dir), "band": "r", "max_per_class": cfg.max_real_per_class}
    res["observation"] = (f"{n} generated curves per class, {EROS1_EPOCHS} epochs over {EROS1_YEARS} LMC "
                          f"seasons (sky survey='eros1' cadence), EROS-1 red-band error model"
                          + (", one noise draw" if cfg.add_noise else ", no noise"))
    md = ("## Realism against EROS-1\n\n"
          f"Generated: {res['observation']}. Real: EROS-1 LMC red band ({eros_dir}), at most "
          f"{cfg.max_real_per_class} stars per class. Features and tests: `pelsvae_tf.evaluate.realism`.\n\n"
          + R.markdown(res))
    return res, md


def _fig_loss(history, out: Path) -> list[str]:
    import matplotlib.pyplot as plt

    from pelsvae_tf.evaluate.plots import plot_loss_term, save_figure

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
    import matplotlib.pyplot as plt

    from pelsvae_tf.evaluate.plots import class_colour, plot_reconstruction, save_figure

    rows = fig_data["rows"]
    by_class: dict[int, list] = {}
    for r in rows:
        by_class.setdefault(r["label"], []).append(r)
    present = sorted(by_class)
    fig, axes = plt.subplots(len(present), n_per_class, figsize=(3.2 * n_per_class, 2.2 * len(present)),
                             squeeze=False)
    for i, c in enumerate(present):
        for j in range(n_per_class):
            ax = axes[i, j]
            if j >= len(by_class[c]):
                ax.axis("off")
                continue
            r = by_class[c][j]
            plot_reconstruction(r["phase"], r["mag"], r["err"], r["grid"], r["mag_model"], r["err_model"], ax=ax,
                                title=f"{classes[c]} {r['star_id']}  wRMSE={r['wrmse']:.3f}", colour=class_colour(c))
            if i < len(present) - 1:
                ax.set_xlabel("")
    fig.suptitle("Test stars: observed vs decoded, folded (paper Fig. 5/7 analogue)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    save_figure(fig, out)


def _fig_latents(view: _RunView, out_pairs: Path, out_phys: Path) -> dict:
    import matplotlib.pyplot as plt

    from pelsvae_tf.evaluate.plots import plot_latent_pair, plot_latent_vs_param, save_figure

    path = view.run_dir / "latents.npz"
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
    from pelsvae_tf.classes import PHYSICS_PARAMS

    phys_names = ("teff", "abs_gmag", "period")
    cols = list(view.dataset.physics_columns)
    phys = lat.get("phys")
    corr = {}
    fig, axes = plt.subplots(d, len(phys_names), figsize=(3.2 * len(phys_names), 2.3 * d), squeeze=False)
    for j, p in enumerate(phys_names):
        vals = phys[:, cols.index(p)] if phys is not None and phys.ndim == 2 and p in cols else np.full(len(z), np.nan)
        unit = PHYSICS_PARAMS[p][1]
        for i in range(d):
            plot_latent_vs_param(vals, z[:, i], lab, view.classes, f"{p} [{unit}]", f"z{i}", ax=axes[i, j],
                                 logx=(p == "period"))
            ok = np.isfinite(vals)
            if ok.sum() > 2:
                from scipy.stats import spearmanr

                x = np.log10(vals[ok]) if p == "period" else vals[ok]
                corr[f"z{i}~{p}"] = float(spearmanr(x, z[ok, i]).statistic)
    axes[0, 0].legend(fontsize=6, markerscale=2)
    fig.suptitle("Latent means vs physical parameters", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    save_figure(fig, out_phys)
    return {"n_stars": int(len(z)), "latent_dim": int(d), "spearman_latent_vs_physics": corr}


def _fig_features(feats: dict, out: Path) -> None:
    import matplotlib.pyplot as plt

    from pelsvae_tf.evaluate.plots import plot_feature_hist, save_figure

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
    import matplotlib.pyplot as plt

    from pelsvae_tf.evaluate.plots import plot_confusion_matrix, save_figure

    fig, axes = plt.subplots(1, 2, figsize=(9, 4.2))
    plot_confusion_matrix(np.array(tstr["confusion_trtr"]), classes, ax=axes[0],
                          title=f"train on real: acc {tstr['accuracy_trtr']:.2f}")
    plot_confusion_matrix(np.array(tstr["confusion_tstr"]), classes, ax=axes[1],
                          title=f"train on synthetic: acc {tstr['accuracy_tstr']:.2f}")
    fig.suptitle("Test on real held-out stars", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    save_figure(fig, out)


# --------------------------------------------------------------------------------------------
# Table 3 and Fig. 8 (regressor issue)
# --------------------------------------------------------------------------------------------


def _spread(view: _RunView, cfg: EvalConfig, notes: list[str]) -> dict | None:
    """Generated / data spread of R21 and phi31 at fixed physics for RRLYR and CEP (those the
    regressor knows), :func:`pelsvae_tf.evaluate.spread.spread_at_fixed_physics` on the training split."""
    import warnings

    from pelsvae_tf.generate.generator import PhysicsRangeWarning
    from pelsvae_tf.evaluate.spread import spread_at_fixed_physics

    generator = _make_generator(view, cfg, use_regressor=True)
    classes = [c for c in ("RRLYR", "CEP") if c in set(generator.classes_with_physics)]
    if not classes:
        notes.append("spread at fixed physics: no RRLYR or CEP training star with physics; skipped")
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PhysicsRangeWarning)
        return spread_at_fixed_physics(generator, view.dataset.arrays("train"), view.dataset.physics_columns,
                                       classes=classes, seed=cfg.seed)


def _table3(view: _RunView, notes: list[str]):
    import pandas as pd

    path = view.run_dir / "regressors" / "table3.csv"
    if not path.exists():
        notes.append(f"{path} missing: Table 3 not included (run `pelsvae regress {view.run_dir}`)")
        return None
    return pd.read_csv(path)


def _physics_recovery(view: _RunView, out_dir: Path, notes: list[str]) -> dict | None:
    try:
        from pelsvae_tf.evaluate.physics_recovery import physics_recovery
    except ImportError as exc:
        notes.append(f"physics recovery (Fig. 8) unavailable: {exc}")
        return None
    res = physics_recovery(view.run_dir, out_dir)
    # out_dir is the temporary folder that atomic_dir renames: keep paths relative to the report
    for key in ("json", "figure"):
        if key in res:
            res[key] = Path(res[key]).name
    return res


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def _fmt(x: Any, nd: int = 3) -> str:
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        return "nan" if not math.isfinite(float(x)) else f"{float(x):.{nd}f}"
    return str(x)


def _markdown_table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_fmt(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


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
        + (f", {rec['n_dropped_missing_physics']} without the model's physical parameters skipped." if rec["n_dropped_missing_physics"] else "."),
        "",
        _markdown_table(
            ["class", "n", "median wRMSE (scaled)", "mean wRMSE (scaled)", "median wRMSE (mag)",
             "flat baseline median (scaled)", "share beating flat"],
            [[c, rec["per_class"][c]["n"],
              rec["per_class"][c].get("weighted_rmse_scaled", {}).get("median", float("nan")),
              rec["per_class"][c].get("weighted_rmse_scaled", {}).get("mean", float("nan")),
              rec["per_class"][c].get("weighted_rmse_mag", {}).get("median", float("nan")),
              rec["per_class"][c].get("flat_baseline_weighted_rmse_scaled", {}).get("median", float("nan")),
              rec["per_class"][c].get("fraction_beating_flat", float("nan"))] for c in cls]
            + [["all", rec["n_stars"], rec["overall"]["weighted_rmse_scaled"]["median"],
                rec["overall"]["weighted_rmse_scaled"]["mean"], rec["overall"]["weighted_rmse_mag"]["median"],
                rec["baseline_flat"]["weighted_rmse_scaled"]["median"], rec["fraction_beating_flat"]]],
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
        rows.append([
            c, pr.get("rate", float("nan")), pr.get("rate_with_half_double", float("nan")),
            f.get("amplitude_mag", {}).get("ks", float("nan")), f.get("R21", {}).get("ks", float("nan")),
            f.get("cos_phi21", {}).get("ks", float("nan")), f.get("skewness", {}).get("ks", float("nan")),
            dm.get("c2st", {}).get("auc", float("nan")),
        ])
    parts += [
        _markdown_table(["class", "P recovered", "P, P/2, 2P", "KS amp (mag)", "KS R21", "KS cos phi21", "KS skew", "C2ST AUC"], rows),
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
        parts.append(_markdown_table(list(map(str, table3.columns)), table3.values.tolist()))
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
        parts += [f"Method: {sp['method']}. IQR of R21 (dimensionless) and circular IQR of phi31 (rad), "
                  "medians over the anchors; 1 = the generator keeps the real spread, 0 = one shape per physics "
                  "vector.", ""]
        rows = [[c, len(e.get("anchors", [])), e.get("median_gen_iqr_R21", float("nan")),
                 e.get("median_data_iqr_R21", float("nan")), e.get("median_ratio_R21", float("nan")),
                 e.get("median_gen_iqr_phi31", float("nan")), e.get("median_data_iqr_phi31", float("nan")),
                 e.get("median_ratio_phi31", float("nan"))] if "skipped" not in e else
                [c, 0, "skipped", e["skipped"], "", "", "", ""] for c, e in sp["per_class"].items()]
        parts.append(_markdown_table(["class", "anchors", "R21 IQR gen", "R21 IQR data", "R21 gen / data",
                                      "phi31 IQR gen", "phi31 IQR data", "phi31 gen / data"], rows))
    else:
        parts.append("Not available (see notes).")
    if m["notes"]:
        parts += ["", "## Notes"] + [f"- {n}" for n in m["notes"]]
    return "\n".join(parts) + "\n"


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _json_safe(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


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
    import pandas as pd
    from tqdm.auto import tqdm

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
        "loss": "loss_curves.png", "reconstructions": "reconstructions.png", "latent_pairs": "latent_pairs.png",
        "latent_vs_physics": "latent_vs_physics.png", "features": "feature_distributions.png",
        "confusion": "confusion_tstr.png",
    }
    try:
        metrics = _write_report(view, cfg, history, out_dir, figures, notes, step, t_start, stage_seconds)
    finally:
        bar.close()
    return metrics


def _write_report(view: _RunView, cfg: EvalConfig, history, out_dir: Path, figures: dict, notes: list,
                  step, t_start: float, stage_seconds: dict) -> dict:
    """Compute every metric and figure into a temporary folder that atomically becomes ``out_dir``."""
    from pelsvae_tf.atomic import atomic_dir, atomic_write_text

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
        dist, feats = _distribution_match(gen["folded"], held_out, view.classes, cfg, np.random.default_rng(cfg.seed + 3))
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
            "generation": {"per_class_source": gen["source"], "n_per_class": cfg.n_generated_per_class,
                           "path": "pelsvae_tf.generate.generator.Generator.generate" if use_reg else "decoder on N(0, I) latents",
                           "sampling": f"distribution match and TSTR: {view.dataset.seq_len} random phases per curve "
                                       f"(the prepared real curves' point count), noise, min-max scaled on the noisy "
                                       f"points like the real curves; features {list(COMPARED_FEATURES)}",
                           "cadence": f"period recovery: {cfg.n_period_checks_per_class} curves per class, survey-like, "
                                      f"{cfg.cadence_epochs} epochs over {cfg.cadence_baseline:g} d, "
                                      f"{cfg.cadence_season:g} d seasons", "noise": cfg.add_noise},
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
        metrics = _json_safe(metrics)
        metrics["out_dir"] = str(out_dir)
        report_view = dict(metrics, out_dir=str(tmp), generation=_generation_summary(gen["source"]),
                           generation_detail=metrics["generation"])
        atomic_write_text(tmp / "report.md", _report_md(_json_nan(report_view), table3, figures, realism_md))
        atomic_write_text(tmp / "metrics.json", json.dumps(metrics, indent=1, sort_keys=False) + "\n")
        step(stages[-1])
    return metrics


def _generation_summary(source: dict[str, str]) -> str:
    """``"regressor:forest for 7 classes (CEP, ...); prior N(0, I) ... for ACEP"``."""
    groups: dict[str, list[str]] = {}
    for cls, src in source.items():
        groups.setdefault(src, []).append(cls)
    parts = [f"{src} for {len(cl)} class{'es' if len(cl) > 1 else ''} ({', '.join(cl)})"
             for src, cl in sorted(groups.items(), key=lambda kv: -len(kv[1]))]
    return "; ".join(parts)


def _json_nan(obj: Any) -> Any:
    """Turn the JSON ``None`` of non-finite numbers back into NaN for formatting."""
    if isinstance(obj, dict):
        return {k: _json_nan(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_json_nan(v) for v in obj]
    return float("nan") if obj is None else obj


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def _cli(args) -> int:
    cfg = EvalConfig.load(args.config) if args.config else EvalConfig()
    changes = {}
    for field in ("seed", "n_generated_per_class", "generation", "regressor", "classifier", "real_eros1"):
        v = getattr(args, field)
        if v is not None:
            changes[field] = v
    if args.no_physics_recovery:
        changes["physics_recovery"] = False
    cfg = cfg.replace(**changes) if changes else cfg
    m = evaluate(args.run_dir, args.out, cfg, progress=not args.quiet)
    rec = m["reconstruction"]["overall"]["weighted_rmse_scaled"]
    print(f"report written to {m['out_dir']}")
    print(f"test weighted RMSE (scaled): median {rec['median']:.4f} over {rec['n']} stars; "
          f"TSTR accuracy {m['tstr']['accuracy_tstr']:.3f} vs train-on-real {m['tstr']['accuracy_trtr']:.3f}")
    return 0


def register(subparsers) -> None:
    """Add ``pelsvae evaluate RUN_DIR [--out DIR] ...`` to the CLI."""
    p = subparsers.add_parser(
        "evaluate",
        help="write the evaluation report (figures, metrics.json, report.md) of a trained run",
        description="Write RUN_DIR/report/ (or --out): loss curves, reconstructions, latent plots, realism "
                    "metrics of generated curves, train-on-synthetic accuracy, Table 3 and Fig. 8 analogues.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="run directory written by `pelsvae train`")
    p.add_argument("--out", default=None, help="report folder (default: RUN_DIR/report)")
    p.add_argument("--config", default=None, help="EvalConfig JSON file (fields of pelsvae_tf.evaluate.evaluation.EvalConfig)")
    p.add_argument("--seed", type=int, default=None, help="seed of every random choice (default 0)")
    p.add_argument("--n-generated-per-class", dest="n_generated_per_class", type=int, default=None,
                   help="generated curves per class for the realism metrics (default 100)")
    p.add_argument("--generation", choices=("auto", "regressor", "prior"), default=None,
                   help="latents of generated curves: fitted regressor (paper), N(0,I) prior, or auto (default)")
    p.add_argument("--regressor", choices=("density", "forest", "linear", "mlp"), default=None,
                   help="regressor used for generation (default: the exported generator's, mlp)")
    p.add_argument("--classifier", choices=("forest", "logistic"), default=None,
                   help="classifier of the two-sample test and TSTR (default forest)")
    p.add_argument("--real-eros1", dest="real_eros1", metavar="DIR", default=None,
                   help="EROS-1 LMC folder (RAMP layout: train.csv, test.csv, *_varlength_features.csv.gz): add a "
                        "'Realism against EROS-1' section (generated vs real curves, pelsvae_tf.evaluate.realism)")
    p.add_argument("--no-physics-recovery", action="store_true", help="skip the RR Lyrae Teff sweep (Fig. 8)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cli)
