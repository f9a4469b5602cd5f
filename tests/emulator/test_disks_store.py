"""Disk states while their jobs run, on an in-memory database with a hand-driven clock: a
disk job takes a fifth of the provision delay, and the disk shows what the job does until
then."""

from __future__ import annotations

from typing import Any

import pytest

from smartdc.emulator.context import EmulatorError
from smartdc.emulator.db import Database
from smartdc.emulator.store import catalog, disks, machines
from smartdc.emulator.store.nics import NicRequest
from tests.emulator.clock import T0

ACCOUNT = "5e1d7c3b-7f0a-4a5e-9b1c-2d3e4f5a6b7c"
OWNER = machines.Owner(ACCOUNT, "dc-1")
CALLER = {"type": "signature", "ip": "127.0.0.1", "keyId": "/test/keys/aa"}
DELAY = 10.0
#: Provisioning and stopping done.
SETTLED = T0 + DELAY * 1.5


@pytest.fixture
def machine(db: Database) -> dict[str, Any]:
    """A stopped bhyve machine on b1-flex-1G (boot disk 10240 MiB, data disk 15360 MiB)."""
    image = [i for i in catalog.list_images(db, ACCOUNT) if i["name"] == "debian-11"][-1]
    spec = machines.MachineSpec(
        image=image,
        package=catalog.find_package_by_name(db, ACCOUNT, "b1-flex-1G") or {},
        brand="bhyve",
        nics=[NicRequest(r) for r in catalog.list_networks(db, ACCOUNT)],
    )
    made = machines.create_machine(db, OWNER, spec, caller=CALLER, now=T0, provision_delay=DELAY)
    machines.queue_job(
        db, OWNER, made["id"], "stop", {}, caller=CALLER, now=T0 + DELAY, provision_delay=DELAY
    )
    return made


def job(at: float) -> machines.JobContext:
    return machines.JobContext(CALLER, at, DELAY)


def states(db: Database, machine: dict[str, Any], at: float) -> list[tuple[int, str]]:
    return [(d["size"], d["state"]) for d in disks.list_disks(db, OWNER, machine["id"], at)]


def test_resize_shows_resizing_and_the_old_size_until_done(
    db: Database, machine: dict[str, Any]
) -> None:
    data = disks.list_disks(db, OWNER, machine["id"], SETTLED)[1]
    resized = disks.resize_disk(
        db, OWNER, machine["id"], data["id"], 4096, allow_shrink=True, job=job(SETTLED)
    )
    assert (resized["size"], resized["state"]) == (15360, "resizing")
    assert states(db, machine, SETTLED + 1.99)[1] == (15360, "resizing")
    assert states(db, machine, SETTLED + 2) == [(10240, "stopped"), (4096, "stopped")]


def test_create_then_delete_show_their_states(db: Database, machine: dict[str, Any]) -> None:
    data = disks.list_disks(db, OWNER, machine["id"], SETTLED)[1]
    disks.resize_disk(
        db, OWNER, machine["id"], data["id"], 5120, allow_shrink=True, job=job(SETTLED)
    )
    # Jobs run one after another: the new disk waits for the resize, then takes 2 s.
    created = disks.create_disk(db, OWNER, machine["id"], "remaining", None, job=job(SETTLED))
    assert (created["size"], created["state"], created["pci_slot"]) == (10240, "creating", "0:4:2")
    assert states(db, machine, SETTLED + 3)[2] == (10240, "creating")
    assert states(db, machine, SETTLED + 4)[2] == (10240, "stopped")
    disks.delete_disk(db, OWNER, machine["id"], created["id"], job=job(SETTLED + 4))
    assert states(db, machine, SETTLED + 5)[2] == (10240, "deleting")
    assert len(states(db, machine, SETTLED + 6)) == 2


def test_a_disk_job_fails_when_the_machine_started_first(
    db: Database, machine: dict[str, Any]
) -> None:
    data = disks.list_disks(db, OWNER, machine["id"], SETTLED)[1]
    machines.queue_job(
        db, OWNER, machine["id"], "start", {}, caller=CALLER, now=SETTLED, provision_delay=DELAY
    )
    # Still stopped while the start job runs, so the resize is taken; it runs after the start
    # and fails on the running machine.
    disks.resize_disk(
        db, OWNER, machine["id"], data["id"], 4096, allow_shrink=True, job=job(SETTLED + 0.1)
    )
    assert states(db, machine, SETTLED + 10) == [(10240, "running"), (15360, "running")]
    audit = machines.audit(db, OWNER, machine["id"], SETTLED + 10)
    assert (audit[0]["action"], audit[0]["success"]) == ("resize_disk", "no")
    with pytest.raises(EmulatorError) as refused:
        disks.delete_disk(db, OWNER, machine["id"], data["id"], job=job(SETTLED + 10))
    assert (refused.value.status, refused.value.message) == (409, "VM must be stopped")
