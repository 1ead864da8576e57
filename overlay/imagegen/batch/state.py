"""What a batch has done, in `DIR/state.sqlite`: the one record a run resumes from.

Every request of the input is a row (its line, custom_id, body and Idempotency-Key), inserted
before anything is sent; a result is committed the moment it is known, after its images are on
disk. A run killed at any moment (SIGKILL too) leaves rows that are either done, with their
files whole, or pending, to send again with the same Idempotency-Key, so a server that honours it
answers them once. SQLite (WAL, one connection) is the store because it gives exactly that: an
atomic commit per result, on disk, without a server.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .inputs import BadLine, BatchLine

STATE_FILE = "state.sqlite"
PENDING, DONE, FAILED = "pending", "done", "failed"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS requests (
    seq INTEGER PRIMARY KEY,
    custom_id TEXT NOT NULL UNIQUE,
    line INTEGER NOT NULL,
    operation TEXT NOT NULL,
    url TEXT NOT NULL,
    body TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    result TEXT,
    chunk INTEGER
);
CREATE TABLE IF NOT EXISTS chunks (
    chunk INTEGER PRIMARY KEY,
    endpoint TEXT NOT NULL,
    file_id TEXT,
    batch_id TEXT,
    status TEXT NOT NULL DEFAULT 'new',
    output_file_id TEXT,
    error_file_id TEXT
);
CREATE INDEX IF NOT EXISTS requests_status ON requests (status, seq);
CREATE TABLE IF NOT EXISTS bad_lines (line INTEGER PRIMARY KEY, custom_id TEXT, message TEXT NOT NULL);
"""
_INSERT_CHUNK = 1000
_CHUNK_COLUMNS = ("chunk", "endpoint", "file_id", "batch_id", "status", "output_file_id", "error_file_id")
_PENDING_COLUMNS = "seq, custom_id, line, operation, url, body, idempotency_key, attempts"


@dataclass(frozen=True)
class Pending:
    """A request still to send."""

    seq: int
    custom_id: str
    line: int
    operation_id: str
    url: str
    body: dict[str, Any]
    idempotency_key: str
    attempts: int


@dataclass(frozen=True)
class Counts:
    """How many requests a batch has, by status."""

    total: int
    done: int
    failed: int

    @property
    def pending(self) -> int:
        """Requests not yet done nor failed for good."""
        return self.total - self.done - self.failed


class DuplicateId(Exception):
    """Two lines share a custom_id."""

    def __init__(self, custom_id: str, first: int, again: int) -> None:
        super().__init__(f"line {again}: custom_id {custom_id!r} is already the id of line {first}")
        self.bad = BadLine(again, f"custom_id {custom_id!r} is already the id of line {first}", custom_id)


def idempotency_key(custom_id: str, url: str, body: Mapping[str, Any]) -> str:
    """The key every attempt of this request carries, in this run and any resumed one: the same
    request (id, url and body) gets the same key, a changed one another."""
    canonical = json.dumps([custom_id, url, body], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "imagegen-batch-" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


class BatchState:
    """The state of the batch in one folder."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / STATE_FILE
        self._db = sqlite3.connect(self.path, isolation_level=None)  # transactions made explicit
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a commit survives a killed process
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    # -- what the batch is ------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        """A value recorded about the batch (its input, engine, ...)."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, values: Mapping[str, str]) -> None:
        """Record values about the batch."""
        with self._transaction():
            self._db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(values.items()))

    @property
    def ingested(self) -> bool:
        """Whether every line of the input is in the state (the first run got past reading it)."""
        return self.meta("ingested") == "1"

    def ingest(self, lines: Iterable[BatchLine | BadLine], *, keep_bad: bool) -> list[BadLine]:
        """Insert every good line as a pending request; return the bad ones (all of them when
        `keep_bad`, else the first 50, with nothing inserted if there is any)."""
        bad: list[BadLine] = []
        self._db.execute("DELETE FROM requests")  # a run killed while reading left part of it
        self._db.execute("DELETE FROM bad_lines")
        chunk: list[BatchLine] = []
        with self._transaction():
            for item in lines:
                if isinstance(item, BadLine):
                    bad.append(item)
                    if not keep_bad and len(bad) >= 50:
                        break
                    continue
                chunk.append(item)
                if len(chunk) >= _INSERT_CHUNK:
                    bad.extend(self._insert(chunk))
                    chunk = []
            bad.extend(self._insert(chunk))
            if bad and not keep_bad:
                self._db.execute("DELETE FROM requests")
                return bad
            self._db.executemany(
                "INSERT OR REPLACE INTO bad_lines VALUES (?, ?, ?)",
                [(b.line, b.custom_id, b.message) for b in bad],
            )
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('ingested', '1')")
        return bad

    def bad_lines(self) -> list[BadLine]:
        """The lines skipped as bad (with --skip-bad-lines), in order."""
        rows = self._db.execute("SELECT line, custom_id, message FROM bad_lines ORDER BY line").fetchall()
        return [BadLine(int(line), str(message), custom_id) for line, custom_id, message in rows]

    def _insert(self, chunk: list[BatchLine]) -> list[BadLine]:
        bad: list[BadLine] = []
        for item in chunk:
            try:
                self._db.execute(
                    "INSERT INTO requests (custom_id, line, operation, url, body, idempotency_key) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        item.custom_id,
                        item.line,
                        item.operation_id,
                        item.url,
                        json.dumps(item.body, ensure_ascii=False),
                        idempotency_key(item.custom_id, item.url, item.body),
                    ),
                )
            except sqlite3.IntegrityError:
                first = self._db.execute(
                    "SELECT line FROM requests WHERE custom_id = ?", (item.custom_id,)
                ).fetchone()
                bad.append(DuplicateId(item.custom_id, int(first[0]) if first else 0, item.line).bad)
        return bad

    # -- the work -----------------------------------------------------------------------------

    def pending(self, *, after: int = 0, limit: int = 256) -> list[Pending]:
        """Up to `limit` pending requests after `after` (by input order)."""
        rows = self._db.execute(
            f"SELECT {_PENDING_COLUMNS} FROM requests WHERE status = ? AND seq > ? ORDER BY seq LIMIT ?",
            (PENDING, after, limit),
        ).fetchall()
        return [_pending(row) for row in rows]

    def all_pending(self, chunk: int = 256) -> Iterator[Pending]:
        """Every pending request, read `chunk` rows at a time (never all in memory)."""
        after = 0
        while True:
            rows = self.pending(after=after, limit=chunk)
            if not rows:
                return
            yield from rows
            after = rows[-1].seq

    def attempted(self, seq: int) -> None:
        """Count one more attempt of a request (committed before it is sent)."""
        self._db.execute("UPDATE requests SET attempts = attempts + 1 WHERE seq = ?", (seq,))

    def finish(self, seq: int, status: str, result: Mapping[str, Any]) -> None:
        """Commit the result of a request: `done` or `failed` for good, with its result line."""
        self._db.execute(
            "UPDATE requests SET status = ?, result = ? WHERE seq = ?",
            (status, json.dumps(result, ensure_ascii=False), seq),
        )

    def counts(self) -> Counts:
        """How many requests are done, failed and in all."""
        rows = dict(self._db.execute("SELECT status, COUNT(*) FROM requests GROUP BY status").fetchall())
        total = sum(rows.values())
        return Counts(total, int(rows.get(DONE, 0)), int(rows.get(FAILED, 0)))

    def results(self, status: str) -> Iterator[str]:
        """The result lines of the requests of `status`, in input order (streamed)."""
        cursor = self._db.execute("SELECT result FROM requests WHERE status = ? ORDER BY seq", (status,))
        for (result,) in cursor:
            yield str(result)

    # -- the chunks of the openai-batch engine -----------------------------------------------------

    def unassigned(self, endpoint: str, limit: int) -> list[Pending]:
        """Up to `limit` pending requests to `endpoint` that are in no Batch API batch yet."""
        rows = self._db.execute(
            f"SELECT {_PENDING_COLUMNS} FROM requests "
            "WHERE status = ? AND chunk IS NULL AND url = ? ORDER BY seq LIMIT ?",
            (PENDING, endpoint, limit),
        ).fetchall()
        return [_pending(row) for row in rows]

    def unassigned_urls(self) -> list[str]:
        """The endpoints of the pending requests that are in no batch yet."""
        rows = self._db.execute(
            "SELECT DISTINCT url FROM requests WHERE status = ? AND chunk IS NULL ORDER BY url", (PENDING,)
        )
        return [str(row[0]) for row in rows]

    def new_chunk(self, endpoint: str, seqs: list[int]) -> int:
        """Record a chunk of requests that will be one batch; return its number."""
        with self._transaction():
            cursor = self._db.execute("INSERT INTO chunks (endpoint) VALUES (?)", (endpoint,))
            chunk = int(cursor.lastrowid or 0)
            self._db.executemany(
                "UPDATE requests SET chunk = ? WHERE seq = ?", [(chunk, seq) for seq in seqs]
            )
        return chunk

    def chunk_requests(self, chunk: int) -> list[Pending]:
        """The requests of a chunk, in order."""
        rows = self._db.execute(
            f"SELECT {_PENDING_COLUMNS} FROM requests WHERE chunk = ? ORDER BY seq",
            (chunk,),
        ).fetchall()
        return [_pending(row) for row in rows]

    def chunks(self) -> list[dict[str, Any]]:
        """Every chunk: {chunk, endpoint, file_id, batch_id, status, output_file_id, error_file_id}."""
        cursor = self._db.execute(f"SELECT {', '.join(_CHUNK_COLUMNS)} FROM chunks ORDER BY chunk")
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def update_chunk(self, chunk: int, **values: str | None) -> None:
        """Record what became of a chunk (its file, its batch, its status and files)."""
        unknown = set(values) - set(_CHUNK_COLUMNS)
        if unknown:
            raise ValueError(f"chunks have no column {sorted(unknown)}")
        assignments = ", ".join(f"{name} = ?" for name in values)  # names checked above: no injection
        self._db.execute(f"UPDATE chunks SET {assignments} WHERE chunk = ?", (*values.values(), chunk))

    def release_chunk(self, chunk: int) -> int:
        """Put the requests of an ended chunk that got no result back to be sent again; return how many."""
        cursor = self._db.execute(
            "UPDATE requests SET chunk = NULL WHERE chunk = ? AND status = ?", (chunk, PENDING)
        )
        return cursor.rowcount

    def by_custom_id(self, custom_id: str) -> tuple[int, str] | None:
        """(seq, status) of the request `custom_id`."""
        row = self._db.execute(
            "SELECT seq, status FROM requests WHERE custom_id = ?", (custom_id,)
        ).fetchone()
        return (int(row[0]), str(row[1])) if row else None

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


def _pending(row: tuple[Any, ...]) -> Pending:
    return Pending(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), row[6], row[7])


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *rest: object) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")
