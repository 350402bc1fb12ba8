"""The small pretrained run shipped with the package (a run of the ``ship`` preset).

``pelsvae_tf/resources/pretrained/`` holds a run directory (``config.json``, ``model.keras``,
``physics_scaler.json``, ``history.csv``, ``latents.npz`` and fitted ``regressors/``) of a
cVAE-P (TCN 6 blocks x 32 filters, latent 4) trained on the built-in sky by ``pelsvae run
--preset ship`` (seed 0; README "The shipped model" says how and when), so
``pelsvae generate`` and :meth:`pelsvae_tf.generate.generator.Generator.load` work right after install.
It is a demonstration model: train your own (``pelsvae run --preset paper`` or
``pelsvae train``) for science.
"""

from __future__ import annotations

from pathlib import Path

from pelsvae_tf.rundir import RunDir

PRETRAINED_DIR = Path(__file__).resolve().parent / "resources" / "pretrained"


def pretrained_run_dir() -> Path:
    """Path of the shipped pretrained run directory.

    Raises ``FileNotFoundError`` with the fix when the package was installed without it.
    """
    if not RunDir(PRETRAINED_DIR).exists():
        raise FileNotFoundError(
            f"no pretrained run at {PRETRAINED_DIR}; pass a run directory trained with "
            f"`pelsvae run` or `pelsvae train` + `pelsvae regress`"
        )
    return PRETRAINED_DIR
