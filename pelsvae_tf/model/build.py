"""Encoder and decoder builders: functional Keras models around the temporal network.

Architecture (paper section 3.1, Fig. 3):

- encoder: ``[time tag, mag, err]`` per step -> temporal network (keras-tcn ``TCN``, causal,
  dilations ``dilation_base**i``; or stacked GRU / LSTM) -> last step -> concat one-hot class
  (+ scaled physics for cVAE-P) -> Dense ReLU + Dropout stack -> ``z_mean``, ``z_log_var``.
- decoder: ``[z, one-hot]`` repeated for every requested time and tagged with its time ->
  same temporal family (``return_sequences=True``) -> Dense ReLU stack -> two sigmoid heads:
  scaled magnitude and scaled error per step, in [0, 1]. ``T`` is dynamic (any cadence).
"""

from __future__ import annotations

import keras

from pelsvae_tf.model.config import ModelConfig
from pelsvae_tf.model.layers import SequenceFeatures, SqueezeLast, TimeTaggedRepeat
from pelsvae_tf.model.temporal import seed_offset, temporal_layers


def build_encoder(config: ModelConfig) -> keras.Model:
    """Functional encoder ``{"phase","mag","err","class_onehot"[,"phys"]} -> {"z_mean","z_log_var"}``.

    Shapes: phase/mag/err [B, T] (T dynamic), class_onehot [B, C], phys [B, P] (scaled);
    outputs [B, D].
    """
    phase = keras.Input(shape=(None,), name="phase")
    mag = keras.Input(shape=(None,), name="mag")
    err = keras.Input(shape=(None,), name="err")
    onehot = keras.Input(shape=(config.n_classes,), name="class_onehot")
    inputs = {"phase": phase, "mag": mag, "err": err, "class_onehot": onehot}
    x = SequenceFeatures(config.time_encoding, name="sequence_features")([phase, mag, err])
    for layer in temporal_layers(config, return_sequences=False, prefix="encoder", decoder=False):
        x = layer(x)
    parts = [x, onehot]
    if config.n_physics:
        phys = keras.Input(shape=(config.n_physics,), name="phys")
        inputs["phys"] = phys
        parts.append(phys)
    h = keras.layers.Concatenate(name="encoder_condition")(parts)
    for i, units in enumerate(config.dense_units):
        h = keras.layers.Dense(units, activation="relu", name=f"encoder_dense_{i}")(h)
        h = keras.layers.Dropout(config.dropout, seed=seed_offset(config, 100 + i), name=f"encoder_dropout_{i}")(h)
    z_mean = keras.layers.Dense(config.latent_dim, name="z_mean")(h)
    z_log_var = keras.layers.Dense(config.latent_dim, name="z_log_var")(h)
    return keras.Model(inputs, {"z_mean": z_mean, "z_log_var": z_log_var}, name="encoder")


def build_decoder(config: ModelConfig) -> keras.Model:
    """Functional decoder ``{"z","class_onehot","phase"} -> {"mag","err"}``.

    Shapes: z [B, D], class_onehot [B, C], phase [B, T] in cycles with T dynamic; outputs
    [B, T] scaled magnitude and scaled error in [0, 1] (sigmoid).
    """
    z = keras.Input(shape=(config.latent_dim,), name="z")
    onehot = keras.Input(shape=(config.n_classes,), name="class_onehot")
    phase = keras.Input(shape=(None,), name="phase")
    cond = keras.layers.Concatenate(name="decoder_condition")([z, onehot])
    x = TimeTaggedRepeat(config.time_encoding, name="time_tagged_repeat")([cond, phase])
    for layer in temporal_layers(config, return_sequences=True, prefix="decoder", decoder=True):
        x = layer(x)
    for i, units in enumerate(reversed(config.dense_units)):
        x = keras.layers.Dense(units, activation="relu", name=f"decoder_dense_{i}")(x)
        x = keras.layers.Dropout(config.dropout, seed=seed_offset(config, 200 + i), name=f"decoder_dropout_{i}")(x)
    mag = keras.layers.Dense(1, activation="sigmoid", name="mag_head")(x)
    err = keras.layers.Dense(1, activation="sigmoid", name="err_head")(x)
    outputs = {"mag": SqueezeLast(name="mag")(mag), "err": SqueezeLast(name="err")(err)}
    return keras.Model({"z": z, "class_onehot": onehot, "phase": phase}, outputs, name="decoder")
