"""The server's shared store (SQLite plus files): expiry, byte bounds and their eviction rule,
compare-and-set writes, and what a restart finds."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from imagegen.server import ServerConfig, create_app
from imagegen.server.storage import (
    EVICTION_LOG_EVERY_S,
    INLINE_MAX_BYTES,
    PAGE_BYTES,
    ROW_BYTES,
    Store,
    StoreFull,
)

from .test_serve_command import serving


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "data")
    yield opened
    opened.close()


def test_a_small_entry_is_kept_in_the_database_and_read_back(store: Store) -> None:
    bucket = store.bucket("images", 10_000)
    bucket.put("a.png", b"\x89PNG data", content_type="image/png", meta={"k": 1})

    entry = bucket.get("a.png")
    assert entry is not None
    assert (entry.content_type, entry.meta, entry.has_file) == ("image/png", {"k": 1}, False)
    assert bucket.read(entry) == b"\x89PNG data"
    assert not bucket.path("a.png").exists()
    assert bucket.usage().used_bytes == entry.size == len(b"\x89PNG data") + ROW_BYTES + len('{"k":1}')


def test_a_large_entry_is_kept_in_a_file_and_read_back(store: Store) -> None:
    data = os.urandom(INLINE_MAX_BYTES + 1)
    bucket = store.bucket("images", 10 * INLINE_MAX_BYTES)
    bucket.put("big.png", data, content_type="image/png")

    entry = bucket.get("big.png")
    assert entry is not None
    assert entry.has_file
    assert bucket.read(entry) == data
    assert bucket.path("big.png").read_bytes() == data
    assert bucket.usage().used_bytes == entry.size == len(data) + ROW_BYTES + len("{}")


def test_replacing_an_entry_moves_its_bytes_between_file_and_database(store: Store) -> None:
    bucket = store.bucket("images", 10 * INLINE_MAX_BYTES)
    bucket.put("x", b"L" * (INLINE_MAX_BYTES + 1))
    bucket.put("x", b"small")
    entry = bucket.get("x")
    assert entry is not None
    assert bucket.read(entry) == b"small"
    assert not bucket.path("x").exists()  # the large one's file went with it

    bucket.put("x", b"L" * (INLINE_MAX_BYTES + 1))
    entry = bucket.get("x")
    assert entry is not None
    assert bucket.read(entry) == b"L" * (INLINE_MAX_BYTES + 1)
    assert bucket.usage().used_bytes == entry.size


def test_a_replaced_small_entry_is_not_read_through_its_old_record(store: Store) -> None:
    bucket = store.bucket("images", 10_000)
    bucket.put("x", b"first")
    first = bucket.get("x")
    time.sleep(0.01)  # a later created_at
    bucket.put("x", b"second")
    assert first is not None
    assert bucket.read(first) is None


def test_an_expired_entry_is_never_returned_and_its_bytes_go(store: Store) -> None:
    bucket = store.bucket("images", 10 * INLINE_MAX_BYTES)
    bucket.put("old.png", b"x" * (INLINE_MAX_BYTES + 1), ttl_s=0.05)
    bucket.put("old-small.png", b"x" * 100, ttl_s=0.05)
    time.sleep(0.1)

    assert bucket.get("old.png") is None
    assert bucket.get("old-small.png") is None
    assert not bucket.path("old.png").exists()
    assert bucket.usage().used_bytes == 0
    assert store.query_one("SELECT COUNT(*) FROM entries") == (0,)


def test_a_store_from_before_small_entries_lived_in_the_database_is_read_and_written(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    (folder / "blobs" / "images").mkdir(parents=True)
    (folder / "blobs" / "images" / "kept.png").write_bytes(b"kept in a file")
    db = sqlite3.connect(folder / "store.sqlite3")
    columns = "bucket, name, bytes, has_file, content_type, meta, created_at, expires_at, pinned"
    db.execute(f"CREATE TABLE entries ({columns}, PRIMARY KEY (bucket, name)) WITHOUT ROWID")
    db.execute(
        "INSERT INTO entries VALUES ('images', 'kept.png', 270, 1, 'image/png', '{}', ?, ?, 0)",
        (time.time(), time.time() + 300),
    )
    db.commit()
    db.close()

    opened = Store(folder)
    bucket = opened.bucket("images", 10_000)
    entry = bucket.get("kept.png")
    assert entry is not None
    assert bucket.read(entry) == b"kept in a file"
    bucket.put("new.png", b"new")
    again = bucket.get("new.png")
    assert again is not None
    assert bucket.read(again) == b"new"
    opened.close()


def test_the_bound_evicts_expired_entries_first_then_those_expiring_soonest(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    size = 1000 + ROW_BYTES + 2  # each entry: 1000 bytes, its row, and "{}"
    bucket = store.bucket("images", 4 * size)
    bucket.put("expired", b"e" * 1000, ttl_s=0.05)
    bucket.put("late", b"l" * 1000, ttl_s=300)
    bucket.put("soon", b"s" * 1000, ttl_s=100)
    bucket.put("work", b"w" * 1000, ttl_s=1, pinned=True)
    time.sleep(0.1)

    with caplog.at_level(logging.WARNING, logger="imagegen.server"):
        bucket.put("new-1", b"1" * 1000, ttl_s=300)  # room made by the expired entry: nothing forced
        assert not caplog.records
        bucket.put("new-2", b"2" * 1000, ttl_s=300)  # forces out "soon" (expires first), not "work"

    assert [name for name in ("expired", "late", "soon", "work", "new-1", "new-2") if bucket.get(name)] == [
        "late",
        "work",
        "new-1",
        "new-2",
    ]
    usage = bucket.usage()
    assert (usage.used_bytes, usage.entries, usage.evicted) == (4 * size, 4, 1)
    assert "evicted before its expiry" in caplog.text
    rows = store.query_all("SELECT name FROM entries WHERE bucket = 'images' ORDER BY name")
    assert rows == [("late",), ("new-1",), ("new-2",), ("work",)]


def _steps_of_a_write_to_a_full_bucket(directory: Path, entries: int) -> int:
    """SQLite virtual-machine steps (in hundreds) of one write that forces an entry out of a
    bucket full of `entries` entries."""
    size = 100 + ROW_BYTES + 2
    opened = Store(directory)
    try:
        bucket = opened.bucket("records", entries * size)
        for index in range(entries):
            bucket.put(f"entry-{index}", b"r" * 100, ttl_s=300 + index)
        steps = [0]

        def step() -> int:
            steps[0] += 1
            return 0  # go on

        opened._db.set_progress_handler(step, 100)
        bucket.put("one-more", b"n" * 100, ttl_s=1000)
        opened._db.set_progress_handler(None, 0)
        assert bucket.get("entry-0") is None  # the one that expires soonest made room
        return steps[0]
    finally:
        opened.close()


def test_a_write_to_a_full_bucket_costs_the_same_however_many_entries_it_holds(tmp_path: Path) -> None:
    # Every write to a full bucket looks for expired entries: a query that reads every entry
    # (SQLite's planner chose that once a bucket held a few hundred) made each such write cost
    # 0.2 ms more on this project's test machine, and more the more entries it held.
    few = _steps_of_a_write_to_a_full_bucket(tmp_path / "few", 50)
    many = _steps_of_a_write_to_a_full_bucket(tmp_path / "many", 2000)
    assert many < 2 * few + 5, f"{many} hundred steps with 2,000 entries, {few} with 50"


def test_an_entry_growing_in_a_full_bucket_makes_room_from_the_others_never_itself(store: Store) -> None:
    size = 1000 + ROW_BYTES + 2
    bucket = store.bucket("images", 2 * size)
    bucket.put("grows", b"g" * 1000, ttl_s=100)  # expires first: the first candidate, were it not kept
    bucket.put("other", b"o" * 1000, ttl_s=300)
    bucket.put("grows", b"G" * 1500, ttl_s=100)

    assert bucket.get("other") is None
    grown = bucket.get("grows")
    assert grown is not None
    assert bucket.read(grown) == b"G" * 1500
    usage = bucket.usage()
    assert (usage.used_bytes, usage.entries, usage.evicted) == (grown.size, 1, 1)


def test_steady_evictions_are_logged_once_a_minute_with_their_count(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    size = 1000 + ROW_BYTES + 2
    bucket = store.bucket("images", 2 * size)
    with caplog.at_level(logging.WARNING, logger="imagegen.server"):
        for n in range(12):  # a full bucket: from the third write on, each forces one out
            bucket.put(f"entry-{n}", b"x" * 1000, ttl_s=300)
        assert len(caplog.records) == 1  # the first eviction, at once
        assert "1 unexpired entry was evicted" in caplog.text
        bucket._last_eviction_log -= EVICTION_LOG_EVERY_S  # a minute later
        bucket.put("entry-12", b"x" * 1000, ttl_s=300)
    assert len(caplog.records) == 2
    assert "10 unexpired entries were evicted before their expiry (oldest first) since the last" in (
        caplog.records[1].getMessage()
    )
    assert bucket.usage().evicted == 11  # every one counted, logged or not


def test_an_entry_larger_than_the_bound_is_refused(store: Store) -> None:
    bucket = store.bucket("images", INLINE_MAX_BYTES)
    bucket.put("small", b"s" * 100)
    with pytest.raises(StoreFull):
        bucket.put("huge", b"h" * (INLINE_MAX_BYTES + 1))  # a file's worth: staged, then refused
    with pytest.raises(StoreFull):
        bucket.put("huge-row", b"h" * INLINE_MAX_BYTES)  # a row's worth, with its row: too much
    assert bucket.get("small") is not None
    assert list(bucket.folder.iterdir()) == []  # no staged file left
    assert store.query_all("SELECT name FROM entries") == [("small",)]


def test_pinned_entries_are_never_evicted(store: Store) -> None:
    bucket = store.bucket("claims", 3 * (ROW_BYTES + 2))
    for name in ("a", "b", "c"):
        bucket.put(name, pinned=True)
    with pytest.raises(StoreFull):
        bucket.put("d")
    assert all(bucket.get(name) is not None for name in ("a", "b", "c"))


def test_a_compare_and_set_write_is_skipped_when_the_entry_changed(store: Store) -> None:
    bucket = store.bucket("records", 10_000)
    assert bucket.put("k", meta={"v": 1}, unless=lambda current: current is not None) is not None
    assert bucket.put("k", meta={"v": 2}, unless=lambda current: current is not None) is None
    found = bucket.get("k")
    assert found is not None
    assert found.meta == {"v": 1}
    assert bucket.update("k", {"v": 3, "more": True})
    found = bucket.get("k")
    assert found is not None
    assert found.meta == {"v": 3, "more": True}
    assert bucket.usage().used_bytes == found.size


def test_a_reopened_store_keeps_its_entries_and_drops_files_a_crash_left(tmp_path: Path) -> None:
    first = Store(tmp_path)
    first.bucket("images", 10_000).put("kept.png", b"kept", ttl_s=300)
    first.close()
    orphan = tmp_path / "blobs" / "images" / ".tmp-123-456-lost.png"
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"half")
    os.utime(orphan, (time.time() - 3600, time.time() - 3600))

    again = Store(tmp_path)
    bucket = again.bucket("images", 10_000)
    entry = bucket.get("kept.png")
    assert entry is not None
    assert bucket.read(entry) == b"kept"
    assert not orphan.exists()
    again.close()


def test_names_that_could_leave_the_folder_are_refused(store: Store) -> None:
    bucket = store.bucket("images", 10_000)
    for name in ("../x", "a/b", ".hidden", ""):
        with pytest.raises(ValueError, match="store names are"):
            bucket.put(name, b"x")
    assert bucket.get("../x") is None


def test_a_new_store_has_pages_that_hold_an_answer_in_a_few(store: Store) -> None:
    assert store.query_one("PRAGMA page_size") == (PAGE_BYTES,)
    assert PAGE_BYTES >= 16384


def test_a_nested_block_that_fails_undoes_only_its_own_writes(store: Store) -> None:
    bucket = store.bucket("records", 10_000)

    def failing_block() -> None:
        with store.transaction():
            bucket.put("inner", meta={"v": 2})
            bucket.delete("outer")
            raise RuntimeError("the nested block fails; the outer one goes on")

    with store.transaction():
        bucket.put("outer", meta={"v": 1})
        with pytest.raises(RuntimeError):
            failing_block()
        bucket.put("after", meta={"v": 3})
    assert [name for name in ("outer", "inner", "after") if bucket.get(name)] == ["outer", "after"]
    assert bucket.usage().entries == 2


def test_processes_opening_a_new_store_at_once_all_open_it(tmp_path: Path) -> None:
    """Two servers (or workers) started together on one new --data-dir. Threads stand in for
    processes: each opens its own connection, and SQLite locks between them alike."""
    failures: list[BaseException] = []

    def open_and_close(directory: Path, start: threading.Barrier) -> None:
        start.wait()
        try:
            Store(directory).close()
        except BaseException as error:  # every failure is the finding
            failures.append(error)

    for attempt in range(40):  # before the fix about 1 open in 20 failed with "database is locked"
        start = threading.Barrier(4)
        directory = tmp_path / f"data-{attempt}"
        openers = [threading.Thread(target=open_and_close, args=(directory, start)) for _ in range(4)]
        for opener in openers:
            opener.start()
        for opener in openers:
            opener.join(timeout=60)
    assert failures == []


def test_a_store_is_synced_to_disk_unless_it_is_temporary(tmp_path: Path) -> None:
    kept, scratch = Store(tmp_path / "kept"), Store(tmp_path / "scratch", durable=False)
    try:
        assert (kept.durable, scratch.durable) == (True, False)
    finally:
        kept.close()
        scratch.close()


def test_the_server_syncs_a_given_data_dir_but_not_its_own_temporary_one(tmp_path: Path) -> None:
    own = create_app(ServerConfig(auth=False))
    given = create_app(ServerConfig(auth=False, data_dir=tmp_path / "data"))
    with TestClient(own) as temporary, TestClient(given) as kept:
        assert temporary.get("/v1/debug/store").json()["durable"] is False
        assert kept.get("/v1/debug/store").json()["durable"] is True


def test_the_workers_of_imagegen_serve_share_one_temporary_store_not_synced() -> None:
    with serving("--no-auth", "--quiet", "--workers", "2") as (url, _):
        looks = [httpx.get(f"{url}/debug/store").json() for _ in range(8)]
    assert {look["durable"] for look in looks} == {False}


def test_a_commit_that_fails_does_not_leave_the_store_stuck_in_its_transaction(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.schema(
        "CREATE TABLE IF NOT EXISTS parents (id INTEGER PRIMARY KEY);"
        "CREATE TABLE IF NOT EXISTS children (parent INTEGER REFERENCES parents (id) "
        "DEFERRABLE INITIALLY DEFERRED)"
    )
    store.query_one("PRAGMA foreign_keys = ON")  # a deferred check makes COMMIT itself fail
    with pytest.raises(sqlite3.IntegrityError), store.transaction() as db:
        db.execute("INSERT INTO children VALUES (42)")
    bucket = store.bucket("things", 1_000_000)
    bucket.put("after", b"1")  # a new transaction begins: the failed one was ended
    assert bucket.get("after") is not None
    assert store.query_one("SELECT count(*) FROM children") == (0,)
    store.close()
