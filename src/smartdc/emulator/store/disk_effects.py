"""What the disk jobs (``create_disk``, ``resize_disk``, ``delete_disk``) do to a machine's
record when they succeed; named in :data:`smartdc.emulator.store.job_effects.EFFECTS`.

Below the machine and job modules, so that the effects table can name these without an
import cycle.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from smartdc.emulator.store.machine_record import Machine


def _stored_disks(m: Machine) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = m.doc.setdefault("disks", [])
    return found


def disk_created(
    conn: sqlite3.Connection, m: Machine, params: dict[str, Any], _job: dict[str, Any]
) -> None:
    """Add the job's disk to the machine."""
    _stored_disks(m).append(dict(params["disk"]))


def disk_resized(
    conn: sqlite3.Connection, m: Machine, params: dict[str, Any], _job: dict[str, Any]
) -> None:
    """Give the disk its new size."""
    for disk in _stored_disks(m):
        if disk["id"] == params["id"]:
            disk["size"] = int(params["size"])


def disk_deleted(
    conn: sqlite3.Connection, m: Machine, params: dict[str, Any], _job: dict[str, Any]
) -> None:
    """Remove the disk from the machine."""
    m.doc["disks"] = [d for d in _stored_disks(m) if d["id"] != params["id"]]
