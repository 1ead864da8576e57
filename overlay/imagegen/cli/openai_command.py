"""`imagegen openai ...`: the seed library's command line, unchanged but for the program name.

    imagegen openai GetImages --url "https://bothub.chat/api/v2/openai/" --token "***" \
        --model "dall-e-3" --descr "{'prompt':'Yellow alpaca','n':'1','size':'1024x1024'}"
    imagegen openai GetImageDescriptionStructure --prompt "Yellow alpaca" --amount 1 --size 64x64
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .common import EXIT_OK, EXIT_SERVER, UsageError, check_token, guarded

EXAMPLES = """\
examples (the seed's, with the program name changed):
  imagegen openai GetImages --url "https://bothub.chat/api/v2/openai/" --token "***" \\
      --model "dall-e-3" --descr "{'prompt':'Yellow alpaca','n':'1','size':'1024x1024'}"
  imagegen openai GetImages --url https://host/localai/ --token "$TOKEN" --model sd-1.5-ggml \\
      --descr descr.json --headers "{'OpenAI-Project':'proj-1'}" --adv_response --retries 3
  imagegen openai GetImageDescriptionStructure --prompt "Yellow alpaca" --amount 1 --size 64x64

--descr, --headers, --options and --config take JSON, the seed's relaxed JSON (single quotes,
numbers written as strings) or a path to a .json file. The result is printed as JSON.
"""


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    """Declare `imagegen openai GetImages` and `imagegen openai GetImageDescriptionStructure`."""
    parser.description = "The seed library's OpenAI image commands."
    parser.epilog = EXAMPLES
    methods = parser.add_subparsers(dest="method", metavar="METHOD", required=True)

    get = methods.add_parser("GetImages", help="generate images (prints the answer as JSON)", epilog=EXAMPLES,
                             formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    get.add_argument("--url", required=True, help="the server root, e.g. https://host/localai/")
    get.add_argument("--token", required=True, help="the authorization token ('-' reads it from stdin)")
    get.add_argument("--model", required=True, help="the model name")
    get.add_argument("--descr", required=True, help="the description: JSON, relaxed JSON or a .json path")
    get.add_argument("--headers", help="additional request headers: JSON or a .json path")
    get.add_argument("--proxy", help="a proxy URL, or JSON {Protocol, Host, Port, User, Password}")
    get.add_argument("--timeout", type=float, help="request timeout in seconds")
    get.add_argument("--adv_response", "--adv-response", action="store_true", dest="adv_response",
                     help="print the whole HTTP answer: code, headers and body")  # fmt: skip
    get.add_argument(
        "--retries",
        type=int,
        help="as in the seed: how many times in all to send on 5xx or connection errors",
    )
    get.add_argument(
        "--config", help="the advanced options as JSON or a .json path: proxy, timeout, adv_response, retries"
    )

    describe = methods.add_parser(
        "GetImageDescriptionStructure", help="print a description to pass to --descr"
    )
    describe.add_argument("--prompt", required=True, help="what the images should show")
    describe.add_argument("--amount", default="1", help="how many images (default 1)")
    describe.add_argument("--bg", help="the background: transparent, opaque or auto")
    describe.add_argument("--size", help="WIDTHxHEIGHT")
    describe.add_argument("--options", help="more request fields: JSON, relaxed JSON or a .json path")


def run(args: argparse.Namespace) -> int:
    """Run the chosen seed method."""
    if args.method == "GetImageDescriptionStructure":
        return guarded(lambda: _describe(args))
    return guarded(lambda: _get_images(args), secret=args)


def _describe(args: argparse.Namespace) -> int:
    from ..description import describe
    from ..relaxed_json import load_json_or_file

    options = load_json_or_file(args.options, what="--options") if args.options else {}
    if not isinstance(options, dict):
        raise UsageError("--options must be a JSON object of request fields")
    amount = str(args.amount).strip()
    if not amount.isdigit() or int(amount) < 1:
        raise UsageError(f"--amount must be a whole number of images, 1 or more, not {args.amount!r}")
    description = describe(args.prompt, int(amount), args.bg, args.size, **options)
    return _print(description.to_body())


def _get_images(args: argparse.Namespace) -> int:
    from ..description import as_description
    from ..relaxed_json import load_json_or_file
    from ..seed import get_images

    config = load_json_or_file(args.config, what="--config") if args.config else {}
    if not isinstance(config, dict):
        raise UsageError("--config must be a JSON object: proxy, timeout, adv_response, retries")
    unknown = set(config) - {"proxy", "timeout", "adv_response", "retries"}
    if unknown:
        raise UsageError(f"--config: unknown option(s) {', '.join(sorted(unknown))}; use proxy, timeout, "
                         "adv_response, retries")  # fmt: skip
    from ..seed import check_seed_options

    for where, values in (
        (
            "--config",
            {key: config.get(key) for key in ("timeout", "retries")}
            | {"adv_response": config.get("adv_response", False)},
        ),
        ("", {"timeout": args.timeout, "retries": args.retries, "adv_response": False}),
    ):
        try:
            check_seed_options(**values)
        except ValueError as error:
            name = str(error).split()[0]
            raise UsageError(
                f"{where}: {error}" if where else f"--{name} {str(error).partition(' ')[2]}"
            ) from None
    token = sys.stdin.readline().strip() if args.token == "-" else args.token
    if not token:
        raise UsageError("--token - expects the key on standard input, which was empty")
    check_token(token)
    proxy: Any = args.proxy if args.proxy is not None else config.get("proxy")
    if isinstance(proxy, str) and proxy.lstrip().startswith("{"):
        proxy = load_json_or_file(proxy, what="--proxy")
    adv_response = args.adv_response or config.get("adv_response", False)
    result = get_images(
        args.url,
        token,
        args.model,
        as_description(args.descr, what="--descr"),
        args.headers,
        proxy=proxy,
        timeout=args.timeout if args.timeout is not None else config.get("timeout"),
        adv_response=adv_response,
        retries=args.retries if args.retries is not None else config.get("retries"),
    )
    status = _print(result)
    if adv_response and isinstance(result, dict) and int(result.get("code", 200)) >= 400:
        return EXIT_SERVER
    return status


def _print(value: Any) -> int:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return EXIT_OK
