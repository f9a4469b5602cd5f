"""What each machine job does when it ends, besides its state change: the one place.

The job engine (:mod:`smartdc.emulator.store.jobs`) looks a finished job's action up in
:data:`EFFECTS` (it succeeded) or :data:`FAILURE_EFFECTS` (it failed); a job whose action is
in neither only changes the state. Effects kept by other subjects (disks, images) live in
modules below the machine store, so this table names them without an import cycle. This
module also says why a job the state allows still fails (:func:`precondition_error`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from smartdc.emulator.store import disk_effects, image_effects, nics, placement
from smartdc.emulator.store.machine_record import Machine, log_change, watched

Effect = Callable[[sqlite3.Connection, Machine, dict[str, Any], dict[str, Any]], None]


def allocate(conn: sqlite3.Connection, m: Machine, at_ms: int) -> str | None:
    """Give the machine its compute node, as its locality and encryption allow; the reason
    when none fits."""
    locality = placement.Locality.from_doc(m.doc.get("locality"))
    placed: dict[str, str] = {}
    if locality is not None and (locality.near or locality.far):
        wanted = [*locality.near, *locality.far]
        marks = ", ".join("?" for _ in wanted)
        rows = conn.execute(
            "SELECT id, json_extract(doc, '$.compute_node') AS server FROM machines"
            f" WHERE id IN ({marks}) AND state NOT IN ('deleted', 'failed')",
            tuple(wanted),
        )
        placed = {row["id"]: row["server"] for row in rows if row["server"]}
    request = placement.Request(m.id, locality, bool(m.doc.get("encrypted")), placed)
    server = placement.choose(m.datacenter, request)
    if server is None:
        return placement.NO_SERVER
    before = watched(m)
    m.doc["compute_node"] = server
    m.updated_ms = max(m.updated_ms, at_ms)
    log_change(conn, m, before, "", at_ms)
    return None


def _provisioned(
    conn: sqlite3.Connection, m: Machine, _params: dict[str, Any], job: dict[str, Any]
) -> None:
    if not m.doc.get("compute_node"):
        allocate(conn, m, job["finish_ms"])


def _destroyed(
    conn: sqlite3.Connection, m: Machine, _params: dict[str, Any], _job: dict[str, Any]
) -> None:
    nics.release_nics(conn, m.id)


def _renamed(
    conn: sqlite3.Connection, m: Machine, params: dict[str, Any], _job: dict[str, Any]
) -> None:
    m.name = str(params["name"])


def _resized(
    conn: sqlite3.Connection, m: Machine, params: dict[str, Any], _job: dict[str, Any]
) -> None:
    package = params["package"]
    m.doc.update(
        package_id=package["id"],
        package_name=package["name"],
        memory=package["memory"],
        disk=package["disk"],
    )


def _dict_effect(key: str, mode: str) -> Effect:
    """An effect on the machine's ``tags`` or ``metadata``: set, replace, or remove keys."""

    def apply(
        conn: sqlite3.Connection, m: Machine, params: dict[str, Any], _job: dict[str, Any]
    ) -> None:
        current: dict[str, Any] = m.doc.setdefault(key, {})
        if mode == "set":
            current.update(params["values"])
        elif mode == "replace":
            m.doc[key] = dict(params["values"])
        else:
            for name in params["keys"]:
                current.pop(name, None)

    return apply


def _flag_effect(name: str, value: bool | None) -> Effect:
    def apply(
        conn: sqlite3.Connection, m: Machine, params: dict[str, Any], _job: dict[str, Any]
    ) -> None:
        m.doc[name] = bool(params["enabled"]) if value is None else value

    return apply


def _snapshot_deleted(
    conn: sqlite3.Connection, m: Machine, params: dict[str, Any], job: dict[str, Any]
) -> None:
    conn.execute(
        "UPDATE machine_snapshots SET deleted_ms = ? WHERE machine = ? AND name = ?"
        " AND deleted_ms IS NULL",
        (job["finish_ms"], m.id, params["name"]),
    )


def _nic_plugged(
    conn: sqlite3.Connection, m: Machine, params: dict[str, Any], _job: dict[str, Any]
) -> None:
    nics.plug_nic(conn, str(params["mac"]), bool(params.get("primary")))


def _nic_unplugged(
    conn: sqlite3.Connection, m: Machine, params: dict[str, Any], _job: dict[str, Any]
) -> None:
    nics.delete_nic(conn, str(params["mac"]))


def _migrated(
    conn: sqlite3.Connection, m: Machine, params: dict[str, Any], _job: dict[str, Any]
) -> None:
    m.doc["compute_node"] = str(params["server"])


#: Job action -> what its success does to the machine (and the rows it owns).
EFFECTS: dict[str, Effect] = {
    "provision": _provisioned,
    "destroy": _destroyed,
    "rename": _renamed,
    "resize": _resized,
    "set_metadata": _dict_effect("metadata", "set"),
    "replace_metadata": _dict_effect("metadata", "replace"),
    "remove_metadata": _dict_effect("metadata", "remove"),
    "set_tags": _dict_effect("tags", "set"),
    "replace_tags": _dict_effect("tags", "replace"),
    "remove_tags": _dict_effect("tags", "remove"),
    "enable_deletion_protection": _flag_effect("deletion_protection", True),
    "disable_deletion_protection": _flag_effect("deletion_protection", False),
    "unknown": _flag_effect("firewall_enabled", None),
    "delete_snapshot": _snapshot_deleted,
    "add_nics": _nic_plugged,
    "remove_nics": _nic_unplugged,
    "migrate-switch": _migrated,
    "create_disk": disk_effects.disk_created,
    "resize_disk": disk_effects.disk_resized,
    "delete_disk": disk_effects.disk_deleted,
    "create_image": image_effects.image_created,
}


def _provision_failed(
    conn: sqlite3.Connection, m: Machine, _params: dict[str, Any], _job: dict[str, Any]
) -> None:
    nics.release_nics(conn, m.id)


def _nic_not_plugged(
    conn: sqlite3.Connection, m: Machine, params: dict[str, Any], _job: dict[str, Any]
) -> None:
    nics.delete_nic(conn, str(params["mac"]))  # a NIC that could not be plugged in is gone


#: Job action -> what its failure does, besides leaving the state as the step says.
FAILURE_EFFECTS: dict[str, Effect] = {
    "provision": _provision_failed,
    "add_nics": _nic_not_plugged,
    "create_image": image_effects.image_failed,
}


def live_snapshot(conn: sqlite3.Connection, machine_id: str, name: str) -> Any:
    """The machine's created, undeleted snapshot of that name (its row), or ``None``."""
    return conn.execute(
        "SELECT s.* FROM machine_snapshots s JOIN machine_jobs j ON j.id = s.job"
        " WHERE s.machine = ? AND s.name = ? AND s.deleted_ms IS NULL AND j.phase = ?",
        (machine_id, name, "succeeded"),
    ).fetchone()


def precondition_error(
    conn: sqlite3.Connection, m: Machine, action: str, params: dict[str, Any]
) -> str | None:
    """Why a job that the state allows still cannot do its work, or ``None``."""
    if params.get("fail"):
        return f"{action} failed"
    if action == "create_snapshot" and live_snapshot(conn, m.id, params["name"]) is not None:
        return f"snapshot {params['name']} already exists"
    needs_snapshot = action in ("delete_snapshot", "rollback_snapshot")
    if needs_snapshot and live_snapshot(conn, m.id, params["name"]) is None:
        return f"snapshot {params['name']} does not exist"
    return None
