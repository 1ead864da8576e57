"""`client.files`: upload a file once and refer to it by id (edits by file_id, batch input).

    with ImagesClient() as client:
        photo = client.files.upload("photo.png")            # purpose "vision" by default
        client.edit(photo, "Add a red hat", model="gpt-image-1.5")   # a JSON edit by file_id
        client.files.delete(photo.id)

The requests are the generated endpoints' (`imagegen_api.api.files`), sent by the client with its
key, retries, timeouts and errors. `AsyncImagesClient.files` is the same, awaited.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, Unpack

from .calls import Call
from .contract.operations import MULTIPART
from .errors import InvalidResponseError, UploadError
from .imageinfo import CONTENT_TYPES, image_info
from .resources import (
    AsyncResource,
    Page,
    Resource,
    ResourceCallOptions,
    SyncResource,
    every_item,
    every_item_async,
    optional,
    page_of,
    whole_number,
)
from .uploads import prepare_upload

if TYPE_CHECKING:
    import httpx

    from .client import AsyncImagesClient, ImagesClient

# The one place the files methods are bound to operations of the contract (by operationId).
FILE_OPERATION_OF = {
    "upload": "createFile",
    "list": "listFiles",
    "get": "retrieveFile",
    "delete": "deleteFile",
    "content": "downloadFile",
}
FilePurpose = Literal["vision", "user_data", "batch"]
FileInput = str | os.PathLike[str] | bytes | bytearray | BinaryIO
"""A path, the file's bytes, or a file opened in binary mode."""
_CONTENT_TYPES = {".jsonl": "application/jsonl", ".json": "application/json", ".txt": "text/plain"}


@dataclass(frozen=True)
class FileObject:
    """An uploaded file. Pass it to `client.edit` as an image: it is sent by its id."""

    id: str
    bytes: int
    created_at: int
    filename: str
    purpose: str
    status: str | None = None
    expires_at: int | None = None
    object: str = "file"
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The answer as the server sent it (with fields this client does not know)."""

    @classmethod
    def from_answer(cls, data: Mapping[str, Any]) -> FileObject:
        """Read a file object answer (InvalidResponseError when it has no id)."""
        file_id = data.get("id")
        if not isinstance(file_id, str) or not file_id:
            raise InvalidResponseError(f"the server's file object has no id: {dict(data)!r:.200}")

        return cls(
            id=file_id,
            bytes=whole_number(data.get("bytes")) or 0,
            created_at=whole_number(data.get("created_at")) or 0,
            filename=str(data.get("filename") or ""),
            purpose=str(data.get("purpose") or ""),
            status=data.get("status") if isinstance(data.get("status"), str) else None,
            expires_at=whole_number(data.get("expires_at")),
            raw=dict(data),
        )


@dataclass(frozen=True)
class FileDeleted:
    """What a deletion answered."""

    id: str
    deleted: bool


FilePage = Page[FileObject]
"""One page of `files.list`: its files, and whether another page follows."""


class _FilesCore(Resource):
    """Building the requests and reading the answers, for both twins."""

    OPERATION_OF = FILE_OPERATION_OF

    def _upload_call(
        self,
        file: FileInput,
        purpose: FilePurpose,
        filename: str | None,
        expires_after: int | None,
    ) -> Call:
        name, data, content_type = _read(file, purpose, filename)
        body: dict[str, Any] = {"purpose": purpose}
        if expires_after is not None:
            body["expires_after"] = {"anchor": "created_at", "seconds": expires_after}
        contract = self._client._contract
        schema = contract.operation(FILE_OPERATION_OF["upload"]).bodies[MULTIPART]
        binary = next(info.name for info in contract.fields(schema) if info.binary)
        return self._call("upload", body=body, files={binary: (name, data, content_type)})

    def _list_call(
        self, purpose: str | None, limit: int | None, order: str | None, after: str | None
    ) -> Call:
        return self._call("list", **optional(purpose=purpose, limit=limit, order=order, after=after))

    def _file_call(self, method: str, file_id: str) -> Call:
        return self._id_call(method, "file", file_id=file_id)

    def _page(self, response: httpx.Response) -> FilePage:
        return page_of(self._json(response), FileObject.from_answer, "files")

    def _deleted(self, response: httpx.Response, file_id: str) -> FileDeleted:
        answer = self._json(response)
        return FileDeleted(str(answer.get("id") or file_id), answer.get("deleted") is True)


class Files(_FilesCore, SyncResource):
    """The files of `ImagesClient`: upload, get, content, delete, list."""

    _client: ImagesClient

    def upload(
        self,
        file: FileInput,
        *,
        purpose: FilePurpose = "vision",
        filename: str | None = None,
        expires_after: int | None = None,
        **options: Unpack[ResourceCallOptions],
    ) -> FileObject:
        """Upload `file` (a path, bytes or a binary file) and return its FileObject.

        `purpose`: "vision" (an image to edit by id; checked to be one before sending),
        "user_data" (any file) or "batch" (a batch's JSONL input). `expires_after`: seconds
        after which the server may delete it (3600 to 2592000).
        """
        call = self._upload_call(file, purpose, filename, expires_after)
        return FileObject.from_answer(self._json(self._send(call, options)))

    def get(self, file_id: str, **options: Unpack[ResourceCallOptions]) -> FileObject:
        """What the server knows of file `file_id`."""
        return FileObject.from_answer(self._json(self._send(self._file_call("get", file_id), options)))

    def content(self, file_id: str, **options: Unpack[ResourceCallOptions]) -> bytes:
        """The bytes of file `file_id`."""
        return self._send(self._file_call("content", file_id), options).content

    def delete(self, file_id: str, **options: Unpack[ResourceCallOptions]) -> FileDeleted:
        """Delete file `file_id`."""
        return self._deleted(self._send(self._file_call("delete", file_id), options), file_id)

    def list(
        self,
        *,
        purpose: str | None = None,
        limit: int | None = None,
        order: Literal["asc", "desc"] | None = None,
        after: str | None = None,
        **options: Unpack[ResourceCallOptions],
    ) -> FilePage:
        """One page of files (newest first); the next page is `list(after=page.last_id)`."""
        return self._page(self._send(self._list_call(purpose, limit, order, after), options))

    def iterate(
        self, *, purpose: str | None = None, limit: int | None = None, max_pages: int = 1000
    ) -> Iterator[FileObject]:
        """Every file, page after page (`limit` a page, at most `max_pages` requests)."""
        return every_item(lambda after: self.list(purpose=purpose, limit=limit, after=after), max_pages)


class AsyncFiles(_FilesCore, AsyncResource):
    """The files of `AsyncImagesClient`: the same methods as Files, awaited."""

    _client: AsyncImagesClient

    async def upload(
        self,
        file: FileInput,
        *,
        purpose: FilePurpose = "vision",
        filename: str | None = None,
        expires_after: int | None = None,
        **options: Unpack[ResourceCallOptions],
    ) -> FileObject:
        """Upload `file`; see Files.upload."""
        call = self._upload_call(file, purpose, filename, expires_after)
        return FileObject.from_answer(self._json(await self._send(call, options)))

    async def get(self, file_id: str, **options: Unpack[ResourceCallOptions]) -> FileObject:
        """What the server knows of file `file_id`."""
        return FileObject.from_answer(self._json(await self._send(self._file_call("get", file_id), options)))

    async def content(self, file_id: str, **options: Unpack[ResourceCallOptions]) -> bytes:
        """The bytes of file `file_id`."""
        return (await self._send(self._file_call("content", file_id), options)).content

    async def delete(self, file_id: str, **options: Unpack[ResourceCallOptions]) -> FileDeleted:
        """Delete file `file_id`."""
        return self._deleted(await self._send(self._file_call("delete", file_id), options), file_id)

    async def list(
        self,
        *,
        purpose: str | None = None,
        limit: int | None = None,
        order: Literal["asc", "desc"] | None = None,
        after: str | None = None,
        **options: Unpack[ResourceCallOptions],
    ) -> FilePage:
        """One page of files; see Files.list."""
        return self._page(await self._send(self._list_call(purpose, limit, order, after), options))

    def iterate(
        self, *, purpose: str | None = None, limit: int | None = None, max_pages: int = 1000
    ) -> AsyncIterator[FileObject]:
        """Every file, page after page: `async for file in ...`; see Files.iterate."""
        return every_item_async(lambda after: self.list(purpose=purpose, limit=limit, after=after), max_pages)


def _read(file: FileInput, purpose: str, filename: str | None) -> tuple[str, bytes, str]:
    """(file name, bytes, content type) of what was given; an image for purpose "vision"."""
    if purpose == "vision":
        upload = prepare_upload(file, role="image")  # an image, or an UploadError saying what it is
        return filename or upload.filename, upload.data, upload.content_type
    if isinstance(file, bytes | bytearray):
        data, name = bytes(file), filename or "file"
    elif isinstance(file, str | os.PathLike):
        path = Path(file).expanduser()
        try:
            data = path.read_bytes()
        except OSError as error:
            raise UploadError(f"cannot read {path}: {error.strerror}") from None
        name = filename or path.name
    elif hasattr(file, "read"):
        data = file.read()
        if not isinstance(data, bytes):
            raise TypeError("the file must be opened in binary mode ('rb'), not text mode")
        name = filename or Path(str(getattr(file, "name", "file"))).name
    else:
        raise TypeError(
            f"cannot upload a {type(file).__name__}; give a path, bytes or a file opened in binary mode"
        )
    if not data:
        raise UploadError(f"{name} is empty (0 bytes); there is nothing to upload")
    info = image_info(data)
    if info is not None:
        return name, data, CONTENT_TYPES[info.format]
    suffix = Path(name).suffix.lower()
    return (
        name,
        data,
        _CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream",
    )


__all__ = ["AsyncFiles", "FileDeleted", "FileObject", "FilePage", "FilePurpose", "Files"]
