"""Per-model rules, read from the contract's `x-imagegen-models`.

Its shape is openapi/models.schema.yaml: for each model, the operations it serves and a rule per
request field it restricts (keyed by the field's name), plus what its answers carry. The rules
are applied by one engine (`imagegen.contract.engine.violations`), so the client's checks, the
reference server and the conformance runner agree on what, say, `dall-e-3` accepts. Servers may
add models of their own (`ModelCatalog.with_models`, `imagegen serve --models FILE`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

RULES_KEY = "x-imagegen-models"
IMAGE, MASK = "image", "mask"
UPLOAD_ROLES = (IMAGE, MASK)
_SIZE = re.compile(r"^([1-9][0-9]{0,4})x([1-9][0-9]{0,4})$")
_NO_DEFAULT = object()


class RulesError(ValueError):
    """The model rules are malformed; the message names the model and the key."""


def parse_size(size: str) -> tuple[int, int] | None:
    """`"1024x768"` -> `(1024, 768)`; None for `auto` or anything that is not WIDTHxHEIGHT."""
    match = _SIZE.match(size)
    return (int(match.group(1)), int(match.group(2))) if match else None


@dataclass(frozen=True)
class CustomSizes:
    """Bounds within which a model takes any WIDTHxHEIGHT (besides its listed sizes)."""

    multiple_of: int = 1
    min_edge: int = 1
    max_edge: int = 4096
    max_aspect_ratio: float | None = None
    max_pixels: int | None = None

    def describe(self) -> str:
        """The bounds as a phrase, e.g. "any WIDTHxHEIGHT in multiples of 16, ..."."""
        parts = [f"any WIDTHxHEIGHT from {self.min_edge} to {self.max_edge} per side"]
        if self.multiple_of > 1:
            parts.append(f"in multiples of {self.multiple_of}")
        if self.max_aspect_ratio is not None:
            parts.append(f"ratio at most {self.max_aspect_ratio:g}:1")
        if self.max_pixels is not None:
            parts.append(f"at most {self.max_pixels} pixels")
        return ", ".join(parts)

    def why_not(self, width: int, height: int) -> str | None:
        """None if the size fits these bounds, else a phrase saying which bound it breaks."""
        if width % self.multiple_of or height % self.multiple_of:
            return f"width and height must be multiples of {self.multiple_of}"
        if min(width, height) < self.min_edge or max(width, height) > self.max_edge:
            return f"width and height must be between {self.min_edge} and {self.max_edge}"
        ratio = max(width, height) / min(width, height)
        if self.max_aspect_ratio is not None and ratio > self.max_aspect_ratio:
            return f"the aspect ratio must be at most {self.max_aspect_ratio:g}:1"
        if self.max_pixels is not None and width * height > self.max_pixels:
            return f"the size must have at most {self.max_pixels} pixels"
        return None


@dataclass(frozen=True)
class FieldRule:
    """What one model takes for one request field. All None (and taken) means no restriction."""

    taken: bool = True
    values: tuple[Any, ...] | None = None
    default: Any = None
    has_default: bool = False
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    custom_sizes: CustomSizes | None = None


@dataclass(frozen=True)
class UploadRule:
    """What each uploaded image (role `image`) or the mask (role `mask`) must be for one model."""

    formats: tuple[str, ...]
    max_bytes: int
    max_count: int = 1
    square: bool = False
    taken: bool = True
    """False when the model takes no upload of this role at all (`mask: false`)."""


@dataclass(frozen=True)
class Constraint:
    """When every field of `when` has its value, each field of `require` must be one of its values."""

    when: Mapping[str, Any]
    require: Mapping[str, tuple[Any, ...]]
    message: str


@dataclass(frozen=True)
class ModelRules:
    """Everything one model accepts, as `x-imagegen-models` says."""

    name: str
    operations: tuple[str, ...]
    fields: Mapping[str, FieldRule]
    uploads: Mapping[str, UploadRule | None] = field(default_factory=dict)
    constraints: tuple[Constraint, ...] = ()
    revised_prompt: bool = False
    usage: bool = False
    aliases: tuple[str, ...] = ()
    retired_upstream: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The entry as the contract (or a models file) wrote it."""

    def supports(self, operation: str) -> bool:
        """Whether the model serves `operation` (an x-imagegen-operation name such as "edits")."""
        return operation in self.operations

    def rule(self, name: str) -> FieldRule | None:
        """The rule for request field `name`; None when the model does not restrict it."""
        return self.fields.get(name)

    def takes(self, name: str) -> bool:
        """Whether the model takes field `name` at all (False when it must be left out)."""
        rule = self.fields.get(name)
        return rule is None or rule.taken

    def values(self, name: str) -> tuple[Any, ...] | None:
        """The values the model takes for `name`: None for any, () when it refuses the field."""
        rule = self.fields.get(name)
        if rule is None:
            return None
        return rule.values if rule.taken else ()

    def default(self, name: str, fallback: Any = None) -> Any:
        """What the model uses when `name` is left out (`fallback` when the rules do not say)."""
        rule = self.fields.get(name)
        return rule.default if rule is not None and rule.has_default else fallback

    def upload(self, role: str) -> UploadRule | None:
        """The rules for uploads of `role` (`image` or `mask`), if the model has any."""
        return self.uploads.get(role)

    def why_size_not(self, size: str) -> str | None:
        """None if the model takes `size`, else a sentence saying what it takes instead."""
        from .engine import value_problem

        return value_problem(self, "size", size)


@dataclass(frozen=True, eq=False)  # compared and hashed by identity, so lookups can be cached
class ModelCatalog:
    """The models a server knows, by name and alias, with the default model of each operation."""

    models: Mapping[str, ModelRules]
    defaults: Mapping[str, str] = field(default_factory=dict)
    constraints: tuple[Constraint, ...] = ()

    def get(self, name: str) -> ModelRules | None:
        """The rules of model `name` (or of the model it is an alias of); None when unknown."""
        if name in self.models:
            return self.models[name]
        return self._aliases.get(name)

    @cached_property
    def _aliases(self) -> dict[str, ModelRules]:
        return {alias: model for model in self.models.values() for alias in model.aliases}

    def default_for(self, operation: str) -> ModelRules | None:
        """The model a server uses for `operation` when the request names none."""
        name = self.defaults.get(operation)
        return self.get(name) if name else None

    def serving(self, operation: str) -> list[ModelRules]:
        """The models that serve `operation`."""
        return [model for model in self.models.values() if model.supports(operation)]

    def with_models(self, *extra: ModelRules) -> ModelCatalog:
        """A catalog with `extra` models added (replacing models of the same name)."""
        merged = dict(self.models)
        merged.update({model.name: model for model in extra})
        return ModelCatalog(models=merged, defaults=self.defaults, constraints=self.constraints)

    @cached_property
    def _known(self) -> dict[str, frozenset[Any]]:
        known: dict[str, set[Any]] = {}
        for model in self.models.values():
            for name, rule in model.fields.items():
                if rule.values is not None:
                    known.setdefault(name, set()).update(_hashable(v) for v in rule.values)
        return {name: frozenset(values) for name, values in known.items()}

    def known_values(self, name: str) -> frozenset[Any]:
        """Every value some model of the catalog lists for field `name`."""
        return self._known.get(name, frozenset())

    def __iter__(self) -> Iterator[ModelRules]:
        return iter(self.models.values())

    def __len__(self) -> int:
        return len(self.models)


def catalog_from(data: Mapping[str, Any], operations: tuple[str, ...] | None = None) -> ModelCatalog:
    """Build a catalog from data shaped like `x-imagegen-models`.

    `operations` are the operation names of the contract; when given, a model or default naming
    another operation is refused.
    """
    if not isinstance(data, Mapping):
        raise RulesError(f"{RULES_KEY} must be a mapping, not {type(data).__name__}")
    constraints = tuple(_constraint(item, "constraints") for item in data.get("constraints") or ())
    models = {
        str(name): model_from(str(name), rules, operations)
        for name, rules in (data.get("models") or {}).items()
    }
    defaults: dict[str, str] = {}
    for operation, name in (data.get("defaults") or {}).items():
        if operations is not None and operation not in operations:
            raise RulesError(
                f"defaults: unknown operation {operation!r}; the contract has {', '.join(operations)}"
            )
        defaults[str(operation)] = str(name)
    catalog = ModelCatalog(models=models, defaults=defaults, constraints=constraints)
    for operation, name in defaults.items():
        if catalog.get(name) is None:
            raise RulesError(f"defaults: {operation} names {name!r}, which has no rules")
    return catalog


def model_from(name: str, data: Any, operations: tuple[str, ...] | None = None) -> ModelRules:
    """Build the rules of one model from its `x-imagegen-models` entry (RulesError if malformed)."""
    where = f"model {name!r}"
    if not isinstance(data, Mapping):
        raise RulesError(f"{where}: expected a mapping of rules, not {type(data).__name__}")
    shape = _model_shape()
    missing = [key for key in shape.get("required", []) if key not in data]
    unknown = [key for key in data if key not in shape.get("properties", {})]
    if missing or unknown:
        parts = [f"missing {', '.join(missing)}"] if missing else []
        parts += [f"unknown {', '.join(map(str, unknown))}"] if unknown else []
        raise RulesError(f"{where}: {'; '.join(parts)}")
    served = _strings(data["operations"], f"{where}: operations")
    for operation in served:
        if operations is not None and operation not in operations:
            raise RulesError(
                f"{where}: unknown operation {operation!r}; the contract has {', '.join(operations)}"
            )
    fields_data = data["fields"]
    if not isinstance(fields_data, Mapping):
        raise RulesError(f"{where}: fields must be a mapping of field name to rule")
    rules: dict[str, FieldRule] = {}
    uploads: dict[str, UploadRule | None] = {}
    for field_name, rule in fields_data.items():
        if field_name in UPLOAD_ROLES:
            uploads[field_name] = _upload(rule, f"{where}: fields.{field_name}")
        else:
            rules[str(field_name)] = _field(rule, f"{where}: fields.{field_name}")
    answers = data["answers"]
    if not isinstance(answers, Mapping) or not all(
        isinstance(answers.get(k), bool) for k in ("revised_prompt", "usage")
    ):
        raise RulesError(f"{where}: answers needs revised_prompt and usage, true or false")
    retired = data.get("retired_upstream")
    model = ModelRules(
        name=name,
        operations=served,
        fields=rules,
        uploads=uploads,
        constraints=tuple(
            _constraint(item, f"{where}: constraints") for item in data.get("constraints") or ()
        ),
        revised_prompt=bool(answers["revised_prompt"]),
        usage=bool(answers["usage"]),
        aliases=_strings(data.get("aliases", ()), f"{where}: aliases"),
        retired_upstream=str(retired) if retired is not None else None,
        data=data,
    )
    size = model.rule("size")
    if size is not None and size.has_default and model.why_size_not(str(size.default)):
        raise RulesError(f"{where}: the default size {size.default} is not one it takes")
    return model


def _model_shape() -> Mapping[str, Any]:
    """The keys a model entry has, as openapi/models.schema.yaml lists them (the one list)."""
    from .document import models_schema

    shape: Mapping[str, Any] = models_schema()["$defs"]["model"]
    return shape


def _field(rule: Any, where: str) -> FieldRule:
    if isinstance(rule, bool):
        return FieldRule(taken=rule)
    if not isinstance(rule, Mapping) or not rule:
        raise RulesError(
            f"{where}: a rule is true, false or a mapping (refused, values, default, min, max, ...)"
        )
    unknown = set(rule) - set(_field_shape())
    if unknown:
        raise RulesError(f"{where}: unknown {', '.join(sorted(unknown))}")
    values = rule.get("values")
    if values is not None and (isinstance(values, str) or not isinstance(values, list) or not values):
        raise RulesError(f"{where}: values must be a non-empty list")
    try:
        return FieldRule(
            taken=rule.get("refused") is not True,
            values=tuple(values) if values is not None else None,
            default=rule.get("default"),
            has_default="default" in rule,
            minimum=float(rule["min"]) if "min" in rule else None,
            maximum=float(rule["max"]) if "max" in rule else None,
            max_length=int(rule["max_length"]) if "max_length" in rule else None,
            custom_sizes=CustomSizes(**rule["custom_sizes"]) if rule.get("custom_sizes") else None,
        )
    except (TypeError, ValueError) as error:
        raise RulesError(f"{where}: {error}") from None


def _field_shape() -> Mapping[str, Any]:
    from .document import models_schema

    options: list[Mapping[str, Any]] = models_schema()["$defs"]["field"]["oneOf"]
    shape: Mapping[str, Any] = next(option for option in options if option.get("type") == "object")[
        "properties"
    ]
    return shape


def _upload(rule: Any, where: str) -> UploadRule | None:
    if rule is True:
        return None  # taken as the contract allows
    if rule is False:
        return UploadRule(formats=(), max_bytes=0, taken=False)
    if not isinstance(rule, Mapping) or "formats" not in rule or "max_bytes" not in rule:
        raise RulesError(f"{where}: needs formats and max_bytes")
    try:
        return UploadRule(
            formats=_strings(rule["formats"], f"{where}.formats"),
            max_bytes=int(rule["max_bytes"]),
            max_count=int(rule.get("max_count", 1)),
            square=bool(rule.get("square", False)),
        )
    except (TypeError, ValueError) as error:
        raise RulesError(f"{where}: {error}") from None


def _constraint(item: Any, where: str) -> Constraint:
    if not isinstance(item, Mapping) or not all(key in item for key in ("when", "require", "message")):
        raise RulesError(f"{where}: each constraint has when, require and message")
    require = item["require"]
    if not isinstance(require, Mapping) or not all(isinstance(v, list) and v for v in require.values()):
        raise RulesError(f"{where}: require maps each field to a non-empty list of values")
    return Constraint(
        when=dict(item["when"]),
        require={str(k): tuple(v) for k, v in require.items()},
        message=str(item["message"]).rstrip("."),
    )


def _strings(values: Any, where: str) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, list | tuple):
        raise RulesError(f"{where}: expected a list of strings, got {values!r}")
    if not all(isinstance(value, str) for value in values):
        raise RulesError(f"{where}: expected a list of strings, got {values!r}")
    return tuple(values)


def _hashable(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | None) else repr(value)
