"""How a reference server is set up: tokens, models, limits, faults, lifetimes."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..contract import (
    Contract,
    ContractError,
    ModelCatalog,
    ModelRules,
    RulesError,
    default_contract,
    model_from,
    models_schema,
)
from ..contract.document import read_document
from .errors import ApiError
from .faults import parse_fault

TOKENS_ENV = "IMAGEGEN_SERVER_TOKENS"


class ConfigError(ValueError):
    """The server configuration is not usable; the message says what to change."""


MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What the server refuses before doing any work (413 for sizes, 400 for the rest).

    The defaults fit a 2-core, 2 GB machine: a request's images are decoded (about 4 bytes a
    pixel, plus the painter's copies) only if all of them together have at most
    `max_request_pixels`, e.g. a 4096x4096 image and its mask, or sixteen 1536x1024 images.
    """

    max_body_bytes: int = 64 * MiB
    max_files: int = 17
    max_fields: int = 64
    max_input_pixels: int = 4096 * 4096
    """Pixels of one input image."""
    max_request_pixels: int = 40 * MiB
    """Pixels of all the input images of one request together (images and mask)."""
    max_prompt_chars: int = 32000
    max_json_depth: int = 32
    """How deeply a JSON body may nest (the contract's bodies need 3 levels)."""

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"the limit {name} must be a whole number of at least 1, not {value!r}")


@dataclass(frozen=True)
class ServerConfig:
    """Everything `create_app` needs. The defaults suit tests and local use."""

    tokens: frozenset[str] = frozenset()
    auth: bool = True
    contract: Contract = field(default_factory=default_contract)
    """The contract to implement (routes, validation, model rules); default: the packaged one."""
    catalog: ModelCatalog = None  # type: ignore[assignment]  # the contract's models unless given
    limits: Limits = field(default_factory=Limits)
    faults_enabled: bool = False
    route_faults: Mapping[str, str] = field(default_factory=dict)
    url_ttl_s: float = 3600.0
    """How long a URL answer's image is served."""
    idempotency_window_s: float = 3600.0
    """How long an answer is kept for requests repeating its Idempotency-Key."""
    store_max_bytes: int = 1024 * MiB
    """Bound of the image store (URL answers), on disk under `data_dir`."""
    idempotency_max_bytes: int = 256 * MiB
    """Bound of the answers kept for Idempotency-Key replays, on disk under `data_dir`."""
    files_max_bytes: int = 1024 * MiB
    """Bound of the files uploaded (and of batches' output files), on disk under `data_dir`."""
    allow_url_fetch: bool = False
    """Fetch the https (or loopback http) image URLs of JSON edits; off: they are refused."""
    batch_delay_s: float = 0.0
    """A pause before each request of a batch, to make batches take a while (tests of polling)."""
    idempotency_lease_s: float = 300.0
    """How long a request with a key in progress holds it; a repeat waits at most this long
    (a process that dies holding a key releases it at once)."""
    data_dir: Path | None = None
    """Where the store lives (SQLite and files; shared by every worker, kept across restarts).
    None: a temporary folder of its own, removed when the application is."""
    store_durable: bool = True
    """Whether the store's database is synced to disk at its checkpoints, so that a power loss
    or an OS crash cannot corrupt it. The temporary folder used without a `data_dir` is not
    (nothing in it outlives the server; see `with_temporary_store`)."""
    jobs: int = 2
    """Decoding and painting tasks a process runs at once, in threads. Two by default: zlib
    compresses a PNG without holding the interpreter lock, so one task's compression overlaps
    the other's drawing (a worker then serves 1.2-1.4x the generations of one job, on part of a
    second core). More workers, not more jobs, use more cores for the rest."""
    queue: int = 8
    """Requests a process admits beyond `jobs`, waiting; more are answered 503 with Retry-After."""
    busy_retry_after_s: float = 1.0
    stream_delay_s: float = 0.0
    access_log: bool = False
    run_id: str = field(default_factory=lambda: secrets.token_hex(8), compare=False, repr=False)
    """Tells this run of a server from earlier ones on the same store (fault counts are per run)."""

    def with_temporary_store(self, directory: Path) -> ServerConfig:
        """This configuration with its store in `directory`, a temporary folder the caller
        removes at exit: not synced to disk, since nothing in it outlives the server."""
        return replace(self, data_dir=directory, store_durable=False)

    def __post_init__(self) -> None:
        if self.catalog is None:
            object.__setattr__(self, "catalog", self.contract.catalog)
        for name in ("store_max_bytes", "idempotency_max_bytes", "files_max_bytes", "jobs"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, not {getattr(self, name)!r}")
        if self.batch_delay_s < 0:
            raise ConfigError(f"batch_delay_s cannot be negative, not {self.batch_delay_s!r}")
        if self.queue < 0:
            raise ConfigError(f"queue must be 0 or more, not {self.queue!r}")
        for name in ("url_ttl_s", "idempotency_window_s", "idempotency_lease_s", "busy_retry_after_s"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be more than 0 seconds, not {getattr(self, name)!r}")
        if self.auth and not self.tokens:
            raise ConfigError(
                f"no token configured: give --token (or set {TOKENS_ENV}), or --no-auth for local use"
            )
        for operation, spec in self.route_faults.items():
            names = self.contract.operation_names
            if operation not in names:
                raise ConfigError(f"faults are set per operation ({', '.join(names)}), not {operation!r}")
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


def declared_model(name: str, contract: Contract | None = None) -> ModelRules:
    """Rules for a model named on the command line, as a LocalAI-like server has them.

    It serves every operation of the contract; takes any WIDTHxHEIGHT from 64 to 1024 and
    `auto`; up to 10 images; answers with URLs unless asked for `b64_json`; accepts the GPT image
    model options without insisting on them.
    """
    if not name.strip():
        raise ConfigError("a model name cannot be empty")
    chosen = contract or default_contract()
    rules = {
        "operations": list(chosen.operation_names),
        "fields": {
            "size": {
                "values": ["auto"],
                "default": "512x512",
                "custom_sizes": {"min_edge": 64, "max_edge": 1024},
            },
            "response_format": {"values": ["url", "b64_json"], "default": "url"},
            "image": {"formats": ["png", "jpeg", "webp"], "max_bytes": 50 * 1024 * 1024, "max_count": 16},
            "mask": {"formats": ["png"], "max_bytes": 4 * 1024 * 1024},
        },
        "answers": {"revised_prompt": False, "usage": False},
    }
    return model_from(name, rules, chosen.operation_names)


def models_from_file(path: Path, contract: Contract | None = None) -> list[ModelRules]:
    """Models from a JSON (or YAML) file shaped like the contract's x-imagegen-models, checked
    against its JSON Schema (openapi/models.schema.yaml)."""
    import jsonschema

    chosen = contract or default_contract()
    try:
        data: Any = read_document(path)
    except ContractError as error:
        raise ConfigError(str(error)) from None
    if not isinstance(data.get("models"), dict):
        raise ConfigError(f'{path} must hold {{"models": {{"NAME": {{...rules...}}}}}}')
    problem = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(models_schema()).iter_errors(data)
    )
    if problem is not None:
        where = ".".join(str(part) for part in problem.absolute_path) or "the top level"
        raise ConfigError(f"{path}: {where}: {problem.message}")
    try:
        return [model_from(name, rules, chosen.operation_names) for name, rules in data["models"].items()]
    except RulesError as error:
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
