"""Calibration of a regressor's sampling distribution: the per-class Gaussian baseline, the
highest-density-region coverage and the out-of-sample NLL / coverage scores of ``fit_regressors``.

Log-likelihoods in nats per star (sum over the D latent dimensions), latents in units of the
VAE's N(0, I) prior.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import chi2

from pelsvae_tf.regress.mixture import mixture_log_prob_np


def _shrunk_class_cov(
    r: np.ndarray, labels: np.ndarray, n_classes: int, center: bool, pseudo: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class mean [C, D] (zeros if not ``center``), covariance [C, D, D] shrunk towards the
    pooled one with ``pseudo`` pseudo-stars, and star counts [C]."""
    r = np.asarray(r, np.float64)
    d = r.shape[1]
    labels = np.asarray(labels, np.int64)
    mu_all = r.mean(axis=0) if center else np.zeros(d)
    pooled = np.cov((r - mu_all).T, bias=True).reshape(d, d) if r.shape[0] > 1 else np.eye(d)
    means = np.zeros((n_classes, d))
    covs = np.zeros((n_classes, d, d))
    counts = np.zeros(n_classes, np.int64)
    for c in range(n_classes):
        rc = r[labels == c]
        counts[c] = rc.shape[0]
        if rc.shape[0] == 0:
            means[c] = mu_all
            covs[c] = pooled
            continue
        m = rc.mean(axis=0) if center else np.zeros(d)
        s = (rc - m).T @ (rc - m) / rc.shape[0]
        means[c] = m
        covs[c] = (rc.shape[0] * s + pseudo * pooled) / (rc.shape[0] + pseudo)
    covs += 1e-9 * np.eye(d)
    return means, covs, counts


class ClassGaussian:
    """Per-class Gaussian baseline p(z | class) = N(m_c, S_c), physics ignored.

    ``m_c``/``S_c`` are the training stars' mean and covariance per class, shrunk towards the
    pooled covariance with ``D + 2`` pseudo-stars (a class with a handful of stars gets a usable
    covariance; a class without training stars gets the pooled Gaussian). With
    ``posterior_var`` [N, D] the mean encoder variance of the class is added to the diagonal (the
    baseline of a density fitted on posterior draws).
    """

    def __init__(self, z: np.ndarray, labels: np.ndarray, n_classes: int, posterior_var: np.ndarray | None = None):
        z = np.asarray(z, np.float64)
        d = z.shape[1]
        self.loc, cov, self.counts = _shrunk_class_cov(z, labels, n_classes, center=True, pseudo=d + 2.0)
        if posterior_var is not None:
            pv = np.asarray(posterior_var, np.float64)
            for c in range(n_classes):
                m = np.asarray(labels) == c
                cov[c] += np.diag(pv[m].mean(axis=0) if m.any() else pv.mean(axis=0))
        self.chol = np.linalg.cholesky(cov)

    def log_prob(self, z: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """log N(z; m_c, S_c) [nats, float64] per row."""
        lab = np.asarray(labels, np.int64)
        return mixture_log_prob_np(z, np.zeros((len(lab), 1)), self.loc[lab][:, None], self.chol[lab][:, None])

    def coverage(self, z: np.ndarray, labels: np.ndarray, levels=(0.68, 0.95)) -> dict[float, float]:
        """Share of rows of ``z`` inside the central ``levels`` ellipsoids (exact chi-square)."""
        lab = np.asarray(labels, np.int64)
        diff = np.asarray(z, np.float64) - self.loc[lab]
        y = np.linalg.solve(self.chol[lab], diff[..., None])[..., 0]
        m2 = np.sum(y * y, axis=1)
        return {q: float(np.mean(m2 <= chi2.ppf(q, z.shape[1]))) for q in levels}


def hdr_coverage(
    reg,
    phys_scaled: np.ndarray,
    labels: np.ndarray,
    z: np.ndarray,
    levels=(0.68, 0.95),
    n_samples: int = 2000,
    seed: int = 0,
) -> dict[float, float]:
    """Share of rows of ``z [N, D]`` inside the predicted highest-density regions (HDR).

    Method: for each row, ``n_samples`` draws from the regressor's own sampler
    (``reg.sample`` with seeds ``seed * 2**32 + i * n_samples + s``); the ``q`` HDR is
    {z : log p(z) >= t_q}, ``t_q`` the (1 - q) quantile of log p over the draws (Hyndman 1996);
    a row is inside if log p(z_i) >= t_q. Needs ``reg.log_prob``. Monte-Carlo error of the
    threshold ~ sqrt(q (1 - q) / n_samples) in probability (0.01 at 2000 draws).
    """
    phys = np.asarray(phys_scaled, np.float32)
    lab = np.asarray(labels, np.int64)
    n = phys.shape[0]
    inside = {q: np.zeros(n, bool) for q in levels}
    lp_true = reg.log_prob(z, phys, lab)
    chunk = max(1, 200_000 // n_samples)
    for s0 in range(0, n, chunk):
        ii = np.arange(s0, min(n, s0 + chunk))
        rep = np.repeat(ii, n_samples)
        seeds = (
            (np.int64(seed) << np.int64(32))
            + rep.astype(np.int64) * n_samples
            + np.tile(np.arange(n_samples, dtype=np.int64), ii.size)
        )
        zs = reg.sample(phys[rep], lab[rep], seeds)
        lp = reg.log_prob(zs, phys[rep], lab[rep]).reshape(ii.size, n_samples)
        for q in levels:
            t = np.quantile(lp, 1.0 - q, axis=1)
            inside[q][ii] = lp_true[ii] >= t
    return {q: float(np.mean(inside[q])) for q in levels}


def density_scores(
    reg, train: dict[str, np.ndarray], val: dict[str, np.ndarray], n_classes: int, seed: int = 0, n_samples: int = 2000
) -> dict[str, Any]:
    """Out-of-sample NLL and calibration of ``reg`` on ``val`` stars' posterior means, beside the
    per-class Gaussian baseline fitted on ``train`` (the same latents the regressor was fitted on).

    ``train``/``val``: dicts with ``phys_scaled``, ``z_mean``, ``z_log_var``, ``label`` (as
    :func:`pelsvae_tf.regress.fit.regression_arrays`). Returns ``nll_val`` / ``nll_val_baseline``
    (mean nats per star), ``cover68_val`` / ``cover95_val`` (share of val posterior means inside
    the predicted 68 % / 95 % regions) and the baseline's. Regions: HDR by sampling
    (:func:`hdr_coverage`) for ``density``; for a point regressor in residual mode the predictive
    is Gaussian N(f(x, dummy(seed)), Sigma_class) and the regions are its chi-square ellipsoids;
    in neighbours mode the predictive is the k neighbours' residual vectors about f (no density:
    NLL NaN) and a region is the Sigma_class ellipsoid holding that share of them;
    a point regressor without noise (the paper's) has no density: NaN.
    """
    cfg = reg.config
    draws = reg.kind == "density" and cfg.density_target == "draws"
    base = ClassGaussian(train["z_mean"], train["label"], n_classes, np.exp(train["z_log_var"]) if draws else None)
    bcov = base.coverage(val["z_mean"], val["label"])
    out = {
        "nll_val_baseline": float(-np.mean(base.log_prob(val["z_mean"], val["label"]))),
        "cover68_val_baseline": bcov[0.68],
        "cover95_val_baseline": bcov[0.95],
        "nll_val": float("nan"),
        "cover68_val": float("nan"),
        "cover95_val": float("nan"),
    }
    if reg.kind == "density":
        out["nll_val"] = float(-np.mean(reg.log_prob(val["z_mean"], val["phys_scaled"], val["label"])))
        cov = hdr_coverage(reg, val["phys_scaled"], val["label"], val["z_mean"], seed=seed, n_samples=n_samples)
        out["cover68_val"], out["cover95_val"] = cov[0.68], cov[0.95]
    elif getattr(reg, "resid_chol_", None) is not None and cfg.latent_noise in ("residual", "neighbours"):
        n = len(val["label"])
        seeds = (np.int64(seed) << np.int64(32)) + np.arange(n, dtype=np.int64)
        center = reg.sample_center(val["phys_scaled"], val["label"], seeds).astype(np.float64)
        lab = np.asarray(val["label"], np.int64)
        chol = reg.resid_chol_[lab]
        y = np.linalg.solve(chol, (np.asarray(val["z_mean"], np.float64) - center)[..., None])[..., 0]
        m2 = np.sum(y * y, axis=1)  # squared Mahalanobis distance under the class residual covariance
        d = center.shape[1]
        inside = {q: m2 <= chi2.ppf(q, d) for q in (0.68, 0.95)}  # the Gaussian's regions
        if cfg.latent_noise == "residual":
            lp = mixture_log_prob_np(val["z_mean"], np.zeros((n, 1)), center[:, None], chol[:, None])
            out["nll_val"] = float(-np.mean(lp))
        elif getattr(reg, "resid_table_", None) is not None:
            # the predictive is uniform over the k neighbours' residual vectors about f(x, dummy(seed)):
            # no density (NLL stays NaN); the q-region is the ellipsoid (class residual covariance)
            # holding a share q of those k vectors; a class with fewer than k training stars samples
            # the Gaussian and keeps its chi-square regions
            t = reg.resid_table_
            for c in np.unique(lab):
                pool = reg.neighbour_pool(c)
                if pool is None:
                    continue
                m = np.flatnonzero(lab == c)
                near = reg.nearest_rows(np.asarray(val["phys_scaled"])[m], pool)  # [m, k]
                y_draw = np.linalg.solve(reg.resid_chol_[c], t["resid"][near].reshape(-1, d).T)
                m2_draw = np.sum(y_draw**2, axis=0).reshape(near.shape)
                for q in inside:
                    # Weibull plotting positions (i / (k + 1)): a new star exchangeable with the k
                    # neighbours falls inside with probability q (the plain sample quantile of so
                    # few draws under-covers: 0.90 for 95 % at k = 20, measured)
                    inside[q][m] = m2[m] <= np.quantile(m2_draw, q, axis=1, method="weibull")
        else:
            inside = None
        if inside is not None:
            out["cover68_val"] = float(np.mean(inside[0.68]))
            out["cover95_val"] = float(np.mean(inside[0.95]))
    return out
