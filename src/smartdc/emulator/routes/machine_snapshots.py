"""Machine snapshot routes.

A snapshot's ``state`` follows its creating job: ``queued``, ``running``, then ``created``
(or ``failed``); once deleted, GetMachineSnapshot says ``deleted``. bhyve machines can be
snapshotted only where the datacenter allows it (:mod:`smartdc.emulator.store.features`).
StartMachineFromSnapshot does not look the snapshot up: its rollback job fails instead.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from smartdc.emulator.context import (
    Call,
    Reply,
    cloudapi_route,
    invalid_argument,
    not_found,
    validation_failed,
)
from smartdc.emulator.routes.machine_common import fetch, machine_id, owner, queue
from smartdc.emulator.store import features, snapshots

_SNAPSHOT_NAME = re.compile(r"^[a-zA-Z0-9_.:-]{1,64}$")


def default_name(now: float) -> str:
    """CloudAPI's default snapshot name: the UTC time as ``YYYYMMDDTHHMMSSZ``."""
    return datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")


def create_snapshot(call: Call) -> Reply:
    """CreateMachineSnapshot: 201 ``{"name", "state": "queued"}`` (no Location header)."""
    name = call.params.get("name") or default_name(call.now)
    if not isinstance(name, str) or not _SNAPSHOT_NAME.fullmatch(name):
        raise validation_failed(
            [{"field": "snapshot_name", "code": "Invalid", "message": "Invalid snapshot name"}]
        )
    machine = fetch(call)
    if machine["brand"] == "bhyve" and not features.enabled(call.db, features.BHYVE_SNAPSHOTS):
        raise invalid_argument("Snapshots of bhyve VMs are not allowed")  # lib/snapshots.js
    body = snapshots.create_snapshot(
        call.db,
        owner(call),
        machine_id(call),
        name,
        caller=call.caller,
        now=call.now,
        provision_delay=call.config.provision_delay,
    )
    return Reply(201, body)


def list_snapshots(call: Call) -> Reply:
    """ListMachineSnapshots: the snapshots the machine has."""
    return Reply(200, snapshots.list_snapshots(call.db, owner(call), machine_id(call), call.now))


def get_snapshot(call: Call) -> Reply:
    """GetMachineSnapshot: one snapshot; 404 "Snapshot does not exist"."""
    name = call.path_params["name"]
    snapshot = snapshots.get_snapshot(call.db, owner(call), machine_id(call), name, call.now)
    if snapshot is None:
        raise not_found("Snapshot does not exist")
    return Reply(200, snapshot)


def _existing(call: Call) -> tuple[dict[str, Any], str]:
    name = call.path_params["name"]
    machine = fetch(call)
    if not snapshots.snapshot_exists(call.db, owner(call), machine["id"], name, call.now):
        raise not_found(f"{name} not found")
    return machine, name


def delete_snapshot(call: Call) -> Reply:
    """DeleteMachineSnapshot: 204; 404 "<name> not found"."""
    machine, name = _existing(call)
    queue(call, machine, "delete_snapshot", {"name": name})
    return Reply(204)


def start_from_snapshot(call: Call) -> Reply:
    """StartMachineFromSnapshot: 202; the machine rolls back, then runs (the job fails when
    the machine has no such snapshot)."""
    machine = fetch(call)
    queue(call, machine, "rollback_snapshot", {"name": call.path_params["name"]})
    return Reply(202)


ROUTES = [
    cloudapi_route("CreateMachineSnapshot", create_snapshot, summary="Snapshot a machine"),
    cloudapi_route("ListMachineSnapshots", list_snapshots, head=True, summary="Snapshots"),
    cloudapi_route("GetMachineSnapshot", get_snapshot, head=True, summary="Get a snapshot"),
    cloudapi_route("DeleteMachineSnapshot", delete_snapshot, summary="Delete a snapshot"),
    cloudapi_route(
        "StartMachineFromSnapshot", start_from_snapshot, summary="Roll back to a snapshot"
    ),
]
