"""How a run configures schemathesis, and which checks a run knows by name."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from schemathesis.config import SchemathesisConfig

from . import image_checks, stream_checks
from .negatives import RULE_CHECK, UPLOAD_CHECK
from .probes import MASK_CHECK
from .session import MAX_STREAM_EVENTS

if TYPE_CHECKING:
    from ..contract import Contract

# stateful: sequences that follow the links schemathesis finds (a file created, read, deleted).
PHASES = ("examples", "coverage", "fuzzing", "stateful")
# imagegen's checks beside schemathesis' (each can be chosen with `checks=`).
OWN_CHECKS = (*image_checks.IMAGE_CHECKS, *stream_checks.STREAM_CHECKS, MASK_CHECK, RULE_CHECK, UPLOAD_CHECK)
_PROBE_CHECKS = {MASK_CHECK, RULE_CHECK, UPLOAD_CHECK}  # run by the runner, not by schemathesis


def check_names(selected: set[str]) -> None:
    from schemathesis.checks import CHECKS, load_all_checks

    load_all_checks()
    known = set(CHECKS.get_all_names()) | set(OWN_CHECKS)
    unknown = sorted(selected - known)
    if unknown:
        raise ValueError(f"unknown check {unknown[0]!r}; the checks are {', '.join(sorted(known))}")


def id_only_operations(contract: Contract) -> list[str]:
    """The operationIds whose one input is an id in the path (GET /files/{file_id}): any string is
    a valid id, so hypothesis spends seconds failing to draw an invalid one. They are fuzzed with
    valid data only; the coverage phase still sends them the invalid values there are."""
    return [
        op.id
        for op in contract.operations
        if op.parameter_places and set(op.parameter_places) == {"path"} and not op.bodies
    ]


def schemathesis_config(
    base_url: str | None,
    token: str | None,
    max_examples: int,
    seed: int,
    mode: str,
    selected: set[str] | None,
    request_timeout_s: float,
    workers: int,
    phases: Iterable[str] | None,
    id_only: Iterable[str] = (),
) -> SchemathesisConfig:
    settings: dict[str, Any] = {
        "headers": {"Authorization": f"Bearer {token}"} if token else {},
        "generation": {
            "mode": mode,
            "max-examples": max_examples,
            "with-security-parameters": False,
            "database": "none",  # the same seed gives the same run, and nothing is written to disk
        },
        "seed": seed,
        # Every distinct failure is reported, not just the first of each operation.
        "continue-on-failure": True,
        "request-timeout": request_timeout_s,
        "workers": workers,
        "max-stream-events": MAX_STREAM_EVENTS,
        "analysis": {"constants": {"enabled": False}},
        # An operation whose one input is an id in its path has almost no invalid values to draw
        # (an id is any string): hypothesis' complaint about that is not the server's failing.
        "suppress-health-check": ["filter_too_much"],
    }
    if phases is not None:
        chosen = set(phases)
        unknown = chosen - set(PHASES)
        if unknown:
            raise ValueError(f"unknown phase {sorted(unknown)[0]!r}; use {', '.join(PHASES)}")
        settings["phases"] = {name: {"enabled": name in chosen} for name in PHASES}
    if selected is not None:
        settings["checks"] = {
            "enabled": False,
            **{name: {"enabled": True} for name in selected - _PROBE_CHECKS},
        }
    if base_url is not None:
        settings["base-url"] = base_url
    settings["operations"] = [
        {"include-operation-id": operation_id, "phases": {"fuzzing": {"generation": {"mode": "positive"}}}}
        for operation_id in id_only
    ]
    # Not schemathesis' max-time: it keeps fuzzing until that time is used up. The runner's limit
    # is an upper bound, kept by its own clock.
    return SchemathesisConfig.from_dict(settings)


__all__ = ["OWN_CHECKS", "PHASES", "check_names", "schemathesis_config"]
