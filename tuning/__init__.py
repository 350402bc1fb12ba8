"""KerasTuner reproduction of the PELS-VAE hyperparameter search (paper Table 2) + ``pelsvae tune``.

- :mod:`tuning.search_space`: :class:`SearchSpace` (the grid, shrinkable), ``PAPER_BEST``.
- :mod:`tuning.hypermodel`: :class:`PELSVAEHyperModel` (``build(hp)`` / ``fit(hp, ...)``).
- :mod:`tuning.tuners`: :class:`TuneConfig`, :func:`make_tuner`, :func:`tune` (local or
  KerasTuner chief/worker).
- :mod:`tuning.report`: trial table, validation-loss plot, best training config.
- :mod:`tuning.cli`: the ``pelsvae tune`` verb.

Names are imported lazily so that ``import tuning`` (and ``pelsvae --help``) does not load
TensorFlow.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "SearchSpace": "tuning.search_space",
    "PAPER_BEST": "tuning.search_space",
    "PELSVAEHyperModel": "tuning.hypermodel",
    "declare_search_space": "tuning.hypermodel",
    "model_config_from_values": "tuning.hypermodel",
    "TuneConfig": "tuning.tuners",
    "TuneResult": "tuning.tuners",
    "make_tuner": "tuning.tuners",
    "tune": "tuning.tuners",
    "load_trials": "tuning.report",
    "plot_val_loss": "tuning.report",
    "write_report": "tuning.report",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'tuning' has no attribute {name!r}")
