"""Side-by-side decoder baseline: the same decoder in PyTorch and in this package, timed in one run.

The PyTorch decoder mirrors ``pelsvae_tf.model.build.build_decoder`` layer for layer (random weights;
speed does not depend on training): the input ``[z, one-hot, phase]`` per step (D + C + 1
channels), then per TCN block keras-tcn's residual layout ``2 x (causal dilated Conv1D ->
LayerNorm over channels -> ReLU -> dropout)``, a 1x1 Conv1D on the residual path when the width
changes, ``ReLU(x1 + residual)`` to the next block; for the constant-channel default the blocks'
``x1`` outputs are summed (keras-tcn skip connections), for the reference's tapered channels the
last block's output is used (Bai et al.'s TemporalConvNet); then the per-step dense stack (ReLU)
and two sigmoid heads. Layer shapes are checked equal to the Keras decoder's (parameter counts).

Timed, for each number of points T and number of curves N, whole N curves decoded in chunks:

- ``torch``: ``torch.no_grad`` + ``torch.inference_mode``, ``--torch-threads`` intra-op threads;
- ``tf.function``: the package's Keras decoder under a plain ``tf.function`` (training=False);
- ``tf XLA``: the same under ``jit_compile=True`` (``pelsvae_tf.model.inference.inference_decoder_fn``);

each at its own chunk size(s) (``--torch-chunks``, ``--tf-chunks``); ratios are against the best
torch time of the same run. The roofline line is the decoder's analytic FLOPs per curve (from
``bench_roofline.analytic_flops``) times curves/s over the float32 matmul rate measured in the
same run (best of numpy, TF and torch 1024^2 matmuls).

Run: ``pip install -e .[bench]`` then ``python benchmarks/bench_torch_baseline.py`` (``--help``).
Thread / oneDNN settings are process-wide: run once per setting (``TF_ENABLE_ONEDNN_OPTS=0``,
``--intra``, ``--inter``) and compare the printed ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from common import fmt_si, matmul_flops, print_machine_info  # noqa: E402


def _torch_tcn(kernel_size: int, dilations: list[int], skip_sum: bool, dropout: float | None):
    """The ``TCN(cin, channels)`` torch module class shared by the decoder and VAE twins.

    Residual blocks of two causal dilated convolutions, each followed by a channel layer norm,
    ReLU and (with ``dropout``) spatial dropout as keras-tcn; a 1x1 convolution on the residual
    path where the width changes. ``skip_sum``: sum the blocks' outputs (keras-tcn skip
    connections) or return the last block's output (TemporalConvNet). ``[B, cin, T] -> [B, C, T]``.
    """
    import torch
    from torch import nn

    class ChannelNorm(nn.Module):
        """LayerNorm over the channel axis of [B, C, T] (Keras LayerNormalization on [B, T, C])."""

        def __init__(self, c):
            super().__init__()
            self.g = nn.Parameter(torch.ones(1, c, 1))
            self.b = nn.Parameter(torch.zeros(1, c, 1))

        def forward(self, x):
            mean = x.mean(dim=1, keepdim=True)
            var = ((x - mean) ** 2).mean(dim=1, keepdim=True)
            return (x - mean) * torch.rsqrt(var + 1e-3) * self.g + self.b

    class Block(nn.Module):
        def __init__(self, cin, cout, d):
            super().__init__()
            self.pad = (kernel_size - 1) * d
            self.c1 = nn.Conv1d(cin, cout, kernel_size, dilation=d)
            self.n1 = ChannelNorm(cout)
            self.c2 = nn.Conv1d(cout, cout, kernel_size, dilation=d)
            self.n2 = ChannelNorm(cout)
            self.drop = nn.Dropout1d(dropout) if dropout is not None else nn.Identity()
            self.match = nn.Conv1d(cin, cout, 1) if cin != cout else None

        def forward(self, x):
            h = self.drop(torch.relu(self.n1(self.c1(nn.functional.pad(x, (self.pad, 0))))))
            h = self.drop(torch.relu(self.n2(self.c2(nn.functional.pad(h, (self.pad, 0))))))
            res = x if self.match is None else self.match(x)
            return torch.relu(h + res), h

    class TCN(nn.Module):
        def __init__(self, cin, channels):
            super().__init__()
            blocks = []
            for c, d in zip(channels, dilations):
                blocks.append(Block(cin, c, d))
                cin = c
            self.blocks = nn.ModuleList(blocks)

        def forward(self, x):
            skips = None
            for blk in self.blocks:
                x, h = blk(x)
                if skip_sum:
                    skips = h if skips is None else skips + h
            return skips if skip_sum else x

    return TCN


def build_torch_decoder(
    channels: list[int], in_ch: int, kernel_size: int, dilations: list[int], dense_units: list[int], skip_sum: bool
):
    """PyTorch twin of the package's TCN decoder (layout in the module docstring), eval mode.

    Args:
        channels: filters per TCN block (decoder order).
        in_ch: per-step input channels (latent D + classes C + time tag width).
        kernel_size: convolution taps; dilations: dilation per block (time steps).
        dense_units: per-step dense layers after the TCN (decoder order).
        skip_sum: True = sum the blocks' outputs (keras-tcn skip connections, constant channels);
            False = the last block's residual output (TemporalConvNet, tapered channels).

    Returns:
        ``torch.nn.Module`` mapping ``[B, in_ch, T]`` float32 to ``(mag, err)`` ``[B, T]`` in [0, 1].
    """
    import torch
    from torch import nn

    TCN = _torch_tcn(kernel_size, dilations, skip_sum, dropout=None)

    class Decoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.tcn = TCN(in_ch, channels)
            dense, cin = [], channels[-1]
            for u in dense_units:
                dense.append(nn.Conv1d(cin, u, 1))
                cin = u
            self.dense = nn.ModuleList(dense)
            self.mag = nn.Conv1d(cin, 1, 1)
            self.err = nn.Conv1d(cin, 1, 1)

        def forward(self, x):
            x = self.tcn(x)
            for layer in self.dense:
                x = torch.relu(layer(x))
            return torch.sigmoid(self.mag(x))[:, 0], torch.sigmoid(self.err(x))[:, 0]

    torch.manual_seed(0)
    return Decoder().eval()


def build_torch_vae(
    enc_channels: list[int],
    dec_channels: list[int],
    kernel_size: int,
    dilations: list[int],
    dense_units: list[int],
    latent_dim: int,
    n_classes: int,
    n_phys: int,
    dropout: float,
    skip_sum: bool,
):
    """PyTorch twin of the package's TCN PELS-VAE for training-step timing (train mode, dropout on).

    Encoder: ``[phase, mag, err]`` per step -> TCN (layout of :func:`build_torch_decoder`, plus
    spatial dropout after each activation as keras-tcn) -> last step -> concat one-hot (+ physics)
    -> dense ReLU + dropout -> ``z_mean``, ``z_log_var``; reparameterised latent; decoder as
    :func:`build_torch_decoder` with dropout. ``forward(phase, mag, err, onehot, phys)`` returns
    ``(mag_hat, err_hat, z_mean, z_log_var)``; :func:`torch_paper_loss` is the paper's eq. 4.
    """
    import torch
    from torch import nn

    TCN = _torch_tcn(kernel_size, dilations, skip_sum, dropout=dropout)

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc_tcn = TCN(3, enc_channels)
            enc_dense, cin = [], enc_channels[-1] + n_classes + n_phys
            for u in dense_units:
                enc_dense.append(nn.Linear(cin, u))
                cin = u
            self.enc_dense = nn.ModuleList(enc_dense)
            self.z_mean = nn.Linear(cin, latent_dim)
            self.z_log_var = nn.Linear(cin, latent_dim)
            self.dec_tcn = TCN(latent_dim + n_classes + 1, dec_channels)
            dec_dense, cin = [], dec_channels[-1]
            for u in reversed(dense_units):
                dec_dense.append(nn.Conv1d(cin, u, 1))
                cin = u
            self.dec_dense = nn.ModuleList(dec_dense)
            self.mag = nn.Conv1d(cin, 1, 1)
            self.err = nn.Conv1d(cin, 1, 1)
            self.drop = nn.Dropout(dropout)

        def forward(self, phase, mag, err, onehot, phys):
            x = self.enc_tcn(torch.stack([phase, mag, err], dim=1))[:, :, -1]
            h = torch.cat([x, onehot, phys], dim=1)
            for layer in self.enc_dense:
                h = self.drop(torch.relu(layer(h)))
            mu, logvar = self.z_mean(h), self.z_log_var(h)
            z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
            cond = torch.cat([z, onehot], dim=1)
            t = phase.shape[1]
            x = torch.cat([cond[:, :, None].expand(-1, -1, t), phase[:, None, :]], dim=1)
            x = self.dec_tcn(x)
            for layer in self.dec_dense:
                x = nn.functional.dropout1d(torch.relu(layer(x)), dropout, self.training)
            return torch.sigmoid(self.mag(x))[:, 0], torch.sigmoid(self.err(x))[:, 0], mu, logvar

    torch.manual_seed(0)
    return VAE().train()


def torch_paper_loss(mag, err, mag_hat, err_hat, mu, logvar, beta: float = 0.75, floor: float = 0.01):
    """Paper eq. 4 in torch (as ``pelsvae_tf.model.losses.loss_terms(kind="paper")``): error-weighted MSE
    + beta KL(q(z|x) || N(0, I)) + the error KL, batch mean (dimensionless, nats)."""
    import torch

    s2 = err**2 + floor**2
    sh2 = err_hat**2 + floor**2
    recon = ((mag - mag_hat) ** 2 / s2).mean(dim=1)
    kl = 0.5 * (torch.exp(logvar) + mu**2 - logvar - 1).sum(dim=1)
    err_kl = (0.5 * torch.log(sh2 / s2) + s2 / (2 * sh2) - 0.5).mean(dim=1)
    return (recon + beta * kl + err_kl).mean()


def train_comparison(
    seq_lens: list[int],
    batch: int,
    steps: int,
    peak: float,
    channels: str = "constant",
    xla: bool = True,
    tcn_impls: tuple[str, ...] = ("fast", "keras"),
) -> list:
    """Time one training step (Adam, paper loss, full-length decoding) in torch and the package.

    The package runs ``PELSVAE.train_on_batch`` compiled as plain ``tf.function`` and with
    ``jit_compile=True``, with ``decoder_subsample=1`` (every point decoded, as the torch twin
    and the reference) and with the package default subset (0.3). Prints samples/s and ratios
    against torch (same run); returns the rows. ``xla=False`` skips the XLA-compiled steps (their
    first call compiles for minutes on 2 cores). ``tcn_impls``: the ``ModelConfig.tcn_impl`` values
    timed (``"fast"``: the package's ``causal_conv.TCN`` kernels, the default; ``"keras"``: keras-tcn's
    own layers).
    """
    import keras
    import torch
    from bench_roofline import analytic_flops

    from pelsvae_tf.model import ModelConfig, build_pelsvae

    rows = []
    rng = np.random.default_rng(1)
    for t in seq_lens:
        phase = np.sort(rng.random((batch, t)), axis=1).astype(np.float32)
        mag = (0.5 + 0.4 * np.sin(2 * np.pi * (phase + rng.random((batch, 1))))).astype(np.float32)
        err = rng.uniform(0.01, 0.05, (batch, t)).astype(np.float32)
        onehot = np.eye(8, dtype=np.float32)[rng.integers(0, 8, batch)]
        phys = rng.random((batch, 3)).astype(np.float32)
        data = {"phase": phase, "mag": mag, "err": err, "class_onehot": onehot, "phys": phys}
        impls = {}
        base_cfg = dict(
            arch="tcn",
            hidden=48,
            n_blocks=9,
            kernel_size=5,
            latent_dim=4,
            seq_len=t,
            seed=0,
            physics=("teff", "abs_gmag", "period"),
            tcn_channels=channels,
        )
        cfg = ModelConfig(**base_cfg, decoder_subsample=1.0)
        tv = build_torch_vae(
            cfg.channels(),
            cfg.channels(decoder=True),
            cfg.kernel_size,
            list(cfg.dilations),
            list(cfg.dense_units),
            cfg.latent_dim,
            cfg.n_classes,
            3,
            cfg.dropout,
            skip_sum=channels == "constant",
        )
        opt = torch.optim.Adam(tv.parameters(), lr=1e-3)
        tt = [torch.from_numpy(a) for a in (phase, mag, err, onehot, phys)]

        def torch_step():
            opt.zero_grad(set_to_none=True)
            mh, eh, mu, lv = tv(*tt)
            loss = torch_paper_loss(tt[1], tt[2], mh, eh, mu, lv)
            loss.backward()
            opt.step()
            return float(loss)

        impls["torch"] = torch_step
        n_train = None
        for impl in tcn_impls:
            for sub in (1.0, 0.3):
                for jit in (False, True) if xla else (False,):
                    keras.utils.set_random_seed(0)
                    model = build_pelsvae(ModelConfig(**base_cfg, decoder_subsample=sub, tcn_impl=impl))
                    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=jit)
                    n_train = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
                    name = f"{impl} {'XLA' if jit else 'tf.function'} subsample {sub:g}"
                    impls[name] = lambda m=model: m.train_on_batch(data, return_dict=True)
        n_torch = sum(p.numel() for p in tv.parameters())
        flops = 3 * (analytic_flops(model.encoder, t)["matmul_like"] + analytic_flops(model.decoder, t)["matmul_like"])
        print(
            f"\n== training step, batch {batch} x {t} points, {channels} channels: trainable weights Keras "
            f"{n_train:,}, torch {n_torch:,}; {flops / 1e6:.0f} MFLOP per curve (3 x forward) =="
        )
        for fn in impls.values():  # warm-up: tracing / XLA compilation
            fn()
        best = {k: float("inf") for k in impls}
        for _ in range(steps):
            for k, fn in impls.items():
                t0 = time.perf_counter()
                fn()
                best[k] = min(best[k], time.perf_counter() - t0)
        load = os.getloadavg()[0]
        for k, sec in best.items():
            sps = batch / sec
            print(
                f"  {k:<34} {sec:7.2f} s/step {sps:7.1f} samples/s  {best['torch'] / sec:5.2f}x torch  "
                f"{100 * sps * flops / peak:4.1f} % of peak (dense FLOPs)  (load {load:.1f})"
            )
            rows.append(
                {
                    "seq_len": t,
                    "impl": k,
                    "seconds_per_step": sec,
                    "samples_per_s": sps,
                    "ratio_vs_torch": best["torch"] / sec,
                    "load_1min": load,
                }
            )
        sys.stdout.flush()
    return rows


def conv_micro(batch: int = 128, seq_len: int = 600, repeat: int = 3) -> list:
    """One causal Conv1D 48 -> 48 (kernel 5) + LayerNorm + ReLU on [batch, seq_len, 48]: forward and
    forward + gradient, plain ``tf.function`` vs ``jit_compile=True``, dilations 1 and 16, interleaved;
    prints best milliseconds per call (where XLA training time goes; run once more with
    ``TF_ENABLE_ONEDNN_OPTS=0`` to see the oneDNN kernels' share). Returns the rows."""
    import keras
    import tensorflow as tf

    x = tf.constant(np.random.default_rng(0).standard_normal((batch, seq_len, 48)).astype(np.float32))
    rows = []
    for d in (1, 16):
        conv = keras.layers.Conv1D(48, 5, dilation_rate=d, padding="causal")
        conv.build((None, None, 48))
        norm = keras.layers.LayerNormalization()
        norm.build((None, None, 48))

        def fwd(x):
            return tf.reduce_sum(tf.nn.relu(norm(conv(x))))

        def step(x):
            with tf.GradientTape() as tape:
                y = fwd(x)
            return tape.gradient(y, [conv.kernel, conv.bias, norm.gamma, norm.beta])

        fns = {
            f"{name} {'XLA' if jit else 'tf.function'}": tf.function(f, jit_compile=jit)
            for name, f in (("forward", fwd), ("forward+grad", step))
            for jit in (False, True)
        }
        for f in fns.values():
            tf.nest.map_structure(lambda v: v.numpy(), f(x))
        best = {k: float("inf") for k in fns}
        for _ in range(repeat):
            for k, f in fns.items():
                t0 = time.perf_counter()
                tf.nest.map_structure(lambda v: v.numpy(), f(x))
                best[k] = min(best[k], time.perf_counter() - t0)
        for k, sec in best.items():
            print(f"  conv micro, dilation {d:>2}, {k:<24} {1e3 * sec:7.1f} ms  (load {os.getloadavg()[0]:.1f})")
            rows.append({"dilation": d, "impl": k, "ms": 1e3 * sec})
    return rows


def paper_best_twin(channels: str = "constant"):
    """``(cfg, tdec, torch_decode)``: the paper-best decoder's ``ModelConfig`` (TCN 9 x 48, kernel
    5, latent 4) with ``tcn_channels=channels``, its torch twin (:func:`build_torch_decoder`) and
    ``torch_decode(x [B, D + C + 1, T]) -> (mag, err)`` NumPy [B, T] under ``torch.inference_mode``."""
    import torch

    from pelsvae_tf.model import ModelConfig

    cfg = ModelConfig(
        arch="tcn",
        hidden=48,
        n_blocks=9,
        kernel_size=5,
        latent_dim=4,
        seed=0,
        tcn_channels=channels,
        receptive_field_check="off",
    )
    tdec = build_torch_decoder(
        cfg.channels(decoder=True),
        cfg.latent_dim + cfg.n_classes + 1,
        cfg.kernel_size,
        list(cfg.dilations),
        list(reversed(cfg.dense_units)),
        skip_sum=channels == "constant",
    )

    def torch_decode(x):
        with torch.inference_mode():
            mag, err = tdec(x)
        return mag.numpy(), err.numpy()

    return cfg, tdec, torch_decode


def end_to_end(seq_lens, ns, torch_chunk: int, repeat: int, tmp: Path) -> list:
    """Generation as users call it next to the torch twin's decoder alone, timed interleaved.

    Package side: an untrained paper-best model (TCN 9 x 48, kernel 5, latent 4) with the MLP
    regressor of ``bench_serving._fresh_model``; ``Generator.generate`` in process (physics, times,
    mean magnitude and amplitude given; one noise draw) and the exported ``generator`` SavedModel
    (``tf.saved_model.load``, ``serving_default``: the graph TF Serving runs) on the same request.
    Both decode each curve once on the model's 300-point phase grid whatever the number of
    requested times T, then interpolate. Torch side: the twin decoder alone on all T points per
    curve (no regressor, no magnitudes, no noise: a lower bound on the reference's end-to-end
    time, which adds a random-forest regressor and a 64-phase zero-point decode).
    """
    import tensorflow as tf
    import torch
    from bench_serving import _fresh_model, generate_request, request

    from pelsvae_tf.generate.generator import Generator
    from pelsvae_tf.serve import ExportConfig, export_models, signature_docs

    decoder, reg, classes, scaler = _fresh_model(argparse.Namespace(hidden=48, n_blocks=9), tmp)
    res = export_models(
        tmp / "saved_models", decoder, classes, scaler, {"mlp": reg}, config=ExportConfig(models=("generator",))
    )
    vdir = Path(res["models"]["generator"])
    served = tf.saved_model.load(str(vdir)).signatures["serving_default"]
    sig = signature_docs(vdir)["serving_default"]
    local = Generator(decoder, reg, classes, scaler)
    tcfg, _, torch_decode = paper_best_twin("constant")
    rng = np.random.default_rng(0)
    out = []
    for t in seq_lens:
        for n in ns:
            times, phys, label, inputs = request(rng, list(reg.physics), scaler, len(classes), sig, n, t)
            inputs = {k: tf.constant(v) for k, v in inputs.items()}
            x_all = rng.standard_normal((n, tcfg.latent_dim + tcfg.n_classes + 1, t)).astype(np.float32)
            impls = {
                ("torch decoder alone", torch_chunk): (
                    torch_decode,
                    torch_chunk,
                    lambda size, start, full: torch.from_numpy(np.ascontiguousarray(x_all[start : start + size])),
                ),
                ("Generator.generate", n): (
                    lambda _x: generate_request(local, classes, label, times, phys),
                    n,
                    lambda size, start, full: None,
                ),
                ("generator SavedModel", n): (
                    lambda _x: served(**inputs)["mag"].numpy(),
                    n,
                    lambda size, start, full: None,
                ),
            }
            best = _time_interleaved(impls, n, repeat)
            base = best[("torch decoder alone", torch_chunk)]
            load = os.getloadavg()[0]
            for (name, c), sec in best.items():
                print(
                    f"  T={t:>4} N={n:>6} {name:<22}: {n / sec:8.1f} curves/s  {base / sec:5.2f}x torch decoder  "
                    f"(load {load:.1f})"
                )
                out.append(
                    {
                        "mode": "end_to_end",
                        "seq_len": t,
                        "n": n,
                        "impl": name,
                        "seconds": sec,
                        "curves_per_s": n / sec,
                        "ratio_vs_torch_decoder": base / sec,
                        "load_1min": load,
                    }
                )
            sys.stdout.flush()
    return out


def _time_interleaved(impls: dict, n: int, repeat: int) -> dict:
    """Best wall seconds per implementation to decode ``n`` curves, the implementations interleaved.

    ``impls`` maps a key to ``(decode_chunk, chunk, make_inputs)``; inputs are prepared outside
    the timer. Each round times every implementation once (so load from other processes hits
    them alike); one untimed warm-up call each (tracing / XLA compilation / allocator).
    """
    prepared = {}
    for key, (decode, chunk, make) in impls.items():
        chunks = [make(min(chunk, n - s), s, chunk) for s in range(0, n, chunk)]
        decode(chunks[0])
        prepared[key] = (decode, chunks)
    best = {key: float("inf") for key in impls}
    for _ in range(repeat):
        for key, (decode, chunks) in prepared.items():
            t0 = time.perf_counter()
            for c in chunks:
                decode(c)
            best[key] = min(best[key], time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    """Run the side-by-side decoder benchmark; prints machine info, a table and ratios. Returns 0."""
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--seq-lens", type=int, nargs="+", default=[300, 600], help="points per curve")
    p.add_argument("--ns", type=int, nargs="+", default=[100, 1000, 10000], help="curves decoded per timing")
    p.add_argument("--channels", nargs="+", default=["constant", "reference"], choices=["constant", "reference"])
    p.add_argument("--torch-chunks", type=int, nargs="+", default=[16], help="curves per torch decoder call")
    p.add_argument("--tf-chunks", type=int, nargs="+", default=[16], help="curves per TF decoder call")
    p.add_argument(
        "--variants",
        nargs="+",
        default=["keras", "keras-xla", "direct", "direct-xla"],
        choices=["keras", "keras-xla", "direct", "direct-xla"],
        help="TF decoders: the Keras layers or the direct graph (inference_decoder_fn graph=), "
        "plain tf.function or XLA",
    )
    p.add_argument("--torch-threads", type=int, default=2)
    p.add_argument("--intra", type=int, default=0, help="TF intra-op threads (0 = TF default)")
    p.add_argument("--inter", type=int, default=0, help="TF inter-op threads (0 = TF default)")
    p.add_argument(
        "--repeat",
        type=int,
        default=2,
        help="interleaved rounds: every implementation decodes the N curves once per round (best reported)",
    )
    p.add_argument(
        "--train",
        action="store_true",
        help="instead of the decoder: time one training step (batch --batch, Adam, paper loss)",
    )
    p.add_argument(
        "--conv-micro",
        action="store_true",
        help="instead of the decoder: one dilated Conv1D + LayerNorm, tf.function vs XLA (with --batch)",
    )
    p.add_argument(
        "--end-to-end",
        action="store_true",
        help="instead of the decoder alone: Generator.generate and the exported generator SavedModel "
        "(paper-best model, MLP regressor) against the torch twin decoder alone (first --torch-chunks)",
    )
    p.add_argument(
        "--train-xla",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="with --train: also time the XLA-compiled Keras steps",
    )
    p.add_argument(
        "--tcn-impls",
        nargs="+",
        default=["fast", "keras"],
        choices=["fast", "keras"],
        help="with --train: ModelConfig.tcn_impl values timed (fast = causal_conv.TCN kernels, keras = keras-tcn layers)",
    )
    p.add_argument(
        "--op-determinism",
        action="store_true",
        help="with --train: time the Keras steps under TensorFlow op determinism, as `pelsvae train` runs by "
        "default (the fast TCN then uses Keras' layer norm instead of its fused gradient)",
    )
    p.add_argument("--batch", type=int, default=128, help="training batch (with --train)")
    p.add_argument("--steps", type=int, default=3, help="timed interleaved training steps (with --train)")
    p.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = p.parse_args(argv)

    import tensorflow as tf

    if args.intra:
        tf.config.threading.set_intra_op_parallelism_threads(args.intra)
    if args.inter:
        tf.config.threading.set_inter_op_parallelism_threads(args.inter)
    import torch

    torch.set_num_threads(args.torch_threads)

    from bench_roofline import analytic_flops

    from pelsvae_tf.model import build_decoder, count_params, inference_decoder_fn

    info = print_machine_info()
    info["torch"] = torch.__version__
    info["torch_threads"] = torch.get_num_threads()
    info["tf_intra_inter"] = (
        tf.config.threading.get_intra_op_parallelism_threads(),
        tf.config.threading.get_inter_op_parallelism_threads(),
    )
    info["TF_ENABLE_ONEDNN_OPTS"] = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "(default)")
    print(
        f"  torch: {torch.__version__}, {info['torch_threads']} threads; TF intra/inter {info['tf_intra_inter']}; "
        f"TF_ENABLE_ONEDNN_OPTS={info['TF_ENABLE_ONEDNN_OPTS']}"
    )

    mm = {b: matmul_flops(1024, b, repeat=5)["flops_per_s"] for b in ("numpy", "tf")}
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    t_best = min((lambda: (lambda t0: (a @ b, time.perf_counter() - t0)[1])(time.perf_counter()))() for _ in range(6))
    mm["torch"] = 2.0 * 1024**3 / t_best
    peak = max(mm.values())
    print(
        "float32 matmul 1024^2: "
        + ", ".join(f"{k} {fmt_si(v, 'FLOP/s')}" for k, v in mm.items())
        + f" (peak used: {fmt_si(peak, 'FLOP/s')})"
    )

    results = []
    if args.conv_micro:
        results = conv_micro(args.batch, args.seq_lens[-1])
        args.channels = []
    elif args.end_to_end:
        import tempfile

        results = end_to_end(
            args.seq_lens, args.ns, args.torch_chunks[0], args.repeat, Path(tempfile.mkdtemp(prefix="bench_e2e_"))
        )
        args.channels = []
    elif args.train:
        from pelsvae_tf.determinism import op_determinism

        with op_determinism(args.op_determinism):
            results = train_comparison(
                args.seq_lens,
                args.batch,
                args.steps,
                peak,
                channels=args.channels[0],
                xla=args.train_xla,
                tcn_impls=tuple(args.tcn_impls),
            )
        args.channels = []
    rng = np.random.default_rng(0)
    for channels in args.channels:
        cfg, tdec, torch_decode = paper_best_twin(channels)
        decoder = build_decoder(cfg)
        n_keras = count_params(decoder)
        n_torch = sum(p.numel() for p in tdec.parameters())
        print(
            f"\n== decoder {channels}: channels {cfg.channels(decoder=True)}; parameters Keras {n_keras:,}, "
            f"torch {n_torch:,} =="
        )
        if n_keras != n_torch:
            raise SystemExit(f"layer shapes differ: Keras {n_keras} vs torch {n_torch} parameters")
        fns = {
            v: inference_decoder_fn(decoder, jit_compile=v.endswith("-xla"), graph=v.split("-")[0], config=cfg)
            for v in args.variants
        }
        for t in args.seq_lens:
            flops = analytic_flops(decoder, t)["matmul_like"]
            z_all = rng.standard_normal((max(args.ns), cfg.latent_dim)).astype(np.float32)
            oh_all = np.eye(cfg.n_classes, dtype=np.float32)[rng.integers(0, cfg.n_classes, max(args.ns))]
            ph_all = np.sort(rng.uniform(0, 1, (max(args.ns), t)), axis=1).astype(np.float32)

            def torch_inputs(size, start, chunk_full):
                s = slice(start, start + size)
                cond = np.concatenate([z_all[s], oh_all[s]], axis=1)
                x = np.concatenate([np.repeat(cond[:, :, None], t, axis=2), ph_all[s][:, None, :]], axis=1)
                return torch.from_numpy(np.ascontiguousarray(x))

            def tf_inputs(size, start, chunk_full):
                s = slice(start, start + size)
                parts = [z_all[s], oh_all[s], ph_all[s]]
                if size < chunk_full:  # pad to a fixed shape (one XLA compilation), as decode_chunked does
                    parts = [np.concatenate([q, np.repeat(q[-1:], chunk_full - size, axis=0)]) for q in parts]
                return [tf.constant(q) for q in parts]

            print(f"-- T = {t}: {fmt_si(flops, 'FLOP')} per curve (analytic) --")
            for n in args.ns:
                impls = {}
                for c in args.torch_chunks:
                    impls[("torch", c)] = (torch_decode, c, torch_inputs)
                for name, fn in fns.items():
                    for c in args.tf_chunks:
                        impls[(name, c)] = (lambda x, fn=fn: tuple(v.numpy() for v in fn(*x)), c, tf_inputs)
                best = _time_interleaved(impls, n, args.repeat)
                torch_best = min(sec for (nm, _), sec in best.items() if nm == "torch")
                load = os.getloadavg()[0]
                for (name, c), sec in best.items():
                    cps = n / sec
                    pct = 100 * cps * flops / peak
                    ratio = torch_best / sec
                    print(
                        f"  N={n:>6} {name:<11} chunk {c:>5}: {cps:8.1f} curves/s  {ratio:5.2f}x torch-best  "
                        f"{fmt_si(cps * flops, 'FLOP/s'):>12} = {pct:4.1f} % of peak  (load {load:.1f})"
                    )
                    results.append(
                        {
                            "channels": channels,
                            "seq_len": t,
                            "n": n,
                            "impl": name,
                            "chunk": c,
                            "seconds": sec,
                            "curves_per_s": cps,
                            "ratio_vs_torch_best": ratio,
                            "percent_of_peak": pct,
                            "load_1min": load,
                        }
                    )
                sys.stdout.flush()
    if args.json:
        from pelsvae_tf.atomic import atomic_write_text

        atomic_write_text(
            args.json,
            json.dumps({"machine": info, "matmul_flops_per_s": mm, "results": results}, indent=1, default=str) + "\n",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
