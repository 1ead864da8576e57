"""Run with the regenerated copy first on PYTHONPATH: what each layer makes of the addition.

Prints one JSON object; tests/test_contract_addition.py asserts on it.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import io
import json
import sys
from pathlib import Path
from typing import Any

from addition import NEW_FIELD, NEW_MODEL, NEW_OPERATION, NEW_OPERATION_ID, NEW_PATH, NEW_QUALITY


def _png(width: int, height: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (40, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def _cli(*args: str) -> str:
    from imagegen.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        main(list(args))
    return out.getvalue()


def _upscaling_app() -> Any:
    """A server that implements only the new operation, as its developer would."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def upscale(request: Request) -> JSONResponse:
        if request.headers.get("authorization") != "Bearer t0ken-for-the-probe":
            return JSONResponse(
                {"error": {"message": "no", "type": "auth", "param": None, "code": None}}, 401
            )
        form = await request.form()
        image = form.get("image")
        scale = form.get("scale", "2")
        if (
            image is None
            or not hasattr(image, "read")
            or not str(scale).isdigit()
            or int(str(scale)) not in (2, 4)
        ):
            return JSONResponse(
                {"error": {"message": "bad", "type": "invalid", "param": None, "code": None}}, 400
            )
        data = base64.b64encode(_png(8, 8)).decode()
        return JSONResponse({"created": 1, "data": [{"b64_json": data}]})

    return Starlette(routes=[Route(f"/v1{NEW_PATH}", upscale, methods=["POST"])])


def main() -> int:
    from starlette.testclient import TestClient

    import imagegen
    from imagegen.client import ImagesClient
    from imagegen.conformance import SetupError, run_conformance
    from imagegen.contract import default_contract, violations
    from imagegen.contract.lint import lint
    from imagegen.server import ServerConfig, create_app, serve_app_in_background, serve_in_background

    seen: dict[str, Any] = {"imagegen": imagegen.__file__}
    contract = default_contract()
    seen["operations"] = [operation.name for operation in contract.operations]
    seen["lint"] = [str(problem) for problem in lint(contract)]
    generated = importlib.import_module(f"imagegen_api.api.images.{'create_image_upscale'}")
    seen["generated_endpoint"] = generated.__name__
    from imagegen_api.models import CreateImageRequest

    seen["generated_field"] = NEW_FIELD in CreateImageRequest.__annotations__
    seen["generated_round_trip"] = CreateImageRequest.from_dict({"prompt": "p", NEW_FIELD: 7}).to_dict()
    module = importlib.import_module("imagegen_api.models.create_image_request")
    seen["generated_source"] = Path(str(module.__file__)).read_text()
    params = importlib.import_module("imagegen.params")
    seen["typed_fields"] = sorted(params.CreateImageUpscaleFields.__optional_keys__)
    seen["typed_seed"] = NEW_FIELD in params.CreateImageFields.__optional_keys__
    seen["catalog_has_model"] = contract.catalog.get(NEW_MODEL) is not None
    seen["engine_ultra_for_new_model"] = [
        v.message
        for v in violations(
            "generations", {"model": NEW_MODEL, "quality": NEW_QUALITY}, catalog=contract.catalog
        )
    ]
    seen["engine_ultra_for_old_model"] = [
        v.message
        for v in violations(
            "generations", {"model": "gpt-image-1.5", "quality": NEW_QUALITY}, catalog=contract.catalog
        )
    ]
    seen["cli_contract"] = _cli("contract")
    seen["cli_generate_help"] = _cli("generate", "--help")
    seen["cli_models"] = _cli("models", NEW_MODEL)

    app = create_app(ServerConfig(auth=False))
    with TestClient(app) as http:
        not_implemented = http.post(f"/v1{NEW_PATH}", files={"image": ("a.png", _png(8, 8), "image/png")})
        seen["server_new_operation"] = [not_implemented.status_code, not_implemented.json()]
        body = {"prompt": "p", "model": NEW_MODEL, "quality": NEW_QUALITY, NEW_FIELD: 3}
        made = http.post("/v1/images/generations", json=body)
        seen["server_new_model"] = [made.status_code, made.json().get("quality")]
        refused = http.post("/v1/images/generations", json={**body, "model": "gpt-image-1.5"})
        seen["server_old_model"] = [refused.status_code, refused.json()["error"]["param"]]
    with (
        serve_in_background(ServerConfig(auth=False)) as url,
        ImagesClient(base_url=url, api_key="k") as client,
    ):
        result = client.generate("p", model=NEW_MODEL, quality=NEW_QUALITY, seed=3)  # type: ignore[call-arg]
        seen["client_generate"] = result.quality

    try:
        run_conformance(
            model=NEW_MODEL,
            app=create_app(ServerConfig(tokens=frozenset({"t0ken-for-the-probe"}))),
            token="t0ken-for-the-probe",
            operations=[NEW_OPERATION],
            max_examples=3,
        )
    except SetupError as error:
        seen["conformance_reference"] = str(error)
    outcome = run_conformance(
        model=NEW_MODEL,
        app=_upscaling_app(),
        token="t0ken-for-the-probe",
        operations=[NEW_OPERATION],
        max_examples=5,
    )
    operations = sorted({operation for operation, _, _ in outcome.checks})
    seen["conformance_upscaler"] = {
        "tested": outcome.tested,
        "checked": operations,
        "cases": outcome.cases,
        "findings": sorted({finding.check for finding in outcome.findings}),
    }
    with (
        serve_app_in_background(_upscaling_app()) as url,
        ImagesClient(base_url=url, api_key="t0ken-for-the-probe") as client,
    ):
        upscaled = client.request(
            NEW_OPERATION_ID, body={"model": NEW_MODEL, "scale": 4}, files={"image": _png(8, 8)}
        )
        seen["client_request"] = upscaled.images[0].size
    json.dump(seen, sys.stdout, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
