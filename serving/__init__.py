"""Clients for the pelsvae_tf models served by TensorFlow Serving (see serving/README.md).

``RestClient`` (port 8501, ``/v1/models/<name>:predict``) needs only NumPy; ``GrpcClient``
(port 8500, ``PredictionService``) needs ``grpcio`` and ``tensorflow-serving-api``. Both return
plain ``{output: ndarray}`` dicts, and for the ``generator`` the same ``GeneratedLightCurves``
as the local :class:`pelsvae_tf.generate.generator.Generator`.
"""

import sys as _sys

if __name__ == "serving":  # a source checkout's top-level `serving` (pelsvae_tf 0.1 name): deprecated
    import importlib as _importlib
    import warnings as _warnings

    import pelsvae_tf  # noqa: F401  (installs the finder that aliases `serving.*`)

    _warnings.warn(
        "`serving` is deprecated since pelsvae_tf 0.2 and will be removed in 0.3; import `pelsvae_tf.serving` instead",
        DeprecationWarning,
        stacklevel=2,
    )
    _sys.modules["serving"] = _importlib.import_module("pelsvae_tf.serving")


from pelsvae_tf.serving._common import ServingError


def __getattr__(name):  # lazy: importing serving must not import grpc / TensorFlow
    if name == "RestClient":
        from pelsvae_tf.serving.rest_client import RestClient

        return RestClient
    if name == "GrpcClient":
        from pelsvae_tf.serving.grpc_client import GrpcClient

        return GrpcClient
    raise AttributeError(name)


__all__ = ["RestClient", "GrpcClient", "ServingError"]
