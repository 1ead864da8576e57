"""Per-model rules (x-imagegen-models): complete, consistent with the contract, and usable."""

from __future__ import annotations

import re
from typing import Any

import pytest

from imagegen import CustomSizes, ModelRules, RulesError, catalog_from, default_catalog, parse_size

from .support.contract import load_yaml_contract

DOC = load_yaml_contract()
SCHEMAS = DOC["components"]["schemas"]
CATALOG = default_catalog()
NAMED_IN_THE_ISSUE = [
    "dall-e-2",
    "dall-e-3",
    "gpt-image-1",
    "gpt-image-1-mini",
    "gpt-image-1.5",
    "gpt-image-2",
]


def enum(name: str) -> set[str]:
    return set(SCHEMAS[name]["enum"])


def test_every_openai_model_has_rules() -> None:
    assert [model.name for model in CATALOG] == NAMED_IN_THE_ISSUE


@pytest.mark.parametrize("model", list(CATALOG), ids=lambda m: m.name)
def test_model_values_are_values_the_contract_knows(model: ModelRules) -> None:
    size_pattern = re.compile(SCHEMAS["ImageSize"]["pattern"])
    assert all(size_pattern.match(size) for size in model.sizes)
    assert set(model.qualities) <= enum("ImageQuality")
    assert set(model.styles) <= enum("ImageStyle")
    assert set(model.response_formats) <= enum("ResponseFormat")
    assert model.default_response_format in enum("ResponseFormat")
    assert set(model.output_formats) <= enum("OutputFormat")
    assert set(model.backgrounds) <= enum("ImageBackground")
    assert set(model.moderations) <= enum("Moderation")
    assert 1 <= model.max_n <= SCHEMAS["ImageCount"]["maximum"]
    assert model.prompt_max_length <= SCHEMAS["Prompt"]["maxLength"]


@pytest.mark.parametrize(
    ("name", "facts"),
    [
        (
            "dall-e-2",
            {
                "max_n": 10,
                "sizes": ("256x256", "512x512", "1024x1024"),
                "styles": (),
                "operations": ("generations", "edits", "variations"),
                "prompt_max_length": 1000,
            },
        ),
        (
            "dall-e-3",
            {
                "max_n": 1,
                "sizes": ("1024x1024", "1792x1024", "1024x1792"),
                "styles": ("vivid", "natural"),
                "operations": ("generations",),
                "revised_prompt": True,
                "prompt_max_length": 4000,
            },
        ),
        (
            "gpt-image-1",
            {
                "response_formats": (),
                "default_response_format": "b64_json",
                "streaming": True,
                "input_fidelity": True,
                "usage": True,
            },
        ),
        ("gpt-image-1-mini", {"input_fidelity": False, "operations": ("generations", "edits")}),
        ("gpt-image-2-2026-04-21", {"name": "gpt-image-2"}),
    ],
)
def test_models_have_the_documented_facts(name: str, facts: dict[str, Any]) -> None:
    rules = CATALOG.get(name)
    assert rules is not None
    assert {key: getattr(rules, key) for key in facts} == facts


def test_upload_limits() -> None:
    dalle, gpt = CATALOG.get("dall-e-2"), CATALOG.get("gpt-image-1.5")
    assert dalle is not None
    assert dalle.inputs is not None
    assert dalle.mask is not None
    assert (dalle.inputs.formats, dalle.inputs.max_bytes, dalle.inputs.max_images, dalle.inputs.square) == (
        ("png",),
        4 * 1024 * 1024,
        1,
        True,
    )
    assert gpt is not None
    assert gpt.inputs is not None
    assert (gpt.inputs.max_bytes, gpt.inputs.max_images, set(gpt.inputs.formats)) == (
        50 * 1024 * 1024,
        16,
        {"png", "jpeg", "webp"},
    )
    assert dalle.mask.formats == ("png",)


def test_default_models_per_operation() -> None:
    assert {op: CATALOG.default_for(op).name for op in ("generations", "edits", "variations")} == {  # type: ignore[union-attr]
        "generations": "dall-e-2",
        "edits": "gpt-image-1.5",
        "variations": "dall-e-2",
    }


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
    rules = CATALOG.get("gpt-image-2")
    assert rules is not None
    reason = rules.why_size_not(size)
    assert (reason is None) is ok, reason


def test_listed_size_models_reject_other_sizes_and_say_which_they_take() -> None:
    rules = CATALOG.get("dall-e-3")
    assert rules is not None
    assert rules.why_size_not("1792x1024") is None
    assert rules.why_size_not("256x256") == "dall-e-3 takes these sizes only: 1024x1024, 1792x1024, 1024x1792"


def test_a_server_can_add_a_localai_like_model() -> None:
    custom = ModelRules(
        name="sd-1.5-ggml",
        operations=("generations",),
        prompt_max_length=1000,
        max_n=4,
        sizes=(),
        default_size="512x512",
        qualities=(),
        styles=(),
        response_formats=("url", "b64_json"),
        default_response_format="url",
        output_formats=(),
        backgrounds=(),
        moderations=(),
        output_compression=False,
        streaming=False,
        input_fidelity=False,
        revised_prompt=False,
        usage=False,
        custom_sizes=CustomSizes(min_edge=64, max_edge=1024),
    )
    catalog = CATALOG.with_models(custom)
    added = catalog.get("sd-1.5-ggml")
    assert added is custom
    assert added.why_size_not("64x64") is None
    assert added.why_size_not("32x32") is not None
    assert len(catalog) == len(CATALOG) + 1


def test_parse_size() -> None:
    assert parse_size("1536x864") == (1536, 864)
    assert parse_size("auto") is None
    assert parse_size("0x10") is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m.pop("max_n"), "missing max_n"),
        (lambda m: m.update(colour="red"), "unknown colour"),
        (lambda m: m.update(operations=["paint"]), "unknown operation 'paint'"),
        (lambda m: m.update(sizes="1024x1024"), "expected a list of strings"),
        (lambda m: m.update(default_size="5x5"), "default_size 5x5"),
        (lambda m: m.pop("inputs"), "edits need `inputs` rules"),
    ],
)
def test_malformed_rules_are_refused_naming_the_model_and_field(change: Any, message: str) -> None:
    data = load_yaml_contract()["x-imagegen-models"]
    change(data["models"]["dall-e-2"])
    with pytest.raises(RulesError, match=re.escape(message)) as raised:
        catalog_from(data)
    assert "dall-e-2" in str(raised.value)


def test_defaults_must_name_known_models() -> None:
    data = load_yaml_contract()["x-imagegen-models"]
    data["defaults"]["edits"] = "no-such-model"
    with pytest.raises(RulesError, match="no-such-model"):
        catalog_from(data)
