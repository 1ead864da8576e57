"""Conformance: property tests of any image server, with the contract as the oracle.

    from imagegen.conformance import run_conformance, write_reports

Needs the `conformance` extra (schemathesis, hypothesis, Pillow, jsonschema, python-multipart).
"""

from .._extras import require

require("conformance", "schemathesis", "hypothesis", "PIL", "jsonschema", "python_multipart")

from .findings import Finding, Outcome, SentRequest  # noqa: E402  (after the check)
from .narrowing import narrow_contract  # noqa: E402
from .probes import SetupError  # noqa: E402
from .runner import run_conformance  # noqa: E402

__all__ = ["Finding", "Outcome", "SentRequest", "SetupError", "narrow_contract", "run_conformance"]
