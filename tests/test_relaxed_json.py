"""relaxed_json: strict JSON, the seed's single-quoted JSON, trailing commas, and errors that say where."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from imagegen.relaxed_json import JsonInputError, load_json_file, load_json_ish, load_json_or_file

SEED_WITH_STRING_N = "{'prompt':'Yellow alpaca','n':'1','size':'1024x1024'}"
SEED_WITH_NUMBER_N = "{'prompt':'Yellow alpaca','n':1,'size':'1024x1024'}"


def error_of(text: str, what: str = "--descr") -> JsonInputError:
    with pytest.raises(JsonInputError) as caught:
        load_json_ish(text, what=what)
    return caught.value


@pytest.mark.parametrize(
    "text",
    [
        '{"prompt": "Yellow alpaca", "n": 1, "size": "1024x1024"}',
        '[1, -2.5, 3e2, 0, true, false, null, "", {}, []]',
        '{"nested": {"list": [{"a": "b\\"c"}]}, "unicode": "\\u00e9\\ud83e\\udd99 \u00e9"}',
        '"a string with \\\\ backslash, \\/ slash and \\t tab escapes"',
        "  \n\t 42 \r\n",
    ],
)
def test_strict_json_parses_as_json_loads_does(text: str) -> None:
    assert load_json_ish(text) == json.loads(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (SEED_WITH_STRING_N, {"prompt": "Yellow alpaca", "n": "1", "size": "1024x1024"}),
        (SEED_WITH_NUMBER_N, {"prompt": "Yellow alpaca", "n": 1, "size": "1024x1024"}),
    ],
)
def test_the_seeds_single_quoted_examples_parse(text: str, expected: dict[str, Any]) -> None:
    assert load_json_ish(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("""{'q': 'say "hi"'}""", {"q": 'say "hi"'}),
        ("""{"q": "say 'hi'"}""", {"q": "say 'hi'"}),
        ("""{'q': 'it\\'s'}""", {"q": "it's"}),
        ("""{"q": "it\\'s"}""", {"q": "it's"}),
        ("""{'q': 'a \\"quoted\\" word'}""", {"q": 'a "quoted" word'}),
        ("""{'q': 'line\\nnext \\u00e9 back\\\\slash'}""", {"q": "line\nnext \u00e9 back\\slash"}),
        ("""{'q': ''}""", {"q": ""}),
        ("""['a', "b", 'c"d', "e'f"]""", ["a", "b", 'c"d', "e'f"]),
        ("""{'it\\'s': 'key'}""", {"it's": "key"}),
    ],
)
def test_strings_take_the_other_quote_and_escaped_quotes(text: str, expected: Any) -> None:
    assert load_json_ish(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1,}', {"a": 1}),
        ("[1, 2,]", [1, 2]),
        ("{'a': [1, {'b': 2,},\n  ],\n}", {"a": [1, {"b": 2}]}),
        ("[ [], {}, ]", [[], {}]),
        ("['x,]',]", ["x,]"]),
    ],
)
def test_trailing_commas_are_allowed(text: str, expected: Any) -> None:
    assert load_json_ish(text) == expected


@pytest.mark.parametrize("text", ["[,]", "{,}", "[1,,]", "[1,,2]", "{'a': 1,,}"])
def test_commas_that_are_not_trailing_are_still_errors(text: str) -> None:
    error_of(text)


def test_later_keys_win() -> None:
    assert load_json_ish("{'n': 1, 'n': 2}") == {"n": 2}


def test_control_characters_typed_inside_strings_are_kept() -> None:
    assert load_json_ish("{'prompt': 'Yellow\n\talpaca'}") == {"prompt": "Yellow\n\talpaca"}


def test_a_leading_byte_order_mark_is_ignored() -> None:
    assert load_json_ish('\ufeff{"a": 1}') == {"a": 1}


def test_the_error_names_the_subject_what_was_expected_and_where() -> None:
    error = error_of("{'prompt':'Yellow alpaca' 'n':1}")
    assert str(error) == "--descr is not valid JSON: expecting ',' or '}' at line 1, column 27"
    assert (error.line, error.column, error.position) == (1, 27, 26)
    assert isinstance(error, ValueError)


def test_the_subject_is_json_by_default() -> None:
    with pytest.raises(
        JsonInputError, match=r"^JSON is not valid JSON: expecting ',' or '\]' at line 1, column 4$"
    ):
        load_json_ish("[1 2]")


def test_positions_are_in_the_text_as_given_after_quotes_are_rewritten() -> None:
    # `"` inside single quotes becomes two characters, `\'` becomes one: the error is still at `1`.
    text = """{'a': 'x"y"z\\'w', 'b' 1}"""
    error = error_of(text)
    assert text[error.position or 0] == "1"
    assert (
        str(error) == "--descr is not valid JSON: expecting ':' after the property name at line 1, column 23"
    )


def test_positions_count_lines_and_columns_from_one() -> None:
    text = "{\n  'prompt': 'say \"hi\"',\n  'n': 1\n  'size': '64x64'\n}"
    error = error_of(text)
    assert (error.line, error.column) == (4, 3)
    assert str(error).endswith("expecting ',' or '}' at line 4, column 3")


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1 "b": 2}',
        '{"a" 1}',
        '{"a": }',
        "[1, 2",
        '{"a": 1}\n x',
        '{\n"a": "b\\x"}',
        '{\n  "a": [1,\n   2 3]}',
        '{"a": "\\u12"}',
    ],
)
def test_positions_of_strict_json_errors_agree_with_json_loads(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    error = error_of(text)
    assert (error.line, error.column) == (expected.value.lineno, expected.value.colno)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[1 2]", "expecting ',' or ']' at line 1, column 4"),
        ('{"a" 1}', "expecting ':' after the property name at line 1, column 6"),
        ("{prompt: 'x'}", "expecting a property name in quotes at line 1, column 2"),
        ("{'a': }", "expecting a value at line 1, column 7"),
        ("{'a': 1} x", "unexpected text after the end of the JSON value at line 1, column 10"),
        ("{'prompt':'Yellow}", "unterminated string starting at line 1, column 11"),
        ('"\\x"', "invalid escape in a string at line 1, column 2"),
        ("{'a': 1", "expecting ',' or '}' at line 1, column 8 (the end of the text)"),
        ("{'a': True}", "expecting a value (JSON writes true, not True) at line 1, column 7"),
        ("[None]", "expecting a value (JSON writes null, not None) at line 1, column 2"),
        ("[-Infinity]", "expecting a value (Infinity is not a JSON number) at line 1, column 2"),
        ("[NaN]", "expecting a value (NaN is not a JSON number) at line 1, column 2"),
        (" \n ", "the text is empty"),
    ],
)
def test_error_messages(text: str, expected: str) -> None:
    assert str(error_of(text)) == f"--descr is not valid JSON: {expected}"


def test_python_literals_are_not_accepted_inside_strings_either_way() -> None:
    assert load_json_ish("{'a': 'True', 'b': \"NaN\"}") == {"a": "True", "b": "NaN"}


def test_a_path_to_a_json_file_is_read(tmp_path: Path) -> None:
    file = tmp_path / "descr.json"
    file.write_text(SEED_WITH_NUMBER_N, encoding="utf-8")
    assert load_json_or_file(str(file)) == {"prompt": "Yellow alpaca", "n": 1, "size": "1024x1024"}


def test_a_file_may_start_with_a_byte_order_mark_and_hold_non_ascii(tmp_path: Path) -> None:
    file = tmp_path / "descr.json"
    file.write_text('{"prompt": "Жёлтая альпака"}', encoding="utf-8-sig")
    assert load_json_or_file(str(file)) == {"prompt": "Жёлтая альпака"}


def test_any_existing_file_is_read_whatever_its_name(tmp_path: Path) -> None:
    file = tmp_path / "descr.txt"
    file.write_text("[1, 2,]", encoding="utf-8")
    assert load_json_or_file(str(file)) == [1, 2]


def test_a_home_relative_path_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "descr.json").write_text('{"n": 2}', encoding="utf-8")
    assert load_json_or_file("~/descr.json") == {"n": 2}


def test_text_that_is_not_a_file_is_parsed() -> None:
    assert load_json_or_file(SEED_WITH_STRING_N)["n"] == "1"
    assert load_json_or_file("'just a string'") == "just a string"


def test_a_value_starting_with_a_bracket_is_always_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "{}").write_text("[1]", encoding="utf-8")
    (tmp_path / "[2]").write_text("[3]", encoding="utf-8")
    assert load_json_or_file("{}") == {}
    assert load_json_or_file(" [2]") == [2]


@pytest.mark.parametrize("value", ["", " "])
def test_an_empty_value_is_empty_text_not_the_current_directory(value: str) -> None:
    with pytest.raises(JsonInputError, match=r"^--descr is not valid JSON: the text is empty$"):
        load_json_or_file(value, what="--descr")


def test_text_too_long_to_be_a_file_name_is_parsed() -> None:
    text = "'" + "a" * 5000 + "'"
    assert load_json_or_file(text) == "a" * 5000


def test_a_missing_json_file_is_an_error_saying_so(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    with pytest.raises(JsonInputError, match=r"^--descr: the file .*nowhere\.json does not exist$"):
        load_json_or_file(str(missing), what="--descr")


def test_a_directory_is_an_error_saying_so(tmp_path: Path) -> None:
    with pytest.raises(JsonInputError, match=r"is a directory, not a JSON file$"):
        load_json_or_file(str(tmp_path), what="--descr")


def test_a_file_that_is_not_json_names_the_file_and_the_place(tmp_path: Path) -> None:
    file = tmp_path / "descr.json"
    file.write_text("{\n  'prompt': 'x'\n  'n': 1\n}\n", encoding="utf-8")
    with pytest.raises(JsonInputError) as caught:
        load_json_or_file(str(file), what="--descr")
    assert (
        str(caught.value)
        == f"--descr file {file} is not valid JSON: expecting ',' or '}}' at line 3, column 3"
    )


def test_a_file_that_is_not_utf8_names_the_file(tmp_path: Path) -> None:
    file = tmp_path / "descr.json"
    file.write_bytes(b'{"prompt": "caf\xe9"}')
    with pytest.raises(JsonInputError, match=r"^--descr: the file .*descr\.json is not UTF-8 text"):
        load_json_or_file(str(file), what="--descr")


def test_a_read_error_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "descr.json"
    file.write_text("{}", encoding="utf-8")

    def refuse(self: Path, *args: Any, **kwargs: Any) -> str:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_text", refuse)
    with pytest.raises(
        JsonInputError, match=r"^--descr: cannot read the file .*descr\.json: Permission denied$"
    ):
        load_json_or_file(str(file), what="--descr")


def test_load_json_file_takes_path_objects_and_says_when_they_are_missing(tmp_path: Path) -> None:
    file = tmp_path / "descr"
    file.write_text("{'a': 1}", encoding="utf-8")
    assert load_json_file(file) == {"a": 1}
    with pytest.raises(JsonInputError, match=r"^JSON: the file .*absent does not exist$"):
        load_json_file(tmp_path / "absent")
