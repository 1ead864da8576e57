"""Per-model rules (x-imagegen-models) and the one engine that applies them.

Tests about "everything in the contract" read the contract (its models, its schema, the
official spec's model lists); tests that pin behaviour (dall-e-3 makes one image) pin it.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from imagegen import CustomSizes, ModelRules, RulesError, catalog_from, default_catalog, parse_size
from imagegen.contract import UploadFacts, default_contract, model_from, models_schema, violations
from imagegen.contract.lint import lint

from .support.contract import load_yaml_contract

ROOT = Path(__file__).resolve().parents[1]
DOC = load_yaml_contract()
CATALOG = default_catalog()


def rules(name: str) -> ModelRules:
    found = CATALOG.get(name)
    assert found is not None, name
    return found


def messages(operation: str, body: dict[str, Any], **options: Any) -> list[str]:
    return [v.message for v in violations(operation, body, catalog=CATALOG, **options)]


# ---- the data ---------------------------------------------------------------------------------


def test_the_models_have_the_shape_their_schema_describes() -> None:
    schema = yaml.safe_load((ROOT / "openapi" / "models.schema.yaml").read_text())
    assert schema == models_schema()  # the packaged copy is the file's
    validator = jsonschema.Draft202012Validator(schema)
    errors = [error.message for error in validator.iter_errors(DOC["x-imagegen-models"])]
    assert errors == []


def test_the_contract_is_consistent() -> None:
    assert [str(problem) for problem in lint(default_contract())] == []


def test_a_rule_for_a_field_no_request_has_is_an_error() -> None:
    document = copy.deepcopy(DOC)
    document["x-imagegen-models"]["models"]["dall-e-3"]["fields"]["qualty"] = {"values": ["hd"]}
    from imagegen.contract import Contract

    problems = [str(p) for p in lint(Contract(document))]
    assert problems == [
        "error: x-imagegen-models.models.dall-e-3.fields.qualty: "
        "no request of the contract has a field 'qualty'"
    ]


def test_a_value_the_contract_does_not_allow_is_an_error() -> None:
    from imagegen.contract import Contract

    document = copy.deepcopy(DOC)
    document["x-imagegen-models"]["models"]["dall-e-3"]["fields"]["quality"] = {
        "values": ["hd", "no-such-quality"]
    }
    assert any(
        "'no-such-quality' is not a value the contract allows" in str(p) for p in lint(Contract(document))
    )


def test_every_model_the_official_spec_names_has_rules() -> None:
    from .support.official_style import OFFICIAL_MODELS

    for operation_id, bodies in OFFICIAL_MODELS.items():
        operation = default_contract().operation(operation_id).name
        for name in {model for models in bodies.values() for model in models}:
            model = CATALOG.get(name)
            assert model is not None, f"{name} has no rules"
            assert model.supports(operation), f"{name} does not serve {operation}"


@pytest.mark.parametrize(
    ("name", "facts"),
    [
        ("dall-e-2", {"operations": ("generations", "edits", "variations"), "retired_upstream": "2026"}),
        ("dall-e-3", {"operations": ("generations",), "revised_prompt": True, "retired_upstream": "2026"}),
        ("gpt-image-1", {"usage": True, "retired_upstream": None}),
        ("gpt-image-2-2026-04-21", {"name": "gpt-image-2"}),
        ("chatgpt-image-latest", {"operations": ("edits",), "usage": True}),
    ],
)
def test_models_have_the_documented_facts(name: str, facts: dict[str, Any]) -> None:
    model = rules(name)
    assert {key: getattr(model, key) for key in facts} == facts


@pytest.mark.parametrize(
    ("name", "field", "values", "default"),
    [
        ("dall-e-2", "size", ("256x256", "512x512", "1024x1024"), "1024x1024"),
        ("dall-e-3", "size", ("1024x1024", "1792x1024", "1024x1792"), "1024x1024"),
        ("dall-e-3", "style", ("vivid", "natural"), "vivid"),
        ("dall-e-3", "response_format", ("url", "b64_json"), "url"),
        ("gpt-image-1.5", "response_format", (), "b64_json"),
        ("gpt-image-1.5", "output_format", ("png", "jpeg", "webp"), "png"),
        ("gpt-image-1-mini", "input_fidelity", (), None),
        ("gpt-image-1", "input_fidelity", None, None),
    ],
)
def test_values_and_defaults(name: str, field: str, values: Any, default: Any) -> None:
    assert (rules(name).values(field), rules(name).default(field)) == (values, default)


def test_upload_limits() -> None:
    dalle, gpt = rules("dall-e-2").upload("image"), rules("gpt-image-1.5").upload("image")
    assert dalle is not None
    assert gpt is not None
    assert (dalle.formats, dalle.max_bytes, dalle.max_count, dalle.square) == (("png",), 4 << 20, 1, True)
    assert (gpt.max_bytes, gpt.max_count, set(gpt.formats)) == (50 << 20, 16, {"png", "jpeg", "webp"})


def test_default_models_per_operation() -> None:
    defaults = {op: CATALOG.default_for(op) for op in ("generations", "edits", "variations")}
    assert {op: model.name for op, model in defaults.items() if model} == {
        "generations": "dall-e-2",
        "edits": "gpt-image-1.5",
        "variations": "dall-e-2",
    }


# ---- the engine ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "ok"),
    [
        ("1024x1024", True),
        ("auto", True),
        ("1536x864", True),
        ("3840x2160", True),
        ("2160x3840", True),
        ("1000x1000", False),  # not multiples of 16
        ("3840x1248", False),  # ratio above 3:1
        ("3856x2160", False),  # side above 3840
        ("3840x2176", False),  # more pixels than 3840x2160
        ("big", False),
    ],
)
def test_gpt_image_2_sizes_follow_its_rule(size: str, ok: bool) -> None:
    reason = rules("gpt-image-2").why_size_not(size)
    assert (reason is None) is ok, reason


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"model": "dall-e-3", "n": 2}, ["dall-e-3 takes n up to 1; n was 2."]),
        (
            {"model": "dall-e-3", "size": "256x256"},
            ["dall-e-3 does not take size=256x256; it takes 1024x1024, 1792x1024, 1024x1792."],
        ),
        (
            {"model": "gpt-image-2", "size": "1000x1000"},
            ["gpt-image-2 does not take size 1000x1000: width and height must be multiples of 16."],
        ),
        (
            {"model": "gpt-image-1.5", "response_format": "url"},
            ["gpt-image-1.5 does not take 'response_format' (it always uses b64_json); leave it out."],
        ),
        ({"model": "dall-e-2", "style": "vivid"}, ["dall-e-2 does not take 'style'; leave it out."]),
        ({"model": "dall-e-2", "stream": True}, ["dall-e-2 does not take stream=true; it takes false."]),
        ({"model": "dall-e-2", "stream": False}, []),
        (
            {"model": "dall-e-2", "prompt": "x" * 1001},
            ["The prompt is 1001 characters; dall-e-2 takes at most 1000."],
        ),
        (
            {"model": "gpt-image-1.5", "background": "transparent", "output_format": "jpeg"},
            ["A transparent background needs png or webp output; output_format is jpeg."],
        ),
        ({"model": "gpt-image-1.5", "background": "transparent"}, []),  # the default, png, has alpha
        ({"model": "dall-e-3", "n": 1, "size": "1792x1024", "quality": "hd", "style": "natural"}, []),
    ],
)
def test_each_rule_is_explained_in_one_wording(body: dict[str, Any], expected: list[str]) -> None:
    assert messages("generations", body) == expected


def test_a_model_that_does_not_serve_the_operation_is_refused() -> None:
    assert messages("variations", {"model": "gpt-image-1.5"}) == [
        "gpt-image-1.5 does not serve variations; models that do: dall-e-2."
    ]


def test_an_unknown_model_is_refused_by_a_server_and_left_alone_by_a_client() -> None:
    found = violations("generations", {"model": "sd-1.5-ggml"}, catalog=CATALOG)
    assert [(v.field, v.code) for v in found] == [("model", "model_not_found")]
    assert violations("generations", {"model": "sd-1.5-ggml", "n": 99}, catalog=CATALOG, lenient=True) == []


def test_without_a_model_a_server_applies_its_default_and_a_client_does_not_guess() -> None:
    assert messages("generations", {"size": "1792x1024"}) == [
        "dall-e-2 does not take size=1792x1024; it takes 256x256, 512x512, 1024x1024."
    ]
    assert messages("generations", {"size": "1792x1024"}, lenient=True) == []


def test_a_client_leaves_values_no_model_lists_to_the_server() -> None:
    assert messages("generations", {"model": "gpt-image-1.5", "quality": "xhigh"}, lenient=True) == []
    assert messages("generations", {"model": "gpt-image-1.5", "quality": "xhigh"}) != []
    # a value some model lists is judged
    assert messages("generations", {"model": "gpt-image-1.5", "quality": "hd"}, lenient=True) != []
    # custom sizes are always judged by the model that has them
    assert messages("generations", {"model": "gpt-image-2", "size": "1000x1000"}, lenient=True) != []


def test_a_retired_model_is_never_refused_for_being_retired() -> None:
    assert rules("dall-e-2").retired_upstream
    assert messages("generations", {"model": "dall-e-2", "n": 2, "size": "256x256"}, lenient=True) == []


def test_upload_rules_name_the_file() -> None:
    image = UploadFacts("image", "image", "cat.png", "jpeg", 64, 48, 1000, False)
    found = violations("edits", {"model": "dall-e-2"}, [image], catalog=CATALOG)
    assert [v.message for v in found] == [
        "cat.png is a JPEG, and dall-e-2 takes PNG images only; convert it to PNG."
    ]


def test_an_upload_a_model_refuses_is_named() -> None:
    data = copy.deepcopy(DOC["x-imagegen-models"]["models"]["gpt-image-1.5"])
    data["fields"]["mask"] = False
    catalog = CATALOG.with_models(model_from("no-masks", {**data, "operations": ["edits"]}))
    image = UploadFacts("image", "image", "cat.png", "png", 64, 48, 1000, False)
    mask = UploadFacts("mask", "mask", "mask.png", "png", 64, 48, 100, True)
    found = violations("edits", {"model": "no-masks"}, [image, mask], catalog=catalog)
    assert [v.message for v in found] == ["no-masks takes no mask; leave mask.png out."]
    assert violations("edits", {"model": "no-masks"}, [image], catalog=catalog) == []


def test_every_server_checks_the_mask_whatever_the_model() -> None:
    image = UploadFacts("image", "image", "cat.png", "png", 64, 48, 1000, False)
    mask = UploadFacts("mask", "mask", "mask.png", "png", 32, 32, 100, True)
    found = violations("edits", {"model": "unknown"}, [image, mask], catalog=CATALOG, lenient=True)
    assert [v.field for v in found] == ["mask"]
    assert "resize the mask to 64x48" in found[0].message


# ---- building catalogs ----------------------------------------------------------------------------


def test_a_server_can_add_a_localai_like_model() -> None:
    custom = model_from(
        "sd-1.5-ggml",
        {
            "operations": ["generations"],
            "fields": {"size": {"values": ["auto"], "custom_sizes": {"min_edge": 64, "max_edge": 1024}}},
            "answers": {"revised_prompt": False, "usage": False},
        },
    )
    catalog = CATALOG.with_models(custom)
    added = catalog.get("sd-1.5-ggml")
    assert added is custom
    assert added.why_size_not("64x64") is None
    assert added.why_size_not("32x32") is not None
    assert len(catalog) == len(CATALOG) + 1
    assert isinstance(added.rule("size").custom_sizes, CustomSizes)  # type: ignore[union-attr]


def test_parse_size() -> None:
    assert parse_size("1536x864") == (1536, 864)
    assert parse_size("auto") is None
    assert parse_size("0x10") is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m.pop("answers"), "missing answers"),
        (lambda m: m.update(colour="red"), "unknown colour"),
        (lambda m: m.update(operations=["paint"]), "unknown operation 'paint'"),
        (lambda m: m["fields"].update(size={"values": "1024x1024"}), "values must be a non-empty list"),
        (lambda m: m["fields"].update(size={"values": ["1024x1024"], "default": "5x5"}), "default size 5x5"),
        (lambda m: m["fields"].update(n={"maximum": 3}), "fields.n: unknown maximum"),
    ],
)
def test_malformed_rules_are_refused_naming_the_model_and_key(change: Any, message: str) -> None:
    data = copy.deepcopy(DOC["x-imagegen-models"])
    change(data["models"]["dall-e-2"])
    with pytest.raises(RulesError, match=re.escape(message)) as raised:
        catalog_from(data, default_contract().operation_names)
    assert "dall-e-2" in str(raised.value)


def test_defaults_must_name_known_models() -> None:
    data = copy.deepcopy(DOC["x-imagegen-models"])
    data["defaults"]["edits"] = "no-such-model"
    with pytest.raises(RulesError, match="no-such-model"):
        catalog_from(data)
