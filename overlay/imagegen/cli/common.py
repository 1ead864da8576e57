"""What every command that talks to a server shares: connection options, the client built from
them, output verbosity, and how failures become messages and exit statuses."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..client import AsyncImagesClient, ImagesClient

EXIT_OK, EXIT_SERVER, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """Bad usage or input: printed as one line, exit status 2."""


def add_connection_options(parser: argparse.ArgumentParser, *, raw: bool = True) -> None:
    """--url, --token, --token-file, --headers, --query, --auth-header, --allow-local-paths, --proxy,
    --timeout, --max-retries, --raw (unless `raw` is False), -v, --quiet."""
    group = parser.add_argument_group("connection")
    group.add_argument(
        "--url", metavar="URL", help="the API base URL (default: OPENAI_BASE_URL, else OpenAI)"
    )
    group.add_argument(
        "--token",
        metavar="TOKEN",
        help="the API key (default: OPENAI_API_KEY); '-' reads it from standard input",
    )
    group.add_argument("--token-file", type=Path, metavar="FILE", help="read the API key from FILE")
    group.add_argument(
        "--headers", metavar="JSON", help="extra request headers: JSON or a path to a .json file"
    )
    group.add_argument(
        "--query",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a query parameter for every request, e.g. api-version=2025-04-01-preview (repeatable)",
    )
    group.add_argument(
        "--auth-header",
        metavar="NAME",
        default="Authorization",
        help="the header that carries the key: Authorization (as Bearer, the default) or e.g. api-key",
    )
    group.add_argument(
        "--allow-local-paths",
        action="store_true",
        help="read answers' file:// URLs and paths from this disk (for a server on this machine)",
    )
    group.add_argument("--proxy", metavar="URL", help="send requests through this proxy")
    group.add_argument("--timeout", type=float, metavar="SECONDS", help="how long to wait for an answer")
    group.add_argument(
        "--max-retries",
        type=int,
        metavar="N",
        dest="retries",
        help="retries after the first attempt, on connection errors, 429 and 5xx (default 2)",
    )
    group.add_argument("--retries", type=int, dest="old_retries", help=argparse.SUPPRESS)
    if raw:  # not for commands that have no single answer to print (batch)
        group.add_argument(
            "--raw", action="store_true", help="print status, headers and body instead of saving"
        )
    group.add_argument(
        "--no-check",
        action="store_true",
        help="send even what the model's known rules refuse" + (" (--raw implies it)" if raw else ""),
    )
    output = parser.add_argument_group("output")
    output.add_argument("-q", "--quiet", action="store_true", help="no progress or summary on stderr")
    output.add_argument("-v", "--verbose", action="store_true", help="log each request (never the key)")


def token_of(args: argparse.Namespace) -> str | None:
    """The API key from --token, --token - (stdin), --token-file, or OPENAI_API_KEY."""
    if args.token_file is not None:
        try:
            text: str = args.token_file.expanduser().read_text(encoding="utf-8")
            key = text.strip()
            args.read_token = key  # kept so that every message can mask it
            return key
        except OSError as error:
            raise UsageError(f"cannot read --token-file {args.token_file}: {error.strerror}") from None
    if args.token == "-":
        line = sys.stdin.readline().strip()
        if not line:
            raise UsageError("--token - expects the key on standard input, which was empty")
        args.read_token = line
        return line
    given: str | None = args.token if args.token is not None else os.environ.get("OPENAI_API_KEY")
    return given


def check_token(token: str | None) -> None:
    """A key must fit in an HTTP header: printable ASCII (the message never quotes it)."""
    from ..masking import key_problem

    problem = key_problem(token.strip()) if token else None
    if problem is not None:
        raise UsageError(problem.replace("the API key", "the token"))


def headers_of(args: argparse.Namespace) -> dict[str, str]:
    """--headers as a dict (JSON text, the seed's relaxed JSON, or a .json path)."""
    if not args.headers:
        return {}
    from ..relaxed_json import load_json_or_file

    data = load_json_or_file(args.headers, what="--headers")
    if not isinstance(data, dict):
        raise UsageError("--headers must be a JSON object of header names to values")
    return {str(name): str(value) for name, value in data.items()}


def query_of(args: argparse.Namespace) -> dict[str, str]:
    """--query KEY=VALUE options as a dict."""
    query: dict[str, str] = {}
    for item in getattr(args, "query", None) or []:
        name, equals, value = item.partition("=")
        if not equals or not name:
            raise UsageError(f"--query takes KEY=VALUE, e.g. api-version=2025-04-01-preview; got {item!r}")
        query[name] = value
    return query


def client_of(args: argparse.Namespace) -> ImagesClient:
    """An ImagesClient configured from the connection options."""
    from ..errors import ConfigurationError

    configure_logging(args)
    _check_connection_options(args)
    token = token_of(args)
    check_token(token)
    try:
        return _client(args, token)
    except ConfigurationError as error:
        raise UsageError(str(error)) from None


def _check_connection_options(args: argparse.Namespace) -> None:
    if getattr(args, "old_retries", None) is not None:
        raise UsageError(
            "--retries is --max-retries here: how many retries after the first attempt "
            "(`imagegen openai GetImages --retries N` counts every attempt, as the seed does)"
        )
    if args.retries is not None and args.retries < 0:
        raise UsageError(f"--max-retries cannot be negative (got {args.retries}); 0 sends once")
    if args.timeout is not None and not args.timeout > 0:
        raise UsageError(f"--timeout is in seconds and must be above 0, not {args.timeout:g}")


def _client(args: argparse.Namespace, token: str | None) -> ImagesClient:
    from ..client import ImagesClient

    return ImagesClient(**client_arguments(args, token))


def client_arguments(args: argparse.Namespace, token: str | None) -> dict[str, Any]:
    """The client options the connection options give (for ImagesClient or AsyncImagesClient)."""
    import httpx

    from ..client import DEFAULT_TIMEOUT

    return {
        "base_url": args.url,
        "api_key": token,
        "default_headers": headers_of(args),
        "default_query": query_of(args),
        "auth_header": getattr(args, "auth_header", None) or "Authorization",
        "allow_local_paths": getattr(args, "allow_local_paths", False),
        "proxy": args.proxy,
        "timeout": httpx.Timeout(args.timeout, connect=min(args.timeout, 10.0))
        if args.timeout is not None
        else DEFAULT_TIMEOUT,
        "max_retries": args.retries if args.retries is not None else 2,
        "check_rules": not (getattr(args, "no_check", False) or getattr(args, "raw", False)),
    }


def async_client_of(args: argparse.Namespace) -> AsyncImagesClient:
    """An AsyncImagesClient configured from the connection options (checked as client_of does)."""
    from ..client import AsyncImagesClient
    from ..errors import ConfigurationError

    configure_logging(args)
    _check_connection_options(args)
    token = token_of(args)
    check_token(token)
    try:
        return AsyncImagesClient(**client_arguments(args, token))
    except ConfigurationError as error:
        raise UsageError(str(error)) from None


def configure_logging(args: argparse.Namespace) -> None:
    """-v: the library's request log on stderr (methods, paths, statuses, never headers)."""
    if getattr(args, "verbose", False):
        logging.basicConfig(level=logging.WARNING, format="imagegen: %(message)s", stream=sys.stderr)
        logging.getLogger("imagegen").setLevel(logging.DEBUG)


def say(args: argparse.Namespace, message: str) -> None:
    """An informational line on stderr, unless --quiet."""
    if not getattr(args, "quiet", False):
        print(message, file=sys.stderr)


def secrets_of(args: argparse.Namespace) -> list[str | None]:
    """Every key this command may have used: --token, OPENAI_API_KEY, the --token-file's (as read)."""
    return [getattr(args, "token", None), os.environ.get("OPENAI_API_KEY"), getattr(args, "read_token", None)]


def guarded(action: Callable[[], int], secret: str | argparse.Namespace | None = None) -> int:
    """Run `action`, turning failures into one or two lines on stderr and an exit status.

    `secret` is the key (or the parsed arguments, whose every key is then masked)."""
    from ..errors import APIStatusError, ImagesError, RequestRulesError, UploadError
    from ..relaxed_json import JsonInputError

    try:
        return action()
    except (
        UsageError,
        UploadError,
        RequestRulesError,
        JsonInputError,
        FileNotFoundError,
        FileExistsError,
        NotADirectoryError,
    ) as error:
        _error(str(error), secret)
        return EXIT_USAGE
    except ValueError as error:  # bad values given on the command line (a description, a size, ...)
        _error(str(error), secret)
        return EXIT_USAGE
    except OSError as error:  # a file or folder we cannot read or write (permissions, a full disk)
        where = f"{error.filename}: " if error.filename else ""
        _error(f"{where}{error.strerror or error}", secret)
        return EXIT_USAGE
    except APIStatusError as error:
        details = [f"status {error.status_code}"]
        details += [f"param {error.param}"] if error.param else []
        details += [f"code {error.code}"] if error.code else []
        details += [f"request id {error.request_id}"] if error.request_id else []
        _error(f"the server refused: {error.message}\n  ({', '.join(details)})", secret)
        return EXIT_SERVER
    except ImagesError as error:
        _error(str(error), secret)
        return EXIT_SERVER


def _error(message: str, secret: str | argparse.Namespace | None) -> None:
    from ..masking import mask

    secrets = secrets_of(secret) if isinstance(secret, argparse.Namespace) else [secret]
    print(f"imagegen: {mask(message, secrets, placeholder='<token>')}", file=sys.stderr)


class Progress:
    """A spinner on stderr while waiting, only on a terminal and without --quiet."""

    def __init__(self, args: argparse.Namespace, label: str) -> None:
        self.label = label
        self.enabled = not getattr(args, "quiet", False) and sys.stderr.isatty()
        self._stop: Any = None
        self._thread: Any = None

    def __enter__(self) -> Progress:
        if self.enabled:
            import threading
            import time

            self._stop = threading.Event()
            started = time.monotonic()

            def spin() -> None:
                frames = "|/-\\"
                index = 0
                while not self._stop.wait(0.1):
                    elapsed = time.monotonic() - started
                    sys.stderr.write(f"\r{frames[index % 4]} {self.label} {elapsed:4.1f}s")
                    sys.stderr.flush()
                    index += 1
                sys.stderr.write("\r" + " " * (len(self.label) + 10) + "\r")
                sys.stderr.flush()

            self._thread = threading.Thread(target=spin, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._stop is not None:
            self._stop.set()
            self._thread.join(1)
