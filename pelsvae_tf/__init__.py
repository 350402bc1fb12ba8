"""pelsvae_tf: PELS-VAE (Martinez-Palomera, Bloom & Abrahams 2022) in Keras 3 / TensorFlow.

A physics-enhanced latent-space variational autoencoder that learns phase-folded light curves
of periodic variable stars and generates new ones, in magnitudes and at any cadence, from a
variability class and physical parameters (effective temperature in K, absolute Gaia G
magnitude in mag, period in days).

Heavy submodules (TensorFlow) are imported lazily: ``import pelsvae_tf`` is cheap.
"""

__version__ = "0.1.0"

from pelsvae_tf import _lazy
from pelsvae_tf.classes import CLASSES, PHYSICS_PARAMS  # noqa: F401

_lazy.install()  # old 0.1 module paths (pelsvae_tf.generator, tuning, ...) -> new homes, with a warning
