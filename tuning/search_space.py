"""The hyperparameter grid of the PELS-VAE paper (Table 2) as a typed, shrinkable dataclass.

:class:`SearchSpace` lists, per axis, the values (categorical axes) or the ``(low, high)``
bounds (continuous axes) that :class:`pelsvae_tf.tuning.hypermodel.PELSVAEHyperModel` declares to
KerasTuner. :meth:`SearchSpace.paper` is Table 2 verbatim; :meth:`SearchSpace.small` and
:meth:`SearchSpace.tiny` shrink it for the small main job and for tests. An axis given a
single value (or ``low == high``) is declared as ``hp.Fixed`` and is not searched.

Units: ``lr`` is the Adam learning rate (per optimizer step, dimensionless); ``dropout`` and
``beta`` are dimensionless; ``hidden`` is the number of channels (TCN) or units (RNN);
``batch_sizes`` are numbers of light curves per step.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pelsvae_tf import options
from pelsvae_tf.config import ConfigBase

#: Sequence architectures of the paper (``seq_arch`` in Table 2).
ARCHS: tuple[str, ...] = options.ARCHS
#: Learning-rate schedulers of Table 2.
LR_SCHEDULERS: tuple[str, ...] = options.LR_SCHEDULES
#: How the learning rate is drawn from its bounds.
LR_SAMPLINGS: tuple[str, ...] = ("log", "linear")

#: The best values reported by the paper (Table 2, bold) plus the reference code's best shipped
#: architecture (TCN, 9 blocks, 48 channels, kernel 5) and batch size 128 (reference runs).
PAPER_BEST: dict[str, Any] = {
    "seq_arch": "tcn",
    "hidden": 48,
    "n_blocks": 9,
    "kernel_size": 5,
    "latent_dim": 4,
    "dropout": 0.2,
    "lr": 1e-3,
    "lr_scheduler": "none",
    "beta": 0.75,
    "batch_size": 128,
}
#: The values the paper itself marks as best in Table 2 (the rest of PAPER_BEST comes from the
#: reference code); the report prints these beside the search result.
PAPER_TABLE2_BEST: tuple[str, ...] = ("lr", "beta", "dropout", "latent_dim")


def _check_choices(name: str, values: tuple, allowed: tuple | None = None, positive: bool = False) -> None:
    if not isinstance(values, tuple) or len(values) == 0:
        raise ValueError(f"SearchSpace.{name}: give at least one value (got {values!r})")
    if len(set(values)) != len(values):
        raise ValueError(f"SearchSpace.{name}: duplicate values in {values!r}; list each value once")
    for v in values:
        if allowed is not None and v not in allowed:
            raise ValueError(f"SearchSpace.{name}: unknown value {v!r}; expected a subset of {allowed}")
        if positive and (not isinstance(v, int) or isinstance(v, bool) or v <= 0):
            raise ValueError(f"SearchSpace.{name}: {v!r} is not a positive integer")


def _check_range(name: str, bounds: tuple, low: float, high: float, high_open: bool = False) -> None:
    if not isinstance(bounds, tuple) or len(bounds) != 2:
        raise ValueError(f"SearchSpace.{name}: give (low, high) bounds, got {bounds!r}")
    lo, hi = float(bounds[0]), float(bounds[1])
    if lo > hi:
        raise ValueError(f"SearchSpace.{name}: low {lo} > high {hi}; swap the bounds")
    upper_ok = hi < high if high_open else hi <= high
    if lo < low or not upper_ok:
        bracket = ")" if high_open else "]"
        raise ValueError(f"SearchSpace.{name}: bounds {bounds!r} must lie in [{low}, {high}{bracket}")


@dataclass(frozen=True)
class SearchSpace(ConfigBase):
    """Values or bounds of every axis of the paper's Table 2 grid.

    Categorical axes are tuples of values; continuous axes are ``(low, high)`` tuples.
    Defaults are the paper's grid (:meth:`paper`).

    Attributes:
        archs: sequence architectures ("tcn", "gru", "lstm").
        hidden: TCN channels / RNN units per layer.
        n_blocks: TCN residual blocks (TCN only; dilation of block i is ``dilation_base**i``).
        kernel_size: TCN kernel size in time steps (TCN only).
        dilation_base: TCN dilation base (fixed at 2 in the paper).
        rnn_layers: stacked GRU/LSTM layers (RNN only).
        latent_dim: latent dimension.
        dropout: dropout probability bounds, sampled uniformly.
        lr: Adam learning-rate bounds.
        lr_sampling: "log" (log-uniform, default: the bounds span 3.3 decades) or "linear"
            (the paper's literal U(5e-5, 0.1), which almost never tries lr < 1e-3).
        lr_schedulers: learning-rate schedulers ("none", "exponential", "cosine", "plateau").
        beta: KL weight bounds, sampled uniformly.
        batch_sizes: batch sizes in light curves (tuned in ``HyperModel.fit``).
    """

    archs: tuple[str, ...] = ARCHS
    hidden: tuple[int, ...] = (16, 32, 48, 64)
    n_blocks: tuple[int, ...] = (5, 7, 9)
    kernel_size: tuple[int, ...] = (3, 5, 7, 9)
    dilation_base: int = 2
    rnn_layers: tuple[int, ...] = (1, 2, 3)
    latent_dim: tuple[int, ...] = (4, 6, 8, 12)
    dropout: tuple[float, float] = (0.0, 0.5)
    lr: tuple[float, float] = (5e-5, 0.1)
    lr_sampling: str = "log"
    lr_schedulers: tuple[str, ...] = LR_SCHEDULERS
    beta: tuple[float, float] = (0.0, 1.0)
    batch_sizes: tuple[int, ...] = (32, 64, 128)

    def __post_init__(self) -> None:
        # Accept lists (JSON, user code) and store tuples so the config stays hashable.
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, list):
                object.__setattr__(self, f.name, tuple(v))
        _check_choices("archs", self.archs, ARCHS)
        _check_choices("hidden", self.hidden, positive=True)
        _check_choices("n_blocks", self.n_blocks, positive=True)
        _check_choices("kernel_size", self.kernel_size, positive=True)
        _check_choices("rnn_layers", self.rnn_layers, positive=True)
        _check_choices("latent_dim", self.latent_dim, positive=True)
        _check_choices("lr_schedulers", self.lr_schedulers, LR_SCHEDULERS)
        _check_choices("batch_sizes", self.batch_sizes, positive=True)
        if any(k < 2 for k in self.kernel_size):
            raise ValueError(
                f"SearchSpace.kernel_size: {self.kernel_size} has a value < 2; a TCN kernel needs >= 2 taps"
            )
        b = self.dilation_base
        if isinstance(b, bool) or not isinstance(b, int) or b < 2 or (b & (b - 1)) != 0:
            raise ValueError(f"SearchSpace.dilation_base: {b!r} must be a power of two >= 2 (paper: 2)")
        _check_range("dropout", self.dropout, 0.0, 1.0, high_open=True)
        _check_range("beta", self.beta, 0.0, 1e6)
        _check_range("lr", self.lr, 1e-12, 10.0)
        if self.lr_sampling not in LR_SAMPLINGS:
            raise ValueError(f"SearchSpace.lr_sampling: {self.lr_sampling!r}; expected one of {LR_SAMPLINGS}")
        if float(self.lr[0]) <= 0:
            raise ValueError(f"SearchSpace.lr: low bound {self.lr[0]} must be > 0")

    # ------------------------------------------------------------------ presets
    @classmethod
    def paper(cls) -> "SearchSpace":
        """Table 2 of the paper, every axis at its published grid (lr drawn log-uniformly)."""
        return cls()

    @classmethod
    def small(cls) -> "SearchSpace":
        """A shrunk grid for the small main job (TCN only, kernel 5, 6 or 7 blocks).

        Keeps every continuous axis (lr, dropout, beta) and the latent, scheduler and batch-size
        choices of Table 2; drops the RNNs (the paper found the TCN >= 3x faster with similar
        quality) and the largest hidden size, so one trial costs about one short training run.
        Blocks are 6 or 7 (receptive field 505 / 1017 steps with kernel 5): Table 2's 5 blocks
        see only 249 steps, shorter than the 300-point curves, and fail the receptive-field check.
        """
        return cls(
            archs=("tcn",),
            hidden=(16, 32, 48),
            n_blocks=(6, 7),
            kernel_size=(5,),
            rnn_layers=(1,),
            latent_dim=(4, 6, 8, 12),
            batch_sizes=(32, 64, 128),
        )

    @classmethod
    def tiny(cls) -> "SearchSpace":
        """A very small space for tests: all three architectures, 8 channels, TCN kernel 5 with 4-5 blocks
        (receptive field 121-249 steps, enough for seq_len <= 121)."""
        return cls(
            archs=("tcn", "gru", "lstm"),
            hidden=(8,),
            n_blocks=(4, 5),
            kernel_size=(5,),
            rnn_layers=(1,),
            latent_dim=(2, 4),
            dropout=(0.0, 0.3),
            lr=(1e-3, 1e-2),
            lr_schedulers=("none", "exponential", "cosine", "plateau"),
            beta=(0.0, 1.0),
            batch_sizes=(32, 64),
        )

    @classmethod
    def preset(cls, name_or_path: str | Path) -> "SearchSpace":
        """Return a preset by name ("paper", "small", "tiny") or load a JSON file of fields."""
        name = str(name_or_path)
        if name in ("paper", "small", "tiny"):
            return getattr(cls, name)()
        path = Path(name)
        if not path.exists():
            raise FileNotFoundError(f"search space {name!r}: not a preset (paper, small, tiny) and no such JSON file")
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"search space file {path}: not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise ValueError(f"search space file {path}: expected a JSON object of SearchSpace fields")
        return cls.from_dict(data)

    def n_grid_points(self) -> int:
        """Number of distinct categorical combinations (continuous axes not counted)."""
        per_arch = 0
        for arch in self.archs:
            if arch == "tcn":
                per_arch += len(self.n_blocks) * len(self.kernel_size)
            else:
                per_arch += len(self.rnn_layers)
        return per_arch * len(self.hidden) * len(self.latent_dim) * len(self.lr_schedulers) * len(self.batch_sizes)
