"""`imagegen generate`, `imagegen edit` and `imagegen vary`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .common import EXIT_OK, Progress, UsageError, add_connection_options, client_of, guarded, say

if TYPE_CHECKING:
    from ..client import ImagesClient
    from ..results import ImagesResult
    from ..streaming import ImageStream

EXAMPLES = {
    "generate": """\
examples:
  imagegen generate "Yellow alpaca" --model dall-e-3 --size 1024x1024
  imagegen generate "A cute baby sea otter" --model gpt-image-1.5 -n 2 --quality low -o otters/
  imagegen generate "Logo of a fox" --model gpt-image-1.5 --background transparent --output-format webp
  imagegen generate "Otter" --model gpt-image-1.5 --stream --partial-images 2 --save-partials
  imagegen generate "Yellow alpaca" --json                  the answer as JSON (base64 elided)
  imagegen generate "Yellow alpaca" --field seed=42         any field the contract does not list
""",
    "edit": """\
examples:
  imagegen edit photo.png --prompt "Add a red hat" --model gpt-image-1.5
  imagegen edit photo.png --mask mask.png --prompt "Replace the sky with stars"
  imagegen edit a.png b.png c.png --prompt "Put these in a gift basket" --model gpt-image-1.5
  imagegen edit --image-url https://example.com/photo.png --prompt "Watercolour" --model gpt-image-1.5
  imagegen edit --file-id file-abc123 --prompt "Add a red hat" --model gpt-image-1.5
Images by URL or file id are sent in the JSON form of the request (GPT image models).
The mask is a PNG with alpha, of the first image's size: where its alpha is 0, the model repaints.
""",
    "vary": """\
examples:
  imagegen vary photo.png
  imagegen vary photo.png -n 3 --size 512x512 -o variations/
""",
}

# Short or older spellings kept beside the options named after the fields.
ALIASES = {"n": ["-n"], "output_compression": ["--compression"]}
# Fields with options of their own (the prompt and images are arguments; --stream is a flag).
OWN_OPTIONS = {"stream"}


def request_fields(command: str) -> list[Any]:
    """The optional, non-file fields of the command's operation, as the contract lists them."""
    from ..arguments import OPERATION_OF
    from ..contract import default_contract

    contract = default_contract()  # the command's operation's request fields become its options
    return [
        field
        for field in contract.request_fields(OPERATION_OF[command])
        if not (field.required or field.upload or field.binary or field.name in OWN_OPTIONS)
    ]


def _help(field: Any) -> str:
    sentence = " ".join(field.description.replace("`", "").split()).split(". ")[0].rstrip(".")
    if len(sentence) > 90:
        sentence = sentence[:87].rsplit(" ", 1)[0] + "..."
    if field.enum:
        sentence += f" ({', '.join(str(value) for value in field.enum)})"
    return sentence.replace("%", "%%")


def _type(kind: str | None) -> Any:
    if kind == "integer":
        return int
    if kind == "number":
        return float
    if kind == "boolean":
        return _boolean
    return str


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered not in ("true", "false"):
        raise argparse.ArgumentTypeError(f"expected true or false, not {text!r}")
    return lowered == "true"


def add_field_options(group: Any, command: str) -> None:
    """An option per request field of the command's operation (--model, --size, ...), and
    --field KEY=VALUE for any other."""
    for field in request_fields(command):
        if field.name == "partial_images":
            continue  # declared with the streaming options
        flags = [*ALIASES.get(field.name, []), "--" + field.name.replace("_", "-")]
        metavar = field.name.upper() if field.kind != "boolean" else "true|false"
        group.add_argument(
            *flags, dest=field.name, type=_type(field.kind), metavar=metavar, help=_help(field)
        )
    group.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other request field (repeatable)",
    )


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    """Declare the options of generate, edit or vary."""
    parser.description = {
        "generate": "Create images from a prompt and save them.",
        "edit": "Edit one or more images (with an optional mask) and save the results.",
        "vary": "Create variations of an image and save them.",
    }[name]
    parser.epilog = EXAMPLES[name]
    if name == "generate":
        parser.add_argument("prompt", help="what the images should show")
    elif name == "edit":
        parser.add_argument("images", nargs="*", type=Path, metavar="IMAGE", help="the image file(s) to edit")
        parser.add_argument("--prompt", required=True, help="the edit to make")
        parser.add_argument(
            "--mask",
            help="PNG with alpha (a file, or an https:// or data: URL); alpha 0 marks what to repaint",
        )
        by_reference = parser.add_argument_group("images by reference (sent as a JSON edit)")
        by_reference.add_argument(
            "--image-url", action="append", default=[], metavar="URL", help="an image's https:// or data: URL"
        )
        by_reference.add_argument(
            "--file-id",
            action="append",
            default=[],
            metavar="ID",
            help="an image uploaded with the files API",
        )
        by_reference.add_argument("--mask-file-id", metavar="ID", help="a mask uploaded with the files API")
        by_reference.add_argument(
            "--form",
            choices=("json", "multipart"),
            help="the request's form (default: JSON when an image is a reference, else multipart)",
        )
    else:
        parser.add_argument("image", type=Path, metavar="IMAGE", help="the image to vary")
    request = parser.add_argument_group("request (the contract's fields)")
    add_field_options(request, name)
    if name != "vary":
        request.add_argument("--stream", action="store_true", help="show partial images as they arrive")
        request.add_argument("--partial-images", type=int, metavar="K", help="partial images per image (0-3)")
        request.add_argument("--save-partials", action="store_true", help="save the partial images too")
    saving = parser.add_argument_group("saving")
    saving.add_argument(
        "-o", "--output", type=Path, default=Path("."), metavar="DIR", help="where to save (default .)"
    )
    saving.add_argument("--overwrite", action="store_true", help="replace files of the same name")
    saving.add_argument("--json", action="store_true", help="print the answer as JSON instead of saving")
    saving.add_argument(
        "--b64", action="store_true", help="keep base64 image data in --json and --raw output"
    )
    add_connection_options(parser)


def run(args: argparse.Namespace) -> int:
    """Send the request, then save (or print) what came back."""
    return guarded(lambda: _run(args), secret=args)


def _run(args: argparse.Namespace) -> int:
    from ..errors import APIStatusError
    from .saving import output_folder

    fields = _fields(args)
    if getattr(args, "stream", False) and (args.json or args.raw):
        raise UsageError(
            "--stream shows and saves images as they arrive; it cannot be combined with --json or --raw"
        )
    if not (args.json or args.raw):
        output_folder(args.output)  # refuse a bad -o before anything is sent (and paid for)
    with client_of(args) as client:
        if getattr(args, "stream", False) and not (args.json or args.raw):
            return _stream(args, client, fields)
        keep_raw = args.json or args.raw
        try:
            with Progress(args, f"{args.command} ..."):
                result = _call(args, client, fields, raw_response=keep_raw)
        except APIStatusError as error:
            if not args.raw:
                raise
            return _print_document(
                {"code": error.status_code, "headers": dict(error.headers), "body": _body(error.body)}, 1
            )
        if keep_raw:
            return _print_answer(args, result)
        return _save_all(args, result)


def _fields(args: argparse.Namespace) -> dict[str, Any]:
    return field_values(args, args.command)


def field_values(args: argparse.Namespace, command: str) -> dict[str, Any]:
    """The request fields given as options (those of add_field_options)."""
    fields = {
        field.name: getattr(args, field.name)
        for field in request_fields(command)
        if getattr(args, field.name, None) is not None
    }
    for item in args.field:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--field takes KEY=VALUE, got {item!r}")
        fields[key] = _typed(value)
    return fields


def _typed(value: str) -> Any:
    """--field values: JSON when they read as JSON (42, true, [1,2]), else the text itself."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def _call(args: argparse.Namespace, client: ImagesClient, fields: dict[str, Any], **options: Any) -> Any:
    # --field KEY=VALUE may name any field: those the contract does not list go in extra_body.
    known = {field.name for field in request_fields(args.command)} | OWN_OPTIONS
    listed = {key: value for key, value in fields.items() if key in known}
    extra = {key: value for key, value in fields.items() if key not in known}
    if extra:
        options["extra_body"] = extra
    if args.command == "generate":
        return client.generate(args.prompt, **listed, **options)
    if args.command == "edit":
        images = edit_sources(args)
        mask = {"file_id": args.mask_file_id} if args.mask_file_id else args.mask
        if args.mask_file_id and args.mask:
            raise UsageError("give --mask or --mask-file-id, not both")
        one = images[0] if len(images) == 1 else images
        return client.edit(one, args.prompt, mask=mask, form=args.form, **listed, **options)
    return client.vary(args.image, **listed, **options)


def _reference_name(args: argparse.Namespace) -> str:
    url = args.image_url[0] if args.image_url else ""
    if url.lower().startswith(("http://", "https://")):
        return url.split("?")[0].rstrip("/").rsplit("/", 1)[-1] or "image"
    return args.file_id[0] if args.file_id else "image"


def edit_sources(args: argparse.Namespace) -> list[Any]:
    """The images of `imagegen edit`: files, then --image-url URLs, then --file-id references."""
    sources: list[Any] = [*args.images, *args.image_url, *({"file_id": item} for item in args.file_id)]
    if not sources:
        raise UsageError("give the image(s) to edit: files, --image-url URL or --file-id ID")
    return sources


def _stem(args: argparse.Namespace) -> str:
    from .saving import slug

    if args.command == "generate":
        return slug(args.prompt)
    source = (
        (args.images[0] if args.images else _reference_name(args)) if args.command == "edit" else args.image
    )
    suffix = "edited" if args.command == "edit" else "variation"
    return f"{slug(Path(source).stem, fallback='image')}-{suffix}"


def _save_all(args: argparse.Namespace, result: ImagesResult) -> int:
    from .saving import output_folder, save_new

    folder = output_folder(args.output)
    stem = _stem(args)
    for image in result.images:
        with Progress(args, "downloading ..."):
            data = image.bytes()
        path = save_new(data, folder, f"{stem}-{image.index + 1}", overwrite=args.overwrite)
        print(path)
        info = image.info
        described = f"{info.width}x{info.height} {info.format}" if info is not None else "unknown format"
        say(args, f"  {described}, {_megabytes(len(data))}")
    if result.revised_prompt:
        say(args, f"revised prompt: {result.revised_prompt}")
    say(args, f"saved {len(result.images)} image(s) in {folder} (request id {result.request_id or '-'})")
    return EXIT_OK


def _stream(args: argparse.Namespace, client: ImagesClient, fields: dict[str, Any]) -> int:
    from .saving import output_folder, save_new

    folder = output_folder(args.output)
    stem = _stem(args)
    stream: ImageStream = _call(args, client, {**fields, "stream": True})
    count = 0
    with stream:
        for event in stream:
            image = event.image
            size = f"{image.size[0]}x{image.size[1]}" if image.size else "?"
            if event.type.endswith("partial_image"):
                index = getattr(event, "partial_image_index", 0)
                say(args, f"partial image {index + 1} of image {image.index + 1} ({size})")
                if args.save_partials:
                    print(save_new(image.bytes(), folder, f"{stem}-{image.index + 1}-partial-{index + 1}"))
            else:
                say(args, f"image {image.index + 1} completed ({size})")
                print(save_new(image.bytes(), folder, f"{stem}-{image.index + 1}", overwrite=args.overwrite))
                count += 1
    say(args, f"saved {count} image(s) in {folder}")
    return EXIT_OK


def _print_answer(args: argparse.Namespace, result: ImagesResult) -> int:
    body = json.loads(result.response.content or b"{}")
    if not args.b64:
        body = elide_base64(body)
    if args.raw:
        document: Any = {
            "code": result.response.status_code,
            "headers": dict(result.response.headers),
            "body": body,
        }
    else:
        document = body
    return _print_document(document, EXIT_OK)


def _print_document(document: Any, status: int) -> int:
    json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return status


def _body(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", errors="replace")


def elide_base64(value: Any) -> Any:
    """A copy of a JSON value with long base64 strings replaced by a short note."""
    if isinstance(value, dict):
        return {
            key: f"<{len(item)} characters of base64; --b64 to show>"
            if key == "b64_json" and isinstance(item, str)
            else elide_base64(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [elide_base64(item) for item in value]
    return value


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size / 1000:.0f} kB"
