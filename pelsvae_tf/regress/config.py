"""Settings of the physics -> latent regressors: :class:`RegressorConfig` and the kind names.

TensorFlow-free (the CLI and ``pelsvae_tf.regress`` import it at ``--help`` time). Choice tuples
come from :mod:`pelsvae_tf.options`.
"""

from __future__ import annotations

import dataclasses
import numbers

from pelsvae_tf import options
from pelsvae_tf.classes import check_physics_names
from pelsvae_tf.config import ConfigBase

#: Kinds of paper Table 3 (point regressors); what existing callers (physics recovery, ...) iterate.
KINDS: tuple[str, ...] = options.POINT_REGRESSOR_KINDS
POINT_KINDS: tuple[str, ...] = KINDS
#: Every kind a RegressorConfig accepts: the point kinds and the conditional density.
ALL_KINDS: tuple[str, ...] = options.REGRESSOR_KINDS
#: Counter-RNG stream of the latent standard normals (residual eps, mixture component normals);
#: counter = latent dimension d. STREAM_DUMMY = 1 and STREAM_NOISE = 2 live in counter_rng.
STREAM_LATENT = 3
#: Counter-RNG stream of the uniform that chooses a mixture component (counter 0).
STREAM_COMPONENT = 4
#: Kinds ``fit_regressors`` / ``pelsvae regress`` fit by default. ``density`` is left out: its fit
#: took 26-79 s (3 seeds) on 2,000 stars x latent 4 on the shared 2-core machine, not "a few
#: seconds"; ask for it with ``kinds=ALL_KINDS`` / ``--kinds linear,forest,mlp,density``.
DEFAULT_KINDS: tuple[str, ...] = POINT_KINDS
LATENT_NOISE: tuple[str, ...] = options.LATENT_NOISE
DENSITY_TARGETS: tuple[str, ...] = options.DENSITY_TARGETS


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
        num_trees: random forest (YDF) trees per latent dimension.
        max_depth: maximum depth of a forest tree.
        min_examples: smallest number of rows in a forest leaf;
            ``None`` (default) = 3 stars' worth of rows per leaf
            (``3 * n_repeats * n_latent_draws``): the copies of one star then cannot grow a
            private branch. Measured on the quick main job's run (277 training stars): leaf
            size 5 rows gave a 107 MB forest with out-of-sample RMSE 0.714 (in-sample 0.148);
            300 rows and 50 trees gave 1.8 MB and RMSE 0.635 (in-sample 0.297).
        num_threads: threads of the forest training (``None`` = YDF's default).
        linear_alpha: ridge penalty (0 = ordinary least squares, the paper).
        mlp_hidden: hidden layer sizes of the Keras MLP.
        mlp_activation: activation of the MLP's hidden layers (relu, tanh, gelu, elu or swish).
        mlp_epochs: MLP training epochs.
        mlp_batch_size: MLP training batch size.
        mlp_learning_rate: Adam learning rate of the MLP.
        mlp_standardize: standardise the MLP inputs (``Normalization`` adapted on the training rows).
        latent_noise: ``"neighbours"`` (default): :meth:`PhysicsRegressor.sample` of linear /
            forest / mlp adds the out-of-sample residual vector of one of the
            ``residual_neighbours`` training stars of the class nearest in scaled physics (an
            empirical, physics-local spread: the residuals of ellipsoidal variables, for one, are
            far from Gaussian); ``"residual"``: eps ~ N(0, Sigma_class), Sigma from the same
            out-of-sample residuals; ``"none"``: the paper's behaviour (no noise beyond the
            dummy). Ignored by density.
        residual_neighbours: with ``latent_noise="neighbours"``, the training stars of the class
            nearest in scaled physics whose out-of-sample residual vectors a curve draws from.
        residual_folds: folds of the cross-fitting that gives the out-of-sample residuals
            (each fold refits the regressor once: fit time ~ (1 + residual_folds) x).
        density_components: mixture components K of the density.
        density_hidden: hidden tanh layers of the density network.
        density_target: ``"means"`` (fit posterior means) or ``"draws"`` (``density_draws``
            draws z ~ N(mu, sigma) per star, the paper's repeats); see :mod:`pelsvae_tf.regress.density`.
        density_draws: draws per star with ``density_target="draws"``.
        density_epochs: at most this many Adam epochs of the density.
        density_batch_size: batch size of the density training.
        density_learning_rate: Adam learning rate of the density.
        density_weight_decay: L2 weight decay of the density network.
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
    latent_noise: str = "neighbours"
    residual_folds: int = 5
    residual_neighbours: int = 20
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
        rn = self.residual_neighbours
        if isinstance(rn, bool) or not isinstance(rn, numbers.Real) or rn != int(rn) or rn < 1:
            bad("residual_neighbours", f"{rn!r}; must be a whole number of training stars >= 1")
        self.residual_neighbours = int(rn)
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
