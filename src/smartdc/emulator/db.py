"""The emulator's SQLite database: one connection, a lock, and schema registration.

Store modules call :func:`register_schema` at import time with their ``CREATE TABLE IF NOT
EXISTS`` statements; :class:`Database` applies every registered schema when it opens. Rows hold
JSON documents in ``TEXT`` columns where CloudAPI objects are open-ended.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_SCHEMAS: list[str] = []


def register_schema(sql: str) -> None:
    """Add DDL to run when any database opens (idempotent ``IF NOT EXISTS`` statements)."""
    if sql not in _SCHEMAS:
        _SCHEMAS.append(sql)


class Database:
    """A thread-safe SQLite database; ``path=None`` keeps everything in memory."""

    def __init__(self, path: str | Path | None = None) -> None:
        target = ":memory:" if path is None else str(path)
        self.path = target
        self._conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._commit_listeners: list[Callable[[], None]] = []
        try:
            with self._lock:
                mode = "WAL" if path else "MEMORY"
                self._conn.execute(f"PRAGMA journal_mode={mode}")
                # A write is answered once its COMMIT returns, so COMMIT must reach the disk:
                # FULL syncs the WAL on every commit. NORMAL would survive a killed process but
                # not a power cut, and builds may default WAL databases to NORMAL.
                self._conn.execute("PRAGMA synchronous=FULL")
                self._conn.execute("PRAGMA foreign_keys=ON")
                for sql in _SCHEMAS:
                    self._conn.executescript(sql)
        except sqlite3.Error:
            self._conn.close()  # e.g. the file is not a database
            raise

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run statements atomically; nested use joins the outer transaction."""
        with self._lock:
            if self._conn.in_transaction:
                yield self._conn
                return
            written = self._conn.total_changes
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            written = self._conn.total_changes - written
        if written:
            for listener in tuple(self._commit_listeners):
                listener()

    def add_commit_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every committed transaction that wrote something, once its
        lock is released: the scheduler and the changefeed wake up on it. It must be quick
        and must not raise."""
        self._commit_listeners.append(listener)

    def remove_commit_listener(self, listener: Callable[[], None]) -> None:
        """Stop calling ``listener``; unknown listeners are ignored."""
        if listener in self._commit_listeners:
            self._commit_listeners.remove(listener)

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._conn.execute(sql, args))

    def one(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._conn.execute(sql, args).fetchone()
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
            for sql in _SCHEMAS:
                self._conn.executescript(sql)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def dumps(value: Any) -> str:
    """JSON for a TEXT column (compact, stable key order)."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)
