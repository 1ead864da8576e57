"""Conformance: property tests of any image server, with the contract as the oracle.

Needs the `conformance` extra (schemathesis, hypothesis, Pillow).
"""

from .narrowing import narrow_contract
from .runner import Finding, Outcome, run_conformance

__all__ = ["Finding", "Outcome", "narrow_contract", "run_conformance"]
