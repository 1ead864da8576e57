"""Read the JSON people type in shells: strict JSON, plus single-quoted strings and trailing commas.

The seed library's command line takes descriptions such as

    --descr "{'prompt':'Yellow alpaca','n':'1','size':'1024x1024'}"

which is not JSON (single quotes), but is what fits inside a double-quoted shell argument.
`load_json_ish` accepts that as well as strict JSON:

    >>> load_json_ish("{'prompt':'Yellow alpaca','n':'1','size':'1024x1024'}")
    {'prompt': 'Yellow alpaca', 'n': '1', 'size': '1024x1024'}
    >>> load_json_ish('{"tags": ["a", "b",],}')
    {'tags': ['a', 'b']}

What is accepted besides strict JSON, and nothing more:

- strings in single quotes; inside either kind of string the other quote needs no escape, and
  `\\'` stands for a single quote (`'it\\'s'`, `"say 'hi'"`);
- a comma before a closing `}` or `]`;
- control characters (a new line, a tab) typed inside a string.

Python's words (`True`, `None`), `NaN` and `Infinity` are refused with a hint. A small tokenizer
rewrites the text to strict JSON, `json.loads` parses it, and an error names the place in the
text as given (line and column from 1), whatever the rewriting changed.
"""

from __future__ import annotations

import bisect
import json
import os
import re
from pathlib import Path
from typing import Any

__all__ = ["JsonInputError", "load_json_file", "load_json_ish", "load_json_or_file"]

_SPACE = re.compile(r"[ \t\r\n]+")
_PLAIN_IN_STRING = re.compile(r"[^'\"\\]+")
# Numbers, true/false/null and any other unquoted word, up to the next delimiter.
_BARE = re.compile(r"[A-Za-z0-9_$.+\-]+")
_PYTHON_WORDS = {"True": "true", "False": "false", "None": "null"}
_NOT_NUMBERS = ("NaN", "Infinity")
_CLOSERS = {"{": "}", "[": "]"}
_MESSAGES = {
    "Expecting ':' delimiter": "expecting ':' after the property name",
    "Expecting property name enclosed in double quotes": "expecting a property name in quotes",
    "Expecting value": "expecting a value",
    "Extra data": "unexpected text after the end of the JSON value",
    "Invalid \\escape": "invalid escape in a string",
    "Invalid \\uXXXX escape": "invalid \\uXXXX escape in a string",
    "Unterminated string starting at": "unterminated string starting",
    "Invalid control character at": "invalid control character in a string",
}


class JsonInputError(ValueError):
    """Text that is not JSON (strict or relaxed), or a JSON file that cannot be read.

    The message names the subject, what was expected and where, e.g. `--descr is not valid
    JSON: expecting ',' or '}' at line 1, column 17`. `line` and `column` count from 1 in the
    text as given, `position` is the offset from 0; all three are None when the error is not
    about a place in the text (a missing file, say).
    """

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        position: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.position = position


def load_json_ish(text: str, *, what: str = "JSON") -> Any:
    """Parse strict or relaxed JSON (see the module's docstring); `what` names it in errors.

    >>> load_json_ish("{'q': 'it\\\\'s', 'n': 1,}")
    {'q': "it's", 'n': 1}
    >>> load_json_ish("{'n': 1 'size': '64x64'}", what="--descr")
    Traceback (most recent call last):
        ...
    imagegen.relaxed_json.JsonInputError: --descr is not valid JSON: expecting ',' or '}' at line 1, column 9
    """
    if not text.strip():
        raise JsonInputError(f"{what} is not valid JSON: the text is empty", line=1, column=1, position=0)
    rewritten = _rewrite(text, what)
    strict = rewritten.text()
    try:
        return json.loads(strict, strict=False)
    except json.JSONDecodeError as error:
        detail = _explain(error.msg, strict, error.pos)
        raise _error(what, text, rewritten.origin_of(error.pos), detail) from None


def load_json_or_file(value: str, *, what: str = "JSON") -> Any:
    """Read `value` as a JSON file if it names an existing file (`~` expanded), else parse it as text.

    A value that starts with `{` or `[` is always text. A value ending in `.json` that names no
    file is an error saying so, rather than a puzzling parse error.
    """
    if value.strip() and value.lstrip()[0] not in "{[":
        path = _expand(value)
        if _is_file(path):
            return load_json_file(path, what=what)
        if _is_dir(path):
            raise JsonInputError(f"{what}: {value} is a directory, not a JSON file")
        if value.rstrip().lower().endswith(".json"):
            raise JsonInputError(f"{what}: the file {value} does not exist")
    return load_json_ish(value, what=what)


def load_json_file(path: str | os.PathLike[str], *, what: str = "JSON") -> Any:
    """Read a UTF-8 file (a leading BOM is allowed) holding strict or relaxed JSON.

    Every failure is a JsonInputError naming the file: missing, unreadable, not UTF-8, or not JSON.
    """
    file = _expand(os.fspath(path))
    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise JsonInputError(f"{what}: the file {file} does not exist") from None
    except IsADirectoryError:
        raise JsonInputError(f"{what}: {file} is a directory, not a JSON file") from None
    except OSError as error:
        reason = error.strerror or str(error)
        raise JsonInputError(f"{what}: cannot read the file {file}: {reason}") from error
    except UnicodeDecodeError as error:
        message = f"{what}: the file {file} is not UTF-8 text (bad byte at offset {error.start})"
        raise JsonInputError(message) from None
    return load_json_ish(text, what=f"{what} file {file}")


class _Rewritten:
    """Strict JSON text being built, remembering where each part of it came from in the original."""

    def __init__(self, original_length: int) -> None:
        self._parts: list[str] = []
        self._starts: list[int] = []
        self._origins: list[int] = []
        self._linear: list[bool] = []
        self._length = 0
        self._original_length = original_length

    def copy(self, text: str, origin: int) -> None:
        """Append `text`, character for character the original's from `origin` on."""
        self._append(text, origin, linear=True)

    def put(self, text: str, origin: int) -> None:
        """Append `text`, all of which stands for what is at `origin` in the original."""
        self._append(text, origin, linear=False)

    def text(self) -> str:
        """The strict JSON text."""
        return "".join(self._parts)

    def origin_of(self, position: int) -> int:
        """The offset in the original text of `position` in the rewritten one."""
        if position >= self._length or not self._starts:
            return self._original_length
        index = bisect.bisect_right(self._starts, position) - 1
        offset = position - self._starts[index] if self._linear[index] else 0
        return self._origins[index] + offset

    def _append(self, text: str, origin: int, *, linear: bool) -> None:
        self._parts.append(text)
        self._starts.append(self._length)
        self._origins.append(origin)
        self._linear.append(linear)
        self._length += len(text)


def _rewrite(text: str, what: str) -> _Rewritten:
    """Strict JSON for relaxed `text`: quotes rewritten, trailing commas blanked out."""
    out = _Rewritten(len(text))
    last = ""  # the last significant token: one of "{[,:" or "v" for a value
    i = 1 if text.startswith("\ufeff") else 0
    if i:
        out.copy(" ", 0)
    while i < len(text):
        char = text[i]
        if char in " \t\r\n":
            space = _SPACE.match(text, i)
            assert space is not None
            out.copy(space.group(), i)
            i = space.end()
        elif char in "'\"":
            i = _rewrite_string(text, i, out, what)
            last = "v"
        elif char == ",":
            after = _SPACE.match(text, i + 1)
            following = after.end() if after else i + 1
            trailing = last == "v" and following < len(text) and text[following] in "}]"
            out.copy(" " if trailing else ",", i)
            last = ","
            i += 1
        elif bare := _BARE.match(text, i):
            _check_bare_word(bare.group(), text, i, what)
            out.copy(bare.group(), i)
            last = "v"
            i = bare.end()
        else:
            out.copy(char, i)
            last = char if char in "{[:" else "v"
            i += 1
    return out


def _rewrite_string(text: str, start: int, out: _Rewritten, what: str) -> int:
    """Rewrite the string opening at `start` as a JSON string; return the offset after it."""
    quote = text[start]
    out.copy('"', start)
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == quote:
            out.copy('"', i)
            return i + 1
        if char == "\\":
            if i + 1 >= len(text):
                break
            if text[i + 1] == "'":
                out.put("'", i)
            else:
                out.copy(text[i : i + 2], i)  # a JSON escape; json.loads checks it
            i += 2
        elif char == '"':  # inside single quotes
            out.put('\\"', i)
            i += 1
        elif char == "'":  # inside double quotes
            out.copy(char, i)
            i += 1
        else:
            plain = _PLAIN_IN_STRING.match(text, i)
            assert plain is not None
            out.copy(plain.group(), i)
            i = plain.end()
    raise _error(what, text, start, "unterminated string starting")


def _check_bare_word(token: str, text: str, start: int, what: str) -> None:
    """Refuse the words json.loads would take or people type but JSON does not have."""
    word = token.lstrip("+-")
    if word in _PYTHON_WORDS:
        raise _error(what, text, start, f"expecting a value (JSON writes {_PYTHON_WORDS[word]}, not {word})")
    if word in _NOT_NUMBERS:
        raise _error(what, text, start, f"expecting a value ({word} is not a JSON number)")


def _explain(message: str, strict: str, position: int) -> str:
    """json's error message, said plainly and in terms of what was expected."""
    if message == "Expecting ',' delimiter":
        closer = _innermost_closer(strict, position)
        return f"expecting ',' or '{closer}'" if closer else "expecting ','"
    for prefix, plain in _MESSAGES.items():
        if message.startswith(prefix):
            return plain
    return message[:1].lower() + message[1:]


def _innermost_closer(strict: str, position: int) -> str | None:
    """The bracket that would close the object or array open at `position` of strict JSON text."""
    stack: list[str] = []
    in_string = escaped = False
    for char in strict[:position]:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in _CLOSERS:
            stack.append(_CLOSERS[char])
        elif char in "}]" and stack:
            stack.pop()
    return stack[-1] if stack else None


def _error(what: str, text: str, position: int, detail: str) -> JsonInputError:
    """`what is not valid JSON: detail at line L, column C`, the place being in `text` as given."""
    line = text.count("\n", 0, position) + 1
    column = position - text.rfind("\n", 0, position)
    where = f"at line {line}, column {column}"
    if text.strip() and not text[position:].strip():
        where += " (the end of the text)"
    message = f"{what} is not valid JSON: {detail} {where}"
    return JsonInputError(message, line=line, column=column, position=position)


def _expand(value: str) -> Path:
    """`value` as a path, `~` expanded when there is a home to expand it to."""
    try:
        return Path(value).expanduser()
    except RuntimeError:
        return Path(value)


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # e.g. a name too long to be a file's: it is not one
        return False


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False
