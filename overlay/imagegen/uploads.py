"""The images given to edits and variations: read into request file parts and checked before sending.

`prepare_upload` turns what a caller passes (a path, bytes, an open binary file or a PIL image)
into the bytes, file name and content type of a multipart part, taking the type from the bytes
themselves. Problems are `UploadError`s that name the file and say what to do. The rules about
what a model takes (formats, sizes, masks) are the rule engine's (imagegen.checks).

Pillow is not needed here: it is imported only to save a PIL image the caller gave.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeAlias

from .errors import UploadError
from .imageinfo import CONTENT_TYPES, EXTENSIONS, ImageInfo, image_info, sniff_format

ImageInput: TypeAlias = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO | Any
"""A path, the bytes of an image, a file opened in binary mode, or a PIL image."""

_ACCEPTED = (
    "a path (str or os.PathLike), bytes, bytearray, memoryview, a file opened in binary mode, or a PIL image"
)
_READABLE = "PNG, JPEG or WebP"
_FORMAT_NAMES = {"png": "PNG", "jpeg": "JPEG", "webp": "WebP", "gif": "GIF"}
_SUFFIXES = {"png": (".png",), "jpeg": (".jpg", ".jpeg"), "webp": (".webp",), "gif": (".gif",)}
# What files that are not images, but are often mistaken for them, start with: (magic, offset, name).
_LOOKALIKES = (
    (b"%PDF", 0, "a PDF"),
    (b"II*\x00", 0, "a TIFF image"),
    (b"MM\x00*", 0, "a TIFF image"),
    (b"BM", 0, "a BMP image"),
    (b"ftypheic", 4, "a HEIC image"),
    (b"ftypheix", 4, "a HEIC image"),
    (b"ftypmif1", 4, "a HEIF image"),
    (b"ftypavif", 4, "an AVIF image"),
    (b"<svg", 0, "an SVG drawing"),
    (b"<?xml", 0, "an XML file"),
)


@dataclass(frozen=True)
class PreparedUpload:
    """One image (or mask) ready to send: its bytes, and what they really are."""

    label: str
    """How messages name it: the path, the file object's name, or e.g. "image 2 (bytes)"."""
    filename: str
    """The file name the multipart part gives, with the extension of the real format."""
    content_type: str
    """The media type of the real bytes (image/png, ...)."""
    data: bytes
    info: ImageInfo


def prepare_upload(value: ImageInput, *, role: str = "image", index: int | None = None) -> PreparedUpload:
    """Read `value` whole and find what image it is; UploadError when it cannot be sent.

    `role` ("image" or "mask") and `index` (the position among several images, from 0 as
    enumerate counts) name values that carry no name of their own: the second of a list of bytes,
    `prepare_upload(data, index=1)`, is "image 2 (bytes)"; a lone one is "image (bytes)".
    Paths have `~` expanded; files are read from their current position. When a file's name
    and its bytes disagree (a JPEG called photo.png) the bytes win: it is sent as photo.jpg.
    Raises TypeError for a value of any other type.
    """
    if isinstance(value, bytes | bytearray | memoryview):
        data = value.tobytes() if isinstance(value, memoryview) else bytes(value)
        return _prepared(_unnamed(role, index, "bytes"), None, role, data)
    if isinstance(value, str | os.PathLike):
        text = os.fspath(value)
        if not isinstance(text, str):
            raise TypeError(f"{role}: give paths as str, not bytes; accepted are {_ACCEPTED}")
        return _prepared(text, Path(text).name, role, _read_path(text, role))
    if _is_pil_image(value):
        label = _unnamed(role, index, "PIL image")
        return _prepared(label, None, role, _pil_png_bytes(value, label))
    if callable(getattr(value, "read", None)):
        name = _file_name(value)
        label = name or _unnamed(role, index, "file")
        return _prepared(label, Path(name).name if name else None, role, _read_file(value, label))
    raise TypeError(f"{role}: cannot send a {type(value).__name__}; give {_ACCEPTED}")


def require_images(images: Sequence[PreparedUpload]) -> None:
    """Raise UploadError when no image was given (edits and variations need at least one)."""
    if not images:
        raise UploadError(
            f"no image was given: edits and variations need at least one image ({_READABLE}); "
            f"pass {_ACCEPTED}"
        )


def _prepared(label: str, name: str | None, role: str, data: bytes) -> PreparedUpload:
    if not data:
        raise UploadError(f"{label} is empty (0 bytes); give an image ({_READABLE})")
    info = image_info(data)
    if info is None:
        found = sniff_format(data)
        if found is not None:
            raise UploadError(
                f"{label} starts like a {_FORMAT_NAMES[found]} but its header is damaged or cut short; "
                f"open it in an image editor and save it again as PNG"
            )
        raise UploadError(
            f"{label} is not an image ({_READABLE}){_lookalike(data)}; give an image file, or convert "
            f"it to PNG first"
        )
    return PreparedUpload(
        label=label,
        filename=_filename(name, role, info),
        content_type=CONTENT_TYPES[info.format],
        data=data,
        info=info,
    )


def _unnamed(role: str, index: int | None, kind: str) -> str:
    return f"{role} {index + 1} ({kind})" if index is not None else f"{role} ({kind})"


def _filename(name: str | None, role: str, info: ImageInfo) -> str:
    """The name the part is sent with: `name` with the extension of the real format."""
    if not name:
        return f"{role}{EXTENSIONS[info.format]}"
    stem, suffix = os.path.splitext(name)
    if suffix.lower() in _SUFFIXES[info.format]:
        return name
    return f"{stem}{EXTENSIONS[info.format]}"


def _read_path(text: str, role: str) -> bytes:
    if not text:
        raise UploadError(f"{role}: the path is empty; give the path of an image file ({_READABLE})")
    path = Path(os.path.expanduser(text))  # unlike Path.expanduser, never raises
    where = "" if str(path) == text and path.is_absolute() else f" (looked for {path.absolute()})"
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        hint = (
            "; URLs are not fetched: download the image and give its path or bytes"
            if text.startswith(("http://", "https://"))
            else ""
        )
        raise UploadError(f"{text}: no such file{where}; check the path{hint}") from None
    except (IsADirectoryError, PermissionError) as error:
        if path.is_dir():  # Windows says PermissionError for a directory
            raise UploadError(
                f"{text} is a directory, not an image file; give the path of an image file inside it"
            ) from None
        if isinstance(error, PermissionError):
            raise UploadError(
                f"{text} cannot be read: permission denied; give yourself read permission "
                f"(chmod u+r) or copy the image somewhere readable"
            ) from None
        raise UploadError(f"{text} cannot be read: {error.strerror}") from None
    except OSError as error:
        raise UploadError(f"{text} cannot be read: {error.strerror or error}") from None


def _file_name(file: Any) -> str | None:
    """The name of an open file, when it has one that is a path (not "<stdin>", not a descriptor)."""
    name = getattr(file, "name", None)
    return name if isinstance(name, str) and name and not name.startswith("<") else None


def _read_file(file: Any, label: str) -> bytes:
    if isinstance(file, io.TextIOBase):
        raise TypeError(f"{label} is open in text mode; open it in binary mode (open(path, 'rb'))")
    try:
        data = file.read()
    except UnicodeDecodeError:  # a text-mode file of another kind reading an image's bytes
        raise TypeError(f"{label} is open in text mode; open it in binary mode (open(path, 'rb'))") from None
    except (OSError, ValueError) as error:  # ValueError: the file is closed
        raise UploadError(f"{label} cannot be read: {error}; give a file open for reading") from None
    if isinstance(data, str):
        raise TypeError(f"{label} is open in text mode; open it in binary mode (open(path, 'rb'))")
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"{label}: read() gave a {type(data).__name__}, not bytes; give {_ACCEPTED}")
    return bytes(data)


def _is_pil_image(value: Any) -> bool:
    """Whether `value` looks like a PIL image, told without importing Pillow."""
    return type(value).__module__.startswith("PIL.") and callable(getattr(value, "save", None))


def _pil_png_bytes(image: Any, label: str) -> bytes:
    """A PIL image as PNG bytes, converted to RGB or RGBA first if PNG cannot hold its mode."""
    from PIL import Image  # already imported by whoever made the image, so this costs nothing

    if not isinstance(image, Image.Image):
        raise TypeError(f"{label}: a {type(image).__name__} is not a PIL image; give {_ACCEPTED}")
    try:
        return _png_of(image)
    except OSError:  # "cannot write mode CMYK as PNG", and the like
        pass
    bands = image.getbands()
    try:
        return _png_of(image.convert("RGBA" if "A" in bands or "a" in bands else "RGB"))
    except (OSError, ValueError) as error:
        raise UploadError(
            f"{label} (mode {image.mode}) cannot be saved as PNG: {error}; convert it to RGB or RGBA first"
        ) from None


def _png_of(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _lookalike(data: bytes) -> str:
    """What a file that is not an image looks like (a PDF, a HEIC photo, ...), as a phrase."""
    for magic, offset, name in _LOOKALIKES:
        if data[offset : offset + len(magic)] == magic:
            return f": it looks like {name}"
    return ""
