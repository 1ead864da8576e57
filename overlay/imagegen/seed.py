"""`get_images`: the seed library's GetImages, for people coming from it.

    from imagegen import describe, get_images

    description = describe("Yellow alpaca", 1, None, "64x64")
    result = get_images("https://host/localai/", token, "sd-1.5-ggml", description)
    result["data"][0]["url"]

It returns the server's JSON answer as a dict, like the seed's Map; the idiomatic API is
ImagesClient.
"""

from __future__ import annotations

import atexit
import json
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from .client import ImagesClient
from .description import ImageDescription, as_description
from .errors import APIStatusError
from .relaxed_json import load_json_or_file

_executor: ThreadPoolExecutor | None = None


def check_seed_options(*, timeout: Any, retries: Any, adv_response: Any) -> None:
    """ValueError naming the option, for values of the wrong kind (from a --config file, say)."""
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
    ):
        raise ValueError(f"timeout must be a number of seconds above 0, not {timeout!r}")
    if retries is not None and (isinstance(retries, bool) or not isinstance(retries, int) or retries < 1):
        raise ValueError(
            "retries is how many times the request may be sent: a whole number of at least 1, "
            f"not {retries!r}"
        )
    if not isinstance(adv_response, bool):
        raise ValueError(f"adv_response must be true or false, not {adv_response!r}")


def get_images(
    url: str,
    token: str,
    model: str,
    description: ImageDescription | Mapping[str, Any] | str | os.PathLike[str],
    additional_headers: Mapping[str, str] | str | None = None,
    *,
    proxy: str | Mapping[str, Any] | None = None,
    timeout: float | None = None,
    adv_response: bool = False,
    retries: int | None = None,
    dontwait: bool = False,
) -> Any:
    """Generate images, as the seed's GetImages(URL, Token, Model, Description, AdditionalHeaders).

    - `url` is the server root (`https://host/localai/`); `/v1` is added unless already there.
    - `description`: a description (`describe(...)`), a dict, JSON text (the seed's single-quoted
      form too) or the path of a .json file.
    - `additional_headers`: a dict, JSON text or a .json path.
    - `proxy`: a proxy URL, or the seed's structure {Protocol, Host, Port, User, Password}.
    - `timeout`: seconds. `retries`: as in the seed, how many times in all the request may be
      sent (at least 1) on 5xx or a connection error; `retries=3` is the first attempt and up to
      two more. None: the client's default (3 attempts).
    - `adv_response=True` returns {"code", "headers", "body"} and does not raise on error
      statuses; otherwise error statuses raise (APIStatusError and its subclasses).
    - `dontwait=True` runs in the background and returns a concurrent.futures.Future.
    """
    if dontwait:
        return _background().submit(
            get_images,
            url,
            token,
            model,
            description,
            additional_headers,
            proxy=proxy,
            timeout=timeout,
            adv_response=adv_response,
            retries=retries,
        )
    check_seed_options(timeout=timeout, retries=retries, adv_response=adv_response)
    body = as_description(description).to_body()
    body["model"] = model
    client = ImagesClient(
        base_url=api_base(url),
        api_key=token,
        default_headers=_headers(additional_headers),
        timeout=httpx.Timeout(timeout) if timeout is not None else httpx.Timeout(600.0, connect=10.0),
        max_retries=max(retries - 1, 0) if retries is not None else 2,
        proxy=proxy_url(proxy),
        check_rules=False,  # the seed sends what it is given; the server judges
    )
    prompt = body.pop("prompt")
    with client:
        try:
            result = client.generate(prompt, extra_body=body, raw_response=True)
        except APIStatusError as error:
            if not adv_response:
                raise
            return {
                "code": error.status_code,
                "headers": dict(error.headers),
                "body": _json_or_text(error.body),
            }
    raw = result.response
    parsed = _json_or_text(raw.content or b"")
    if adv_response:
        return {"code": raw.status_code, "headers": dict(raw.headers), "body": parsed}
    return parsed


def api_base(url: str) -> str:
    """The API base of a server root: `https://host/localai/` -> `https://host/localai/v1`."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"the URL must start with http:// or https:// and name a host, got {url!r}")
    path = parts.path.rstrip("/")
    if not path.endswith("/v1"):
        path += "/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def proxy_url(proxy: str | Mapping[str, Any] | None) -> str | None:
    """A proxy URL from a URL or from the seed's {Protocol, Host, Port, User, Password} structure."""
    if proxy is None or isinstance(proxy, str):
        return proxy or None
    fields = {str(key).lower(): value for key, value in proxy.items()}
    host = fields.get("host")
    if not host:
        raise ValueError("the proxy structure needs at least Host (and usually Port)")
    scheme = str(fields.get("protocol") or "http").lower().removesuffix("://")
    credentials = ""
    if fields.get("user"):
        credentials = quote(str(fields["user"]), safe="")
        if fields.get("password"):
            credentials += ":" + quote(str(fields["password"]), safe="")
        credentials += "@"
    port = f":{int(fields['port'])}" if fields.get("port") else ""
    return f"{scheme}://{credentials}{host}{port}"


def _headers(value: Mapping[str, str] | str | None) -> dict[str, str]:
    if value is None:
        return {}
    data = load_json_or_file(value, what="the headers") if isinstance(value, str) else value
    if not isinstance(data, Mapping):
        raise ValueError("the additional headers must be a JSON object of header names to values")
    return {str(name): str(header) for name, header in data.items()}


def _json_or_text(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", errors="replace")


def _background() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="imagegen-get-images")
        atexit.register(_executor.shutdown, wait=False)
    return _executor


__all__ = ["api_base", "get_images", "proxy_url"]
