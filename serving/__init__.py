"""Clients for the pelsvae_tf models served by TensorFlow Serving (see serving/README.md).

``RestClient`` (port 8501, ``/v1/models/<name>:predict``) needs only NumPy; ``GrpcClient``
(port 8500, ``PredictionService``) needs ``grpcio`` and ``tensorflow-serving-api``. Both return
plain ``{output: ndarray}`` dicts, and for the ``generator`` the same ``GeneratedLightCurves``
as the local :class:`pelsvae_tf.generator.Generator`.
"""

from serving._common import ServingError


def __getattr__(name):  # lazy: importing serving must not import grpc / TensorFlow
    if name == "RestClient":
        from serving.rest_client import RestClient

        return RestClient
    if name == "GrpcClient":
        from serving.grpc_client import GrpcClient

        return GrpcClient
    raise AttributeError(name)


__all__ = ["RestClient", "GrpcClient", "ServingError"]
