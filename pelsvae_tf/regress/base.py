"""Physics -> latent regressors (paper section 4.2, Table 3): the common interface.

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

Neighbours mode (``latent_noise="neighbours"``, default) of linear / forest / MLP: ``sample``
returns ``z = f(physics, dummy) + r_j``, where ``r_j`` is the out-of-sample residual vector (the
cross-fitting below) of training star ``j``, drawn uniformly (``uniform(seed, STREAM_COMPONENT, 0)``)
among the ``residual_neighbours`` stars of the curve's class nearest in scaled physics (a class
with fewer training stars than that takes the residual mode's Gaussian draw below). It keeps the
residuals' real shape (bimodal for ellipsoidal variables) and how they change with physics.
Measured on the shipped run of 2026-12-07 (TCN 6 x 16) against its validation stars
(``benchmarks/bench_latent_noise.py``, 5 evaluation seeds): classifier two-sample AUC per class
0.57-0.78 against 0.64-0.86 for the Gaussian residual mode below (ELL 0.86 -> 0.75).

Residual mode (``latent_noise="residual"``) of linear / forest / MLP: ``sample`` returns
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

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from pelsvae_tf.atomic import atomic_dir, atomic_write_text
from pelsvae_tf.classes import CLASSES, check_physics_names
from pelsvae_tf.counter_rng import STREAM_DUMMY, normal_np, uniform_np
from pelsvae_tf.regress.calibration import _shrunk_class_cov
from pelsvae_tf.regress.config import STREAM_COMPONENT, STREAM_LATENT, RegressorConfig

#: Curves per block of the neighbour search (NumPy and graph): [block, training stars] distances.
NEIGHBOUR_CHUNK = 1024


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

    def __init__(
        self, config: RegressorConfig, physics: Sequence[str], latent_dim: int, classes: Sequence[str] = CLASSES
    ):
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

    def input_matrix(self, phys_scaled: np.ndarray, dummy: np.ndarray | None, labels: np.ndarray | None) -> np.ndarray:
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
                    f"{type(self).__name__}: labels are required (the regressor was configured with use_class=True)"
                )
            lab = np.asarray(labels).reshape(-1)
            if lab.shape[0] != phys.shape[0]:
                raise ValueError(f"labels has {lab.shape[0]} values; expected {phys.shape[0]}")
            if lab.size and (lab.min() < 0 or lab.max() >= len(self.classes)):
                raise ValueError(f"labels must be class indices in [0, {len(self.classes)})")
            cols.append(np.eye(len(self.classes), dtype=np.float32)[lab.astype(np.int64)])
        return np.concatenate(cols, axis=1)

    # -- fit / predict ------------------------------------------------------------------------
    def fit(
        self, phys_scaled: np.ndarray, z_mean: np.ndarray, z_log_var: np.ndarray, labels: np.ndarray | None = None
    ) -> "PhysicsRegressor":
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
            np.asarray(phys_scaled, dtype=np.float32),
            z_mean,
            z_log_var,
            labels,
            self.config.n_repeats,
            self.config.n_latent_draws,
            self.config.seed,
        )
        x = self.input_matrix(phys, dummy, lab)
        self._fit(x, z)
        self.fitted = True
        self.resid_chol_ = None
        self.resid_table_ = None
        if self.config.latent_noise in ("residual", "neighbours"):
            self._fit_residuals(np.asarray(phys_scaled, np.float32), z_mean, z_log_var, labels)
        return self

    def _fit_residuals(self, phys, z_mean, z_log_var, labels) -> None:
        """Per-class out-of-sample residual covariance by K-fold cross-fitting over stars."""
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
            # same kind (what make_regressor would build), without residual noise
            sub = type(self)(
                self.config.replace(latent_noise="none", seed=int(self.config.seed) + 101 + f),
                self.physics,
                self.latent_dim,
                self.classes,
            )
            sub.fit(phys[train], z_mean[train], z_log_var[train], None if lab is None else lab[train])
            dummy = rng.uniform(0.0, 1.0, size=test.size) if self.config.dummy else None
            pred = sub.predict(phys[test], dummy=dummy, labels=None if lab is None else lab[test])
            resid[test] = z_mean[test] - pred
        groups = np.zeros(n, np.int64) if lab is None else lab.astype(np.int64)
        _, cov, counts = _shrunk_class_cov(resid, groups, len(self.classes), center=False, pseudo=self.latent_dim + 2.0)
        self.resid_chol_ = np.linalg.cholesky(cov)
        self.resid_counts_ = counts
        self.resid_rms_ = float(np.sqrt(np.mean(resid**2)))
        if self.config.latent_noise == "neighbours":
            # the residual vectors themselves, with the scaled physics and class of their stars
            # (class -1 for every row when fitted without labels: the table is class-blind)
            self.resid_table_ = {
                "resid": resid.astype(np.float64),
                "phys": phys.astype(np.float64),
                "label": np.full(n, -1, np.int64) if lab is None else groups.astype(np.int64),
            }

    # -- sampling contract ----------------------------------------------------------------------
    def check_sample_inputs(self, phys_scaled, labels, seeds) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Validate and convert the inputs of :meth:`sample`; ValueError naming the bad field."""
        if not self.fitted:
            raise ValueError(f"{type(self).__name__}: call fit() (or load_regressor) before sample()")
        phys = np.asarray(phys_scaled, dtype=np.float32)
        if phys.ndim != 2 or phys.shape[1] != len(self.physics):
            raise ValueError(
                f"sample: phys_scaled has shape {phys.shape}; expected [B, {len(self.physics)}] "
                f"with columns {self.physics} (scaled by the run's PhysicsScaler)"
            )
        bad = ~np.isfinite(phys)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise ValueError(
                f"sample: phys_scaled has NaN/inf ({int(bad.any(axis=1).sum())} rows; first row {r}, "
                f"parameter {self.physics[c]!r}); drop those stars or give a finite value"
            )
        lab = np.asarray(labels)
        if lab.ndim != 1 or lab.shape[0] != phys.shape[0]:
            raise ValueError(f"sample: labels has shape {lab.shape}; expected [{phys.shape[0]}] class indices")
        if lab.size and not np.issubdtype(lab.dtype, np.integer):
            if not np.all(np.isfinite(lab.astype(np.float64))) or np.any(lab != np.round(lab)):
                raise ValueError("sample: labels must be integer class indices into regressor.classes")
        lab = lab.astype(np.int64)
        if lab.size and (lab.min() < 0 or lab.max() >= len(self.classes)):
            badv = int(lab[(lab < 0) | (lab >= len(self.classes))][0])
            raise ValueError(
                f"sample: labels contains unknown class index {badv}; expected 0..{len(self.classes) - 1} "
                f"for classes {self.classes}"
            )
        s = np.asarray(seeds)
        if s.ndim != 1 or s.shape[0] != phys.shape[0] or (s.size and not np.issubdtype(s.dtype, np.integer)):
            raise ValueError(
                f"sample: seeds has shape {s.shape} / dtype {s.dtype}; expected [{phys.shape[0]}] int64, "
                "one seed per curve"
            )
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

    def neighbour_pool(self, label: int) -> np.ndarray | None:
        """Rows of :attr:`resid_table_` a curve of class index ``label`` draws its residual from:
        the class's training stars (every star when the table is class-blind, i.e. fitted without
        labels); ``None`` when they are fewer than ``residual_neighbours`` (such a class takes the
        Gaussian residual draw)."""
        t = self.resid_table_
        pool = np.arange(len(t["label"])) if np.all(t["label"] < 0) else np.flatnonzero(t["label"] == label)
        return pool if pool.size >= int(self.config.residual_neighbours) else None

    def nearest_rows(self, phys: np.ndarray, pool: np.ndarray) -> np.ndarray:
        """Table rows [B, k] of the ``residual_neighbours`` stars of ``pool`` nearest to each row of
        ``phys`` [B, P] (scaled physics), nearest first: squared Euclidean distance in float64, ties
        to the earlier row; computed in blocks of :data:`NEIGHBOUR_CHUNK` rows."""
        k = int(self.config.residual_neighbours)
        x = np.asarray(phys, np.float64)
        ref = self.resid_table_["phys"][pool]
        out = np.empty((len(x), k), np.int64)
        for c0 in range(0, len(x), NEIGHBOUR_CHUNK):  # [block, pool] distances stay small for 10^4+ curves
            sl = slice(c0, c0 + NEIGHBOUR_CHUNK)
            d2 = np.sum((x[sl][:, None, :] - ref[None, :, :]) ** 2, axis=-1)
            out[sl] = pool[np.argsort(d2, axis=1, kind="stable")[:, :k]]
        return out

    def neighbour_rows(self, phys: np.ndarray, labels: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        """Row [B] of :attr:`resid_table_` whose residual each curve takes (``latent_noise=
        "neighbours"``): one of the curve's :meth:`nearest_rows` in its class's
        :meth:`neighbour_pool`, chosen by ``uniform(seed, STREAM_COMPONENT, 0)``. -1 for a curve
        whose class has fewer than ``residual_neighbours`` training stars: :meth:`sample` gives it
        the class's Gaussian residual instead (the ``"residual"`` mode's draw)."""
        k = int(self.config.residual_neighbours)
        out = np.full(len(labels), -1, np.int64)
        u = uniform_np(seeds, STREAM_COMPONENT, np.zeros(seeds.shape, np.uint32)).astype(np.float64)
        for lab in np.unique(labels):
            m = np.flatnonzero(labels == lab)
            pool = self.neighbour_pool(lab)
            if pool is None:
                continue
            near = self.nearest_rows(phys[m], pool)
            pick = np.minimum((u[m] * k).astype(np.int64), k - 1)
            out[m] = near[np.arange(m.size), pick]
        return out

    def _gaussian_residual(self, labels: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        """``L_c eps`` [B, D] (float64), ``eps = normal(seed, STREAM_LATENT, d)``: the ``"residual"``
        mode's draw from the class's out-of-sample residual covariance."""
        if getattr(self, "resid_chol_", None) is None:
            raise ValueError(
                f"{type(self).__name__}: latent_noise={self.config.latent_noise!r} but no residual covariance "
                "was fitted or saved; refit it (`pelsvae regress RUN_DIR --force`)"
            )
        eps = normal_np(seeds[:, None], STREAM_LATENT, np.arange(self.latent_dim, dtype=np.uint32)[None, :])
        return np.einsum("bij,bj->bi", self.resid_chol_[labels], eps.astype(np.float64))

    def _sample(self, phys, labels, seeds):
        z = self.sample_center(phys, labels, seeds)
        if self.config.latent_noise == "neighbours":
            if getattr(self, "resid_table_", None) is None:
                raise ValueError(
                    f"{type(self).__name__}: latent_noise='neighbours' but no residual table was "
                    "fitted or saved; refit it (`pelsvae regress RUN_DIR --force`)"
                )
            rows = self.neighbour_rows(phys, labels, seeds)
            near = rows >= 0
            z[near] += self.resid_table_["resid"][rows[near]]
            if not near.all():  # classes with fewer than residual_neighbours training stars
                z[~near] += self._gaussian_residual(labels[~near], seeds[~near])
        elif self.config.latent_noise == "residual":
            z = z + self._gaussian_residual(labels, seeds)
        return z.astype(np.float32)

    def predict(
        self, phys_scaled: np.ndarray, dummy: np.ndarray | None = None, seed: int = 0, labels: np.ndarray | None = None
    ) -> np.ndarray:
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
                atomic_write_text(
                    tmp / "residual.json",
                    json.dumps(
                        {
                            "chol": self.resid_chol_.tolist(),
                            "counts": np.asarray(self.resid_counts_).tolist(),
                            "rms": self.resid_rms_,
                        }
                    )
                    + "\n",
                )
            if getattr(self, "resid_table_", None) is not None:
                with open(tmp / "residual_table.npz", "wb") as fh:
                    np.savez(fh, **self.resid_table_)
            meta = {
                "format": "pelsvae-regressor",
                "version": 1,
                "kind": self.kind,
                "config": self.config.to_dict(),
                "physics": list(self.physics),
                "latent_dim": self.latent_dim,
                "classes": list(self.classes),
                "input_names": self.input_names,
            }
            atomic_write_text(tmp / "regressor.json", json.dumps(meta, indent=2) + "\n")
        return directory

    def _save_payload(self, directory: Path) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _load_payload(self, directory: Path) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(physics={self.physics}, latent_dim={self.latent_dim}, "
            f"inputs={len(self.input_names)}, fitted={self.fitted})"
        )
