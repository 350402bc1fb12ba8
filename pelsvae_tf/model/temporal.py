"""The temporal networks of encoder and decoder: a keras-tcn ``TCN`` or stacked GRU / LSTM layers.

TCN channels: ``tcn_channels="constant"`` (default) uses ``hidden`` filters in every block and
keras-tcn's summed skip connections; ``"reference"`` uses the reference code's ramp
``[8, 16, 32, H, ..., H]`` in the encoder and the mirrored ramp in the decoder, laid out as the
reference's TemporalConvNet (Bai et al. 2018): every block's residual output feeds the next and the
network returns the last block's output (no skip sum: the blocks' widths differ), with a 1x1
convolution on the residual path wherever the width changes.

Causality: both temporal networks are causal, as in the paper (Bai et al. 2018 TCN). In the
decoder this costs nothing: every step already receives the whole latent code and class, and its
own time tag. In the encoder the last step summarises the curve, so the TCN receptive field must
cover the sequence: ``ModelConfig`` checks it (see :meth:`ModelConfig.receptive_field`).

Implementation: ``tcn_impl="fast"`` (default) builds :class:`pelsvae_tf.model.causal_conv.TCN`,
keras-tcn's ``TCN`` with the same weights whose blocks run faster training kernels;
``tcn_impl="keras"`` the plain ``tcn.TCN``.
"""

from __future__ import annotations

import keras
from tcn import TCN

from pelsvae_tf.model import causal_conv
from pelsvae_tf.model.config import ModelConfig


def seed_offset(config: ModelConfig, offset: int):
    """``config.seed + offset`` (the seed of one layer or generator), or None without a seed."""
    return None if config.seed is None else int(config.seed) + offset


def temporal_layers(config: ModelConfig, return_sequences: bool, prefix: str, decoder: bool):
    """The temporal network as a list of layers applied in sequence."""
    if config.arch == "tcn":
        channels = config.channels(decoder=decoder)
        tapered = config.tcn_channels == "reference"
        tcn_cls = causal_conv.TCN if config.tcn_impl == "fast" else TCN
        return [
            tcn_cls(
                # the tapered ramp is Bai et al.'s TemporalConvNet (the reference code): each block
                # feeds the next and the TCN returns the last block's output; keras-tcn's skip sum
                # needs equal widths, so it is used only for the constant-channel default
                nb_filters=list(channels) if tapered else config.hidden,
                kernel_size=config.kernel_size,
                nb_stacks=1,
                dilations=list(config.dilations),
                padding=config.decoder_padding if decoder else "causal",
                use_skip_connections=not tapered,
                dropout_rate=float(config.dropout),
                return_sequences=return_sequences,
                use_layer_norm=config.tcn_norm == "layer",
                use_batch_norm=config.tcn_norm == "batch",
                name=f"{prefix}_tcn",
            )
        ]
    rnn_cls = keras.layers.GRU if config.arch == "gru" else keras.layers.LSTM
    layers = []
    for i in range(config.rnn_layers):
        last = i == config.rnn_layers - 1
        layers.append(
            rnn_cls(
                config.hidden,
                dropout=float(config.dropout),
                return_sequences=return_sequences or not last,
                seed=None if config.seed is None else config.seed + 10 + i,
                name=f"{prefix}_{config.arch}_{i}",
            )
        )
    return layers
