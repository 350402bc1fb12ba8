"""gRPC client for models exported by ``pelsvae export`` and served by TensorFlow Serving (port 8500).

Builds ``tensorflow_serving.apis.predict_pb2.PredictRequest`` messages (inputs as ``TensorProto``
via ``tf.make_tensor_proto``) and sends them through ``PredictionServiceStub.Predict``; the
signature is read with ``GetModelMetadata`` (``metadata_field: "signature_def"``) unless given.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import grpc
import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import get_model_metadata_pb2, predict_pb2, prediction_service_pb2_grpc

from pelsvae_tf.classes import CLASSES
from pelsvae_tf.serve.signatures import SignatureDoc
from pelsvae_tf.serving._common import ServingError, generator_inputs, signature_from_proto, to_generated


class GrpcClient:
    """Client of TF Serving's ``PredictionService`` (``Predict``, ``GetModelMetadata``).

    Args:
        target: ``host:port`` of the gRPC endpoint, e.g. ``localhost:8500``.
        model, version, signature: as in :class:`pelsvae_tf.serving.rest_client.RestClient`.
        timeout: seconds per call (deadline).
        max_message_mb: gRPC send/receive limit in MiB (10,000 curves x 100 points is ~10 MiB).
        spec: the signature's :class:`SignatureDoc`; ``None`` asks the server once.
    """

    def __init__(
        self,
        target: str = "localhost:8500",
        model: str = "generator",
        version: int | None = None,
        signature: str = "serving_default",
        timeout: float = 60.0,
        max_message_mb: int = 256,
        spec: SignatureDoc | None = None,
    ):
        if ":" not in target:
            raise ValueError(f"target={target!r} must be host:port, e.g. localhost:8500")
        if version is not None and int(version) < 1:
            raise ValueError(f"version={version}; TF Serving versions are positive integers")
        self.target = target
        self.model = model
        self.version = None if version is None else int(version)
        self.signature = signature
        self.timeout = float(timeout)
        limit = int(max_message_mb) * 1024 * 1024
        self.channel = grpc.insecure_channel(
            target, options=[("grpc.max_send_message_length", limit), ("grpc.max_receive_message_length", limit)]
        )
        self.stub = prediction_service_pb2_grpc.PredictionServiceStub(self.channel)
        self._spec = spec

    def close(self) -> None:
        """Close the channel."""
        self.channel.close()

    def __enter__(self) -> "GrpcClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, method, request):
        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            code = exc.code()
            if code in (grpc.StatusCode.UNAVAILABLE,) and "connect" in (exc.details() or "").lower():
                raise ConnectionError(
                    f"cannot reach TF Serving gRPC at {self.target}: {exc.details()}; start it as in serving/README.md"
                ) from None
            raise ServingError(
                f"{self.model}: server answered {code.name}: {exc.details()}", status=code.name
            ) from None

    def _model_spec(self, msg) -> None:
        msg.name = self.model
        msg.signature_name = self.signature
        if self.version is not None:
            msg.version.value = self.version

    def spec(self) -> SignatureDoc:
        """The served signature (``GetModelMetadata``, cached)."""
        if self._spec is None:
            req = get_model_metadata_pb2.GetModelMetadataRequest()
            self._model_spec(req.model_spec)
            req.metadata_field.append("signature_def")
            resp = self._call(self.stub.GetModelMetadata, req)
            sigmap = get_model_metadata_pb2.SignatureDefMap()
            if not resp.metadata["signature_def"].Unpack(sigmap):
                raise ServingError(f"{self.model}: metadata answer holds no SignatureDefMap")
            if self.signature not in sigmap.signature_def:
                raise ServingError(
                    f"{self.model}: signature {self.signature!r} not served; available: {sorted(sigmap.signature_def)}"
                )
            self._spec = signature_from_proto(self.model, self.signature, sigmap.signature_def[self.signature])
        return self._spec

    def build_request(self, inputs: Mapping[str, Any]):
        """A validated ``PredictRequest`` (inputs converted to the signature's dtypes)."""
        arrays = self.spec().validate(inputs)
        req = predict_pb2.PredictRequest()
        self._model_spec(req.model_spec)
        for k, v in arrays.items():
            req.inputs[k].CopyFrom(tf.make_tensor_proto(v))
        return req

    def predict(self, inputs: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """``Predict`` -> ``{output: ndarray}``."""
        resp = self._call(self.stub.Predict, self.build_request(inputs))
        return {k: tf.make_ndarray(v) for k, v in resp.outputs.items()}

    def generate(
        self,
        cls,
        *,
        n: int | None = None,
        times=None,
        phase=None,
        t0=0.0,
        mag_mean=None,
        amplitude=None,
        seed: int | Sequence[int] = 0,
        noise: bool = True,
        classes: Sequence[str] = CLASSES,
        **physics,
    ) -> "GeneratedLightCurves":  # noqa: F821
        """Generate through the served ``generator``; see :meth:`pelsvae_tf.serving.rest_client.RestClient.generate`."""
        inputs = generator_inputs(
            self.spec(),
            cls,
            n=n,
            times=times,
            phase=phase,
            t0=t0,
            mag_mean=mag_mean,
            amplitude=amplitude,
            seed=seed,
            classes=classes,
            **physics,
        )
        return to_generated(self.predict(inputs), inputs, classes, noise, {"server": self.target, "model": self.model})


__all__ = ["GrpcClient", "ServingError"]
