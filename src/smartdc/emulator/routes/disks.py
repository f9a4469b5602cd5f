"""Machine disk routes: ListMachineDisks, GetMachineDisk, CreateMachineDisk,
ResizeMachineDisk and DeleteMachineDisk; API versions 7.2.0 and up.

Only bhyve machines with a flexible disk package have them; changes need the machine stopped.
"""

from __future__ import annotations

import re
from typing import Any

from smartdc.emulator.context import (
    Call,
    Reply,
    cloudapi_route,
    invalid_argument,
    missing_parameter,
)
from smartdc.emulator.paging import RESOURCE_COUNT_HEADER
from smartdc.emulator.params import is_number, is_uuid
from smartdc.emulator.routes.machine_common import (
    fetch,
    fetch_live,
    job_context,
    machine_id,
    owner,
)
from smartdc.emulator.store import disks

DISK_SINCE = "7.2.0"
PCI_SLOT_PATTERN = re.compile(r"^\d{1,3}:\d{1,2}:[0-7]$", re.ASCII)


def _disk_id(call: Call) -> str:
    """The path's disk id; anything but a UUID names no disk."""
    value = call.path_params["disk_id"]
    if not is_uuid(value):
        raise disks.disk_not_found()
    return value.lower()


def _mib(call: Call, *, alternative: str = "") -> int:
    """``size`` as a positive whole number of MiB (``alternative`` names what else the
    operation accepts, for the error message)."""
    value: Any = call.params.get("size")
    if value is None or value == "":
        raise missing_parameter("size must be specified")
    if isinstance(value, str) and is_number(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise invalid_argument(f"size must be a positive number of MiB{alternative}")
    return value


def list_disks(call: Call) -> Reply:
    """ListMachineDisks: the machine's disks with ``x-resource-count``."""
    fetch(call)
    found = disks.list_disks(call.db, owner(call), machine_id(call), call.now)
    return Reply(200, found, {RESOURCE_COUNT_HEADER: str(len(found))})


def get_disk(call: Call) -> Reply:
    """GetMachineDisk: one disk; 404 "disk not found"."""
    fetch(call)
    found = disks.get_disk(call.db, owner(call), machine_id(call), _disk_id(call), call.now)
    return Reply(200, found)


def create_disk(call: Call) -> Reply:
    """CreateMachineDisk: with ``pci_slot``, 200 with the disk (``creating``) and its
    ``Location``; without, 202 and no body."""
    machine = fetch_live(call)["id"]
    size: int | str = disks.REMAINING
    if call.params.get("size") != disks.REMAINING:
        size = _mib(call, alternative=' or "remaining"')
    pci_slot = call.params.get("pci_slot")
    if pci_slot is not None and not (
        isinstance(pci_slot, str) and PCI_SLOT_PATTERN.fullmatch(pci_slot)
    ):
        raise invalid_argument(f"pci_slot must match {PCI_SLOT_PATTERN.pattern}")
    disk = disks.create_disk(call.db, owner(call), machine, size, pci_slot, job=job_context(call))
    if pci_slot is None:
        return Reply(202)
    location = f"/{call.login}/machines/{machine}/disks/{disk['id']}"
    return Reply(200, disk, {"Location": location})


def resize_disk(call: Call) -> Reply:
    """ResizeMachineDisk: 200 with the disk, ``resizing`` and still its old size."""
    machine = fetch_live(call)["id"]
    wanted = _disk_id(call)
    size = _mib(call)
    allow_shrink = call.params.get("dangerous_allow_shrink", False)
    if not isinstance(allow_shrink, bool):
        raise invalid_argument("dangerous_allow_shrink must be a boolean")
    resized = disks.resize_disk(
        call.db,
        owner(call),
        machine,
        wanted,
        size,
        allow_shrink=allow_shrink,
        job=job_context(call),
    )
    return Reply(200, resized)


def delete_disk(call: Call) -> Reply:
    """DeleteMachineDisk: 204; the disk is ``deleting`` until its job finishes."""
    machine = fetch_live(call)["id"]
    disks.delete_disk(call.db, owner(call), machine, _disk_id(call), job=job_context(call))
    return Reply(204)


ROUTES = [
    cloudapi_route(
        "ListMachineDisks",
        list_disks,
        since=DISK_SINCE,
        summary="List a machine's disks",
        head=True,
    ),
    cloudapi_route(
        "GetMachineDisk", get_disk, since=DISK_SINCE, summary="Get a machine disk", head=True
    ),
    cloudapi_route(
        "CreateMachineDisk",
        create_disk,
        since=DISK_SINCE,
        summary="Add a disk (the machine must be stopped)",
    ),
    cloudapi_route(
        "ResizeMachineDisk",
        resize_disk,
        since=DISK_SINCE,
        summary="Resize a disk (the machine must be stopped)",
    ),
    cloudapi_route(
        "DeleteMachineDisk",
        delete_disk,
        since=DISK_SINCE,
        summary="Delete a disk (the machine must be stopped)",
    ),
]
