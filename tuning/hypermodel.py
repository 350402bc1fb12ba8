"""KerasTuner ``HyperModel`` for PELS-VAE covering every axis of the paper's Table 2.

``build(hp)`` declares the architecture and optimisation hyperparameters (sequence
architecture, hidden units, TCN blocks / kernel / dilation, RNN layers, latent dimension,
dropout, learning rate, learning-rate scheduler, KL weight beta) and returns a compiled
:class:`pelsvae_tf.model.vae.PELSVAE`; TCN-only and RNN-only hyperparameters live in
``hp.conditional_scope("seq_arch", ...)`` so the oracle knows they are inactive for the other
family. ``fit(hp, model, data, ...)`` tunes the batch size: it builds the train/val
``tf.data`` pipelines of the prepared dataset with the chosen batch and trains with the
chosen learning-rate scheduler. Validation loss (``val_loss``, the model's training loss on the validation split: eq. 4 unless
the base config or ``--loss`` says otherwise) is the objective.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt

from pelsvae_tf.model import ModelConfig, build_pelsvae
from pelsvae_tf.train import loop
from pelsvae_tf.train.callbacks import TrainingDivergedError
from pelsvae_tf.train.config import TrainConfig
from pelsvae_tf.tuning.search_space import SearchSpace

#: Names of the hyperparameters declared to KerasTuner (Table 2 axes, in declaration order).
HP_NAMES: tuple[str, ...] = (
    "seq_arch",
    "hidden",
    "n_blocks",
    "kernel_size",
    "dilation_base",
    "rnn_layers",
    "latent_dim",
    "dropout",
    "lr",
    "lr_scheduler",
    "beta",
    "batch_size",
)
#: Hyperparameters that only exist for the TCN / for the recurrent architectures.
TCN_ONLY: tuple[str, ...] = ("n_blocks", "kernel_size", "dilation_base")
RNN_ONLY: tuple[str, ...] = ("rnn_layers",)


def _choice(hp: kt.HyperParameters, name: str, values: tuple) -> Any:
    if len(values) == 1:
        return hp.Fixed(name, values[0])
    return hp.Choice(name, list(values), ordered=not isinstance(values[0], str))


def _float(hp: kt.HyperParameters, name: str, bounds: tuple, sampling: str = "linear") -> Any:
    lo, hi = float(bounds[0]), float(bounds[1])
    if lo == hi:
        return hp.Fixed(name, lo)
    return hp.Float(name, lo, hi, sampling=sampling)


def declare_search_space(hp: kt.HyperParameters, space: SearchSpace) -> dict[str, Any]:
    """Register every Table 2 axis of ``space`` in ``hp`` and return the active values.

    Inactive conditional hyperparameters (e.g. ``n_blocks`` when ``seq_arch`` is an RNN) come
    back as ``None``. The batch size is declared here too (so the oracle sees the whole space
    before the first trial); :meth:`PELSVAEHyperModel.fit` reads the same entry.
    """
    values: dict[str, Any] = {}
    values["seq_arch"] = _choice(hp, "seq_arch", space.archs)
    values["hidden"] = _choice(hp, "hidden", space.hidden)
    values["n_blocks"] = values["kernel_size"] = values["dilation_base"] = values["rnn_layers"] = None
    if "tcn" in space.archs:
        with hp.conditional_scope("seq_arch", ["tcn"]):
            values["n_blocks"] = _choice(hp, "n_blocks", space.n_blocks)
            values["kernel_size"] = _choice(hp, "kernel_size", space.kernel_size)
            values["dilation_base"] = hp.Fixed("dilation_base", space.dilation_base)
    rnn_archs = [a for a in space.archs if a != "tcn"]
    if rnn_archs:
        with hp.conditional_scope("seq_arch", rnn_archs):
            values["rnn_layers"] = _choice(hp, "rnn_layers", space.rnn_layers)
    values["latent_dim"] = _choice(hp, "latent_dim", space.latent_dim)
    values["dropout"] = _float(hp, "dropout", space.dropout)
    values["lr"] = _float(hp, "lr", space.lr, sampling=space.lr_sampling)
    values["lr_scheduler"] = _choice(hp, "lr_scheduler", space.lr_schedulers)
    values["beta"] = _float(hp, "beta", space.beta)
    values["batch_size"] = _choice(hp, "batch_size", space.batch_sizes)
    return values


def model_config_from_values(base: ModelConfig, values: dict[str, Any]) -> ModelConfig:
    """Return ``base`` with the architecture hyperparameters in ``values`` applied.

    ``values`` uses the :data:`HP_NAMES` keys; missing or ``None`` entries (inactive
    conditional hyperparameters) keep the value of ``base``.
    """
    mapping = {
        "seq_arch": "arch",
        "hidden": "hidden",
        "n_blocks": "n_blocks",
        "kernel_size": "kernel_size",
        "dilation_base": "dilation_base",
        "rnn_layers": "rnn_layers",
        "latent_dim": "latent_dim",
        "dropout": "dropout",
        "beta": "beta",
    }
    changes = {}
    for hp_name, field in mapping.items():
        v = values.get(hp_name)
        if v is not None:
            changes[field] = type(getattr(base, field))(v)
    return base.replace(**changes)


class PELSVAEHyperModel(kt.HyperModel):
    """Searchable PELS-VAE: Table 2 of the paper as a KerasTuner ``HyperModel``.

    Args:
        base_config: the :class:`ModelConfig` every trial starts from (class count, physics
            columns for cVAE-P, seq_len, loss variant, seed); the searched axes overwrite it.
        space: the :class:`SearchSpace` (defaults to the paper's grid).
        seed: seed of the training-data shuffling and of Keras' global RNG in every trial
            (weights are initialised from ``base_config.seed``), so two trials with equal
            hyperparameters train identically and ``pelsvae train`` reproduces a trial.
        name: KerasTuner name of the hypermodel.
        train_base: the :class:`TrainConfig` every trial starts from (beta schedule, early
            stopping, schedule parameters, determinism, ...); the searched batch size, lr and
            scheduler, the epochs and ``seed`` overwrite it. Default: ``TrainConfig()``.
    """

    def __init__(
        self,
        base_config: ModelConfig,
        space: SearchSpace | None = None,
        seed: int = 0,
        name: str = "pelsvae",
        train_base: TrainConfig | None = None,
    ) -> None:
        super().__init__(name=name, tunable=True)
        if not isinstance(base_config, ModelConfig):
            raise ValueError(f"PELSVAEHyperModel.base_config: expected a ModelConfig, got {type(base_config).__name__}")
        self.base_config = base_config
        self.space = space if space is not None else SearchSpace.paper()
        self.seed = int(seed)
        if train_base is not None and not isinstance(train_base, TrainConfig):
            raise ValueError(f"PELSVAEHyperModel.train_base: expected a TrainConfig, got {type(train_base).__name__}")
        self.train_base = train_base if train_base is not None else TrainConfig()
        self._datasets: dict[str, Any] = {}

    # ------------------------------------------------------------------ KerasTuner API
    def declare_hyperparameters(self, hp: kt.HyperParameters) -> None:
        """Register the whole search space (KerasTuner calls this once before the first trial)."""
        declare_search_space(hp, self.space)

    def values(self, hp: kt.HyperParameters) -> dict[str, Any]:
        """The active Table 2 values of ``hp`` (declaring them if needed)."""
        return declare_search_space(hp, self.space)

    def model_config(self, hp: kt.HyperParameters) -> ModelConfig:
        """The :class:`ModelConfig` a trial with hyperparameters ``hp`` trains."""
        return model_config_from_values(self.base_config, self.values(hp))

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        """Build the PELS-VAE of one trial (:meth:`fit` compiles it with the trial's optimizer).

        An architecture the model rejects (e.g. a TCN receptive field shorter than the curves
        when ``receptive_field_check="error"``) becomes a failed trial with the reason.
        """
        return self.build_from_values(self.values(hp))

    def build_from_values(self, values: dict[str, Any]) -> keras.Model:
        """Build the (uncompiled) model for explicit Table 2 ``values`` (keys :data:`HP_NAMES`).

        Weights are initialised from ``ModelConfig.seed`` (the base config's seed), as in
        ``pelsvae train``. :meth:`fit_values` compiles it with Adam and the trial's LR schedule
        once the batch size (hence the steps per epoch) is known.
        """
        try:
            config = model_config_from_values(self.base_config, values)
        except ValueError as exc:
            raise kt.errors.FailedTrialError(f"invalid architecture: {exc}") from None
        # keras-tcn seeds its dropout layers from Python's `random` at build time: seed it as
        # `pelsvae train` does, so a trial does not depend on what ran before it in the process
        keras.utils.set_random_seed(int(config.seed))
        return build_pelsvae(config)

    def train_config(self, values: dict[str, Any], epochs: int, **overrides: Any) -> TrainConfig:
        """The :class:`TrainConfig` of a trial with ``values`` trained for ``epochs`` epochs.

        Batch size, learning rate and scheduler come from ``values``; everything else (schedule
        parameters, beta schedule, ...) from ``train_base``, so ``pelsvae train`` with this
        config reproduces the trial.
        """
        fields = dict(
            epochs=int(epochs),
            batch_size=int(values["batch_size"]),
            learning_rate=float(values["lr"]),
            lr_schedule=str(values["lr_scheduler"]),
            seed=self.seed,
        )
        fields.update(overrides)
        return self.train_base.replace(**fields)

    def fit(
        self,
        hp: kt.HyperParameters,
        model: keras.Model,
        data: Any,
        *,
        epochs: int = 1,
        callbacks: list | None = None,
        verbose: int | str = "auto",
        initial_epoch: int = 0,
        **kwargs: Any,
    ) -> keras.callbacks.History:
        """Train one trial on ``data`` with the trial's batch size and LR scheduler.

        Args:
            hp: the trial's hyperparameters (``batch_size`` and ``lr_scheduler`` are read here).
            model: the model returned by :meth:`build`.
            data: a :class:`pelsvae_tf.data.dataset.PreparedDataset` or its directory.
            epochs: last epoch to train to (Hyperband passes its own, with ``initial_epoch``).
            callbacks: KerasTuner's callbacks (objective reporting, best-epoch checkpoint).
            verbose: Keras progress-bar verbosity.

        Returns:
            the Keras ``History`` (KerasTuner reads ``val_loss`` from it).

        Raises:
            keras_tuner.errors.FailedTrialError: when the loss diverges to NaN/inf, so the
                oracle records a failed trial instead of a fake score.
        """
        return self.fit_values(
            self.values(hp),
            model,
            data,
            epochs=epochs,
            callbacks=callbacks,
            verbose=verbose,
            initial_epoch=initial_epoch,
            **kwargs,
        )

    def fit_values(
        self,
        values: dict[str, Any],
        model: keras.Model,
        data: Any,
        *,
        epochs: int = 1,
        callbacks: list | None = None,
        verbose: int | str = "auto",
        initial_epoch: int = 0,
        **kwargs: Any,
    ) -> keras.callbacks.History:
        """:meth:`fit` for explicit Table 2 ``values`` (also used for the paper-baseline run).

        Trains with :func:`pelsvae_tf.train.loop.fit`, the loop of ``pelsvae train``: the same
        Adam and learning-rate schedule, training batches (epoch e's order depends only on the
        seed and e), validation batches, beta schedule, replica batch rules, divergence guard
        and op determinism. KerasTuner's ``callbacks`` run after the loop's own. Other keyword
        arguments (KerasTuner passes none) are refused.
        """
        if kwargs:
            raise TypeError(f"PELSVAEHyperModel.fit: unexpected argument(s) {sorted(kwargs)}")
        config = model_config_from_values(self.base_config, values)
        tc = self.train_config(values, epochs)
        if verbose in (0, 1, 2):  # the callbacks' messages follow the trial's verbosity
            tc = tc.replace(verbose=int(verbose))
        dataset = self._dataset(data)
        steps = loop.schedule_steps(dataset, config.physics, tc)
        with model.distribute_strategy.scope():
            loop.compile_model(model, tc, steps)
            if initial_epoch:
                # Hyperband continues a model from its checkpoint (weights only): put the
                # optimizer at the step where that model stopped so the LR schedule goes on.
                model.optimizer.iterations.assign(int(initial_epoch) * steps)
        hint = (
            f"(lr={float(values['lr']):.3g}, scheduler={values['lr_scheduler']}, "
            f"beta={float(values['beta']):.3g}); a lower lr upper bound in the SearchSpace avoids this"
        )
        try:
            history = loop.fit(
                model,
                dataset,
                config,
                tc,
                initial_epoch=int(initial_epoch),
                steps=steps,
                extra_callbacks=list(callbacks or []),
                verbose=verbose,
            )
        except TrainingDivergedError as exc:
            raise kt.errors.FailedTrialError(f"trial diverged: {exc} {hint}") from None
        if not loop.finite_history(history):
            raise kt.errors.FailedTrialError(f"trial diverged: val_loss = {history.history.get('val_loss', [])} {hint}")
        return history

    # ------------------------------------------------------------------ helpers
    def _dataset(self, data: Any) -> Any:
        from pelsvae_tf.data.dataset import PreparedDataset

        if isinstance(data, PreparedDataset):
            return data
        if isinstance(data, (str, Path)):
            key = str(Path(data).resolve())
            if key not in self._datasets:
                self._datasets[key] = PreparedDataset(data)
            return self._datasets[key]
        raise ValueError(
            f"PELSVAEHyperModel.fit: data must be a PreparedDataset or its directory, got {type(data).__name__}"
        )
