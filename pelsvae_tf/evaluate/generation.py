"""Generated curves for the evaluation: the run's :class:`~pelsvae_tf.generate.generator.Generator`
(regressor or N(0, I) prior), observed like the prepared real curves and at a survey cadence."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from pelsvae_tf.evaluate.config import EvalConfig
from pelsvae_tf.evaluate.runview import _RunView
from pelsvae_tf.generate.augment import scale_like_prepared
from pelsvae_tf.generate.cadence import Cadence, survey_cadence
from pelsvae_tf.generate.generator import Generator, PhysicsRangeWarning
from pelsvae_tf.regress import fit_regressors, load_regressor, write_train_stats
from pelsvae_tf.regress import train_stats_current as _train_stats_current
from pelsvae_tf.rundir import RunDir


def _regressor_available(run_dir: Path, kind: str) -> bool:
    return (RunDir(run_dir).regressors_dir / kind).exists()


def _ensure_regressors(view: _RunView, cfg: EvalConfig, notes: list[str]) -> bool:
    """True when ``cfg.regressor`` is fitted (fitting it when allowed)."""
    if _regressor_available(view.run_dir, cfg.regressor):
        return True
    if not cfg.fit_regressors_if_missing:
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

    if "_generator" not in view.__dict__:
        if not _train_stats_current(view.paths.train_stats_path):
            write_train_stats(view.run_dir)
        stats = view.paths.train_stats()
        view.__dict__["_generator"] = Generator(
            view.decoder,
            None,
            view.classes,
            view.physics_scaler,
            stats,
            n_grid=int(view.dataset.seq_len),
            model_config=view.run.model.model_config,
        )
        # one phase function per run view: the reconstruction stage's (_decode) if it ran first
        pf = view.__dict__.setdefault("_phase_function", view.__dict__["_generator"].phase_function)
        view.__dict__["_generator"].phase_function = pf
    base = view.__dict__["_generator"]
    return base.with_regressor(_load_regressor_cached(view, cfg.regressor) if use_regressor else None)


def _load_regressor_cached(view: _RunView, kind: str):
    cache = view.__dict__.setdefault("_regressors", {})
    if kind not in cache:
        cache[kind] = load_regressor(view.paths.regressors_dir / kind)
    return cache[kind]


def _class_curves(
    view: _RunView,
    cfg: EvalConfig,
    generator,
    c: int,
    n: int,
    cadence,
    seed: int,
    use_regressor: bool,
    jitter: bool = True,
) -> dict[str, np.ndarray] | None:
    """``n`` curves of class ``c`` observed at ``cadence``, in magnitudes, from ``generator``.

    With the regressor (``use_regressor``): :meth:`Generator.generate` (physics, period, mean
    magnitude and amplitude sampled from the class's training stars; noise when
    ``cfg.add_noise``). Otherwise :meth:`Generator.from_latents` with latents from the N(0, I)
    prior and period, model mean magnitude and model amplitude of the class's real training stars.
    With noise, the class's intrinsic jitter unless ``jitter=False`` (same seed, same curves and
    photometric draws otherwise). Returns ``time`` [d], ``phase``, ``mag``, ``mag_model`` (noise-free)
    [mag], ``err`` [mag] ([n, T]), ``period`` [n] (d) and
    ``amplitude`` [n] (mag), or None when the class has no real training star.
    """

    rng = np.random.default_rng(seed)
    t0 = rng.uniform(0.0, 1000.0, n)
    if use_regressor:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PhysicsRangeWarning)
            res = generator.generate(
                view.classes[c], n=n, cadence=cadence, seed=int(seed), t0=t0, noise=cfg.add_noise, jitter=jitter
            )
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
        res = generator.from_latents(
            z,
            view.classes[c],
            np.asarray(st["period"], np.float64)[pick],
            cadence,
            t0=t0,
            mag_mean=mm[pick],
            amplitude=amp[pick],
            seed=int(seed),
            noise=cfg.add_noise,
            jitter=jitter,
        )
    return {
        "time": res.time,
        "phase": res.phase,
        "mag": res.mag,
        "mag_model": res.mag_model,
        "err": res.err,
        "period": res.period,
        "amplitude": res.amplitude,
    }


def _generate(view: _RunView, cfg: EvalConfig, use_regressor: bool) -> dict[str, Any]:
    """Generated curves of every class, two sets (no held-out star informs either).

    ``"folded"``: ``n_generated_per_class`` curves per class observed the way the prepared real
    curves are: ``seq_len`` random times over ``folded_baseline`` days (many cycles, so a star's
    per-cycle jitter varies within the folded curve), noise, then min-max scaled per curve on the noisy
    points (:func:`pelsvae_tf.generate.augment.scale_like_prepared`); arrays ``phase`` (sorted),
    ``mag``/``err`` (scaled) [n, seq_len], ``mag_range`` [n] (mag, the scaling range), ``period`` [n]
    (d), ``label`` [n].
    Real and generated curves thus share point count, scaling and feature pipeline.

    ``"survey"``: ``n_period_checks_per_class`` curves per class at the survey-like cadence
    (``cadence_epochs`` epochs over ``cadence_baseline`` d) for period recovery: ``time`` [d],
    ``mag``/``err`` (divided by the curve's amplitude) [n, T], ``period`` [n] (d), ``label`` [n].

    Also ``"source"``: how each class was generated.
    """

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
        random_times = Cadence.from_times(
            np.sort(rng.uniform(0.0, cfg.folded_baseline, size=(n, L)), axis=1),
            f"{L} random times over {cfg.folded_baseline:g} d",
        )
        cur = _class_curves(view, cfg, g, c, n, random_times, cfg.seed + 7 * c, with_reg)
        if cur is None:
            continue  # class absent from the training data
        source[name] = (
            f"regressor:{cfg.regressor}"
            if with_reg
            else "prior N(0, I)" + (" (no training star with physics)" if use_regressor else "")
        )
        sc = scale_like_prepared(cur["phase"], cur["mag"], cur["err"])
        rng_range = np.ptp(cur["mag"], axis=1)
        folded["phase"].append(sc["phase"])
        folded["mag"].append(sc["mag"])
        folded["err"].append(sc["err"])
        folded["mag_range"].append(np.maximum(rng_range, 1e-6))
        folded["period"].append(np.asarray(cur["period"], np.float64))
        folded["label"].append(np.full(n, c))
        cad = survey_cadence(
            cfg.cadence_epochs, cfg.cadence_baseline, cfg.cadence_season, seed=cfg.seed + 1000 + c, n_curves=n_check
        )
        sv = _class_curves(view, cfg, g, c, n_check, cad, cfg.seed + 7 * c + 3, with_reg)
        amp = sv["amplitude"][:, None]
        survey["time"].append(sv["time"])
        survey["mag"].append(sv["mag"] / amp)
        survey["err"].append(sv["err"] / amp)
        survey["period"].append(np.asarray(sv["period"], np.float64))
        survey["label"].append(np.full(n_check, c))
    if not folded["label"]:
        raise ValueError("the training split has no real star: nothing to condition generation on")
    return {
        "folded": {k: np.concatenate(v) for k, v in folded.items()},
        "survey": {k: np.concatenate(v) for k, v in survey.items()},
        "source": source,
    }
