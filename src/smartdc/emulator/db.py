"""The emulator's SQLite database: one connection, a lock, and schema registration.

Store modules call :func:`register_schema` at import time with their ``CREATE TABLE IF NOT
EXISTS`` statements, and :func:`register_column` for a column added to a table after data
directories holding it without that column may exist; :class:`Database` applies all of it, in
registration order, when it opens. Rows hold JSON documents in ``TEXT`` columns where
CloudAPI objects are open-ended.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

_SCHEMAS: list[str | tuple[str, str, str]] = []
_FUNCTIONS: dict[str, tuple[int, Callable[..., Any]]] = {}


def register_schema(sql: str) -> None:
    """Add DDL to run when any database opens (idempotent ``IF NOT EXISTS`` statements)."""
    if sql not in _SCHEMAS:
        _SCHEMAS.append(sql)


def register_column(table: str, column: str, definition: str) -> None:
    """Make sure ``table`` has ``column`` when any database opens, adding it (``ALTER TABLE
    ... ADD COLUMN column definition``) to a table an older emulator created without it.
    Runs after the schemas registered before it, before those registered after it."""
    entry = (table, column, definition)
    if entry not in _SCHEMAS:
        _SCHEMAS.append(entry)


def _apply_schemas(conn: sqlite3.Connection) -> None:
    for entry in _SCHEMAS:
        if isinstance(entry, str):
            conn.executescript(entry)
            continue
        table, column, definition = entry
        columns = {row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')}
        if column not in columns:
            conn.execute(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {definition}')


def register_function(name: str, arguments: int, function: Callable[..., Any]) -> None:
    """Make a deterministic SQL function of ``arguments`` arguments available to every
    database opened from now on (for filters SQL alone cannot express exactly)."""
    _FUNCTIONS[name] = (arguments, function)


def _connect(target: str) -> sqlite3.Connection:
    conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
    conn.row_factory = sqlite3.Row
    for name, (arguments, function) in _FUNCTIONS.items():
        conn.create_function(name, arguments, function, deterministic=True)
    return conn


class Database:
    """A thread-safe SQLite database; ``path=None`` keeps everything in memory.

    A database on disk has a second connection for reads (WAL lets it read the last
    committed state while a write is under way, an fsync say); a thread inside a write
    transaction reads through the writing connection, so it sees its own changes.
    """

    def __init__(self, path: str | Path | None = None, *, shared: bool = False) -> None:
        target = ":memory:" if path is None else str(path)
        self.path = target
        #: With ``shared`` (several processes write to the file), writers take turns through
        #: an flock on ``<path>.writer``: a waiting process wakes the moment the lock is free,
        #: where SQLite's own busy handler sleeps and polls (up to 25 ms at a time).
        self._turns: int | None = None
        if shared and path is not None:
            self._turns = os.open(f"{target}.writer", os.O_RDWR | os.O_CREAT, 0o600)
        self._conn = _connect(target)
        self._lock = threading.RLock()
        #: The thread inside a write transaction, if any.
        self._writer: int | None = None
        self._reader = self._conn
        self._reader_lock = self._lock
        self._commit_listeners: list[Callable[[], None]] = []
        #: Transactions that wrote something and committed, in this process.
        self.commits = 0
        try:
            with self._lock:
                mode = "WAL" if path else "MEMORY"
                self._conn.execute(f"PRAGMA journal_mode={mode}")
                # COMMIT does not sync the WAL (NORMAL): the app syncs it, off the event loop,
                # before answering (smartdc.emulator.durability, :meth:`sync`). Checkpoints
                # still sync the WAL and the database as SQLite does them.
                self._conn.execute("PRAGMA synchronous=NORMAL")
                self._conn.execute("PRAGMA foreign_keys=ON")
                _apply_schemas(self._conn)
            if path is not None:
                self._reader = _connect(target)
                self._reader.execute("PRAGMA query_only=ON")
                self._reader_lock = threading.RLock()
        except sqlite3.Error:
            self._conn.close()  # e.g. the file is not a database
            raise

    @property
    def in_memory(self) -> bool:
        """Whether the database lives in memory only (nothing a write waits for on disk)."""
        return self._reader is self._conn

    @property
    def shared(self) -> bool:
        """Whether other processes write to this database too (``shared`` on disk)."""
        return self._turns is not None

    @property
    def writing_here(self) -> bool:
        """Whether the calling thread is inside a write transaction (which may roll back)."""
        return self._writer == threading.get_ident()

    def _read_side(self) -> tuple[sqlite3.Connection, threading.RLock]:
        if self.writing_here:
            return self._conn, self._lock
        return self._reader, self._reader_lock

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run statements atomically; nested use joins the outer transaction."""
        with self._lock:
            if self._conn.in_transaction:
                yield self._conn
                return
            written = self._conn.total_changes
            if self._turns is not None:
                fcntl.flock(self._turns, fcntl.LOCK_EX)
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                self._writer = threading.get_ident()
                try:
                    yield self._conn
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                finally:
                    self._writer = None
                self._conn.execute("COMMIT")
            finally:
                if self._turns is not None:
                    fcntl.flock(self._turns, fcntl.LOCK_UN)
            written = self._conn.total_changes - written
            if written:
                self.commits += 1
        if written:
            for listener in tuple(self._commit_listeners):
                listener()

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """Read consistently without writing: a deferred transaction, which takes no write
        lock and syncs nothing; nested use joins the outer transaction."""
        conn, lock = self._read_side()
        with lock:
            if conn.in_transaction or self._reader is self._conn:
                # One connection: holding its lock is enough, nobody else writes meanwhile.
                yield conn
                return
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

    def sync(self) -> None:
        """Make every commit so far durable: fsync the write-ahead log (blocks; nothing to
        do in memory). COMMIT leaves that to this, so that it need not block the loop."""
        if self.in_memory:
            return
        try:
            fd = os.open(f"{self.path}-wal", os.O_RDONLY)
        except FileNotFoundError:
            return  # no log: every commit was checkpointed into the synced database file
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def add_commit_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every committed transaction that wrote something, once its
        lock is released: the scheduler and the changefeed wake up on it. It must be quick
        and must not raise."""
        self._commit_listeners.append(listener)

    def announce_commit(self, skip: Callable[[], None] | None = None) -> None:
        """Run the commit listeners (but ``skip``) for a transaction another process
        committed to this database (:mod:`smartdc.emulator.bell`)."""
        for listener in tuple(self._commit_listeners):
            if listener != skip:
                listener()

    def remove_commit_listener(self, listener: Callable[[], None]) -> None:
        """Stop calling ``listener``; unknown listeners are ignored."""
        if listener in self._commit_listeners:
            self._commit_listeners.remove(listener)

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        conn, lock = self._read_side()
        with lock:
            return list(conn.execute(sql, args))

    def one(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        conn, lock = self._read_side()
        with lock:
            row: sqlite3.Row | None = conn.execute(sql, args).fetchone()
            return row

    def execute(self, sql: str, args: tuple[Any, ...] = ()) -> int:
        """Run one statement in its own transaction; returns the affected row count."""
        with self.transaction() as conn:
            return conn.execute(sql, args).rowcount

    def tables(self) -> list[str]:
        """The name of every table, in name order."""
        rows = self.query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name"
        )
        return [str(row[0]) for row in rows]

    def clear(self, keep: Iterable[str] = ()) -> None:
        """Empty every table except those in ``keep``, then re-apply the registered schemas,
        so that seed rows registered with them come back (the emulator's reset)."""
        kept = set(keep)
        with self._lock:
            self._conn.execute("PRAGMA foreign_keys=OFF")
            try:
                with self.transaction() as conn:
                    for table in self.tables():
                        if table not in kept:
                            conn.execute(f'DELETE FROM "{table}"')
            finally:
                self._conn.execute("PRAGMA foreign_keys=ON")
            _apply_schemas(self._conn)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
            if self._turns is not None:
                os.close(self._turns)
                self._turns = None
        if self._reader is not self._conn:
            with self._reader_lock:
                self._reader.close()


def dumps(value: Any) -> str:
    """JSON for a TEXT column (compact, stable key order, non-ASCII as UTF-8)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    except TypeError:  # integers beyond 64 bits, keys that are not strings
        return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def loads(text: str | None) -> Any:
    """The value of a TEXT column :func:`dumps` wrote (``None`` stays ``None``)."""
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # NaN or Infinity, which the standard library wrote
        return json.loads(text)
