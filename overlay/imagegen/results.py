"""What a call returns: the images (bytes on demand, saved safely), and what the server reported.

`ImagesClient` returns `ImagesResult` of `GeneratedImage`; `AsyncImagesClient` returns
`AsyncImagesResult` of `AsyncGeneratedImage`, whose `bytes`, `save` and `to_pil` are awaited
(they may download the image).
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .atomic import write_atomically
from .errors import InvalidImageDataError, InvalidResponseError
from .image_urls import decode_data_url, shown_url, url_kind
from .imageinfo import EXTENSIONS, ImageInfo, image_info

if TYPE_CHECKING:
    from PIL import Image as PILImage

    from imagegen_api.models import ImagesResponse, ImageUsage

_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif"}


@dataclass(slots=True)
class RawResponse:
    """The HTTP answer a result came from. `content` is kept only when asked (raw_response=True)."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes | None = None

    @property
    def request_id(self) -> str | None:
        """The server's id of the request (x-request-id), to quote when reporting a problem."""
        return self.headers.get("x-request-id") or self.headers.get("request-id")


class _ImageBase:
    """One image of an answer: base64 bytes, or a URL to download them from."""

    def __init__(
        self, *, index: int, b64_json: str | None, url: str | None, revised_prompt: str | None = None
    ) -> None:
        self.index = index
        self.b64_json = b64_json
        self.url = url
        self.revised_prompt = revised_prompt
        self._data: bytes | None = None

    def __repr__(self) -> str:
        if self.b64_json is not None:
            source = f"b64_json=<{len(self.b64_json)} chars>"
        else:
            source = f"url={shown_url(self.url) if self.url is not None else None!r}"
        return f"{type(self).__name__}(index={self.index}, {source})"

    @property
    def info(self) -> ImageInfo | None:
        """Format, size and alpha of the image, once its bytes are known (None before a download)."""
        data = self._known_bytes()
        return image_info(data) if data is not None else None

    @property
    def format(self) -> str | None:
        """`png`, `jpeg`, `webp` (from the bytes), once known."""
        info = self.info
        return info.format if info is not None else None

    @property
    def size(self) -> tuple[int, int] | None:
        """(width, height) in pixels, once known."""
        info = self.info
        return (info.width, info.height) if info is not None else None

    def _known_bytes(self) -> bytes | None:
        if self._data is None:
            if self.b64_json is not None:
                self._data = _decode_base64(self.b64_json, self.index)
            elif self.url is not None and url_kind(self.url) == "data":
                # Decoded here, never fetched: a data: URL is the image itself.
                self._data = self._keep(decode_data_url(self.url, self.index))
        return self._data

    def _needs_download(self) -> str:
        if self.url is None:
            raise InvalidImageDataError(f"image {self.index} of the answer has neither b64_json nor a url")
        return self.url

    def _keep(self, data: bytes) -> bytes:
        if image_info(data) is None:
            where = shown_url(self.url) if self.url is not None else "no URL"
            raise InvalidImageDataError(f"the bytes of image {self.index} ({where}) are not an image")
        self._data = data
        return data


class GeneratedImage(_ImageBase):
    """An image returned by `ImagesClient`."""

    def __init__(
        self,
        *,
        index: int,
        b64_json: str | None,
        url: str | None,
        revised_prompt: str | None = None,
        download: Callable[[str, int], bytes] | None = None,
    ) -> None:
        super().__init__(index=index, b64_json=b64_json, url=url, revised_prompt=revised_prompt)
        self._download = download

    def bytes(self) -> bytes:
        """The image file: decoded from base64, or downloaded from its URL (once)."""
        known = self._known_bytes()
        if known is not None:
            return known
        url = self._needs_download()
        if self._download is None:
            raise InvalidImageDataError(f"image {self.index} has only a URL and no client to download it")
        return self._keep(self._download(url, self.index))

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the image to `path` atomically and return where it went.

        The extension comes from the real bytes (`cat.png` becomes `cat.webp` for a WebP); a
        directory gets `image-<index>.<ext>`. An existing file is never replaced unless
        `overwrite=True` (FileExistsError otherwise), and no partial file is ever left behind.
        """
        data = self.bytes()
        return write_image(data, _target(path, data, self.index), overwrite=overwrite)

    def to_pil(self) -> PILImage.Image:
        """The image as a Pillow image (needs Pillow installed)."""
        return _to_pil(self.bytes())


class AsyncGeneratedImage(_ImageBase):
    """An image returned by `AsyncImagesClient`: `bytes`, `save` and `to_pil` are awaited."""

    def __init__(
        self,
        *,
        index: int,
        b64_json: str | None,
        url: str | None,
        revised_prompt: str | None = None,
        download: Callable[[str, int], Awaitable[bytes]] | None = None,
    ) -> None:
        super().__init__(index=index, b64_json=b64_json, url=url, revised_prompt=revised_prompt)
        self._download = download

    async def bytes(self) -> bytes:
        """The image file: decoded from base64, or downloaded from its URL (once)."""
        known = self._known_bytes()
        if known is not None:
            return known
        url = self._needs_download()
        if self._download is None:
            raise InvalidImageDataError(f"image {self.index} has only a URL and no client to download it")
        return self._keep(await self._download(url, self.index))

    async def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the image to `path` atomically; see GeneratedImage.save."""
        data = await self.bytes()
        return write_image(data, _target(path, data, self.index), overwrite=overwrite)

    async def to_pil(self) -> PILImage.Image:
        """The image as a Pillow image (needs Pillow installed)."""
        return _to_pil(await self.bytes())


ImageT = TypeVar("ImageT", GeneratedImage, AsyncGeneratedImage)


class _ResultBase(Generic[ImageT]):
    """The images of an answer, and what the server reported with them.

    The answer's typed fields (usage, created, ...) are parsed with the generated
    `ImagesResponse` model when first read, not on every call.
    """

    def __init__(
        self,
        images: list[ImageT] | Callable[[], list[ImageT]],
        answer: Mapping[str, Any],
        response: RawResponse,
    ) -> None:
        # A callable makes the image objects on first use: a caller that only wants the
        # answer's fields (or one image of ten) does not pay for the others.
        self._made: list[ImageT] | None = None if callable(images) else images
        self._make: Callable[[], list[ImageT]] | None = images if callable(images) else None
        self.response = response
        self._answer = answer

    @property
    def images(self) -> list[ImageT]:
        """The images of the answer, in order."""
        if self._made is None:
            self._made = self._make() if self._make is not None else []
        return self._made

    def __repr__(self) -> str:
        return f"{type(self).__name__}(images={self.images!r}, request_id={self.request_id!r})"

    @functools.cached_property
    def parsed(self) -> ImagesResponse:
        """The whole answer as the generated model (unknown fields in additional_properties)."""
        from imagegen_api.models import ImagesResponse  # on first use: `import imagegen` stays light

        return ImagesResponse.from_dict(self._answer)

    @property
    def created(self) -> int | None:
        """When the server made the images (Unix seconds), if it says."""
        created = _value(self.parsed.created)
        return created if isinstance(created, int) else None

    @property
    def usage(self) -> ImageUsage | None:
        """Token usage, for models that report it."""
        from imagegen_api.models import ImageUsage

        usage = _value(self.parsed.usage)
        return usage if isinstance(usage, ImageUsage) else None

    @property
    def background(self) -> str | None:
        """The background the images got (GPT image models)."""
        return _text(self.parsed.background)

    @property
    def output_format(self) -> str | None:
        """The file format the server says it used (GPT image models)."""
        return _text(self.parsed.output_format)

    @property
    def quality(self) -> str | None:
        """The quality the images were made at (GPT image models)."""
        return _text(self.parsed.quality)

    @property
    def size(self) -> str | None:
        """The size the server says it made (GPT image models)."""
        return _text(self.parsed.size)

    @property
    def body(self) -> Mapping[str, Any]:
        """The answer's JSON as the server sent it."""
        return self._answer

    @property
    def extra(self) -> Mapping[str, Any]:
        """Fields of the answer the contract does not know."""
        return dict(self.parsed.additional_properties)

    @property
    def revised_prompt(self) -> str | None:
        """The prompt the model says it used (dall-e-3), from the first image."""
        return self.images[0].revised_prompt if self.images else None

    @property
    def request_id(self) -> str | None:
        """The server's id of the request."""
        return self.response.request_id


class ImagesResult(_ResultBase[GeneratedImage]):
    """The answer of `ImagesClient.generate`, `edit` or `vary`."""

    def save_all(
        self, directory: str | os.PathLike[str], *, prefix: str = "image", overwrite: bool = False
    ) -> list[Path]:
        """Save every image into `directory` as `<prefix>-<n>.<ext>`; see GeneratedImage.save."""
        return [
            image.save(Path(directory) / f"{prefix}-{image.index + 1}", overwrite=overwrite)
            for image in self.images
        ]


class AsyncImagesResult(_ResultBase[AsyncGeneratedImage]):
    """The answer of `AsyncImagesClient.generate`, `edit` or `vary`."""

    async def save_all(
        self, directory: str | os.PathLike[str], *, prefix: str = "image", overwrite: bool = False
    ) -> list[Path]:
        """Save every image into `directory` as `<prefix>-<n>.<ext>`; see GeneratedImage.save."""
        return [
            await image.save(Path(directory) / f"{prefix}-{image.index + 1}", overwrite=overwrite)
            for image in self.images
        ]


def image_sources(answer: Mapping[str, Any]) -> list[tuple[str | None, str | None, str | None]]:
    """(b64_json, url, revised_prompt) of each image of the answer."""
    items = answer.get("data")
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise InvalidResponseError("the answer's data is not a list of image objects")
    return [
        (_string(item.get("b64_json")), _string(item.get("url")), _string(item.get("revised_prompt")))
        for item in items
    ]


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _value(value: Any) -> Any:
    from imagegen_api.types import Unset

    return None if isinstance(value, Unset) else value


def _text(value: Any) -> str | None:
    value = _value(value)
    return value if isinstance(value, str) else None


def _decode_base64(text: str, index: int) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidImageDataError(f"image {index} of the answer is not valid base64") from None


def _to_pil(data: bytes) -> PILImage.Image:
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("to_pil() needs Pillow: pip install pillow") from None
    import io

    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _target(path: str | os.PathLike[str], data: bytes, index: int) -> Path:
    info = image_info(data)
    extension = EXTENSIONS[info.format] if info is not None else ".bin"
    target = Path(path).expanduser()
    if target.is_dir():
        return target / f"image-{index + 1}{extension}"
    if target.suffix.lower() in _IMAGE_SUFFIXES or not target.suffix:
        if target.suffix.lower() in (".jpg", ".jpeg") and extension == ".jpg":
            return target
        return target.with_suffix(extension)
    return target.with_name(target.name + extension)


def write_image(data: bytes, target: Path, *, overwrite: bool = False) -> Path:
    """Write `data` to `target` atomically: all or nothing, and no replacing unless asked."""
    return write_atomically(data, target, overwrite=overwrite)
