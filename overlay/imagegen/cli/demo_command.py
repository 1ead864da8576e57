"""`imagegen demo`: generate, edit, vary and stream on a reference server of its own.

For a first try on a fresh machine: no API key and no network are needed. The reference server
runs in a thread of this process on a free loopback port, for the duration of the demo only
(stopped on errors and Ctrl-C too), and every image it makes is saved into a new folder, which
is never one with files in it already: nothing is ever overwritten.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..client import ImagesClient
    from ..results import GeneratedImage

DEFAULT_FOLDER = "imagegen-demo"
PROMPT = "Yellow alpaca in a green field"
EDIT_PROMPT = "a red hat"
STREAM_PROMPT = "An otter floating on its back"
GPT_MODEL = "gpt-image-1.5"
SIZE = "1024x1024"
VARIATION_SIZE = "256x256"
PARTIAL_IMAGES = 2
REQUEST_TIMEOUT_S = 60.0

DEMO_EXAMPLES = f"""\
examples:
  imagegen demo                     save the images into ./{DEFAULT_FOLDER}
  imagegen demo -o /tmp/pics        into /tmp/pics (created if needed)
  imagegen demo --quiet             only the report, no progress lines

What it does, on a reference server started for the demo on 127.0.0.1 (no key, no network):
generate with {GPT_MODEL}, generate with dall-e-3 (a URL answer, downloaded, with its revised
prompt), edit the first image with a mask ("{EDIT_PROMPT}"), make two dall-e-2 variations of
it, and stream a generation with {PARTIAL_IMAGES} partial images.

A folder that already holds files is never written into: DIR-2, DIR-3, ... is used instead.
The report (stdout) lists each file with its pixel size, format and file size; progress lines
go to stderr.
"""


def add_arguments(demo: argparse.ArgumentParser, name: str) -> None:
    """Declare the options of `imagegen demo`."""
    demo.description = (
        "Try the client on a local reference server: generate, edit, vary and stream,\n"
        "and save every image. No API key and no network needed."
    )
    demo.epilog = DEMO_EXAMPLES
    demo.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path(DEFAULT_FOLDER),
        metavar="DIR",
        help=f"folder for the images (default ./{DEFAULT_FOLDER}; if it holds files, DIR-2, DIR-3, ...)",
    )
    demo.add_argument("--quiet", action="store_true", help="no progress lines on stderr, only the report")


def run(args: argparse.Namespace) -> int:
    """Run the demo: 0 when every image is made and saved, 1 when the server or a save fails,
    2 when the folder cannot be created. KeyboardInterrupt propagates, after the server stopped."""
    started = time.monotonic()
    quiet: bool = args.quiet

    def say(message: str) -> None:
        if not quiet:
            print(message, file=sys.stderr, flush=True)

    try:
        from ..errors import ImagesError
        from ..server import ServerConfig, serve_in_background
    except ImportError as error:
        print(
            f"imagegen demo: the reference server needs the 'server' extra ({error.name} is missing): "
            "pip install 'imagegen[server]'",
            file=sys.stderr,
        )
        return 1

    wanted: Path = args.output
    try:
        folder, created = choose_folder(wanted)
    except OSError as error:
        print(f"imagegen demo: cannot create a folder for the images at {wanted}: {error}", file=sys.stderr)
        return 2
    taken = None if folder == wanted.expanduser().resolve() else wanted
    if taken is not None:
        say(f"{taken} already holds files; saving into {folder} instead")

    try:
        with contextlib.ExitStack() as stack:
            try:
                base_url = stack.enter_context(serve_in_background(ServerConfig(auth=False)))
            except RuntimeError as error:
                print(f"imagegen demo: {error}", file=sys.stderr)
                return 1
            say(f"reference server on {base_url}, for this demo only")
            demo = _Demo(stack.enter_context(_client(base_url)), folder, say)
            demo.run_all()
    except ImagesError as error:
        print(f"imagegen demo: {error}", file=sys.stderr)
        _leave(folder, created)
        return 1
    except OSError as error:
        print(f"imagegen demo: cannot save into {folder}: {error}", file=sys.stderr)
        _leave(folder, created)
        return 1
    except BaseException:  # KeyboardInterrupt above all: the server has stopped; tidy up, go on
        _leave(folder, created)
        raise
    print(report(demo.made, folder, taken, demo.revised_prompt, time.monotonic() - started))
    return 0


def choose_folder(wanted: Path) -> tuple[Path, bool]:
    """A folder for the images: `wanted` if it is new or empty, else `wanted-2`, `wanted-3`, ...

    Returns the folder (absolute) and whether it was created here. A path that exists but is not
    an empty folder (a file, or a folder with anything in it) is never used. Raises OSError when
    a folder cannot be created (e.g. no permission).
    """
    base = wanted.expanduser().resolve()
    stem = base.name or DEFAULT_FOLDER
    number = 1
    while True:
        candidate = base if number == 1 else base.parent / f"{stem}-{number}"
        try:
            candidate.mkdir(parents=True)
        except FileExistsError:
            if candidate.is_dir() and not any(candidate.iterdir()):
                return candidate, False
        else:
            return candidate, True
        number += 1


def mask_png(size: tuple[int, int]) -> bytes:
    """A mask for an image of `size`: opaque everywhere but a transparent rectangle near the top
    middle, the area an edit repaints (alpha 0 = repaint). A PNG with an alpha channel (RGBA)."""
    import io

    from PIL import Image, ImageDraw

    width, height = size
    mask = Image.new("RGBA", size, (0, 0, 0, 255))
    hole = (width * 3 // 8, height // 16, width * 5 // 8 - 1, height * 5 // 16 - 1)
    ImageDraw.Draw(mask).rectangle(hole, fill=(0, 0, 0, 0))
    buffer = io.BytesIO()
    mask.save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass(frozen=True)
class MadeFile:
    """One file the demo saved, and what it shows."""

    path: Path
    what: str


def report(
    files: list[MadeFile], folder: Path, taken: Path | None, revised_prompt: str | None, elapsed: float
) -> str:
    """The report printed at the end: one line per file, the folder (`taken`: the one asked for,
    when it held files already), the time and what to do next."""
    from ..imageinfo import image_info

    width = max(len(made.path.name) for made in files)
    lines = ["imagegen demo: made on a local reference server, with no API key and no network"]
    for made in files:
        data = made.path.read_bytes()
        info = image_info(data)
        pixels, kind = (info.size, info.format) if info is not None else ("?", "?")
        lines.append(
            f"  {made.path.name:<{width}}  {pixels:>9} {kind:<4} {human_size(len(data)):>9}  {made.what}"
        )
    if revised_prompt:
        lines.append(f'dall-e-3 revised the prompt: "{revised_prompt}"')
    note = f" ({taken} already held files)" if taken is not None else ""
    lines.append(f"Folder: {folder}{note}")
    lines.append(f"Time:   {elapsed:.1f} s")
    lines.append(
        "Next:   `imagegen serve --no-auth` keeps this server running for your own code; "
        'see "The Python client" in README.md'
    )
    return "\n".join(lines)


def human_size(count: int) -> str:
    """A file size the way people read it: `812 B`, `123.6 KB`, `1.3 MB` (1 KB = 1024 bytes)."""
    if count < 1024:
        return f"{count} B"
    value = float(count)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            break
    return f"{value:.1f} {unit}"


@contextlib.contextmanager
def _client(base_url: str) -> Iterator[ImagesClient]:
    """A client of the demo's server: no key, no retries, and no proxy from the environment
    (an HTTP_PROXY meant for the internet must not catch loopback requests)."""
    import httpx

    from ..client import ImagesClient

    with (
        httpx.Client(trust_env=False, follow_redirects=True) as http,
        ImagesClient(
            base_url=base_url, api_key="", timeout=REQUEST_TIMEOUT_S, max_retries=0, http_client=http
        ) as client,
    ):
        yield client


def _leave(folder: Path, created: bool) -> None:
    """After a failure: remove the folder if this run created it and saved nothing into it."""
    if created:
        with contextlib.suppress(OSError):
            folder.rmdir()  # only ever succeeds on an empty folder


class _Demo:
    """The demo's steps, on one client, saving into one folder as `NN-label.ext` in order made."""

    def __init__(self, client: ImagesClient, folder: Path, say: Callable[[str], None]) -> None:
        self.client = client
        self.folder = folder
        self.say = say
        self.made: list[MadeFile] = []
        self.revised_prompt: str | None = None

    def run_all(self) -> None:
        generated = self.generate()
        self.dall_e_3()
        mask = self.mask(generated)
        self.edit(generated, mask)
        self.vary(generated)
        self.stream()

    def generate(self) -> Path:
        self.say(f'generating "{PROMPT}" with {GPT_MODEL} ({SIZE}, quality low)...')
        result = self.client.generate(PROMPT, model=GPT_MODEL, size=SIZE, quality="low")
        return self._save(result.images[0], "generated", f"{GPT_MODEL}, quality low")

    def dall_e_3(self) -> None:
        self.say("generating with dall-e-3, which answers with a URL: downloading it...")
        result = self.client.generate(PROMPT, model="dall-e-3", size=SIZE)
        self.revised_prompt = result.revised_prompt
        self._save(result.images[0], "dall-e-3", "dall-e-3: a URL answer, downloaded")

    def mask(self, image: Path) -> Path:
        from ..imageinfo import image_info
        from ..results import write_image

        self.say("making a mask: transparent rectangle = the area to repaint...")
        info = image_info(image.read_bytes())
        size = (info.width, info.height) if info is not None else (1024, 1024)
        path = write_image(mask_png(size), self._next_path("mask").with_suffix(".png"))
        self.made.append(MadeFile(path, "the mask: transparent = repaint, opaque = keep"))
        return path

    def edit(self, image: Path, mask: Path) -> None:
        self.say(f'editing {image.name} inside the mask: "{EDIT_PROMPT}"...')
        result = self.client.edit(image, EDIT_PROMPT, mask=mask, model=GPT_MODEL, size=SIZE, quality="low")
        self._save(result.images[0], "edited", f'{image.name[:2]} repainted in the mask: "{EDIT_PROMPT}"')

    def vary(self, image: Path) -> None:
        self.say(f"making 2 variations of {image.name} with dall-e-2 ({VARIATION_SIZE})...")
        result = self.client.vary(image, model="dall-e-2", n=2, size=VARIATION_SIZE)
        for number, variation in enumerate(result.images, start=1):
            self._save(variation, f"variation-{number}", f"dall-e-2 variation {number} of {image.name[:2]}")

    def stream(self) -> None:
        from ..streaming import PartialImageEvent

        self.say(f'streaming "{STREAM_PROMPT}" with {PARTIAL_IMAGES} partial images...')
        with self.client.generate(
            STREAM_PROMPT,
            model=GPT_MODEL,
            size=SIZE,
            quality="low",
            stream=True,
            partial_images=PARTIAL_IMAGES,
        ) as events:
            partials = 0
            for event in events:
                if isinstance(event, PartialImageEvent):
                    partials += 1
                    self._save(event.image, f"stream-partial-{partials}", f"streamed preview {partials}")
                else:
                    self._save(event.image, "stream-final", "streamed final image")

    def _next_path(self, label: str) -> Path:
        return self.folder / f"{len(self.made) + 1:02d}-{label}"

    def _save(self, image: GeneratedImage, label: str, what: str) -> Path:
        path = image.save(self._next_path(label))  # atomic, and never replaces a file
        self.made.append(MadeFile(path, what))
        return path
