"""Validate data against a schema of the contract with jsonschema (the contract as oracle)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_PATH = ROOT / "openapi" / "images.yaml"


def load_yaml_contract() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(CONTRACT_PATH.read_text(encoding="utf-8"))
    return document


def schema_errors(document: dict[str, Any], schema: dict[str, Any], instance: Any) -> list[str]:
    """The messages of every way `instance` breaks `schema` (which may $ref the document)."""
    root = {**schema, "components": document["components"]}
    validator = jsonschema.Draft202012Validator(root)
    return [error.message for error in validator.iter_errors(instance)]


def component_errors(document: dict[str, Any], name: str, instance: Any) -> list[str]:
    """The messages of every way `instance` breaks components/schemas/`name`."""
    return schema_errors(document, {"$ref": f"#/components/schemas/{name}"}, instance)
