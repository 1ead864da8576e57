"""The Batch API of the reference server: batches of image requests run in the background.

A batch is a row in the shared store (storage.py) and its results are rows beside it, one per
line, committed as each line ends. Any worker process runs any batch: a runner claims a batch
with a lease (renewed as it works), so when its process dies another takes the batch over
where it was, and a restarted server finishes what it had. A batch goes `validating` (its input
file read and checked, line by line) → `in_progress` (each request painted as the server paints
any other; `ServerConfig.batch_delay_s` before each) → `finalizing` (the output and error files
written) → `completed`; or `failed` (bad lines, listed in `errors`), or `cancelling` →
`cancelled` (the results so far in its files).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .errors import ApiError
from .files import FileStore, list_answer
from .owners import owner_alive, owner_name
from .storage import Store

logger = logging.getLogger("imagegen.server")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    input_file_id TEXT NOT NULL,
    completion_window TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    times TEXT NOT NULL,
    output_file_id TEXT,
    error_file_id TEXT,
    total INTEGER NOT NULL DEFAULT 0,
    errors TEXT,
    metadata TEXT,
    base_url TEXT NOT NULL,
    runner TEXT,
    lease_until REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS batches_by_owner ON batches (owner, created_at);
CREATE TABLE IF NOT EXISTS batch_results (
    batch_id TEXT NOT NULL,
    line INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    result TEXT NOT NULL,
    PRIMARY KEY (batch_id, line)
) WITHOUT ROWID;
"""
RUNNING = ("validating", "in_progress", "finalizing", "cancelling")
_MARKS = ",".join("?" * len(RUNNING))
LEASE_S = 30.0
IDLE_EXIT_S = 30.0
POLL_S = 0.2
MAX_LINES = 50_000
MAX_ERRORS = 100
_COLUMNS = (
    "id, owner, endpoint, input_file_id, completion_window, status, created_at, expires_at, times, "
    "output_file_id, error_file_id, total, errors, metadata"
)

Execute = Callable[[str, bytes, str, str], Awaitable[tuple[int, Any]]]
"""Runs one request of a batch: (endpoint, body bytes, base URL, owner) -> (status, answer body)."""


@dataclass(frozen=True)
class Line:
    """One checked line of a batch's input."""

    number: int
    custom_id: str
    body: bytes


class BatchStore:
    """Batches and their results, in the store's database."""

    def __init__(self, store: Store, files: FileStore) -> None:
        self.store = store
        self.files = files
        store.schema(_SCHEMA)

    def create(
        self, owner: str, body: dict[str, Any], base_url: str, endpoints: tuple[str, ...]
    ) -> dict[str, Any]:
        """A new batch (validating), after checking its input file is the caller's batch file."""
        endpoint = str(body["endpoint"])
        if endpoint not in endpoints:
            raise ApiError(
                400, f"This server runs batches of {', '.join(endpoints)}, not {endpoint}.", param="endpoint"
            )
        entry = self.files.find(owner, str(body["input_file_id"]))
        if entry is None:
            raise ApiError(
                404,
                f"No file with id '{body['input_file_id']}' exists.",
                param="input_file_id",
                code="file_not_found",
            )
        if entry.meta.get("purpose") != "batch":
            raise ApiError(
                400,
                f"The input file must be uploaded with purpose 'batch', not {entry.meta.get('purpose')!r}.",
                param="input_file_id",
            )
        batch_id = f"batch_{secrets.token_hex(12)}"
        now = int(time.time())
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO batches (id, owner, endpoint, input_file_id, completion_window, status, "
                "created_at, expires_at, times, metadata, base_url) "
                "VALUES (?, ?, ?, ?, ?, 'validating', ?, ?, '{}', ?, ?)",
                (
                    batch_id,
                    owner,
                    endpoint,
                    entry.name,
                    str(body["completion_window"]),
                    now,
                    now + 24 * 3600,
                    json.dumps(body.get("metadata")),
                    base_url,
                ),
            )
        return self.describe(owner, batch_id)

    def describe(self, owner: str, batch_id: str) -> dict[str, Any]:
        """The batch object of `batch_id`, or a 404."""
        row = self.store.query_one(
            f"SELECT {_COLUMNS} FROM batches WHERE id = ? AND owner = ?", (batch_id, owner)
        )
        if row is None:
            raise ApiError(
                404, f"No batch with id '{batch_id}' exists.", param="batch_id", code="batch_not_found"
            )
        return self._object(row)

    def cancel(self, owner: str, batch_id: str) -> dict[str, Any]:
        """Ask a batch to stop (cancelling; the runner ends it cancelled); a 409 when it has ended."""
        found = self.describe(owner, batch_id)
        if found["status"] in ("validating", "in_progress"):
            self._set_status(batch_id, "cancelling")
        elif found["status"] != "cancelling":
            raise ApiError(
                409, f"The batch has ended ({found['status']}); it cannot be cancelled.", param="batch_id"
            )
        return self.describe(owner, batch_id)

    def page(self, owner: str, *, limit: int, after: str | None) -> dict[str, Any]:
        """A page of the owner's batches, newest first."""
        rows = self.store.query_all(
            f"SELECT {_COLUMNS} FROM batches WHERE owner = ? ORDER BY created_at DESC, id DESC", (owner,)
        )
        return list_answer(rows, limit=limit, after=after, id_of=lambda row: str(row[0]), show=self._object)

    # -- the runner's side ------------------------------------------------------------------------

    def claim(self, runner: str) -> str | None:
        """Take a batch that needs running and that no live runner holds; its id, or None."""
        now = time.time()
        with self.store.transaction() as db:
            rows = db.execute(
                f"SELECT id, runner, lease_until FROM batches WHERE status IN ({_MARKS}) ORDER BY created_at",
                RUNNING,
            ).fetchall()
            for batch_id, holder, lease_until in rows:
                if holder == runner or lease_until < now or not owner_alive(holder or ""):
                    db.execute(
                        "UPDATE batches SET runner = ?, lease_until = ? WHERE id = ?",
                        (runner, now + LEASE_S, batch_id),
                    )
                    return str(batch_id)
        return None

    def renew(self, batch_id: str, runner: str) -> str | None:
        """Extend the lease; the batch's status, or None if another runner took it over."""
        with self.store.transaction() as db:
            row = db.execute("SELECT status, runner FROM batches WHERE id = ?", (batch_id,)).fetchone()
            if row is None or row[1] != runner:
                return None
            db.execute("UPDATE batches SET lease_until = ? WHERE id = ?", (time.time() + LEASE_S, batch_id))
            return str(row[0])

    def row(self, batch_id: str) -> dict[str, Any]:
        """Everything stored about a batch."""
        cursor_row = self.store.query_one(
            "SELECT owner, endpoint, input_file_id, status, base_url FROM batches WHERE id = ?", (batch_id,)
        )
        assert cursor_row is not None
        owner, endpoint, input_file_id, status, base_url = cursor_row
        return {
            "owner": owner,
            "endpoint": endpoint,
            "input_file_id": input_file_id,
            "status": status,
            "base_url": base_url,
        }

    def done_lines(self, batch_id: str) -> set[int]:
        """The lines that have a result."""
        return {
            int(row[0])
            for row in self.store.query_all("SELECT line FROM batch_results WHERE batch_id = ?", (batch_id,))
        }

    def record(self, batch_id: str, line: int, ok: bool, result: dict[str, Any]) -> None:
        """Commit the result of one line."""
        with self.store.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO batch_results VALUES (?, ?, ?, ?)",
                (batch_id, line, ok, json.dumps(result, separators=(",", ":"))),
            )

    def start(self, batch_id: str, total: int) -> None:
        """Validated: in progress with `total` requests."""
        with self.store.transaction() as db:
            db.execute("UPDATE batches SET total = ? WHERE id = ?", (total, batch_id))
        self._set_status(batch_id, "in_progress")

    def fail(self, batch_id: str, errors: list[dict[str, Any]]) -> None:
        """Validation failed: the errors, line by line."""
        with self.store.transaction() as db:
            db.execute(
                "UPDATE batches SET errors = ? WHERE id = ?",
                (json.dumps({"object": "list", "data": errors[:MAX_ERRORS]}), batch_id),
            )
        self._set_status(batch_id, "failed")

    def finish(self, batch_id: str, owner: str, status: str) -> None:
        """Write the output and error files of the results so far, and end the batch `status`."""
        rows = self.store.query_all(
            "SELECT ok, result FROM batch_results WHERE batch_id = ? ORDER BY line", (batch_id,)
        )
        output = "".join(result + "\n" for ok, result in rows if ok).encode()
        errors = "".join(result + "\n" for ok, result in rows if not ok).encode()
        files = {}
        for name, data in (("output_file_id", output), ("error_file_id", errors)):
            if data:
                made = self.files.add(
                    owner, f"{batch_id}_{name[:-8]}.jsonl", "batch_output", data, "application/jsonl"
                )
                files[name] = made["id"]
        with self.store.transaction() as db:
            db.execute(
                "UPDATE batches SET output_file_id = ?, error_file_id = ?, runner = NULL WHERE id = ?",
                (files.get("output_file_id"), files.get("error_file_id"), batch_id),
            )
        self._set_status(batch_id, status)

    def _set_status(self, batch_id: str, status: str) -> None:
        with self.store.transaction() as db:
            row = db.execute("SELECT times FROM batches WHERE id = ?", (batch_id,)).fetchone()
            times = json.loads(row[0]) if row else {}
            times[f"{status}_at"] = int(time.time())
            db.execute(
                "UPDATE batches SET status = ?, times = ? WHERE id = ?", (status, json.dumps(times), batch_id)
            )

    def _object(self, row: tuple[Any, ...]) -> dict[str, Any]:
        (batch_id, _, endpoint, input_file_id, window, status, created, expires, times, output, error,
         total, errors, metadata) = row  # fmt: skip
        counts = self.store.query_one(
            "SELECT COUNT(*), COALESCE(SUM(ok), 0) FROM batch_results WHERE batch_id = ?", (batch_id,)
        ) or (0, 0)
        moments = json.loads(times)
        return {
            "id": batch_id,
            "object": "batch",
            "endpoint": endpoint,
            "errors": json.loads(errors) if errors else None,
            "input_file_id": input_file_id,
            "completion_window": window,
            "status": status,
            "output_file_id": output,
            "error_file_id": error,
            "created_at": created,
            "in_progress_at": moments.get("in_progress_at"),
            "expires_at": expires,
            "finalizing_at": moments.get("finalizing_at"),
            "completed_at": moments.get("completed_at"),
            "failed_at": moments.get("failed_at"),
            "expired_at": None,
            "cancelling_at": moments.get("cancelling_at"),
            "cancelled_at": moments.get("cancelled_at"),
            "request_counts": {
                "total": total,
                "completed": int(counts[1]),
                "failed": int(counts[0]) - int(counts[1]),
            },
            "metadata": json.loads(metadata) if metadata else None,
        }


def check_lines(data: bytes, endpoint: str) -> tuple[list[Line], list[dict[str, Any]]]:
    """The lines of a batch's input, and its errors ({code, message, param, line}) if any."""
    lines: list[Line] = []
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()

    def error(number: int, message: str, param: str | None = None) -> None:
        errors.append({"code": "invalid_request", "message": message, "param": param, "line": number})

    for number, text in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            item = json.loads(text)
        except ValueError:
            error(number, "This line is not valid JSON.")
            continue
        if not isinstance(item, dict):
            error(number, "This line is not a JSON object.")
            continue
        custom_id = item.get("custom_id")
        if not isinstance(custom_id, str) or not custom_id:
            error(number, "The line has no custom_id.", "custom_id")
        elif custom_id in seen:
            error(number, f"The custom_id '{custom_id}' is used by an earlier line.", "custom_id")
        elif item.get("method") != "POST":
            error(number, "The method must be POST.", "method")
        elif item.get("url") != endpoint:
            error(number, f"The url must be the batch's endpoint, {endpoint}.", "url")
        elif not isinstance(item.get("body"), dict):
            error(number, "The line has no body object.", "body")
        else:
            seen.add(custom_id)
            lines.append(Line(number, custom_id, json.dumps(item["body"]).encode()))
    if not lines and not errors:
        error(1, "The input file has no requests.")
    if len(lines) > MAX_LINES:
        error(MAX_LINES + 1, f"A batch holds at most {MAX_LINES} requests.")
    return lines, errors


class BatchRunner:
    """Runs the batches of the store from this process, one at a time, while there are any."""

    def __init__(self, batches: BatchStore, execute: Execute, delay_s: float) -> None:
        self.batches = batches
        self.execute = execute
        self.delay_s = delay_s
        self.name = owner_name()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Make sure a runner task is on (a batch was created, or someone looks at one)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._loop())

    def close(self) -> None:
        """Stop the runner task (a batch in progress is taken over when its lease ends)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            with contextlib.suppress(RuntimeError):  # its loop may be closed already
                task.get_loop().call_soon_threadsafe(task.cancel)

    async def _loop(self) -> None:
        idle_since = time.monotonic()
        while time.monotonic() - idle_since < IDLE_EXIT_S:
            batch_id = await asyncio.to_thread(self.batches.claim, self.name)
            if batch_id is None:
                await asyncio.sleep(POLL_S)
                continue
            try:
                await self._run(batch_id)
            except Exception:  # a batch must not kill the runner; it is retried when its lease ends
                logger.exception("batch %s failed in the runner", batch_id)
            idle_since = time.monotonic()

    async def _run(self, batch_id: str) -> None:
        row = await asyncio.to_thread(self.batches.row, batch_id)
        owner = row["owner"]
        stored = await asyncio.to_thread(self.batches.files.read, owner, row["input_file_id"])
        lines, errors = check_lines(stored.data, row["endpoint"])
        if row["status"] == "validating":
            if errors:
                await asyncio.to_thread(self.batches.fail, batch_id, errors)
                return
            await asyncio.to_thread(self.batches.start, batch_id, len(lines))
        done = await asyncio.to_thread(self.batches.done_lines, batch_id)
        for line in lines:
            status = await asyncio.to_thread(self.batches.renew, batch_id, self.name)
            if status is None:
                return  # another runner has it
            if status == "cancelling":
                break
            if line.number in done:
                continue
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            code, body = await self.execute(row["endpoint"], line.body, row["base_url"], owner)
            result = {
                "id": f"batch_req_{secrets.token_hex(12)}",
                "custom_id": line.custom_id,
                "response": {"status_code": code, "request_id": f"req_{secrets.token_hex(12)}", "body": body},
                "error": None,
            }
            await asyncio.to_thread(self.batches.record, batch_id, line.number, code == 200, result)
        status = await asyncio.to_thread(self.batches.renew, batch_id, self.name)
        if status is None:
            return
        ending = "cancelled" if status == "cancelling" else "completed"
        if ending == "completed":
            await asyncio.to_thread(self.batches._set_status, batch_id, "finalizing")
        await asyncio.to_thread(self.batches.finish, batch_id, owner, ending)
