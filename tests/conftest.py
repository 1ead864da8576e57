"""Fixtures shared by the whole suite: one reference server per session instead of one per file.

Tests that need a server of a special configuration (limits, short lifetimes, no auth) still
start their own; everything else uses `reference_url` with `REFERENCE_TOKEN`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from imagegen.server import ServerConfig, declared_model, serve_in_background

REFERENCE_TOKEN = "sk-reference-test-4d2c9e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Heavy tests first (in their order), so that no worker starts a long one when the rest
    of the suite is done."""
    items.sort(key=lambda item: item.get_closest_marker("heavy") is None)


LOCAL_MODEL = "sd-1.5-ggml"


@pytest.fixture(scope="session")
def reference_config() -> ServerConfig:
    """The configuration of the shared server: a token, faults on demand, a LocalAI-like model."""
    return ServerConfig(tokens=frozenset({REFERENCE_TOKEN}), faults_enabled=True).with_models(
        declared_model(LOCAL_MODEL)
    )


@pytest.fixture(scope="session")
def reference_url(reference_config: ServerConfig) -> Iterator[str]:
    """The base URL (http://127.0.0.1:PORT/v1) of the reference server shared by the session."""
    with serve_in_background(reference_config) as url:
        yield url
