"""Per-model rules: which values each model takes, read from the contract's `x-imagegen-models`.

The reference server, the client's optional checks and the conformance runner all read these,
so they agree on what, say, `dall-e-3` accepts. Servers may add models of their own with
`ModelCatalog.with_models` (a LocalAI-like `sd-1.5-ggml` taking any size up to 1024x1024).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from .contract import _parsed_contract

Operation = Literal["generations", "edits", "variations"]
OPERATIONS: tuple[Operation, ...] = ("generations", "edits", "variations")
RULES_KEY = "x-imagegen-models"
_SIZE = re.compile(r"^([1-9][0-9]{0,4})x([1-9][0-9]{0,4})$")


class RulesError(ValueError):
    """The model rules are malformed; the message names the model and the field."""


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
        """None if the size fits these bounds, else a sentence saying which bound it breaks."""
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
class InputRules:
    """What the uploaded images of edits and variations (or a mask) must be."""

    formats: tuple[str, ...]
    max_bytes: int
    max_images: int = 1
    square: bool = False


@dataclass(frozen=True)
class ModelRules:
    """Everything one model accepts. An empty tuple of values means the field is refused."""

    name: str
    operations: tuple[Operation, ...]
    prompt_max_length: int
    max_n: int
    sizes: tuple[str, ...]
    default_size: str
    qualities: tuple[str, ...]
    styles: tuple[str, ...]
    response_formats: tuple[str, ...]
    default_response_format: str
    output_formats: tuple[str, ...]
    backgrounds: tuple[str, ...]
    moderations: tuple[str, ...]
    output_compression: bool
    streaming: bool
    input_fidelity: bool
    revised_prompt: bool
    usage: bool
    aliases: tuple[str, ...] = ()
    custom_sizes: CustomSizes | None = None
    inputs: InputRules | None = None
    mask: InputRules | None = None

    def why_size_not(self, size: str) -> str | None:
        """None if the model takes `size`, else a sentence saying what it takes instead."""
        if size in self.sizes:
            return None
        parsed = parse_size(size)
        if parsed is not None and self.custom_sizes is not None:
            reason = self.custom_sizes.why_not(*parsed)
            if reason is None:
                return None
            return f"{self.name} does not take size {size}: {reason}"
        listed = ", ".join(self.sizes)
        return f"{self.name} takes these sizes only: {listed}"

    def supports(self, operation: Operation) -> bool:
        """Whether the model serves `operation`."""
        return operation in self.operations


@dataclass(frozen=True, eq=False)  # compared and hashed by identity, so lookups can be cached
class ModelCatalog:
    """The models a server knows, by name and alias, with the default model of each operation."""

    models: Mapping[str, ModelRules]
    defaults: Mapping[Operation, str] = field(default_factory=dict)

    def get(self, name: str) -> ModelRules | None:
        """The rules of model `name` (or of the model it is an alias of); None when unknown."""
        if name in self.models:
            return self.models[name]
        return next((m for m in self.models.values() if name in m.aliases), None)

    def default_for(self, operation: Operation) -> ModelRules | None:
        """The model a server uses for `operation` when the request names none."""
        name = self.defaults.get(operation)
        return self.get(name) if name else None

    def with_models(self, *extra: ModelRules) -> ModelCatalog:
        """A catalog with `extra` models added (replacing models of the same name)."""
        merged = dict(self.models)
        merged.update({model.name: model for model in extra})
        return ModelCatalog(models=merged, defaults=self.defaults)

    def __iter__(self) -> Iterator[ModelRules]:
        return iter(self.models.values())

    def __len__(self) -> int:
        return len(self.models)


def default_catalog() -> ModelCatalog:
    """The OpenAI models as the packaged contract describes them."""
    return catalog_from(_parsed_contract().get(RULES_KEY) or {})


def catalog_from(data: Mapping[str, Any]) -> ModelCatalog:
    """Build a catalog from data shaped like the contract's `x-imagegen-models`."""
    models = {name: model_from(name, rules) for name, rules in (data.get("models") or {}).items()}
    defaults: dict[Operation, str] = {}
    for operation, name in (data.get("defaults") or {}).items():
        if operation not in OPERATIONS:
            raise RulesError(f"defaults: unknown operation {operation!r}; use one of {OPERATIONS}")
        defaults[cast(Operation, operation)] = str(name)
    catalog = ModelCatalog(models=models, defaults=defaults)
    for operation, name in defaults.items():
        if catalog.get(name) is None:
            raise RulesError(f"defaults: {operation} names {name!r}, which has no rules")
    return catalog


_REQUIRED = (
    "operations", "prompt_max_length", "max_n", "sizes", "default_size", "qualities", "styles",
    "response_formats", "default_response_format", "output_formats", "backgrounds",
    "moderations", "output_compression", "streaming", "input_fidelity", "revised_prompt", "usage",
)  # fmt: skip
_OPTIONAL = ("aliases", "custom_sizes", "inputs", "mask")


def model_from(name: str, data: Mapping[str, Any]) -> ModelRules:
    """Build the rules of one model from its `x-imagegen-models` entry, checking every field."""
    missing = [key for key in _REQUIRED if key not in data]
    unknown = [key for key in data if key not in _REQUIRED and key not in _OPTIONAL]
    if missing or unknown:
        parts = [f"missing {', '.join(missing)}"] if missing else []
        parts += [f"unknown {', '.join(unknown)}"] if unknown else []
        raise RulesError(f"model {name!r}: {'; '.join(parts)}")
    operations = tuple(data["operations"])
    for operation in operations:
        if operation not in OPERATIONS:
            raise RulesError(f"model {name!r}: unknown operation {operation!r}")
    try:
        rules = ModelRules(
            name=name,
            operations=cast(tuple[Operation, ...], operations),
            prompt_max_length=int(data["prompt_max_length"]),
            max_n=int(data["max_n"]),
            sizes=_strings(data["sizes"]),
            default_size=str(data["default_size"]),
            qualities=_strings(data["qualities"]),
            styles=_strings(data["styles"]),
            response_formats=_strings(data["response_formats"]),
            default_response_format=str(data["default_response_format"]),
            output_formats=_strings(data["output_formats"]),
            backgrounds=_strings(data["backgrounds"]),
            moderations=_strings(data["moderations"]),
            output_compression=bool(data["output_compression"]),
            streaming=bool(data["streaming"]),
            input_fidelity=bool(data["input_fidelity"]),
            revised_prompt=bool(data["revised_prompt"]),
            usage=bool(data["usage"]),
            aliases=_strings(data.get("aliases", ())),
            custom_sizes=CustomSizes(**data["custom_sizes"]) if data.get("custom_sizes") else None,
            inputs=_input_rules(data["inputs"]) if data.get("inputs") else None,
            mask=_input_rules(data["mask"]) if data.get("mask") else None,
        )
    except (TypeError, ValueError) as error:
        raise RulesError(f"model {name!r}: {error}") from None
    if rules.why_size_not(rules.default_size):
        raise RulesError(f"model {name!r}: default_size {rules.default_size} is not one it takes")
    if "edits" in operations and rules.inputs is None:
        raise RulesError(f"model {name!r}: edits need `inputs` rules")
    if "variations" in operations and rules.inputs is None:
        raise RulesError(f"model {name!r}: variations need `inputs` rules")
    return rules


def _strings(values: Any) -> tuple[str, ...]:
    if isinstance(values, str) or not all(isinstance(value, str) for value in values):
        raise TypeError(f"expected a list of strings, got {values!r}")
    return tuple(values)


def _input_rules(data: Mapping[str, Any]) -> InputRules:
    return InputRules(
        formats=_strings(data["formats"]),
        max_bytes=int(data["max_bytes"]),
        max_images=int(data.get("max_images", 1)),
        square=bool(data.get("square", False)),
    )
