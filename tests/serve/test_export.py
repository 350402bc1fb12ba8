"""Contract tests of ``pelsvae export`` (issue 5): SavedModels that stock TF Serving can load.

What runs here stands in for the real server (no tensorflow_model_server on these machines):
each SavedModel is reloaded in a FRESH process that imports only tensorflow (+ ydf_tf for the
forest) and answers its own warmup requests with the numbers of the in-process Keras/YDF models;
every op is in the stock TF registry (or one of the SimpleML ops TF Serving links); the
``saved_model_cli show --all`` text carries the documented signatures.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
MODELS = ("decoder", "regressor_mlp", "regressor_forest", "generator")


def _env():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(ROOT))
    return env


# ---------------------------------------------------------------------------------------------
# Pure functions (no model)


def test_counter_rng_numpy_twin_matches_graph_and_is_uniform():
    import tensorflow as tf

    from pelsvae_tf.counter_rng import normal_np, normal_tf, uniform_np, uniform_tf

    seed = np.array([0, 1, -5, 2**40 + 3], np.int64)[:, None]
    counter = np.arange(2000, dtype=np.uint32)[None, :]
    u_np = uniform_np(seed, 2, counter)
    u_tf = uniform_tf(tf.constant(seed), 2, tf.constant(counter)).numpy()
    np.testing.assert_array_equal(u_np, u_tf)
    np.testing.assert_array_equal(
        normal_np(seed, 2, counter), normal_tf(tf.constant(seed), 2, tf.constant(counter)).numpy()
    )
    assert 0.0 < u_np.min() and u_np.max() < 1.0
    # U(0,1): mean 1/2, variance 1/12; streams and seeds are different sequences
    assert abs(u_np.mean() - 0.5) < 0.01 and abs(u_np.var() - 1 / 12) < 0.005
    assert not np.array_equal(uniform_np(seed, 1, counter), u_np)
    assert np.corrcoef(u_np[0], u_np[1])[0, 1] < 0.1
    z = normal_np(np.arange(50, dtype=np.int64)[:, None], 2, counter)
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1.0) < 0.02


def test_models_config_is_a_valid_tf_serving_config(tmp_path):
    from pelsvae_tf.serve import models_config_text, parse_models_config

    cfg = parse_models_config(models_config_text(MODELS, "/models", 2))
    assert [c.name for c in cfg.model_config_list.config] == list(MODELS)
    assert [c.base_path for c in cfg.model_config_list.config] == [f"/models/{m}" for m in MODELS]
    assert all(c.model_platform == "tensorflow" for c in cfg.model_config_list.config)
    assert cfg.model_config_list.config[0].model_version_policy.latest.num_versions == 2
    with pytest.raises(ValueError, match="ModelServerConfig"):
        parse_models_config("model_config_list { config { nme: 'x' } }")


def test_export_config_rejects_bad_values():
    from pelsvae_tf.serve import ExportConfig

    with pytest.raises(ValueError, match="models"):
        ExportConfig(models=("decoder", "gan"))
    with pytest.raises(ValueError, match="absolute"):
        ExportConfig(base_path="models")
    with pytest.raises(ValueError, match="generator_regressor"):
        ExportConfig(generator_regressor="xgb")


def test_signature_doc_validation_names_the_field():
    from pelsvae_tf.serve.signatures import generator_signatures

    sig = generator_signatures(("teff", "abs_gmag", "period"), 8, 4)["serving_default"]
    good = {
        "teff": [6500.0],
        "abs_gmag": [0.6],
        "period": [0.55],
        "class_index": [6],
        "times": [[0.0, 0.1]],
        "t0": [0.0],
        "mag_mean": [15.0],
        "amplitude": [0.5],
        "seed": [1],
    }
    arr = sig.validate(good)
    assert arr["times"].dtype == np.float64 and arr["class_index"].dtype == np.int32 and arr["seed"].dtype == np.int64
    with pytest.raises(ValueError, match=r"missing input\(s\) \['seed'\]"):
        sig.validate({k: v for k, v in good.items() if k != "seed"})
    with pytest.raises(ValueError, match=r"unknown input\(s\) \['radius'\]"):
        sig.validate(dict(good, radius=[1.0]))
    with pytest.raises(ValueError, match="'class_index': expected integers"):
        sig.validate(dict(good, class_index=[6.5]))
    with pytest.raises(ValueError, match="'teff': expected numbers"):
        sig.validate(dict(good, teff=["hot"]))
    with pytest.raises(ValueError, match=r"'times': expected rank 2"):
        sig.validate(dict(good, times=[0.0, 0.1]))
    with pytest.raises(ValueError, match="batch size"):
        sig.validate(dict(good, teff=[6500.0, 6600.0]))


# ---------------------------------------------------------------------------------------------
# The exported set


def test_layout_versions_and_warmup(exported_models, tmp_path):
    from pelsvae_tf.serve import (
        ExportConfig,
        export_run,
        parse_models_config,
        read_export_info,
        read_warmup,
    )

    root = exported_models.root
    res = exported_models.result
    assert res["version"] == 1 and set(res["models"]) == set(MODELS)
    for m in MODELS:
        vdir = root / m / "1"
        assert (vdir / "saved_model.pb").is_file() and (vdir / "variables").is_dir()
        reqs = read_warmup(vdir)
        assert reqs and all(r.model_spec.name == m for r in reqs)
        info = read_export_info(vdir)
        assert info["classes"] == list(exported_models.classes)
        assert info["source"]["run_dir"] == str(exported_models.run_dir.resolve())
    assert [r.model_spec.signature_name for r in read_warmup(root / "generator" / "1")] == [
        "serving_default",
        "generate_onehot",
        "generate_phase",
    ]
    cfg = parse_models_config((root / "models.config").read_text())
    assert sorted(c.name for c in cfg.model_config_list.config) == sorted(MODELS)
    # no temporary directories left next to the versions
    assert not [p for p in root.rglob(".*") if p.name.endswith(".tmp")]

    # second export without --version -> version 2 (decoder only, to stay fast)
    run = exported_models.run_dir
    out = tmp_path / "sm"
    cfg1 = ExportConfig(models=("decoder",))
    assert export_run(run, out, config=cfg1)["version"] == 1
    assert export_run(run, out, config=cfg1)["version"] == 2
    # explicit existing version from the same run is kept (resume) ...
    again = export_run(run, out, version=2, config=cfg1)
    assert again["kept"] == ["decoder"]
    # ... and one from another source is refused with the fix
    info_path = out / "decoder" / "2" / "assets.extra" / "pelsvae_export.json"
    info = json.loads(info_path.read_text())
    info["source"]["model_sha256"] = "0" * 64
    info_path.write_text(json.dumps(info))
    with pytest.raises(ValueError, match="omit --version"):
        export_run(run, out, version=2, config=cfg1)


def test_missing_regressor_is_a_clear_error(tiny_run, tmp_path):
    from pelsvae_tf.serve import export_run

    with pytest.raises(FileNotFoundError, match="pelsvae regress"):
        export_run(tiny_run, tmp_path / "sm")
    with pytest.raises(FileNotFoundError, match="pelsvae train"):
        export_run(tmp_path, tmp_path / "sm")


FRESH = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf
    from tensorflow.core.protobuf import saved_model_pb2
    from tensorflow.python.framework import op_def_registry
    from tensorflow_serving.apis import prediction_log_pb2   # protos only (PredictionLog)

    root, out = sys.argv[1], sys.argv[2]
    names = sys.argv[3].split(",")
    report = {"unregistered": {}, "modules": []}
    # 1) ops against the STOCK registry: nothing but tensorflow imported so far
    for name in names:
        sm = saved_model_pb2.SavedModel.FromString(open(f"{root}/{name}/1/saved_model.pb", "rb").read())
        ops = set()
        for mg in sm.meta_graphs:
            ops.update(n.op for n in mg.graph_def.node)
            for fn in mg.graph_def.library.function:
                ops.update(n.op for n in fn.node_def)
        report["unregistered"][name] = sorted(op for op in ops if op_def_registry.get(op) is None)
    # 2) reload and answer the warmup requests
    arrays = {}
    for name in names:
        if name == "regressor_forest":
            import ydf_tf  # noqa: F401  SimpleML inference ops (linked into TF Serving >= 2.11)
        model = tf.saved_model.load(f"{root}/{name}/1")
        path = f"{root}/{name}/1/assets.extra/tf_serving_warmup_requests"
        for i, rec in enumerate(tf.data.TFRecordDataset(path).as_numpy_iterator()):
            req = prediction_log_pb2.PredictionLog.FromString(rec).predict_log.request
            sig = req.model_spec.signature_name
            inputs = {k: tf.make_ndarray(v) for k, v in req.inputs.items()}
            outputs = model.signatures[sig](**{k: tf.constant(v) for k, v in inputs.items()})
            for k, v in inputs.items():
                arrays[f"{name}|{sig}|in|{k}"] = v
            for k, v in outputs.items():
                arrays[f"{name}|{sig}|out|{k}"] = v.numpy()
    report["modules"] = sorted({m.split(".")[0] for m in sys.modules})
    np.savez(out + ".npz", **arrays)
    open(out + ".json", "w").write(json.dumps(report))
    """
)


@pytest.fixture(scope="module")
def fresh_process(exported_models, tmp_path_factory):
    """Run FRESH once for all four models; returns (report, arrays)."""
    out = tmp_path_factory.mktemp("fresh") / "result"
    proc = subprocess.run(
        [sys.executable, "-c", FRESH, str(exported_models.root), str(out), ",".join(MODELS)],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=str(out.parent),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(Path(str(out) + ".json").read_text())
    with np.load(str(out) + ".npz") as z:
        arrays = {k: z[k] for k in z.files}
    return report, arrays


def test_fresh_process_imports_only_tensorflow(fresh_process):
    report, _ = fresh_process
    mods = set(report["modules"])
    assert "tensorflow" in mods and "ydf_tf" in mods
    for forbidden in ("pelsvae_tf", "tcn", "ydf", "tensorflow_probability", "tf_keras", "serving"):
        assert forbidden not in mods, forbidden


def test_every_op_is_stock_or_simpleml(fresh_process):
    from pelsvae_tf.serve import SIMPLEML_OPS

    report, _ = fresh_process
    for name in ("decoder", "regressor_mlp", "generator"):
        assert report["unregistered"][name] == [], name
    forest = set(report["unregistered"]["regressor_forest"])
    assert forest and forest <= SIMPLEML_OPS  # the YDF inference ops, and nothing else


def _groups(arrays):
    groups: dict[tuple[str, str], dict[str, dict[str, np.ndarray]]] = {}
    for key, v in arrays.items():
        name, sig, kind, tensor = key.split("|")
        groups.setdefault((name, sig), {"in": {}, "out": {}})[kind][tensor] = v
    return groups


def _local_gen(ex, kind: str = "mlp"):
    """The in-process Generator of the exported run with regressor ``kind`` (training ranges loaded)."""
    from pelsvae_tf.generate.generator import Generator

    return Generator.load(ex.run_dir, regressor=kind)


def _local_reference(ex, inp: dict, kind: str = "mlp") -> dict:
    """What the in-process path (:meth:`Generator.render`, the same :class:`PhaseFunction`) gives
    for one generator request ``inp`` with per-curve seeds: every output of the signature."""
    from pelsvae_tf.counter_rng import STREAM_DUMMY, uniform_np
    from pelsvae_tf.generate.cadence import cycle_number
    from pelsvae_tf.generate.generator import sample_latents
    from pelsvae_tf.generate.jitter import sample_jitter_np
    from pelsvae_tf.serve import phase_from_times

    gen = _local_gen(ex, kind)
    reg = gen.regressor
    seeds = np.asarray(inp["seed"], np.int64)
    period = np.asarray(inp["period"], np.float64)
    phase = phase_from_times(inp["times"], inp["t0"], period) if "times" in inp else np.asarray(inp["phase"])
    labels = (
        np.asarray(inp["class_index"], np.int64) if "class_index" in inp else np.argmax(inp["class_onehot"], axis=1)
    )
    raw = {n: (period if n == "period" else np.asarray(inp[n], np.float64)) for n in reg.physics}
    scaled = ex.scaler.transform(np.stack([raw[n] for n in reg.physics], axis=1), reg.physics)
    z = sample_latents(reg, scaled, labels, seeds)
    jitter = sample_jitter_np(gen.jitter_table, gen.jitter_counts, labels, seeds)
    if "times" in inp:
        cycle = cycle_number(inp["times"], period, inp["t0"])
    else:
        cycle = np.zeros(np.shape(phase), np.int64)  # phases given: one cycle
    out = gen.render(z, labels, phase, inp["mag_mean"], inp["amplitude"], seeds, jitter, cycle)
    out.update(
        phase=phase,
        z=z,
        dummy=uniform_np(seeds, STREAM_DUMMY, np.zeros(len(seeds), np.uint32)),
        in_training_range=gen.in_training_range(labels, dict(raw, period=period)).astype(np.int32),
    )
    return out


def test_fresh_process_outputs_equal_in_process_models(fresh_process, exported_models):
    from pelsvae_tf.generate.phase_function import PhaseFunction
    from pelsvae_tf.serve import regressor_reference

    _, arrays = fresh_process
    groups = _groups(arrays)
    assert {n for n, _ in groups} == set(MODELS)
    assert len(groups) == 6  # decoder, 2 regressors, generator x 3 signatures
    ex = exported_models
    pf = PhaseFunction(ex.decoder, n_grid=_local_gen(ex).n_grid)
    for (name, sig), io in groups.items():
        inp, out = io["in"], io["out"]
        if name == "decoder":
            ref = pf.scaled_np(inp["z"], inp["class_onehot"], inp["phase"])
            atol = 1e-5
        elif name.startswith("regressor_"):
            ref = {"z": regressor_reference(ex.regressors[name.split("_")[1]], ex.scaler, inp)}
            atol = 1e-5
        else:
            ref = _local_reference(ex, inp)
            atol = 2e-4  # magnitudes ~15 mag in float32
        assert set(ref) == set(out), (name, sig)
        for k in ref:
            np.testing.assert_allclose(out[k], ref[k], rtol=1e-5, atol=atol, err_msg=f"{name}/{sig}/{k}")
    # a trained decoder does not answer a constant: the warmup curves have shape
    gen = groups[("generator", "serving_default")]["out"]
    assert np.all(np.ptp(gen["mag_model"], axis=1) > 0)


_DT = {"float32": "DT_FLOAT", "float64": "DT_DOUBLE", "int32": "DT_INT32", "int64": "DT_INT64"}


def _parse_cli(text: str) -> dict:
    sigs = {}
    for block in re.split(r"\nsignature_def\['", text)[1:]:
        name = block.split("']", 1)[0]
        tensors = {}
        for kind, tname, dtype, shape in re.findall(
            r"(inputs|outputs)\['([^']+)'\] tensor_info:\s+dtype: (\w+)\s+shape: ([^\n]+)", block
        ):
            tensors[(kind, tname)] = (dtype, shape.strip())
        method = re.search(r"Method name is: ([^\n]*)", block)
        sigs[name] = (tensors, method.group(1).strip() if method else "")
    return sigs


def test_saved_model_cli_shows_documented_signatures(exported_models):
    from pelsvae_tf.serve import signature_docs

    cli = Path(sys.executable).with_name("saved_model_cli")
    cmd = [str(cli)] if cli.exists() else [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli"]
    vdir = exported_models.root / "generator" / "1"
    proc = subprocess.run(
        cmd + ["show", "--dir", str(vdir), "--all"], capture_output=True, text=True, env=_env(), timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    _check_shown(_parse_cli(proc.stdout), signature_docs(vdir), "generator")


def test_signature_defs_of_every_model_are_the_documented_ones(exported_models):
    """Same check as saved_model_cli's listing, read from each saved_model.pb (no subprocess)."""
    from tensorflow.core.framework import types_pb2
    from tensorflow.core.protobuf import saved_model_pb2

    from pelsvae_tf.serve import signature_docs

    for name in MODELS:
        vdir = exported_models.root / name / "1"
        sm = saved_model_pb2.SavedModel.FromString((vdir / "saved_model.pb").read_bytes())
        shown = {}
        for sname, sd in sm.meta_graphs[0].signature_def.items():
            tensors = {}
            for kind, m in (("inputs", sd.inputs), ("outputs", sd.outputs)):
                for k, info in m.items():
                    dims = ", ".join(str(d.size) for d in info.tensor_shape.dim)
                    tensors[(kind, k)] = (types_pb2.DataType.Name(info.dtype), f"({dims})")
            shown[sname] = (tensors, sd.method_name)
        _check_shown(shown, signature_docs(vdir), name)


def _check_shown(shown: dict, docs: dict, name: str) -> None:
    """Every documented signature is listed with exactly the documented tensors, dtypes, shapes."""
    assert "serving_default" in docs and set(docs) <= set(shown), (name, sorted(shown))
    for sname, doc in docs.items():
        tensors, method = shown[sname]
        assert method == "tensorflow/serving/predict"
        want = {}
        for kind, ts in (("inputs", doc.inputs), ("outputs", doc.outputs)):
            for t in ts:
                dims = ", ".join("-1" if d is None else str(d) for d in t.shape)
                want[(kind, t.name)] = (_DT[t.dtype], f"({dims})")
        assert tensors == want, (name, sname)


def test_generator_matches_local_generator(exported_models, generator_sm):
    """The contract: ``Generator.generate(..., n=1, seed=s)`` (the default regressor, in process)
    equals the served ``serving_default`` with ``seed=[s]`` to 1e-3 mag, noise included; for n
    curves the served seeds are ``counter_rng.curve_seeds(s, n)``."""
    import tensorflow as tf

    from pelsvae_tf.counter_rng import curve_seeds
    from pelsvae_tf.generate.generator import DEFAULT_REGRESSOR, Generator
    from pelsvae_tf.serve import ExportConfig

    assert ExportConfig().generator_regressor == DEFAULT_REGRESSOR  # the same regressor local and served
    from pelsvae_tf.generate.phase_function import CHUNK_POINTS

    assert ExportConfig().chunk_points == CHUNK_POINTS  # the same decoder chunks local and served
    ex = exported_models
    local_gen = Generator.load(ex.run_dir)
    n = 5
    rng = np.random.default_rng(1)
    times = 2455000.0 + np.sort(rng.uniform(0, 200, 60))  # HJD-like: needs float64 phases
    lo = {p: ex.scaler.range(p) for p in local_gen.physics}
    phys = {p: rng.uniform(lo[p][0], lo[p][1], n) for p in local_gen.physics}
    t0 = 2455000.0 + rng.uniform(0, 1, n)
    mag_mean = rng.uniform(14, 17, n)
    amplitude = rng.uniform(0.3, 1.0, n)
    cls = np.asarray(ex.classes)[_trained_classes(ex)[np.arange(n) % 3]]
    fn = generator_sm.signatures["serving_default"]

    def served(rows, seeds):
        return {
            k: v.numpy()
            for k, v in fn(
                **{p: tf.constant(v[rows]) for p, v in phys.items()},
                class_index=tf.constant(np.asarray([ex.classes.index(c) for c in cls[rows]], np.int32)),
                times=tf.constant(np.tile(times, (len(rows), 1))),
                t0=tf.constant(t0[rows]),
                mag_mean=tf.constant(mag_mean[rows], tf.float32),
                amplitude=tf.constant(amplitude[rows], tf.float32),
                seed=tf.constant(np.asarray(seeds, np.int64)),
            ).items()
        }

    with _no_fail():
        local = local_gen.generate(
            list(cls), n=n, cadence=times, t0=t0, mag_mean=mag_mean, amplitude=amplitude, seed=40, **phys
        )
        one = local_gen.generate(
            cls[2],
            n=1,
            cadence=times,
            t0=t0[2],
            mag_mean=mag_mean[2],
            amplitude=amplitude[2],
            seed=123,
            **{p: v[2] for p, v in phys.items()},
        )
    out = served(np.arange(n), curve_seeds(40, n))
    np.testing.assert_allclose(out["phase"], local.phase, atol=2e-6)
    np.testing.assert_allclose(out["z"], local.z, atol=1e-5)
    for k in ("mag", "mag_model", "err"):
        np.testing.assert_allclose(out[k], getattr(local, k), atol=1e-3, err_msg=k)
    np.testing.assert_array_equal(out["in_training_range"].astype(bool), local.in_training_range)
    single = served(np.array([2]), [123])
    np.testing.assert_allclose(single["mag"], one.mag, atol=1e-3)  # noise included
    assert np.all(np.ptp(local.mag_model, axis=1) > 0)
    # a request out of the training range is flagged per curve
    far = dict(phys)
    far[local_gen.physics[0]] = phys[local_gen.physics[0]] + 1e6
    flagged = {
        k: v.numpy()
        for k, v in fn(
            **{p: tf.constant(v) for p, v in far.items()},
            class_index=tf.constant(np.asarray([ex.classes.index(c) for c in cls], np.int32)),
            times=tf.constant(np.tile(times, (n, 1))),
            t0=tf.constant(t0),
            mag_mean=tf.constant(mag_mean, tf.float32),
            amplitude=tf.constant(amplitude, tf.float32),
            seed=tf.constant(curve_seeds(40, n)),
        ).items()
    }
    assert not flagged["in_training_range"].any()


class _no_fail:
    """Context manager that lets PhysicsRangeWarning through without failing the test."""

    def __enter__(self):
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        self._cm.__exit__(*exc)


def test_generator_with_forest_regressor_inside(exported_models, tmp_path):
    """Option: the YDF forest inside the generator graph (SimpleML ops compose with the decoder);
    with chunk_points=70 every curve is decoded in its own map_fn chunk, same numbers as the
    in-process Generator with the forest."""
    import tensorflow as tf

    from pelsvae_tf.serve import ExportConfig, export_models

    ex = exported_models
    forest = ex.regressors["forest"]
    res = export_models(
        tmp_path / "sm",
        ex.decoder,
        ex.classes,
        ex.scaler,
        {"forest": forest},
        config=ExportConfig(models=("generator",), generator_regressor="forest", chunk_points=70),
        n_grid=_local_gen(ex).n_grid,
        train_stats=_local_gen(ex).train_stats,
    )
    fn = tf.saved_model.load(res["models"]["generator"]).signatures["serving_default"]
    inp = _gen_inputs(ex)
    out = fn(**{k: tf.constant(v) for k, v in inp.items()})
    ref = _local_reference(ex, inp, "forest")
    np.testing.assert_allclose(out["z"].numpy(), ref["z"], atol=1e-5)
    np.testing.assert_allclose(out["mag"].numpy(), ref["mag"], atol=2e-4)


@pytest.fixture(scope="module")
def generator_sm(exported_models):
    """The exported generator, loaded once (tf.saved_model.load)."""
    import tensorflow as tf

    return tf.saved_model.load(str(exported_models.root / "generator" / "1"))


def _gen_inputs(exported_models, n=4, points=30, seed0=0):
    from pelsvae_tf.serve import example_inputs, signature_docs

    sig = signature_docs(exported_models.root / "generator" / "1")["serving_default"]
    ranges = {k: exported_models.scaler.range(k) for k in exported_models.scaler.names}
    inp = example_inputs(sig, n, points, seed=3, ranges=ranges)
    inp["seed"] = np.arange(n, dtype=np.int64) + seed0
    inp["class_index"] = _trained_classes(exported_models)[np.arange(n) % 3].astype(np.int32)
    return inp


def _trained_classes(exported_models) -> np.ndarray:
    """Class indices with training stars (the tiny sky lacks some classes; an MLP regressor fed a
    one-hot column it never saw set extrapolates wildly, which is not what these tests probe)."""
    from pelsvae_tf.regress import load_latents

    lat = load_latents(exported_models.run_dir)
    labels, counts = np.unique(lat["label"][lat["split"] == "train"], return_counts=True)
    return labels[np.argsort(-counts)][:3]


def test_generator_is_periodic_deterministic_and_batch_independent(exported_models, generator_sm):
    import tensorflow as tf

    fn = generator_sm.signatures["serving_default"]
    call = lambda d: {k: v.numpy() for k, v in fn(**{k: tf.constant(v) for k, v in d.items()}).items()}  # noqa: E731
    inp = _gen_inputs(exported_models)
    a, b = call(inp), call(inp)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])  # same seed -> same numbers
    # one curve alone == the same curve inside a batch (per-curve seeds, no cross-talk)
    row = {k: v[2:3] for k, v in inp.items()}
    one = call(row)
    for k in a:
        np.testing.assert_allclose(one[k], a[k][2:3], rtol=1e-6, atol=1e-6)
    # another seed -> another dummy and noise draw; the noise has the generated error as scale
    c = call(dict(inp, seed=inp["seed"] + 100))
    assert not np.allclose(c["dummy"], a["dummy"])
    resid = (a["mag"] - a["mag_model"]) / a["err"]
    assert 0.6 < resid.std() < 1.4 and abs(resid.mean()) < 0.5
    # shifting every time by a whole number of periods changes nothing (the model is periodic)
    k = np.array([3.0, 17.0, 250.0, 1000.0])[:, None]
    shifted = call(dict(inp, times=inp["times"] + k * inp["period"][:, None]))
    np.testing.assert_allclose(shifted["phase"], a["phase"], atol=2e-5)
    np.testing.assert_allclose(shifted["mag_model"], a["mag_model"], atol=5e-4)
    # on the decoding grid the curve's mean is the requested mean magnitude and its peak-to-peak
    # the requested amplitude, exactly
    from pelsvae_tf.generate.phase_function import grid_phases

    grid = dict(inp)
    del grid["times"], grid["t0"]
    grid["phase"] = np.tile(grid_phases(_local_gen(exported_models).n_grid), (len(inp["seed"]), 1))
    ph_fn = generator_sm.signatures["generate_phase"]
    g = ph_fn(**{k: tf.constant(v) for k, v in grid.items()})
    np.testing.assert_allclose(g["mag_model"].numpy().mean(axis=1), inp["mag_mean"], atol=1e-4)
    np.testing.assert_allclose(np.ptp(g["mag_model"].numpy(), axis=1), inp["amplitude"], atol=1e-4)
    # a point does not depend on the other points of the request: a subset gives the same values
    sub = dict(inp, times=inp["times"][:, ::7])
    np.testing.assert_allclose(call(sub)["mag_model"], a["mag_model"][:, ::7], atol=1e-5)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.update(period=-d["period"]), "period must be > 0 days"),
        (lambda d: d.update(class_index=np.full_like(d["class_index"], 8)), "class_index must be < 8"),
        (lambda d: d["teff"].__setitem__(0, np.nan), "teff contains NaN"),
        (lambda d: d.update(amplitude=np.zeros_like(d["amplitude"])), "amplitude must be > 0"),
        (
            lambda d: d.update(mag_mean=d["mag_mean"][:2]),
            r"input mag_mean has a different batch size than teff .*one row per light curve",
        ),
    ],
)
def test_in_graph_validation_gives_clear_errors(exported_models, generator_sm, change, message):
    import tensorflow as tf

    fn = generator_sm.signatures["serving_default"]
    inp = _gen_inputs(exported_models)
    change(inp)
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        fn(**{k: tf.constant(v) for k, v in inp.items()})


def test_phase_signature_rejects_unfolded_phases(exported_models, generator_sm):
    import tensorflow as tf

    fn = generator_sm.signatures["generate_phase"]
    inp = _gen_inputs(exported_models)
    del inp["times"], inp["t0"]
    inp["phase"] = np.tile(np.linspace(0.0, 1.5, 30, dtype=np.float32), (4, 1))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"phase must lie in \[0, 1\] cycles"):
        fn(**{k: tf.constant(v) for k, v in inp.items()})


@pytest.fixture(scope="module")
def served(exported_models):
    """Every exported SavedModel, loaded once: name -> loaded object."""
    import tensorflow as tf
    import ydf_tf  # noqa: F401  (SimpleML ops of regressor_forest)

    return {m: tf.saved_model.load(str(exported_models.root / m / "1")) for m in MODELS}


def _warm(exported_models, name, index=0):
    """The inputs of warmup request ``index`` of model ``name`` (signature name, arrays)."""
    from pelsvae_tf.serve import read_warmup, request_arrays

    req = read_warmup(exported_models.root / name / "1")[index]
    return req.model_spec.signature_name, request_arrays(req)


def _negative_onehot(d):
    bad = d["class_onehot"].copy()
    bad[0] = 0.0
    bad[0, :2] = (2.0, -1.0)  # sums to 1, so only the non-negativity check can catch it
    d["class_onehot"] = bad


@pytest.mark.parametrize(
    "name, index, change, message",
    [
        # generator serving_default (warmup 0)
        (
            "generator",
            0,
            lambda d: d.update(times=d["times"][0]),
            r"input times must have rank 2, shape \[B, T\]: one row of T >= 1 values per light curve "
            r"\(observation times in days.*send a list of B rows. Got shape\] \[40\]",
        ),
        (
            "generator",
            0,
            lambda d: d.update(teff=d["teff"][:, None]),
            r"input teff must have rank 1, shape \[B\]: one value per light curve .*K\); send a flat list of B "
            r"numbers. Got shape\] \[3 1\]",
        ),
        (
            "generator",
            0,
            lambda d: d.update(times=d["times"][:, :0]),
            r"input times has no points \(shape \[B, 0\]\); send at least one value per light curve \(T >= 1\)",
        ),
        ("generator", 0, lambda d: d.update(seed=d["seed"][0]), r"input seed must have rank 1.*Got shape\] \[\]"),
        ("generator", 0, lambda d: d.update(times=d["times"][:, :, None]), r"input times must have rank 2.*\[3 40 1\]"),
        # generate_onehot (warmup 1)
        ("generator", 1, _negative_onehot, r"class_onehot must be >= 0 in every column; send one 1 and zeros"),
        (
            "generator",
            1,
            lambda d: d.update(class_onehot=d["class_onehot"][:, :7]),
            r"input class_onehot must have shape \[B, 8\] \(dimension 1 = 8\).*Got shape\] \[3 7\]",
        ),
        # generate_phase (warmup 2)
        ("generator", 2, lambda d: d.update(phase=d["phase"][:, :0]), r"input phase has no points"),
        (
            "decoder",
            0,
            lambda d: d.update(z=d["z"][:, :3]),
            r"input z must have shape \[B, 4\] \(dimension 1 = 4\): one row of 4 values per light curve \(latent",
        ),
        ("decoder", 0, lambda d: d.update(phase=d["phase"][0]), r"input phase must have rank 2, shape \[B, T\]"),
        ("decoder", 0, lambda d: d.update(phase=d["phase"][:, :0]), r"input phase has no points"),
        ("decoder", 0, _negative_onehot, r"class_onehot must be >= 0"),
        ("decoder", 0, lambda d: d.update(class_onehot=2 * d["class_onehot"]), r"class_onehot rows must sum to 1"),
        ("decoder", 0, lambda d: d.update(phase=d["phase"][:2]), r"input phase has a different batch size than z"),
        (
            "regressor_mlp",
            0,
            lambda d: d.update(dummy=d["dummy"][:, None]),
            r"input dummy must have rank 1, shape \[B\]",
        ),
        ("regressor_forest", 0, lambda d: d.update(period=d["period"][:, None]), r"input period must have rank 1"),
    ],
)
def test_shape_errors_name_the_field_in_graph(exported_models, served, name, index, change, message):
    """TF Serving feeds tensors of any shape (it checks dtypes only): the graph itself rejects a
    wrong rank, a wrong fixed dimension, an empty time axis, disagreeing batch sizes and bad
    one-hot rows, with a message that names the input, the expected shape and the fix."""
    import tensorflow as tf

    sig, inp = _warm(exported_models, name, index)
    change(inp)
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        served[name].signatures[sig](**{k: tf.constant(v) for k, v in inp.items()})


def test_decoder_is_a_function_of_phase(exported_models, served):
    """The served decoder decodes each curve once on the phase grid and interpolates: equal to the
    in-process PhaseFunction, phases in any order give the permuted answer, a subset of phases
    gives the same values, and identical phases identical values."""
    import tensorflow as tf

    from pelsvae_tf.generate.phase_function import PhaseFunction

    _, inp = _warm(exported_models, "decoder")
    inp["phase"] = np.sort(np.random.default_rng(4).uniform(0, 1, inp["phase"].shape), axis=1).astype(np.float32)
    fn = served["decoder"].signatures["serving_default"]
    call = lambda d: {k: v.numpy() for k, v in fn(**{k: tf.constant(v) for k, v in d.items()}).items()}  # noqa: E731
    ordered = call(inp)
    local = PhaseFunction(exported_models.decoder, n_grid=_local_gen(exported_models).n_grid).scaled_np(
        inp["z"], inp["class_onehot"], inp["phase"]
    )
    np.testing.assert_allclose(ordered["mag"], local["mag"], atol=1e-5)
    perm = np.stack([np.random.default_rng(i).permutation(inp["phase"].shape[1]) for i in range(len(inp["z"]))])
    shuffled = dict(inp, phase=np.take_along_axis(inp["phase"], perm, axis=1))
    got = call(shuffled)
    for k in ("mag", "err"):
        np.testing.assert_allclose(got[k], np.take_along_axis(ordered[k], perm, axis=1), atol=1e-6, err_msg=k)
    sub = call(dict(inp, phase=inp["phase"][:, 3:7]))
    np.testing.assert_allclose(sub["mag"], ordered["mag"][:, 3:7], atol=1e-6)
    same = call(dict(inp, phase=np.full_like(inp["phase"], 0.37)))
    assert np.all(np.ptp(same["mag"], axis=1) == 0)


def test_cli_export_and_help(exported_models, tmp_path, capsys):
    from pelsvae_tf.cli.main import main

    rc = main(
        [
            "export",
            str(exported_models.run_dir),
            "--out",
            str(tmp_path / "sm"),
            "--models",
            "regressor_mlp",
            "--version",
            "7",
            "--base-path",
            "/srv/models",
        ]
    )
    assert rc == 0
    assert (tmp_path / "sm" / "regressor_mlp" / "7" / "saved_model.pb").exists()
    assert 'base_path: "/srv/models/regressor_mlp"' in (tmp_path / "sm" / "models.config").read_text()
    assert "regressor_mlp" in capsys.readouterr().out
    assert main(["export", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x")]) == 2
    assert "pelsvae train" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# The shipped set (saved_models/ at the repository root)

SHIPPED = ROOT / "saved_models"
PRETRAINED = ROOT / "pelsvae_tf" / "resources" / "pretrained"


def _expected_shape(t, inputs) -> tuple:
    """Documented shape of output ``t`` for a request: B from the inputs, T from times/phase."""
    b = len(next(iter(inputs.values())))
    points = next((v.shape[1] for k, v in inputs.items() if k in ("times", "phase")), None)
    dims = {0: b, 1: points}
    return tuple(dims[i] if d is None else d for i, d in enumerate(t.shape))


def test_shipped_saved_models_answer_their_warmup_and_come_from_the_pretrained_run():
    """Each shipped SavedModel (version 1) loads, answers its own warmup requests with finite
    outputs of the documented shapes, records the shipped pretrained run as its source (file
    hashes), and carries the current graphs (in-graph shape checks, phase-grid decoding)."""
    import tensorflow as tf
    import ydf_tf  # noqa: F401  (SimpleML ops of regressor_forest)

    from pelsvae_tf.atomic import sha256_file
    from pelsvae_tf.serve import (
        existing_versions,
        parse_models_config,
        read_export_info,
        read_warmup,
        request_arrays,
        signature_docs,
    )

    cfg = parse_models_config((SHIPPED / "models.config").read_text())
    assert [c.name for c in cfg.model_config_list.config] == list(MODELS)
    assert [c.base_path for c in cfg.model_config_list.config] == [f"/models/{m}" for m in MODELS]
    want_source = {
        "model_sha256": sha256_file(PRETRAINED / "model.keras"),
        "regressor_mlp_sha256": sha256_file(PRETRAINED / "regressors" / "mlp" / "regressor.json"),
        "regressor_forest_sha256": sha256_file(PRETRAINED / "regressors" / "forest" / "regressor.json"),
    }
    size = sum(p.stat().st_size for p in SHIPPED.rglob("*") if p.is_file())
    # 11.9 MiB for the 2026-12-07 shipped run, 8.2 of them the forest (its trees grow with the
    # training stars that have physics: 1,366 of 1,410 with the imputed Teff / abs G)
    assert size < 16 * 2**20, f"saved_models/ is {size / 2**20:.1f} MiB; keep the shipped set a few MB"
    loaded = {}
    for name in MODELS:
        assert existing_versions(SHIPPED / name) == [1], name
        vdir = SHIPPED / name / "1"
        info = read_export_info(vdir)
        assert info["model"] == name and info["version"] == 1
        for key, digest in want_source.items():
            assert info["source"][key] == digest, (name, key)
        docs = signature_docs(vdir)
        model = loaded[name] = tf.saved_model.load(str(vdir))
        reqs = read_warmup(vdir)
        assert sorted(r.model_spec.signature_name for r in reqs) == sorted(docs), name
        for req in reqs:
            assert req.model_spec.name == name
            sig = req.model_spec.signature_name
            inputs = request_arrays(req)
            out = model.signatures[sig](**{k: tf.constant(v) for k, v in inputs.items()})
            assert set(out) == set(docs[sig].output_names), (name, sig)
            for t in docs[sig].outputs:
                arr = out[t.name].numpy()
                assert arr.dtype == np.dtype(t.dtype), (name, sig, t.name)
                assert arr.shape == _expected_shape(t, inputs), (name, sig, t.name, arr.shape)
                assert np.all(np.isfinite(arr)), (name, sig, t.name)
    # the shipped graphs are the current ones: in-graph rank check ...
    gen = request_arrays(read_warmup(SHIPPED / "generator" / "1")[0])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"input times must have rank 2, shape \[B, T\]"):
        loaded["generator"].signatures["serving_default"](
            **{k: tf.constant(v[0] if k == "times" else v) for k, v in gen.items()}
        )
    # ... and the decoder is a function of phase (shuffled phases -> the same, permuted outputs)
    dec = request_arrays(read_warmup(SHIPPED / "decoder" / "1")[0])
    fn = loaded["decoder"].signatures["serving_default"]
    ordered = fn(**{k: tf.constant(v) for k, v in dec.items()})["mag"].numpy()
    perm = np.random.default_rng(0).permutation(dec["phase"].shape[1])
    shuffled = fn(**{k: tf.constant(v[:, perm] if k == "phase" else v) for k, v in dec.items()})["mag"].numpy()
    np.testing.assert_allclose(shuffled, ordered[:, perm], atol=1e-6)
