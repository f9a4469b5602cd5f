"""The disks of an HVM machine; only a bhyve machine with a flexible disk package changes them.

A machine's disks live in its record (``disks``; a container has none, so its list is
empty); a flexible machine's disks together may use up to the package's disk quota.
Creating, resizing and deleting a disk are machine jobs (``create_disk``, ``resize_disk``,
``delete_disk`` in the audit) that need the machine stopped; while one is pending the disk
shows ``creating``, ``resizing`` or ``deleting``, otherwise the machine's state. Disks sit
on PCI slot ``0:4`` of the machine, functions 0-7, which is why a machine has at most eight.

HTTP-free; inputs are validated by the caller. Refusals are raised as CloudAPI passes
VMAPI's on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smartdc.emulator import lifecycle
from smartdc.emulator.context import EmulatorError, invalid_argument, not_found
from smartdc.emulator.db import Database
from smartdc.emulator.store import machines

MAX_DISKS = 8
BLOCK_SIZE = 8192
#: What a pending job shows as the state of the disk it works on.
_JOB_STATES = {"create_disk": "creating", "resize_disk": "resizing", "delete_disk": "deleting"}
#: ``size`` that takes whatever the quota has left.
REMAINING = "remaining"


def disk_not_found() -> EmulatorError:
    """VMAPI's 404 for a disk the machine does not have."""
    return not_found("disk not found")


def _slot(index: int) -> str:
    return f"0:4:{index}"


disk_id = machines.disk_id


def without_flexible_disk() -> EmulatorError:
    """VMAPI's 409 for a disk change on a machine whose package has no flexible disk."""
    return EmulatorError(
        409, "VmWithoutFlexibleDiskSize", "VM was not created with a flexible_disk_size"
    )


@dataclass(frozen=True)
class _Disks:
    """A machine's disks as of now: settled ones, pending jobs, and the machine."""

    machine: dict[str, Any]
    settled: list[dict[str, Any]]
    #: Pending disk jobs only, oldest first.
    pending: list[tuple[str, dict[str, Any]]]

    def _stored(self) -> list[dict[str, Any]]:
        return [*self.settled, *(p["disk"] for a, p in self.pending if a == "create_disk")]

    def render(self) -> list[dict[str, Any]]:
        """Disk objects, pending ones included, in slot order."""
        states: dict[str, str] = {}
        for action, params in self.pending:
            target = params["disk"]["id"] if action == "create_disk" else params["id"]
            states[target] = _JOB_STATES[action]
        disks = [
            {
                "id": d["id"],
                "pci_slot": d["pci_slot"],
                "size": d["size"],
                "block_size": d["block_size"],
                "boot": bool(d.get("boot", False)),
                "state": states.get(d["id"], self.machine["state"]),
            }
            for d in self._stored()
        ]
        return sorted(disks, key=lambda d: int(d["pci_slot"].rsplit(":", 1)[1]))

    def find(self, wanted: str) -> dict[str, Any]:
        for disk in self.render():
            if disk["id"] == wanted:
                return disk
        raise disk_not_found()

    def used(self) -> int:
        """MiB the disks will take once every pending job has finished."""
        sizes = {d["id"]: int(d["size"]) for d in self._stored()}
        for action, params in self.pending:
            if action == "resize_disk":
                sizes[params["id"]] = int(params["size"])
            elif action == "delete_disk":
                sizes.pop(params["id"], None)
        return sum(sizes.values())

    def free(self) -> int:
        return int(self.machine["disk"]) - self.used()

    def slots(self) -> set[str]:
        return {d["pci_slot"] for d in self._stored()}


def _load(db: Database, owner: machines.Owner, machine_id: str, now: float) -> _Disks:
    machine = machines.get_machine(db, owner, machine_id, now)
    settled = machines.stored_disks(db, owner, machine_id, now)
    for index, disk in enumerate(settled):  # kept before disks had slots: slot by position
        disk.setdefault("pci_slot", _slot(index))
    pending = [
        (action, params)
        for action, params in machines.pending_jobs(db, owner, machine_id, now)
        if action in _JOB_STATES
    ]
    return _Disks(machine, settled, pending)


def list_disks(
    db: Database, owner: machines.Owner, machine_id: str, now: float
) -> list[dict[str, Any]]:
    """The machine's disks, pending ones included, in PCI slot order."""
    with db.transaction():
        return _load(db, owner, machine_id, now).render()


def get_disk(
    db: Database, owner: machines.Owner, machine_id: str, wanted: str, now: float
) -> dict[str, Any]:
    """One disk of the machine; 404 "disk not found"."""
    with db.transaction():
        return _load(db, owner, machine_id, now).find(wanted)


def _require_stopped(disks: _Disks, action: str) -> None:
    lifecycle.check_allocated(action, disks.machine["state"])
    if disks.machine["state"] != lifecycle.STOPPED:
        raise invalid_argument("VM must be stopped")


def _require_flexible(disks: _Disks, verb: str) -> None:
    """VMAPI's checks after CloudAPI's: a bhyve machine, with a flexible disk package."""
    if disks.machine["brand"] != "bhyve":
        raise EmulatorError(409, "BrandNotSupported", f"Can only {verb} disks on bhyve VMs")
    if not disks.machine.get("flexible"):
        raise without_flexible_disk()


def _queue(
    db: Database,
    owner: machines.Owner,
    machine_id: str,
    action: str,
    params: dict[str, Any],
    job: machines.JobContext,
) -> None:
    machines.queue_job(
        db,
        owner,
        machine_id,
        action,
        params,
        caller=job.caller,
        now=job.now,
        provision_delay=job.provision_delay,
    )


def create_disk(
    db: Database,
    owner: machines.Owner,
    machine_id: str,
    size: int | str,
    pci_slot: str | None,
    *,
    job: machines.JobContext,
) -> dict[str, Any]:
    """Queue the job that adds a disk of ``size`` MiB (or ``"remaining"``) at ``pci_slot``
    (default: the lowest free one); return the disk, ``creating``."""
    with db.transaction():
        disks = _load(db, owner, machine_id, job.now)
        if disks.machine["brand"] != "bhyve":  # as sdc-cloudapi lib/endpoints/disks.js
            raise invalid_argument("Disk Creation is supported only for BHYVE VMs")
        _require_stopped(disks, "create_disk")
        taken = disks.slots()
        if len(taken) >= MAX_DISKS:
            raise invalid_argument(f"A maximum of {MAX_DISKS} disks per VM are supported")
        if size == REMAINING and not disks.machine.get("flexible"):
            raise invalid_argument(
                "remaining is only supported for VMs created with flexible_disk_size packages"
            )
        _require_flexible(disks, "create")
        if pci_slot is None:
            pci_slot = next(_slot(i) for i in range(MAX_DISKS) if _slot(i) not in taken)
        elif pci_slot in taken:
            raise invalid_argument(f"pci_slot {pci_slot} is already in use")
        free = disks.free()
        wanted = free if size == REMAINING else int(size)
        if wanted <= 0:
            raise invalid_argument("VM has no disk space left")
        if wanted > free:
            raise invalid_argument(f"size {wanted} MiB exceeds the {free} MiB of space left")
        new_id = disk_id(machine_id, pci_slot)
        disk = {
            "id": new_id,
            "boot": False,
            "size": wanted,
            "block_size": BLOCK_SIZE,
            "pci_slot": pci_slot,
        }
        _queue(db, owner, machine_id, "create_disk", {"disk": disk}, job)
        return _load(db, owner, machine_id, job.now).find(new_id)


def resize_disk(
    db: Database,
    owner: machines.Owner,
    machine_id: str,
    wanted: str,
    size: int,
    *,
    allow_shrink: bool,
    job: machines.JobContext,
) -> dict[str, Any]:
    """Queue the job that sets the disk to ``size`` MiB; return the disk, ``resizing`` and
    still its old size. Shrinking needs ``allow_shrink``."""
    with db.transaction():
        disks = _load(db, owner, machine_id, job.now)
        current = disks.find(wanted)
        _require_stopped(disks, "resize_disk")
        _require_flexible(disks, "resize")
        if size < current["size"] and not allow_shrink:
            raise invalid_argument(
                f"disk {wanted} cannot shrink from {current['size']} to {size} MiB"
                " without dangerous_allow_shrink"
            )
        room = disks.free() + int(current["size"])
        if size > room:
            raise invalid_argument(f"size {size} MiB exceeds the {room} MiB this disk can have")
        _queue(db, owner, machine_id, "resize_disk", {"id": wanted, "size": size}, job)
        return _load(db, owner, machine_id, job.now).find(wanted)


def delete_disk(
    db: Database, owner: machines.Owner, machine_id: str, wanted: str, *, job: machines.JobContext
) -> None:
    """Queue the job that removes the disk (not the boot disk)."""
    with db.transaction():
        disks = _load(db, owner, machine_id, job.now)
        disk = disks.find(wanted)
        _require_stopped(disks, "delete_disk")
        if disk["boot"]:
            raise invalid_argument("the boot disk cannot be deleted")
        _require_flexible(disks, "delete")
        _queue(db, owner, machine_id, "delete_disk", {"id": wanted}, job)
