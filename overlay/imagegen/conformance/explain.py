"""What each check of a run verifies, in one sentence, for the reports ("Which rule").

imagegen's own schemathesis checks explain themselves by their docstrings; the probes and
schemathesis' checks are described here (schemathesis' docstrings are written for its developers).
"""

from __future__ import annotations

from functools import cache

_WORDS = {
    "not_a_server_error": "A request never gets a 5xx answer: the server fails on nothing it is sent.",
    "status_code_conformance": "Every status answered is one the contract documents for the operation.",
    "content_type_conformance": "Every answer has a content type the contract documents for its status "
    "(JSON for errors, JSON or an event stream for images).",
    "response_headers_conformance": "The headers the contract documents for an answer are there and valid.",
    "response_schema_conformance": "Every answer's body matches the contract's schema for its status and "
    'content type (errors: the {"error": {message, type, param, code}} envelope).',
    "negative_data_rejection": "A request the contract (narrowed to the model's rules) forbids is refused "
    "with a 4xx.",
    "positive_data_acceptance": "A request the contract (narrowed to the model's rules) allows is accepted.",
    "missing_required_header": "A request without a required header is refused.",
    "unsupported_method": "A method the contract does not list for a path is refused with 405.",
    "allow_header_conformance": "A 405 answer lists the methods the path takes in its Allow header.",
    "use_after_free": "A deleted resource is gone.",
    "ensure_resource_availability": "A created resource can be read back.",
    "ignored_auth": "A request without a valid API key is refused with 401 or 403.",
    "object_level_authorization": "One key cannot read what another key created.",
    "max_response_time": "Every answer comes within the configured time.",
    "mask_size_rejection": "An edit whose mask is not the size of the first image is refused with a 4xx.",
    "model_rule_rejection": "A value the contract allows but the model's rules refuse (sent one at a time, "
    "from the rules) is refused with a 4xx in the error envelope whose param names the field.",
    "upload_rejection": "An upload that is not an image (text, a truncated PNG, a wrong declared type), an "
    "image over the model's size limit, or a mask without alpha is refused with a 4xx naming the field.",
}


@cache
def explanation(check: str) -> str:
    """What `check` verifies; its own docstring for imagegen's schemathesis checks."""
    if check in _WORDS:
        return _WORDS[check]
    from schemathesis.checks import CHECKS

    try:
        registered = CHECKS.get_one(check)
    except KeyError:
        return f"The check {check}."
    doc = " ".join((getattr(registered, "__doc__", None) or "").split())
    return doc or f"The check {check}."


__all__ = ["explanation"]
