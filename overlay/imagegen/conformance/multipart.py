"""Read a multipart/form-data body back into its parts (python-multipart does the parsing)."""

from __future__ import annotations

from python_multipart.multipart import MultipartParser, parse_options_header

Part = tuple[str, str | None, str | None, bytes]  # name, filename, content type, bytes


def parse_form(body: bytes, content_type: str) -> list[Part]:
    """The parts of `body`, in order; ValueError when it is not multipart with a boundary."""
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise ValueError("no multipart boundary")
    parts: list[Part] = []
    headers: dict[bytes, bytes] = {}
    field, value, data = bytearray(), bytearray(), bytearray()

    def on_part_begin() -> None:
        headers.clear()
        data.clear()

    def on_header_field(chunk: bytes, start: int, end: int) -> None:
        field.extend(chunk[start:end])

    def on_header_value(chunk: bytes, start: int, end: int) -> None:
        value.extend(chunk[start:end])

    def on_header_end() -> None:
        headers[bytes(field).lower()] = bytes(value)
        field.clear()
        value.clear()

    def on_part_data(chunk: bytes, start: int, end: int) -> None:
        data.extend(chunk[start:end])

    def on_part_end() -> None:
        _, disposition = parse_options_header(headers.get(b"content-disposition", b""))
        filename = disposition.get(b"filename")
        part_type = headers.get(b"content-type")
        parts.append(
            (
                disposition.get(b"name", b"").decode(errors="replace"),
                filename.decode(errors="replace") if filename is not None else None,
                part_type.decode(errors="replace") if part_type is not None else None,
                bytes(data),
            )
        )

    callbacks = {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    }
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    parser.write(body)
    parser.finalize()
    return parts
