"""The call surface typed from the contract: editors and mypy know every field, misspellings fail."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from imagegen import AsyncImagesClient, ContractError, ImagesClient
from imagegen.arguments import EDIT_FIELDS, GENERATE_FIELDS, OPERATION_OF, VARY_FIELDS
from imagegen.contract import default_contract

from .conftest import REFERENCE_TOKEN
from .support.images import png_bytes

ROOT = Path(__file__).resolve().parents[1]


def _answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200, json={"created": 1, "data": [{"b64_json": base64.b64encode(png_bytes(8, 8)).decode()}]}
    )


@pytest.mark.parametrize(
    ("method", "fields"), [("generate", GENERATE_FIELDS), ("edit", EDIT_FIELDS), ("vary", VARY_FIELDS)]
)
def test_each_method_takes_every_optional_field_of_its_operation(method: str, fields: frozenset[str]) -> None:
    contract = default_contract()
    expected = {
        field.name
        for field in contract.request_fields(OPERATION_OF[method])
        if not (field.required or field.upload or field.binary or field.name == "stream")
    }
    assert fields == expected
    assert expected  # the contract has optional fields for every operation


def test_a_misspelled_field_is_a_type_error_naming_the_closest_and_extra_body() -> None:
    sent: list[httpx.Request] = []
    with (
        ImagesClient(
            base_url="http://x/v1", api_key="k", transport=httpx.MockTransport(sent.append)
        ) as client,
        pytest.raises(TypeError) as raised,
    ):
        client.generate("x", qualty="low")  # type: ignore[call-arg]
    message = str(raised.value)
    assert "unexpected keyword argument 'qualty'" in message
    assert "Did you mean 'quality'?" in message
    assert "extra_body={'qualty': ...}" in message
    assert sent == []  # nothing went out


def test_extra_body_sends_what_the_contract_does_not_list() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return _answer(request)

    with ImagesClient(base_url="http://x/v1", api_key="k", transport=httpx.MockTransport(handler)) as client:
        client.generate("x", model="sd-1.5-ggml", quality="xhigh", extra_body={"seed": 42})
    assert json.loads(sent[0].content) == {
        "prompt": "x",
        "model": "sd-1.5-ggml",
        "quality": "xhigh",
        "seed": 42,
    }


def test_the_async_client_refuses_unknown_keywords_too() -> None:
    async def vary() -> None:
        async with AsyncImagesClient(base_url="http://x/v1", api_key="k") as client:
            await client.vary(png_bytes(8, 8), sise="256x256")  # type: ignore[call-arg]

    with pytest.raises(TypeError, match="Did you mean 'size'"):
        asyncio.run(vary())


def test_mypy_knows_the_fields_of_every_method(tmp_path: Path) -> None:
    user_code = tmp_path / "user_code.py"
    user_code.write_text(
        textwrap.dedent(
            """\
            from imagegen import ImagesClient

            def use(client: ImagesClient) -> None:
                client.generate("x", model="dall-e-3", n=1, size="1024x1024", quality="hd", style="natural")
                client.generate("x", quality="xhigh", extra_body={"seed": 1}, timeout=5.0)
                client.edit("a.png", "hat", mask="m.png", input_fidelity="high", output_format="webp")
                client.vary("a.png", n=2, response_format="b64_json")
                client.generate("x", qualty="low")
                client.vary("a.png", style="vivid")
                client.generate("x", n="2")
            """
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(user_code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    by_line: dict[int, str] = {}
    for line in errors:
        by_line[int(line.split(":")[1])] = by_line.get(int(line.split(":")[1]), "") + line
    assert set(by_line) == {8, 9, 10}, done.stdout + done.stderr  # the correct calls pass
    assert 'Unexpected keyword argument "qualty"' in by_line[8]
    assert 'did you mean "quality"' in by_line[8]
    assert 'Unexpected keyword argument "style" for "vary"' in by_line[9]


def test_any_operation_can_be_called_by_its_id(reference_url: str) -> None:
    with ImagesClient(base_url=reference_url, api_key=REFERENCE_TOKEN, max_retries=0) as client:
        result = client.request(
            "createImageVariation",
            body={"model": "dall-e-2", "n": 2, "size": "256x256", "response_format": "b64_json"},
            files={"image": png_bytes(64, 64)},
        )
        generated = client.request(
            "generations",
            body={"prompt": "Otter", "model": "dall-e-2", "size": "256x256", "response_format": "b64_json"},
        )
    assert [image.size for image in result.images] == [(256, 256), (256, 256)]
    assert result.body["data"][0]["b64_json"]
    assert generated.images[0].size == (256, 256)


def test_an_operation_the_contract_does_not_have_is_refused_by_name() -> None:
    with ImagesClient(base_url="http://x/v1", api_key="k") as client, pytest.raises(ContractError) as raised:
        client.request("upscale", body={})
    assert "has no operation 'upscale'; it has generations, edits, variations" in str(raised.value)


def test_request_applies_the_model_rules_too() -> None:
    from imagegen import RequestRulesError

    with (
        ImagesClient(base_url="http://x/v1", api_key="k") as client,
        pytest.raises(RequestRulesError, match="n up to 1"),
    ):
        client.request("createImage", body={"prompt": "x", "model": "dall-e-3", "n": 2})


def test_the_memo_of_passed_checks_never_hides_a_broken_rule() -> None:
    from imagegen import RequestRulesError
    from imagegen.checks import check_request

    catalog = default_contract().catalog
    good = {"prompt": "p", "model": "dall-e-3", "n": 1}
    for _ in range(2):  # the second time from the memo
        check_request("generations", good, catalog=catalog)
    for bad in ({**good, "n": 2}, {**good, "size": "256x256"}, {**good, "prompt": "x" * 4001}):
        with pytest.raises(RequestRulesError):
            check_request("generations", bad, catalog=catalog)
