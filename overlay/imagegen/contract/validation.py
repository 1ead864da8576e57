"""Validation of request bodies against the contract's schemas, with jsonschema.

JSON bodies are checked as they are. Multipart forms are first turned into the JSON their
schema describes: text fields are converted to the declared type (so `n=2` becomes 2), and
uploaded files stand in as placeholders, with a separate check that file fields hold files and
text fields hold text. Problems are `RequestInvalid` errors naming the field; the reference server
answers them in the OpenAI error envelope, the conformance runner uses them to judge what it sent.

jsonschema is imported on first use: it comes with the `server` and `conformance` extras. When
jsonschema_rs (Rust, the validator schemathesis itself uses) is installed, it answers first
whether a body is valid, in under a microsecond where jsonschema takes 50-130 µs on this
project's test machine, a fifth of the reference server's own work per request; jsonschema is
asked only about bodies that are not, for its best-matching error message. Both read the same
Draft 2020-12 schema with formats as annotations, and tests/test_contract_validation.py checks
that they agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .operations import fields_of

if TYPE_CHECKING:
    import jsonschema
    from jsonschema.exceptions import ValidationError

FILE_PLACEHOLDER = "<file>"


class RequestInvalid(ValueError):
    """A request body breaks the contract: a message for people, the field at fault, a code."""

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


@dataclass(frozen=True)
class FormFile:
    """One uploaded file of a multipart form."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


FormValue = str | FormFile


class RequestValidator:
    """Checks bodies against the request schemas of one OpenAPI document."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self._document = document
        # One entry per schema, set at once: the server's jobs share this validator, and a
        # thread must never find one of a schema's two checkers without the other.
        self._checkers: dict[str, tuple[jsonschema.Draft202012Validator, Callable[[Any], bool]]] = {}

    def _validator(self, schema_name: str) -> jsonschema.Draft202012Validator:
        return self._checked_by(schema_name)[0]

    def _checked_by(self, schema_name: str) -> tuple[jsonschema.Draft202012Validator, Callable[[Any], bool]]:
        found = self._checkers.get(schema_name)
        if found is None:
            import jsonschema

            components = self._document["components"]
            schemas = components.get("schemas", {})
            root = {**_inlined(schemas[schema_name], schemas, (schema_name,)), "components": components}
            validator = jsonschema.Draft202012Validator(root)
            found = self._checkers[schema_name] = (validator, _quick_check(root, validator))
        return found

    def is_valid(self, schema_name: str, instance: Any) -> bool:
        """Whether `instance` satisfies components/schemas/`schema_name` (the quick check)."""
        return self._checked_by(schema_name)[1](instance)

    def errors(self, schema_name: str, instance: Any) -> list[str]:
        """The messages of every way `instance` breaks components/schemas/`schema_name`."""
        return [str(error.message) for error in self._validator(schema_name).iter_errors(instance)]

    def check_json(self, schema_name: str, body: Any) -> dict[str, Any]:
        """`body` if it satisfies components/schemas/`schema_name`, else RequestInvalid naming the field."""
        from jsonschema.exceptions import best_match

        if not isinstance(body, dict):
            raise RequestInvalid("The request body must be a JSON object.")
        if self.is_valid(schema_name, body):
            return body
        error = best_match(self._validator(schema_name).iter_errors(body))
        if error is not None:
            raise _as_problem(error)
        return body

    def check_form(self, schema_name: str, form: Sequence[tuple[str, FormValue]]) -> dict[str, Any]:
        """The form as the JSON its schema describes (files as placeholders), or RequestInvalid."""
        declared = {info.name: info for info in fields_of(self._document, schema_name)}
        document: dict[str, Any] = {}
        for name, value in form:
            info = declared.get(name)
            if info is None:
                # Fields the contract does not know (or forbids) pass as text; the schema decides.
                if isinstance(value, FormFile):
                    raise RequestInvalid(f"Unexpected file in field '{name}'.", param=name)
                document.setdefault(name, value)
                continue
            if info.kind == "array":
                _expect_file(name, value, info.binary)
                document.setdefault(name, []).append(
                    FILE_PLACEHOLDER if isinstance(value, FormFile) else value
                )
                continue
            if name in document:
                raise RequestInvalid(f"Field '{name}' was sent more than once.", param=name)
            _expect_file(name, value, info.binary)
            document[name] = FILE_PLACEHOLDER if isinstance(value, FormFile) else _coerce(value, info.kind)
        return self.check_json(schema_name, document)


def _quick_check(root: dict[str, Any], validator: jsonschema.Draft202012Validator) -> Callable[[Any], bool]:
    """jsonschema_rs's check of `root` when it is installed, else `validator`'s (jsonschema)."""
    try:
        import jsonschema_rs
    except ImportError:
        return validator.is_valid
    return jsonschema_rs.Draft202012Validator(root, validate_formats=False).is_valid


def _expect_file(name: str, value: FormValue, wants_file: bool) -> None:
    if wants_file and not isinstance(value, FormFile):
        raise RequestInvalid(
            f"'{name}' must be a file upload (a part with a filename), not a text field.", param=name
        )
    if not wants_file and isinstance(value, FormFile):
        raise RequestInvalid(f"'{name}' must be a text field, not a file upload.", param=name)


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


_SCHEMA_REF = "#/components/schemas/"


def _inlined(node: Any, schemas: Mapping[str, Any], within: tuple[str, ...]) -> Any:
    """`node` with each `$ref` to a component schema replaced by that schema (a ref beside other
    keywords becomes an allOf, as 2020-12 reads it). Following refs is most of jsonschema's time
    on the contract's bodies; a ref back into a schema being inlined (a cycle) stays a ref."""
    if isinstance(node, list):
        return [_inlined(item, schemas, within) for item in node]
    if not isinstance(node, Mapping):
        return node
    ref = node.get("$ref")
    name = ref[len(_SCHEMA_REF) :] if isinstance(ref, str) and ref.startswith(_SCHEMA_REF) else None
    if name is not None and name in schemas and name not in within:
        target = _inlined(schemas[name], schemas, (*within, name))
        rest = {key: _inlined(value, schemas, within) for key, value in node.items() if key != "$ref"}
        return {"allOf": [target], **rest} if rest else target
    return {key: _inlined(value, schemas, within) for key, value in node.items()}


def _as_problem(error: ValidationError) -> RequestInvalid:
    param = _param_of(error)
    if error.validator == "required":
        return RequestInvalid(
            f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter"
        )
    if error.validator in ("anyOf", "oneOf") and not error.absolute_path:
        return RequestInvalid(_alternatives_message(error), param=param)
    return RequestInvalid(f"Invalid '{param or 'body'}': {_short(error)}.", param=param, code="invalid_value")


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
