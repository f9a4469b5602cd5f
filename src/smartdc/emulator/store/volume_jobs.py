"""The volume job kinds of the job engine: what a volume's creation and deletion do when
they end.

A volume's life cycle runs as jobs in the engine's table (:mod:`smartdc.emulator.store.jobs`),
queued on the volume's id like machine jobs are on a machine's, one at a time, and applied
when due by the engine's :func:`~smartdc.emulator.store.jobs.settle_due`, which the server's
scheduler calls at each due time:

``create_volume`` (one provision delay)
    The storage VM's provision. The volume is ``creating`` from its creation; the job's
    success makes it ``ready``, its failure ``failed``.
``delete_volume`` (half a provision delay)
    The storage VM's destroy. DeleteVolume makes the volume ``deleting`` at once; the job's
    success removes it and frees its addresses, its failure gives the volume back the state
    it had before (``ready``, or ``failed`` for a volume whose provision failed).

VOLAPI keeps no state machine of its own: a volume's state follows its storage VM's
(sdc-volapi volapi-updater.js ``updateVolumeStateFromStorageVm``). A storage VM whose destroy
fails is left as it was, running (or failed), so its volume is ``ready`` (or ``failed``) again.
CloudAPI's changefeed only carries ``vm`` changes, so volume jobs log none.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from smartdc.emulator.db import loads, register_schema
from smartdc.emulator.store import nics

# The table lives here, below the job engine, so that the engine can settle volume jobs in
# any database; :mod:`smartdc.emulator.store.volumes` reads and writes it.
register_schema(
    """
    CREATE TABLE IF NOT EXISTS volumes (
        id TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        datacenter TEXT NOT NULL,
        name TEXT NOT NULL,
        type TEXT NOT NULL,
        size INTEGER NOT NULL,
        networks TEXT NOT NULL,
        tags TEXT NOT NULL,
        storage_vm TEXT NOT NULL,
        filesystem_path TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        state TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS volumes_by_owner ON volumes (account, datacenter, created_ms);
    """
)

CREATING = "creating"
READY = "ready"
FAILED = "failed"
DELETING = "deleting"
STATES: tuple[str, ...] = (CREATING, READY, FAILED, DELETING)

CREATE = "create_volume"
DELETE = "delete_volume"
ACTIONS: tuple[str, ...] = (CREATE, DELETE)
#: The VMAPI job of the storage VM each volume job stands for: the name ``fail_job`` fault
#: rules match it by (CreateVolume's also uses up a counted ``fail_provision``).
FAULT_JOB_NAMES: dict[str, str] = {CREATE: "provision", DELETE: "destroy"}

_ACTIONS_SQL = ", ".join(f"'{action}'" for action in ACTIONS)


def _created_state(conn: sqlite3.Connection, volume_id: str) -> str:
    """What the volume's creation made of it so far: ``ready``, ``failed`` or ``creating``."""
    row = conn.execute(
        f"SELECT phase FROM machine_jobs WHERE machine = ? AND action = '{CREATE}'"
        " ORDER BY seq DESC LIMIT 1",
        (volume_id,),
    ).fetchone()
    if row is None or row["phase"] == "succeeded":
        return READY
    return FAILED if row["phase"] == "failed" else CREATING


def _set_state(conn: sqlite3.Connection, volume_id: str, state: str) -> None:
    conn.execute("UPDATE volumes SET state = ? WHERE id = ?", (state, volume_id))


def _remove(conn: sqlite3.Connection, volume: Any, job: dict[str, Any]) -> None:
    """The storage VM is gone: its addresses are free, the volume and its other pending
    jobs too."""
    storage_vm = str(volume["storage_vm"])
    for nic in nics.nic_rows(conn, [storage_vm])[storage_vm]:
        nics.delete_nic(conn, nic["mac"])
    conn.execute("DELETE FROM volumes WHERE id = ?", (volume["id"],))
    conn.execute(
        "DELETE FROM machine_jobs WHERE machine = ? AND phase IN ('queued', 'running')"
        " AND seq != ?",
        (volume["id"], job["seq"]),
    )


def _finish(conn: sqlite3.Connection, job: dict[str, Any], volume: Any) -> None:
    ok = job["error"] is None
    if job["action"] == CREATE:
        if volume["state"] == CREATING:  # a volume being deleted stays so
            _set_state(conn, volume["id"], READY if ok else FAILED)
    elif ok:
        _remove(conn, volume, job)
    else:
        _set_state(conn, volume["id"], _created_state(conn, str(volume["id"])))


def settle(conn: sqlite3.Connection, now_ms: int) -> None:
    """Start and finish every volume job due at ``now_ms`` (in the caller's transaction)."""
    jobs = conn.execute(
        f"SELECT * FROM machine_jobs WHERE action IN ({_ACTIONS_SQL})"
        " AND ((phase = 'queued' AND start_ms <= ?) OR (phase = 'running' AND finish_ms <= ?))"
        " ORDER BY seq",
        (now_ms, now_ms),
    ).fetchall()
    for row in jobs:
        job = dict(row)
        volume = conn.execute("SELECT * FROM volumes WHERE id = ?", (job["machine"],)).fetchone()
        if volume is None:  # removed by an earlier job in this pass
            conn.execute("DELETE FROM machine_jobs WHERE seq = ?", (job["seq"],))
            continue
        if job["phase"] == "queued":
            if job["error"] is None and loads(job["params"]).get("fail"):
                job["error"] = f"{FAULT_JOB_NAMES[job['action']]} failed"
            job["state_before"] = volume["state"]
            job["phase"] = "running"
        if job["finish_ms"] <= now_ms:
            _finish(conn, job, volume)
            job["phase"] = "succeeded" if job["error"] is None else "failed"
        conn.execute(
            "UPDATE machine_jobs SET phase = ?, state_before = ?, error = ? WHERE seq = ?",
            (job["phase"], job["state_before"], job["error"], job["seq"]),
        )
