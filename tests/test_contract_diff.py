"""imagegen.contract.diff: whom each contract change breaks, and how ours compares with the official spec."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from imagegen.contract.diff import (
    Change,
    Comparison,
    breaking,
    compare_official,
    comparison_json,
    diff_contracts,
    render_comparison,
    render_text,
    to_json,
)

from .support.official_style import official_style

ROOT = Path(__file__).resolve().parent.parent
OURS: dict[str, Any] = yaml.safe_load((ROOT / "openapi" / "images.yaml").read_text(encoding="utf-8"))

GENERATE_JSON = "POST /images/generations application/json"
GENERATE_ANSWER = "POST /images/generations 200 application/json"
EDIT_FORM = "POST /images/edits multipart/form-data"
EDIT_JSON = "POST /images/edits application/json"
VARIATION_FORM = "POST /images/variations multipart/form-data"


@pytest.fixture(scope="module")
def official() -> dict[str, Any]:
    """A document in the official spec's shape (tests/support/official_style.py)."""
    return official_style(OURS)


@pytest.fixture(scope="module")
def comparison(official: dict[str, Any]) -> Comparison:
    return compare_official(official, OURS)


def changed(edit: Any) -> list[Change]:
    """The changes from our contract to a copy of it that `edit` changed."""
    new = copy.deepcopy(OURS)
    edit(new)
    return diff_contracts(OURS, new)


def schemas(document: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = document["components"]["schemas"]
    return found


def models(document: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = document["x-imagegen-models"]["models"]
    return found


def at(changes: list[Change], where: str) -> list[tuple[str, str]]:
    return [(change.impact, change.what) for change in changes if change.where == where]


# ---- diff ---------------------------------------------------------------------------------------


def test_identical_contracts_have_no_differences() -> None:
    assert diff_contracts(OURS, copy.deepcopy(OURS)) == []


def test_schema_names_and_spellings_do_not_matter() -> None:
    def respell(document: dict[str, Any]) -> None:
        # rename the generation body, and write `n` as the official does: a type list, not anyOf + $ref
        body = schemas(document).pop("CreateImageRequest")
        schemas(document)["GenerateBody"] = body
        media = document["paths"]["/images/generations"]["post"]["requestBody"]["content"]["application/json"]
        media["schema"] = {"$ref": "#/components/schemas/GenerateBody"}
        body["properties"]["n"] = {"type": ["integer", "null"], "minimum": 1, "maximum": 10}

    assert changed(respell) == []


def test_removed_enum_value_breaks_clients_and_is_named() -> None:
    changes = changed(lambda doc: schemas(doc)["ImageQuality"]["enum"].remove("hd"))
    assert ("client", "enum value 'hd' removed") in at(changes, f"{GENERATE_JSON}: quality")
    assert ("client", "enum value 'hd' removed") in at(changes, f"{EDIT_FORM}: quality")
    assert {change.impact for change in changes} == {"client"}
    assert next(c for c in changes if c.where == f"{GENERATE_JSON}: quality").old == "hd"


def test_added_optional_request_field_is_compatible() -> None:
    changes = changed(
        lambda doc: schemas(doc)["CreateImageRequest"]["properties"].update(
            test_only_field={"type": "integer"}
        )
    )
    assert at(changes, f"{GENERATE_JSON}: test_only_field") == [
        ("compatible", "field added (optional; integer)")
    ]
    assert len(changes) == 1


def test_added_optional_field_breaks_servers_when_unknown_fields_were_refused() -> None:
    def edit(doc: dict[str, Any]) -> None:
        schemas(doc)["CreateImageRequest"]["additionalProperties"] = False

    base = copy.deepcopy(OURS)
    edit(base)
    new = copy.deepcopy(base)
    schemas(new)["CreateImageRequest"]["properties"]["test_only_field"] = {"type": "integer"}
    [change] = diff_contracts(base, new)
    assert (change.impact, change.where) == ("server", f"{GENERATE_JSON}: test_only_field")


def test_added_required_field_breaks_clients() -> None:
    def edit(doc: dict[str, Any]) -> None:
        body = schemas(doc)["CreateImageVariationRequest"]
        body["properties"]["test_only_field"] = {"type": "integer"}
        body["required"].append("test_only_field")

    changes = changed(edit)
    assert at(changes, f"{VARIATION_FORM}: test_only_field") == [
        ("client", "field added (required; integer)")
    ]


def test_field_made_required_breaks_clients_and_made_optional_breaks_servers() -> None:
    required = changed(lambda doc: schemas(doc)["CreateImageRequest"]["required"].append("size"))
    assert at(required, f"{GENERATE_JSON}: size") == [("client", "now required")]
    optional = changed(lambda doc: schemas(doc)["CreateImageRequest"].update(required=[]))
    assert at(optional, f"{GENERATE_JSON}: prompt") == [("server", "no longer required")]


def test_added_operation_breaks_servers_and_removed_operation_breaks_clients() -> None:
    def add(doc: dict[str, Any]) -> None:
        operation = copy.deepcopy(doc["paths"]["/images/variations"])
        operation["post"].update(operationId="upscaleImage", **{"x-imagegen-operation": "upscales"})
        doc["paths"]["/images/upscales"] = operation

    assert at(changed(add), "POST /images/upscales") == [("server", "operation added")]
    removed = changed(lambda doc: doc["paths"].pop("/images/variations"))
    assert at(removed, "POST /images/variations") == [("client", "operation removed")]
    assert not [c for c in removed if c.where.startswith("POST /images/variations ")]


def test_removed_request_media_type_breaks_clients() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["paths"]["/images/edits"]["post"]["requestBody"]["content"].pop("application/json")

    changes = changed(edit)
    assert at(changes, "POST /images/edits") == [("client", "request media type application/json removed")]


def test_raised_maximum_breaks_servers_and_lowered_maximum_breaks_clients() -> None:
    raised = changed(lambda doc: schemas(doc)["ImageCount"].update(maximum=12))
    assert at(raised, f"{GENERATE_JSON}: n") == [("server", "maximum raised from 10 to 12")]
    assert at(raised, f"{VARIATION_FORM}: n") == [("server", "maximum raised from 10 to 12")]
    lowered = changed(lambda doc: schemas(doc)["Prompt"].update(maxLength=4000))
    assert at(lowered, f"{EDIT_JSON}: prompt") == [("client", "maxLength lowered from 32000 to 4000")]


def test_nested_fields_are_compared_by_path() -> None:
    changes = changed(lambda doc: schemas(doc)["ImageReference"]["properties"]["file_id"].update(minLength=5))
    assert at(changes, f"{EDIT_JSON}: images[].file_id") == [("client", "minLength raised from 1 to 5")]
    assert at(changes, f"{EDIT_JSON}: mask.file_id") == [("client", "minLength raised from 1 to 5")]


def test_response_enum_value_added_breaks_clients() -> None:
    changes = changed(lambda doc: schemas(doc)["ResultQuality"]["enum"].append("ultra"))
    assert at(changes, f"{GENERATE_ANSWER}: quality") == [("client", "enum value 'ultra' added")]
    assert {change.impact for change in changes} == {"client"}


def test_response_field_made_optional_breaks_clients_and_newly_required_breaks_servers() -> None:
    optional = changed(lambda doc: schemas(doc)["ImagesResponse"].update(required=["created"]))
    assert at(optional, f"{GENERATE_ANSWER}: data") == [("client", "no longer required")]
    required = changed(lambda doc: schemas(doc)["ImageUsage"]["required"].append("output_tokens_details"))
    assert at(required, f"{GENERATE_ANSWER}: usage.output_tokens_details") == [("server", "now required")]


def test_error_answers_are_reported_once_for_all_their_statuses() -> None:
    changes = changed(lambda doc: schemas(doc)["Error"]["properties"]["param"].update(type="string"))
    generations = [c for c in changes if c.where.startswith("POST /images/generations ")]
    assert len(generations) == 1
    assert generations[0].where.startswith("POST /images/generations 400,401,404")
    assert generations[0].where.endswith(" application/json: error.param")
    assert (generations[0].impact, generations[0].what) == ("server", "no longer nullable")


def test_descriptions_count_only_when_asked() -> None:
    new = copy.deepcopy(OURS)
    schemas(new)["Prompt"]["description"] = "Something else."
    new["paths"]["/images/edits"]["post"]["summary"] = "Edit"
    assert diff_contracts(OURS, new) == []
    docs = diff_contracts(OURS, new, include_docs=True)
    assert ("compatible", "description changed") in at(docs, f"{GENERATE_JSON}: prompt")
    assert at(docs, "POST /images/edits") == [("compatible", "summary changed")]


def test_model_rule_value_removed_breaks_clients() -> None:
    changes = changed(lambda doc: models(doc)["dall-e-3"]["fields"]["quality"]["values"].remove("hd"))
    assert changes == [Change("client", "model dall-e-3: fields.quality", "value 'hd' removed", "hd", None)]


def test_model_rules_changes_are_classified() -> None:
    def edit(doc: dict[str, Any]) -> None:
        rules = models(doc)
        rules["dall-e-3"]["fields"]["n"] = {"max": 2}
        rules["dall-e-3"]["fields"]["quality"]["values"].append("ultra")
        rules["dall-e-2"]["fields"]["background"] = True
        rules["dall-e-2"]["fields"]["image"] = {**rules["dall-e-2"]["fields"]["image"], "max_bytes": 1000}
        rules["gpt-image-1"]["operations"] = ["generations"]
        rules["dall-e-3"]["answers"] = {"revised_prompt": False, "usage": False}

    changes = changed(edit)
    assert at(changes, "model dall-e-3: fields.n") == [("server", "max raised from 1 to 2")]
    assert at(changes, "model dall-e-3: fields.quality") == [("server", "value 'ultra' added")]
    assert at(changes, "model dall-e-2: fields.background") == [("server", "field now taken")]
    assert at(changes, "model dall-e-2: fields.image") == [
        ("client", "max_bytes lowered from 4194304 to 1000")
    ]
    assert at(changes, "model gpt-image-1: operations") == [("client", "operation 'edits' removed")]
    assert at(changes, "model dall-e-3: answers.revised_prompt") == [
        ("client", "answers no longer carry revised_prompt")
    ]


def test_model_added_is_compatible_and_model_removed_breaks_clients() -> None:
    added = changed(lambda doc: models(doc).update(flux=copy.deepcopy(models(doc)["dall-e-3"])))
    assert added == [Change("compatible", "model flux", "model added", None, "flux")]
    removed = changed(lambda doc: models(doc).pop("gpt-image-1-mini"))
    assert at(removed, "model gpt-image-1-mini") == [("client", "model removed")]


def test_constraints_and_defaults_are_compared() -> None:
    def edit(doc: dict[str, Any]) -> None:
        rules = doc["x-imagegen-models"]
        rules["constraints"][0]["require"]["output_format"] = ["png"]
        rules["defaults"]["edits"] = "gpt-image-1"

    changes = changed(edit)
    assert at(changes, "models: constraints when background=transparent: output_format") == [
        ("client", "value 'webp' removed")
    ]
    assert at(changes, "models: defaults.edits") == [
        ("client", "default model changed from 'gpt-image-1.5' to 'gpt-image-1'")
    ]


def test_breaking_filters_by_whom_it_breaks() -> None:
    changes = [
        Change("client", "a", "x"),
        Change("server", "b", "y"),
        Change("compatible", "c", "z"),
    ]
    assert [c.where for c in breaking(changes, "client")] == ["a"]
    assert [c.where for c in breaking(changes, "server")] == ["b"]
    assert [c.where for c in breaking(changes, "any")] == ["a", "b"]


def test_render_text_groups_and_summarises() -> None:
    def edit(doc: dict[str, Any]) -> None:
        schemas(doc)["ImageQuality"]["enum"].remove("hd")
        schemas(doc)["ImageCount"]["maximum"] = 12
        models(doc)["flux"] = copy.deepcopy(models(doc)["dall-e-3"])

    changes = changed(edit)
    text = render_text(changes, old_label="main", new_label="branch")
    lines = text.splitlines()
    assert lines[0] == "main -> branch"
    clients, servers, compatible = (
        lines.index("Breaking for clients (3):"),
        lines.index("Breaking for servers (4):"),
        lines.index("Compatible (1):"),
    )
    assert clients < servers < compatible
    assert f"  {GENERATE_JSON}: quality: enum value 'hd' removed" in lines[clients:servers]
    assert f"  {GENERATE_JSON}: n: maximum raised from 10 to 12" in lines[servers:compatible]
    assert "  model flux: model added" in lines[compatible:]
    assert lines[-1] == "3 breaking for clients, 4 breaking for servers, 1 compatible"
    assert render_text([], old_label="a", new_label="b") == "a -> b: no differences\n"


def test_to_json_is_json_with_a_summary() -> None:
    changes = changed(lambda doc: schemas(doc)["ImageQuality"]["enum"].remove("hd"))
    data = json.loads(json.dumps(to_json(changes)))
    assert data["summary"] == {"client": 3, "server": 0, "compatible": 0, "total": 3}
    assert data["changes"][0] == {
        "impact": "client",
        "where": f"{GENERATE_JSON}: quality",
        "what": "enum value 'hd' removed",
        "old": "hd",
        "new": None,
    }


# ---- compare with the official spec -------------------------------------------------------------


def test_official_models_are_all_covered_by_our_rules(comparison: Comparison) -> None:
    # every model the official names per operation (gpt-image-2-2026-04-21 through its alias) has rules
    assert [c for c in comparison.ours_lacks if c.where.startswith("model ")] == []
    assert [c for c in comparison.official_lacks if c.where.startswith("model ")] == []


def test_compare_names_models_our_rules_do_not_cover(official: dict[str, Any]) -> None:
    ours = copy.deepcopy(OURS)
    del models(ours)["chatgpt-image-latest"]
    models(ours)["gpt-image-1-mini"]["operations"] = ["generations"]
    models(ours)["gpt-image-2"]["aliases"] = []
    lacks = [str(change) for change in compare_official(official, ours).ours_lacks]
    assert (
        "model chatgpt-image-latest: no rules in x-imagegen-models; "
        "the official names it for POST /images/edits"
    ) in lacks
    assert (
        "model gpt-image-1-mini: its rules do not list edits; the official names it for POST /images/edits"
    ) in lacks
    assert any(line.startswith("model gpt-image-2-2026-04-21: no rules") for line in lacks)


def test_compare_reports_what_the_official_lacks(comparison: Comparison) -> None:
    lacks = [str(change) for change in comparison.official_lacks]
    assert f"{EDIT_JSON}: quality: enum value 'hd'" in lacks
    assert f"{EDIT_JSON}: quality: enum value 'standard'" in lacks
    assert f"{EDIT_FORM}: quality: enum value 'hd'" in lacks
    assert "POST /images/generations: header Idempotency-Key parameter (optional)" in lacks
    assert "POST /images/variations: error answers 400, 401, 404, 409, 413, 415, 422, 500, 503" in lacks


def test_compare_reports_what_differs(comparison: Comparison) -> None:
    differs = [str(change) for change in comparison.differs]
    assert f"{GENERATE_JSON}: prompt: maxLength: official none, ours 32000" in differs
    assert f"{GENERATE_JSON}: output_compression: maximum: official none, ours 100" in differs
    assert "POST /images/generations 429 header Retry-After: minimum: official 1, ours 0" in differs
    assert f"{GENERATE_ANSWER}: data: required: official no, ours yes" in differs
    assert (
        f"{VARIATION_FORM}: size: values: official [256x256, 512x512, 1024x1024], ours any string" in differs
    )


def test_compare_takes_image_and_image_array_as_one_multipart_field(comparison: Comparison) -> None:
    everything = comparison.ours_lacks + comparison.official_lacks + comparison.differs
    image = [str(c) for c in everything if c.where.startswith(f"{EDIT_FORM}: image")]
    # ours spells `image` and `image[]`, the official one `image` (file or files): only a bound differs
    assert image == [f"{EDIT_FORM}: image: minItems: official none, ours 1"]
    # a form part cannot be null: the official's nullable form fields are no difference
    assert not [c for c in everything if c.where.startswith(EDIT_FORM) and "nullable" in c.what]


def test_comparison_report_is_readable(comparison: Comparison) -> None:
    text = render_comparison(comparison, official_label="openai", ours_label="images.yaml")
    lines = text.splitlines()
    assert lines[0] == "images.yaml compared with openai"
    assert f"Ours lacks: in openai, not in images.yaml ({len(comparison.ours_lacks)}):" in lines
    assert f"The official lacks: in images.yaml, not in openai ({len(comparison.official_lacks)}):" in lines
    assert f"Differs: in both, differently ({len(comparison.differs)}):" in lines
    assert "  POST /images/edits:" in lines
    assert "    application/json: quality: enum value 'hd'" in lines
    assert lines[-1] == (
        f"ours lacks {len(comparison.ours_lacks)}, the official lacks {len(comparison.official_lacks)}, "
        f"{len(comparison.differs)} differ"
    )
    assert all(len(line) < 200 for line in lines)
    for python_repr in ("{'", "frozenset(", "_Shape(", "Change("):
        assert python_repr not in text


def test_comparison_json_counts_each_section(comparison: Comparison) -> None:
    data = json.loads(json.dumps(comparison_json(comparison)))
    assert data["summary"] == {
        "ours_lacks": len(comparison.ours_lacks),
        "official_lacks": len(comparison.official_lacks),
        "differs": len(comparison.differs),
    }
    assert {"impact", "where", "what", "old", "new"} == set(data["differs"][0])
