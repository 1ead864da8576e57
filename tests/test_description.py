"""ImageDescription, describe and as_description: the seed's GetImageDescriptionStructure."""

from __future__ import annotations

import copy
import dataclasses
import doctest
import json
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from imagegen import description as description_module
from imagegen.description import ImageDescription, as_description, describe
from imagegen.relaxed_json import JsonInputError

SEED_WITH_STRING_N = "{'prompt':'Yellow alpaca','n':'1','size':'1024x1024'}"
SEED_WITH_NUMBER_N = "{'prompt':'Yellow alpaca','n':1,'size':'1024x1024'}"
SEED_BODY = {"prompt": "Yellow alpaca", "n": 1, "size": "1024x1024"}


def test_describe_mirrors_the_seeds_positional_call() -> None:
    # GetImageDescriptionStructure("Yellow alpaca", 1, , "64x64")
    alpaca = describe("Yellow alpaca", 1, None, "64x64")
    assert list(alpaca.to_body().items()) == [("prompt", "Yellow alpaca"), ("n", 1), ("size", "64x64")]


def test_positional_order_is_prompt_count_background_size() -> None:
    alpaca = describe("Yellow alpaca", 2, "transparent", "1024x1536")
    assert (alpaca.prompt, alpaca.n, alpaca.background, alpaca.size) == (
        "Yellow alpaca",
        2,
        "transparent",
        "1024x1536",
    )
    assert ImageDescription("Yellow alpaca", 2, "transparent", "1024x1536") == alpaca


def test_n_is_one_unless_told_otherwise() -> None:
    assert describe("Yellow alpaca").to_body() == {"prompt": "Yellow alpaca", "n": 1}


def test_further_request_fields_go_by_name_into_extra_in_order() -> None:
    alpaca = describe("Yellow alpaca", size="64x64", quality="high", output_format="webp")
    assert dict(alpaca.extra) == {"quality": "high", "output_format": "webp"}
    assert list(alpaca.to_body()) == ["prompt", "n", "size", "quality", "output_format"]


def test_options_is_not_special() -> None:
    alpaca = describe("Yellow alpaca", options={"quality": "high"})
    assert dict(alpaca.extra) == {"options": {"quality": "high"}}
    assert alpaca.to_body()["options"] == {"quality": "high"}
    assert "quality" not in alpaca.to_body()


def test_fields_that_are_none_are_left_out() -> None:
    alpaca = describe("Yellow alpaca", None, None, None, quality=None)
    assert alpaca.to_body() == {"prompt": "Yellow alpaca"}
    assert alpaca.extra == {}


def test_extra_comes_last_and_wins() -> None:
    alpaca = ImageDescription("Yellow alpaca", 1, size="64x64", extra={"size": "32x32", "n": None})
    assert alpaca.to_body() == {"prompt": "Yellow alpaca", "size": "32x32"}


@pytest.mark.parametrize("text", [SEED_WITH_STRING_N, SEED_WITH_NUMBER_N])
def test_the_seeds_descr_examples_give_the_same_description(text: str) -> None:
    alpaca = as_description(text)
    assert alpaca == describe("Yellow alpaca", 1, None, "1024x1024")
    assert alpaca.to_body() == SEED_BODY
    assert type(alpaca.n) is int


def test_a_mapping_is_read_as_a_request_body() -> None:
    assert as_description({"prompt": "Yellow alpaca", "n": "1", "size": "1024x1024"}).to_body() == SEED_BODY


def test_a_description_is_returned_as_is() -> None:
    alpaca = describe("Yellow alpaca")
    assert as_description(alpaca) is alpaca


def test_strict_json_text_is_read() -> None:
    assert as_description(json.dumps(SEED_BODY)).to_body() == SEED_BODY


def test_later_keys_win_in_json_text() -> None:
    assert as_description("{'prompt': 'a', 'n': 1, 'prompt': 'b'}").prompt == "b"


@pytest.mark.parametrize(
    ("field", "given", "read"),
    [
        ("n", "12", 12),
        ("output_compression", "80", 80),
        ("partial_images", "0", 0),
        ("stream", "true", True),
        ("stream", "FALSE", False),
        ("stream", "True", True),
    ],
)
def test_the_seeds_strings_for_numbers_and_booleans_are_read_as_such(
    field: str, given: str, read: Any
) -> None:
    body = as_description({"prompt": "Yellow alpaca", field: given}).to_body()
    assert body[field] == read
    assert type(body[field]) is type(read)


@pytest.mark.parametrize(
    ("field", "given"),
    [
        ("output_compression", "high"),
        ("output_compression", "-5"),
        ("output_compression", " 80"),
        ("output_compression", "8.5"),
        ("partial_images", "\u0661"),  # ARABIC-INDIC DIGIT ONE: a digit, not an ASCII one
        ("stream", "yes"),
        ("quality", "1"),
        ("style", "true"),
    ],
)
def test_other_values_are_kept_as_given(field: str, given: str) -> None:
    assert as_description({"prompt": "Yellow alpaca", field: given}).to_body()[field] == given


@pytest.mark.parametrize("n", ["0", "two", "1.5", "-1", 0, -3, 1.0, True, [1]])
def test_n_must_be_a_positive_integer(n: Any) -> None:
    with pytest.raises(
        ValueError, match=r"^n must be a positive integer \(how many images to generate\), not "
    ):
        as_description({"prompt": "Yellow alpaca", "n": n})


def test_n_is_checked_when_built_directly_too() -> None:
    with pytest.raises(ValueError, match=r"not '1'$"):
        ImageDescription("Yellow alpaca", "1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"not True$"):
        describe("Yellow alpaca", True)


def test_a_missing_prompt_is_an_error_naming_what_there_is() -> None:
    with pytest.raises(ValueError, match=r"^the description has no prompt: .* \(it has 'n', 'size'\)$"):
        as_description("{'n': 1, 'size': '64x64'}")


def test_a_misspelt_prompt_is_pointed_out() -> None:
    with pytest.raises(ValueError, match=r"\(it has 'Prompt': did you mean 'prompt'\?\)$"):
        as_description({"Prompt": "Yellow alpaca"})


@pytest.mark.parametrize(
    ("prompt", "message"),
    [
        (None, r"^prompt must be a string \(the text of the images\), not None$"),
        (42, r"^prompt must be a string \(the text of the images\), not 42$"),
        (["a"], r"^prompt must be a string \(the text of the images\), not list \['a'\]$"),
        ("", r"^prompt must not be empty"),
        ("  \n", r"^prompt must not be empty"),
    ],
)
def test_a_prompt_that_is_not_text_is_an_error(prompt: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        as_description({"prompt": prompt})
    with pytest.raises(ValueError, match=message):
        describe(prompt)


@pytest.mark.parametrize(("field", "example"), [("size", "'1024x1024'"), ("background", "'transparent'")])
def test_size_and_background_must_be_strings(field: str, example: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field} must be a string such as {example}, not 1024$"):
        as_description({"prompt": "Yellow alpaca", field: 1024})


def test_field_names_must_be_strings() -> None:
    with pytest.raises(ValueError, match=r"^request field names must be strings, not 1$"):
        as_description({"prompt": "Yellow alpaca", 1: "x"})


@pytest.mark.parametrize("value", [42, None, ["prompt"], b"{'prompt': 'x'}"])
def test_a_value_of_the_wrong_type_is_a_type_error(value: Any) -> None:
    with pytest.raises(
        TypeError, match=r"^a description is an ImageDescription, a mapping of request fields"
    ):
        as_description(value)


def test_from_body_wants_a_mapping() -> None:
    with pytest.raises(TypeError, match=r"^a description must be a mapping of request fields, not str$"):
        ImageDescription.from_body("Yellow alpaca")  # type: ignore[arg-type]


def test_extra_must_be_a_mapping() -> None:
    with pytest.raises(TypeError, match=r"^extra must be a mapping of request fields, not list$"):
        ImageDescription("Yellow alpaca", extra=[("quality", "high")])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "kind"), [("['Yellow alpaca']", "an array"), ("'Yellow alpaca'", "a string")]
)
def test_json_that_is_not_an_object_is_a_value_error(text: str, kind: str) -> None:
    with pytest.raises(ValueError, match=rf"^--descr must be a JSON object such as .*, not {kind}$"):
        as_description(text, what="--descr")


def test_json_errors_name_the_input_and_the_place() -> None:
    with pytest.raises(JsonInputError) as caught:
        as_description("{'prompt':'Yellow alpaca' 'n':1}", what="--descr")
    assert str(caught.value) == "--descr is not valid JSON: expecting ',' or '}' at line 1, column 27"


def test_json_errors_name_a_description_by_default() -> None:
    with pytest.raises(
        ValueError, match=r"^description is not valid JSON: expecting a value at line 1, column 12$"
    ):
        as_description("{'prompt': }")


def test_attributes_cannot_be_assigned() -> None:
    alpaca = describe("Yellow alpaca")
    with pytest.raises(dataclasses.FrozenInstanceError):
        alpaca.n = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        alpaca.quality = "high"  # type: ignore[attr-defined]


def test_extra_cannot_be_changed() -> None:
    alpaca = describe("Yellow alpaca", quality="high")
    with pytest.raises(TypeError):
        alpaca.extra["quality"] = "low"  # type: ignore[index]
    with pytest.raises(TypeError):
        del alpaca.extra["quality"]  # type: ignore[attr-defined]
    assert alpaca.extra == {"quality": "high"}


def test_changing_the_mapping_given_changes_nothing() -> None:
    fields = {"quality": "high"}
    alpaca = ImageDescription("Yellow alpaca", extra=fields)
    fields["quality"] = "low"
    fields["style"] = "vivid"
    assert dict(alpaca.extra) == {"quality": "high"}


def test_changing_the_body_returned_changes_nothing() -> None:
    alpaca = describe("Yellow alpaca", quality="high")
    alpaca.to_body()["quality"] = "low"
    assert alpaca.to_body()["quality"] == "high"


def test_equal_descriptions_have_equal_hashes_whatever_the_order_of_extra() -> None:
    one = describe("Yellow alpaca", 1, None, "64x64", quality="high", tags=["a", {"b": [1]}])
    two = ImageDescription(
        "Yellow alpaca", size="64x64", extra={"tags": ["a", {"b": [1]}], "quality": "high"}
    )
    assert one == two
    assert hash(one) == hash(two)
    assert len({one, two}) == 1


def test_different_descriptions_are_not_equal() -> None:
    alpaca = describe("Yellow alpaca", quality="high")
    assert alpaca != alpaca.replace(quality="low")
    assert alpaca != alpaca.replace(n=2)
    assert alpaca != describe("Yellow alpaca")
    assert alpaca != alpaca.to_body()


def test_hashing_an_unhashable_extra_value_is_a_type_error() -> None:
    alpaca = describe("Yellow alpaca", thing=bytearray(b"x"))
    with pytest.raises(TypeError):
        hash(alpaca)


@pytest.mark.parametrize(
    ("alpaca", "shown"),
    [
        (
            describe("Yellow alpaca", 1, None, "64x64"),
            "ImageDescription(prompt='Yellow alpaca', n=1, size='64x64')",
        ),
        (describe("Yellow alpaca", None), "ImageDescription(prompt='Yellow alpaca', n=None)"),
        (
            describe("Alpaca", 2, "transparent", quality="high"),
            "ImageDescription(prompt='Alpaca', n=2, background='transparent', extra={'quality': 'high'})",
        ),
    ],
)
def test_repr_shows_the_fields_that_are_set_and_builds_the_same(alpaca: ImageDescription, shown: str) -> None:
    assert repr(alpaca) == shown
    assert eval(shown, {"ImageDescription": ImageDescription}) == alpaca


def test_json_round_trip() -> None:
    alpaca = describe("Жёлтая альпака", 2, "opaque", "1024x1024", quality="high", stream=False, tags=["x"])
    text = alpaca.to_json()
    assert "Жёлтая" in text
    assert json.loads(text) == alpaca.to_body()
    assert as_description(text) == alpaca
    assert ImageDescription.from_body(json.loads(text)) == alpaca


def test_to_json_passes_its_arguments_to_json_dumps() -> None:
    alpaca = describe("Жёлтая", size="64x64")
    assert alpaca.to_json(sort_keys=True, ensure_ascii=True, separators=(",", ":")) == (
        '{"n":1,"prompt":"\\u0416\\u0451\\u043b\\u0442\\u0430\\u044f","size":"64x64"}'
    )


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": "Yellow alpaca"},
        {"prompt": "Yellow alpaca", "n": 3, "background": "transparent", "size": "auto"},
        {
            "prompt": "Yellow alpaca",
            "model": "gpt-image-1",
            "quality": "low",
            "stream": True,
            "partial_images": 2,
        },
    ],
)
def test_from_body_is_the_inverse_of_to_body(body: dict[str, Any]) -> None:
    alpaca = ImageDescription.from_body(body)
    assert alpaca.to_body() == body
    assert ImageDescription.from_body(alpaca.to_body()) == alpaca


def test_from_body_leaves_a_missing_n_unset() -> None:
    assert ImageDescription.from_body({"prompt": "Yellow alpaca"}).n is None


def test_replace_changes_named_fields_and_sets_others_in_extra() -> None:
    alpaca = describe("Yellow alpaca", 1, None, "64x64", quality="high")
    changed = alpaca.replace(n=2, size=None, style="vivid", quality=None)
    assert changed == ImageDescription("Yellow alpaca", 2, extra={"style": "vivid"})
    assert alpaca == describe("Yellow alpaca", 1, None, "64x64", quality="high")


def test_replace_with_extra_replaces_it_whole() -> None:
    alpaca = describe("Yellow alpaca", quality="high")
    assert dict(alpaca.replace(extra={"style": "vivid"}).extra) == {"style": "vivid"}
    assert dict(alpaca.replace(extra={"style": "vivid"}, moderation="low").extra) == {
        "style": "vivid",
        "moderation": "low",
    }


def test_replace_checks_the_new_values() -> None:
    with pytest.raises(ValueError, match=r"^n must be a positive integer"):
        describe("Yellow alpaca").replace(n=0)


def test_a_json_file_is_read_from_a_path_string_or_object(tmp_path: Path) -> None:
    file = tmp_path / "descr.json"
    file.write_text(SEED_WITH_STRING_N, encoding="utf-8")
    assert as_description(str(file)).to_body() == SEED_BODY
    assert as_description(file).to_body() == SEED_BODY


def test_a_missing_file_is_an_error_saying_so(tmp_path: Path) -> None:
    with pytest.raises(JsonInputError, match=r"^--descr: the file .*missing\.json does not exist$"):
        as_description(str(tmp_path / "missing.json"), what="--descr")
    with pytest.raises(JsonInputError, match=r"^description: the file .*missing does not exist$"):
        as_description(tmp_path / "missing")


def test_pickle_and_copy_give_equal_descriptions() -> None:
    alpaca = describe("Yellow alpaca", 2, size="64x64", quality="high", tags=["a"])
    assert pickle.loads(pickle.dumps(alpaca)) == alpaca
    deep = copy.deepcopy(alpaca)
    assert deep == alpaca
    assert deep.extra["tags"] is not alpaca.extra["tags"]
    assert copy.copy(alpaca) == alpaca


def test_the_docstring_examples_hold() -> None:
    from imagegen import relaxed_json

    for module in (description_module, relaxed_json):
        results = doctest.testmod(module)
        assert results.attempted > 0
        assert results.failed == 0, module.__name__


def test_importing_adds_nothing_heavy() -> None:
    code = (
        "import sys, imagegen.description, imagegen.relaxed_json; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'yaml', 'PIL', 'starlette', 'jsonschema'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
