"""The contract as an object: its operations, the fields of their bodies, its model rules.

`default_contract()` is the packaged one: `openapi/images.yaml`, which scripts/generate ships as
`imagegen_api/openapi.json` beside the client it generates, so the contract a program reads is
always the one its client was generated from. `Contract.from_file(path)` reads another (a
contract being changed, before regenerating), for the server, the conformance runner and the
`imagegen contract` commands.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import cache, cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .models import RULES_KEY, ModelCatalog, catalog_from
from .operations import FieldInfo, OperationInfo, fields_of, operations_of, resolve
from .validation import RequestValidator

CONTRACT_RESOURCE = "openapi.json"
MODELS_SCHEMA_RESOURCE = "models.schema.json"


class ContractError(ValueError):
    """The contract (or a name looked up in it) is not usable; the message says what to change."""


class Contract:
    """One OpenAPI document of image endpoints, and what the rest of imagegen asks of it."""

    def __init__(self, document: Mapping[str, Any], *, source: str = "the packaged contract") -> None:
        if not isinstance(document, Mapping) or "paths" not in document or "components" not in document:
            raise ContractError(f"{source} is not an OpenAPI document with paths and components")
        self.document = document
        self.source = source

    @classmethod
    def from_file(cls, path: str | Path) -> Contract:
        """Read a contract from a YAML or JSON file (YAML needs PyYAML)."""
        return cls(read_document(Path(path)), source=str(path))

    @property
    def version(self) -> str:
        """The contract's `info.version`."""
        return str(self.document.get("info", {}).get("version", ""))

    @cached_property
    def operations(self) -> tuple[OperationInfo, ...]:
        """Every operation, in the contract's order."""
        return operations_of(self.document)

    @cached_property
    def _by_key(self) -> dict[str, OperationInfo]:
        index: dict[str, OperationInfo] = {}
        for operation in self.operations:
            index.setdefault(operation.name, operation)
            index.setdefault(operation.id, operation)
        return index

    def operation(self, key: str) -> OperationInfo:
        """The operation named `key` (its short name, e.g. "edits", or its operationId)."""
        found = self._by_key.get(key)
        if found is None:
            names = ", ".join(operation.name for operation in self.operations)
            raise ContractError(f"the contract has no operation {key!r}; it has {names}")
        return found

    def find(self, method: str, path: str) -> OperationInfo | None:
        """The operation at `method` `path` (a path as the contract writes it), if any."""
        return next((o for o in self.operations if o.method == method.upper() and o.path == path), None)

    @cached_property
    def base_path(self) -> str:
        """The path its servers' URLs end in (`/v1`): what OpenAI's batch lines put before a path."""
        servers = self.document.get("servers") or [{}]
        return urlsplit(str(servers[0].get("url", ""))).path.rstrip("/")

    def find_url(self, method: str, url: str) -> OperationInfo | None:
        """The operation of a request line's `url` (`/v1/images/generations`, or without `/v1`)."""
        path = url.split("?", 1)[0]
        if self.base_path and path.startswith(self.base_path + "/"):
            path = path[len(self.base_path) :]
        return self.find(method, path)

    @cached_property
    def image_operations(self) -> tuple[OperationInfo, ...]:
        """The operations that make images (generations, edits, variations), in order."""
        return tuple(operation for operation in self.operations if operation.makes_images)

    @property
    def operation_names(self) -> tuple[str, ...]:
        """The short names of every operation."""
        return tuple(operation.name for operation in self.operations)

    def fields(self, schema_name: str) -> tuple[FieldInfo, ...]:
        """The properties of components/schemas/`schema_name`."""
        return _fields(self, schema_name)

    def request_fields(self, operation: str | OperationInfo) -> tuple[FieldInfo, ...]:
        """The fields any request body of `operation` takes, each once (first media type first)."""
        info = operation if isinstance(operation, OperationInfo) else self.operation(operation)
        return _request_fields(self, info.id)

    def upload_fields(self, schema_name: str) -> dict[str, str]:
        """Field name -> upload role (`image` or `mask`) for the fields of `schema_name` carrying images."""
        return {field.name: field.upload for field in self.fields(schema_name) if field.upload}

    def schema(self, name: str) -> Mapping[str, Any]:
        """components/schemas/`name`."""
        schemas = self.document["components"]["schemas"]
        if name not in schemas:
            raise ContractError(f"the contract has no schema {name!r}")
        schema: Mapping[str, Any] = schemas[name]
        return schema

    def resolve(self, node: Any) -> Any:
        """`node` with local `$ref`s followed."""
        return resolve(self.document, node)

    @cached_property
    def catalog(self) -> ModelCatalog:
        """The models of `x-imagegen-models`, checked against the contract's operations."""
        return catalog_from(self.document.get(RULES_KEY) or {}, self.operation_names)

    @cached_property
    def validator(self) -> RequestValidator:
        """Validates bodies against this contract's schemas (needs jsonschema)."""
        return RequestValidator(self.document)

    def copy_document(self) -> dict[str, Any]:
        """A deep copy of the document, for the caller to change."""
        return copy.deepcopy(dict(self.document))


@cache
def _request_fields(contract: Contract, operation_id: str) -> tuple[FieldInfo, ...]:
    info = contract.operation(operation_id)
    seen: dict[str, FieldInfo] = {}
    for schema_name in info.bodies.values():  # in the contract's order of media types
        for field in contract.fields(schema_name):
            seen.setdefault(field.name, field)
    return tuple(seen.values())


@cache
def _fields(contract: Contract, schema_name: str) -> tuple[FieldInfo, ...]:
    if schema_name not in contract.document["components"]["schemas"]:
        raise ContractError(f"the contract has no schema {schema_name!r}")
    return fields_of(contract.document, schema_name)


@cache
def default_contract() -> Contract:
    """The packaged contract (read once)."""
    return Contract(_packaged_json(CONTRACT_RESOURCE))


def load_contract() -> dict[str, Any]:
    """The packaged OpenAPI document of the image endpoints, as a fresh dict the caller may change."""
    return default_contract().copy_document()


def contract_version() -> str:
    """The `info.version` of the packaged contract."""
    return default_contract().version


@cache
def models_schema() -> Mapping[str, Any]:
    """The JSON Schema of `x-imagegen-models` (openapi/models.schema.yaml, as packaged)."""
    return _packaged_json(MODELS_SCHEMA_RESOURCE)


def _packaged_json(name: str) -> dict[str, Any]:
    from importlib import resources, util

    # find_spec locates the generated package without importing it: its __init__ imports httpx
    # (about 0.1 s), which `imagegen COMMAND --help` and `imagegen models` never need.
    spec = util.find_spec("imagegen_api")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        if (path := Path(folder) / name).is_file():
            document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return document
    # not a folder on disk (a zipped install): importlib.resources reads it, importing the package
    document = json.loads(resources.files("imagegen_api").joinpath(name).read_text(encoding="utf-8"))
    return document


def read_document(path: Path) -> dict[str, Any]:
    """A YAML or JSON document from `path`; ContractError naming the file when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ContractError(f"cannot read {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ContractError(f"{path} is not UTF-8 text") from None
    data: Any
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:  # pragma: no cover - PyYAML comes with every extra that reads files
            raise ContractError(f"reading {path} needs PyYAML (pip install pyyaml), or give JSON") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise ContractError(f"{path} is not valid YAML: {error}") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ContractError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise ContractError(f"{path} does not hold a mapping")
    return data
