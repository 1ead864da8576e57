"""`imagegen serve`: run the reference server in the foreground."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

SERVE_EXAMPLES = """\
examples:
  imagegen serve --no-auth                      local use, no token, on 127.0.0.1:8000
  imagegen serve --port 0 --token s3cret        a free port; clients send 'Bearer s3cret'
  IMAGEGEN_SERVER_TOKENS=a,b imagegen serve     tokens from the environment
  imagegen serve --no-auth --model sd-1.5-ggml  also serve a LocalAI-like model (any WxH 64..1024)
  imagegen serve --no-auth --faults             honour X-Imagegen-Fault headers (for client tests)
  imagegen serve --no-auth --fault 'generations=status=503;times=2;retry-after=1'
                                                the first two generations answer 503

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
        ).with_models(*extra)
    except ConfigError as error:
        print(f"imagegen serve: {error}", file=sys.stderr)
        return 2

    def announce(base_url: str) -> None:
        print(base_url, flush=True)

    try:
        serve_forever(config, args.host, args.port, on_ready=announce)
    except KeyboardInterrupt:  # Ctrl-C, after a graceful shutdown
        return 130
    except OSError as error:
        print(
            f"imagegen serve: cannot listen on {args.host}:{args.port}: {error.strerror or error}",
            file=sys.stderr,
        )
        return 1
    return 0
