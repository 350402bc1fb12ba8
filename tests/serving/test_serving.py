"""REST and gRPC clients (issue 5) against in-test doubles of TF Serving on 127.0.0.1.

The doubles (tests/fixtures/serving_doubles.py) answer through the exported SavedModels and check requests
the way TF Serving does; the clients must build exactly the requests TF Serving accepts
(documented JSON bodies, tensorflow-serving-api PredictRequest protos) and return the same
arrays / GeneratedLightCurves as the local path.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def repo(exported_models):
    from tests.fixtures.serving_doubles import ModelRepository

    return ModelRepository(exported_models.root)


@pytest.fixture(scope="module")
def servers(repo):
    """(REST base URL, gRPC target) of the doubles, both on 127.0.0.1."""
    from tests.fixtures.serving_doubles import grpc_double, rest_double

    with rest_double(repo) as url, grpc_double(repo) as target:
        yield url, target


def _docs(exported_models, name="generator"):
    from pelsvae_tf.serve import signature_docs

    return signature_docs(exported_models.root / name / "1")


def _inputs(exported_models, n=3, points=25, name="generator", sig="serving_default"):
    from pelsvae_tf.regress import load_latents
    from pelsvae_tf.serve import example_inputs

    ranges = {k: exported_models.scaler.range(k) for k in exported_models.scaler.names}
    inp = example_inputs(_docs(exported_models, name)[sig], n, points, seed=5, ranges=ranges)
    if "class_index" in inp:  # classes with training stars (see test_export._trained_classes)
        lat = load_latents(exported_models.run_dir)
        labels = np.unique(lat["label"][lat["split"] == "train"])
        inp["class_index"] = labels[np.arange(n) % labels.size].astype(np.int32)
    return inp


def _direct(repo, name, inputs, sig="serving_default"):
    import tensorflow as tf

    fn = repo.models[name][1].signatures[sig]
    return {k: v.numpy() for k, v in fn(**{k: tf.constant(v) for k, v in inputs.items()}).items()}


# ---------------------------------------------------------------------------------------------
# Requests as TF Serving documents them (no server)


def test_rest_bodies_are_tf_serving_json(exported_models):
    from pelsvae_tf.serving.rest_client import RestClient

    doc = _docs(exported_models)["serving_default"]
    client = RestClient("http://example.org:8501/", "generator", version=3, spec=doc)
    assert client.predict_url == "http://example.org:8501/v1/models/generator/versions/3:predict"
    assert RestClient("http://h:8501", "decoder", spec=doc).predict_url == "http://h:8501/v1/models/decoder:predict"
    inp = _inputs(exported_models, n=2, points=4)
    col = json.loads(json.dumps(client.request_body(inp, "inputs")))
    assert set(col) == {"signature_name", "inputs"} and col["signature_name"] == "serving_default"
    assert set(col["inputs"]) == set(doc.input_names)
    assert np.shape(col["inputs"]["times"]) == (2, 4) and np.shape(col["inputs"]["seed"]) == (2,)
    assert col["inputs"]["times"][1][3] == float(inp["times"][1, 3])  # float64 survives JSON exactly
    row = json.loads(json.dumps(client.request_body(inp, "instances")))
    assert set(row) == {"signature_name", "instances"} and len(row["instances"]) == 2
    first = row["instances"][0]
    assert set(first) == set(doc.input_names)
    assert isinstance(first["class_index"], int) and isinstance(first["teff"], float)
    assert np.shape(first["times"]) == (4,)
    with pytest.raises(ValueError, match="'inputs' \\(columnar\\) or 'instances'"):
        client.request_body(inp, "rows")
    with pytest.raises(ValueError, match="http://"):
        RestClient("localhost:8501")


def test_grpc_request_is_a_predict_request(exported_models):
    import tensorflow as tf
    from tensorflow.core.framework import types_pb2
    from tensorflow_serving.apis import predict_pb2

    from pelsvae_tf.serving.grpc_client import GrpcClient

    doc = _docs(exported_models)["generate_onehot"]
    client = GrpcClient("127.0.0.1:9", "generator", version=2, signature="generate_onehot", spec=doc)
    inp = _inputs(exported_models, n=2, points=5, sig="generate_onehot")
    req = client.build_request(inp)
    assert isinstance(req, predict_pb2.PredictRequest)
    again = predict_pb2.PredictRequest.FromString(req.SerializeToString())
    assert again.model_spec.name == "generator" and again.model_spec.signature_name == "generate_onehot"
    assert again.model_spec.version.value == 2
    want = {
        "float32": types_pb2.DT_FLOAT,
        "float64": types_pb2.DT_DOUBLE,
        "int32": types_pb2.DT_INT32,
        "int64": types_pb2.DT_INT64,
    }
    for t in doc.inputs:
        proto = again.inputs[t.name]
        assert proto.dtype == want[t.dtype], t.name
        assert [d.size for d in proto.tensor_shape.dim] == list(inp[t.name].shape)
        np.testing.assert_array_equal(tf.make_ndarray(proto), inp[t.name])
    client.close()


# ---------------------------------------------------------------------------------------------
# End to end through the doubles


def test_rest_client_end_to_end(exported_models, repo, servers):
    from pelsvae_tf.serving import ServingError
    from pelsvae_tf.serving.rest_client import RestClient

    url, _ = servers
    client = RestClient(url, "generator")  # signature fetched from /metadata
    assert set(client.spec().input_names) == set(_docs(exported_models)["serving_default"].input_names)
    inp = _inputs(exported_models)
    direct = _direct(repo, "generator", inp)
    for result in (
        client.predict_inputs(inp),
        client.predict_instances(inp),
        client.predict_instances([{k: v[i] for k, v in inp.items()} for i in range(3)]),
    ):
        assert set(result) == set(direct)
        for k in direct:
            np.testing.assert_array_equal(result[k], direct[k])
            assert result[k].dtype == direct[k].dtype
    # single-output model: TF Serving answers bare values; both formats decode to {"z": [B, D]}
    reg = RestClient(url, "regressor_forest", version=1)
    rin = _inputs(exported_models, name="regressor_forest")
    want = _direct(repo, "regressor_forest", rin)["z"]
    np.testing.assert_array_equal(reg.predict_inputs(rin)["z"], want)
    np.testing.assert_array_equal(reg.predict_instances(rin)["z"], want)
    assert reg.status()["model_version_status"][0]["state"] == "AVAILABLE"
    with pytest.raises(ServingError, match="Specific\\(generator, 9\\)") as err:
        RestClient(url, "generator", version=9).predict_inputs(inp)
    assert err.value.status == 404


def test_clients_generate_the_local_generator_table(exported_models, servers):
    """generate() through REST (both formats) and gRPC gives one GeneratedLightCurves, with the
    columns of the local Generator's table, periodic in time, deterministic in the seed."""
    from pelsvae_tf.generate.generator import GeneratedLightCurves, Generator
    from pelsvae_tf.serving.grpc_client import GrpcClient
    from pelsvae_tf.serving.rest_client import RestClient

    url, target = servers
    ex = exported_models
    times = 2455000.0 + np.linspace(0.0, 30.0, 80)
    cls = ex.classes[int(_inputs(ex)["class_index"][0])]
    lo = {p: ex.scaler.range(p) for p in ex.regressors["mlp"].physics}
    kw = dict(
        n=4,
        times=times,
        t0=2455000.1,
        mag_mean=15.2,
        amplitude=0.7,
        seed=11,
        **{p: 0.5 * (a + b) for p, (a, b) in lo.items()},
    )
    rest = RestClient(url).generate(cls, **kw)
    rows = RestClient(url).generate(cls, fmt="instances", **kw)
    with GrpcClient(target) as gc:
        grpc_res = gc.generate(cls, **kw)
    assert isinstance(rest, GeneratedLightCurves) and len(rest) == 4 and rest.n_points == 80
    for other in (rows, grpc_res):
        np.testing.assert_array_equal(other.mag, rest.mag)
        np.testing.assert_array_equal(other.mag_model, rest.mag_model)
    np.testing.assert_allclose(rest.time, np.tile(times, (4, 1)))
    assert np.all(rest.cls == cls)
    # the same physics -> the same latent apart from the dummy: curves differ only through seeds
    assert not np.allclose(rest.dummy[0], rest.dummy[1])
    # the served table has the local Generator's columns
    local = Generator.load(ex.run_dir).generate(cls, cadence=times, **{k: v for k, v in kw.items() if k != "times"})
    assert list(rest.to_pandas().columns) == list(local.to_pandas().columns)
    # the contract through the REST client: the same seed gives the local curves, noise included
    for k in ("mag", "mag_model", "err", "scaled_mag"):
        np.testing.assert_allclose(getattr(rest, k), getattr(local, k), atol=1e-3, err_msg=k)
    np.testing.assert_array_equal(rest.in_training_range, local.in_training_range)
    # scaled_mag is the decoder's phase function, in [0, 1]
    assert rest.scaled_mag.min() >= -1e-5 and rest.scaled_mag.max() <= 1 + 1e-5
    # and the noisy magnitudes scatter around the model by the generated errors
    resid = (rest.mag - rest.mag_model) / rest.err
    assert 0.7 < resid.std() < 1.3


def test_grpc_client_end_to_end(exported_models, repo, servers):
    from pelsvae_tf.serving import ServingError
    from pelsvae_tf.serving.grpc_client import GrpcClient

    _, target = servers
    for name in ("decoder", "regressor_mlp", "regressor_forest", "generator"):
        with GrpcClient(target, name) as client:  # signature fetched with GetModelMetadata
            inp = _inputs(exported_models, name=name)
            got = client.predict(inp)
            want = _direct(repo, name, inp)
            assert set(got) == set(want)
            for k in want:
                np.testing.assert_array_equal(got[k], want[k])
    with GrpcClient(target, "generator", signature="generate_phase") as client:
        inp = _inputs(exported_models, sig="generate_phase")
        np.testing.assert_array_equal(
            client.predict(inp)["mag"], _direct(repo, "generator", inp, "generate_phase")["mag"]
        )
    with pytest.raises(ServingError, match="not served"):
        GrpcClient(target, "generator", signature="nope").spec()
    with pytest.raises(ServingError, match="NOT_FOUND"):
        GrpcClient(target, "gan").spec()


# ---------------------------------------------------------------------------------------------
# Bad requests: clear errors, never a crash


def test_clients_reject_bad_inputs_before_sending(exported_models, servers):
    from pelsvae_tf.serving.grpc_client import GrpcClient
    from pelsvae_tf.serving.rest_client import RestClient

    url, target = servers
    inp = _inputs(exported_models)
    rest, grpc_client = RestClient(url), GrpcClient(target)
    for send in (rest.predict_inputs, rest.predict_instances, grpc_client.predict):
        with pytest.raises(ValueError, match=r"missing input\(s\) \['seed'\]"):
            send({k: v for k, v in inp.items() if k != "seed"})
        with pytest.raises(ValueError, match="'class_index': expected integers"):
            send(dict(inp, class_index=inp["class_index"] + 0.5))
        with pytest.raises(ValueError, match="'teff': expected numbers"):
            send(dict(inp, teff=np.array(["hot"] * 3)))
        with pytest.raises(ValueError, match="'times': expected rank 2"):
            send(dict(inp, times=inp["times"][0]))
    for client in (rest, grpc_client):
        with pytest.raises(ValueError, match="mag_mean is required"):
            client.generate("RRLYR", teff=6500, abs_gmag=0.6, period=0.5, times=[0.0, 1.0], amplitude=0.5)
        with pytest.raises(ValueError, match="unknown variability class"):
            client.generate("MIRA2", teff=6500, abs_gmag=0.6, period=0.5, times=[0.0, 1.0], mag_mean=15, amplitude=0.5)
    grpc_client.close()


def _post(url, body):
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_server_side_errors_are_clear(exported_models, servers):
    """Requests that bypass client validation get TF-Serving-style errors, and the in-graph
    asserts come back through both clients as ServingError with their message."""
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    from pelsvae_tf.serving import ServingError
    from pelsvae_tf.serving.grpc_client import GrpcClient
    from pelsvae_tf.serving.rest_client import RestClient

    url, target = servers
    inp = _inputs(exported_models)
    body = RestClient(url).request_body(inp, "inputs")
    predict = url + "/v1/models/generator:predict"
    bad = json.loads(json.dumps(body))
    bad["inputs"]["teff"] = ["hot"] * 3
    code, ans = _post(predict, bad)
    assert code == 400 and "key: teff" in ans["error"] and "not double" in ans["error"]
    bad = json.loads(json.dumps(body))
    del bad["inputs"]["seed"]
    code, ans = _post(predict, bad)
    assert code == 400 and "Missing but required: {seed}" in ans["error"]
    # shapes are left to the graph (TF Serving checks dtypes only): its own assert answers
    bad = json.loads(json.dumps(body))
    bad["inputs"]["times"] = bad["inputs"]["times"][0]
    code, ans = _post(predict, bad)
    assert code == 400, ans
    assert ans["error"].startswith("assertion failed: [input times must have rank 2, shape [B, T]: one row of T >= 1")
    assert "send a list of B rows. Got shape] [25]" in ans["error"]
    bad = json.loads(json.dumps(body))
    bad["inputs"]["teff"] = [[v] for v in bad["inputs"]["teff"]]
    code, ans = _post(predict, bad)
    assert code == 400 and "input teff must have rank 1, shape [B]" in ans["error"], ans
    bad = json.loads(json.dumps(body))
    bad["inputs"]["times"] = [[] for _ in bad["inputs"]["times"]]
    code, ans = _post(predict, bad)
    assert code == 400 and "input times has no points (shape [B, 0])" in ans["error"], ans
    assert "Graph execution error" not in ans["error"] and "[[" not in ans["error"]
    code, ans = _post(predict, {"instances": [{"teff": 1.0}], "inputs": {}})
    assert code == 400 and "exactly one" in ans["error"]
    # gRPC: a float32 tensor where the signature wants float64
    with GrpcClient(target) as gc:
        req = gc.build_request(inp)
        req.inputs["times"].CopyFrom(tf.make_tensor_proto(inp["times"].astype(np.float32)))
        with pytest.raises(ServingError, match="to be double but float is provided"):
            gc._call(gc.stub.Predict, req)
        wrong = predict_pb2.PredictRequest()
        wrong.CopyFrom(req)
        del wrong.inputs["seed"]
        with pytest.raises(ServingError, match="INVALID_ARGUMENT.*Missing but required: {seed}"):
            gc._call(gc.stub.Predict, wrong)
        # a wrong rank reaches the graph, whose message comes back with INVALID_ARGUMENT
        flat = gc.build_request(inp)
        flat.inputs["times"].CopyFrom(tf.make_tensor_proto(inp["times"][0]))
        with pytest.raises(
            ServingError, match=r"INVALID_ARGUMENT.*input times must have rank 2, shape \[B, T\]"
        ) as err:
            gc._call(gc.stub.Predict, flat)
        assert err.value.status == "INVALID_ARGUMENT"
        short = gc.build_request(inp)
        short.inputs["mag_mean"].CopyFrom(tf.make_tensor_proto(inp["mag_mean"][:2]))
        with pytest.raises(ServingError, match="input mag_mean has a different batch size than teff"):
            gc._call(gc.stub.Predict, short)
        # in-graph validation: a non-positive period
        with pytest.raises(ServingError, match="period must be > 0 days"):
            gc.predict(dict(inp, period=-inp["period"]))
    with pytest.raises(ServingError, match="class_index must be < 8") as err:
        RestClient(url).predict_inputs(dict(inp, class_index=np.full(3, 9, np.int32)))
    assert err.value.status == 400


def test_decoder_served_with_shuffled_phases(exported_models, servers):
    """The decoder signature is a function of phase (grid decode + interpolation): through the
    REST double, shuffled phases give the same values, permuted."""
    from pelsvae_tf.serving.rest_client import RestClient

    url, _ = servers
    client = RestClient(url, "decoder")
    inp = _inputs(exported_models, name="decoder")
    ordered = client.predict_inputs(inp)
    perm = np.random.default_rng(2).permutation(inp["phase"].shape[1])
    shuffled = client.predict_inputs(dict(inp, phase=inp["phase"][:, perm]))
    for k in ("mag", "err"):
        np.testing.assert_allclose(shuffled[k], ordered[k][:, perm], atol=1e-6)


def test_astropy_time_is_mjd_as_in_the_local_package():
    """Clients convert an astropy Time (times, t0) to MJD days, as pelsvae_tf.generate.cadence does, so a
    served curve and a local one of the same Time cadence share times, t0 and phases."""
    from astropy.time import Time

    from pelsvae_tf.generate.cadence import _as_days, to_phase
    from pelsvae_tf.serve import phase_from_times
    from pelsvae_tf.serve.signatures import generator_signatures
    from pelsvae_tf.serving._common import generator_inputs

    sig = generator_signatures(("teff", "abs_gmag", "period"), 8, 4)["serving_default"]
    times = Time(2455000.5 + np.array([0.0, 0.3, 1.7, 12.25]), format="jd")  # JD in, MJD out
    t0 = Time(55000.1, format="mjd")
    inp = generator_inputs(
        sig, "RRLYR", n=2, times=times, t0=t0, teff=6500.0, abs_gmag=0.6, period=0.55, mag_mean=15.0, amplitude=0.8
    )
    np.testing.assert_allclose(inp["times"], np.tile(times.mjd, (2, 1)), rtol=0, atol=1e-9)
    np.testing.assert_allclose(inp["times"][0], _as_days(times), rtol=0, atol=0)
    assert inp["times"][0, 0] == pytest.approx(55000.0, abs=1e-6)
    np.testing.assert_allclose(inp["t0"], [55000.1, 55000.1], atol=1e-9)
    np.testing.assert_allclose(
        phase_from_times(inp["times"], inp["t0"], inp["period"])[0], to_phase(times, 0.55, t0=t0), atol=1e-6
    )


def test_unreachable_server_is_a_connection_error():
    from pelsvae_tf.serve.signatures import decoder_signature
    from pelsvae_tf.serving.rest_client import RestClient

    client = RestClient("http://127.0.0.1:9", "decoder", spec=decoder_signature(4, 8), timeout=5)
    with pytest.raises(ConnectionError, match="serving/README.md"):
        client.predict_inputs({"z": np.zeros((1, 4)), "class_onehot": np.eye(8)[:1], "phase": np.zeros((1, 3))})


def test_compose_file_matches_the_export_layout(exported_models):
    import yaml

    from pelsvae_tf.serve import parse_models_config

    compose = yaml.safe_load((ROOT / "serving" / "docker-compose.yml").read_text())
    svc = next(iter(compose["services"].values()))
    assert svc["image"].startswith("tensorflow/serving")
    assert {"8500:8500", "8501:8501"} <= set(svc["ports"])
    cmd = " ".join(svc["command"]) if isinstance(svc["command"], list) else svc["command"]
    assert "--model_config_file=/models/models.config" in cmd
    mounts = {v.split(":")[1]: v.split(":")[0] for v in svc["volumes"]}
    assert "/models" in mounts and mounts["/models"].rstrip("/").endswith("saved_models")
    cfg = parse_models_config((exported_models.root / "models.config").read_text())
    assert all(c.base_path.startswith("/models/") for c in cfg.model_config_list.config)
    readme = (ROOT / "serving" / "README.md").read_text()
    for needle in ("--model_config_file", "8500", "8501", "docker compose", "Kubernetes", "pelsvae export"):
        assert needle in readme, needle
