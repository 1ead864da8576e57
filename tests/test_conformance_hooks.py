"""Why each conformance hook exists: without it, a conforming server would get findings."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

import pytest
from PIL import Image
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation

import imagegen.conformance.hooks as hooks
from imagegen.conformance import run_conformance
from imagegen.conformance.narrowing import narrow_contract
from imagegen.contract import FormFile, RequestInvalid, RequestValidator, default_catalog, default_contract
from imagegen.server import ServerConfig, create_app

from .support.images import png_bytes

TOKEN = "sk-hooks-test-123"
DALL_E_2 = default_catalog().get("dall-e-2")


def conforming_app() -> Any:
    return create_app(ServerConfig(tokens=frozenset({TOKEN})))


def test_without_the_wire_check_multipart_type_mutations_look_like_accepted_invalid_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """schemathesis mutates a form's string field to a number and expects a rejection, but the
    number goes out as text: a valid string. The hook re-validates what was sent."""
    with_hook = run_conformance(
        model="dall-e-2",
        app=conforming_app(),
        token=TOKEN,
        max_examples=6,
        seed=7,
        operations=["variations"],
        phases=["fuzzing"],
    )
    monkeypatch.setattr(hooks, "_valid_as_sent", lambda *args: False)
    without_hook = run_conformance(
        model="dall-e-2",
        app=conforming_app(),
        token=TOKEN,
        max_examples=6,
        seed=7,
        operations=["variations"],
        phases=["fuzzing"],
    )

    assert with_hook.findings == []
    false_positives = [f for f in without_hook.findings if f.check == "negative_data_rejection"]
    assert false_positives, "the hook would not be needed"
    assert all(
        f.request is not None and "multipart/form-data" in str(f.request.headers) for f in false_positives
    )


def test_what_goes_on_the_wire_as_text_is_valid_again() -> None:
    narrowed = narrow_contract(default_contract(), "dall-e-2", DALL_E_2)
    validator = RequestValidator(narrowed)
    upload = FormFile("image", "image.png", "image/png", png_bytes(32, 32))
    # The prompt drawn as the number 123 (a type violation) is sent as the text "123".
    assert validator.check_form("CreateImageEditRequest", [("image", upload), ("prompt", "123")])
    with pytest.raises(RequestInvalid):  # a real violation stays one on the wire
        validator.check_form("CreateImageEditRequest", [("image", upload), ("prompt", "p"), ("n", "abc")])


def test_json_counts_1_0_as_an_integer() -> None:
    validator = RequestValidator(_contract())
    assert validator.check_json("CreateImageRequest", {"prompt": "p", "n": 1.0})


def fake_case(body: Any, headers: dict[str, str], header_mode: GenerationMode | None = None) -> Any:
    components = {ParameterLocation.HEADER: SimpleNamespace(mode=header_mode)} if header_mode else {}
    return SimpleNamespace(
        body=body,
        headers=headers,
        media_type="application/json",
        operation=SimpleNamespace(method="POST", path="/images/generations"),
        meta=SimpleNamespace(components=components),
    )


def test_a_reused_idempotency_key_is_made_distinct_per_body() -> None:
    """schemathesis reuses drawn keys ("0") across cases; a conforming server answers a reused key
    with a different body with 409, which hides every defect behind it."""
    first, second, again = (
        fake_case(body, {"Idempotency-Key": "0"}) for body in ({"n": 1}, {"n": 2}, {"n": 1})
    )
    sent: dict[str, int] = {}
    for case in (first, second, again):
        hooks.distinct_idempotency_key(case, sent)
    keys = [case.headers["Idempotency-Key"] for case in (first, second, again)]
    assert len(set(keys)) == 3  # sent again, a request gets its own key: a replay may be stale
    assert keys[2] == keys[0] + "-2"  # and repeatably so
    assert keys[0].startswith("0-")
    assert len(keys[0]) <= 255


def test_each_run_marks_its_keys() -> None:
    """Two runs against one server must not share keys: the second would get the first's answers."""
    first, second = (fake_case({"n": 1}, {"Idempotency-Key": "0"}) for _ in range(2))
    hooks.distinct_idempotency_key(first, {}, "run1-")
    hooks.distinct_idempotency_key(second, {}, "run2-")
    assert first.headers["Idempotency-Key"].startswith("0-run1-")
    assert first.headers["Idempotency-Key"].removeprefix("0-run1-") == second.headers[
        "Idempotency-Key"
    ].removeprefix("0-run2-")


def test_an_invalid_key_is_left_as_drawn() -> None:
    case = fake_case({"n": 1}, {"Idempotency-Key": ""}, header_mode=GenerationMode.NEGATIVE)
    hooks.distinct_idempotency_key(case)
    assert case.headers["Idempotency-Key"] == ""


def test_masks_are_redrawn_at_the_first_images_size() -> None:
    """Binary fields are drawn independently, so a drawn mask rarely matches its image; the server
    must refuse a mismatched mask, which would turn valid cases into failures."""
    from schemathesis.transport.serialization import Binary

    body = {"image[]": [Binary(png_bytes(80, 48))], "mask": Binary(png_bytes(32, 32)), "prompt": "p"}
    hooks.fit_masks(body, default_contract().upload_fields("CreateImageEditRequest"))
    mask = Image.open(io.BytesIO(body["mask"].data))
    assert (mask.size, mask.mode) == ((80, 48), "RGBA")
    assert mask.getchannel("A").getextrema() == (0, 255)


def test_json_edit_masks_are_redrawn_too() -> None:
    from imagegen.conformance.strategies import data_url

    body = {
        "images": [{"image_url": data_url(png_bytes(64, 48))}],
        "mask": {"image_url": data_url(png_bytes(8, 8))},
    }
    hooks.fit_masks(body, default_contract().upload_fields("CreateImageEditJsonRequest"))
    mask = Image.open(io.BytesIO(hooks._from_data_url(body["mask"]["image_url"])))
    assert mask.size == (64, 48)


def test_every_case_names_the_model() -> None:
    """Without a model, a server applies its default model's rules, not the narrowed ones."""
    narrowed = narrow_contract(default_contract(), "dall-e-3", default_catalog().get("dall-e-3"))
    schema = SimpleNamespace(hooks=SimpleNamespace(registered={}))
    schema.hooks.register_hook_with_name = lambda fn, name: schema.hooks.registered.__setitem__(name, fn)
    hooks.install_hooks(schema, default_contract(), "dall-e-3", narrowed)
    case = fake_case({"prompt": "p", "model": None}, {})
    schema.hooks.registered["map_case"](None, case)
    assert case.body["model"] == "dall-e-3"


def _contract() -> dict[str, Any]:
    from imagegen import load_contract

    return load_contract()
