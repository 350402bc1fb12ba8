"""Gaussian mixtures in NumPy: packed Cholesky layout, log-density and component choice.

Shared by the ``density`` regressor (:mod:`pelsvae_tf.regress.density`), its TF-graph twin
(:mod:`pelsvae_tf.regress.graph`) and the scores (:mod:`pelsvae_tf.regress.calibration`).
Log-densities in nats, float64.
"""

from __future__ import annotations

import math

import numpy as np

LOG_2PI = math.log(2.0 * math.pi)


def tril_layout(d: int) -> tuple[np.ndarray, np.ndarray]:
    """Layout of a packed lower-triangular ``d x d`` matrix with ``T = d (d + 1) / 2`` entries.

    Returns ``(gather_index [d * d] int32, diag_mask [T] bool)``: entry ``t`` (row-major over
    ``(i, j)``, ``j <= i``) goes to position ``i * d + j``; ``gather_index`` indexes a vector
    ``[0, v_0, ..., v_{T-1}]`` (index 0 = a structural zero above the diagonal).
    """
    idx = np.zeros(d * d, dtype=np.int32)
    diag = []
    t = 0
    for i in range(d):
        for j in range(i + 1):
            idx[i * d + j] = t + 1
            diag.append(i == j)
            t += 1
    return idx, np.asarray(diag, dtype=bool)


def _softplus_np(x):
    return np.logaddexp(0.0, x)


def mixture_log_prob_np(z: np.ndarray, logits: np.ndarray, loc: np.ndarray, chol: np.ndarray) -> np.ndarray:
    """log p(z) [nats] of Gaussian mixtures, float64: ``z [B, D]``, ``logits [B, K]``,
    ``loc [B, K, D]``, ``chol [B, K, D, D]`` (lower-triangular scale)."""
    z = np.asarray(z, np.float64)
    diff = z[:, None, :] - loc  # [B, K, D]
    y = np.linalg.solve(chol, diff[..., None])[..., 0]  # L^-1 (z - m)
    logdet = np.sum(np.log(np.abs(np.diagonal(chol, axis1=-2, axis2=-1))), axis=-1)
    d = z.shape[1]
    comp = -0.5 * np.sum(y * y, axis=-1) - logdet - 0.5 * d * LOG_2PI
    logw = logits - _logsumexp(logits, axis=1, keepdims=True)
    return _logsumexp(logw + comp, axis=1)


def _logsumexp(a, axis, keepdims=False):
    m = np.max(a, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def choose_component_np(logits: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF choice of a mixture component: number of cumulative weights (float64) below
    ``u`` [B] in (0, 1); ``logits [B, K]``. Returns int64 [B] in [0, K)."""
    logits = np.asarray(logits, np.float64)
    w = np.exp(logits - logits.max(axis=1, keepdims=True))
    w = w / w.sum(axis=1, keepdims=True)
    cdf = np.cumsum(w, axis=1)[:, :-1]
    return np.sum(cdf < np.asarray(u, np.float64)[:, None], axis=1).astype(np.int64)
