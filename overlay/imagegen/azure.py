"""AzureImagesClient and AsyncAzureImagesClient: the image endpoints of Azure OpenAI deployments.

    from imagegen import AzureImagesClient

    client = AzureImagesClient(
        azure_endpoint="https://my-resource.openai.azure.com",
        azure_deployment="my-gpt-image",
        api_version="2025-04-01-preview",
        api_key="...",
    )
    client.generate("Yellow alpaca").images[0].save("alpaca.png")

URLs are built as the official SDK's AzureOpenAI builds them: `{endpoint}/openai/deployments/
{deployment}/images/generations?api-version=...`; without `azure_deployment`, a generation or
an edit goes to the deployment named by its `model`; other paths (files, batches) go to
`{endpoint}/openai/...`. The key travels in the `api-key` header (dropped on a redirect to
another origin), an Entra ID token as `Authorization: Bearer`. From the environment:
AZURE_OPENAI_API_KEY, AZURE_OPENAI_AD_TOKEN, AZURE_OPENAI_ENDPOINT and OPENAI_API_VERSION.
Everything else is the plain clients' (same methods, options and errors).
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack
from urllib.parse import quote

import httpx

from .arguments import OPERATION_OF
from .client import AsyncImagesClient, ImagesClient
from .client_options import AUTHORIZATION, AuthHeader, TimeoutTypes
from .contract import Contract, default_contract
from .errors import ConfigurationError

API_KEY_HEADER = "api-key"
# The methods whose requests Azure serves under /deployments/{name} (the SDK's
# _deployments_endpoints, for images): their paths come from the contract.
_DEPLOYMENT_METHODS = ("generate", "edit")


@dataclass(frozen=True)
class AzureRoutes:
    """Azure's URLs: deployment paths under the deployment, the others under {endpoint}/openai."""

    endpoint: str | None
    """https://RESOURCE.openai.azure.com (None when a base_url was given instead)."""
    deployment: str | None
    deployment_paths: frozenset[str]

    def url(self, base_url: str, path: str, model: str | None) -> str:
        """The URL of `path` for a request of `model`."""
        if path in self.deployment_paths:
            if self.deployment is None and model and "/deployments/" not in base_url + "/":
                return f"{base_url}/deployments/{quote(model, safe='')}{path}"
            return base_url + path
        if self.deployment is not None and self.endpoint:
            return f"{self.endpoint}/openai{path}"
        return base_url + path


def azure_settings(
    *,
    azure_endpoint: str | None,
    azure_deployment: str | None,
    api_version: str | None,
    api_key: str | None,
    azure_ad_token: str | None,
    azure_ad_token_provider: Callable[[], str] | None,
    base_url: str | None,
    default_query: Mapping[str, str] | None,
    contract: Contract | None,
) -> dict[str, Any]:
    """The plain client's arguments for an Azure deployment (ConfigurationError saying what is
    missing)."""
    given = [name for name, value in (("api_key", api_key), ("azure_ad_token", azure_ad_token),
             ("azure_ad_token_provider", azure_ad_token_provider)) if value is not None]  # fmt: skip
    if len(given) > 1:
        raise ConfigurationError(f"give one credential, not {' and '.join(given)}")
    if not given:
        azure_ad_token = os.environ.get("AZURE_OPENAI_AD_TOKEN")
        if azure_ad_token is None:
            api_key = os.environ.get("AZURE_OPENAI_API_KEY")
    if api_key is None and azure_ad_token is None and azure_ad_token_provider is None:
        raise ConfigurationError(
            "an Azure client needs a credential: api_key=..., azure_ad_token=... or "
            "azure_ad_token_provider=..., or AZURE_OPENAI_API_KEY in the environment"
        )
    version = api_version or os.environ.get("OPENAI_API_VERSION")
    if not version:
        raise ConfigurationError(
            "an Azure client needs api_version=... (e.g. '2025-04-01-preview') or OPENAI_API_VERSION"
        )
    if base_url is not None and azure_endpoint is not None:
        raise ConfigurationError("give base_url or azure_endpoint, not both")
    endpoint = (azure_endpoint or os.environ.get("AZURE_OPENAI_ENDPOINT") or "").rstrip("/")
    if base_url is not None:
        endpoint = ""
    else:
        if not endpoint:
            raise ConfigurationError(
                "an Azure client needs azure_endpoint=... (https://RESOURCE.openai.azure.com) "
                "or AZURE_OPENAI_ENDPOINT, or a base_url"
            )
        base_url = f"{endpoint}/openai"
        if azure_deployment:
            base_url += f"/deployments/{quote(azure_deployment, safe='')}"
    chosen = contract or default_contract()
    paths = frozenset(chosen.operation(OPERATION_OF[method]).path for method in _DEPLOYMENT_METHODS)
    return {
        "base_url": base_url,
        "api_key": api_key if api_key is not None else azure_ad_token,
        "auth_header": _auth_header(api_key, azure_ad_token_provider),
        "default_query": {**(default_query or {}), "api-version": version},
        "contract": contract,
        "routes": AzureRoutes(endpoint or None, azure_deployment or None, paths),
        "_key_variable": None,  # never OPENAI_API_KEY: an Azure key is another key
    }


def _auth_header(api_key: str | None, provider: Callable[[], str] | None) -> AuthHeader:
    if provider is not None:

        def bearer() -> dict[str, str]:
            token = provider()
            if not isinstance(token, str) or not token:
                raise ConfigurationError("azure_ad_token_provider must return a non-empty string")
            return {AUTHORIZATION: f"Bearer {token}"}

        return bearer
    return API_KEY_HEADER if api_key is not None else AUTHORIZATION


class AzureArguments(TypedDict, total=False):
    """What both Azure clients take: Azure's settings, then the plain client's options."""

    azure_endpoint: str
    """https://RESOURCE.openai.azure.com (default: AZURE_OPENAI_ENDPOINT)."""
    azure_deployment: str
    """The deployment every image request goes to (default: the one named by its `model`)."""
    api_version: str
    """The `api-version` of every request (default: OPENAI_API_VERSION)."""
    api_key: str
    """The resource's key, sent as `api-key` (default: AZURE_OPENAI_API_KEY)."""
    azure_ad_token: str
    """An Entra ID token, sent as `Authorization: Bearer` (default: AZURE_OPENAI_AD_TOKEN)."""
    azure_ad_token_provider: Callable[[], str]
    """A function returning a fresh Entra ID token, called before every request."""
    base_url: str
    """The whole base URL instead of azure_endpoint (and azure_deployment)."""
    default_query: Mapping[str, str]
    contract: Contract
    organization: str
    project: str
    default_headers: Mapping[str, str]
    timeout: TimeoutTypes
    max_retries: int
    proxy: str
    verify: bool | str | ssl.SSLContext
    check_rules: bool
    allow_local_paths: bool


_AZURE_NAMES = frozenset(
    {"azure_endpoint", "azure_deployment", "api_version", "api_key", "azure_ad_token",
     "azure_ad_token_provider", "base_url", "default_query", "contract"}
)  # fmt: skip


def _client_arguments(arguments: Mapping[str, Any]) -> dict[str, Any]:
    azure = {name: arguments.get(name) for name in _AZURE_NAMES}
    rest = {name: value for name, value in arguments.items() if name not in _AZURE_NAMES}
    return {**azure_settings(**azure), **rest}


class AzureImagesClient(ImagesClient):
    """An ImagesClient for Azure OpenAI: deployment URLs, `api-version`, the `api-key` header.

    Every option of ImagesClient applies (timeout, max_retries, default_headers, ...).
    """

    def __init__(
        self, *, http_client: httpx.Client | None = None, **arguments: Unpack[AzureArguments]
    ) -> None:
        super().__init__(**_client_arguments(arguments), http_client=http_client)


class AsyncAzureImagesClient(AsyncImagesClient):
    """The async twin of AzureImagesClient (azure_ad_token_provider is called synchronously)."""

    def __init__(
        self, *, http_client: httpx.AsyncClient | None = None, **arguments: Unpack[AzureArguments]
    ) -> None:
        super().__init__(**_client_arguments(arguments), http_client=http_client)


__all__ = ["AsyncAzureImagesClient", "AzureImagesClient", "AzureRoutes"]
