"""Machine snapshots: each one is made and removed by a machine job.

A snapshot's ``state`` is its creating job's phase until it is deleted. HTTP-free.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smartdc.emulator import lifecycle
from smartdc.emulator.context import EmulatorError
from smartdc.emulator.db import Database, register_schema
from smartdc.emulator.store.job_effects import live_snapshot
from smartdc.emulator.store.jobs import (
    FAILED_JOB,
    QUEUED,
    RUNNING_JOB,
    SUCCEEDED,
    enqueue,
    reading,
    settled,
)
from smartdc.emulator.store.machine_record import Owner
from smartdc.emulator.store.timestamps import iso_ms, to_ms

register_schema(
    """
    CREATE TABLE IF NOT EXISTS machine_snapshots (
        job TEXT PRIMARY KEY,
        machine TEXT NOT NULL,
        name TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        deleted_ms INTEGER
    );
    CREATE INDEX IF NOT EXISTS machine_snapshots_by_name ON machine_snapshots (machine, name);
    """
)


#: Snapshot ``state`` for each phase of its creating job.
_SNAPSHOT_STATES = {
    QUEUED: "queued",
    RUNNING_JOB: "running",
    SUCCEEDED: "created",
    FAILED_JOB: "failed",
}


def create_snapshot(
    db: Database,
    owner: Owner,
    machine_id: str,
    name: str,
    *,
    caller: Mapping[str, Any],
    now: float,
    provision_delay: float,
) -> dict[str, Any]:
    """Queue a ``create_snapshot`` job; return ``{"name", "state": "queued"}``.

    Raises 409 ``BrandNotSupported`` for kvm machines, which cannot be snapshotted.
    """
    now_ms = to_ms(now)
    with settled(db, owner, machine_id, now_ms) as (conn, machine):
        if machine.brand == "kvm":
            raise EmulatorError(
                409, "BrandNotSupported", "snapshots are not supported for VMs of brand kvm"
            )
        lifecycle.check_allocated("create_snapshot", machine.state)
        job_id = enqueue(
            conn, machine.id, "create_snapshot", {"name": name}, caller, now_ms, provision_delay
        )
        conn.execute(
            "INSERT INTO machine_snapshots (job, machine, name, created_ms) VALUES (?, ?, ?, ?)",
            (job_id, machine.id, name, now_ms),
        )
    return {"name": name, "state": "queued"}


def _render_snapshot(row: Any, state: str) -> dict[str, Any]:
    stamp = iso_ms(row["created_ms"])
    return {"name": row["name"], "state": state, "created": stamp, "updated": stamp}


def list_snapshots(db: Database, owner: Owner, machine_id: str, now: float) -> list[dict[str, Any]]:
    """Snapshots the machine has (created and not deleted), oldest first."""
    with reading(db, owner, machine_id, now) as (conn, machine):
        rows = conn.execute(
            "SELECT s.* FROM machine_snapshots s JOIN machine_jobs j ON j.id = s.job"
            " WHERE s.machine = ? AND s.deleted_ms IS NULL AND j.phase = ? ORDER BY j.seq",
            (machine.id, SUCCEEDED),
        ).fetchall()
    return [_render_snapshot(row, "created") for row in rows]


def get_snapshot(
    db: Database, owner: Owner, machine_id: str, name: str, now: float
) -> dict[str, Any] | None:
    """The newest snapshot of that name with its creating job's state, ``deleted`` once it
    is gone; ``None`` if no snapshot job ever had that name."""
    with reading(db, owner, machine_id, now) as (conn, machine):
        row = conn.execute(
            "SELECT s.*, j.phase FROM machine_snapshots s JOIN machine_jobs j ON j.id = s.job"
            " WHERE s.machine = ? AND s.name = ? ORDER BY j.seq DESC LIMIT 1",
            (machine.id, name),
        ).fetchone()
    if row is None:
        return None
    state = "deleted" if row["deleted_ms"] is not None else _SNAPSHOT_STATES[row["phase"]]
    return _render_snapshot(row, state)


def snapshot_exists(db: Database, owner: Owner, machine_id: str, name: str, now: float) -> bool:
    """Whether the machine has a created, undeleted snapshot of that name."""
    with reading(db, owner, machine_id, now) as (conn, machine):
        return live_snapshot(conn, machine.id, name) is not None
