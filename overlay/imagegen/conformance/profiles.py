"""Profiles: what a kind of server documents, so a run tests what the server claims and no more.

A profile is a YAML file (the packaged ones are in `profiles/`, each citing its sources): the
operations the server documents and, for each, the request fields it documents (`all`, or a
list) and the values it documents for some of them. Operations a profile leaves out are reported
as "not documented" instead of being tested; fields it leaves out are not sent (and not held to
any rule); `streaming: false` says the server documents no streaming. The report names the
profile used.

    profile = load_profile("localai")           # a packaged profile, or the path of a YAML file
    document = profile.apply(contract, narrowed)  # the narrowed contract, cut to what it documents
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ..contract import Contract

_PACKAGE = "imagegen.conformance"
_FOLDER = "profiles"
ALL = "all"


class ProfileError(ValueError):
    """A profile cannot be read or does not fit the contract; the message says what to change."""


@dataclass(frozen=True)
class OperationProfile:
    """What a profile documents of one operation."""

    fields: frozenset[str] | None
    """The request fields documented; None for all of them."""
    values: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    """Fields whose documented values are fewer than the contract's."""


@dataclass(frozen=True)
class Profile:
    """One kind of server: its name, what it documents, and where that was read."""

    name: str
    description: str
    operations: Mapping[str, OperationProfile]
    streaming: bool = True
    source: str = ""

    def documents(self, operation: str) -> bool:
        return operation in self.operations

    def documents_field(self, operation: str, name: str) -> bool:
        documented = self.operations.get(operation)
        return documented is not None and (documented.fields is None or name in documented.fields)

    def check(self, contract: Contract) -> None:
        """ProfileError unless every operation and field it names is the contract's."""
        for name, documented in self.operations.items():
            if name not in contract.operation_names:
                known = ", ".join(contract.operation_names)
                raise ProfileError(
                    f"profile {self.name}: unknown operation {name!r}; the contract has {known}"
                )
            fields = {info.name for info in contract.request_fields(name)}
            for listed in sorted((documented.fields or frozenset()) | set(documented.values)):
                if listed not in fields:
                    raise ProfileError(f"profile {self.name}: {name} has no field {listed!r}")

    def apply(self, contract: Contract, document: dict[str, Any]) -> dict[str, Any]:
        """`document` (a narrowed copy of `contract`) without the fields this profile leaves out
        and with only the values it documents; a body form one of whose required fields it leaves
        out is not documented either (vLLM-Omni's edits are multipart only). Operations are left to
        the caller to choose."""
        schemas = document["components"]["schemas"]
        for info in contract.operations:
            documented = self.operations.get(info.name)
            item = document.get("paths", {}).get(info.path, {}).get(info.method.lower())
            if documented is None or item is None:
                continue
            content = item.get("requestBody", {}).get("content", {})
            for media, schema_name in info.bodies.items():
                schema = schemas.get(schema_name)
                if schema is None or media not in content:
                    continue
                required = set(schema.get("required", []))
                if documented.fields is not None and not required <= documented.fields:
                    del content[media]
                    continue
                _cut(schema, documented)
        return document


def _cut(schema: dict[str, Any], documented: OperationProfile) -> None:
    properties: dict[str, Any] = schema.get("properties", {})
    if documented.fields is not None:
        for name in [name for name in properties if name not in documented.fields]:
            del properties[name]
        schema["required"] = [name for name in schema.get("required", []) if name in properties]
        for keyword in ("anyOf", "oneOf"):
            if keyword not in schema:
                continue
            kept = [
                alternative
                for alternative in schema[keyword]
                if set(alternative.get("required", [])) <= set(properties)
            ]
            if len(kept) == 1:
                del schema[keyword]
                schema["required"] = list(dict.fromkeys([*schema["required"], *kept[0].get("required", [])]))
            elif kept:
                schema[keyword] = kept
            else:
                del schema[keyword]
    for name, values in documented.values.items():
        current = properties.get(name)
        if current is None or current is False or current == {"type": "null"}:
            continue  # not in the body, or refused by the model's rules: nothing to restrict
        allowed = _enum_of(current)
        kept = [value for value in values if allowed is None or value in allowed]
        properties[name] = {"enum": kept} if kept else False


def _enum_of(schema: Any) -> list[Any] | None:
    """The values a (narrowed) property lists, through anyOf; None when it is open."""
    if not isinstance(schema, dict):
        return None
    if "enum" in schema:
        return list(schema["enum"])
    if "const" in schema:
        return [schema["const"]]
    for alternative in schema.get("anyOf", []):
        found = _enum_of(alternative)
        if found is not None:
            return found
    return None


def profile_names() -> list[str]:
    """The packaged profiles, by name."""
    folder = resources.files(_PACKAGE).joinpath(_FOLDER)
    return sorted(item.name.removesuffix(".yaml") for item in folder.iterdir() if item.name.endswith(".yaml"))


def load_profile(name_or_path: str) -> Profile:
    """A packaged profile by name, or a profile read from a YAML file."""
    path = Path(name_or_path)
    if name_or_path in profile_names():
        text = resources.files(_PACKAGE).joinpath(_FOLDER, f"{name_or_path}.yaml").read_text(encoding="utf-8")
        source = f"the packaged profile {name_or_path}"
    elif path.suffix in (".yaml", ".yml", ".json") and path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ProfileError(f"cannot read {path}: {error}") from None
        source = str(path)
    else:
        raise ProfileError(
            f"no profile {name_or_path!r}: use {', '.join(profile_names())}, or the path of a YAML file"
        )
    return parse_profile(text, source)


def parse_profile(text: str, source: str) -> Profile:
    """A profile from its YAML text; ProfileError naming `source` when it is malformed."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ProfileError(f"{source} is not valid YAML: {error}") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("operations"), Mapping):
        raise ProfileError(f"{source}: a profile has a name and operations: {{NAME: {{fields: [...]}}}}")
    operations = {}
    for operation, entry in data["operations"].items():
        if not isinstance(entry, Mapping):
            raise ProfileError(f"{source}: operations.{operation} must be a mapping with fields")
        listed = entry.get("fields", ALL)
        if listed != ALL and not (isinstance(listed, list) and all(isinstance(n, str) for n in listed)):
            raise ProfileError(f"{source}: operations.{operation}.fields is `all` or a list of field names")
        values = entry.get("values") or {}
        if not isinstance(values, Mapping) or not all(isinstance(v, list) and v for v in values.values()):
            raise ProfileError(f"{source}: operations.{operation}.values maps fields to lists of values")
        operations[str(operation)] = OperationProfile(
            fields=None if listed == ALL else frozenset(listed),
            values={str(name): tuple(found) for name, found in values.items()},
        )
    streaming = data.get("streaming", True)
    if not isinstance(streaming, bool):
        raise ProfileError(f"{source}: streaming is true or false")
    return Profile(
        name=str(data.get("name") or Path(source).stem),
        description=str(data.get("description") or ""),
        operations=operations,
        streaming=streaming,
        source=source,
    )


__all__ = ["OperationProfile", "Profile", "ProfileError", "load_profile", "parse_profile", "profile_names"]
