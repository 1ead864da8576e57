"""Run the whole conformance suite against the reference server for every model (scripts/conformance-self)."""

from __future__ import annotations

import argparse
import sys
import time

from imagegen.conformance import run_conformance
from imagegen.conformance.report import summary
from imagegen.server import ServerConfig, create_app, declared_model

TOKEN = "sk-conformance-self-test"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/conformance-self", description=__doc__)
    parser.add_argument("models", nargs="*", help="only these models (default: every one)")
    parser.add_argument("--max-examples", type=int, default=25)
    parser.add_argument("--max-time", type=int, default=300, help="seconds per model (default 300)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    config = ServerConfig(tokens=frozenset({TOKEN})).with_models(declared_model("sd-1.5-ggml"))
    models = args.models or [model.name for model in config.catalog]
    failed = []
    for name in models:
        started = time.monotonic()
        outcome = run_conformance(
            model=name,
            app=create_app(config),
            token=TOKEN,
            max_examples=args.max_examples,
            seed=args.seed,
            max_time_s=args.max_time,
            catalog=config.catalog,
        )
        print(summary(outcome, color=sys.stdout.isatty()))
        print(f"({name}: {time.monotonic() - started:.0f} s)\n", flush=True)
        if not outcome.conforms:
            failed.append(name)
    print(
        f"conformance-self: {len(models) - len(failed)} of {len(models)} models conform"
        + (f"; not: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
