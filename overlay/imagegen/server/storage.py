"""The server's shared store: SQLite tables plus files on disk, bounded in bytes, with expiry.

Every worker process of a server opens the same directory, and a restarted server finds what
the last one left there:

    DIR/store.sqlite3         entries (and any table a feature adds), WAL mode; the bytes of
                              entries up to INLINE_MAX_BYTES, in a table of their own
    DIR/blobs/BUCKET/NAME     the bytes of each larger entry (or one moved in from a file)

Small entries' bytes live in SQLite because creating a file costs far more than appending to
the WAL: on this project's ext4 test machine 0.8 ms per 75 KB file against about 0.1 ms per
row, for the idempotent answer of every keyed request. They are kept apart from the entries
(table `entry_bytes`), so that the queries over entries (eviction, expiry) stay small: with the
bytes in the entries' rows, making room in a full bucket took 37 ms a write instead of 1.

An entry lives in a bucket (`images`, `idempotency`, ...), has a name, optional file bytes, a
little JSON metadata, an expiry (wall clock, shared by every process) and a size: its file's
bytes plus a fixed charge for its row. Each bucket has a byte bound of its own. The eviction
rule, applied when a write would take a bucket past its bound:

1. entries that have expired go first (they are never served anyway);
2. then unexpired entries, those that expire soonest first (oldest first among equals), never
   a pinned one (work in progress), each counted and logged as forced out before its time;
3. an entry that cannot fit even in an empty bucket is refused (`StoreFull`).

A read never returns an expired entry.

A store is durable by default: SQLite syncs it at checkpoints, so that a power loss cannot
corrupt it. The temporary store of a server without a data directory is not (nothing in it
outlives the server): on this project's virtual test disk the syncs cost about 1.1 ms of the
machine's CPU per request with an Idempotency-Key.

Features with state of their own (a files API, batches) add tables with `Store.schema` and
use `Store.transaction` for their reads and writes.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATABASE = "store.sqlite3"
BLOBS = "blobs"
INLINE_MAX_BYTES = 256 * 1024
"""Entries given as bytes up to this size are kept in the database; larger ones in a file."""
ROW_BYTES = 256
"""What each entry's row is charged, besides its file and metadata: rows are bounded too."""
ORPHAN_AGE_S = 600.0
"""Files without a row (a process died between writing and recording them) older than this are
removed when a store is opened; younger ones may belong to a write still under way."""
SWEEP_EVERY_S = 30.0
EVICTION_LOG_EVERY_S = 60.0
"""Forced evictions are logged at once, then at most once a minute per bucket with their count:
a store kept at its bound by steady traffic evicts on nearly every write, and a line each would
bury the rest of the log."""
BUSY_TIMEOUT_S = 30.0
PAGE_BYTES = 16384
"""SQLite's page size for a new store (its default is 4096)."""
NEVER = math.inf

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    bucket TEXT NOT NULL,
    name TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    has_file INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    meta TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    pinned INTEGER NOT NULL,
    PRIMARY KEY (bucket, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entry_bytes (
    bucket TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at REAL NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (bucket, name)
);
CREATE INDEX IF NOT EXISTS entries_by_expiry ON entries (bucket, pinned, expires_at, created_at);
DROP INDEX IF EXISTS entries_by_deadline;
CREATE TABLE IF NOT EXISTS buckets (
    bucket TEXT PRIMARY KEY,
    bytes INTEGER NOT NULL,
    entries INTEGER NOT NULL,
    evicted INTEGER NOT NULL
) WITHOUT ROWID;
"""
_COLUMNS = "name, bytes, has_file, content_type, meta, created_at, expires_at, pinned"

logger = logging.getLogger("imagegen.server")


class StoreFull(Exception):
    """An entry is larger than its bucket's whole byte bound."""

    def __init__(self, bucket: str, size: int, bound: int) -> None:
        super().__init__(f"{size} bytes do not fit in the {bucket!r} store, bounded at {bound} bytes")
        self.bucket = bucket
        self.size = size
        self.bound = bound


@dataclass(frozen=True)
class Entry:
    """One stored entry, as read (its bytes, if any, are read with `Bucket.read`)."""

    bucket: str
    name: str
    size: int
    """What it counts against its bucket's bound: its file, its metadata and ROW_BYTES."""
    has_file: bool
    """Its bytes are in a file (`Bucket.path`); otherwise in the store's database, if it has any."""
    content_type: str
    meta: dict[str, Any]
    created_at: float
    expires_at: float
    pinned: bool

    def expired(self, now: float | None = None) -> bool:
        return self.expires_at <= (time.time() if now is None else now)


@dataclass(frozen=True)
class Usage:
    """What a bucket holds now, and how many unexpired entries its bound has forced out."""

    bucket: str
    used_bytes: int
    entries: int
    evicted: int
    bound: int


class Store:
    """One data directory, opened by this process (every process opens its own `Store`)."""

    def __init__(self, directory: Path, durable: bool = True) -> None:
        self.directory = Path(directory)
        (self.directory / BLOBS).mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._depth = 0
        self._db = sqlite3.connect(
            self.directory / DATABASE,
            timeout=BUSY_TIMEOUT_S,
            isolation_level=None,  # transactions are begun explicitly (BEGIN IMMEDIATE)
            check_same_thread=False,  # shared by this process's threads, under self._lock
        )
        try:
            self._set_up(durable)
        except BaseException:
            self._db.close()
            raise
        self._buckets: dict[str, Bucket] = {}
        self._remove_orphans()

    def _set_up(self, durable: bool) -> None:
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                with self._lock:
                    # Set before the first table (a database keeps the size it was made with):
                    # an idempotent answer of 70 KB spans 5 pages instead of 18, which cut the
                    # store's CPU per keyed request by about a tenth on this project's test machine.
                    self._db.execute(f"PRAGMA page_size={PAGE_BYTES}")
                    self._db.execute("PRAGMA journal_mode=WAL")
                    # NORMAL: synced at checkpoints, so a power loss cannot corrupt the database.
                    # OFF (a temporary store): a crashed process still loses nothing committed,
                    # and no sync waits.
                    self._db.execute(f"PRAGMA synchronous={'NORMAL' if durable else 'OFF'}")
                    self.schema(_SCHEMA)
                return
            except sqlite3.OperationalError as error:
                # Processes opening a new database at once: the one switching it to WAL holds a
                # lock for which SQLite answers "locked" at once rather than wait (its busy
                # timeout does not apply), so the others try again.
                if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                    raise
                time.sleep(0.005)

    @property
    def durable(self) -> bool:
        """Whether commits are synced to disk at checkpoints (SQLite's synchronous=NORMAL)."""
        row = self.query_one("PRAGMA synchronous")
        return row is not None and int(row[0]) > 0

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def schema(self, statements: str) -> None:
        """Create tables (idempotent `CREATE ... IF NOT EXISTS` statements) for a feature."""
        with self.transaction() as db:
            for statement in filter(str.strip, statements.split(";")):
                db.execute(statement)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed at the end of the outermost block, rolled back if it
        raises. A nested block is a savepoint of the outer one: if it raises, what it wrote is
        undone even when the outer block catches the error and goes on. Other processes wait
        for the transaction (busy timeout)."""
        with self._lock:
            if self._depth:
                self._depth += 1
                savepoint = f"nested_{self._depth}"
                self._db.execute(f"SAVEPOINT {savepoint}")
                try:
                    yield self._db
                    self._db.execute(f"RELEASE {savepoint}")
                except BaseException:
                    with suppress(sqlite3.Error):
                        self._db.execute(f"ROLLBACK TO {savepoint}")
                        self._db.execute(f"RELEASE {savepoint}")
                    raise
                finally:
                    self._depth -= 1
                return
            self._db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:  # the block's error, or a COMMIT's (which leaves it open)
                with suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise
            finally:
                self._depth = 0

    def query_one(self, sql: str, parameters: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        """The first row of a read (no write lock: it sees the last committed state)."""
        with self._lock:
            row: tuple[Any, ...] | None = self._db.execute(sql, parameters).fetchone()
            return row

    def query_all(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Every row of a read-only query."""
        with self._lock:
            return [tuple(row) for row in self._db.execute(sql, parameters).fetchall()]

    def bucket(self, name: str, max_bytes: int) -> Bucket:
        """The bucket `name` (created when first written), bounded at `max_bytes` by this process."""
        _check_name(name)
        if max_bytes < 1:
            raise ValueError(f"a bucket's bound must be at least 1 byte, not {max_bytes}")
        found = self._buckets.get(name)
        if found is None or found.max_bytes != max_bytes:
            found = self._buckets[name] = Bucket(self, name, max_bytes)
        return found

    def _remove_orphans(self) -> None:
        cutoff = time.time() - ORPHAN_AGE_S
        for folder in (self.directory / BLOBS).iterdir():
            if not folder.is_dir():
                continue
            with self._lock:
                known = {
                    row[0]
                    for row in self._db.execute(
                        "SELECT name FROM entries WHERE bucket = ? AND has_file = 1", (folder.name,)
                    )
                }
            for path in folder.iterdir():
                with suppress(OSError):
                    if path.name not in known and path.stat().st_mtime < cutoff:
                        path.unlink()


@dataclass
class Bucket:
    """Entries of one kind in a store, bounded in bytes (see the module's eviction rule)."""

    store: Store
    name: str
    max_bytes: int
    _last_sweep: float = field(default=0.0, repr=False)
    _unlogged_evictions: int = field(default=0, repr=False)
    _last_eviction_log: float = field(default=-math.inf, repr=False)

    @property
    def folder(self) -> Path:
        return self.store.directory / BLOBS / self.name

    def path(self, name: str) -> Path:
        """Where the bytes of entry `name` are kept."""
        return self.folder / name

    def get(self, name: str) -> Entry | None:
        """The entry `name`, or None when there is none or it has expired (then it is deleted)."""
        row = self.store.query_one(
            f"SELECT {_COLUMNS} FROM entries WHERE bucket = ? AND name = ?", (self.name, name)
        )
        if row is None:
            return None
        entry = self._entry(row)
        if not entry.expired():
            return entry
        with self.store.transaction() as db:  # gone for good: delete it, unless replaced meanwhile
            again = db.execute(
                f"SELECT {_COLUMNS} FROM entries WHERE bucket = ? AND name = ?", (self.name, name)
            ).fetchone()
            stale = again is not None and self._entry(again).expired()
            if stale:
                self._remove(db, [entry])
        if stale:
            self._unlink([entry])
        return None

    def entries(self) -> list[Entry]:
        """Every unexpired entry of the bucket, newest first (for listings: bounded by the
        bucket's bytes, so never more than it holds)."""
        rows = self.store.query_all(
            f"SELECT {_COLUMNS} FROM entries WHERE bucket = ? ORDER BY created_at DESC, name", (self.name,)
        )
        now = time.time()
        return [entry for entry in (self._entry(row) for row in rows) if not entry.expired(now)]

    def read(self, entry: Entry) -> bytes | None:
        """The bytes of `entry` (b"" when it has none); None if they are gone meanwhile."""
        if not entry.has_file:
            key = (self.name, entry.name, entry.created_at)
            row = self.store.query_one(
                "SELECT data FROM entry_bytes WHERE bucket = ? AND name = ? AND created_at = ?", key
            )
            if row is not None:
                return bytes(row[0])
            still = self.store.query_one(
                "SELECT 1 FROM entries WHERE bucket = ? AND name = ? AND created_at = ?", key
            )
            return b"" if still is not None else None  # an entry without bytes, or one gone
        try:
            return self.path(entry.name).read_bytes()
        except FileNotFoundError:
            return None

    def put(
        self,
        name: str,
        data: bytes | None = None,
        *,
        source: Path | None = None,
        content_type: str = "",
        meta: dict[str, Any] | None = None,
        ttl_s: float = NEVER,
        pinned: bool = False,
        unless: Callable[[Entry | None], bool] | None = None,
    ) -> Entry | None:
        """Store entry `name` (replacing any entry of that name) with `data`, or the file `source`
        (moved in), or no bytes at all, for `ttl_s` seconds. `data` up to INLINE_MAX_BYTES is
        kept in the database, larger data in a file.

        With `unless`, the write is skipped, and None returned, when `unless(current entry)` is
        true, decided in the same transaction as the write (compare-and-set).
        """
        _check_name(name)
        inline = data if source is None and data is not None and len(data) <= INLINE_MAX_BYTES else None
        staged = None if inline is not None else self._stage(name, data, source)
        encoded = json.dumps(meta or {}, separators=(",", ":"))
        size = (staged[1] if staged else len(inline or b"")) + ROW_BYTES + len(encoded)
        if size > self.max_bytes:
            self._discard(staged)
            raise StoreFull(self.name, size, self.max_bytes)
        now = time.time()
        victims: list[Entry] = []
        try:
            with self.store.transaction() as db:
                row = db.execute(
                    f"SELECT {_COLUMNS} FROM entries WHERE bucket = ? AND name = ?", (self.name, name)
                ).fetchone()
                current = self._entry(row) if row is not None else None
                if unless is not None and unless(
                    None if current is None or current.expired(now) else current
                ):
                    self._discard(staged)
                    return None
                replaced = current.size if current is not None else 0
                if current is not None and staged is None:
                    victims.append(current)  # its file, if any, goes; a staged file replaces it instead
                victims += self._make_room(db, size - replaced, now, keep=name)
                expires_at = now + ttl_s
                # One statement per row (the replaced entry's row is overwritten, not deleted and
                # inserted again): a keyed request writes its record twice, claim and answer.
                db.execute(
                    "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        self.name,
                        name,
                        size,
                        staged is not None,
                        content_type,
                        encoded,
                        now,
                        expires_at,
                        pinned,
                    ),
                )
                if inline is not None:
                    db.execute(
                        "INSERT OR REPLACE INTO entry_bytes VALUES (?, ?, ?, ?)",
                        (self.name, name, now, inline),
                    )
                elif current is not None and not current.has_file:
                    db.execute("DELETE FROM entry_bytes WHERE bucket = ? AND name = ?", (self.name, name))
                self._count(db, size - replaced, 0 if current is not None else 1)
                if staged is not None:
                    os.replace(staged[0], self.path(name))
        except BaseException:
            self._discard(staged)
            raise
        self._unlink(victims)
        return Entry(
            self.name, name, size, staged is not None, content_type, meta or {}, now, expires_at, pinned
        )

    def update(self, name: str, meta: dict[str, Any]) -> bool:
        """Replace the metadata of entry `name`, keeping its bytes and expiry; False if it is gone."""
        encoded = json.dumps(meta, separators=(",", ":"))
        with self.store.transaction() as db:
            row = db.execute(
                "SELECT bytes, meta FROM entries WHERE bucket = ? AND name = ?", (self.name, name)
            ).fetchone()
            if row is None:
                return False
            size = row[0] - len(row[1]) + len(encoded)
            db.execute(
                "UPDATE entries SET meta = ?, bytes = ? WHERE bucket = ? AND name = ?",
                (encoded, size, self.name, name),
            )
            self._count(db, size - row[0], 0)
        return True

    def delete(self, name: str) -> None:
        """Remove entry `name`, if it exists."""
        with self.store.transaction() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM entries WHERE bucket = ? AND name = ?", (self.name, name)
            ).fetchone()
            if row is None:
                return
            entry = self._entry(row)
            self._remove(db, [entry])
        self._unlink([entry])

    def usage(self) -> Usage:
        """What the bucket holds now (across every process)."""
        row = self.store.query_one(
            "SELECT bytes, entries, evicted FROM buckets WHERE bucket = ?", (self.name,)
        )
        used, entries, evicted = row if row is not None else (0, 0, 0)
        return Usage(self.name, used, entries, evicted, self.max_bytes)

    def sweep(self, limit: int = 1000) -> int:
        """Delete up to `limit` expired entries; how many went."""
        now = time.time()
        with self.store.transaction() as db:
            expired = self._expired(db, now, limit)
            self._remove(db, expired)
        self._unlink(expired)
        self._last_sweep = time.monotonic()
        return len(expired)

    # ---- inside a transaction ----------------------------------------------------------------

    def _make_room(self, db: sqlite3.Connection, size: int, now: float, keep: str) -> list[Entry]:
        """Remove entries (expired first, then soonest to expire) until `size` more bytes fit;
        never `keep`, the entry being replaced (its row is overwritten, `size` net of it)."""
        row = db.execute("SELECT bytes FROM buckets WHERE bucket = ?", (self.name,)).fetchone()
        used = row[0] if row is not None else 0
        if used + size <= self.max_bytes and time.monotonic() - self._last_sweep < SWEEP_EVERY_S:
            return []
        self._last_sweep = time.monotonic()
        victims = [entry for entry in self._expired(db, now, 1000) if entry.name != keep]
        used -= sum(entry.size for entry in victims)
        forced: list[Entry] = []
        if used + size > self.max_bytes:
            candidates = db.execute(  # stepped lazily: only the rows needed are read
                f"SELECT {_COLUMNS} FROM entries WHERE bucket = ? AND pinned = 0 AND expires_at > ? "
                "ORDER BY expires_at, created_at",
                (self.name, now),
            )
            for found in candidates:
                if used + size <= self.max_bytes:
                    break
                entry = self._entry(found)
                if entry.name == keep:
                    continue
                forced.append(entry)
                used -= entry.size
            candidates.close()
        if used + size > self.max_bytes:  # only pinned entries are left: they are not evicted
            raise StoreFull(self.name, size, self.max_bytes)
        self._remove(db, victims + forced)
        if forced:
            db.execute("UPDATE buckets SET evicted = evicted + ? WHERE bucket = ?", (len(forced), self.name))
            self._log_evictions(len(forced))
        return victims + forced

    def _expired(self, db: sqlite3.Connection, now: float, limit: int) -> list[Entry]:
        # `pinned IN (0, 1)` lets the one index on expiry serve this query too (a second index
        # would be written on every put, for a sweep every half minute). SQLite's planner does
        # not see that by itself once a bucket holds a few hundred entries: it scanned them all
        # by primary key, 0.2 ms on every write to a full bucket, hence INDEXED BY.
        return [
            self._entry(found)
            for found in db.execute(
                f"SELECT {_COLUMNS} FROM entries INDEXED BY entries_by_expiry "
                "WHERE bucket = ? AND pinned IN (0, 1) AND expires_at <= ? LIMIT ?",
                (self.name, now, limit),
            )
        ]

    def _log_evictions(self, count: int) -> None:
        self._unlogged_evictions += count
        now = time.monotonic()
        if now - self._last_eviction_log < EVICTION_LOG_EVERY_S:
            return
        again = self._last_eviction_log > -math.inf
        count, self._unlogged_evictions, self._last_eviction_log = self._unlogged_evictions, 0, now
        logger.warning(
            "the %r store reached its bound of %d bytes: %d unexpired entr%s evicted before "
            "%s expiry (oldest first)%s; raise the bound to keep them",
            self.name,
            self.max_bytes,
            count,
            "y was" if count == 1 else "ies were",
            "its" if count == 1 else "their",
            " since the last such line" if again else "",
        )

    def _remove(self, db: sqlite3.Connection, entries: list[Entry]) -> None:
        if not entries:
            return
        keys = [(self.name, entry.name) for entry in entries]
        db.executemany("DELETE FROM entries WHERE bucket = ? AND name = ?", keys)
        db.executemany("DELETE FROM entry_bytes WHERE bucket = ? AND name = ?", keys)
        self._count(db, -sum(e.size for e in entries), -len(entries))

    def _count(self, db: sqlite3.Connection, size: int, entries: int) -> None:
        db.execute(
            "INSERT INTO buckets VALUES (?, ?, ?, 0) ON CONFLICT (bucket) "
            "DO UPDATE SET bytes = bytes + excluded.bytes, entries = entries + excluded.entries",
            (self.name, size, entries),
        )

    def _entry(self, row: tuple[Any, ...]) -> Entry:
        name, size, has_file, content_type, meta, created_at, expires_at, pinned = row
        return Entry(
            self.name,
            name,
            size,
            bool(has_file),
            content_type,
            json.loads(meta),
            created_at,
            expires_at,
            bool(pinned),
        )

    # ---- files ---------------------------------------------------------------------------------

    def _stage(self, name: str, data: bytes | None, source: Path | None) -> tuple[Path, int] | None:
        """The entry's bytes written (or moved) next to their final place, with their size."""
        if data is None and source is None:
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        staged = self.folder / f".tmp-{os.getpid()}-{threading.get_ident()}-{name}"
        if source is not None:
            os.replace(source, staged)
        else:
            assert data is not None
            with open(staged, "wb") as out:
                out.write(data)
        return staged, staged.stat().st_size

    @staticmethod
    def _discard(staged: tuple[Path, int] | None) -> None:
        if staged is not None:
            with suppress(OSError):
                staged[0].unlink()

    def _unlink(self, entries: list[Entry]) -> None:
        for entry in entries:
            if entry.has_file:
                with suppress(OSError):
                    self.path(entry.name).unlink()


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise ValueError(f"store names are 1-200 letters, digits, '.', '_' or '-', not {name[:50]!r}")
