"""``ModelConfig``: hyperparameters of the PELS-VAE (TensorFlow-free, so the CLI and the tuner's
search space can read it without loading TensorFlow). Builders live in :mod:`pelsvae_tf.model.vae`."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from pelsvae_tf.classes import check_physics_names
from pelsvae_tf.config import ConfigBase
from pelsvae_tf.options import (
    ARCHS,
    DECODER_PADDINGS,
    LOSS_KINDS,
    RF_CHECKS,
    TCN_CHANNELS,
    TCN_IMPLS,
    TCN_NORMS,
    TIME_ENCODINGS,
)

#: default error floor (scaled units, fraction of a curve's range), added in quadrature in the loss
DEFAULT_ERR_FLOOR = 0.01

__all__ = ["ModelConfig", "DEFAULT_ERR_FLOOR", "ARCHS", "TCN_CHANNELS", "RF_CHECKS", "TCN_NORMS"]


@dataclass
class ModelConfig(ConfigBase):
    """Hyperparameters of the PELS-VAE (defaults: the paper's best model, Table 2).

    Attributes:
        arch: temporal network, ``"tcn"``, ``"gru"`` or ``"lstm"``.
        hidden: TCN filters / RNN units per layer.
        n_blocks: TCN residual blocks (dilations ``dilation_base**i``, i < n_blocks).
        kernel_size: TCN convolution kernel size (time steps).
        dilation_base: TCN dilation base (a power of two; keras-tcn requirement).
        rnn_layers: stacked GRU/LSTM layers (>= 1; unused and unchecked for the TCN).
        latent_dim: latent dimension D (>= 1).
        dropout: dropout rate in [0, 1): in the TCN blocks, on the inputs of every GRU/LSTM
            layer (Keras ``dropout``; ``recurrent_dropout`` stays 0 so the fused kernels are
            used) and after every dense layer.
        dense_units: encoder dense stack (the decoder uses it reversed).
        n_classes: number of variability classes C (one-hot size).
        physics: physical parameters seen by the encoder; ``()`` = cVAE, e.g.
            ``("teff", "abs_gmag", "period")`` = cVAE-P.
        time_encoding: per-step time tag, ``"phase"`` or ``"dt"`` (phase difference).
        loss: ``"paper"`` (eq. 4), ``"reference"`` (MSE + beta KL / 1e4) or ``"elbo"`` (eq. 4 with
            the KL weighted ``beta * 2 / T`` as in the per-point Gaussian ELBO, so the latent is
            not priced 150x above the reconstruction of a 300-point curve), see ``losses.py``.
        beta: KL weight (initial value; schedulable during training).
        seq_len: training length L (points per curve); the decoder accepts any length.
        seed: seed for weight initialisation, dropout and latent sampling.
        tcn_channels: ``"constant"`` (hidden everywhere, summed skip connections) or
            ``"reference"`` ramp ``[8, 16, 32, H, ...]`` (decoder mirrored; blocks chained without
            a skip sum, as the reference's TemporalConvNet).
        err_floor: scaled error (dimensionless, fraction of the curve's range) added in
            quadrature to the true and reconstructed errors in the loss (see ``losses.py``).
            ``0`` selects the paper's exact eq. 4 without a floor (variances are then only
            guarded by :data:`~pelsvae_tf.model.losses.VARIANCE_EPS` against division by zero).
        receptive_field_check: what to do when the encoder TCN receptive field is shorter than
            ``seq_len``: ``"error"`` (default, fail before training), ``"warn"`` or ``"off"``.
        sample_at_inference: if True the latent layer samples also at inference; default uses
            the mean (deterministic reconstructions).
        tcn_norm: normalisation inside the TCN residual blocks: ``"layer"`` (default: keras-tcn
            ``use_layer_norm``), ``"batch"`` or ``"none"``. Without it the summed skip connections
            of a deep TCN grow with depth (z_log_var ~ 50 at initialisation for 7 blocks x 32
            filters, an overflow to NaN in the first step); Bai et al.'s weight normalisation,
            used by the reference code, has no keras-tcn 3.5 equivalent under Keras 3.
        tcn_impl: how the TCN blocks are computed: ``"fast"`` (default:
            :class:`pelsvae_tf.model.causal_conv.TCN`, keras-tcn's ``TCN`` with the same weights
            and configuration whose dilated causal convolutions and layer norms have hand-written
            gradients with fast CPU kernels, and whose encoder computes only the steps its last
            step depends on; the same function, outputs and gradients equal to float tolerance; a
            training step of the paper-best model at 128 x 600 took 0.98 s instead of 2.67 s on 2
            CPU cores, 1.28 s instead of 2.96 s under op determinism, BENCHMARKS.md) or ``"keras"`` (keras-tcn's own layers, call by call). The
            weights are the same either way: a model trained with one loads and runs with the
            other, and a run resumes with either. Mixed precision runs keras-tcn's layers.
        decoder_padding: ``"causal"`` (paper, Bai et al. TCN) or ``"same"`` (non-causal: each
            decoded point sees the time tags on both sides). TCN decoder only.
        decoder_subsample: in training, every batch is decoded (and scored) at a random,
            phase-sorted subset of its points, between this fraction and all of them (the
            encoder still sees the whole curve). ``1.0`` = the paper's training (always the full
            300 points). Without it a TCN decoder learns the *position* of a step in the
            sequence instead of its phase tag: the main job's model decoded on 200 phases
            instead of its 300 came out stretched by 300/200 (an eclipse at phase 0.5 drawn at
            0.75), i.e. wrong curves at any cadence but the training one.
    """

    arch: str = "tcn"
    hidden: int = 48
    n_blocks: int = 9
    kernel_size: int = 5
    dilation_base: int = 2
    rnn_layers: int = 1
    latent_dim: int = 4
    dropout: float = 0.2
    dense_units: tuple[int, ...] = (16,)
    n_classes: int = 8
    physics: tuple[str, ...] = ()
    time_encoding: str = "phase"
    loss: str = "paper"
    beta: float = 0.75
    seq_len: int = 300
    seed: int | None = 0
    tcn_channels: str = "constant"
    err_floor: float = DEFAULT_ERR_FLOOR
    receptive_field_check: str = "error"
    sample_at_inference: bool = False
    tcn_norm: str = "layer"
    tcn_impl: str = "fast"
    decoder_padding: str = "causal"
    decoder_subsample: float = 0.3

    def __post_init__(self):
        self.dense_units = tuple(int(u) for u in self.dense_units)
        self.physics = tuple(self.physics)
        self.validate()

    # -- validation -------------------------------------------------------------------------
    def validate(self) -> None:
        """Raise ``ValueError`` naming the field and the fix for any inconsistent value."""

        def bad(name, msg):
            raise ValueError(f"ModelConfig.{name}={getattr(self, name)!r}: {msg}")

        if self.arch not in ARCHS:
            bad("arch", f"unknown architecture; use one of {ARCHS}")
        for name in ("hidden", "latent_dim", "n_classes", "seq_len"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                bad(name, "must be an integer >= 1")
        if self.arch == "tcn":
            for name in ("n_blocks", "kernel_size"):
                v = getattr(self, name)
                if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                    bad(name, "must be an integer >= 1")
            if self.kernel_size < 2:
                bad("kernel_size", "a TCN kernel needs >= 2 taps")
            b = self.dilation_base
            if not isinstance(b, int) or b < 2 or (b & (b - 1)) != 0:
                bad("dilation_base", "must be a power of two >= 2 (keras-tcn rewrites other bases)")
            if self.tcn_channels not in TCN_CHANNELS:
                bad("tcn_channels", f"use one of {TCN_CHANNELS}")
            if self.tcn_norm not in TCN_NORMS:
                bad("tcn_norm", f"use one of {TCN_NORMS}")
            if self.tcn_impl not in TCN_IMPLS:
                bad("tcn_impl", f"use one of {TCN_IMPLS}")
            if self.decoder_padding not in DECODER_PADDINGS:
                bad("decoder_padding", f"use one of {DECODER_PADDINGS}")
        if not (0.0 < float(self.decoder_subsample) <= 1.0):
            bad("decoder_subsample", "must be in (0, 1] (1 = always decode every point, the paper)")
        if self.arch in ("gru", "lstm"):
            v = self.rnn_layers
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                bad("rnn_layers", f"a {self.arch.upper()} model needs an integer >= 1 of stacked layers")
        if not (0.0 <= float(self.dropout) < 1.0):
            bad("dropout", "must be in [0, 1)")
        if any(u < 1 for u in self.dense_units):
            bad("dense_units", "every dense layer needs >= 1 unit")
        try:
            check_physics_names(self.physics)
        except ValueError as exc:
            raise ValueError(f"ModelConfig.physics={self.physics!r}: {exc}") from None
        if self.time_encoding not in TIME_ENCODINGS:
            bad("time_encoding", f"use one of {TIME_ENCODINGS}")
        if self.loss not in LOSS_KINDS:
            bad("loss", f"use one of {LOSS_KINDS}")
        if not (float(self.beta) >= 0.0):
            bad("beta", "the KL weight must be >= 0")
        try:
            floor_ok = float(self.err_floor) >= 0.0
        except (TypeError, ValueError):
            floor_ok = False
        if not floor_ok:
            bad(
                "err_floor",
                "must be a number >= 0 (scaled error added in quadrature; 0 = the paper's exact loss without a floor)",
            )
        if self.receptive_field_check not in RF_CHECKS:
            bad("receptive_field_check", f"use one of {RF_CHECKS}")
        if self.arch == "tcn" and self.receptive_field_check != "off":
            rf = self.receptive_field()
            if rf < self.seq_len:
                need = self._blocks_needed()
                msg = (
                    f"TCN receptive field {rf} steps (kernel_size={self.kernel_size}, "
                    f"n_blocks={self.n_blocks}, dilation_base={self.dilation_base}) is shorter than "
                    f"seq_len={self.seq_len}: the encoder's last step would not see the start of "
                    f"the curve. Use n_blocks >= {need} or a larger kernel_size "
                    f"(or receptive_field_check='warn')."
                )
                if self.receptive_field_check == "error":
                    raise ValueError(f"ModelConfig.n_blocks={self.n_blocks}: {msg}")
                warnings.warn(msg, stacklevel=3)

    @property
    def dilations(self) -> tuple[int, ...]:
        """TCN dilations ``dilation_base**i`` for ``i < n_blocks`` (time steps)."""
        return tuple(int(self.dilation_base**i) for i in range(self.n_blocks))

    def receptive_field(self) -> int:
        """Encoder TCN receptive field in time steps (keras-tcn: 2 causal convs per block).

        ``1 + 2 * (kernel_size - 1) * sum(dilations)``; for the paper's best model (k=5, 9
        blocks) this is 4089 steps. Returns ``seq_len`` for RNNs (they see the whole curve).
        """
        if self.arch != "tcn":
            return self.seq_len
        return 1 + 2 * (self.kernel_size - 1) * sum(self.dilations)

    def _blocks_needed(self) -> int:
        n = 1
        while 1 + 2 * (self.kernel_size - 1) * sum(self.dilation_base**i for i in range(n)) < self.seq_len:
            n += 1
        return n

    def channels(self, decoder: bool = False) -> list[int]:
        """TCN filters per block (encoder order; decoder reversed for the reference ramp)."""
        if self.tcn_channels == "constant":
            return [self.hidden] * self.n_blocks
        ramp = [8, 16, 32][: self.n_blocks] + [self.hidden] * max(0, self.n_blocks - 3)
        return ramp[::-1] if decoder else ramp

    @property
    def n_physics(self) -> int:
        """Number of physical parameters P fed to the encoder (0 for the cVAE)."""
        return len(self.physics)
