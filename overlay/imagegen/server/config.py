"""How a reference server is set up: tokens, models, limits, faults, lifetimes."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..rules import (
    OPERATIONS,
    CustomSizes,
    InputRules,
    ModelCatalog,
    ModelRules,
    default_catalog,
    model_from,
)
from .errors import ApiError
from .faults import parse_fault

TOKENS_ENV = "IMAGEGEN_SERVER_TOKENS"


class ConfigError(ValueError):
    """The server configuration is not usable; the message says what to change."""


@dataclass(frozen=True)
class Limits:
    """What the server refuses before doing any work (413 for sizes, 400 for the rest)."""

    max_body_bytes: int = 64 * 1024 * 1024
    max_files: int = 17
    max_fields: int = 64
    max_input_pixels: int = 4096 * 4096
    max_prompt_chars: int = 32000


@dataclass(frozen=True)
class ServerConfig:
    """Everything `create_app` needs. The defaults suit tests and local use."""

    tokens: frozenset[str] = frozenset()
    auth: bool = True
    catalog: ModelCatalog = field(default_factory=default_catalog)
    limits: Limits = field(default_factory=Limits)
    faults_enabled: bool = False
    route_faults: Mapping[str, str] = field(default_factory=dict)
    url_ttl_s: float = 3600.0
    idempotency_window_s: float = 3600.0
    store_max_bytes: int = 256 * 1024 * 1024
    stream_delay_s: float = 0.0
    access_log: bool = False

    def __post_init__(self) -> None:
        if self.auth and not self.tokens:
            raise ConfigError(
                f"no token configured: give --token (or set {TOKENS_ENV}), or --no-auth for local use"
            )
        for operation, spec in self.route_faults.items():
            if operation not in OPERATIONS:
                raise ConfigError(
                    f"faults are set per operation ({', '.join(OPERATIONS)}), not {operation!r}"
                )
            try:
                parse_fault(spec)
            except ApiError as error:
                raise ConfigError(f"the fault for {operation}: {error.message}") from None

    def with_models(self, *models: ModelRules) -> ServerConfig:
        """This configuration with extra models in its catalog."""
        return replace(self, catalog=self.catalog.with_models(*models))


def tokens_from_env(environ: Mapping[str, str] = os.environ) -> frozenset[str]:
    """Tokens listed, comma-separated, in IMAGEGEN_SERVER_TOKENS."""
    return frozenset(token.strip() for token in environ.get(TOKENS_ENV, "").split(",") if token.strip())


def declared_model(name: str) -> ModelRules:
    """Rules for a model named on the command line, as a LocalAI-like server has them.

    It generates, edits and varies; takes any WIDTHxHEIGHT from 64 to 1024 and `auto`; up to
    10 images; answers with URLs unless asked for `b64_json`; accepts the GPT image model
    options without insisting on them.
    """
    if not name.strip():
        raise ConfigError("a model name cannot be empty")
    return ModelRules(
        name=name,
        operations=("generations", "edits", "variations"),
        prompt_max_length=32000,
        max_n=10,
        sizes=("auto",),
        custom_sizes=CustomSizes(min_edge=64, max_edge=1024),
        default_size="512x512",
        qualities=("auto", "standard", "hd", "low", "medium", "high"),
        styles=("vivid", "natural"),
        response_formats=("url", "b64_json"),
        default_response_format="url",
        output_formats=("png", "jpeg", "webp"),
        backgrounds=("auto", "transparent", "opaque"),
        moderations=("auto", "low"),
        output_compression=True,
        streaming=True,
        input_fidelity=True,
        revised_prompt=False,
        usage=False,
        inputs=InputRules(formats=("png", "jpeg", "webp"), max_bytes=50 * 1024 * 1024, max_images=16),
        mask=InputRules(formats=("png",), max_bytes=4 * 1024 * 1024),
    )


def models_from_file(path: Path) -> list[ModelRules]:
    """Models from a JSON (or YAML, with PyYAML) file shaped like the contract's x-imagegen-models."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read the models file {path}: {error.strerror}") from None
    data: Any
    if path.suffix in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise ConfigError(f"{path} is not valid YAML: {error}") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
        raise ConfigError(f'{path} must hold {{"models": {{"NAME": {{...rules...}}}}}}')
    try:
        return [model_from(name, rules) for name, rules in data["models"].items()]
    except ValueError as error:
        raise ConfigError(f"{path}: {error}") from None


__all__ = [
    "TOKENS_ENV",
    "ConfigError",
    "Limits",
    "ServerConfig",
    "declared_model",
    "models_from_file",
    "tokens_from_env",
]
