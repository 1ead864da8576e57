"""Consistency checks of a contract that its schemas alone cannot express.

- `x-imagegen-models` has the shape openapi/models.schema.yaml describes and loads;
- each model rule names a request field of an operation the model serves, and each value or
  default it lists is one the contract allows for that field;
- each value a model takes for a field its answers echo back (background, quality, size, ...)
  can be echoed: the answer's schema allows it, or lists it as `x-imagegen-request-only` (a
  value such as `auto` that the server resolves before answering).

Errors make the contract unusable; warnings are mismatches a maintainer should look at (a new
`quality` value that answers cannot report). scripts/generate prints both; `imagegen contract
check` exits 1 on errors. Needs jsonschema.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .document import Contract, models_schema
from .models import RULES_KEY, UPLOAD_ROLES, RulesError
from .operations import fields_of

REQUEST_ONLY_KEY = "x-imagegen-request-only"


@dataclass(frozen=True)
class Problem:
    """One finding of `lint`: an error or a warning, and where."""

    severity: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.where}: {self.message}"


def lint(contract: Contract, schema: Mapping[str, Any] | None = None) -> list[Problem]:
    """Every consistency problem of `contract` (the models' shape is checked against `schema`,
    by default the packaged models schema)."""
    import jsonschema

    problems: list[Problem] = []
    data = contract.document.get(RULES_KEY) or {}
    validator = jsonschema.Draft202012Validator(dict(schema or models_schema()))
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        where = ".".join(str(part) for part in error.absolute_path)
        problems.append(Problem("error", f"{RULES_KEY}.{where}".rstrip("."), error.message))
    if problems:
        return problems
    try:
        catalog = contract.catalog
    except RulesError as error:
        return [Problem("error", RULES_KEY, str(error))]
    for model in catalog:
        where = f"{RULES_KEY}.models.{model.name}"
        fields = _fields_of_operations(contract, contract.operation_names)
        for name, rule_data in (model.data.get("fields") or {}).items():
            if name in UPLOAD_ROLES:
                continue
            declared = fields.get(name)
            if declared is None:
                problems.append(
                    Problem(
                        "error",
                        f"{where}.fields.{name}",
                        f"no request of the contract has a field {name!r}",
                    )
                )
                continue
            problems.extend(_values_problems(contract, f"{where}.fields.{name}", declared, rule_data))
        if model.usage:
            problems.extend(
                _echo_problems(contract, model.name, model.operations, model.data.get("fields") or {})
            )
    return problems


def _fields_of_operations(contract: Contract, operations: tuple[str, ...]) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for name in operations:
        for schema_name in contract.operation(name).bodies.values():
            for field in fields_of(contract.document, schema_name):
                found.setdefault(field.name, field.schema)
    return found


def _values_problems(contract: Contract, where: str, declared: Mapping[str, Any], rule: Any) -> list[Problem]:
    if not isinstance(rule, Mapping):
        return []
    listed = [*(rule.get("values") or [])]
    if "default" in rule:
        listed.append(rule["default"])
    validator = _property_validator(contract, declared)
    return [
        Problem("error", where, f"{value!r} is not a value the contract allows for this field")
        for value in listed
        if not validator.is_valid(value)
    ]


def _echo_problems(
    contract: Contract, model: str, operations: tuple[str, ...], rules: Mapping[str, Any]
) -> list[Problem]:
    problems = []
    for operation in operations:
        answer = contract.operation(operation).answer
        if answer is None:
            continue
        echoed = {field.name: field.schema for field in fields_of(contract.document, answer)}
        for name, rule in rules.items():
            if name not in echoed or not isinstance(rule, Mapping) or not rule.get("values"):
                continue
            target = contract.resolve(echoed[name])
            request_only = set(target.get(REQUEST_ONLY_KEY, [])) | set(echoed[name].get(REQUEST_ONLY_KEY, []))
            validator = _property_validator(contract, echoed[name])
            for value in rule["values"]:
                if value not in request_only and not validator.is_valid(value):
                    problems.append(
                        Problem(
                            "warning",
                            f"{RULES_KEY}.models.{model}.fields.{name}",
                            f"{model} takes {name}={value!r}, which its {operation} answers cannot report "
                            f"({answer}.{name} does not allow it); add it to that schema, or list it "
                            f"in its {REQUEST_ONLY_KEY} if the server resolves it before answering",
                        )
                    )
    return problems


def _property_validator(contract: Contract, declared: Mapping[str, Any]) -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator({**declared, "components": contract.document["components"]})
