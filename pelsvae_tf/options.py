"""Every closed set of choices of the package, in one TensorFlow-free module.

Config dataclasses validate against these tuples, the CLI offers them as ``choices`` and the
tuner's search space draws from them, so a new option is added in one place.
"""

from __future__ import annotations

# -- model (pelsvae_tf.model.config.ModelConfig) ------------------------------------------------
#: temporal network of encoder and decoder (keras-tcn TCN, Keras GRU / LSTM)
ARCHS: tuple[str, ...] = ("tcn", "gru", "lstm")
#: per-step time tag fed to the networks
TIME_ENCODINGS: tuple[str, ...] = ("phase", "dt", "fourier")
#: TCN channel layout: constant ``hidden`` or the reference code's ramp [8, 16, 32, H, ...]
TCN_CHANNELS: tuple[str, ...] = ("constant", "reference")
#: how the TCN residual blocks are computed: the package's faster dilated convolution and layer-norm
#: gradients (pelsvae_tf.model.causal_conv.TCN) or keras-tcn's own layers, call by call
TCN_IMPLS: tuple[str, ...] = ("fast", "keras")
#: normalisation inside TCN residual blocks
TCN_NORMS: tuple[str, ...] = ("layer", "batch", "none")
#: what to do when the encoder's receptive field is shorter than the sequence
RF_CHECKS: tuple[str, ...] = ("error", "warn", "off")
#: decoder TCN padding: causal (paper) or non-causal
DECODER_PADDINGS: tuple[str, ...] = ("causal", "same")
#: loss: paper eq. 4, the reference code's MSE + beta KL / 1e4, or eq. 4 with the KL weighted as in
#: the per-point ELBO (beta KL 2 / T; see pelsvae_tf.model.losses)
LOSS_KINDS: tuple[str, ...] = ("paper", "reference", "elbo")

# -- training (pelsvae_tf.train.config.TrainConfig) ---------------------------------------------
LR_SCHEDULES: tuple[str, ...] = ("none", "exponential", "cosine", "plateau")
BETA_SCHEDULES: tuple[str, ...] = ("constant", "linear", "cyclical")
#: tf.distribute strategies
STRATEGIES: tuple[str, ...] = ("default", "mirrored", "multiworker")

# -- regression (pelsvae_tf.regress) ------------------------------------------------------------
#: the paper's point regressors (Table 3)
POINT_REGRESSOR_KINDS: tuple[str, ...] = ("linear", "forest", "mlp")
#: every regressor kind ``pelsvae regress`` fits (point regressors + the TFP conditional density)
REGRESSOR_KINDS: tuple[str, ...] = POINT_REGRESSOR_KINDS + ("density",)
#: latent noise of a point regressor: out-of-sample residual covariance (Gaussian), out-of-sample
#: residual vectors of training stars near in physics (empirical), or none (paper)
LATENT_NOISE: tuple[str, ...] = ("residual", "neighbours", "none")
#: what a density regressor is fitted on: posterior means or draws from the posteriors
DENSITY_TARGETS: tuple[str, ...] = ("means", "draws")

# -- data (pelsvae_tf.data, pelsvae_tf.sky) ------------------------------------------------------
SNR_METHODS: tuple[str, ...] = ("paper", "reference")
CLIP_MODES: tuple[str, ...] = ("folded", "raw")
SHORT_POLICIES: tuple[str, ...] = ("drop", "pad")
PHASE_ZERO: tuple[str, ...] = ("max_light", "none")
#: missing Teff / absolute G of a prepared star: filled from its BP-RP colour and period
#: (pelsvae_tf.data.impute), or left missing so the star leaves the physics set (paper)
PHYSICS_IMPUTATIONS: tuple[str, ...] = ("colour", "none")
#: survey whose cadence and noise the built-in sky imitates
SKY_SURVEYS: tuple[str, ...] = ("ogle", "eros1")
#: Mira light-curve models of the built-in sky (``SkyConfig.lpv_shape``)
LPV_SHAPES: tuple[str, ...] = ("flux", "fourier")
#: physics scaler kinds
SCALER_KINDS: tuple[str, ...] = ("minmax", "standard")

# -- generation / pipeline -------------------------------------------------------------------------
#: representation of curves given to the augmentation classifier
REPRESENTATIONS: tuple[str, ...] = ("folded", "time")
#: ``pelsvae run`` presets
PRESETS: tuple[str, ...] = ("quick", "ship", "paper")
