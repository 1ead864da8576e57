"""Narrow the contract to what one model accepts, so positive cases are really valid for it.

The contract says what any conforming server must accept for any model; a server serving
`dall-e-3` must still refuse `size=256x256`. Narrowing rewrites each request schema from the
model's rules (x-imagegen-models), rule by rule, as the rule engine reads them: `model` fixed, a
field's values, bounds and lengths reduced to the model's, a refused field forbidden, custom
sizes drawn from their bounds, the constraints (transparent needs png or webp) as if/then. A body
form whose required field the model refuses is dropped (dall-e-2 has no JSON edits); operations
with a `model` field the model does not serve are removed. A model with no known rules only gets
`model` fixed. Operations without a `model` field are left as the contract has them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..contract import IMAGE, Contract, FieldInfo, FieldRule, ModelRules
from ..contract.models import RULES_KEY
from ..contract.operations import JSON, alternatives
from .strategies import CUSTOM_SIZE_FORMAT, DATA_URL_FORMAT

_DATA_URL_REFERENCE = {
    "type": "object",
    "description": "An image as a base64 PNG data: URL (what any server can read without fetching).",
    "properties": {"image_url": {"type": "string", "format": DATA_URL_FORMAT}},
    "required": ["image_url"],
    "additionalProperties": False,
}


def model_bound(contract: Contract, operation: str) -> bool:
    """Whether requests of `operation` name a model (so the model's rules apply to them)."""
    return any(field.name == "model" for field in contract.request_fields(operation))


def narrow_contract(contract: Contract, model: str, rules: ModelRules | None) -> dict[str, Any]:
    """A copy of the contract whose requests are those `model` (with `rules`) accepts."""
    document = contract.copy_document()
    document.pop(RULES_KEY, None)
    for info in contract.operations:
        item = document["paths"][info.path]
        if rules is not None and model_bound(contract, info.name) and not rules.supports(info.name):
            del item[info.method.lower()]
            continue
        content = item[info.method.lower()].get("requestBody", {}).get("content", {})
        for media, schema_name in info.bodies.items():
            if rules is not None and _refuses_a_required_field(contract, schema_name, rules):
                del content[media]
                continue
            content[media].pop("examples", None)  # written for the whole contract, not this model
            for part in content[media].get("encoding", {}).values():
                part["contentType"] = "image/png"  # the file parts are drawn as real PNGs
            schema = document["components"]["schemas"][schema_name]
            if "model" in schema.get("properties", {}):
                _narrow(contract, schema, schema_name, model, rules, media == JSON)
    document["paths"] = {path: item for path, item in document["paths"].items() if _has_operation(item)}
    return document


def _has_operation(item: Mapping[str, Any]) -> bool:
    return any(key in item for key in ("get", "put", "post", "delete", "patch"))


def _refuses_a_required_field(contract: Contract, schema_name: str, rules: ModelRules) -> bool:
    return any(field.required and not rules.takes(field.name) for field in contract.fields(schema_name))


def _narrow(
    contract: Contract,
    schema: dict[str, Any],
    schema_name: str,
    model: str,
    rules: ModelRules | None,
    is_json: bool,
) -> None:
    properties: dict[str, Any] = schema["properties"]
    fields = {field.name: field for field in contract.fields(schema_name)}

    def put(name: str, subschema: Any) -> None:
        if name not in properties:
            return
        if not is_json or fields[name].required:
            properties[name] = subschema
        elif subschema is False:
            properties[name] = {"type": "null"}  # in JSON, null means "left out": still allowed
        else:
            properties[name] = {"anyOf": [subschema, {"type": "null"}]}

    put("model", {"const": model})
    for name, field in fields.items():
        if field.upload and not field.binary:
            # References by URL or file id need the internet or a files API; data: URLs need neither.
            reference = _DATA_URL_REFERENCE
            properties[name] = (
                {**properties[name], "items": reference} if field.kind == "array" else reference
            )
    if rules is None:
        return
    for name, field in fields.items():
        rule = rules.rule(name)
        if rule is not None and not field.upload:
            put(name, _narrowed_field(contract, field, rule))
    for constraint in (*rules.constraints, *_catalog_constraints(contract)):
        _apply_constraint(properties, constraint, rules, is_json, schema)
    _narrow_uploads(schema, properties, fields, rules)


def _catalog_constraints(contract: Contract) -> tuple[Any, ...]:
    return contract.catalog.constraints


def _narrowed_field(contract: Contract, field: FieldInfo, rule: FieldRule) -> Any:
    if not rule.taken:
        return False
    base = next(
        (dict(alt) for alt in alternatives(contract.document, field.schema) if alt.get("type") != "null"),
        {},
    )
    base.pop("description", None)
    if rule.values is not None:
        listed: dict[str, Any] = {"enum": list(rule.values)}
        if field.kind:
            listed["type"] = field.kind
        if rule.custom_sizes is not None:
            return {"anyOf": [listed, {"type": "string", "format": CUSTOM_SIZE_FORMAT}]}
        return listed
    if rule.maximum is not None:
        base["maximum"] = min(rule.maximum, base.get("maximum", rule.maximum))
    if rule.minimum is not None:
        base["minimum"] = max(rule.minimum, base.get("minimum", rule.minimum))
    if rule.max_length is not None:
        base["maxLength"] = min(rule.max_length, base.get("maxLength", rule.max_length))
    if rule.maximum is None and rule.minimum is None and rule.max_length is None:
        return field.schema  # taken as the contract allows
    return base


def _apply_constraint(
    properties: dict[str, Any], constraint: Any, rules: ModelRules, is_json: bool, schema: dict[str, Any]
) -> None:
    when = {name: value for name, value in constraint.when.items() if name in properties}
    if len(when) != len(constraint.when):
        return
    if not is_json:
        # schemathesis cannot evaluate conditionals over file parts: forms leave out the values
        # a constraint is about (a transparent background) instead.
        for name, value in when.items():
            _drop_value(properties, name, value)
        return
    then: dict[str, Any] = {"properties": {}}
    for name, allowed in constraint.require.items():
        if name in properties and rules.takes(name):
            if rules.default(name) is None or rules.default(name) in allowed:
                # left out (null), the field is the model's default, which the rule allows, or
                # the server's choice when the rules state none: the engine holds only given values
                then["properties"][name] = {"enum": [*allowed, None]}
            else:
                then["properties"][name] = {"enum": list(allowed)}
                then.setdefault("required", []).append(name)
    condition = {
        "properties": {name: {"const": value} for name, value in when.items()},
        "required": list(when),
    }
    schema.setdefault("allOf", []).append({"if": condition, "then": then})


def _drop_value(properties: dict[str, Any], name: str, value: Any) -> None:
    node = properties[name]
    for candidate in [node, *node.get("anyOf", [])] if isinstance(node, dict) else []:
        if isinstance(candidate, dict) and value in candidate.get("enum", []):
            candidate["enum"] = [v for v in candidate["enum"] if v != value]
            if not candidate["enum"]:
                properties[name] = False


def _narrow_uploads(
    schema: dict[str, Any], properties: dict[str, Any], fields: Mapping[str, FieldInfo], rules: ModelRules
) -> None:
    image_rule = rules.upload(IMAGE)
    most = image_rule.max_count if image_rule is not None else 1
    images = [field for field in fields.values() if field.upload == IMAGE]
    single = next((field.name for field in images if field.kind != "array"), None)
    many = next((field.name for field in images if field.kind == "array"), None)
    if many is not None:
        properties[many] = {**properties[many], "maxItems": most}
    if single is not None and many is not None and fields[single].binary:
        # One form of upload per model, so the image count stays within its limit: a single
        # part where the model takes one image, repeated array parts otherwise.
        schema.pop("anyOf", None)
        keep, drop = (single, many) if most == 1 else (many, single)
        properties[drop] = False
        schema["required"] = [*schema.get("required", []), keep]


def relax_header(document: dict[str, Any], name: str) -> None:
    """Drop the length bounds of header `name` in `document`: a server that ignores the header
    (Idempotency-Key, say) is not held to limits it has no reason to check."""
    parameters = list((document.get("components") or {}).get("parameters", {}).values())
    for item in (document.get("paths") or {}).values():
        for operation in [item, *(value for value in item.values() if isinstance(value, dict))]:
            parameters += [p for p in operation.get("parameters", []) if isinstance(p, dict)]
    for parameter in parameters:
        if parameter.get("in") == "header" and str(parameter.get("name", "")).lower() == name.lower():
            schema = parameter.get("schema")
            if isinstance(schema, dict):
                for bound in ("minLength", "maxLength", "pattern"):
                    schema.pop(bound, None)


__all__ = ["model_bound", "narrow_contract", "relax_header"]
