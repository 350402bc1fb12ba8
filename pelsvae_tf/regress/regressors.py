"""The point regressor kinds of paper Table 3 and the factory of every kind.

- ``linear``: least squares (scikit-learn ``LinearRegression``/``Ridge``), stored as JSON.
- ``forest``: ``ydf.RandomForestLearner``, one regression model per latent dimension (kept in
  ``.models`` so TF export can call ``to_tensorflow_saved_model`` on each), YDF format on disk.
- ``mlp``: Keras MLP with standardised inputs (a ``Normalization`` layer adapted on the
  training rows; the reference fed raw Teff into a tanh MLP, option ``mlp_standardize=False``
  with ``mlp_activation="tanh"``), stored as ``.keras``.

The ``density`` kind is :class:`pelsvae_tf.regress.density.DensityRegressor`; all share the
interface of :class:`pelsvae_tf.regress.base.PhysicsRegressor`. :func:`make_regressor` builds
an unfitted regressor of any kind, :func:`load_regressor` reads one that
:meth:`~pelsvae_tf.regress.base.PhysicsRegressor.save` wrote.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import keras
import numpy as np
import ydf
from sklearn.linear_model import LinearRegression, Ridge
from tqdm.auto import tqdm

from pelsvae_tf.atomic import atomic_write_text
from pelsvae_tf.classes import CLASSES
from pelsvae_tf.regress.base import PhysicsRegressor
from pelsvae_tf.regress.config import RegressorConfig
from pelsvae_tf.regress.density import DensityRegressor


class LinearRegressor(PhysicsRegressor):
    """Multi-output least squares z = x W^T + b (scikit-learn; ridge if ``linear_alpha > 0``)."""

    kind = "linear"

    def _fit(self, x, z):
        model = Ridge(alpha=self.config.linear_alpha) if self.config.linear_alpha > 0 else LinearRegression()
        model.fit(x, z)
        self.coef_ = np.asarray(model.coef_, dtype=np.float64).reshape(self.latent_dim, x.shape[1])
        self.intercept_ = np.asarray(model.intercept_, dtype=np.float64).reshape(self.latent_dim)

    def _predict(self, x):
        return x.astype(np.float64) @ self.coef_.T + self.intercept_

    def _save_payload(self, directory):
        atomic_write_text(
            directory / "linear.json",
            json.dumps({"coef": self.coef_.tolist(), "intercept": self.intercept_.tolist()}) + "\n",
        )

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
        ydf.verbose(0)
        cols = self._columns(x)
        self.models = []
        for d in tqdm(range(self.latent_dim), desc="forest (per latent dim)", leave=False):
            learner = ydf.RandomForestLearner(
                label=f"z{d}",
                task=ydf.Task.REGRESSION,
                num_trees=int(self.config.num_trees),
                max_depth=int(self.config.max_depth),
                min_examples=int(self.config.leaf_rows()),
                random_seed=int(self.config.seed) * 1009 + d,
                num_threads=self.config.num_threads,
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
        ydf.verbose(0)
        self.models = [ydf.load_model(str(directory / "models" / f"z{d}")) for d in range(self.latent_dim)]


class MLPRegressor(PhysicsRegressor):
    """Keras MLP: ``Normalization`` (standardised inputs) -> Dense stack -> linear head [D]."""

    kind = "mlp"

    def _build(self, x: np.ndarray):
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
        keras.utils.set_random_seed(int(self.config.seed))
        self.model = self._build(x)
        self.model.compile(optimizer=keras.optimizers.Adam(self.config.mlp_learning_rate), loss="mse")
        self.model.fit(
            x,
            z,
            epochs=int(self.config.mlp_epochs),
            batch_size=int(self.config.mlp_batch_size),
            shuffle=True,
            verbose=2 if x.shape[0] > 50_000 else 0,
        )

    def _predict(self, x):
        out = []
        for s in range(0, x.shape[0], 65536):
            out.append(np.asarray(self.model(x[s : s + 65536], training=False)))
        return np.concatenate(out, axis=0)

    def _save_payload(self, directory):
        self.model.save(directory / "model.keras")

    def _load_payload(self, directory):
        self.model = keras.models.load_model(directory / "model.keras", compile=False)


REGRESSOR_CLASSES: dict[str, type[PhysicsRegressor]] = {
    "linear": LinearRegressor,
    "forest": ForestRegressor,
    "mlp": MLPRegressor,
    "density": DensityRegressor,
}


def make_regressor(
    config: RegressorConfig, physics: Sequence[str], latent_dim: int, classes: Sequence[str] = CLASSES
) -> PhysicsRegressor:
    """Build an unfitted regressor of ``config.kind``."""
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
    reg.resid_table_ = None
    if (directory / "residual_table.npz").exists():
        with np.load(directory / "residual_table.npz", allow_pickle=False) as t:
            reg.resid_table_ = {k: t[k] for k in ("resid", "phys", "label")}
    if (
        config.kind != "density"
        and config.latent_noise == "neighbours"
        and (reg.resid_table_ is None or reg.resid_chol_ is None)
    ):
        missing = "residual_table.npz" if reg.resid_table_ is None else "residual.json"
        raise ValueError(
            f"{directory}: latent_noise='neighbours' but {missing} is missing; refit it "
            f"(`pelsvae regress RUN_DIR --force`)"
        )
    reg.fitted = True
    return reg
