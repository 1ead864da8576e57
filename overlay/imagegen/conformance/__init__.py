"""Conformance: property tests of any image server, with the contract as the oracle.

    from imagegen.conformance import run_conformance, write_reports

Needs the `conformance` extra (schemathesis, hypothesis, Pillow).
"""

from .findings import Finding, Outcome, SentRequest
from .narrowing import narrow_contract
from .probes import SetupError
from .runner import run_conformance

__all__ = ["Finding", "Outcome", "SentRequest", "SetupError", "narrow_contract", "run_conformance"]
