"""``GeneratedLightCurves``: a batch of generated light curves and its views.

Indexing (``lcs[i]``, slices, masks), iteration, :meth:`~GeneratedLightCurves.folded`, tables
with units (pandas, astropy, CSV, Parquet with unit metadata), ``lightkurve`` and plots. The
served ``generator`` clients (:mod:`pelsvae_tf.serving`) return the same object. Importing this
module does not load TensorFlow.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from pelsvae_tf.atomic import atomic_path
from pelsvae_tf.generate.checks import PHYSICS_UNITS


@dataclasses.dataclass
class GeneratedLightCurves:
    """A batch of ``n`` generated light curves of ``T`` points each.

    Arrays (``[n, T]`` unless noted): ``time`` [d], ``phase`` [cycles, 0-1], ``mag`` [mag] (with
    the noise draw if requested), ``mag_model`` [mag] (noise-free decoder output), ``err`` [mag]
    (generated photometric errors), ``scaled_mag``/``scaled_err`` (decoder outputs in [0, 1]);
    per curve ``[n]``: ``cls`` (class names), ``label`` (class indices), ``period`` [d], ``t0``
    [d], ``mag_mean`` [mag] (phase-averaged model magnitude), ``amplitude`` [mag] (peak-to-peak
    of the model curve), ``dummy`` (the paper regressor's U(0, 1) input; NaN when none),
    ``in_training_range`` (bool: every physical parameter inside its class's training range),
    ``jitter`` [n, 3] (the intrinsic jitter in the noise draw: phase rms [cycles], amplitude rms
    [fraction], white rms [fraction of the amplitude]; zeros without noise; None when unknown);
    ``physics`` maps parameter name -> [n] values in physical units (K, mag, d, ...); ``z``
    [n, D] the latent vectors.

    ``len(lcs)``, ``lcs[i]`` / ``lcs[2:5]`` / ``lcs[mask]`` (a new object of the selected curves),
    iteration (one-curve objects), :meth:`to_lightkurve`, tables with units.
    """

    time: np.ndarray
    phase: np.ndarray
    mag: np.ndarray
    mag_model: np.ndarray
    err: np.ndarray
    scaled_mag: np.ndarray
    scaled_err: np.ndarray
    cls: np.ndarray
    label: np.ndarray
    period: np.ndarray
    t0: np.ndarray
    mag_mean: np.ndarray
    amplitude: np.ndarray
    dummy: np.ndarray
    physics: dict[str, np.ndarray]
    z: np.ndarray
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)
    in_training_range: np.ndarray | None = None
    jitter: np.ndarray | None = None

    _PER_POINT = ("time", "phase", "mag", "mag_model", "err", "scaled_mag", "scaled_err")
    _PER_CURVE = ("cls", "label", "period", "t0", "mag_mean", "amplitude", "dummy", "z", "in_training_range", "jitter")

    def __len__(self) -> int:
        return int(self.mag.shape[0])

    def __getitem__(self, index) -> "GeneratedLightCurves":
        """Curves ``index`` (int, slice, index array or boolean mask) as a new object."""
        if isinstance(index, (int, np.integer)):
            i = int(index)
            if not -len(self) <= i < len(self):
                raise IndexError(f"curve {i} out of range for {len(self)} curves")
            index = slice(i % len(self), i % len(self) + 1)
        elif not isinstance(index, slice):
            index = np.asarray(index)
            if index.dtype == bool and index.shape != (len(self),):
                raise IndexError(f"boolean mask of shape {index.shape} for {len(self)} curves")
        fields = {k: getattr(self, k)[index] for k in self._PER_POINT + self._PER_CURVE if getattr(self, k) is not None}
        return dataclasses.replace(self, physics={k: v[index] for k, v in self.physics.items()}, **fields)

    def __iter__(self):
        """One-curve objects, in order."""
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        classes, counts = np.unique(self.cls, return_counts=True)
        by_class = ", ".join(f"{c}: {k}" for c, k in zip(classes, counts))
        per = np.asarray(self.period, np.float64)
        return (
            f"<GeneratedLightCurves: {len(self)} curves x {self.n_points} points ({by_class}); "
            f"period {per.min():.4g}-{per.max():.4g} d; regressor {self.meta.get('regressor', '?')}, "
            f"seed {self.meta.get('seed', '?')}, noise {self.meta.get('noise', '?')}>"
        )

    @property
    def n_points(self) -> int:
        """Points per curve (T)."""
        return int(self.mag.shape[1])

    def folded(self) -> "GeneratedLightCurves":
        """Phase-folded view: a new object whose points (every ``[n, T]`` array: ``time`` [d],
        ``phase``, ``mag``, ``mag_model``, ``err`` [mag], ``scaled_mag``, ``scaled_err``) are
        sorted by phase within each curve; per-curve values are shared. ``self`` is unchanged."""
        order = np.argsort(self.phase, axis=1, kind="stable")
        return dataclasses.replace(
            self,
            **{k: np.take_along_axis(getattr(self, k), order, axis=1) for k in self._PER_POINT},
            meta=dict(self.meta, folded=True),
        )

    def to_pandas(self):
        """Long table: one row per point with ``curve``, ``cls``, ``time`` [d], ``phase``, ``mag``,
        ``err``, ``mag_model`` [mag] and the curve's period [d], t0 [d], physics, mag_mean, amplitude."""
        import pandas as pd

        n, T = self.mag.shape
        cols: dict[str, Any] = {
            "curve": np.repeat(np.arange(n), T),
            "cls": np.repeat(self.cls, T),
            "time": self.time.reshape(-1),
            "phase": self.phase.reshape(-1),
            "mag": self.mag.reshape(-1),
            "err": self.err.reshape(-1),
            "mag_model": self.mag_model.reshape(-1),
            "period": np.repeat(self.period, T),
            "t0": np.repeat(self.t0, T),
        }
        for name, v in self.physics.items():
            if name != "period":
                cols[name] = np.repeat(v, T)
        cols["mag_mean"] = np.repeat(self.mag_mean, T)
        cols["amplitude"] = np.repeat(self.amplitude, T)
        return pd.DataFrame(cols)

    def to_table(self):
        """The :meth:`to_pandas` table as an astropy ``Table`` with units (d, mag, K, ...)."""
        import astropy.units as u
        from astropy.table import Table

        tab = Table.from_pandas(self.to_pandas())
        units = {
            "time": u.day,
            "period": u.day,
            "t0": u.day,
            "mag": u.mag,
            "err": u.mag,
            "mag_model": u.mag,
            "mag_mean": u.mag,
            "amplitude": u.mag,
        }
        for name in self.physics:
            if name in tab.colnames and name not in units:
                units[name] = u.mag if PHYSICS_UNITS[name] == "mag" else u.Unit(PHYSICS_UNITS[name])
        for col, unit in units.items():
            if col in tab.colnames:
                tab[col].unit = unit
        tab.meta.update({k: v for k, v in self.meta.items() if isinstance(v, (str, int, float))})
        return tab

    def to_csv(self, path: str | Path) -> Path:
        """Write the long table as CSV, atomically."""
        path = Path(path)
        with atomic_path(path) as tmp:
            self.to_pandas().to_csv(tmp, index=False)
        return path

    def column_units(self) -> dict[str, str]:
        """astropy unit string of every table column that has one (time d, mag mag, teff K, ...)."""
        units = {
            "time": "d",
            "period": "d",
            "t0": "d",
            "mag": "mag",
            "err": "mag",
            "mag_model": "mag",
            "mag_mean": "mag",
            "amplitude": "mag",
            "phase": "cycle",
        }
        for name in self.physics:
            units.setdefault(name, PHYSICS_UNITS[name])
        return units

    def parquet_schema(self, schema, **extra_meta: Any):
        """``schema`` (a pyarrow schema of the :meth:`to_pandas` table) with the column units as
        field ``unit`` metadata and schema metadata ``pelsvae_units`` (JSON column -> unit) and
        ``pelsvae_meta`` (this object's scalar ``meta``, updated with ``extra_meta``)."""
        import pyarrow as pa

        units = {k: v for k, v in self.column_units().items() if k in schema.names}
        meta = dict(schema.metadata or {})
        meta[b"pelsvae_units"] = json.dumps(units).encode()
        scalars = {k: v for k, v in {**self.meta, **extra_meta}.items() if isinstance(v, (str, int, float, bool))}
        meta[b"pelsvae_meta"] = json.dumps(scalars).encode()
        return pa.schema(
            [f.with_metadata({"unit": units[f.name]}) if f.name in units else f for f in schema], metadata=meta
        )

    def to_parquet(self, path: str | Path) -> Path:
        """Write the long table as Parquet (pyarrow), atomically; column units are kept in the
        schema metadata (``pelsvae_units``: JSON column -> astropy unit string) and as each
        field's ``unit`` metadata."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = Path(path)
        table = pa.Table.from_pandas(self.to_pandas(), preserve_index=False)
        table = table.cast(self.parquet_schema(table.schema))
        with atomic_path(path) as tmp:
            pq.write_table(table, tmp)
        return path

    def to_lightkurve(self, index: int = 0):
        """Curve ``index`` as a ``lightkurve.LightCurve`` (time: astropy ``Time``, MJD-like days of
        this object; flux: ``mag`` with unit mag, flux_err: ``err``; meta: class, period, physics).
        Needs the optional extra ``pip install lightkurve``."""
        try:
            import lightkurve as lk
        except ImportError as exc:
            raise ImportError(
                "to_lightkurve needs lightkurve: pip install lightkurve (or pip install 'pelsvae-tf[lightkurve]')"
            ) from exc
        import astropy.units as u
        from astropy.time import Time

        one = self[int(index)]
        lc = lk.LightCurve(time=Time(one.time[0], format="mjd"), flux=one.mag[0] * u.mag, flux_err=one.err[0] * u.mag)
        lc.meta.update(
            {
                "CLASS": str(one.cls[0]),
                "PERIOD": float(one.period[0]),
                "T0": float(one.t0[0]),
                **{k.upper(): float(v[0]) for k, v in one.physics.items()},
            }
        )
        return lc

    def plot(self, ax=None, index: int | Sequence[int] = 0, folded: bool = True, errorbars: bool = True):
        """Plot curve(s) ``index``: magnitude vs phase (``folded``) or vs time [d]; returns the Axes.

        The magnitude axis is inverted (brighter up). Noise-free model shown as a line in the
        folded view.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")  # saved figures keep their labels
        idx = [index] if np.isscalar(index) else list(index)
        for i in idx:
            if not 0 <= int(i) < len(self):
                raise ValueError(f"plot: index {i} out of range for {len(self)} curves")
            x = self.phase[i] if folded else self.time[i]
            label = f"{self.cls[i]} P={self.period[i]:.3g} d"
            if errorbars:
                ax.errorbar(x, self.mag[i], yerr=self.err[i], fmt=".", ms=3, alpha=0.7, label=label)
            else:
                ax.plot(x, self.mag[i], ".", ms=3, label=label)
            if folded:
                o = np.argsort(x)
                ax.plot(x[o], self.mag_model[i][o], "-", lw=1, color="k", alpha=0.6)
        ax.set_xlabel("phase" if folded else "time [d]")
        ax.set_ylabel("magnitude [mag]")
        if not ax.yaxis_inverted():
            ax.invert_yaxis()
        ax.legend(fontsize="small")
        return ax
