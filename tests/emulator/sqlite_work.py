"""Counting the SQLite work an action does: for tests that a cost does not grow with data."""

from __future__ import annotations

from collections.abc import Callable

from smartdc.emulator.db import Database


def sqlite_steps(db: Database, action: Callable[[], object]) -> int:
    """How many tens of SQLite virtual-machine instructions ``action`` runs on ``db``'s
    writing connection (the only one of an in-memory database)."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    db._conn.set_progress_handler(count, 10)
    try:
        action()
    finally:
        db._conn.set_progress_handler(None, 10)
    return steps[0]
