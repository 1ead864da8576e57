"""The one place secrets are taken out of text: error messages, log lines, CLI output, reports.

    mask("401: key sk-abc123456 is wrong", ["sk-abc123456"])  -> "401: key <the API key> is wrong"

Every error the client raises, every line the command line prints and every conformance report
passes what it shows through `mask`. Keys shorter than MIN_MASKED_SECRET are left alone: a
local server's token "t" is no secret, and replacing every "t" would garble the text. URLs lose
their password (`https://user:pw@host` -> `https://user:***@host`) and the values of query
parameters that carry keys (`api_key`, `key`, `token`, ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MIN_MASKED_SECRET = 8
PLACEHOLDER = "<the API key>"
_PASSWORD_IN_URL = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^/?#@:\s]*):(?P<password>[^/?#@\s]*)@"
)
_KEY_IN_QUERY = re.compile(
    r"(?P<name>[?&](?:api[_-]?key|key|token|access[_-]?token|secret)=)(?P<value>[^&#\s]+)", re.I
)


def mask(text: str, secrets: Iterable[str | None] = (), placeholder: str = PLACEHOLDER) -> str:
    """`text` with each secret (long enough to be one) replaced by `placeholder`, URL passwords
    and key-bearing query values replaced by ***."""
    for secret in secrets:
        if secret and len(secret) >= MIN_MASKED_SECRET and secret in text:
            text = text.replace(secret, placeholder)
    if "@" in text:
        text = _PASSWORD_IN_URL.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)
    if "=" in text:
        text = _KEY_IN_QUERY.sub(lambda m: f"{m['name']}***", text)
    return text


def key_problem(key: str) -> str | None:
    """Why `key` cannot be sent in an Authorization header, in words that never quote it; None if it can."""
    for position, character in enumerate(key):
        if not character.isascii():
            where = f"at position {position + 1}"
            return f"the API key has a non-ASCII character ({where}), which no HTTP header can carry"
        if not character.isprintable():
            name = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab"}.get(
                character, "a control character"
            )
            return f"the API key has {name} (at position {position + 1}), which no HTTP header can carry"
    return None
