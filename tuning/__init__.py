"""KerasTuner reproduction of the PELS-VAE hyperparameter search (paper Table 2) + ``pelsvae tune``.

- :mod:`pelsvae_tf.tuning.search_space`: :class:`SearchSpace` (the grid, shrinkable), ``PAPER_BEST``.
- :mod:`pelsvae_tf.tuning.hypermodel`: :class:`PELSVAEHyperModel` (``build(hp)`` / ``fit(hp, ...)``).
- :mod:`pelsvae_tf.tuning.tuners`: :func:`make_tuner`, :func:`tune` (local or
  KerasTuner chief/worker).
- :mod:`pelsvae_tf.tuning.report`: trial table, validation-loss plot, best training config.
- :mod:`pelsvae_tf.tuning.config`: :class:`TuneConfig` (TensorFlow-free).
- :mod:`pelsvae_tf.cli.tune`: the ``pelsvae tune`` verb (``python -m pelsvae_tf.tuning.cli`` runs it alone).

Names are imported lazily so that ``import tuning`` (and ``pelsvae --help``) does not load
TensorFlow.
"""

from __future__ import annotations

import sys as _sys

if __name__ == "tuning":  # a source checkout's top-level `tuning` (pelsvae_tf 0.1 name): deprecated
    import importlib as _importlib
    import warnings as _warnings

    import pelsvae_tf  # noqa: F401  (installs the finder that aliases `tuning.*`)

    _warnings.warn(
        "`tuning` is deprecated since pelsvae_tf 0.2 and will be removed in 0.3; import `pelsvae_tf.tuning` instead",
        DeprecationWarning,
        stacklevel=2,
    )
    _sys.modules["tuning"] = _importlib.import_module("pelsvae_tf.tuning")


import importlib
from typing import Any

_EXPORTS = {
    "SearchSpace": "pelsvae_tf.tuning.search_space",
    "PAPER_BEST": "pelsvae_tf.tuning.search_space",
    "PELSVAEHyperModel": "pelsvae_tf.tuning.hypermodel",
    "declare_search_space": "pelsvae_tf.tuning.hypermodel",
    "model_config_from_values": "pelsvae_tf.tuning.hypermodel",
    "TuneConfig": "pelsvae_tf.tuning.config",
    "TuneResult": "pelsvae_tf.tuning.tuners",
    "make_tuner": "pelsvae_tf.tuning.tuners",
    "tune": "pelsvae_tf.tuning.tuners",
    "load_trials": "pelsvae_tf.tuning.report",
    "plot_val_loss": "pelsvae_tf.tuning.report",
    "write_report": "pelsvae_tf.tuning.report",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'tuning' has no attribute {name!r}")
