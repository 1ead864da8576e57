"""The reference server: the contract, implemented, with real procedural images.

    from imagegen.server import ServerConfig, serve_in_background

    with serve_in_background(ServerConfig(auth=False)) as base_url:
        ...  # point any OpenAI-compatible client at base_url

Needs the `server` extra (Starlette, uvicorn, python-multipart, Pillow).
"""

from .app import create_app
from .background import serve_forever, serve_in_background
from .config import ConfigError, Limits, ServerConfig, declared_model, models_from_file, tokens_from_env
from .faults import FAULT_HEADER

__all__ = [
    "FAULT_HEADER",
    "ConfigError",
    "Limits",
    "ServerConfig",
    "create_app",
    "declared_model",
    "models_from_file",
    "serve_forever",
    "serve_in_background",
    "tokens_from_env",
]
