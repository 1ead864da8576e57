"""The reference server over loopback: answers, model rules, limits, auth, idempotency, faults."""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from imagegen.server import Limits, ServerConfig, serve_in_background

from .conftest import REFERENCE_TOKEN
from .support.images import jpeg_bytes, mask_bytes, png_bytes

TOKEN = REFERENCE_TOKEN  # the shared server's (tests/conftest.py)
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def base_url(reference_url: str) -> str:
    """The session's reference server (token, faults on, sd-1.5-ggml): tests/conftest.py."""
    return reference_url


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, headers=AUTH, timeout=60) as client:
        yield client


def generate(http: httpx.Client, **body: Any) -> httpx.Response:
    return http.post("/images/generations", json={"prompt": "Yellow alpaca", **body})


def decode(b64: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(b64)))


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"message", "type", "param", "code"}, body
    error: dict[str, Any] = body["error"]
    return error


def png_file(name: str, data: bytes) -> tuple[str, tuple[str, bytes, str]]:
    return (name, (f"{name.strip('[]')}.png", data, "image/png"))


# ---- answers -------------------------------------------------------------------------------------


def test_gpt_generation_answers_base64_of_the_requested_size_format_and_settings(http: httpx.Client) -> None:
    answer = generate(http, model="gpt-image-1.5", size="1536x1024", output_format="webp", quality="low", n=2)

    assert answer.status_code == 200
    body = answer.json()
    assert {k: body[k] for k in ("background", "output_format", "quality", "size")} == {
        "background": "opaque",
        "output_format": "webp",
        "quality": "low",
        "size": "1536x1024",
    }
    images = [decode(item["b64_json"]) for item in body["data"]]
    assert [(image.format, image.size) for image in images] == [("WEBP", (1536, 1024))] * 2
    assert images[0].tobytes() != images[1].tobytes()
    usage = body["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"] > 0
    assert isinstance(body["created"], int)
    assert answer.headers["x-request-id"].startswith("req_")


def test_the_same_request_gives_the_same_bytes(http: httpx.Client) -> None:
    first = generate(http, model="gpt-image-1", size="1024x1024").json()["data"][0]["b64_json"]
    second = generate(http, model="gpt-image-1", size="1024x1024").json()["data"][0]["b64_json"]
    other = generate(http, model="gpt-image-1", size="1024x1024", prompt="Blue whale").json()["data"][0][
        "b64_json"
    ]
    assert first == second
    assert first != other


def test_dall_e_answers_urls_served_by_the_server_with_a_revised_prompt(http: httpx.Client) -> None:
    answer = generate(http, model="dall-e-3", size="1792x1024")

    body = answer.json()
    assert "usage" not in body
    assert "output_format" not in body
    [item] = body["data"]
    assert item["revised_prompt"].startswith("Yellow alpaca")
    assert item["url"].startswith(str(http.base_url).rstrip("/") + "/images/files/")
    download = httpx.get(item["url"])  # no token: result URLs are pre-signed, like the real API's
    assert download.status_code == 200
    assert download.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(download.content)).size == (1792, 1024)


def test_expired_urls_answer_404_in_the_envelope() -> None:
    with serve_in_background(ServerConfig(auth=False, url_ttl_s=0.2)) as url:
        answer = httpx.post(f"{url}/images/generations", json={"prompt": "p", "size": "256x256"})
        image_url = answer.json()["data"][0]["url"]
        assert httpx.get(image_url).status_code == 200
        time.sleep(0.3)
        expired = httpx.get(image_url)
    assert expired.status_code == 404
    assert error_of(expired)["code"] == "image_not_found"


def test_transparent_background_has_a_real_alpha_channel(http: httpx.Client) -> None:
    body = generate(http, model="gpt-image-1", background="transparent", output_format="png").json()
    image = decode(body["data"][0]["b64_json"])
    assert body["background"] == "transparent"
    assert image.mode == "RGBA"
    low, high = image.getchannel("A").getextrema()
    assert (low, high) == (0, 255)


def test_output_compression_shrinks_jpeg(http: httpx.Client) -> None:
    def size(compression: int) -> int:
        body = generate(
            http, model="gpt-image-1", output_format="jpeg", output_compression=compression
        ).json()
        return len(base64.b64decode(body["data"][0]["b64_json"]))

    assert size(10) < size(100) * 0.6


def test_the_seed_example_works_with_a_declared_localai_model(http: httpx.Client) -> None:
    answer = generate(http, model="sd-1.5-ggml", n=1, size="64x64")

    assert answer.status_code == 200
    url = answer.json()["data"][0]["url"]
    assert Image.open(io.BytesIO(httpx.get(url).content)).size == (64, 64)


# ---- edits and variations ------------------------------------------------------------------------


def test_multipart_edit_keeps_unmasked_pixels_and_uses_every_image(http: httpx.Client) -> None:
    first = png_bytes(64, 64, (200, 40, 40, 255))
    second = png_bytes(64, 64, (40, 200, 40, 255))
    files = [png_file("image[]", first), png_file("image[]", second), png_file("mask", mask_bytes(64, 64))]

    answer = http.post(
        "/images/edits",
        files=files,
        data={"prompt": "a basket", "model": "gpt-image-1.5", "size": "1024x1024"},
    )

    assert answer.status_code == 200, answer.text
    image = decode(answer.json()["data"][0]["b64_json"]).convert("RGBA")
    assert image.size == (1024, 1024)
    assert image.getpixel((1000, 500)) == (200, 40, 40, 255)  # right half: mask opaque, kept
    assert image.getpixel((10, 500)) != (200, 40, 40, 255)  # left half: mask transparent, repainted
    assert answer.json()["usage"]["input_tokens_details"]["image_tokens"] > 0


def test_a_single_image_part_is_accepted(http: httpx.Client) -> None:
    files = [png_file("image", png_bytes(256, 256))]
    answer = http.post(
        "/images/edits", files=files, data={"prompt": "p", "model": "dall-e-2", "size": "256x256"}
    )
    assert answer.status_code == 200, answer.text
    assert "url" in answer.json()["data"][0]


def test_json_edit_takes_data_urls(http: httpx.Client) -> None:
    data_url = "data:image/png;base64," + base64.b64encode(png_bytes(32, 32)).decode()
    answer = http.post(
        "/images/edits", json={"prompt": "p", "model": "gpt-image-1", "images": [{"image_url": data_url}]}
    )
    assert answer.status_code == 200, answer.text
    assert decode(answer.json()["data"][0]["b64_json"]).size == (1024, 1024)


@pytest.mark.parametrize(
    ("reference", "param", "code"),
    [
        ({"image_url": "https://example.com/a.png"}, "images[0].image_url", "url_fetch_disabled"),
        ({"file_id": "file-123"}, "images[0].file_id", "file_not_found"),
    ],
)
def test_json_edit_refuses_references_it_cannot_resolve(
    http: httpx.Client, reference: dict[str, str], param: str, code: str | None
) -> None:
    answer = http.post("/images/edits", json={"prompt": "p", "images": [reference]})
    assert answer.status_code == 400
    assert (error_of(answer)["param"], error_of(answer)["code"]) == (param, code)


def test_variations_derive_from_the_input(http: httpx.Client) -> None:
    source = png_bytes(256, 256, (30, 60, 200, 255))
    answer = http.post(
        "/images/variations",
        files=[png_file("image", source)],
        data={"n": "2", "size": "256x256", "response_format": "b64_json"},
    )
    assert answer.status_code == 200, answer.text
    images = [decode(item["b64_json"]).convert("RGB") for item in answer.json()["data"]]
    assert [image.size for image in images] == [(256, 256)] * 2
    assert images[0].tobytes() != images[1].tobytes()


# ---- model rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "param", "message"),
    [
        ({"model": "dall-e-9"}, "model", "The model 'dall-e-9' does not exist on this server."),
        ({"model": "dall-e-3", "size": "256x256"}, "size", "dall-e-3 does not take size=256x256; it takes"),
        ({"model": "dall-e-3", "n": 2}, "n", "dall-e-3 takes n up to 1; n was 2."),
        ({"model": "gpt-image-1", "style": "vivid"}, "style", "gpt-image-1 does not take 'style'"),
        (
            {"model": "gpt-image-1", "response_format": "url"},
            "response_format",
            "(it always uses b64_json); leave it out",
        ),
        ({"model": "dall-e-2", "stream": True}, "stream", "dall-e-2 does not take stream=true"),
        ({"model": "dall-e-2", "quality": "hd"}, "quality", "dall-e-2 does not take quality=hd"),
        ({"model": "gpt-image-2", "size": "1000x1000"}, "size", "must be multiples of 16"),
        ({"model": "gpt-image-2", "size": "3840x1248"}, "size", "aspect ratio must be at most 3:1"),
        (
            {"model": "gpt-image-1", "background": "transparent", "output_format": "jpeg"},
            "background",
            "png or webp",
        ),
        ({"model": "dall-e-2", "prompt": "x" * 1001}, "prompt", "dall-e-2 takes at most 1000"),
        ({"n": 11}, "n", "Invalid 'n': 11 is greater than the maximum of 10."),
        ({"quality": "xhigh"}, "quality", "Invalid 'quality'"),
        ({"prompt": None}, "prompt", "Invalid 'prompt'"),
    ],
)
def test_each_model_rule_is_a_400_naming_the_param(
    http: httpx.Client, body: dict[str, Any], param: str, message: str
) -> None:
    answer = generate(http, **body)

    assert answer.status_code == 400
    error = error_of(answer)
    assert (error["type"], error["param"]) == ("invalid_request_error", param)
    assert message in error["message"]


def test_a_rule_holds_for_the_operations_that_declare_its_field(http: httpx.Client) -> None:
    data_url = "data:image/png;base64," + base64.b64encode(png_bytes(32, 32)).decode()
    edit = {"prompt": "p", "model": "gpt-image-1-mini", "images": [{"image_url": data_url}]}
    refused = http.post("/images/edits", json={**edit, "input_fidelity": "high"})
    assert refused.status_code == 400
    assert error_of(refused)["param"] == "input_fidelity"
    assert "does not take 'input_fidelity'" in error_of(refused)["message"]
    # Generations have no input_fidelity: the schema takes unknown fields, so it is ignored there.
    ignored = generate(http, model="gpt-image-1-mini", input_fidelity="high")
    assert ignored.status_code == 200, ignored.text


def test_gpt_image_2_takes_sizes_by_its_rule(http: httpx.Client) -> None:
    answer = generate(http, model="gpt-image-2-2026-04-21", size="1536x864", quality="low")
    assert answer.status_code == 200, answer.text
    assert decode(answer.json()["data"][0]["b64_json"]).size == (1536, 864)


def test_variations_on_a_model_that_cannot_vary(http: httpx.Client) -> None:
    answer = http.post(
        "/images/variations", files=[png_file("image", png_bytes(64, 64))], data={"model": "gpt-image-1"}
    )
    assert answer.status_code == 400
    assert error_of(answer)["param"] == "model"
    assert "gpt-image-1 does not serve variations; models that do: dall-e-2" in error_of(answer)["message"]


# ---- uploads and limits -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "data", "param", "message"),
    [
        (
            [("image[]", ("a.png", b"not an image at all", "image/png"))],
            {},
            "image[]",
            "is not a PNG, JPEG or WebP",
        ),
        (
            [("image[]", ("a.png", jpeg_bytes(), "image/png"))],
            {},
            "image[]",
            "declared as image/png but its bytes are JPEG",
        ),
        (
            [png_file("image[]", png_bytes(64, 64)), png_file("mask", mask_bytes(32, 32))],
            {},
            "mask",
            "a mask must be the size of the first image",
        ),
        (
            [png_file("image[]", png_bytes(64, 64)), ("mask", ("m.jpg", jpeg_bytes(64, 64), "image/jpeg"))],
            {},
            "mask",
            "but a mask must be a PNG",
        ),
        (
            [png_file("image", png_bytes(64, 32))],
            {"model": "dall-e-2"},
            "image",
            "dall-e-2 takes square images only",
        ),
        (
            [("image", ("a.jpg", jpeg_bytes(), "image/jpeg"))],
            {"model": "dall-e-2"},
            "image",
            "dall-e-2 takes PNG images only",
        ),
        (
            [png_file("image[]", png_bytes(32, 32))] * 2,
            {"model": "dall-e-2"},
            "image[]",
            "dall-e-2 takes at most 1 image per request and 2 were given",
        ),
        ([png_file("prompt", png_bytes(8, 8))], {}, "prompt", "must be a text field"),
    ],
)
def test_bad_uploads_are_400s_naming_the_file_and_rule(
    http: httpx.Client, files: list[Any], data: dict[str, str], param: str, message: str
) -> None:
    fields = data if any(name == "prompt" for name, _ in files) else {"prompt": "p", **data}
    answer = http.post("/images/edits", files=files, data=fields)
    assert answer.status_code == 400, answer.text
    error = error_of(answer)
    assert error["param"] == param
    assert message in error["message"]


def test_an_edit_without_any_image_is_refused(http: httpx.Client) -> None:
    body = b'--b\r\nContent-Disposition: form-data; name="prompt"\r\n\r\np\r\n--b--\r\n'
    answer = http.post(
        "/images/edits", content=body, headers={"content-type": "multipart/form-data; boundary=b"}
    )
    assert answer.status_code == 400
    assert error_of(answer)["message"] == "Missing required parameter: give 'image[]' or 'image'."


def test_a_mask_without_alpha_is_refused(http: httpx.Client) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(buffer, format="PNG")
    files = [png_file("image[]", png_bytes(64, 64)), png_file("mask", buffer.getvalue())]
    answer = http.post("/images/edits", files=files, data={"prompt": "p"})
    assert answer.status_code == 400
    assert error_of(answer)["param"] == "mask"
    assert "alpha channel" in error_of(answer)["message"]


def test_limits_on_body_files_pixels_and_prompt() -> None:
    limits = Limits(max_body_bytes=200_000, max_files=2, max_input_pixels=100 * 100, max_prompt_chars=50)
    with (
        serve_in_background(ServerConfig(auth=False, limits=limits)) as url,
        httpx.Client(base_url=url) as http,
    ):
        big = http.post("/images/generations", json={"prompt": "p" * 300_000})
        too_many = http.post(
            "/images/edits", files=[png_file("image[]", png_bytes(8, 8))] * 3, data={"prompt": "p"}
        )
        huge = http.post(
            "/images/edits", files=[png_file("image[]", png_bytes(200, 200))], data={"prompt": "p"}
        )
        long_prompt = http.post("/images/generations", json={"prompt": "p" * 51})
    assert (big.status_code, error_of(big)["code"]) == (413, "body_too_large")
    assert too_many.status_code == 400
    assert "Too many files" in error_of(too_many)["message"]
    assert (huge.status_code, error_of(huge)["code"], error_of(huge)["param"]) == (
        400,
        "image_too_large",
        "image[]",
    )
    assert (long_prompt.status_code, error_of(long_prompt)["param"]) == (400, "prompt")


def test_wrong_content_types_and_unreadable_bodies(http: httpx.Client) -> None:
    as_text = http.post("/images/generations", content=b"prompt=p", headers={"content-type": "text/plain"})
    broken_json = http.post(
        "/images/generations", content=b'{"prompt": ', headers={"content-type": "application/json"}
    )
    json_variation = http.post("/images/variations", json={"image": "x"})
    assert (as_text.status_code, error_of(as_text)["code"]) == (415, "unsupported_media_type")
    assert (broken_json.status_code, error_of(broken_json)["code"]) == (422, "invalid_json")
    assert json_variation.status_code == 415
    assert "multipart/form-data" in error_of(json_variation)["message"]


# ---- auth ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_api_key"),
        ({"Authorization": "Bearer sk-wrong"}, "invalid_api_key"),
        ({"Authorization": f"Basic {TOKEN}"}, "missing_api_key"),
    ],
)
def test_auth_failures_are_401s_that_never_echo_the_token(
    base_url: str, headers: dict[str, str], code: str
) -> None:
    answer = httpx.post(f"{base_url}/images/generations", json={"prompt": "p"}, headers=headers)
    assert answer.status_code == 401
    assert (error_of(answer)["type"], error_of(answer)["code"]) == ("authentication_error", code)
    assert "sk-wrong" not in answer.text
    assert TOKEN not in answer.text


def test_tokens_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from imagegen.server import tokens_from_env

    assert tokens_from_env({"IMAGEGEN_SERVER_TOKENS": " a, b ,,"}) == frozenset({"a", "b"})


# ---- idempotency --------------------------------------------------------------------------------


def test_a_repeated_idempotency_key_replays_the_first_answer(http: httpx.Client) -> None:
    headers = {"Idempotency-Key": f"key-{time.monotonic_ns()}"}
    body = {"prompt": "Yellow alpaca", "model": "dall-e-2", "size": "256x256"}
    first = http.post("/images/generations", json=body, headers=headers)
    again = http.post("/images/generations", json=body, headers=headers)
    without_key = http.post("/images/generations", json=body)
    different = http.post("/images/generations", json={**body, "n": 2}, headers=headers)

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()  # the same URL: nothing was generated again
    assert without_key.json()["data"] != first.json()["data"]
    assert different.status_code == 409
    assert (error_of(different)["code"], error_of(different)["param"]) == (
        "idempotency_key_reused",
        "Idempotency-Key",
    )


def test_idempotency_holds_for_a_multipart_body_built_again() -> None:
    with serve_in_background(ServerConfig(auth=False)) as url:
        headers = {"Idempotency-Key": "edit-1"}
        form = {"prompt": "p", "model": "dall-e-2", "size": "256x256"}
        files = [png_file("image", png_bytes(64, 64))]
        first = httpx.post(f"{url}/images/edits", files=files, data=form, headers=headers)
        again = httpx.post(f"{url}/images/edits", files=files, data=form, headers=headers)  # a new boundary
    assert first.status_code == 200
    assert again.json() == first.json()


def test_the_idempotency_window_ends() -> None:
    with serve_in_background(ServerConfig(auth=False, idempotency_window_s=0.2)) as url:
        post = {"json": {"prompt": "p", "size": "256x256"}, "headers": {"Idempotency-Key": "k"}}
        first = httpx.post(f"{url}/images/generations", **post)  # type: ignore[arg-type]
        time.sleep(0.3)
        later = httpx.post(f"{url}/images/generations", **post)  # type: ignore[arg-type]
    assert first.json()["data"] != later.json()["data"]


# ---- faults -------------------------------------------------------------------------------------


def fault(value: str) -> dict[str, str]:
    return {"X-Imagegen-Fault": f"{value}; id={time.monotonic_ns()}"}


def test_a_fault_answers_n_times_then_the_request_succeeds(http: httpx.Client) -> None:
    headers = fault("status=503; times=2; retry-after=1; retry-after-ms=1500")
    answers = [
        http.post("/images/generations", json={"prompt": "p", "size": "256x256"}, headers=headers)
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [503, 503, 200]
    assert answers[0].headers["retry-after"] == "1"
    assert answers[0].headers["retry-after-ms"] == "1500"
    assert error_of(answers[0]) == {
        "message": f"Injected fault ({headers['X-Imagegen-Fault']}).",
        "type": "server_error",
        "param": None,
        "code": "injected_fault",
    }


def test_a_fault_every_k_requests_strikes_the_kth_ones_up_to_times(http: httpx.Client) -> None:
    headers = fault("status=429; every=3; times=2")
    codes = [
        http.post("/images/generations", json={"prompt": "p", "size": "256x256"}, headers=headers).status_code
        for _ in range(9)
    ]
    assert codes == [200, 200, 429, 200, 200, 429, 200, 200, 200]
    refused = http.post("/images/generations", json={"prompt": "p"}, headers=fault("status=429; every=0"))
    assert refused.status_code == 400
    assert "every must be at least 1" in error_of(refused)["message"]


@pytest.mark.parametrize(
    ("status", "kind"), [(429, "rate_limit_error"), (500, "server_error"), (400, "invalid_request_error")]
)
def test_faults_use_the_status_and_its_error_type(http: httpx.Client, status: int, kind: str) -> None:
    headers = fault(f"status={status}; retry-after=2")
    answer = http.post("/images/generations", json={"prompt": "p"}, headers=headers)
    assert answer.status_code == status
    assert error_of(answer)["type"] == kind


def test_latency_fault_delays_the_answer(http: httpx.Client) -> None:
    started = time.monotonic()
    answer = http.post(
        "/images/generations", json={"prompt": "p", "size": "256x256"}, headers=fault("latency=0.5")
    )
    assert answer.status_code == 200
    assert time.monotonic() - started >= 0.5


def test_drop_fault_closes_the_connection_without_a_body(http: httpx.Client) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        http.post("/images/generations", json={"prompt": "p"}, headers=fault("drop"))


def test_malformed_fault_answers_broken_json(http: httpx.Client) -> None:
    answer = http.post("/images/generations", json={"prompt": "p"}, headers=fault("malformed"))
    assert answer.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        answer.json()


def test_truncate_fault_cuts_a_stream_mid_event(http: httpx.Client) -> None:
    body = {"prompt": "p", "model": "gpt-image-1", "stream": True, "partial_images": 2, "quality": "low"}
    answer = http.post("/images/generations", json=body, headers=fault("truncate=1"))
    assert answer.status_code == 200
    frames = answer.text.split("\n\n")
    assert frames[0].startswith("event: image_generation.partial_image")
    assert frames[-1] != ""
    assert not frames[-1].endswith("}")
    assert "image_generation.completed" not in answer.text


def test_faults_are_ignored_unless_enabled() -> None:
    with serve_in_background(ServerConfig(auth=False)) as url:
        answer = httpx.post(
            f"{url}/images/generations",
            json={"prompt": "p", "size": "256x256"},
            headers={"X-Imagegen-Fault": "status=500"},
        )
    assert answer.status_code == 200


def test_a_malformed_fault_header_is_a_400(http: httpx.Client) -> None:
    answer = http.post(
        "/images/generations", json={"prompt": "p"}, headers={"X-Imagegen-Fault": "explode=yes"}
    )
    assert answer.status_code == 400
    assert error_of(answer)["param"] == "X-Imagegen-Fault"


def test_route_faults_strike_every_request_of_an_operation() -> None:
    config = ServerConfig(
        auth=False, faults_enabled=True, route_faults={"variations": "status=429; times=100"}
    )
    with serve_in_background(config) as url:
        variation = httpx.post(f"{url}/images/variations", files=[png_file("image", png_bytes(64, 64))])
        generation = httpx.post(f"{url}/images/generations", json={"prompt": "p", "size": "256x256"})
    assert variation.status_code == 429
    assert generation.status_code == 200


# ---- streaming ----------------------------------------------------------------------------------


def events_of(answer: httpx.Response) -> list[dict[str, Any]]:
    events = []
    for frame in answer.text.strip().split("\n\n"):
        name, data = frame.split("\n")
        event = json.loads(data.removeprefix("data: "))
        assert name == f"event: {event['type']}"
        events.append(event)
    return events


def test_streams_send_partials_of_increasing_detail_then_the_completed_image(http: httpx.Client) -> None:
    body = {"prompt": "p", "model": "gpt-image-1", "stream": True, "partial_images": 3, "size": "1024x1536"}
    answer = http.post("/images/generations", json=body)

    assert answer.headers["content-type"].startswith("text/event-stream")
    events = events_of(answer)
    assert [(e["type"], e.get("partial_image_index")) for e in events] == [
        ("image_generation.partial_image", 0),
        ("image_generation.partial_image", 1),
        ("image_generation.partial_image", 2),
        ("image_generation.completed", None),
    ]
    images = [decode(e["b64_json"]) for e in events]
    assert {image.size for image in images} == {(1024, 1536)}
    assert len({image.tobytes() for image in images}) == 4
    final = events[-1]
    assert final["usage"]["output_tokens"] > 0
    assert (final["size"], final["quality"], final["background"], final["output_format"]) == (
        "1024x1536",
        "medium",
        "opaque",
        "png",
    )


def test_edit_streams_use_edit_event_names_and_n_completed_events(http: httpx.Client) -> None:
    files = [png_file("image[]", png_bytes(64, 64))]
    data = {"prompt": "p", "model": "gpt-image-1", "stream": "true", "n": "2", "quality": "low"}
    events = events_of(http.post("/images/edits", files=files, data=data))
    assert [e["type"] for e in events] == ["image_edit.completed", "image_edit.completed"]


# ---- operations ---------------------------------------------------------------------------------


def test_health_and_unknown_routes(base_url: str) -> None:
    root = base_url.removesuffix("/v1")
    assert httpx.get(f"{root}/health").json() == {"status": "ok"}
    unknown = httpx.get(f"{base_url}/images/nothing")
    assert unknown.status_code == 404
    assert "Unknown route GET /v1/images/nothing" in error_of(unknown)["message"]
    wrong_method = httpx.get(f"{base_url}/images/edits")
    assert (wrong_method.status_code, wrong_method.headers["allow"]) == (405, "POST")
    # A path with several operations names them all, as a 405 must.
    put = httpx.put(f"{base_url}/files")
    assert put.status_code == 405
    assert set(put.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
    assert error_of(put)["message"] == "PUT is not allowed on /v1/files."
