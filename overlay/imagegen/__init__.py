"""imagegen: generate, edit and vary images on any OpenAI-compatible server.

    from imagegen import ImagesClient

    with ImagesClient(base_url="http://127.0.0.1:8000/v1", api_key="...") as client:
        client.generate("Yellow alpaca", model="dall-e-3").images[0].save("alpaca.png")

The low-level client generated from the contract is the `imagegen_api` package; this package
adds what people use on top of it. Public names are listed in `__all__` and nowhere else.
"""

from __future__ import annotations

import importlib

# Not `from typing import TYPE_CHECKING`: importing typing would cost `imagegen --help` ~7 ms.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._version import __version__
    from .azure import AsyncAzureImagesClient, AzureImagesClient
    from .client import AsyncImagesClient, ClientOptions, ImagesClient
    from .contract import (
        Contract,
        ContractError,
        CustomSizes,
        FieldRule,
        ModelCatalog,
        ModelRules,
        RulesError,
        UploadRule,
        Violation,
        catalog_from,
        contract_version,
        default_catalog,
        default_contract,
        load_contract,
        parse_size,
    )
    from .description import ImageDescription, as_description, describe
    from .errors import (
        APIConnectionError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        ConfigurationError,
        ConflictError,
        ImagesError,
        InternalServerError,
        InvalidImageDataError,
        InvalidResponseError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        RequestRulesError,
        StreamError,
        UnprocessableEntityError,
        UploadError,
    )
    from .files import FileObject
    from .imageinfo import ImageInfo, image_info
    from .relaxed_json import JsonInputError
    from .results import (
        AsyncGeneratedImage,
        AsyncImagesResult,
        GeneratedImage,
        ImagesResult,
        RawResponse,
    )
    from .retry import RetryPolicy
    from .seed import get_images
    from .streaming import AsyncImageStream, ImageCompletedEvent, ImageStream, PartialImageEvent

# Public names load on first use, so that `import imagegen` (and `imagegen --help`) stays fast.
_LAZY = {
    "APIConnectionError": ".errors",
    "APIStatusError": ".errors",
    "APITimeoutError": ".errors",
    "AsyncAzureImagesClient": ".azure",
    "AsyncGeneratedImage": ".results",
    "AsyncImageStream": ".streaming",
    "AsyncImagesClient": ".client",
    "AsyncImagesResult": ".results",
    "AuthenticationError": ".errors",
    "FileObject": ".files",
    "AzureImagesClient": ".azure",
    "BadRequestError": ".errors",
    "ClientOptions": ".client",
    "ConfigurationError": ".errors",
    "ConflictError": ".errors",
    "Contract": ".contract",
    "ContractError": ".contract",
    "CustomSizes": ".contract",
    "FieldRule": ".contract",
    "GeneratedImage": ".results",
    "ImageCompletedEvent": ".streaming",
    "ImageDescription": ".description",
    "ImageInfo": ".imageinfo",
    "ImageStream": ".streaming",
    "ImagesClient": ".client",
    "ImagesError": ".errors",
    "ImagesResult": ".results",
    "InternalServerError": ".errors",
    "InvalidImageDataError": ".errors",
    "InvalidResponseError": ".errors",
    "JsonInputError": ".relaxed_json",
    "ModelCatalog": ".contract",
    "ModelRules": ".contract",
    "NotFoundError": ".errors",
    "PartialImageEvent": ".streaming",
    "PermissionDeniedError": ".errors",
    "RateLimitError": ".errors",
    "RawResponse": ".results",
    "RequestRulesError": ".errors",
    "RetryPolicy": ".retry",
    "RulesError": ".contract",
    "StreamError": ".errors",
    "UnprocessableEntityError": ".errors",
    "UploadError": ".errors",
    "UploadRule": ".contract",
    "Violation": ".contract",
    "__version__": "._version",
    "as_description": ".description",
    "catalog_from": ".contract",
    "contract_version": ".contract",
    "default_catalog": ".contract",
    "default_contract": ".contract",
    "describe": ".description",
    "get_images": ".seed",
    "image_info": ".imageinfo",
    "load_contract": ".contract",
    "parse_size": ".contract",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'imagegen' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncAzureImagesClient",
    "AsyncGeneratedImage",
    "AsyncImageStream",
    "AsyncImagesClient",
    "AsyncImagesResult",
    "AuthenticationError",
    "AzureImagesClient",
    "BadRequestError",
    "ClientOptions",
    "ConfigurationError",
    "ConflictError",
    "Contract",
    "ContractError",
    "CustomSizes",
    "FieldRule",
    "FileObject",
    "GeneratedImage",
    "ImageCompletedEvent",
    "ImageDescription",
    "ImageInfo",
    "ImageStream",
    "ImagesClient",
    "ImagesError",
    "ImagesResult",
    "InternalServerError",
    "InvalidImageDataError",
    "InvalidResponseError",
    "JsonInputError",
    "ModelCatalog",
    "ModelRules",
    "NotFoundError",
    "PartialImageEvent",
    "PermissionDeniedError",
    "RateLimitError",
    "RawResponse",
    "RequestRulesError",
    "RetryPolicy",
    "RulesError",
    "StreamError",
    "UnprocessableEntityError",
    "UploadError",
    "UploadRule",
    "Violation",
    "__version__",
    "as_description",
    "catalog_from",
    "contract_version",
    "default_catalog",
    "default_contract",
    "describe",
    "get_images",
    "image_info",
    "load_contract",
    "parse_size",
]
