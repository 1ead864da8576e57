"""Multipart bodies read in one go, off the event loop: python-multipart's parser over bytes.

Starlette's own form parser is asynchronous and spools files to disk through the event loop (a
60 MB upload held the loop for about 300 ms); the body is already in memory here, so parsing it
in a worker thread takes a tenth of that and leaves the loop alone.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field

from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header

from ..contract import FormFile, FormValue
from .errors import ApiError

MAX_TEXT_PART_BYTES = 1024 * 1024


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0
    name: str = ""
    filename: str | None = None
    is_file: bool = False


def parse_form(
    content_type: str, body: bytes, *, max_files: int, max_fields: int
) -> list[tuple[str, FormValue]]:
    """The fields and files of a multipart/form-data body, in order; a 400 when it is malformed
    or has more files or fields than allowed."""
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise _refused("the Content-Type has no boundary")
    charset = options.get(b"charset", b"utf-8").decode("latin-1")
    try:
        charset = codecs.lookup(charset).name
    except LookupError:
        charset = "latin-1"
    reader = _Reader(charset, max_files, max_fields)
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": reader.begin,
            "on_header_field": reader.header_field,
            "on_header_value": reader.header_value,
            "on_header_end": reader.header_end,
            "on_headers_finished": reader.headers_finished,
            "on_part_data": reader.data,
            "on_part_end": reader.end,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except FormParserError:
        raise _refused("it is not valid multipart data") from None
    return reader.items


class _Reader:
    """The parser's callbacks: collect each part, enforcing the counts as parts begin."""

    def __init__(self, charset: str, max_files: int, max_fields: int) -> None:
        self.charset = charset
        self.max_files = max_files
        self.max_fields = max_fields
        self.files = 0
        self.fields = 0
        self.items: list[tuple[str, FormValue]] = []
        self.part = _Part()
        self._header_name = b""
        self._header_value = b""

    def begin(self) -> None:
        self.part = _Part()

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def header_end(self) -> None:
        self.part.headers[self._header_name.lower()] = self._header_value
        self._header_name = self._header_value = b""

    def headers_finished(self) -> None:
        _, options = parse_options_header(self.part.headers.get(b"content-disposition", b""))
        if b"name" not in options:
            raise _refused('a part has no "name" in its Content-Disposition')
        self.part.name = self._text(options[b"name"])
        if b"filename" in options:
            self.files += 1
            if self.files > self.max_files:
                raise _refused(f"Too many files; this server takes at most {self.max_files}")
            self.part.is_file = True
            self.part.filename = self._text(options[b"filename"])
        else:
            self.fields += 1
            if self.fields > self.max_fields:
                raise _refused(f"Too many fields; this server takes at most {self.max_fields}")

    def data(self, data: bytes, start: int, end: int) -> None:
        self.part.size += end - start
        if not self.part.is_file and self.part.size > MAX_TEXT_PART_BYTES:
            raise _refused(f"the text field {self.part.name[:64]!r} is over {MAX_TEXT_PART_BYTES} bytes")
        self.part.chunks.append(data[start:end])

    def end(self) -> None:
        content = b"".join(self.part.chunks)
        if self.part.is_file:
            declared = self.part.headers.get(b"content-type")
            kind = declared.decode("latin-1") if declared is not None else None
            self.items.append((self.part.name, FormFile(self.part.name, self.part.filename, kind, content)))
        else:
            self.items.append((self.part.name, self._text(content)))

    def _text(self, raw: bytes) -> str:
        try:
            return raw.decode(self.charset)
        except UnicodeDecodeError:
            return raw.decode("latin-1")


def _refused(reason: str) -> ApiError:
    return ApiError(400, f"The multipart body was refused: {reason}.")
