"""Conformance: property tests of any image server, with the contract as the oracle.

    from imagegen.conformance import run_conformance, check_server

Schemathesis runs with the contract narrowed to the model's rules, and imagegen's own checks of
the images (format, size, count, transparency, masks, URLs, usage, streams) run beside its own.
Needs the `conformance` extra (schemathesis, hypothesis, Pillow, jsonschema, python-multipart,
markdown-it-py).
"""

from .._extras import require

require("conformance", "schemathesis", "hypothesis", "PIL", "jsonschema", "python_multipart", "markdown_it")

from .findings import Finding, Outcome, SentRequest  # noqa: E402  (after the check)
from .narrowing import narrow_contract  # noqa: E402
from .probes import SetupError  # noqa: E402
from .profiles import Profile, ProfileError, load_profile, profile_names  # noqa: E402
from .runner import OWN_CHECKS, ConformanceInterrupted, run_conformance  # noqa: E402
from .testing import ConformanceFailure, check_server  # noqa: E402

__all__ = [
    "OWN_CHECKS",
    "ConformanceFailure",
    "ConformanceInterrupted",
    "Finding",
    "Outcome",
    "Profile",
    "ProfileError",
    "SentRequest",
    "SetupError",
    "check_server",
    "load_profile",
    "narrow_contract",
    "profile_names",
    "run_conformance",
]
