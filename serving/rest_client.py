"""REST client for models exported by ``pelsvae export`` and served by TensorFlow Serving.

TF Serving's REST API (port 8501)::

    POST /v1/models/<name>[/versions/<N>]:predict
      row format       {"signature_name": "...", "instances": [{"teff": 6500.0, "times": [...], ...}, ...]}
                       -> {"predictions": [{"mag": [...], ...}, ...]}   (one object per row)
      columnar format  {"signature_name": "...", "inputs": {"teff": [6500.0, ...], "times": [[...]], ...}}
                       -> {"outputs": {"mag": [[...]], ...}}
      (a signature with a single output answers with the bare value instead of a name -> value map)
    GET  /v1/models/<name>[/versions/<N>]/metadata  -> signature defs
    errors: HTTP 4xx/5xx with {"error": "message"}

Uses only the standard library (``urllib``) + NumPy; no TensorFlow import.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any, Mapping, Sequence

import numpy as np

from pelsvae_tf.classes import CLASSES
from pelsvae_tf.serve.signatures import SignatureDoc
from pelsvae_tf.serving._common import (
    ServingError,
    decode_outputs,
    generator_inputs,
    signature_from_metadata_json,
    to_generated,
)


def _jsonable(arr: np.ndarray) -> Any:
    """Numpy -> nested lists of Python numbers (NaN kept as NaN: TF Serving's JSON parser accepts it).

    Not :func:`pelsvae_tf.textio.to_jsonable`, which writes NaN as ``null`` (strict JSON for
    files): a NaN input must reach the server as NaN, not as ``null``.
    """
    return np.asarray(arr).tolist()


class RestClient:
    """Client of ``/v1/models/<model>[/versions/<version>]:predict``.

    Args:
        base_url: server root, e.g. ``http://localhost:8501``.
        model: served model name (``generator``, ``decoder``, ``regressor_mlp``, ``regressor_forest``).
        version: pin a version (``None`` = the server's latest).
        signature: signature name (``serving_default``; generator also ``generate_onehot``,
            ``generate_phase``).
        timeout: seconds per HTTP request.
        spec: the signature's :class:`SignatureDoc`; ``None`` fetches it from the server's
            metadata endpoint on first use (requests are validated against it before sending).
    """

    def __init__(
        self,
        base_url: str = "http://localhost:8501",
        model: str = "generator",
        version: int | None = None,
        signature: str = "serving_default",
        timeout: float = 60.0,
        spec: SignatureDoc | None = None,
    ):
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url={base_url!r} must start with http:// or https:// (e.g. http://localhost:8501)")
        if version is not None and int(version) < 1:
            raise ValueError(f"version={version}; TF Serving versions are positive integers")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.version = None if version is None else int(version)
        self.signature = signature
        self.timeout = float(timeout)
        self._spec = spec

    # -- URLs ------------------------------------------------------------------------------------
    @property
    def model_url(self) -> str:
        """``<base>/v1/models/<model>[/versions/<N>]``."""
        url = f"{self.base_url}/v1/models/{self.model}"
        return url if self.version is None else f"{url}/versions/{self.version}"

    @property
    def predict_url(self) -> str:
        """The ``:predict`` endpoint."""
        return self.model_url + ":predict"

    # -- HTTP ------------------------------------------------------------------------------------
    def _http(self, url: str, body: Mapping[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body, allow_nan=True).encode("utf-8")
        req = urllib.request.Request(
            url, data=data, method="GET" if body is None else "POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace")
            try:
                msg = json.loads(text).get("error", text)
            except (json.JSONDecodeError, AttributeError):
                msg = text
            raise ServingError(f"{self.model}: server answered HTTP {exc.code}: {msg}", status=exc.code) from None
        except urllib.error.URLError as exc:
            raise ConnectionError(
                f"cannot reach TF Serving at {self.base_url} ({exc.reason}); start it as in serving/README.md"
            ) from None

    def status(self) -> dict:
        """``GET /v1/models/<model>[/versions/N]``: version states."""
        return self._http(self.model_url)

    def spec(self) -> SignatureDoc:
        """The served signature (from ``/metadata``, cached)."""
        if self._spec is None:
            self._spec = signature_from_metadata_json(
                self.model, self.signature, self._http(self.model_url + "/metadata")
            )
        return self._spec

    # -- requests ---------------------------------------------------------------------------------
    def request_body(self, inputs: Mapping[str, Any], fmt: str = "inputs") -> dict:
        """The JSON body TF Serving expects: columnar (``fmt="inputs"``) or row (``"instances"``).

        Inputs are validated against :meth:`spec` first (``ValueError`` naming a missing or
        unknown input, a wrong dtype or rank).
        """
        arrays = self.spec().validate(inputs)
        body: dict[str, Any] = {"signature_name": self.signature}
        if fmt == "inputs":
            body["inputs"] = {k: _jsonable(v) for k, v in arrays.items()}
        elif fmt == "instances":
            n = {v.shape[0] for v in arrays.values()}.pop()
            body["instances"] = [{k: _jsonable(v[i]) for k, v in arrays.items()} for i in range(n)]
        else:
            raise ValueError(f"fmt={fmt!r}; expected 'inputs' (columnar) or 'instances' (row)")
        return body

    def _outputs(self, answer: Any, key: str) -> dict[str, np.ndarray]:
        spec = self.spec()
        if not isinstance(answer, Mapping) or key not in answer:
            raise ServingError(f"{self.model}: unexpected answer without {key!r}: {str(answer)[:200]}")
        val = answer[key]
        if key == "outputs":
            outs = val if isinstance(val, Mapping) and len(spec.outputs) > 1 else {spec.output_names[0]: val}
            return decode_outputs(spec, outs)
        if len(spec.outputs) == 1:
            return decode_outputs(spec, {spec.output_names[0]: val})
        return decode_outputs(spec, {name: [row[name] for row in val] for name in spec.output_names})

    def predict_inputs(self, inputs: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Columnar request (``{"inputs": {...}}``); returns ``{output: ndarray}``."""
        return self._outputs(self._http(self.predict_url, self.request_body(inputs, "inputs")), "outputs")

    def predict_instances(self, instances: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Row request (``{"instances": [...]}``); ``instances`` is a list of per-curve dicts or a dict
        of batched arrays. Returns ``{output: ndarray}`` stacked over rows."""
        if not isinstance(instances, Mapping):
            rows = list(instances)
            if not rows:
                raise ValueError("instances is empty; give at least one row")
            keys = set(rows[0])
            if any(set(r) != keys for r in rows):
                raise ValueError("every instance must have the same input names")
            instances = {k: np.stack([np.asarray(r[k]) for r in rows]) for k in rows[0]}
        return self._outputs(self._http(self.predict_url, self.request_body(instances, "instances")), "predictions")

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
        fmt: str = "inputs",
        classes: Sequence[str] = CLASSES,
        **physics,
    ) -> "GeneratedLightCurves":  # noqa: F821
        """Generate light curves through the served ``generator`` (one request).

        Same arguments and result type as :meth:`pelsvae_tf.generate.generator.Generator.generate`
        (``GeneratedLightCurves``: ``to_pandas``/``to_table``/``plot``), except that
        ``mag_mean`` and ``amplitude`` [mag] must be given and curve ``i`` uses seed ``seed + i``.
        """
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
        out = self.predict_inputs(inputs) if fmt == "inputs" else self.predict_instances(inputs)
        return to_generated(out, inputs, classes, noise, {"server": self.base_url, "model": self.model})


__all__ = ["RestClient", "ServingError"]
