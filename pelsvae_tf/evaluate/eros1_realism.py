"""The report's "Realism against EROS-1" section: generated curves at an EROS-1-like cadence and
error model vs real EROS-1 LMC curves (:mod:`pelsvae_tf.evaluate.realism`)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from pelsvae_tf.evaluate import realism as R
from pelsvae_tf.evaluate.config import EvalConfig
from pelsvae_tf.evaluate.generation import _class_curves, _make_generator
from pelsvae_tf.evaluate.runview import _RunView
from pelsvae_tf.generate.cadence import Cadence
from pelsvae_tf.sky import ogle_cadence, reported_errors, survey_errors, survey_magnitudes, survey_noise

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
    missing = [
        f
        for f in ("train.csv", "test.csv", "train_varlength_features.csv.gz", "test_varlength_features.csv.gz")
        if not (d / f).exists()
    ]
    if not d.is_dir() or missing:
        raise FileNotFoundError(
            f"EvalConfig.real_eros1={cfg.real_eros1!r} (--real-eros1) is not an EROS-1 RAMP folder"
            + (f" (missing {missing})" if d.is_dir() else " (no such directory)")
            + "; point it at the folder holding train.csv, test.csv and *_varlength_features.csv.gz "
            "(e.g. shared/data/eros1_lmc_ramp), or leave it unset"
        )
    return d


def _realism_eros1(
    view: _RunView, cfg: EvalConfig, use_regressor: bool, eros_dir: Path, notes: list[str]
) -> tuple[dict | None, str]:
    """Realism of the run's generated curves against real EROS-1 LMC curves (red band).

    For each class shared by the run and EROS-1, ``n_generated_per_class`` curves come from the
    run's :class:`~pelsvae_tf.generate.generator.Generator` (regressor when fitted for the class, else
    the N(0, I) prior) without the decoder's photometric noise but with the class's intrinsic jitter
    (with ``add_noise``: the difference of two noisy draws of one seed with and without it, i.e. the
    jitter alone), observed at an EROS-1-like cadence
    (:data:`EROS1_EPOCHS` epochs over :data:`EROS1_YEARS` LMC seasons,
    :func:`pelsvae_tf.sky.ogle_cadence` with ``survey="eros1"``), shifted to the mean magnitude of
    a real star of the class moved to the LMC (:func:`pelsvae_tf.sky.survey_magnitudes`) and given
    EROS-1 photographic errors [mag] and noise as the sky's ``survey="eros1"`` stars get them
    (:func:`pelsvae_tf.sky.survey_errors`, :func:`pelsvae_tf.sky.survey_noise`,
    :func:`pelsvae_tf.sky.reported_errors`: season offsets and night-to-night correlated noise besides
    the white part, which is Gaussian in flux; errors of the measured magnitudes), then compared with
    at most ``max_real_per_class`` EROS-1 stars per class by :func:`pelsvae_tf.evaluate.realism.realism_section`. Returns ``(metrics, markdown)``;
    ``(None, "")`` with a note when no class is shared.
    """

    eros_classes = ("CEP", "ECL", "LPV", "RRLYR")
    shared = [c for c in view.classes if c in eros_classes]
    if not shared:
        notes.append(
            f"realism against EROS-1 skipped: the run's classes {list(view.classes)} include none of "
            f"EROS-1's {list(eros_classes)}"
        )
        return None, ""
    real = R.curves_from_eros1(eros_dir, band="r", classes=shared, max_per_class=cfg.max_real_per_class, seed=cfg.seed)
    shared = [c for c in shared if c in set(real.cls)]
    generator = _make_generator(view, cfg, use_regressor)
    prior = _make_generator(view, cfg, use_regressor=False) if use_regressor else generator
    knows = set(generator.classes_with_physics) if use_regressor else set()
    n = cfg.n_generated_per_class
    t, m, e, cl, per = [], [], [], [], []
    for name in shared:
        c = view.classes.index(name)
        g, with_reg = (generator, True) if name in knows else (prior, False)
        rng = np.random.default_rng([cfg.seed, 202, c])
        times = np.stack([ogle_cadence(rng, EROS1_EPOCHS, EROS1_YEARS, "mc", "eros1") for _ in range(n)])
        cad = Cadence.from_times(times, f"EROS-1-like: {EROS1_EPOCHS} epochs, {EROS1_YEARS} LMC seasons")
        cur = _class_curves(view, cfg, g, c, n, cad, cfg.seed + 7 * c + 5, with_reg)
        if cur is None:
            continue
        model = np.asarray(cur["mag_model"], np.float64)
        wander = 0.0
        if cfg.add_noise:  # the intrinsic jitter alone: same seed, same photometric draw, with minus without
            without = _class_curves(view, cfg, g, c, n, cad, cfg.seed + 7 * c + 5, with_reg, jitter=False)
            wander = np.asarray(cur["mag"], np.float64) - np.asarray(without["mag"], np.float64)
        # EROS-1 observes the LMC: each curve's mean magnitude is a real star of the class moved to
        # the LMC, as in the sky's survey="eros1", so the curves get the LMC's signal-to-noise
        model = model - model.mean(axis=-1, keepdims=True) + survey_magnitudes(name, "eros1", n, rng)[:, None]
        time = np.asarray(cur["time"], np.float64)
        err = np.stack([survey_errors(rng, row, "eros1") for row in model])
        noise = 0.0
        if cfg.add_noise:
            noise = np.stack([survey_noise(rng, tt, row, ee, "eros1") for tt, row, ee in zip(time, model, err)])
            err = reported_errors(err, model, model + noise, "eros1")
        t.append(time)
        m.append(model + wander + noise)
        e.append(err)
        cl += [name] * n
        per.append(np.asarray(cur["period"], np.float64))
    if not cl:
        notes.append("realism against EROS-1 skipped: no training star of the shared classes to condition on")
        return None, ""
    gen = SimpleNamespace(
        time=np.concatenate(t),
        mag=np.concatenate(m),
        err=np.concatenate(e),
        cls=np.asarray(cl),
        period=np.concatenate(per),
    )
    curves = R.curves_from_generated(gen, name="generated")
    classes = sorted(set(cl) & set(real.cls))
    res, _ = R.realism_section(curves, real, classes, seed=cfg.seed)
    res["reference"] = {"path": str(eros_dir), "band": "r", "max_per_class": cfg.max_real_per_class}
    res["observation"] = (
        f"{n} generated curves per class, {EROS1_EPOCHS} epochs over {EROS1_YEARS} LMC "
        f"seasons (sky survey='eros1' cadence), EROS-1 red-band error model"
        + (", the class's intrinsic jitter and one noise draw" if cfg.add_noise else ", no noise")
    )
    md = (
        "## Realism against EROS-1\n\n"
        f"Generated: {res['observation']}. Real: EROS-1 LMC red band ({eros_dir}), at most "
        f"{cfg.max_real_per_class} stars per class. Features and tests: `pelsvae_tf.evaluate.realism`.\n\n"
        + R.markdown(res)
    )
    return res, md
