"""Request validation against the contract itself (openapi/images.yaml, with jsonschema).

JSON bodies are checked as they are. Multipart forms are first turned into the JSON the schema
describes: text fields are converted to the declared type (so `n=2` becomes 2), and uploaded
files stand in as strings, with a separate check that file fields hold files and text fields
hold text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

from ..contract import _parsed_contract
from .errors import ApiError, invalid

FILE_PLACEHOLDER = "<file>"


@dataclass(frozen=True)
class Upload:
    """One uploaded file of a multipart form."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


FormValue = str | Upload


class ContractValidator:
    """Checks bodies against the request schemas of one OpenAPI document."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self._components = document["components"]
        self._validators: dict[str, jsonschema.Draft202012Validator] = {}

    def _validator(self, schema_name: str) -> jsonschema.Draft202012Validator:
        if schema_name not in self._validators:
            root = {"$ref": f"#/components/schemas/{schema_name}", "components": self._components}
            self._validators[schema_name] = jsonschema.Draft202012Validator(root)
        return self._validators[schema_name]

    def check_json(self, schema_name: str, body: Any) -> dict[str, Any]:
        """`body` if it satisfies components/schemas/`schema_name`, else a 400 naming the field."""
        if not isinstance(body, dict):
            raise invalid("The request body must be a JSON object.")
        error = best_match(self._validator(schema_name).iter_errors(body))
        if error is not None:
            raise _as_api_error(error)
        return body

    def check_form(self, schema_name: str, form: Sequence[tuple[str, FormValue]]) -> dict[str, Any]:
        """The form as the JSON its schema describes (files as placeholders), or a 400."""
        properties = self._components["schemas"][schema_name].get("properties", {})
        document: dict[str, Any] = {}
        for name, value in form:
            declared = properties.get(name)
            if not isinstance(declared, Mapping):
                # Fields the contract does not know (or forbids) pass as text; the schema decides.
                if isinstance(value, Upload):
                    raise invalid(f"Unexpected file in field '{name}'.", param=name)
                document.setdefault(name, value)
                continue
            if declared.get("type") == "array":
                _expect_file(name, value, _is_binary(declared.get("items", {})))
                document.setdefault(name, []).append(FILE_PLACEHOLDER)
                continue
            if name in document:
                raise invalid(f"Field '{name}' was sent more than once.", param=name)
            _expect_file(name, value, _is_binary(declared))
            kind = self._type_of(declared)
            document[name] = FILE_PLACEHOLDER if isinstance(value, Upload) else _coerce(value, kind)
        return self.check_json(schema_name, document)

    def _type_of(self, schema: Mapping[str, Any]) -> str | None:
        if "$ref" in schema:
            return self._type_of(self._components["schemas"][schema["$ref"].rsplit("/", 1)[-1]])
        kind = schema.get("type")
        if isinstance(kind, str):
            return kind
        examples = [schema["const"]] if "const" in schema else list(schema.get("enum", []))[:1]
        if examples:  # a const or enum without "type": the type of its value
            value = examples[0]
            return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(type(value))
        for alternative in schema.get("anyOf", []):
            found = self._type_of(alternative)
            if found not in (None, "null"):
                return found
        return None


@cache
def _packaged() -> ContractValidator:
    return ContractValidator(_parsed_contract())


def check_json(schema_name: str, body: Any) -> dict[str, Any]:
    """Check a JSON body against the packaged contract (see ContractValidator.check_json)."""
    return _packaged().check_json(schema_name, body)


def check_form(schema_name: str, form: Sequence[tuple[str, FormValue]]) -> dict[str, Any]:
    """Check a multipart form against the packaged contract (see ContractValidator.check_form)."""
    return _packaged().check_form(schema_name, form)


def _is_binary(schema: Mapping[str, Any]) -> bool:
    return schema.get("format") == "binary"


def _expect_file(name: str, value: FormValue, wants_file: bool) -> None:
    if wants_file and not isinstance(value, Upload):
        raise invalid(
            f"'{name}' must be a file upload (a part with a filename), not a text field.", param=name
        )
    if not wants_file and isinstance(value, Upload):
        raise invalid(f"'{name}' must be a text field, not a file upload.", param=name)


def _coerce(text: FormValue, kind: str | None) -> Any:
    """Form text as the declared JSON type; left as text when it does not parse (the schema says why)."""
    assert isinstance(text, str)
    if kind == "integer":
        stripped = text.strip()
        if stripped.lstrip("-").isdigit():
            return int(stripped)
        return text
    if kind == "boolean":
        lowered = text.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        return text
    return text


def _as_api_error(error: ValidationError) -> ApiError:
    param = _param_of(error)
    if error.validator == "required":
        return invalid(
            f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter"
        )
    if error.validator in ("anyOf", "oneOf") and not error.absolute_path:
        return invalid(_alternatives_message(error), param=param)
    return invalid(f"Invalid '{param or 'body'}': {_short(error)}.", param=param, code="invalid_value")


def _keyword_value(error: ValidationError) -> list[Any]:
    """The value of the failing keyword (a list for required, anyOf and oneOf)."""
    value = error.validator_value
    return list(value) if isinstance(value, list) else []


def _param_of(error: ValidationError) -> str | None:
    path = [str(part) if not isinstance(part, int) else f"[{part}]" for part in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in _keyword_value(error) if name not in error.instance]
        if missing:
            path.append(str(missing[0]))
    if error.validator in ("anyOf", "oneOf") and not path:
        for alternative in _keyword_value(error):
            required = alternative.get("required") if isinstance(alternative, dict) else None
            if required:
                return str(required[-1])
    return ".".join(path).replace(".[", "[") or None


def _alternatives_message(error: ValidationError) -> str:
    names = [
        alt["required"][0] for alt in _keyword_value(error) if isinstance(alt, dict) and alt.get("required")
    ]
    if names:
        return f"Missing required parameter: give {' or '.join(repr(name) for name in names)}."
    return f"Invalid request: {_short(error)}."


def _short(error: ValidationError) -> str:
    message = str(error.message)
    return message if len(message) <= 200 else message[:197] + "..."
