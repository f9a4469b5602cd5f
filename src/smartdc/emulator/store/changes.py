"""The change log: one row per change to a machine, written in the transaction that makes it.

HTTP-free. The job engine (:mod:`.machines`) records a change whenever a job start or finish
moves a machine's state, name, tags, metadata, NICs or compute node, and when a machine is
created; the changefeed (:mod:`smartdc.emulator.changefeed`) reads the rows after its last one.
A row carries what CloudAPI's changefeed message needs (sdc-cloudapi lib/changefeed.js, fed by
VMAPI's changefeed publisher): the sub-resources that changed, the publish time, VMAPI's raw
state and the machine object as it was then.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from smartdc.emulator.db import Database, dumps, loads, register_schema

register_schema(
    """
    CREATE TABLE IF NOT EXISTS changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL,
        datacenter TEXT NOT NULL,
        resource TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        sub_resources TEXT NOT NULL,
        published_ms INTEGER NOT NULL,
        state TEXT NOT NULL,
        object TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS changes_by_owner ON changes (account, datacenter, seq);
    """
)

#: How many rows the log keeps; older ones are dropped as new ones come.
KEEP = 20_000

#: CloudAPI machine states as VMAPI names them in its changefeed (``resourceState``).
_VMAPI_STATES = {"deleted": "destroyed"}


@dataclass(frozen=True)
class Change:
    """One logged change, as the changefeed reads it."""

    seq: int
    resource: str
    resource_id: str
    sub_resources: tuple[str, ...]
    published_ms: int
    state: str
    object: dict[str, Any]

    def message(self) -> dict[str, Any]:
        """The changefeed message CloudAPI sends for this change."""
        return {
            "changeKind": {"resource": self.resource, "subResources": list(self.sub_resources)},
            "changedResourceId": self.resource_id,
            "published": str(self.published_ms),
            "resourceState": self.state,
            "resourceObject": self.object,
        }


def vmapi_state(state: str) -> str:
    """VMAPI's name for a CloudAPI machine state."""
    return _VMAPI_STATES.get(state, state)


def record_vm_change(
    conn: sqlite3.Connection,
    *,
    account: str,
    datacenter: str,
    machine: dict[str, Any],
    sub_resources: Sequence[str],
    published_ms: int,
) -> None:
    """Log a change to ``machine`` (its CloudAPI object as of the change)."""
    cursor = conn.execute(
        "INSERT INTO changes (account, datacenter, resource, resource_id, sub_resources,"
        " published_ms, state, object) VALUES (?, ?, 'vm', ?, ?, ?, ?, ?)",
        (
            account,
            datacenter,
            machine["id"],
            dumps(list(sub_resources)),
            published_ms,
            vmapi_state(str(machine["state"])),
            dumps(machine),
        ),
    )
    seq = cursor.lastrowid or 0
    if seq > KEEP and seq % 1000 == 0:
        conn.execute("DELETE FROM changes WHERE seq <= ?", (seq - KEEP,))


def last_seq(db: Database) -> int:
    """The newest row's number (0 when the log is empty)."""
    row = db.one("SELECT MAX(seq) FROM changes")
    return int(row[0]) if row is not None and row[0] is not None else 0


def changes_after(db: Database, seq: int, account: str, datacenter: str) -> list[Change]:
    """The account's changes in ``datacenter`` logged after row ``seq``, oldest first."""
    rows = db.query(
        "SELECT * FROM changes WHERE account = ? AND datacenter = ? AND seq > ? ORDER BY seq",
        (account, datacenter, seq),
    )
    return [
        Change(
            seq=int(r["seq"]),
            resource=str(r["resource"]),
            resource_id=str(r["resource_id"]),
            sub_resources=tuple(loads(r["sub_resources"])),
            published_ms=int(r["published_ms"]),
            state=str(r["state"]),
            object=loads(r["object"]),
        )
        for r in rows
    ]
