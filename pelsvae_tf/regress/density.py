"""Conditional density p(z | scaled physics, class): the ``density`` regressor kind (issue 12).

A mixture density network (MDN): a Keras net maps the standardised scaled physics (and the
one-hot class when ``use_class``) to the parameters of a ``K``-component Gaussian mixture over
the latent vector,

    p(z | x) = sum_k w_k(x) N(z; m_k(x), L_k(x) L_k(x)^T),

and is fitted by maximum likelihood with TensorFlow Probability
(``tfd.MixtureSameFamily`` over ``tfd.MultivariateNormalTriL``). Targets (``density_target``):

- ``"means"`` (default): each training star's posterior mean mu. What a decoded real star looks
  like is decoder(mu), so the spread of generated shapes at fixed physics is the spread of mu.
- ``"draws"``: ``density_draws`` draws z ~ N(mu, sigma) per star (the paper's repeats). The
  fitted density is then mu's density convolved with the encoder noise; posterior means of
  held-out stars fall inside its 68 % region more often than 68 % by construction (a latent
  dimension the encoder does not use has sigma ~ 1 and mu ~ 0).

Training: Adam on the mean negative log-likelihood (nats per star), L2 weight decay, Gaussian
jitter of the physics inputs (``density_input_noise`` standard deviations, noise
regularisation of Rothfuss et al. 2019), early stopping on ``density_holdout`` of the TRAINING stars (split by star), best weights kept.
Latents are standardised per dimension inside the model (training mean / std), and every
Cholesky diagonal is at least ``density_min_scale`` standard deviations, so a component cannot
collapse onto one star.

Defaults (``RegressorConfig.density_*``: K = 3, one hidden layer of 16 tanh units, L2 3e-2,
input jitter 0.3 sd, diagonal floor 0.1 sd, Adam 1e-2) were chosen by 3-fold cross-validation
inside the TRAINING split of the shipped pretrained run (342 stars; its val and test splits
were not used), among 20 settings (K 1-4, 16 or 32x32 units, L2 1e-4 to 3e-2, jitter 0-0.5,
floor 0.05-0.2, Adam 3e-3 or 1e-2, means or draws; ``benchmarks/bench_density_cv.py``): the
best 68 % calibration among those beating the per-class Gaussian's NLL. Larger or smaller nets and lower regularisation overfit at that size.

Sampling (identical in NumPy, :meth:`DensityRegressor.sample`, and in the TF graph of
:func:`pelsvae_tf.regress.graph.graph_sampler`), for a curve with seed ``s``:
``u = uniform(s, STREAM_COMPONENT, 0)``; component ``k`` = number of cumulative mixture weights
(float64) below ``u`` (inverse CDF); ``eps_d = normal(s, STREAM_LATENT, d)`` for d < D;
``z = m_k + L_k eps`` (float64, returned as float32).

Evaluation helpers (in :mod:`pelsvae_tf.regress.calibration`): :func:`hdr_coverage` (share of points inside the highest-density regions,
estimated by sampling), :class:`ClassGaussian` (the per-class Gaussian baseline) and
:func:`density_scores` (NLL and calibration of any regressor, used by ``fit_regressors``).

Units: inputs are scaled physical parameters (dimensionless), latents are in units of the VAE's
N(0, I) prior, log-likelihoods in nats per star (sum over the D latent dimensions).
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from pelsvae_tf.atomic import atomic_write_text
from pelsvae_tf.counter_rng import normal_np, uniform_np
from pelsvae_tf.regress.base import PhysicsRegressor
from pelsvae_tf.regress.calibration import ClassGaussian, density_scores, hdr_coverage  # noqa: F401  (0.1 home)
from pelsvae_tf.regress.config import STREAM_COMPONENT, STREAM_LATENT
from pelsvae_tf.regress.mixture import (  # noqa: F401  (LOG_2PI re-exported: its 0.1 home)
    LOG_2PI,
    _logsumexp,
    _softplus_np,
    choose_component_np,
    mixture_log_prob_np,
    tril_layout,
)

__all__ = [
    "DensityRegressor",
    "ClassGaussian",
    "hdr_coverage",
    "density_scores",
    "mixture_log_prob_np",
    "tril_layout",
    "STREAM_LATENT",
    "STREAM_COMPONENT",
]


class DensityRegressor(PhysicsRegressor):
    """Mixture density network p(z | physics, class) (see the module docstring).

    The dummy input is never used (the density carries the spread itself): ``input_names`` are
    the physics and, with ``use_class``, the one-hot class. :meth:`predict` returns the mixture
    mean E[z | x] (the Table 3 point prediction); :meth:`sample` draws from the density.
    """

    kind = "density"

    @property
    def input_names(self) -> list[str]:
        """Columns of the input matrix: physics, then ``class_<NAME>`` (no dummy)."""
        names = list(self.physics)
        if self.config.use_class:
            names += [f"class_{c}" for c in self.classes]
        return names

    def input_matrix(self, phys_scaled, dummy, labels):
        """Input matrix ``[N, len(input_names)]`` (float32); the dummy is ignored."""
        cfg = self.config
        try:
            self.config = cfg.replace(dummy=False)
            return super().input_matrix(phys_scaled, None, labels)
        finally:
            self.config = cfg

    # -- layout -------------------------------------------------------------------------------
    @property
    def n_components(self) -> int:
        """Number of mixture components K."""
        return int(self.config.density_components)

    def _sizes(self):
        k, d = self.n_components, self.latent_dim
        t = d * (d + 1) // 2
        return k, d, t

    def _build(self, x: np.ndarray, z_mean: np.ndarray, z_sd: np.ndarray):
        k, d, t = self._sizes()
        mean = x.mean(axis=0)
        var = x.var(axis=0)
        var = np.where(var > 1e-12, var, 1.0)
        reg = keras.regularizers.L2(float(self.config.density_weight_decay))
        inputs = keras.Input(shape=(x.shape[1],), name="density_inputs")
        h = keras.layers.Normalization(axis=-1, mean=mean, variance=var, name="standardise")(inputs)
        for i, units in enumerate(self.config.density_hidden):
            h = keras.layers.Dense(units, activation="tanh", kernel_regularizer=reg, name=f"hidden_{i}")(h)
        # initial softplus(raw) + min_scale ~ 0.6 standard deviations per component
        init_raw = float(np.log(np.expm1(max(0.6 - self.config.density_min_scale, 0.05))))
        _, diag = tril_layout(d)
        tril_bias = np.where(diag, init_raw, 0.0).astype(np.float32)
        bias = np.concatenate([np.zeros(k + k * d, np.float32), np.tile(tril_bias, k)])
        out = keras.layers.Dense(
            k + k * d + k * t,
            kernel_regularizer=reg,
            name="mixture_params",
            bias_initializer=keras.initializers.Constant(bias),
        )(h)
        self.z_center_ = np.asarray(z_mean, np.float64)
        self.z_scale_ = np.asarray(z_sd, np.float64)
        return keras.Model(inputs, out, name="regressor_density")

    # -- parameters (NumPy, float64) ------------------------------------------------------------
    def mixture_params(self, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Network output ``[B, K + K D + K T]`` -> ``(logits [B, K], loc [B, K, D], chol [B, K, D, D])``
        in latent units, float64 (the NumPy twin of the graph's parsing)."""
        k, d, t = self._sizes()
        raw = np.asarray(raw, np.float64)
        b = raw.shape[0]
        logits = raw[:, :k]
        loc = raw[:, k : k + k * d].reshape(b, k, d)
        tri = raw[:, k + k * d :].reshape(b, k, t)
        idx, diag = tril_layout(d)
        tri = np.where(diag, _softplus_np(tri) + float(self.config.density_min_scale), tri)
        padded = np.concatenate([np.zeros((b, k, 1)), tri], axis=-1)
        chol = padded[..., idx].reshape(b, k, d, d)
        loc = self.z_center_ + self.z_scale_ * loc
        chol = self.z_scale_[:, None] * chol
        return logits, loc, chol

    def _tf_mixture(self, raw):
        """``tfd.MixtureSameFamily`` (float32) for network output ``raw`` (used in training)."""
        tfd = tfp.distributions
        k, d, t = self._sizes()
        idx, diag = tril_layout(d)
        logits = raw[:, :k]
        loc = tf.reshape(raw[:, k : k + k * d], [-1, k, d])
        tri = tf.reshape(raw[:, k + k * d :], [-1, k, t])
        tri = tf.where(tf.constant(diag), tf.nn.softplus(tri) + float(self.config.density_min_scale), tri)
        padded = tf.concat([tf.zeros_like(tri[..., :1]), tri], axis=-1)
        chol = tf.reshape(tf.gather(padded, tf.constant(idx), axis=-1), [-1, k, d, d])
        zc = tf.constant(self.z_center_, tf.float32)
        zs = tf.constant(self.z_scale_, tf.float32)
        loc = zc + zs * loc
        chol = zs[:, None] * chol
        return tfd.MixtureSameFamily(
            tfd.Categorical(logits=logits), tfd.MultivariateNormalTriL(loc=loc, scale_tril=chol)
        )

    def _raw(self, x: np.ndarray) -> np.ndarray:
        out = [np.asarray(self.model(x[s : s + 65536], training=False)) for s in range(0, x.shape[0], 65536)]
        return np.concatenate(out, axis=0) if out else np.zeros((0, sum(self._sizes())), np.float32)

    # -- fit --------------------------------------------------------------------------------------
    def fit(self, phys_scaled, z_mean, z_log_var, labels=None) -> "DensityRegressor":
        """Fit the mixture on the training stars' posterior means (or draws, ``density_target``).

        ``phys_scaled [N, P]`` scaled physics, ``z_mean``/``z_log_var [N, D]`` encoder posteriors
        (latent units), ``labels [N]`` class indices (required with ``use_class``).
        """
        cfg = self.config
        z_mean = np.asarray(z_mean, np.float32)
        z_log_var = np.asarray(z_log_var, np.float32)
        phys = np.asarray(phys_scaled, np.float32)
        if z_mean.ndim != 2 or z_mean.shape[1] != self.latent_dim or z_log_var.shape != z_mean.shape:
            raise ValueError(
                f"fit: z_mean {z_mean.shape} / z_log_var {z_log_var.shape}; expected [N, {self.latent_dim}]"
            )
        if z_mean.shape[0] != phys.shape[0] or z_mean.shape[0] == 0:
            raise ValueError(f"fit: {phys.shape[0]} physics rows vs {z_mean.shape[0]} latents")
        if not np.all(np.isfinite(z_mean)) or not np.all(np.isfinite(z_log_var)):
            raise ValueError("fit: z_mean / z_log_var contain NaN/inf; drop those stars from latents.npz")
        x_star = self.input_matrix(phys, None, labels)
        n = x_star.shape[0]
        rng = np.random.default_rng(int(cfg.seed))
        # early-stopping holdout: a share of the TRAINING stars (by star, never the val split)
        n_hold = int(round(float(cfg.density_holdout) * n)) if n >= 20 else 0
        perm = rng.permutation(n)
        hold, fit_idx = perm[:n_hold], perm[n_hold:]

        def rows(idx):
            if cfg.density_target == "means":
                return x_star[idx], z_mean[idx]
            r = int(cfg.density_draws)
            ii = np.repeat(idx, r)
            zz = z_mean[ii] + np.exp(0.5 * z_log_var[ii]) * rng.standard_normal((ii.size, self.latent_dim))
            return x_star[ii], zz.astype(np.float32)

        x_fit, z_fit = rows(fit_idx)
        x_hold, z_hold = rows(hold) if n_hold else (None, None)
        sd = z_fit.std(axis=0)
        sd = np.where(sd > 1e-6, sd, 1.0)
        keras.utils.set_random_seed(int(cfg.seed))
        self.model = self._build(x_fit, z_fit.mean(axis=0), sd)
        model = self.model
        opt = keras.optimizers.Adam(float(cfg.density_learning_rate))

        @tf.function(reduce_retracing=True)
        def step(xb, zb):
            with tf.GradientTape() as tape:
                nll = -tf.reduce_mean(self._tf_mixture(model(xb, training=True)).log_prob(zb))
                loss = nll + tf.add_n(model.losses) if model.losses else nll
            grads = tape.gradient(loss, model.trainable_variables)
            opt.apply_gradients(zip(grads, model.trainable_variables))
            return nll

        @tf.function(reduce_retracing=True)
        def hold_nll(xb, zb):
            return -tf.reduce_mean(self._tf_mixture(model(xb, training=False)).log_prob(zb))

        bs = int(cfg.density_batch_size)
        # noise regularisation (Rothfuss et al. 2019): Gaussian jitter of the physics inputs
        jitter = np.zeros(x_fit.shape[1], np.float32)
        jitter[: len(self.physics)] = float(cfg.density_input_noise) * x_fit[:, : len(self.physics)].std(axis=0)
        best, best_w, wait = np.inf, None, 0
        self.history_ = []
        for epoch in range(int(cfg.density_epochs)):
            order = rng.permutation(x_fit.shape[0])
            tr = []
            for s in range(0, order.size, bs):
                b = order[s : s + bs]
                xb = x_fit[b]
                if jitter.any():
                    xb = xb + (rng.standard_normal(xb.shape) * jitter).astype(np.float32)
                tr.append(float(step(tf.constant(xb), tf.constant(z_fit[b]))))
            score = float(hold_nll(tf.constant(x_hold), tf.constant(z_hold))) if n_hold else float(np.mean(tr))
            self.history_.append((float(np.mean(tr)), score))
            if score < best - 1e-4:
                best, best_w, wait = score, [w.copy() for w in model.get_weights()], 0
            else:
                wait += 1
                if wait >= int(cfg.density_patience):
                    break
        if best_w is not None:
            model.set_weights(best_w)
        if not np.isfinite(best):
            raise ValueError(
                "DensityRegressor.fit: the likelihood diverged (NaN); lower "
                "RegressorConfig.density_learning_rate or raise density_min_scale"
            )
        self.best_holdout_nll_ = best
        self.epochs_run_ = len(self.history_)
        self.fitted = True
        return self

    # -- predict / log_prob / sample ---------------------------------------------------------------
    def params(self, phys_scaled, labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mixture parameters at ``phys_scaled [B, P]`` / ``labels [B]``: ``(logits [B, K],
        loc [B, K, D], chol [B, K, D, D])`` in latent units (float64)."""
        if not self.fitted:
            raise ValueError("DensityRegressor: call fit() (or load_regressor) first")
        x = self.input_matrix(phys_scaled, None, labels)
        return self.mixture_params(self._raw(x))

    def predict(self, phys_scaled, dummy=None, seed: int = 0, labels=None) -> np.ndarray:
        """Mixture mean E[z | x] ``[N, D]`` (float32, latent units); ``dummy``/``seed`` unused."""
        logits, loc, _ = self.params(phys_scaled, labels)
        w = np.exp(logits - _logsumexp(logits, axis=1, keepdims=True))
        return np.einsum("bk,bkd->bd", w, loc).astype(np.float32)

    def log_prob(self, z, phys_scaled, labels) -> np.ndarray:
        """log p(z | x) [nats, float64] for ``z [B, D]`` at ``phys_scaled [B, P]``, ``labels [B]``."""
        logits, loc, chol = self.params(phys_scaled, labels)
        return mixture_log_prob_np(z, logits, loc, chol)

    def _sample(self, phys, labels, seeds):
        logits, loc, chol = self.params(phys, labels)
        b = phys.shape[0]
        u = uniform_np(seeds, STREAM_COMPONENT, np.zeros(b, np.uint32))
        comp = choose_component_np(logits, u)
        eps = normal_np(seeds[:, None], STREAM_LATENT, np.arange(self.latent_dim, dtype=np.uint32)[None, :])
        rows = np.arange(b)
        z = loc[rows, comp] + np.einsum("bij,bj->bi", chol[rows, comp], eps.astype(np.float64))
        return z.astype(np.float32)

    # -- persistence ---------------------------------------------------------------------------------
    def _save_payload(self, directory: Path) -> None:
        self.model.save(directory / "model.keras")
        atomic_write_text(
            directory / "density.json",
            json.dumps(
                {
                    "z_center": self.z_center_.tolist(),
                    "z_scale": self.z_scale_.tolist(),
                    "best_holdout_nll": float(getattr(self, "best_holdout_nll_", float("nan"))),
                    "epochs_run": int(getattr(self, "epochs_run_", 0)),
                }
            )
            + "\n",
        )

    def _load_payload(self, directory: Path) -> None:
        self.model = keras.models.load_model(directory / "model.keras", compile=False)
        d = json.loads((directory / "density.json").read_text())
        self.z_center_ = np.asarray(d["z_center"], np.float64)
        self.z_scale_ = np.asarray(d["z_scale"], np.float64)
        self.best_holdout_nll_ = d.get("best_holdout_nll")
