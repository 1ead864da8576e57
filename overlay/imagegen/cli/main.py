"""Entry point of the `imagegen` command.

Each command lives in its own module, which declares `add_arguments(parser)` and `run(args)`.
The module is imported, and its arguments declared, only when that command is given: so
`imagegen --help` imports nothing but argparse and answers at once.
"""

from __future__ import annotations

import importlib
import sys

# Not `from typing import ...`: importing typing would cost `imagegen --help` ~7 ms.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import Any

# name: (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "generate": ("images_command", "create images from a prompt"),
    "edit": ("images_command", "edit images (with an optional mask)"),
    "vary": ("images_command", "create variations of an image"),
    "batch": ("batch_command", "run a file of requests into a folder of images, resumably"),
    "openai": ("openai_command", "the seed library's commands: GetImages, GetImageDescriptionStructure"),
    "demo": ("demo_command", "generate, edit, vary and stream on a local reference server"),
    "serve": ("serve_command", "run the reference server"),
    "conformance": ("conformance_command", "test a server against the contract, property by property"),
    "models": ("models_command", "show what each known model accepts"),
    "contract": ("contract_command", "show, check, diff and compare the OpenAPI contract"),
}

EXAMPLES = """\
examples:
  imagegen demo                                   try everything on a local server, no key needed
  imagegen generate "Yellow alpaca" --model dall-e-3 --size 1024x1024 -o images/
  imagegen edit photo.png --prompt "add a red hat" --mask mask.png --model gpt-image-1.5
  imagegen vary photo.png -n 2
  imagegen batch prompts.txt -o out/ --model gpt-image-1.5    resumable; run it again after a crash
  imagegen openai GetImages --url https://host/localai/ --token "$TOKEN" --model sd-1.5-ggml \\
      --descr "{'prompt':'Yellow alpaca','n':'1','size':'64x64'}"
  imagegen serve --no-auth --port 8000
  imagegen conformance --url http://127.0.0.1:8000/v1 --model dall-e-2
  imagegen models dall-e-3

Connection: --url (or OPENAI_BASE_URL), --token (or OPENAI_API_KEY, --token-file, --token -).
Run 'imagegen COMMAND --help' for a command's options and examples.
"""


# What `build_parser().format_help()` prints at 100 columns, kept here so that `imagegen` and
# `imagegen --help` answer without importing argparse. tests/test_cli.py fails if they differ.
TOP_HELP = r"""usage: imagegen [-h] [--version] COMMAND ...

Generate, edit and vary images on any OpenAI-compatible server.

positional arguments:
  COMMAND
    generate   create images from a prompt
    edit       edit images (with an optional mask)
    vary       create variations of an image
    batch      run a file of requests into a folder of images, resumably
    openai     the seed library's commands: GetImages, GetImageDescriptionStructure
    demo       generate, edit, vary and stream on a local reference server
    serve      run the reference server
    conformance
               test a server against the contract, property by property
    models     show what each known model accepts
    contract   show, check, diff and compare the OpenAPI contract

options:
  -h, --help   show this help message and exit
  --version    show the version and exit

examples:
  imagegen demo                                   try everything on a local server, no key needed
  imagegen generate "Yellow alpaca" --model dall-e-3 --size 1024x1024 -o images/
  imagegen edit photo.png --prompt "add a red hat" --mask mask.png --model gpt-image-1.5
  imagegen vary photo.png -n 2
  imagegen batch prompts.txt -o out/ --model gpt-image-1.5    resumable; run it again after a crash
  imagegen openai GetImages --url https://host/localai/ --token "$TOKEN" --model sd-1.5-ggml \
      --descr "{'prompt':'Yellow alpaca','n':'1','size':'64x64'}"
  imagegen serve --no-auth --port 8000
  imagegen conformance --url http://127.0.0.1:8000/v1 --model dall-e-2
  imagegen models dall-e-3

Connection: --url (or OPENAI_BASE_URL), --token (or OPENAI_API_KEY, --token-file, --token -).
Run 'imagegen COMMAND --help' for a command's options and examples.
"""


def build_parser(chosen: str | None = None) -> argparse.ArgumentParser:
    """The parser; only the `chosen` command's arguments are declared."""
    import argparse

    class VersionAction(argparse.Action):
        """--version, reading the installed version only when asked (importlib.metadata is slow)."""

        def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
            super().__init__(option_strings, dest, nargs=0, **kwargs)

        def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
            from .._version import __version__

            print(f"imagegen {__version__}")
            parser.exit()

    parser = argparse.ArgumentParser(
        prog="imagegen",
        description="Generate, edit and vary images on any OpenAI-compatible server.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=VersionAction, help="show the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, summary) in COMMANDS.items():
        sub = commands.add_parser(name, help=summary, formatter_class=argparse.RawDescriptionHelpFormatter)
        if name == chosen:
            _module(module_name).add_arguments(sub, name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 the server refused or failed,
    2 bad usage or input, 130 interrupted)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments in ([], ["-h"], ["--help"]):
        print(TOP_HELP, end="", file=sys.stdout if arguments else sys.stderr)
        return 0 if arguments else 2
    chosen = next((word for word in arguments if not word.startswith("-")), None)
    parser = build_parser(chosen if chosen in COMMANDS else None)
    args = parser.parse_args(arguments)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        result: int = _module(COMMANDS[args.command][0]).run(args)
    except KeyboardInterrupt:
        print("imagegen: interrupted", file=sys.stderr)
        return 130
    return result


def _module(name: str) -> Any:
    return importlib.import_module(f"{__package__}.{name}")
