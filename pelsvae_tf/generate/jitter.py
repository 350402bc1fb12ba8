"""Intrinsic jitter: how a star's points scatter about its own mean phased curve beyond its
photometric errors (phase, amplitude and white terms), learnt from the training stars and drawn
by the generator.

A generated curve is a function of phase (:mod:`pelsvae_tf.generate.phase_function`): strictly
periodic. Real stars are not all: a Mira's period and amplitude wander from cycle to cycle, a
Blazhko RR Lyrae's amplitude and phase are modulated, so its folded curve scatters about the mean
curve by much more than its photometric errors, most on the steep branches (phase wander) and at
the extremes (amplitude changes). Without it a classifier tells generated Miras from real ones by
that alone (shipped run before this module: C2ST AUC 0.99, KS 0.89 on the scaled curve's Fourier
amplitude, while the Miras' shape features agreed within KS 0.2).

Measured per training star (:func:`fit_jitter`, on its prepared points, one per phase): each
point's residual from the straight line through its two neighbours in phase (model-free, so a
steep rise does not pass for scatter; only the curvature between neighbours ~1/T apart enters),
its variance rescaled to one point's. The ``TRIM`` share of points with the largest residuals
for their errors is left out (an eclipse narrower than a few point spacings, whose curvature
would otherwise pass for scatter, an outlier) and the rest corrected for the trimming (``/
TRIM_GAIN``, exact for Gaussian residuals); ``err^2`` subtracted, that gives the excess variance at
each phase. When its mean is significant (``SIGNIFICANCE`` standard errors, estimated from the
excesses' own scatter and inflated for the shared neighbours) the profile is fitted,
non-negative least squares, with the slope ``s'(phi)`` and the deviation of the star's mean phased
curve ``s(phi)`` (means in ``n_bins`` phase bins, linearly interpolated, periodic) by::

    sigma_phi^2 * s'(phi)^2 + sigma_amp^2 * (s(phi) - <s>)^2

``sigma_phi`` [cycles] (phase jitter), ``sigma_amp`` (fractional amplitude jitter); what is left
of the mean excess variance, if positive, is ``sigma_white^2`` (white scatter, stored as a fraction
of the model amplitude). The structured terms go first because folded points cannot tell them
from white scatter on a near-sinusoid (``s'^2`` and ``(s - <s>)^2`` then add up to a constant), and
a star's cycle-to-cycle wandering is what they describe. Stored in ``train_stats.npz`` as
``jitter_model`` [N, 3]; the amplitude term is applied as a factor ``max(0, 1 + sigma_amp N)``
(a cycle never turns upside down).

Generated (in process and in the exported graph alike, from counter-based draws of the curve's
seed): each curve takes the jitter of one training star of its class (:func:`jitter_table`,
drawn by :func:`sample_jitter_np` / :func:`sample_jitter_tf`); point ``j`` in cycle ``k`` is
evaluated at phase ``phi_j + sigma_phi * N_k`` with its deviation from the mean scaled by
``max(0, 1 + sigma_amp * N'_k)``, plus ``amplitude * sigma_white * N''_j`` and the photometric
noise. ``N`` and ``N'`` are drawn
once per cycle (``floor((t - t0) / period)``: a cycle's points move together), ``N''`` per point;
consecutive cycles are independent: the prepared data hold phases, not times, so the cycles'
correlation in time cannot be learnt from them; the folded curve's scatter is reproduced, not its
time correlation. ``noise=False`` curves carry neither noise nor jitter.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
from scipy.optimize import nnls

from pelsvae_tf.counter_rng import STREAM_JITTER_DONOR, uniform_np, uniform_tf

#: Phase bins of the mean phased curve the jitter is measured about.
N_BINS = 60
#: A mean excess variance below this many of its standard errors counts as no jitter.
SIGNIFICANCE = 3.0
#: Share of the points with the largest residuals for their errors left out of the fit.
TRIM = 0.05
#: Mean square of a Gaussian's values kept by ``TRIM`` (its central 95 %): 1 - 2 z phi(z) / 0.95, z = 1.96.
TRIM_GAIN = 0.7589
#: Standard error inflation of a mean over neighbour-line residuals (each point is in three lines;
#: measured by simulation 1.39-1.45).
NEIGHBOUR_CORR = 1.45
#: Columns of ``jitter_model`` / the table: phase [cycles], amplitude [fraction], white [fraction of amplitude].
COLUMNS = ("phase", "amplitude", "white")


def fit_jitter(phase: np.ndarray, mag: np.ndarray, err: np.ndarray, n_bins: int = N_BINS) -> np.ndarray:
    """Jitter [N, 3] of each curve about its mean phased curve: ``sigma_phi`` [cycles],
    ``sigma_amp`` [fraction of the deviation from the mean] and ``sigma_white`` [units of ``mag``].

    ``phase`` [N, T] (cycles, any order), ``mag`` / ``err`` [N, T] (mag, or the prepared data's
    scaled units); non-finite points are skipped. See the module docstring for the model.
    """
    phase = np.atleast_2d(np.asarray(phase, np.float64))
    mag = np.atleast_2d(np.asarray(mag, np.float64))
    err = np.atleast_2d(np.asarray(err, np.float64))
    if not (phase.shape == mag.shape == err.shape):
        raise ValueError(f"phase {phase.shape}, mag {mag.shape} and err {err.shape} must have one shape [N, T]")
    n_bins = int(n_bins)
    if n_bins < 2:
        raise ValueError(f"n_bins={n_bins}: the mean curve needs at least 2 phase bins")
    out = np.zeros((len(mag), 3))
    centres = (np.arange(n_bins) + 0.5) / n_bins
    h = 0.5 / n_bins
    for i in range(len(mag)):
        ok = np.isfinite(phase[i]) & np.isfinite(mag[i]) & np.isfinite(err[i])
        ph_all = np.mod(phase[i][ok], 1.0)
        # one point per phase: padded curves repeat phases with resampled magnitudes, and two
        # points at one phase would make a neighbour line through nothing
        ph, first = np.unique(ph_all, return_index=True)
        m, e = mag[i][ok][first], err[i][ok][first]
        n = m.size
        if n < 8:
            continue
        # each point against the line through its two phase neighbours (periodic): a local,
        # model-free residual whose variance is the points' (err^2 + jitter) up to curvature
        dl = np.mod(ph - np.roll(ph, 1), 1.0)
        dr = np.mod(np.roll(ph, -1) - ph, 1.0)
        wl, wr = dr / (dl + dr), dl / (dl + dr)
        r = m - (wl * np.roll(m, 1) + wr * np.roll(m, -1))
        gain = 1.0 + wl**2 + wr**2  # Var(r) / Var(point) for equal variances
        noise = (e**2 + wl**2 * np.roll(e, 1) ** 2 + wr**2 * np.roll(e, -1) ** 2) / gain
        t = r**2 / gain  # the point's variance estimate: err^2 + jitter, + curvature
        # trim: the TRIM share of points with the largest residual for their errors goes (an
        # eclipse narrower than a few point spacings, a flare, an outlier: curvature, not
        # scatter); the kept ones' mean square is TRIM_GAIN of a Gaussian's, corrected below
        keep = t / noise <= np.quantile(t / noise, 1.0 - TRIM)
        target = t[keep] / TRIM_GAIN - noise[keep]  # excess variance at each kept phase
        # the star's mean phased curve (bin means, linearly interpolated) sets the weights of
        # the phase and amplitude terms: its slope and its deviation from the mean
        b = np.minimum((ph * n_bins).astype(np.int64), n_bins - 1)
        cnt = np.bincount(b, minlength=n_bins)
        filled = cnt > 0
        mean = np.bincount(b, m, minlength=n_bins)[filled] / cnt[filled]
        c = centres[filled]
        xp, fp = np.concatenate([c - 1, c, c + 1]), np.tile(mean, 3)
        curve = np.interp(ph, xp, fp)[keep]
        slope = (np.interp(ph + h, xp, fp) - np.interp(ph - h, xp, fp))[keep] / (2 * h)
        design = np.stack([slope**2, (curve - mean.mean()) ** 2], axis=1)
        # significance on the plain mean excess: its standard error from the targets' own
        # scatter, x NEIGHBOUR_CORR for the residuals sharing neighbours
        se = NEIGHBOUR_CORR * float(np.std(target)) / np.sqrt(target.size)
        if float(np.mean(target)) <= SIGNIFICANCE * se:
            continue
        coef, _ = nnls(design, target)
        white = max(0.0, float(np.mean(target - design @ coef)))
        out[i] = np.sqrt([coef[0], coef[1], white])
    return out


def jitter_table(train_stats: Mapping[str, np.ndarray] | None, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """``(table [C, M, 3] float32, counts [C] int32)``: the ``jitter_model`` rows of each class's
    training stars (phase [cycles], amplitude [fraction], white [fraction of the amplitude]),
    repeated cyclically to the largest class's count M; a class without values, and training
    statistics that predate the column, get one row of zeros (no jitter, the behaviour before)."""
    n_classes = int(n_classes)
    if train_stats is None or "jitter_model" not in train_stats:
        return np.zeros((n_classes, 1, 3), np.float32), np.ones(n_classes, np.int32)
    jit = np.asarray(train_stats["jitter_model"], np.float64).reshape(-1, 3).copy()
    lab = np.asarray(train_stats["label"])
    jit[:, 2] = np.where(np.isfinite(jit[:, 2]), jit[:, 2], 0.0)  # no model amplitude: no white term
    rows = [jit[(lab == c) & np.all(np.isfinite(jit), axis=1)] for c in range(n_classes)]
    rows = [r if len(r) else np.zeros((1, 3)) for r in rows]
    m = max(len(r) for r in rows)
    table = np.stack([r[np.arange(m) % len(r)] for r in rows]).astype(np.float32)
    return table, np.asarray([len(r) for r in rows], np.int32)


def _donor_np(counts: np.ndarray, labels: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    u = uniform_np(np.asarray(seeds, np.int64), STREAM_JITTER_DONOR, np.zeros(len(labels), np.uint32))
    c = counts[labels].astype(np.float32)
    return np.minimum(np.floor(u * c), c - 1).astype(np.int64)


def sample_jitter_np(table: np.ndarray, counts: np.ndarray, labels: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Per-curve jitter [n, 3] float32: the row of the training star of its class picked by
    ``uniform(seed, STREAM_JITTER_DONOR, 0)``."""
    labels = np.asarray(labels, np.int64)
    return np.asarray(table, np.float32)[labels, _donor_np(np.asarray(counts), labels, seeds)]


def sample_jitter_tf(table: np.ndarray, counts: np.ndarray, labels, seeds):
    """Graph twin of :func:`sample_jitter_np`: ``labels`` int tensor [B], ``seeds`` int64 [B]."""
    import tensorflow as tf

    labels = tf.cast(labels, tf.int64)
    u = uniform_tf(seeds, STREAM_JITTER_DONOR, tf.zeros(tf.shape(labels), tf.uint32))
    c = tf.cast(tf.gather(tf.constant(np.asarray(counts, np.int32)), labels), tf.float32)
    idx = tf.cast(tf.minimum(tf.floor(u * c), c - 1.0), tf.int64)
    return tf.gather_nd(tf.constant(np.asarray(table, np.float32)), tf.stack([labels, idx], axis=1))
