"""`imagegen contract`: print the packaged OpenAPI contract."""

from __future__ import annotations

import json
import sys

from ..contract import load_contract


def run_contract(*, indent: int) -> int:
    """Write the contract as JSON to standard output."""
    json.dump(load_contract(), sys.stdout, indent=indent, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0
