"""Physics -> latent regressors (paper section 4.2, Table 3) and ``pelsvae regress``.

A trained PELS-VAE encodes every star into a Gaussian latent N(mu, sigma). To *generate* from
physical parameters, a regressor maps the scaled physical vector (Teff [K], absolute G [mag],
period [d], ... scaled by the run's :class:`~pelsvae_tf.data.dataset.PhysicsScaler`) plus a
"dummy" U(0, 1) dimension to a latent vector z.

Training rows follow the paper: every star is repeated ``n_repeats`` times (paper 100,
reference code 10); each copy gets its own dummy value ~ U(0, 1) and its own latent target
z ~ N(mu, sigma) (``n_latent_draws`` targets per copy, default 1). A regressor that can use the
dummy (the random forest) then maps one physical vector to a spread of latents.

Class input (our choice, documented): by default (``use_class=True``) the one-hot class is
also a regressor input. The latent space of a class-conditioned VAE is shared by all classes,
and the same Teff means different latents for an RR Lyrae and a Cepheid; without the class the
regressor averages them. ``use_class=False`` reproduces the paper's physics-only input.

Three point kinds (``KINDS``, paper Table 3) and a density (``ALL_KINDS``) behind one
interface (:class:`PhysicsRegressor`):

- ``linear``: least squares (scikit-learn ``LinearRegression``/``Ridge``), stored as JSON.
- ``forest``: ``ydf.RandomForestLearner``, one regression model per latent dimension (kept in
  ``.models`` so TF export can call ``to_tensorflow_saved_model`` on each), YDF format on disk.
- ``mlp``: Keras MLP with standardised inputs (a ``Normalization`` layer adapted on the
  training rows; the reference fed raw Teff into a tanh MLP, option ``mlp_standardize=False``
  with ``mlp_activation="tanh"``), stored as ``.keras``.

- ``density``: a conditional density p(z | physics, class), a mixture density network fitted
  with TensorFlow Probability (:mod:`pelsvae_tf.regress.density`).

Sampling contract (issue 12), the same for every kind: :meth:`PhysicsRegressor.sample`
``(phys_scaled [B, P] float32, labels [B] int, seeds [B] int64) -> z [B, D] float32``. Every
random number comes from the counter-based RNG of :mod:`pelsvae_tf.counter_rng` keyed by the
curve's own seed: the paper dummy is ``uniform_np(seed, STREAM_DUMMY, 0)``, latent normals are
``normal_np(seed, STREAM_LATENT, d)`` (d < D) and the mixture component's uniform is
``uniform_np(seed, STREAM_COMPONENT, 0)``. A curve's z depends only on its own inputs and seed.
:func:`pelsvae_tf.regress.graph.graph_sampler` is the TF-graph twin (equal to 1e-5).

Residual mode (``latent_noise="residual"``, default) of linear / forest / MLP: ``sample`` returns
``z = f(physics, dummy) + L_c eps``, ``eps ~ N(0, I)``, where ``L_c L_c^T`` is the class's
OUT-OF-SAMPLE residual second moment of the posterior means, from ``residual_folds``-fold
cross-fitting over the training stars (split by star), shrunk towards the pooled residual
covariance with ``D + 2`` pseudo-stars. The residuals are taken against the single-dummy
prediction, so they already include the dummy's (small) spread, which ``sample`` then adds once
more. ``latent_noise="none"`` is the paper's behaviour (spread only through the dummy).
:meth:`predict` never adds the residual noise (Table 3's RMSE is unchanged).

Units: inputs are scaled physical parameters (dimensionless), the dummy is in [0, 1], outputs
are latent vectors in units of the N(0, I) prior.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from pelsvae_tf.atomic import atomic_dir, atomic_write_text
from pelsvae_tf.classes import CLASSES, DEFAULT_PHYSICS, check_physics_names
from pelsvae_tf.config import ConfigBase
from pelsvae_tf.counter_rng import STREAM_DUMMY, normal_np, uniform_np

log = logging.getLogger("pelsvae_tf.regress.regressors")

#: Kinds of paper Table 3 (point regressors); what existing callers (physics recovery, ...) iterate.
KINDS: tuple[str, ...] = ("linear", "forest", "mlp")
POINT_KINDS: tuple[str, ...] = KINDS
#: Every kind a RegressorConfig accepts: the point kinds and the conditional density.
ALL_KINDS: tuple[str, ...] = KINDS + ("density",)
#: Counter-RNG stream of the latent standard normals (residual eps, mixture component normals);
#: counter = latent dimension d. STREAM_DUMMY = 1 and STREAM_NOISE = 2 live in counter_rng.
STREAM_LATENT = 3
#: Counter-RNG stream of the uniform that chooses a mixture component (counter 0).
STREAM_COMPONENT = 4
#: Kinds ``fit_regressors`` / ``pelsvae regress`` fit by default. ``density`` is left out: its fit
#: took 26-79 s (3 seeds) on 2,000 stars x latent 4 on the shared 2-core machine, not "a few
#: seconds"; ask for it with ``kinds=ALL_KINDS`` / ``--kinds linear,forest,mlp,density``.
DEFAULT_KINDS: tuple[str, ...] = POINT_KINDS
LATENT_NOISE = ("residual", "none")
DENSITY_TARGETS = ("means", "draws")
#: Paper Table 3 (validation RMSE in latent space, computed in-sample by the reference code).
PAPER_TABLE3 = {
    ("cVAE", "linear"): 0.863, ("cVAE", "forest"): 0.299, ("cVAE", "mlp"): 0.863,
    ("cVAE-P", "linear"): 0.794, ("cVAE-P", "forest"): 0.289, ("cVAE-P", "mlp"): 0.798,
}
SPLIT_CODES = ("train", "val", "test")


@dataclasses.dataclass
class RegressorConfig(ConfigBase):
    """Settings of a physics -> latent regressor.

    Attributes:
        kind: ``"linear"``, ``"forest"`` (YDF random forest) or ``"mlp"`` (Keras).
        physics: physical parameters used as inputs; ``()`` = the run's model physics, or
            ``("teff", "abs_gmag", "period")`` for a cVAE (fit post hoc on any parameters).
        n_repeats: copies of each star (paper 100, reference code 10).
        n_latent_draws: latent targets z ~ N(mu, sigma) drawn per copy (rows = N * n_repeats *
            n_latent_draws).
        dummy: add the U(0, 1) dummy input dimension (paper).
        use_class: add the one-hot class as input (our default; ``False`` = paper input).
        seed: seed of the repeats, dummy draws, latent draws and model initialisation.
        num_trees, max_depth, min_examples, num_threads: YDF random forest options.
            ``min_examples=None`` (default) = 3 stars' worth of rows per leaf
            (``3 * n_repeats * n_latent_draws``): the copies of one star then cannot grow a
            private branch. Measured on the quick main job's run (277 training stars): leaf
            size 5 rows gave a 107 MB forest with out-of-sample RMSE 0.714 (in-sample 0.148);
            300 rows and 50 trees gave 1.8 MB and RMSE 0.635 (in-sample 0.297).
        linear_alpha: ridge penalty (0 = ordinary least squares, the paper).
        mlp_hidden, mlp_activation, mlp_epochs, mlp_batch_size, mlp_learning_rate,
        mlp_standardize: Keras MLP options.
        latent_noise: ``"residual"`` (default): :meth:`PhysicsRegressor.sample` of linear /
            forest / mlp adds eps ~ N(0, Sigma_class), Sigma from out-of-sample residuals;
            ``"none"``: the paper's behaviour (no noise beyond the dummy). Ignored by density.
        residual_folds: folds of the cross-fitting that gives the out-of-sample residuals
            (each fold refits the regressor once: fit time ~ (1 + residual_folds) x).
        density_components: mixture components K of the density.
        density_hidden: hidden tanh layers of the density network.
        density_target: ``"means"`` (fit posterior means) or ``"draws"`` (``density_draws``
            draws z ~ N(mu, sigma) per star, the paper's repeats); see :mod:`pelsvae_tf.regress.density`.
        density_draws: draws per star with ``density_target="draws"``.
        density_epochs, density_batch_size, density_learning_rate, density_weight_decay:
            Adam training of the density (at most ``density_epochs`` epochs, L2 weight decay).
        density_patience: early stopping patience [epochs] on the holdout NLL.
        density_holdout: share of the TRAINING stars held out for early stopping.
        density_input_noise: training jitter of the physics inputs, in standard deviations of
            each scaled parameter (noise regularisation; 0 = off).
        density_min_scale: floor of every Cholesky diagonal, in training standard deviations of
            the latent dimension (keeps components from collapsing onto single stars).
    """

    kind: str = "forest"
    physics: tuple[str, ...] = ()
    n_repeats: int = 100
    n_latent_draws: int = 1
    dummy: bool = True
    use_class: bool = True
    seed: int = 0
    num_trees: int = 50
    max_depth: int = 16
    min_examples: int | None = None
    num_threads: int | None = None
    linear_alpha: float = 0.0
    mlp_hidden: tuple[int, ...] = (64, 64)
    mlp_activation: str = "relu"
    mlp_epochs: int = 20
    mlp_batch_size: int = 512
    mlp_learning_rate: float = 1e-3
    mlp_standardize: bool = True
    latent_noise: str = "residual"
    residual_folds: int = 5
    density_components: int = 3
    density_hidden: tuple[int, ...] = (16,)
    density_target: str = "means"
    density_draws: int = 10
    density_epochs: int = 400
    density_batch_size: int = 128
    density_learning_rate: float = 1e-2
    density_weight_decay: float = 3e-2
    density_patience: int = 40
    density_holdout: float = 0.15
    density_min_scale: float = 0.1
    density_input_noise: float = 0.3

    def __post_init__(self):
        def bad(field, msg):
            raise ValueError(f"RegressorConfig.{field}: {msg}")

        if self.kind not in ALL_KINDS:
            bad("kind", f"{self.kind!r}; expected one of {ALL_KINDS}")
        self.physics = check_physics_names(self.physics)
        if int(self.n_repeats) < 1:
            bad("n_repeats", f"{self.n_repeats}; must be >= 1 (paper: 100)")
        if int(self.n_latent_draws) < 1:
            bad("n_latent_draws", f"{self.n_latent_draws}; must be >= 1")
        if int(self.num_trees) < 1:
            bad("num_trees", f"{self.num_trees}; must be >= 1")
        if self.min_examples is not None and int(self.min_examples) < 1:
            bad("min_examples", f"{self.min_examples}; must be >= 1 row or None (3 stars' copies)")
        if int(self.max_depth) < 1:
            bad("max_depth", f"{self.max_depth}; must be >= 1")
        if self.linear_alpha < 0:
            bad("linear_alpha", f"{self.linear_alpha}; must be >= 0")
        if any(int(h) < 1 for h in self.mlp_hidden):
            bad("mlp_hidden", f"{self.mlp_hidden}; every layer needs >= 1 unit")
        if int(self.mlp_epochs) < 1:
            bad("mlp_epochs", f"{self.mlp_epochs}; must be >= 1")
        if self.mlp_activation not in ("relu", "tanh", "gelu", "elu", "swish"):
            bad("mlp_activation", f"{self.mlp_activation!r}; expected relu, tanh, gelu, elu or swish")
        self.mlp_hidden = tuple(int(h) for h in self.mlp_hidden)
        if self.latent_noise not in LATENT_NOISE:
            bad("latent_noise", f"{self.latent_noise!r}; expected one of {LATENT_NOISE} ('none' = paper)")
        if int(self.residual_folds) < 2:
            bad("residual_folds", f"{self.residual_folds}; must be >= 2 (out-of-sample residuals)")
        if int(self.density_components) < 1:
            bad("density_components", f"{self.density_components}; must be >= 1")
        if any(int(h) < 1 for h in self.density_hidden):
            bad("density_hidden", f"{self.density_hidden}; every layer needs >= 1 unit")
        self.density_hidden = tuple(int(h) for h in self.density_hidden)
        if self.density_target not in DENSITY_TARGETS:
            bad("density_target", f"{self.density_target!r}; expected one of {DENSITY_TARGETS}")
        if int(self.density_draws) < 1:
            bad("density_draws", f"{self.density_draws}; must be >= 1")
        if int(self.density_epochs) < 1 or int(self.density_batch_size) < 1 or int(self.density_patience) < 1:
            bad("density_epochs", "density_epochs, density_batch_size and density_patience must be >= 1")
        if not (self.density_learning_rate > 0):
            bad("density_learning_rate", f"{self.density_learning_rate}; must be > 0")
        if self.density_weight_decay < 0:
            bad("density_weight_decay", f"{self.density_weight_decay}; must be >= 0")
        if not (0.0 <= self.density_holdout < 0.5):
            bad("density_holdout", f"{self.density_holdout}; must be in [0, 0.5)")
        if not (self.density_input_noise >= 0):
            bad("density_input_noise", f"{self.density_input_noise}; must be >= 0")
        if not (self.density_min_scale > 0):
            bad("density_min_scale", f"{self.density_min_scale}; must be > 0 (standard deviations)")

    def leaf_rows(self) -> int:
        """Smallest number of training rows in a forest leaf (see ``min_examples``)."""
        if self.min_examples is not None:
            return int(self.min_examples)
        return 3 * int(self.n_repeats) * int(self.n_latent_draws)


def expand_rows(
    phys_scaled: np.ndarray,
    z_mean: np.ndarray,
    z_log_var: np.ndarray,
    labels: np.ndarray | None,
    n_repeats: int,
    n_latent_draws: int = 1,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    """Paper's training rows: repeat each star, draw dummy ~ U(0,1) and z ~ N(mu, sigma) per row.

    Returns ``(phys [M, P], dummy [M], labels [M] or None, z [M, D])`` with
    ``M = N * n_repeats * n_latent_draws``; rows of one star are contiguous.
    """
    rng = np.random.default_rng(seed)
    n = phys_scaled.shape[0]
    reps = int(n_repeats) * int(n_latent_draws)
    idx = np.repeat(np.arange(n), reps)
    dummy_per_copy = rng.uniform(0.0, 1.0, size=(n, int(n_repeats)))
    dummy = np.repeat(dummy_per_copy, int(n_latent_draws), axis=1).reshape(-1)
    sigma = np.exp(0.5 * z_log_var[idx])
    z = z_mean[idx] + sigma * rng.standard_normal(size=sigma.shape)
    lab = None if labels is None else np.asarray(labels)[idx]
    return phys_scaled[idx].astype(np.float32), dummy.astype(np.float32), lab, z.astype(np.float32)


class PhysicsRegressor:
    """Common interface of the physics -> latent regressors.

    Inputs: scaled physical parameters ``[N, P]`` in the order of :attr:`physics`, an optional
    dummy ``[N]`` in [0, 1] and integer class labels ``[N]`` (indices into :attr:`classes`,
    needed when ``config.use_class``). Output: latent vectors ``[N, D]``.
    """

    kind = "base"

    def __init__(self, config: RegressorConfig, physics: Sequence[str], latent_dim: int,
                 classes: Sequence[str] = CLASSES):
        self.config = config
        self.physics = check_physics_names(physics)
        if not self.physics:
            raise ValueError("PhysicsRegressor: physics is empty; give at least one parameter")
        self.latent_dim = int(latent_dim)
        self.classes = tuple(classes)
        self.fitted = False

    # -- inputs -----------------------------------------------------------------------------
    @property
    def input_names(self) -> list[str]:
        """Column names of the input matrix: physics, ``dummy`` (if used), ``class_<NAME>``."""
        names = list(self.physics)
        if self.config.dummy:
            names.append("dummy")
        if self.config.use_class:
            names += [f"class_{c}" for c in self.classes]
        return names

    def input_matrix(self, phys_scaled: np.ndarray, dummy: np.ndarray | None,
                     labels: np.ndarray | None) -> np.ndarray:
        """Assemble the float32 input matrix ``[N, len(input_names)]``; validates shapes/values."""
        phys = np.asarray(phys_scaled, dtype=np.float32)
        if phys.ndim != 2 or phys.shape[1] != len(self.physics):
            raise ValueError(
                f"{type(self).__name__}: phys_scaled has shape {phys.shape}; expected [N, "
                f"{len(self.physics)}] for parameters {self.physics}"
            )
        if not np.all(np.isfinite(phys)):
            raise ValueError(f"{type(self).__name__}: phys_scaled contains NaN/inf; drop those stars")
        cols = [phys]
        if self.config.dummy:
            d = np.asarray(dummy, dtype=np.float32).reshape(-1)
            if d.shape[0] != phys.shape[0]:
                raise ValueError(f"dummy has {d.shape[0]} values; expected {phys.shape[0]}")
            cols.append(d[:, None])
        if self.config.use_class:
            if labels is None:
                raise ValueError(
                    f"{type(self).__name__}: labels are required (the regressor was configured "
                    f"with use_class=True)"
                )
            lab = np.asarray(labels).reshape(-1)
            if lab.shape[0] != phys.shape[0]:
                raise ValueError(f"labels has {lab.shape[0]} values; expected {phys.shape[0]}")
            if lab.size and (lab.min() < 0 or lab.max() >= len(self.classes)):
                raise ValueError(f"labels must be class indices in [0, {len(self.classes)})")
            cols.append(np.eye(len(self.classes), dtype=np.float32)[lab.astype(np.int64)])
        return np.concatenate(cols, axis=1)

    # -- fit / predict ------------------------------------------------------------------------
    def fit(self, phys_scaled: np.ndarray, z_mean: np.ndarray, z_log_var: np.ndarray,
            labels: np.ndarray | None = None) -> "PhysicsRegressor":
        """Fit on stars: expand each into ``n_repeats`` rows (dummy, z ~ N(mu, sigma)), train."""
        z_mean = np.asarray(z_mean, dtype=np.float32)
        z_log_var = np.asarray(z_log_var, dtype=np.float32)
        if z_mean.ndim != 2 or z_mean.shape[1] != self.latent_dim or z_log_var.shape != z_mean.shape:
            raise ValueError(
                f"fit: z_mean {z_mean.shape} / z_log_var {z_log_var.shape}; expected [N, {self.latent_dim}]"
            )
        if z_mean.shape[0] != np.asarray(phys_scaled).shape[0] or z_mean.shape[0] == 0:
            raise ValueError(f"fit: {np.asarray(phys_scaled).shape[0]} physics rows vs {z_mean.shape[0]} latents")
        phys, dummy, lab, z = expand_rows(
            np.asarray(phys_scaled, dtype=np.float32), z_mean, z_log_var, labels,
            self.config.n_repeats, self.config.n_latent_draws, self.config.seed,
        )
        x = self.input_matrix(phys, dummy, lab)
        self._fit(x, z)
        self.fitted = True
        self.resid_chol_ = None
        if self.config.latent_noise == "residual":
            self._fit_residuals(np.asarray(phys_scaled, np.float32), z_mean, z_log_var, labels)
        return self

    def _fit_residuals(self, phys, z_mean, z_log_var, labels) -> None:
        """Per-class out-of-sample residual covariance by K-fold cross-fitting over stars."""
        from pelsvae_tf.regress.density import _shrunk_class_cov

        n = phys.shape[0]
        folds = min(int(self.config.residual_folds), n)
        if folds < 2:
            raise ValueError(f"residual mode needs >= 2 training stars, got {n}; use latent_noise='none'")
        rng = np.random.default_rng(int(self.config.seed) + 7919)
        perm = rng.permutation(n)
        resid = np.zeros((n, self.latent_dim))
        lab = None if labels is None else np.asarray(labels)
        for f, test in enumerate(np.array_split(perm, folds)):
            train = np.setdiff1d(perm, test)
            sub = make_regressor(self.config.replace(latent_noise="none", seed=int(self.config.seed) + 101 + f),
                                 self.physics, self.latent_dim, self.classes)
            sub.fit(phys[train], z_mean[train], z_log_var[train], None if lab is None else lab[train])
            dummy = rng.uniform(0.0, 1.0, size=test.size) if self.config.dummy else None
            pred = sub.predict(phys[test], dummy=dummy, labels=None if lab is None else lab[test])
            resid[test] = z_mean[test] - pred
        groups = np.zeros(n, np.int64) if lab is None else lab.astype(np.int64)
        _, cov, counts = _shrunk_class_cov(resid, groups, len(self.classes), center=False,
                                           pseudo=self.latent_dim + 2.0)
        self.resid_chol_ = np.linalg.cholesky(cov)
        self.resid_counts_ = counts
        self.resid_rms_ = float(np.sqrt(np.mean(resid ** 2)))

    # -- sampling contract ----------------------------------------------------------------------
    def check_sample_inputs(self, phys_scaled, labels, seeds) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Validate and convert the inputs of :meth:`sample`; ValueError naming the bad field."""
        if not self.fitted:
            raise ValueError(f"{type(self).__name__}: call fit() (or load_regressor) before sample()")
        phys = np.asarray(phys_scaled, dtype=np.float32)
        if phys.ndim != 2 or phys.shape[1] != len(self.physics):
            raise ValueError(f"sample: phys_scaled has shape {phys.shape}; expected [B, {len(self.physics)}] "
                             f"with columns {self.physics} (scaled by the run's PhysicsScaler)")
        bad = ~np.isfinite(phys)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise ValueError(f"sample: phys_scaled has NaN/inf ({int(bad.any(axis=1).sum())} rows; first row {r}, "
                             f"parameter {self.physics[c]!r}); drop those stars or give a finite value")
        lab = np.asarray(labels)
        if lab.ndim != 1 or lab.shape[0] != phys.shape[0]:
            raise ValueError(f"sample: labels has shape {lab.shape}; expected [{phys.shape[0]}] class indices")
        if lab.size and not np.issubdtype(lab.dtype, np.integer):
            if not np.all(np.isfinite(lab.astype(np.float64))) or np.any(lab != np.round(lab)):
                raise ValueError("sample: labels must be integer class indices into regressor.classes")
        lab = lab.astype(np.int64)
        if lab.size and (lab.min() < 0 or lab.max() >= len(self.classes)):
            badv = int(lab[(lab < 0) | (lab >= len(self.classes))][0])
            raise ValueError(f"sample: labels contains unknown class index {badv}; expected 0..{len(self.classes) - 1} "
                             f"for classes {self.classes}")
        s = np.asarray(seeds)
        if s.ndim != 1 or s.shape[0] != phys.shape[0] or (s.size and not np.issubdtype(s.dtype, np.integer)):
            raise ValueError(f"sample: seeds has shape {s.shape} / dtype {s.dtype}; expected [{phys.shape[0]}] int64, "
                             "one seed per curve")
        return phys, lab, s.astype(np.int64)

    def sample(self, phys_scaled: np.ndarray, labels: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        """Draw one latent per row: ``phys_scaled [B, P]`` (scaled physics, float32), ``labels
        [B]`` (class indices into :attr:`classes`), ``seeds [B]`` (int64, one per curve) ->
        ``z [B, D]`` float32 (latent units). Deterministic given (inputs, seed) row by row; all
        random numbers from the counter RNG (see the module docstring). NaN physics, unknown
        class or a wrong shape -> ValueError naming the field."""
        phys, lab, s = self.check_sample_inputs(phys_scaled, labels, seeds)
        if phys.shape[0] == 0:
            return np.zeros((0, self.latent_dim), np.float32)
        return self._sample(phys, lab, s)

    def sample_center(self, phys: np.ndarray, labels: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        """The point part of :meth:`sample`: f(physics, dummy(seed)) ``[B, D]`` float64."""
        dummy = uniform_np(seeds, STREAM_DUMMY, np.zeros(seeds.shape, np.uint32)) if self.config.dummy else None
        x = self.input_matrix(phys, dummy, labels if self.config.use_class else None)
        return np.asarray(self._predict(x), np.float64).reshape(x.shape[0], self.latent_dim)

    def _sample(self, phys, labels, seeds):
        z = self.sample_center(phys, labels, seeds)
        if self.config.latent_noise == "residual":
            if getattr(self, "resid_chol_", None) is None:
                raise ValueError(f"{type(self).__name__}: latent_noise='residual' but no residual covariance was "
                                 "fitted or saved; refit it (`pelsvae regress RUN_DIR --force`)")
            eps = normal_np(seeds[:, None], STREAM_LATENT, np.arange(self.latent_dim, dtype=np.uint32)[None, :])
            z = z + np.einsum("bij,bj->bi", self.resid_chol_[labels], eps.astype(np.float64))
        return z.astype(np.float32)

    def predict(self, phys_scaled: np.ndarray, dummy: np.ndarray | None = None, seed: int = 0,
                labels: np.ndarray | None = None) -> np.ndarray:
        """Latent vectors ``[N, D]`` (float32). ``dummy=None`` draws U(0, 1) with ``seed``."""
        if not self.fitted:
            raise ValueError(f"{type(self).__name__}: call fit() (or load_regressor) before predict()")
        n = np.asarray(phys_scaled).shape[0] if np.ndim(phys_scaled) == 2 else -1
        if dummy is None and self.config.dummy:
            dummy = np.random.default_rng(seed).uniform(0.0, 1.0, size=max(n, 0))
        x = self.input_matrix(phys_scaled, dummy, labels)
        if x.shape[0] == 0:
            return np.zeros((0, self.latent_dim), dtype=np.float32)
        return np.asarray(self._predict(x), dtype=np.float32).reshape(x.shape[0], self.latent_dim)

    def _fit(self, x: np.ndarray, z: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _predict(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- persistence ---------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write the regressor to ``directory`` atomically (``regressor.json`` + model files)."""
        if not self.fitted:
            raise ValueError("save: the regressor is not fitted")
        directory = Path(directory)
        with atomic_dir(directory) as tmp:
            self._save_payload(tmp)
            if getattr(self, "resid_chol_", None) is not None:
                atomic_write_text(tmp / "residual.json", json.dumps({
                    "chol": self.resid_chol_.tolist(), "counts": np.asarray(self.resid_counts_).tolist(),
                    "rms": self.resid_rms_}) + "\n")
            meta = {
                "format": "pelsvae-regressor", "version": 1, "kind": self.kind,
                "config": self.config.to_dict(), "physics": list(self.physics),
                "latent_dim": self.latent_dim, "classes": list(self.classes),
                "input_names": self.input_names,
            }
            atomic_write_text(tmp / "regressor.json", json.dumps(meta, indent=2) + "\n")
        return directory

    def _save_payload(self, directory: Path) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _load_payload(self, directory: Path) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(physics={self.physics}, latent_dim={self.latent_dim}, "
                f"inputs={len(self.input_names)}, fitted={self.fitted})")


class LinearRegressor(PhysicsRegressor):
    """Multi-output least squares z = x W^T + b (scikit-learn; ridge if ``linear_alpha > 0``)."""

    kind = "linear"

    def _fit(self, x, z):
        from sklearn.linear_model import LinearRegression, Ridge

        model = Ridge(alpha=self.config.linear_alpha) if self.config.linear_alpha > 0 else LinearRegression()
        model.fit(x, z)
        self.coef_ = np.asarray(model.coef_, dtype=np.float64).reshape(self.latent_dim, x.shape[1])
        self.intercept_ = np.asarray(model.intercept_, dtype=np.float64).reshape(self.latent_dim)

    def _predict(self, x):
        return x.astype(np.float64) @ self.coef_.T + self.intercept_

    def _save_payload(self, directory):
        atomic_write_text(directory / "linear.json", json.dumps(
            {"coef": self.coef_.tolist(), "intercept": self.intercept_.tolist()}) + "\n")

    def _load_payload(self, directory):
        d = json.loads((directory / "linear.json").read_text())
        self.coef_ = np.asarray(d["coef"], dtype=np.float64)
        self.intercept_ = np.asarray(d["intercept"], dtype=np.float64)


class ForestRegressor(PhysicsRegressor):
    """YDF random forest, one regression model per latent dimension (``.models[d]``).

    The YDF models take a dict of float32 columns named by :attr:`input_names`; each can be
    exported with ``model.to_tensorflow_saved_model(path)`` (needs ``ydf-tf``).
    """

    kind = "forest"

    def _columns(self, x: np.ndarray) -> dict[str, np.ndarray]:
        return {name: np.ascontiguousarray(x[:, j]) for j, name in enumerate(self.input_names)}

    def _fit(self, x, z):
        import ydf
        from tqdm.auto import tqdm

        ydf.verbose(0)
        cols = self._columns(x)
        self.models = []
        for d in tqdm(range(self.latent_dim), desc="forest (per latent dim)", leave=False):
            learner = ydf.RandomForestLearner(
                label=f"z{d}", task=ydf.Task.REGRESSION, num_trees=int(self.config.num_trees),
                max_depth=int(self.config.max_depth), min_examples=int(self.config.leaf_rows()),
                random_seed=int(self.config.seed) * 1009 + d, num_threads=self.config.num_threads,
                compute_oob_performances=False,
            )
            data = dict(cols)
            data[f"z{d}"] = z[:, d].astype(np.float32)
            self.models.append(learner.train(data))

    def _predict(self, x):
        cols = self._columns(x)
        return np.stack([np.asarray(m.predict(cols)).reshape(-1) for m in self.models], axis=1)

    def _save_payload(self, directory):
        for d, m in enumerate(self.models):
            m.save(str(directory / "models" / f"z{d}"))

    def _load_payload(self, directory):
        import ydf

        ydf.verbose(0)
        self.models = [ydf.load_model(str(directory / "models" / f"z{d}")) for d in range(self.latent_dim)]


class MLPRegressor(PhysicsRegressor):
    """Keras MLP: ``Normalization`` (standardised inputs) -> Dense stack -> linear head [D]."""

    kind = "mlp"

    def _build(self, x: np.ndarray):
        import keras

        inputs = keras.Input(shape=(x.shape[1],), name="regressor_inputs")
        h = inputs
        if self.config.mlp_standardize:
            # Standardise with the training rows' mean and variance. A constant column (the
            # one-hot column of a class absent from the training rows) keeps variance 1, so an
            # unseen class is not divided by ~0 (which gave z ~ 1e6).
            mean = x.mean(axis=0)
            var = x.var(axis=0)
            var = np.where(var > 1e-12, var, 1.0)
            norm = keras.layers.Normalization(axis=-1, mean=mean, variance=var, name="standardise")
            h = norm(h)
        for i, units in enumerate(self.config.mlp_hidden):
            h = keras.layers.Dense(units, activation=self.config.mlp_activation, name=f"hidden_{i}")(h)
        out = keras.layers.Dense(self.latent_dim, name="z")(h)
        return keras.Model(inputs, out, name="regressor_mlp")

    def _fit(self, x, z):
        import keras

        keras.utils.set_random_seed(int(self.config.seed))
        self.model = self._build(x)
        self.model.compile(optimizer=keras.optimizers.Adam(self.config.mlp_learning_rate), loss="mse")
        self.model.fit(x, z, epochs=int(self.config.mlp_epochs), batch_size=int(self.config.mlp_batch_size),
                       shuffle=True, verbose=2 if x.shape[0] > 50_000 else 0)

    def _predict(self, x):
        out = []
        for s in range(0, x.shape[0], 65536):
            out.append(np.asarray(self.model(x[s:s + 65536], training=False)))
        return np.concatenate(out, axis=0)

    def _save_payload(self, directory):
        self.model.save(directory / "model.keras")

    def _load_payload(self, directory):
        import keras

        self.model = keras.models.load_model(directory / "model.keras", compile=False)


REGRESSOR_CLASSES: dict[str, type[PhysicsRegressor]] = {
    "linear": LinearRegressor, "forest": ForestRegressor, "mlp": MLPRegressor,
}


def make_regressor(config: RegressorConfig, physics: Sequence[str], latent_dim: int,
                   classes: Sequence[str] = CLASSES) -> PhysicsRegressor:
    """Build an unfitted regressor of ``config.kind``."""
    if config.kind == "density" and "density" not in REGRESSOR_CLASSES:
        from pelsvae_tf.regress.density import DensityRegressor

        REGRESSOR_CLASSES["density"] = DensityRegressor
    return REGRESSOR_CLASSES[config.kind](config, physics, latent_dim, classes)


def load_regressor(directory: str | Path) -> PhysicsRegressor:
    """Load a regressor written by :meth:`PhysicsRegressor.save`."""
    directory = Path(directory)
    meta_path = directory / "regressor.json"
    if not meta_path.exists():
        raise FileNotFoundError(
            f"{directory} holds no fitted regressor (no regressor.json); run `pelsvae regress RUN_DIR`"
        )
    meta = json.loads(meta_path.read_text())
    if meta.get("format") != "pelsvae-regressor":
        raise ValueError(f"{meta_path}: not a pelsvae regressor")
    cfg_d = dict(meta["config"])
    if "latent_noise" not in cfg_d:
        # written before the residual mode existed (no residual covariance on disk): the paper's
        # behaviour, which is how it was fitted
        cfg_d["latent_noise"] = "none"
    config = RegressorConfig.from_dict(cfg_d)
    reg = make_regressor(config, meta["physics"], meta["latent_dim"], meta["classes"])
    reg._load_payload(directory)
    reg.resid_chol_ = None
    if (directory / "residual.json").exists():
        r = json.loads((directory / "residual.json").read_text())
        reg.resid_chol_ = np.asarray(r["chol"], np.float64)
        reg.resid_counts_ = np.asarray(r["counts"], np.int64)
        reg.resid_rms_ = float(r["rms"])
    reg.fitted = True
    return reg


# ---------------------------------------------------------------------------------------------
# Run-level fitting and Table 3
# ---------------------------------------------------------------------------------------------
def read_run_config(run_dir: str | Path) -> dict[str, Any]:
    """``RUN_DIR/config.json`` as a dict (FileNotFoundError naming the run dir if absent)."""
    path = Path(run_dir) / "config.json"
    if not path.exists():
        raise FileNotFoundError(f"{run_dir} is not a run directory (no config.json); train one with `pelsvae train`")
    return json.loads(path.read_text())


def run_model_physics(run_dir: str | Path) -> tuple[str, ...]:
    """Physical parameters the run's encoder saw (``()`` for a cVAE)."""
    return tuple(read_run_config(run_dir).get("model", {}).get("physics", ()) or ())


def default_physics(run_dir: str | Path) -> tuple[str, ...]:
    """Regressor inputs by default: the run's model physics, or Teff/abs G/period for a cVAE."""
    return run_model_physics(run_dir) or DEFAULT_PHYSICS


def regressor_name(kind: str, physics: Sequence[str], run_dir: str | Path) -> str:
    """Sub-directory name under ``RUN_DIR/regressors``: ``kind`` for the default physics,
    ``kind@p1+p2`` for a post-hoc set of parameters."""
    physics = tuple(physics)
    return kind if physics == default_physics(run_dir) else f"{kind}@{'+'.join(physics)}"


def load_latents(run_dir: str | Path) -> dict[str, np.ndarray]:
    """Read ``RUN_DIR/latents.npz``; ``split`` returned as strings (train/val/test)."""
    path = Path(run_dir) / "latents.npz"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; it is written at the end of `pelsvae train`")
    with np.load(path, allow_pickle=False) as z:
        lat = {k: z[k] for k in z.files}
    for key in ("z_mean", "z_log_var", "label", "phys", "split"):
        if key not in lat:
            raise ValueError(f"{path}: missing array {key!r}")
    split = lat["split"]
    if np.issubdtype(split.dtype, np.integer):
        lat["split"] = np.asarray(SPLIT_CODES, dtype="<U5")[split]
    else:
        lat["split"] = split.astype(str)
    if "star_id" not in lat:
        lat["star_id"] = np.asarray([f"row{i}" for i in range(len(lat["label"]))])
    return lat


def _physics_columns(run_dir: str | Path, lat: dict[str, np.ndarray]) -> tuple[str, ...]:
    from pelsvae_tf.data.dataset import PHYSICS_COLUMNS

    cfg = read_run_config(run_dir)
    cols = cfg.get("dataset_schema", {}).get("physics_columns") or list(PHYSICS_COLUMNS)
    if lat["phys"].shape[1] != len(cols):
        mp = run_model_physics(run_dir)
        if lat["phys"].shape[1] == len(mp):
            return tuple(mp)
        raise ValueError(f"latents.npz: phys has {lat['phys'].shape[1]} columns; expected {len(cols)} ({cols})")
    return tuple(cols)


def load_physics_scaler(run_dir: str | Path):
    """The run's :class:`PhysicsScaler` (``RUN_DIR/physics_scaler.json``)."""
    from pelsvae_tf.data.dataset import PhysicsScaler

    return PhysicsScaler.load(Path(run_dir) / "physics_scaler.json")


def regression_arrays(run_dir: str | Path, physics: Sequence[str], split: str) -> dict[str, np.ndarray]:
    """Stars of ``split`` having every parameter of ``physics``: scaled phys, latents, labels, IDs."""
    lat = load_latents(run_dir)
    cols = _physics_columns(run_dir, lat)
    missing = [p for p in physics if p not in cols]
    if missing:
        raise ValueError(f"physics {missing} not in the run's latents.npz columns {list(cols)}")
    idx = [cols.index(p) for p in physics]
    raw = lat["phys"][:, idx].astype(np.float64)
    m = (lat["split"] == split) & np.all(np.isfinite(raw), axis=1)
    scaler = load_physics_scaler(run_dir)
    return {
        "phys_scaled": scaler.transform(raw[m], physics), "phys_raw": raw[m],
        "z_mean": lat["z_mean"][m].astype(np.float32), "z_log_var": lat["z_log_var"][m].astype(np.float32),
        "label": lat["label"][m].astype(np.int64), "star_id": lat["star_id"][m],
    }


def rmse(pred: np.ndarray, target: np.ndarray) -> float:
    """Root-mean-square error over all stars and latent dimensions (latent units)."""
    return float(np.sqrt(np.mean((np.asarray(pred, np.float64) - np.asarray(target, np.float64)) ** 2)))


def dummy_averaged_prediction(reg: PhysicsRegressor, arrays: dict[str, np.ndarray], seed: int,
                              n_draws: int = 16) -> np.ndarray:
    """Prediction averaged over ``n_draws`` dummy draws: the regressor's estimate of E[z | physics]
    (the single-draw prediction also carries the spread the dummy was fitted to reproduce)."""
    n = len(arrays["label"])
    if not reg.config.dummy:
        return reg.predict(arrays["phys_scaled"], labels=arrays["label"])
    rng = np.random.default_rng(seed)
    d = rng.uniform(0.0, 1.0, size=(n_draws, n)).reshape(-1)
    pred = reg.predict(np.tile(arrays["phys_scaled"], (n_draws, 1)), dummy=d,
                       labels=np.tile(arrays["label"], n_draws))
    return pred.reshape(n_draws, n, -1).mean(axis=0)


def write_train_stats(run_dir: str | Path) -> Path:
    """Write ``RUN_DIR/regressors/train_stats.npz``: the real TRAIN stars' class, raw physics
    (units of ``physics_columns``), period [d], mag_mean [mag], mag_range [mag], err_median [mag],
    and the model-curve statistics the generator samples magnitudes from:

    - ``amplitude_model`` [mag]: peak-to-peak of the star's noise-free model curve, i.e. its
      ``mag_range`` times the peak-to-peak of its decoded phase function (encoder posterior mean,
      decoded on the generator's phase grid, :mod:`pelsvae_tf.generate.phase_function`);
    - ``mag_mean_model`` [mag]: the phase average of that model curve in magnitudes.

    Stars without an encoder latent (a cVAE-P encodes only stars with all its physics) get their
    class's median ratio of model to min-max amplitude and median scaled mean (``model_stats``
    says "class median" for them). Read from the prepared dataset of the run (``config.json``
    ``data_dir``); if that is gone, from ``latents.npz`` without magnitude metadata.
    """
    from pelsvae_tf.data.dataset import PreparedDataset

    run_dir = Path(run_dir)
    cfg = read_run_config(run_dir)
    out = run_dir / "regressors" / "train_stats.npz"
    data_dir = cfg.get("data_dir")
    stats: dict[str, np.ndarray]
    if data_dir and (Path(data_dir) / "schema.json").exists():
        ds = PreparedDataset(data_dir)
        a = ds.arrays("train")
        m = a["is_real"].astype(bool)
        stats = {k: a[k][m] for k in ("label", "phys", "period", "mag_mean", "mag_range", "err_median", "star_id")}
        stats.update(_model_curve_stats(run_dir, stats["label"], stats["star_id"], a["mag_min"][m],
                                        stats["mag_range"]))
        stats["physics_columns"] = np.asarray(ds.physics_columns)
        stats["classes"] = np.asarray(ds.classes)
    else:
        log.warning("dataset %s not found: train_stats without magnitude metadata", data_dir)
        lat = load_latents(run_dir)
        m = lat["split"] == "train"
        cols = _physics_columns(run_dir, lat)
        nan = np.full(int(m.sum()), np.nan, dtype=np.float32)
        period = lat["phys"][m][:, cols.index("period")] if "period" in cols else nan
        stats = {"label": lat["label"][m], "phys": lat["phys"][m], "period": period.astype(np.float64),
                 "mag_mean": nan, "mag_range": nan, "err_median": nan, "star_id": lat["star_id"][m],
                 "amplitude_model": nan, "mag_mean_model": nan,
                 "physics_columns": np.asarray(cols),
                 "classes": np.asarray(cfg.get("dataset_schema", {}).get("classes", CLASSES))}
    from pelsvae_tf.atomic import atomic_path

    with atomic_path(out) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **stats)
    return out


def _model_curve_stats(run_dir: Path, label: np.ndarray, star_id: np.ndarray, mag_min: np.ndarray,
                       mag_range: np.ndarray) -> dict[str, np.ndarray]:
    """``amplitude_model`` / ``mag_mean_model`` [mag] of training stars (see :func:`write_train_stats`)."""
    from pelsvae_tf.generate.phase_function import PhaseFunction, curve_model_stats
    from pelsvae_tf.train import load_run

    run = load_run(run_dir)
    lat = load_latents(run_dir)
    tr = lat["split"] == "train"
    pos = {str(s): i for i, s in enumerate(lat["star_id"][tr])}
    rows = np.asarray([pos.get(str(s), -1) for s in star_id])
    n = len(label)
    mean_s = np.full(n, np.nan)
    ptp_s = np.full(n, np.nan)
    have = rows >= 0
    if have.any():
        pf = PhaseFunction(run.decoder, n_grid=int(run.model_config.seq_len), model_config=run.model_config)
        onehot = np.eye(len(run.classes), dtype=np.float32)[label[have]]
        s_grid, _ = pf.grid_np(lat["z_mean"][tr][rows[have]], onehot)
        st = curve_model_stats(s_grid)
        mean_s[have], ptp_s[have] = st["mean_s"], st["ptp_s"]
    source = np.where(have, "model curve", "class median").astype("<U12")
    for c in np.unique(label):
        miss = (label == c) & ~have
        if miss.any():
            ref = (label == c) & have
            pool_mean = mean_s[ref] if ref.any() else mean_s[have]
            pool_ptp = ptp_s[ref] if ref.any() else ptp_s[have]
            mean_s[miss] = np.median(pool_mean) if pool_mean.size else 0.5
            ptp_s[miss] = np.median(pool_ptp) if pool_ptp.size else 1.0
    rng_ = np.asarray(mag_range, np.float64)
    return {"amplitude_model": (rng_ * ptp_s).astype(np.float32),
            "mag_mean_model": (np.asarray(mag_min, np.float64) + rng_ * mean_s).astype(np.float32),
            "model_stats": source}


def _train_stats_current(path: Path) -> bool:
    """True when ``train_stats.npz`` exists and holds the model-curve statistics (format of today)."""
    if not path.exists():
        return False
    with np.load(path, allow_pickle=False) as z:
        return "amplitude_model" in z.files


def fit_regressors(
    run_dir: str | Path,
    kinds: Sequence[str] = DEFAULT_KINDS,
    config: RegressorConfig | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Fit regressors of ``kinds`` on the run's TRAIN latents; write them and the Table 3 analogue.

    Writes ``RUN_DIR/regressors/<name>/`` per kind (``name`` = kind, or ``kind@p1+p2`` for
    post-hoc physics), ``train_stats.npz`` and ``table3.csv``/``table3.md`` with, per kind, the
    latent RMSE on VALIDATION stars never used in fitting (out of sample) and on the training
    stars (in sample), next to a predict-the-training-mean baseline, and the out-of-sample
    negative log-likelihood [nats per star] and calibration (share of validation posterior means
    inside the predicted 68 % / 95 % regions) of the regressor's sampling distribution next to a
    per-class Gaussian baseline (:func:`pelsvae_tf.regress.density.density_scores`; NaN for a point
    regressor with ``latent_noise="none"``). Regressors already on disk with the same config are
    reused (resumable) unless ``force``. Returns the table rows.
    """
    from pelsvae_tf.regress.density import density_scores

    import pandas as pd

    run_dir = Path(run_dir)
    base = config or RegressorConfig()
    physics = tuple(base.physics) or default_physics(run_dir)
    kinds = tuple(kinds)
    for k in kinds:
        if k not in ALL_KINDS:
            raise ValueError(f"fit_regressors: unknown kind {k!r}; expected some of {ALL_KINDS}")
    train = regression_arrays(run_dir, physics, "train")
    val = regression_arrays(run_dir, physics, "val")
    if len(train["label"]) == 0:
        raise ValueError(f"fit_regressors: no training star of {run_dir} has all of {list(physics)}")
    overlap = set(train["star_id"].tolist()) & set(val["star_id"].tolist())
    if overlap:
        raise ValueError(f"fit_regressors: {len(overlap)} star IDs are in both train and val (leak), "
                         f"e.g. {sorted(overlap)[:3]}")
    cfg = read_run_config(run_dir)
    classes = tuple(cfg.get("dataset_schema", {}).get("classes", CLASSES))
    latent_dim = train["z_mean"].shape[1]
    model_name = "cVAE-P" if run_model_physics(run_dir) else "cVAE"
    reg_dir = run_dir / "regressors"
    if force or not _train_stats_current(reg_dir / "train_stats.npz"):
        write_train_stats(run_dir)
    rows = []
    mean_z = train["z_mean"].mean(axis=0, keepdims=True)
    for kind in kinds:
        kcfg = base.replace(kind=kind, physics=physics)
        name = regressor_name(kind, physics, run_dir)
        path = reg_dir / name
        reg = None
        fit_s = float("nan")
        if not force and (path / "regressor.json").exists():
            meta = json.loads((path / "regressor.json").read_text())
            if meta.get("config") == kcfg.to_dict():
                reg = load_regressor(path)
                log.info("reusing fitted regressor %s", path)
        if reg is None:
            t0 = time.perf_counter()
            reg = make_regressor(kcfg, physics, latent_dim, classes)
            reg.fit(train["phys_scaled"], train["z_mean"], train["z_log_var"], train["label"])
            fit_s = time.perf_counter() - t0
            reg.save(path)
        pred_tr = reg.predict(train["phys_scaled"], seed=kcfg.seed + 1, labels=train["label"])
        row = {
            "model": model_name, "physics": "+".join(physics), "kind": kind, "name": name,
            "rmse_val": float("nan"), "rmse_train": rmse(pred_tr, train["z_mean"]),
            "rmse_val_mean_baseline": float("nan"), "rmse_val_dummy_avg": float("nan"),
            "n_train_stars": int(len(train["label"])), "n_val_stars": int(len(val["label"])),
            "n_rows_fit": int(len(train["label"]) * (
                (1 if kcfg.density_target == "means" else kcfg.density_draws) if kind == "density"
                else kcfg.n_repeats * kcfg.n_latent_draws)),
            "use_class": kcfg.use_class, "fit_seconds": fit_s,
            "paper_table3": PAPER_TABLE3.get((model_name, kind), float("nan"))
            if tuple(physics) == DEFAULT_PHYSICS else float("nan"),
        }
        if len(val["label"]):
            pred_va = reg.predict(val["phys_scaled"], seed=kcfg.seed + 2, labels=val["label"])
            row["rmse_val"] = rmse(pred_va, val["z_mean"])
            row["rmse_val_mean_baseline"] = rmse(np.broadcast_to(mean_z, val["z_mean"].shape), val["z_mean"])
            row["rmse_val_dummy_avg"] = rmse(dummy_averaged_prediction(reg, val, kcfg.seed + 3), val["z_mean"])
            row.update(density_scores(reg, train, val, len(classes), seed=kcfg.seed + 4))
        rows.append(row)
    table = pd.DataFrame(rows)
    csv_path = reg_dir / "table3.csv"
    if csv_path.exists():
        old = pd.read_csv(csv_path)
        keep = ~old["name"].isin(table["name"])
        table = pd.concat([old[keep], table], ignore_index=True)
    atomic_write_text(csv_path, table.to_csv(index=False))
    atomic_write_text(reg_dir / "table3.md", _table3_markdown(table))
    return {"rows": rows, "csv": str(csv_path), "md": str(reg_dir / "table3.md"),
            "train_ids": train["star_id"], "val_ids": val["star_id"]}


def _table3_markdown(table) -> str:
    lines = [
        "# Table 3 analogue: physics -> latent regression RMSE (latent units)",
        "",
        "`rmse_val`: validation stars never used in fitting (out of sample). `rmse_train`: the",
        "fitting stars (in sample; what the reference code reported). `val_avg`: validation RMSE of",
        "the prediction averaged over 16 dummy draws (E[z | physics]; a single draw also carries the",
        "spread the dummy reproduces). `baseline`: the training-mean latent for every validation star.",
        "Paper values (in sample, OGLE-III) for context only: different data. RMSE vs z_mean.",
        "For `density` the point prediction is the mixture mean E[z | physics, class].",
        "",
        "`nll_val`: mean negative log-likelihood [nats per star] of the validation posterior means",
        "under the distribution `sample()` draws from (out of sample); `cov68`/`cov95`: share of",
        "them inside its 68 % / 95 % regions (density: highest-density regions estimated from 2000",
        "draws per star; residual mode: the Gaussian's ellipsoids). `gauss`: a per-class Gaussian",
        "fitted on the same training latents (physics ignored). NaN: no density (paper mode).",
        "",
        "| model | physics | kind | rmse_val | val_avg | rmse_train | baseline | paper | nll_val | gauss nll "
        "| cov68 | cov95 | gauss cov68 | gauss cov95 | n_train | n_val | fit_s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def g(r, k):
        v = r.get(k, float("nan"))
        return float("nan") if v is None else float(v)

    for _, r in table.iterrows():
        lines.append(
            f"| {r['model']} | {r['physics']} | {r['kind']} | {r['rmse_val']:.3f} | "
            f"{g(r, 'rmse_val_dummy_avg'):.3f} | {r['rmse_train']:.3f} | "
            f"{r['rmse_val_mean_baseline']:.3f} | {r['paper_table3']:.3f} | {g(r, 'nll_val'):.2f} | "
            f"{g(r, 'nll_val_baseline'):.2f} | {g(r, 'cover68_val'):.2f} | {g(r, 'cover95_val'):.2f} | "
            f"{g(r, 'cover68_val_baseline'):.2f} | {g(r, 'cover95_val_baseline'):.2f} | "
            f"{int(r['n_train_stars'])} | {int(r['n_val_stars'])} | {g(r, 'fit_seconds'):.1f} |"
        )
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------
def _run_cli(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    physics = tuple(p.strip() for p in args.physics.split(",") if p.strip()) if args.physics else ()
    config = RegressorConfig(
        physics=physics, n_repeats=args.n_repeats, n_latent_draws=args.n_latent_draws,
        dummy=not args.no_dummy, use_class=not args.no_class, seed=args.seed,
        num_trees=args.num_trees, mlp_epochs=args.mlp_epochs, latent_noise=args.latent_noise,
    )
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    res = fit_regressors(args.run_dir, kinds, config, force=args.force)
    print(Path(res["md"]).read_text())
    return 0


def register(subparsers) -> None:
    """Add ``pelsvae regress RUN_DIR``."""
    p = subparsers.add_parser(
        "regress", help="fit physics -> latent regressors (linear, forest, mlp, density) and write Table 3",
        description="Fit physics -> latent regressors on a trained run's training latents and write "
                    "RUN_DIR/regressors/ with the out-of-sample Table 3 analogue.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("run_dir", help="trained run directory (has config.json, latents.npz)")
    p.add_argument("--kinds", default=",".join(DEFAULT_KINDS),
                   help=f"comma-separated regressor kinds, some of {','.join(ALL_KINDS)}")
    p.add_argument("--physics", default="",
                   help="comma-separated physical parameters (default: the run's model physics, or "
                        "teff,abs_gmag,period for a cVAE); other sets are fitted post hoc, e.g. radius,lum")
    p.add_argument("--n-repeats", type=int, default=100, help="copies per star (paper 100, reference 10)")
    p.add_argument("--n-latent-draws", type=int, default=1, help="latent draws z~N(mu,sigma) per copy")
    p.add_argument("--num-trees", type=int, default=100, help="random forest trees per latent dimension")
    p.add_argument("--mlp-epochs", type=int, default=20, help="MLP training epochs")
    p.add_argument("--no-dummy", action="store_true", help="omit the U(0,1) dummy input (paper uses it)")
    p.add_argument("--no-class", action="store_true", help="omit the one-hot class input (paper's input)")
    p.add_argument("--latent-noise", default="residual", choices=LATENT_NOISE,
                   help="linear/forest/mlp sampling: add out-of-sample residual noise, or 'none' (paper)")
    p.add_argument("--seed", type=int, default=0, help="seed of repeats, draws and model initialisation")
    p.add_argument("--force", action="store_true", help="refit even if a regressor with this config exists")
    p.set_defaults(func=_run_cli)
