"""TEST DOUBLES of TensorFlow Serving (not shipped, not a server to deploy).

No ``tensorflow_model_server`` binary can run on the build machines, so the client tests talk to
these stand-ins bound to 127.0.0.1 only:

* :func:`rest_double` - a tiny ``http.server`` implementing ``POST /v1/models/<m>[/versions/N]:predict``
  (row ``instances`` and columnar ``inputs`` formats, TF Serving's answer shapes and ``{"error": ...}``)
  and ``GET .../metadata``;
* :func:`grpc_double` - a ``grpc`` server implementing ``PredictionService.Predict`` and
  ``GetModelMetadata`` from the tensorflow-serving-api protos.

Both answer through :class:`ModelRepository`, which loads the exported SavedModels from a
``saved_models/`` root laid out as TF Serving expects and checks requests the way TF Serving does
(signature names, exact input set, dtypes, JSON value types) before calling the signature. Like
TF Serving, they leave shapes to the graph: a wrong rank or size reaches the exported graph, whose
in-graph asserts answer with INVALID_ARGUMENT (gRPC) / HTTP 400 (REST) and their own message.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import numpy as np

_DT = {1: "float32", 2: "float64", 3: "int32", 9: "int64"}  # tensorflow DataType enum values


class RequestError(Exception):
    """A request TF Serving would reject with INVALID_ARGUMENT / HTTP 400 (or NOT_FOUND / 404)."""

    def __init__(self, message: str, code: str = "INVALID_ARGUMENT"):
        super().__init__(message)
        self.code = code


class ModelRepository:
    """Loads ``root/<name>/<version>/`` SavedModels (all names) and runs their signatures."""

    def __init__(self, root: str | Path):
        import tensorflow as tf
        from tensorflow.core.protobuf import saved_model_pb2

        self.root = Path(root)
        self.models: dict[str, dict[int, Any]] = {}
        self.sigdefs: dict[str, dict[int, Any]] = {}
        for mdir in sorted(p for p in self.root.iterdir() if p.is_dir()):
            for vdir in sorted(p for p in mdir.iterdir() if p.is_dir() and re.fullmatch(r"\d+", p.name)):
                if mdir.name.endswith("forest"):
                    import ydf_tf  # noqa: F401  (SimpleML ops, linked into TF Serving)
                sm = saved_model_pb2.SavedModel.FromString((vdir / "saved_model.pb").read_bytes())
                self.sigdefs.setdefault(mdir.name, {})[int(vdir.name)] = sm.meta_graphs[0].signature_def
                self.models.setdefault(mdir.name, {})[int(vdir.name)] = tf.saved_model.load(str(vdir))

    def resolve(self, name: str, version: int | None) -> int:
        if name not in self.models:
            raise RequestError(f"Servable not found for request: Latest({name})", "NOT_FOUND")
        versions = self.models[name]
        if version is None:
            return max(versions)
        if version not in versions:
            raise RequestError(f"Servable not found for request: Specific({name}, {version})", "NOT_FOUND")
        return version

    def sigdef(self, name: str, version: int | None, signature: str):
        v = self.resolve(name, version)
        defs = self.sigdefs[name][v]
        sig = signature or "serving_default"
        if sig not in defs:
            raise RequestError(f"Serving signature name: \"{sig}\" not found in signature def")
        return v, sig, defs[sig]

    def check_names(self, sigdef, got: set[str]) -> None:
        want = set(sigdef.inputs)
        if got != want:
            raise RequestError(
                f"input size does not match signature: {len(got)}!={len(want)} len({{{','.join(sorted(got))}}}) != "
                f"len({{{','.join(sorted(want))}}}). Sent extra: {{{','.join(sorted(got - want))}}}. "
                f"Missing but required: {{{','.join(sorted(want - got))}}}."
            )

    def run(self, name: str, version: int | None, signature: str, arrays: dict[str, np.ndarray]):
        """Check ``arrays`` against the SignatureDef as TF Serving does (input names and dtypes, not
        shapes), call it, return numpy outputs.

        Like TF Serving, a tensor of the wrong rank or size is fed to the graph as it is: the
        graph's own asserts reject it, and their message comes back as INVALID_ARGUMENT.
        """
        import tensorflow as tf

        v, sig, sd = self.sigdef(name, version, signature)
        self.check_names(sd, set(arrays))
        for i, (key, info) in enumerate(sorted(sd.inputs.items())):
            want = _DT.get(info.dtype)
            got = arrays[key].dtype.name
            if got != want:
                raise RequestError(f"Expects arg[{i}] ({key}) to be {_tf_name(want)} but {_tf_name(got)} is provided")
        fn = self.models[name][v].signatures[sig]
        try:
            out = fn(**{k: tf.constant(a) for k, a in arrays.items()})
        except tf.errors.InvalidArgumentError as exc:
            raise RequestError(_kernel_message(exc.message)) from None
        return v, sig, {k: t.numpy() for k, t in out.items()}


def _kernel_message(message: str) -> str:
    """The kernel's error text (e.g. an assert's message), as TF Serving's session returns it:
    without the eager runtime's preamble ("Graph execution error", "Detected at node ...") and
    without the graph-node trace lines."""
    skip = ("[[", "Detected at node", "<stack traces unavailable>", "Graph execution error:")
    lines = [ln.strip() for ln in message.splitlines()]
    return " ".join(ln for ln in lines if ln and not ln.startswith(skip))


def _tf_name(dtype: str) -> str:
    return {"float32": "float", "float64": "double", "int32": "int32", "int64": "int64"}.get(dtype, dtype)


def _json_to_array(value: Any, dtype: str, where: str) -> np.ndarray:
    """Convert a JSON value the way TF Serving's JSON parser does: numbers only, ints must be integral."""
    arr = np.asarray(value)
    if arr.dtype == object:
        raise RequestError(f"{where}: JSON value has rows of different lengths or mixed types")
    if arr.dtype.kind in "USb":
        raise RequestError(f"{where}: JSON Value: {json.dumps(np.asarray(value).ravel()[:1].tolist())} not {_tf_name(dtype)}")
    if dtype.startswith("int") and arr.dtype.kind == "f":
        if not np.all(arr == np.round(arr)):
            raise RequestError(f"{where}: JSON Value: {arr.ravel()[~(arr.ravel() == np.round(arr.ravel()))][0]} not int")
    return arr.astype(dtype)


# ---------------------------------------------------------------------------------------------
# REST double


def _rest_handler(repo: ModelRepository):
    from google.protobuf import json_format
    from tensorflow_serving.apis import get_model_metadata_pb2

    route = re.compile(r"^/v1/models/([^/:]+)(?:/versions/(\d+))?(:predict|/metadata)?$")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep pytest output quiet
            pass

        def _send(self, code: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _route(self):
            m = route.match(self.path)
            if not m:
                raise RequestError(f"Malformed request: {self.command} {self.path}", "NOT_FOUND")
            return m.group(1), (int(m.group(2)) if m.group(2) else None), m.group(3)

        def _fail(self, exc: RequestError) -> None:
            self._send(404 if exc.code == "NOT_FOUND" else 400, {"error": str(exc)})

        def do_GET(self):
            try:
                name, version, action = self._route()
                v = repo.resolve(name, version)
                if action == "/metadata":
                    sigmap = get_model_metadata_pb2.SignatureDefMap()
                    for k, sd in repo.sigdefs[name][v].items():
                        sigmap.signature_def[k].CopyFrom(sd)
                    meta = json_format.MessageToDict(sigmap, preserving_proto_field_name=True)
                    self._send(200, {"model_spec": {"name": name, "signature_name": "", "version": str(v)},
                                     "metadata": {"signature_def": meta}})
                elif action is None:
                    self._send(200, {"model_version_status": [
                        {"version": str(x), "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
                        for x in sorted(repo.models[name])]})
                else:
                    raise RequestError("predict needs POST", "NOT_FOUND")
            except RequestError as exc:
                self._fail(exc)

        def do_POST(self):
            try:
                name, version, action = self._route()
                if action != ":predict":
                    raise RequestError(f"Malformed request: POST {self.path}", "NOT_FOUND")
                try:
                    body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                except json.JSONDecodeError as exc:
                    raise RequestError(f"JSON Parse error: {exc}") from None
                if not isinstance(body, dict):
                    raise RequestError("JSON Value: request body is not an object")
                _, sig, sd = repo.sigdef(name, version, body.get("signature_name", "serving_default"))
                dtypes = {k: _DT[i.dtype] for k, i in sd.inputs.items()}
                if ("instances" in body) == ("inputs" in body):
                    raise RequestError("Missing 'inputs' or 'instances' key (exactly one is required)")
                if "inputs" in body:
                    inp = body["inputs"]
                    if not isinstance(inp, dict):
                        if len(dtypes) != 1:
                            raise RequestError("'inputs' must be an object with one key per input")
                        inp = {next(iter(dtypes)): inp}
                    repo.check_names(sd, set(inp))
                    arrays = {k: _json_to_array(v, dtypes[k], f"key: {k}") for k, v in inp.items()}
                else:
                    rows = body["instances"]
                    if not isinstance(rows, list) or not rows:
                        raise RequestError("'instances' must be a non-empty list")
                    for i, r in enumerate(rows):
                        if not isinstance(r, dict):
                            raise RequestError(f"Failed to process element: {i} of 'instances' list: expected an object")
                        repo.check_names(sd, set(r))
                    arrays = {}
                    for k in dtypes:
                        shapes = {np.shape(r[k]) for r in rows}
                        if len(shapes) > 1:
                            raise RequestError(
                                f"Failed to process element of 'instances' list. key: {k}: all instances must "
                                f"have the same shape, got {sorted(shapes)}"
                            )
                        arrays[k] = _json_to_array([r[k] for r in rows], dtypes[k], f"key: {k} of 'instances' list")
                v, sig, out = repo.run(name, version, sig, arrays)
                names = sorted(out)
                if "inputs" in body:
                    payload = {k: out[k].tolist() for k in names} if len(names) > 1 else out[names[0]].tolist()
                    self._send(200, {"outputs": payload})
                else:
                    n = next(iter(out.values())).shape[0]
                    if len(names) > 1:
                        preds = [{k: out[k][i].tolist() for k in names} for i in range(n)]
                    else:
                        preds = [out[names[0]][i].tolist() for i in range(n)]
                    self._send(200, {"predictions": preds})
            except RequestError as exc:
                self._fail(exc)

    return Handler


@contextlib.contextmanager
def rest_double(repo: ModelRepository) -> Iterator[str]:
    """Serve ``repo`` over HTTP on 127.0.0.1 (free port); yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _rest_handler(repo))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------------------------------------
# gRPC double


@contextlib.contextmanager
def grpc_double(repo: ModelRepository) -> Iterator[str]:
    """Serve ``repo`` over gRPC on 127.0.0.1 (free port); yields ``host:port``."""
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import get_model_metadata_pb2, predict_pb2, prediction_service_pb2_grpc

    class Servicer(prediction_service_pb2_grpc.PredictionServiceServicer):
        def _abort(self, context, exc: RequestError):
            code = grpc.StatusCode.NOT_FOUND if exc.code == "NOT_FOUND" else grpc.StatusCode.INVALID_ARGUMENT
            context.abort(code, str(exc))

        def Predict(self, request, context):
            spec = request.model_spec
            version = spec.version.value if spec.HasField("version") else None
            try:
                arrays = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
                v, sig, out = repo.run(spec.name, version, spec.signature_name or "serving_default", arrays)
            except RequestError as exc:
                self._abort(context, exc)
            resp = predict_pb2.PredictResponse()
            resp.model_spec.name = spec.name
            resp.model_spec.signature_name = sig
            resp.model_spec.version.value = v
            for k, a in out.items():
                resp.outputs[k].CopyFrom(tf.make_tensor_proto(a))
            return resp

        def GetModelMetadata(self, request, context):
            spec = request.model_spec
            version = spec.version.value if spec.HasField("version") else None
            try:
                if list(request.metadata_field) != ["signature_def"]:
                    raise RequestError("Metadata field signature_def is the only one supported")
                v = repo.resolve(spec.name, version)
            except RequestError as exc:
                self._abort(context, exc)
            sigmap = get_model_metadata_pb2.SignatureDefMap()
            for k, sd in repo.sigdefs[spec.name][v].items():
                sigmap.signature_def[k].CopyFrom(sd)
            resp = get_model_metadata_pb2.GetModelMetadataResponse()
            resp.model_spec.name = spec.name
            resp.model_spec.version.value = v
            resp.metadata["signature_def"].Pack(sigmap)
            return resp

    limit = 256 * 1024 * 1024
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2),
                         options=[("grpc.max_send_message_length", limit), ("grpc.max_receive_message_length", limit)])
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(Servicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(grace=None)
