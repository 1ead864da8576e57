"""`imagegen serve`: run the reference server in the foreground."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..server import Limits

SERVE_EXAMPLES = """\
examples:
  imagegen serve --no-auth                      local use, no token, on 127.0.0.1:8000
  imagegen serve --port 0 --token s3cret        a free port; clients send 'Bearer s3cret'
  IMAGEGEN_SERVER_TOKENS=a,b imagegen serve     tokens from the environment
  imagegen serve --no-auth --model sd-1.5-ggml  also serve a LocalAI-like model (any WxH 64..1024)
  imagegen serve --no-auth --faults             honour X-Imagegen-Fault headers (for client tests)
  imagegen serve --no-auth --fault 'generations=status=503;times=2;retry-after=1'
                                                the first two generations answer 503
  imagegen serve --no-auth --workers 2 --data-dir ./store
                                                two processes (every core of a 2-core machine),
                                                URL images and idempotency records kept in ./store
  imagegen serve --no-auth --batch-delay 0.5    batches (/v1/batches) take half a second a request
  imagegen serve --no-auth --allow-url-fetch    JSON edits may name https image URLs to fetch

Limits (sizes take K, M or G): --max-body, --max-request-pixels, --jobs and --queue bound what
a worker holds at once; --image-store and --idempotency-store bound the store on disk, which
evicts the entries closest to expiry (logged) when a bound is reached.

The first line on standard output is the base URL (e.g. http://127.0.0.1:8000/v1), printed
once the server accepts connections. Stop it with Ctrl-C or SIGTERM.
"""


def add_arguments(serve: argparse.ArgumentParser, name: str) -> None:
    """Declare the options of `imagegen serve`."""
    serve.description = "Run the imagegen reference server: the contract implemented, with real images."
    serve.epilog = SERVE_EXAMPLES
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    serve.add_argument(
        "--token", action="append", default=[], metavar="TOKEN", help="accepted bearer token (repeatable)"
    )
    serve.add_argument("--no-auth", action="store_true", help="accept requests without a token")
    serve.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME",
        help="serve an extra LocalAI-like model (repeatable)",
    )
    serve.add_argument(
        "--models", type=Path, metavar="FILE", help="extra models with their own rules (JSON or YAML)"
    )
    serve.add_argument(
        "--contract",
        type=Path,
        metavar="FILE",
        help="implement this contract (YAML or JSON) instead of the packaged one, e.g. one being changed",
    )
    serve.add_argument("--faults", action="store_true", help="honour X-Imagegen-Fault headers")
    serve.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="OPERATION=SPEC",
        help="a fault for every request of an operation, e.g. 'generations=status=503;times=2' "
        "(implies --faults)",
    )
    serve.add_argument("--quiet", action="store_true", help="no access log")
    serve.add_argument(
        "--allow-url-fetch",
        action="store_true",
        help="fetch the image URLs of JSON edits (https, or http on loopback; bounded, 10 s timeout)",
    )
    serve.add_argument(
        "--batch-delay",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="pause before each request of a batch, so batches take a while (for tests of polling)",
    )
    scale = serve.add_argument_group("processes and limits")
    scale.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="worker processes on one port, sharing the store "
        f"(default 1; this machine has {os.cpu_count()} cores)",
    )
    scale.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="keep the store (SQLite and files: URL images, idempotency records) here, across restarts "
        "(default: a temporary folder removed at exit)",
    )
    scale.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="decoding/painting tasks at once per worker, in threads (default 2: one picture is "
        "compressed while the next is drawn)",
    )
    scale.add_argument(
        "--queue",
        type=int,
        metavar="N",
        help="requests waiting per worker beyond --jobs; more get 503 with Retry-After (default 8)",
    )
    scale.add_argument(
        "--max-body", type=size_value, metavar="SIZE", help="largest request body (default 64M)"
    )
    scale.add_argument(
        "--max-request-pixels",
        type=size_value,
        metavar="N",
        help="pixels of all input images of a request together (default 40M: 40x1024x1024)",
    )
    scale.add_argument(
        "--image-store", type=size_value, metavar="SIZE", help="bound of the URL images on disk (default 1G)"
    )
    scale.add_argument(
        "--idempotency-store",
        type=size_value,
        metavar="SIZE",
        help="bound of the answers kept for Idempotency-Key replays (default 256M)",
    )
    scale.add_argument(
        "--file-store",
        type=size_value,
        metavar="SIZE",
        help="bound of the uploaded files on disk (default 1G)",
    )
    scale.add_argument(
        "--url-ttl", type=float, metavar="SECONDS", help="how long URL images are served (default 3600)"
    )
    scale.add_argument(
        "--idempotency-window",
        type=float,
        metavar="SECONDS",
        help="how long answers are replayed for a repeated Idempotency-Key (default 3600)",
    )


_SIZE = re.compile(r"(\d+)\s*([kmg]?)i?b?", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def size_value(text: str) -> int:
    """A count or a size: 1500, 64K, 256M, 1G (powers of 1024)."""
    match = _SIZE.fullmatch(text.strip())
    if match is None or int(match.group(1)) < 1:
        raise argparse.ArgumentTypeError(
            f"expected a positive number such as 500, 64K, 256M or 1G, not {text!r}"
        )
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; 2 on a configuration problem."""
    from ..contract import Contract, ContractError, RulesError, default_contract
    from ..server import (
        ConfigError,
        ServerConfig,
        declared_model,
        models_from_file,
        serve_forever,
        tokens_from_env,
    )

    if not 0 <= args.port <= 65535:
        print(f"imagegen serve: --port must be between 0 and 65535, not {args.port}", file=sys.stderr)
        return 2
    for option, value, least in (
        ("--workers", args.workers, 1),
        ("--jobs", args.jobs, 1),
        ("--queue", args.queue, 0),
    ):
        if value is not None and value < least:
            print(f"imagegen serve: {option} must be at least {least}, not {value}", file=sys.stderr)
            return 2
    if args.batch_delay < 0:
        print(f"imagegen serve: --batch-delay cannot be negative, not {args.batch_delay:g}", file=sys.stderr)
        return 2
    for option, seconds in (("--url-ttl", args.url_ttl), ("--idempotency-window", args.idempotency_window)):
        if seconds is not None and not seconds > 0:
            print(f"imagegen serve: {option} must be more than 0 seconds, not {seconds:g}", file=sys.stderr)
            return 2
    try:
        contract = Contract.from_file(args.contract) if args.contract else default_contract()
        contract.catalog  # noqa: B018  (malformed model rules are reported now, not on a request)
    except (ContractError, RulesError) as error:
        print(f"imagegen serve: {error}", file=sys.stderr)
        return 2
    route_faults: dict[str, str] = {}
    for item in args.fault:
        operation, sep, spec = item.partition("=")
        if not sep or operation not in contract.operation_names:
            names = ", ".join(contract.operation_names)
            print(
                f"imagegen serve: --fault takes OPERATION=SPEC with OPERATION one of {names}; got {item!r}",
                file=sys.stderr,
            )
            return 2
        route_faults[operation] = spec
    try:
        extra = [declared_model(name, contract) for name in args.model]
        if args.models is not None:
            extra += models_from_file(args.models, contract)
        config = ServerConfig(
            tokens=frozenset(args.token) | tokens_from_env(),
            auth=not args.no_auth,
            contract=contract,
            faults_enabled=args.faults or bool(route_faults),
            route_faults=route_faults,
            access_log=not args.quiet,
            limits=_limits(args),
            data_dir=args.data_dir,
            allow_url_fetch=args.allow_url_fetch,
            batch_delay_s=args.batch_delay,
            **_optional(
                jobs=args.jobs,
                queue=args.queue,
                files_max_bytes=args.file_store,
                store_max_bytes=args.image_store,
                idempotency_max_bytes=args.idempotency_store,
                url_ttl_s=args.url_ttl,
                idempotency_window_s=args.idempotency_window,
            ),
        ).with_models(*extra)
        if args.data_dir is not None:
            args.data_dir.mkdir(parents=True, exist_ok=True)
    except ConfigError as error:
        print(f"imagegen serve: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(
            f"imagegen serve: cannot use --data-dir {args.data_dir}: {error.strerror or error}",
            file=sys.stderr,
        )
        return 2

    def announce(base_url: str) -> None:
        print(base_url, flush=True)

    try:
        serve_forever(config, args.host, args.port, on_ready=announce, workers=args.workers)
    except KeyboardInterrupt:  # Ctrl-C, after a graceful shutdown
        return 130
    except OSError as error:
        print(
            f"imagegen serve: cannot listen on {args.host}:{args.port}: {error.strerror or error}",
            file=sys.stderr,
        )
        return 1
    except RuntimeError as error:
        print(f"imagegen serve: {error}", file=sys.stderr)
        return 1
    return 0


def _limits(args: argparse.Namespace) -> Limits:
    from dataclasses import replace

    from ..server import Limits

    chosen = _optional(max_body_bytes=args.max_body, max_request_pixels=args.max_request_pixels)
    return replace(Limits(), **chosen)


def _optional(**values: Any) -> dict[str, Any]:
    """The options given on the command line (the others keep ServerConfig's defaults)."""
    return {name: value for name, value in values.items() if value is not None}
