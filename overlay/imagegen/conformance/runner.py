"""Run a conformance test of one server for one model: probes, the rules phase, schemathesis.

    from imagegen.conformance import run_conformance

    outcome = run_conformance(model="dall-e-2", base_url="http://127.0.0.1:8000/v1", token="...")
    outcome.conforms, outcome.findings

The run happens in a worker thread; the caller's thread keeps the clock. At `max_time_s` (or on
Ctrl-C) every request still to come is refused, schemathesis is told to stop, and after a short
grace the outcome of what ran is returned marked incomplete, even if a request is still waiting
for a slow server (it is left behind, and its answer is never counted). Ctrl-C raises
ConformanceInterrupted, a KeyboardInterrupt that carries that outcome.

Order: is anything there; which operations it implements; streaming, idempotency and mask probes
(they decide how to narrow); the contract narrowed to the model (and the profile); the
authentication probe; the rules phase (a valid request for each value the model lists, then each
value and upload it refuses: positives.py, negatives.py, judged in judging.py); then schemathesis,
with imagegen's image and stream checks beside its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import schemathesis
from schemathesis.config import SchemathesisConfig

from ..contract import IMAGE, Contract, ModelCatalog, OperationInfo, default_contract
from . import stream_checks
from .bodies import Built, build
from .context import RunContext, bind, promises_streaming, unbind
from .coverage import CoverageRecorder
from .execution import execute
from .findings import Finding, Outcome
from .hooks import IDEMPOTENCY_HEADER, install_hooks
from .judging import judge_negative, judge_valid
from .leftovers import Leftovers
from .narrowing import model_bound, narrow_contract, relax_header
from .negatives import negatives
from .positives import positives
from .probes import (
    MASK_CHECK,
    SetupError,
    auth_probe,
    check_reachable,
    idempotency_honoured,
    implemented,
    mask_probe_operation,
    mask_size_probe,
    stream_probe,
)
from .profiles import Profile, load_profile
from .session import APP_ORIGIN, Clock, Http, RunStopped
from .settings import OWN_CHECKS, PHASES, check_names, id_only_operations, schemathesis_config
from .strategies import register_formats

__all__ = ["OWN_CHECKS", "PHASES", "ConformanceInterrupted", "SetupError", "run_conformance"]

GRACE_S = 1.0  # how long a stopped run may take to hand over what it has
Progress = Callable[[str], None]


class ConformanceInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run; `outcome` is what ran until then, marked incomplete."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__("interrupted")
        self.outcome = outcome


def run_conformance(
    *,
    model: str,
    base_url: str | None = None,
    app: Any = None,
    token: str | None = None,
    operations: Iterable[str] | None = None,
    max_examples: int = 20,
    seed: int = 0,
    mode: str = "all",
    checks: Iterable[str] | None = None,
    request_timeout_s: float = 60.0,
    max_time_s: float | None = None,
    workers: int = 1,
    catalog: ModelCatalog | None = None,
    progress: Progress | None = None,
    contract: Contract | None = None,
    phases: Iterable[str] | None = None,
    profile: str | Profile | None = None,
) -> Outcome:
    """Test the server at `base_url`, or the ASGI `app` in-process (addressed as `base_url`,
    default http://testserver/v1), for `model`.

    `contract` is the oracle (default: the packaged one); every image operation of it is tested unless
    `operations` names some, or `profile` (a Profile, or a packaged profile's name or a YAML
    path) leaves some out. The model's rules come from `catalog` (default: the contract's
    models); a model without rules is tested against the whole contract with only `model` fixed.
    `phases` limits schemathesis' phases, `checks` the checks (schemathesis' and imagegen's,
    OWN_CHECKS), `mode` the data (positive: no negatives). Raises SetupError when the run cannot
    happen (no server answering, nothing to test), ValueError for options that cannot work.
    """
    if base_url is None and app is None:
        raise ValueError("give base_url, app, or both (an app addressed as base_url)")
    oracle = contract or default_contract()
    chosen = load_profile(profile) if isinstance(profile, str) else profile
    if chosen is not None:
        chosen.check(oracle)
    selected = set(checks) if checks is not None else None
    if selected is not None:
        check_names(selected)
    run = _Run(
        oracle=oracle,
        model=model,
        base_url=base_url,
        app=app,
        token=token,
        wanted=_operations(oracle, operations),
        catalog=catalog or oracle.catalog,
        profile=chosen,
        selected=selected,
        config=schemathesis_config(
            base_url if app is None else base_url or f"{APP_ORIGIN}/v1",
            token,
            max_examples,
            seed,
            mode,
            selected,
            request_timeout_s,
            workers,
            phases,
            id_only_operations(oracle),
        ),
        mode=mode,
        request_timeout_s=request_timeout_s,
        max_time_s=max_time_s,
        progress=progress or (lambda message: None),
        seed=seed,
    )
    return run.bounded()


class _Run:
    """One run: its settings, its outcome (written under a lock until sealed), its worker."""

    def __init__(
        self,
        *,
        oracle: Contract,
        model: str,
        base_url: str | None,
        app: Any,
        token: str | None,
        wanted: list[OperationInfo],
        catalog: ModelCatalog,
        profile: Profile | None,
        selected: set[str] | None,
        config: SchemathesisConfig,
        mode: str,
        request_timeout_s: float,
        max_time_s: float | None,
        progress: Progress,
        seed: int,
    ) -> None:
        self.oracle, self.model, self.app, self.token = oracle, model, app, token
        self.wanted, self.catalog, self.profile, self.selected = wanted, catalog, profile, selected
        self.config, self.mode, self.progress, self.max_time_s = config, mode, progress, max_time_s
        self.root = (base_url or f"{APP_ORIGIN}/v1").rstrip("/")
        self.rules = catalog.get(model)
        self.started = time.monotonic()
        self.clock = Clock(deadline=self.started + max_time_s if max_time_s is not None else None)
        self.http = Http(self.root, app, request_timeout_s, self.clock)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.outcome = Outcome(model=model, base_url=base_url or "in-process application", seed=seed)
        if profile is not None:
            self.outcome.profile = (
                f"{profile.name}: {profile.description}" if profile.description else profile.name
            )
        self.coverage = CoverageRecorder()
        self.seen: set[tuple[str, str, str]] = set()
        self.lock = threading.Lock()
        self.sealed = False
        self.stop_reason: str | None = None
        self.stream: Any = None
        self.error: BaseException | None = None
        self.requests_contract = oracle
        self.leftovers = Leftovers(oracle)

    # --- the caller's thread: the clock --------------------------------------------------------

    def bounded(self) -> Outcome:
        worker = threading.Thread(target=self._work, name="imagegen-conformance", daemon=True)
        worker.start()
        deadline = self.clock.deadline
        try:
            while worker.is_alive():
                wait = 0.25 if deadline is None else max(0.0, min(0.25, deadline - time.monotonic()))
                worker.join(wait)
                if deadline is not None and time.monotonic() >= deadline and worker.is_alive():
                    self._stop(f"the time limit of {self.max_time_s:g} s was reached")
                    break
        except KeyboardInterrupt:
            self._stop("it was interrupted (Ctrl-C)")
            raise ConformanceInterrupted(self._seal(worker)) from None
        outcome = self._seal(worker)
        if self.error is not None:
            raise self.error
        return outcome

    def _stop(self, reason: str) -> None:
        with self.lock:
            self.stop_reason = self.stop_reason or reason
        self.clock.stop.set()
        if self.stream is not None:
            self.stream.stop()

    def _seal(self, worker: threading.Thread) -> Outcome:
        worker.join(GRACE_S if self.stop_reason else None)
        with self.lock:
            self.sealed = True
            outcome = self.outcome
            outcome.elapsed_s = time.monotonic() - self.started
            if self.stop_reason is not None:
                outcome.incomplete = f"The run stopped before it was done: {self.stop_reason}."
            outcome.coverage = self.coverage.operations
            warning = self.clock.slow_warning(waiting=worker.is_alive())
            if warning is not None:
                outcome.warnings.append(warning)
        return outcome

    # --- what the worker writes (dropped once sealed) ------------------------------------------

    def count(self, operation: str, check: str, status: str, times: int = 1) -> None:
        with self.lock:
            if not self.sealed:
                self.outcome.checks[(operation, check, status)] += times

    def add_finding(self, finding: Finding) -> None:
        with self.lock:
            if not self.sealed and finding.key not in self.seen:
                self.seen.add(finding.key)
                self.outcome.findings.append(finding)

    def add_error(self, text: str) -> None:
        with self.lock:
            if not self.sealed:
                self.outcome.errors.append(text)

    def add_note(self, text: str) -> None:
        with self.lock:
            if not self.sealed and text not in self.outcome.notes:
                self.outcome.notes.append(text)

    def valid_request(self, operation: str, body: Mapping[str, Any]) -> None:
        if not self.sealed:
            self.coverage.valid_request(operation, body)

    def rule_tested(self, operation: str, what: str, outcome: str) -> None:
        if not self.sealed:
            self.coverage.rule_tested(operation, what, outcome)

    def checks_so_far(self) -> int:
        return self.outcome.cases

    def _wanted_check(self, name: str) -> bool:
        return self.selected is None or name in self.selected

    # --- the worker ----------------------------------------------------------------------------

    def _work(self) -> None:
        try:
            self._run()
        except RunStopped:  # the clock ran out here before the caller's thread saw it
            with self.lock:
                self.stop_reason = self.stop_reason or f"the time limit of {self.max_time_s:g} s was reached"
        except BaseException as error:  # handed to the caller's thread, which raises it
            self.error = error

    def _run(self) -> None:
        outcome, http = self.outcome, self.http
        if self.app is None:
            check_reachable(http)
        documented = [op for op in self.wanted if self.profile is None or self.profile.documents(op.name)]
        outcome.not_documented = [op.name for op in self.wanted if op not in documented]
        served = [
            op
            for op in documented
            if self.rules is None or not model_bound(self.oracle, op.name) or self.rules.supports(op.name)
        ]
        outcome.not_served = [op.name for op in documented if op not in served]
        self.progress(f"probing {', '.join(op.name for op in served) or 'nothing'} ...")
        absent = [op for op in served if not implemented(http, op, self.headers)]
        outcome.not_implemented = [op.name for op in absent]
        tested = [op for op in served if op not in absent]
        outcome.tested = [op.label for op in tested]
        if not tested:
            raise SetupError(_nothing_to_test(self.model, outcome))
        images = [op for op in tested if op.makes_images]
        others = [op for op in tested if not op.makes_images]
        if others:
            tags = sorted({tag for op in others for tag in op.tags} or {"other"})
            self.add_note(
                f"the {' and '.join(tags)} operations ({', '.join(op.id for op in others)}) are checked "
                "against their schemas only: no model rules and no image checks apply to them"
            )
        # What the runner's own requests are made from: the contract, cut to what the profile documents.
        if self.profile is not None:
            cut = self.profile.apply(self.oracle, self.oracle.copy_document())
            source = f"{self.oracle.source}, as {self.profile.name} documents it"
            self.requests_contract = Contract(cut, source=source)
        ours = self.requests_contract
        built = {op.name: build(ours, ours.operation(op.name), self.model, self.rules) for op in images}
        context = RunContext(
            contract=self.oracle,
            model=self.model,
            rules=self.rules,
            catalog=self.catalog,
            http=http,
            token=self.token,
        )
        self._probe_streaming(images, built, context)
        honoured = self._probe_idempotency(images, built)
        self._probe_mask(images)

        narrowed = narrow_contract(self.oracle, self.model, self.rules)
        keep_only(narrowed, tested)
        if self.profile is not None:
            self.profile.apply(self.oracle, narrowed)
        if not honoured:
            relax_header(narrowed, IDEMPOTENCY_HEADER)
        for op in images:
            self.coverage.declare(self.oracle, op, self.rules, narrowed, self._documented(op))
        image_rule = self.rules.upload(IMAGE) if self.rules is not None else None
        size_rule = self.rules.rule("size") if self.rules is not None else None
        register_formats(
            square=bool(image_rule is not None and image_rule.square),
            sizes=size_rule.custom_sizes if size_rule is not None else None,
        )
        loaded = schemathesis.openapi.from_dict(narrowed, config=self.config)
        schema = loaded.include(operation_id=[op.id for op in tested])
        if self.app is not None:
            schema.app = self.app
        install_hooks(
            schema,
            self.oracle,
            self.model,
            narrowed,
            streams=lambda: context.streams,
            answered=self.clock.record,
            called=self.leftovers.after_call,
        )
        bind(schema, context)
        try:
            if self.token:
                self._probe_auth(schema, images, built)
            if self.mode != "negative":
                self._send_positives(schema, context, images, built)
            if self.mode != "positive":
                self._send_negatives(schema, images, built)
            self.clock.remaining()
            execute(
                schema, self, self.token, self.headers, self.progress, self.clock.stop.is_set, self._started
            )
        finally:
            unbind(schema)
            left = self.leftovers.remove(http, self.headers)
            if left is not None:
                self.add_note(left)

    def _documented(self, operation: OperationInfo) -> Callable[[str], bool] | None:
        profile = self.profile
        if profile is None:
            return None
        return lambda name: profile.documents_field(operation.name, name)

    def _started(self, stream: Any) -> None:
        self.stream = stream
        if self.clock.stop.is_set():
            stream.stop()

    def _probe_streaming(
        self, tested: list[OperationInfo], built: Mapping[str, Built | None], context: RunContext
    ) -> None:
        if self.profile is not None and not self.profile.streaming:
            self.outcome.streaming = "not documented by the profile"
            context.streams = False
            return
        if (
            self.rules is not None
            and not promises_streaming(self.rules)
            and self.rules.rule("stream") is not None
        ):
            return  # the model does not stream: stream: true is a negative case like any other
        operation = next((op for op in tested if op.streams and built.get(op.name) is not None), None)
        if operation is None:
            return
        base = built[operation.name]
        assert base is not None
        found = stream_probe(
            self.http, base, self.headers, self.model, promises_streaming(self.rules), self.token
        )
        if found.streaming is not None:
            self.outcome.streaming = found.streaming  # type: ignore[assignment]
        if found.streaming == "not supported":
            context.streams = False  # the finding (or note) is made once; cases ask for no stream
        if found.note:
            self.add_note(found.note)
        if found.finding is not None and self._wanted_check(stream_checks.STREAM_NOT_SUPPORTED):
            self.count(operation.label, found.finding.check, "failure")
            self.add_finding(found.finding)
        elif found.streaming == "supported":
            self.count(operation.label, stream_checks.STREAM_NOT_SUPPORTED, "success")

    def _probe_idempotency(self, tested: list[OperationInfo], built: Mapping[str, Built | None]) -> bool:
        operation = next(
            (op for op in tested if IDEMPOTENCY_HEADER in op.headers and built.get(op.name)), None
        )
        if operation is None:
            return True
        base = built[operation.name]
        assert base is not None
        honoured = idempotency_honoured(self.http, base, self.headers, f"imagegen-probe-{time.time_ns()}")
        if honoured is None:
            self.add_note(
                f"The {IDEMPOTENCY_HEADER} probe could not tell whether the server honours it; "
                "its length limit is not held against the server."
            )
            return False
        if not honoured:
            self.add_note(
                f"The server ignores {IDEMPOTENCY_HEADER} (the same key with another request was not a "
                "409 nor the first answer again), so it is not held to the header's length limit."
            )
        return honoured

    def _probe_mask(self, tested: list[OperationInfo]) -> None:
        masked = mask_probe_operation(self.requests_contract, tested)
        if masked is None or not self._wanted_check(MASK_CHECK) or self.mode == "positive":
            return
        if self.rules is not None and self.rules.upload("mask") is not None and not self.rules.takes("mask"):
            return
        contract = self.requests_contract
        finding = mask_size_probe(self.http, contract, masked, self.model, self.headers, self.token)
        self.count(masked.label, MASK_CHECK, "failure" if finding else "success")
        if finding is not None:
            self.add_finding(finding)

    def _probe_auth(
        self, schema: Any, tested: list[OperationInfo], built: Mapping[str, Built | None]
    ) -> None:
        base = next((built[op.name] for op in tested if built.get(op.name) is not None), None)
        if base is None or not (
            self._wanted_check("content_type_conformance")
            or self._wanted_check("response_schema_conformance")
        ):
            return
        assert self.token is not None
        found = auth_probe(self.http, schema, base, self.token)
        for operation, check, status in found.counted:
            if self._wanted_check(check):
                self.count(operation, check, status)
        for finding in found.findings:
            if self._wanted_check(finding.check):
                self.add_finding(finding)
        for note in found.notes:
            self.add_note(note)

    def _send_positives(
        self, schema: Any, context: RunContext, tested: list[OperationInfo], built: Mapping[str, Built | None]
    ) -> None:
        for op in tested:
            base = built.get(op.name)
            if base is None:
                continue
            for what, request in positives(self.requests_contract, base, self.rules, self.catalog):
                if request.fields.get("stream") is True and not context.streams:
                    continue  # the streaming probe found no streams: that is its finding, once
                judge_valid(self, schema, context, what, request, self.http, self.headers, self.token)

    def _send_negatives(
        self, schema: Any, tested: list[OperationInfo], built: Mapping[str, Built | None]
    ) -> None:
        for op in tested:
            base = built.get(op.name)
            if base is None:
                self.add_note(
                    f"{op.label}: no valid request could be built for {self.model}, so nothing was sent "
                    "from its rules."
                )
                continue
            for negative in negatives(self.requests_contract, base, self.rules, self.catalog):
                if self._wanted_check(negative.check):
                    judge_negative(self, schema, negative, self.http, self.headers, self.token, self.model)


def _operations(contract: Contract, operations: Iterable[str] | None) -> list[OperationInfo]:
    if operations is None:
        return list(contract.operations)
    chosen: list[OperationInfo] = []
    for name in operations:
        found = next((op for op in contract.operations if name in (op.name, op.id)), None)
        if found is None:
            known = ", ".join(contract.operation_names)
            raise ValueError(f"unknown operation {name!r}: the contract's operations are {known}")
        chosen.append(found)
    return chosen


def keep_only(narrowed: dict[str, Any], tested: Iterable[OperationInfo]) -> None:
    """Cut the narrowed document to the paths of the operations `tested`. A path keeps its other
    methods (schemathesis is told not to test them): they are what its Allow header must name."""
    kept = {op.path for op in tested}
    narrowed["paths"] = {path: item for path, item in narrowed["paths"].items() if path in kept}


def _nothing_to_test(model: str, outcome: Outcome) -> str:
    reasons = []
    if outcome.not_documented:
        reasons.append(f"the profile documents none of {', '.join(outcome.not_documented)}")
    if outcome.not_served:
        reasons.append(f"{model} does not serve {', '.join(outcome.not_served)}")
    if outcome.not_implemented:
        reasons.append(f"the server answers 404, 405 or 501 on {', '.join(outcome.not_implemented)}")
    return "nothing to test: " + ("; ".join(reasons) or "no operation chosen")
