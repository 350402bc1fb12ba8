"""PELS-VAE loss terms: the paper's eq. 4 (default), the reference code's loss and the per-point ELBO weighting (options).

All inputs are min-max scaled per light curve (dimensionless; 1 = the curve's peak-to-peak
range). Every per-curve function returns a [B] tensor; :func:`loss_terms` reduces over the
batch with a mean.

Paper (Martinez-Palomera et al. 2022, eq. 4), ``kind="paper"``::

    loss = recon + beta * kl + err_kl
    recon  = mean_j (x_j - x_hat_j)^2 / s_j^2                (error-weighted MSE, chi^2 per point)
    kl     = KL( N(mu, sigma^2) || N(0, I) ), summed over latent dims (nats)
    err_kl = mean_j KL( N(0, s_j^2) || N(0, s_hat_j^2) )
           = mean_j [ log(s_hat_j / s_j) + s_j^2 / (2 s_hat_j^2) - 1/2 ]

Error floor: ``s_j = sqrt(sigma_j^2 + floor^2)`` and ``s_hat_j = sqrt(sigma_hat_j^2 + floor^2)``,
i.e. ``err_floor`` (default 0.01 = 1 % of the curve's range) is added in quadrature to both the
true and the reconstructed scaled errors. This keeps the chi^2 finite for points whose quoted
error is 0 (OGLE files round errors to 1 mmag) and keeps the error KL smooth. ``err_floor=0``
gives the paper's eq. 4 exactly (``s_j = sigma_j``); every variance is then only bounded below
by :data:`VARIANCE_EPS` (1e-12 scaled units^2), so a zero error gives a huge but finite chi^2
instead of inf/NaN. With any floor >= 1e-6 the guard never changes a number. The paper's
printed KL has no factor 1/2 and uses log sigma; we use the exact Gaussian KL (with 1/2).

The latent KL is owned by the model's latent layer: :func:`loss_terms` takes it from
``latent.kl`` (:meth:`pelsvae_tf.model.layers.GaussianLatent.kl`).

Reference code (jorgemarpa/PELS-VAE), ``kind="reference"``::

    loss = mean_j (x_j - x_hat_j)^2 + beta * kl / 1e4      (err_kl reported but not trained)

Per-point ELBO weighting, ``kind="elbo"`` (beyond the paper)::

    loss = recon + beta * kl * 2 / T + err_kl        (T = points per curve, e.g. 300)

Eq. 4 averages the reconstruction over the T points of a curve but adds the KL of the whole curve,
so at T = 300 the latent is priced T / 2 = 150 times higher than in the Gaussian ELBO
(``-log p(x|z) = sum_j chi^2_j / 2 + const`` per curve; dividing the ELBO by T/2 gives
``recon + 2 kl / T``). ``"elbo"`` restores that balance: ``beta=1`` is the per-point beta-VAE
ELBO with beta 1, and the paper's ``beta=0.75`` weights the KL 0.75 x 2 / 300 = 0.005 per curve.
Measured on the quick main job's seed-0 data (TCN 6 x 16, 40 epochs, model seeds 0 / 1 / 2, median
[min, max]): the KL rises from ~6 to 19.6 [19.4, 25.2] nats and the R21 interquartile range of the
Cepheids' reconstructions from 0.04 [0.01, 0.07] to 0.10 [0.04, 0.11] (data: 0.311); the paper loss
collapsed one seed to a single Cepheid shape (README "Spread of shapes", BENCHMARKS.md). ``T`` is the length
of the batch's curves, or ``batch["n_points"]`` when given: training on a random point subset
(``decoder_subsample``, with or without a point mask) scores fewer points of the same T-point
curve, so the KL is still shared over T and the weight does not change from batch to batch.

In every case ``kl`` is the raw KL in nats (the metric tracker reports it unweighted).
"""

from __future__ import annotations

import tensorflow as tf

from pelsvae_tf.model.config import DEFAULT_ERR_FLOOR
from pelsvae_tf.model.layers import gaussian_kl
from pelsvae_tf.options import LOSS_KINDS

#: divisor applied to the KL term by the reference code
REFERENCE_KL_DIVISOR = 1e4
#: smallest variance (scaled units^2) used in a division; only matters for ``err_floor`` < 1e-6
VARIANCE_EPS = 1e-12


def _floored(sigma: tf.Tensor, floor: float) -> tf.Tensor:
    """``sqrt(max(sigma^2 + floor^2, VARIANCE_EPS))`` (scaled units)."""
    sigma = tf.convert_to_tensor(sigma)
    var = tf.square(sigma) + tf.cast(floor, sigma.dtype) ** 2
    return tf.sqrt(tf.maximum(var, tf.cast(VARIANCE_EPS, sigma.dtype)))


def _point_mean(values: tf.Tensor, mask=None) -> tf.Tensor:
    """Mean over the last (time) axis, [B]; with ``mask`` ([T] or [B, T], 1 = scored point) the
    mean over the masked-in points only (``sum(mask * v) / sum(mask)``)."""
    if mask is None:
        return tf.reduce_mean(values, axis=-1)
    mask = tf.broadcast_to(tf.cast(mask, values.dtype), tf.shape(values))
    return tf.reduce_sum(values * mask, axis=-1) / tf.maximum(tf.reduce_sum(mask, axis=-1), 1.0)


def weighted_mse(x, x_hat, sigma, floor: float = DEFAULT_ERR_FLOOR, mask=None) -> tf.Tensor:
    """Per-curve error-weighted MSE ``mean_j (x - x_hat)^2 / (sigma^2 + floor^2)``, [B].

    ``x``, ``x_hat``, ``sigma``: [B, T] scaled magnitudes / scaled errors (dimensionless);
    ``floor`` in the same scaled units (0 = the plain chi^2 of the paper, variance guarded by
    :data:`VARIANCE_EPS`); ``mask``: optional [T] or [B, T] 0/1 weights of the scored points.
    """
    x = tf.convert_to_tensor(x)
    x_hat = tf.cast(x_hat, x.dtype)
    s = _floored(tf.cast(sigma, x.dtype), floor)
    return _point_mean(tf.square(x - x_hat) / tf.square(s), mask)


def mse(x, x_hat, mask=None) -> tf.Tensor:
    """Per-curve plain MSE ``mean_j (x - x_hat)^2``, [B] (scaled units squared); ``mask`` as in
    :func:`weighted_mse`."""
    x = tf.convert_to_tensor(x)
    return _point_mean(tf.square(x - tf.cast(x_hat, x.dtype)), mask)


def error_kl(sigma, sigma_hat, floor: float = DEFAULT_ERR_FLOOR, mask=None) -> tf.Tensor:
    """Per-curve mean over points of ``KL( N(0, s^2) || N(0, s_hat^2) )`` in nats, [B].

    ``s`` and ``s_hat`` are the true and reconstructed scaled errors with ``floor`` added in
    quadrature. Zero iff the reconstructed errors equal the true ones. ``mask`` as in
    :func:`weighted_mse`.
    """
    sigma = tf.convert_to_tensor(sigma)
    s = _floored(sigma, floor)
    s_hat = _floored(tf.cast(sigma_hat, sigma.dtype), floor)
    kl = tf.math.log(s_hat / s) + tf.square(s) / (2.0 * tf.square(s_hat)) - 0.5
    return _point_mean(kl, mask)


def loss_terms(
    batch: dict,
    outputs: dict,
    *,
    kind: str = "paper",
    beta=0.75,
    err_floor: float = DEFAULT_ERR_FLOOR,
    latent=None,
) -> dict[str, tf.Tensor]:
    """Batch-mean loss terms ``{"loss", "recon", "kl", "err_kl"}`` (scalars).

    Args:
        batch: needs ``"mag"`` and ``"err"`` [B, T] (scaled); an optional ``"point_mask"`` ([T]
            or [B, T], 1 = scored) restricts the per-point means to the masked-in points; an
            optional scalar ``"n_points"`` is the curves' full length when ``mag`` holds a point
            subset (``"elbo"`` only; default T).
        outputs: the model's ``{"mag", "err", "z_mean", "z_log_var"}``.
        kind: ``"paper"`` (eq. 4), ``"reference"`` (plain MSE + beta * KL / 1e4) or ``"elbo"``
            (eq. 4 with the KL weighted ``beta * 2 / T``, T = points per curve).
        beta: KL weight (float or scalar tensor/variable, so it can be scheduled).
        err_floor: scaled error added in quadrature to true and reconstructed errors
            (dimensionless, >= 0; 0 = no floor).
        latent: the layer that owns the KL term (anything with ``kl(z_mean, z_log_var) -> [B]``,
            normally the model's :class:`~pelsvae_tf.model.layers.GaussianLatent`); ``None`` uses
            :func:`~pelsvae_tf.model.layers.gaussian_kl`, the same number.
    """
    if kind not in LOSS_KINDS:
        raise ValueError(f"loss kind {kind!r} is not supported; use one of {LOSS_KINDS}")
    mag = tf.convert_to_tensor(batch["mag"])
    dtype = outputs["mag"].dtype
    mag = tf.cast(mag, dtype)
    err = tf.cast(batch["err"], dtype)
    kl_of = latent.kl if latent is not None else gaussian_kl
    kl = tf.reduce_mean(tf.cast(kl_of(outputs["z_mean"], outputs["z_log_var"]), dtype))
    mask = batch.get("point_mask")
    err_kl = tf.reduce_mean(error_kl(err, outputs["err"], err_floor, mask=mask))
    beta = tf.cast(beta, dtype)
    if kind in ("paper", "elbo"):
        recon = tf.reduce_mean(weighted_mse(mag, outputs["mag"], err, err_floor, mask=mask))
        kl_term = beta * kl
        if kind == "elbo":  # the curve's KL shared over its T points (x 2: chi^2 = -2 log p)
            kl_term = kl_term * 2.0 / tf.cast(batch.get("n_points", tf.shape(mag)[-1]), dtype)
        loss = recon + kl_term + err_kl
    else:
        recon = tf.reduce_mean(mse(mag, outputs["mag"], mask=mask))
        loss = recon + beta * kl / REFERENCE_KL_DIVISOR
    return {"loss": loss, "recon": recon, "kl": kl, "err_kl": err_kl}
