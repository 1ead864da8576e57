"""Idempotency keys: a request repeated with the same key, within the window, gets the first
answer again instead of a second generation, even when the first is still being made.

Records live in the shared store (every worker sees them, a restart keeps them). Requests are
matched by what they ask for (the parsed body, not its bytes, since a multipart boundary changes
on every retry); the same key with a different request is a 409. For each (token, operation,
key) the record is one of:

- running: a request holds the key while it generates. A repeat *waits* for it (polling the
  store) and then answers what it answered; if the holder fails, or its process is gone, or its
  lease (`lease_s`) ends, the waiting request takes the key over and generates itself;
- done: the answer (JSON or a whole event stream), replayed until the window ends, unless the
  store's byte bound forced it out earlier (then a repeat generates again);
- failed: a holder gave up without an answer after generating one (it could not be kept); the
  next request generates. A holder that gave up before generating (a refused request, a stream
  cut off) leaves no record.

Each record counts the answers generated for its key (`generations`): more than one means a
repeat was generated again. `GET /v1/debug/idempotency/{key}` shows the counts.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool

from .errors import ApiError
from .owners import owner_alive, owner_name
from .storage import Bucket, Entry, StoreFull

BUCKET = "idempotency"
RUNNING, DONE, FAILED = "running", "done", "failed"
_FIRST_POLL_S, _MAX_POLL_S = 0.02, 0.25
Runner = Callable[[Callable[[], "Replay | bytes | None"]], Awaitable["Replay | bytes | None"]]
"""Runs blocking work off the event loop and awaits its result."""


@dataclass(frozen=True)
class Replay:
    """A remembered answer."""

    status: int
    body: bytes
    media_type: str


@dataclass(frozen=True)
class Claim:
    """This request holds the key: it generates, then `complete`s or `release`s the claim."""

    name: str
    fingerprint: str
    owner: str
    generations: int
    """Answers generated for the key before this claim."""


def scope_name(token: str, operation: str, key: str) -> str:
    """The record's name in the store: keys are per token and per operation."""
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    return hashlib.sha256(f"{token_hash}\0{operation}\0{key}".encode()).hexdigest()


class IdempotencyRecords:
    """Claims, answers and counts by key, in a bounded bucket of the shared store."""

    def __init__(self, bucket: Bucket, window_s: float, lease_s: float) -> None:
        self._bucket = bucket
        self._window_s = window_s
        self._lease_s = lease_s

    async def claim(self, name: str, fingerprint: str) -> Replay | Claim:
        """The remembered answer, or the key for this request (after waiting for a holder); a
        409 if the key was used for a different request."""
        deadline = time.monotonic() + self._lease_s + 1.0
        delay = _FIRST_POLL_S
        while True:
            outcome = await run_in_threadpool(self.try_claim, name, fingerprint)
            if outcome is not None:
                return outcome
            if time.monotonic() > deadline:  # the holder's lease ends first: not reached in practice
                raise ApiError(
                    409,
                    "A request with this Idempotency-Key is still in progress; retry later.",
                    param="Idempotency-Key",
                    code="idempotency_key_in_progress",
                    headers={"Retry-After": "1"},
                )
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, _MAX_POLL_S)

    def try_claim(self, name: str, fingerprint: str) -> Replay | Claim | None:
        """One look at the record: a replay, a claim, or None while another request holds it."""
        found: list[Entry] = []

        def taken(current: Entry | None) -> bool:
            if current is not None:
                found.append(current)
            return current is not None

        # Most keys are new: claimed in the one transaction that reads the record, if any.
        fresh = Claim(name, fingerprint, owner_name(), 0)
        if self._bucket.put(name, meta=_running(fresh), ttl_s=self._lease_s, pinned=True, unless=taken):
            return fresh
        current = found[0]  # the unexpired record that `taken` saw
        if current.meta.get("fingerprint") != fingerprint:
            raise ApiError(
                409,
                "This Idempotency-Key was already used for a different request; use a new key.",
                param="Idempotency-Key",
                code="idempotency_key_reused",
            )
        state = current.meta.get("state")
        if state == DONE:
            body = self._bucket.read(current)
            if body is not None:
                return Replay(int(current.meta["status"]), body, str(current.meta["media_type"]))
        elif state == RUNNING and owner_alive(str(current.meta.get("owner", ""))):
            return None
        claim = Claim(name, fingerprint, owner_name(), int(current.meta.get("generations", 0)))
        written = self._bucket.put(
            name,
            meta=_running(claim),
            ttl_s=self._lease_s,
            pinned=True,
            unless=lambda now: not _same(now, current),
        )
        return claim if written is not None else None  # changed meanwhile: look again

    def complete(
        self,
        claim: Claim,
        status: int,
        media_type: str,
        body: bytes | None = None,
        source: Path | None = None,
    ) -> None:
        """Keep the answer (`body`, or the file `source`, moved in) for replays, counting it."""
        meta = {
            "fingerprint": claim.fingerprint,
            "state": DONE,
            "generations": claim.generations + 1,
            "status": status,
            "media_type": media_type,
        }

        def answered(current: Entry | None) -> bool:
            return current is not None and current.meta.get("state") == DONE

        try:
            written = self._bucket.put(
                claim.name, body, source=source, meta=meta, ttl_s=self._window_s, unless=answered
            )
        except StoreFull:  # larger than the whole bound: not remembered; a repeat generates again
            self.release(claim, generated=True)
            return
        if written is None:  # another request answered first (it took over a lapsed claim)
            current = self._bucket.get(claim.name)
            if current is not None:
                self._bucket.update(
                    claim.name, {**current.meta, "generations": int(current.meta["generations"]) + 1}
                )

    def release(self, claim: Claim, *, generated: bool = False) -> None:
        """Give the key up without an answer to keep, so that the next request generates (a
        record that counted nothing goes: the key may then be used for another request)."""
        generations = claim.generations + (1 if generated else 0)

        def not_ours(current: Entry | None) -> bool:
            return current is None or current.meta.get("owner") != claim.owner

        if generations == 0:
            with self._bucket.store.transaction():
                if not not_ours(self._bucket.get(claim.name)):
                    self._bucket.delete(claim.name)
            return
        meta = {"fingerprint": claim.fingerprint, "state": FAILED, "generations": generations}
        self._bucket.put(claim.name, meta=meta, ttl_s=self._window_s, unless=not_ours)

    async def once(
        self, name: str, fingerprint: str, answer: Callable[[], bytes], run: Runner
    ) -> Replay | bytes:
        """The JSON answer of a request under a key: made by `answer()` and kept, or the answer
        remembered. `run(work)` runs blocking work off the loop (the pool, a thread): claiming,
        answering and keeping take one trip there; a request that finds the key held waits for
        it (or takes it over) and then answers the same way."""
        outcome = await run(lambda: self._answer_claimed(self.try_claim(name, fingerprint), answer))
        if outcome is not None:
            return outcome
        waited = await self.claim(name, fingerprint)
        if isinstance(waited, Replay):
            return waited
        made = await run(lambda: self._answer_claimed(waited, answer))
        assert made is not None  # a claim always answers
        return made

    def _answer_claimed(
        self, outcome: Replay | Claim | None, answer: Callable[[], bytes]
    ) -> Replay | bytes | None:
        """With a claim: `answer()` kept for replays (the key given up if it fails); otherwise
        the replay, or None while another request holds the key."""
        if not isinstance(outcome, Claim):
            return outcome
        try:
            payload = answer()
        except BaseException:
            self.release(outcome)
            raise
        self.complete(outcome, 200, "application/json", payload)
        return payload

    @property
    def bucket(self) -> Bucket:
        return self._bucket

    def spool(self) -> Path:
        """A new empty file beside the records, for a stream's frames until it is complete."""
        self._bucket.folder.mkdir(parents=True, exist_ok=True)
        path = self._bucket.folder / f".spool-{secrets.token_hex(12)}"
        path.touch()
        return path

    def describe(self, name: str) -> dict[str, Any] | None:
        """The record's state and count (for the debug route), or None when there is none."""
        current = self._bucket.get(name)
        if current is None:
            return None
        return {
            "state": current.meta.get("state"),
            "generations": int(current.meta.get("generations", 0)),
            "expires_at": round(current.expires_at, 3),
        }


def _running(claim: Claim) -> dict[str, Any]:
    return {
        "fingerprint": claim.fingerprint,
        "state": RUNNING,
        "owner": claim.owner,
        "generations": claim.generations,
    }


def _same(now: Entry | None, seen: Entry | None) -> bool:
    if now is None or seen is None:
        return now is seen
    return now.created_at == seen.created_at and now.meta == seen.meta
