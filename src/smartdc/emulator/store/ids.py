"""New identifiers: random, or repeatable from a seed.

Every UUID and MAC address the emulator hands out comes from here. Without a seed they are
random, as on a real cloud. With one (``smartdc-emulator --seed N``,
``EmulatorServer(seed=N)``) the n-th identifier of a run is derived from the seed and ``n``,
so the same requests in the same order get the same ids, MACs (and so IPs, which are handed
out in order) run after run; a reset takes the sequence back to where it stood once the
start-up accounts were registered. Secrets (access-key secrets) stay random whatever the seed.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import uuid

from smartdc.emulator.db import Database, register_schema

register_schema(
    """
    CREATE TABLE IF NOT EXISTS id_source (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
        seed TEXT,
        counter INTEGER NOT NULL DEFAULT 0,
        start INTEGER NOT NULL DEFAULT 0
    );
    """
)

#: The namespace seeded UUIDs are derived in.
_NAMESPACE = uuid.UUID("6f2c4c4e-5d0a-4c59-9b43-2f6a1d1e7b10")


def set_seed(db: Database, seed: int | None) -> None:
    """Derive identifiers from ``seed`` from now on (``None``: random), counting from zero."""
    with db.transaction() as conn:
        conn.execute("DELETE FROM id_source")
        conn.execute(
            "INSERT INTO id_source (singleton, seed, counter, start) VALUES (1, ?, 0, 0)",
            (None if seed is None else str(seed),),
        )


def use_seed(db: Database, seed: int | None) -> None:
    """Derive identifiers from ``seed`` (``None``: random). On a store that already has a
    sequence its place is kept, so a restart on the same data never hands out an id twice."""
    with db.transaction() as conn:
        conn.execute("INSERT OR IGNORE INTO id_source (singleton, counter, start) VALUES (1, 0, 0)")
        conn.execute("UPDATE id_source SET seed = ?", (None if seed is None else str(seed),))


def mark_start(db: Database) -> None:
    """Remember the current place in the sequence as the one a reset goes back to."""
    db.execute("UPDATE id_source SET start = counter")


def restart(db: Database) -> None:
    """Go back to the place :func:`mark_start` remembered (the emulator's reset)."""
    db.execute("UPDATE id_source SET counter = start")


Source = Database | sqlite3.Connection


def _take(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT seed, counter FROM id_source").fetchone()
    if row is None or row["seed"] is None:
        return None
    conn.execute("UPDATE id_source SET counter = counter + 1")
    return f"{row['seed']}:{row['counter'] + 1}"


def _next_seeded(source: Source) -> str | None:
    """``"<seed>:<n>"`` for the next seeded identifier, or ``None`` when unseeded.

    ``source`` is the database, or the connection of a transaction already open on it.
    """
    if isinstance(source, sqlite3.Connection):
        return _take(source)
    with source.transaction() as conn:
        return _take(conn)


def new_uuid(source: Source) -> str:
    """A new UUID (version 4 at random; version 5 from the seed)."""
    key = _next_seeded(source)
    return str(uuid.uuid4() if key is None else uuid.uuid5(_NAMESPACE, key))


def new_bytes(source: Source, size: int) -> bytes:
    """``size`` new bytes for an identifier (not a secret): random, or from the seed."""
    key = _next_seeded(source)
    if key is None:
        return secrets.token_bytes(size)
    return hashlib.sha256(key.encode()).digest()[:size]
