"""The reference server: the contract, implemented, with real procedural images.

    from imagegen.server import ServerConfig, serve_in_background

    with serve_in_background(ServerConfig(auth=False)) as base_url:
        ...  # point any OpenAI-compatible client at base_url

`serve_forever(config, host, port, on_ready, workers=N)` runs N worker processes sharing one
store (SQLite and files under `ServerConfig.data_dir`). Needs the `server` extra (Starlette,
uvicorn with httptools, python-multipart, Pillow, jsonschema).
"""

from .._extras import require

require("server", "starlette", "uvicorn", "multipart", "PIL", "jsonschema")

from .app import create_app  # noqa: E402  (after the check, so a missing extra is named)
from .background import serve_app_in_background, serve_forever, serve_in_background  # noqa: E402
from .config import (  # noqa: E402
    ConfigError,
    Limits,
    ServerConfig,
    declared_model,
    models_from_file,
    tokens_from_env,
)
from .faults import FAULT_HEADER  # noqa: E402

__all__ = [
    "FAULT_HEADER",
    "ConfigError",
    "Limits",
    "ServerConfig",
    "create_app",
    "declared_model",
    "models_from_file",
    "serve_app_in_background",
    "serve_forever",
    "serve_in_background",
    "tokens_from_env",
]
