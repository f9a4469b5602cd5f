"""The machine store and lifecycle on an in-memory database with a hand-driven clock."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from smartdc.emulator.context import EmulatorError
from smartdc.emulator.db import Database
from smartdc.emulator.store import catalog, machines
from smartdc.emulator.store.nics import NicRequest
from tests.emulator.clock import Clock
from tests.emulator.sqlite_work import sqlite_steps

ACCOUNT = "5e1d7c3b-7f0a-4a5e-9b1c-2d3e4f5a6b7c"
OWNER = machines.Owner(ACCOUNT, "dc-1")
CALLER = {"type": "signature", "ip": "127.0.0.1", "keyId": "/test/keys/aa"}
DELAY = 10.0


def _image(db: Database, name: str = "base-64-lts") -> dict[str, Any]:
    return [i for i in catalog.list_images(db, ACCOUNT) if i["name"] == name][-1]


def _built_from(db: Database, image: str, package: str, brand: str) -> dict[str, Any]:
    """MachineSpec overrides for a machine of another image, package and brand."""
    return {
        "image": _image(db, image),
        "package": catalog.find_package_by_name(db, ACCOUNT, package),
        "brand": brand,
    }


def _spec(db: Database, **overrides: Any) -> machines.MachineSpec:
    records = catalog.list_networks(db, ACCOUNT)
    values: dict[str, Any] = {
        "image": _image(db),
        "package": catalog.find_package_by_name(db, ACCOUNT, "g4-highcpu-1G"),
        "brand": "joyent",
        "nics": [NicRequest(r) for r in records],
    }
    values.update(overrides)
    return machines.MachineSpec(**values)


def _create(
    db: Database, clock: Clock, owner: machines.Owner = OWNER, **overrides: Any
) -> dict[str, Any]:
    return machines.create_machine(
        db, owner, _spec(db, **overrides), caller=CALLER, now=clock.now, provision_delay=DELAY
    )


def _get(db: Database, clock: Clock, machine_id: str) -> dict[str, Any]:
    return machines.get_machine(db, OWNER, machine_id, clock.now)


def _queue(db: Database, clock: Clock, machine_id: str, action: str, **params: Any) -> str:
    return machines.queue_job(
        db, OWNER, machine_id, action, params, caller=CALLER, now=clock.now, provision_delay=DELAY
    )


def _running(db: Database, clock: Clock, **overrides: Any) -> dict[str, Any]:
    created = _create(db, clock, **overrides)
    clock.advance(DELAY)
    return _get(db, clock, created["id"])


def _audit(db: Database, clock: Clock, machine_id: str) -> list[dict[str, Any]]:
    return machines.audit(db, OWNER, machine_id, clock.now)


def test_provisioning_then_running(db: Database, clock: Clock) -> None:
    created = _create(db, clock, name="web-1", tags={"role": "web", "n": 3})
    assert created["state"] == "provisioning"
    assert created["ips"] == [] and created["networks"] == []
    assert "nics" not in created and "primaryIp" not in created and "compute_node" not in created
    assert created["name"] == "web-1" and created["package"] == "g4-highcpu-1G"
    assert (created["type"], created["memory"], created["disk"]) == ("smartmachine", 1024, 25600)
    assert created["created"] == "2023-11-14T22:13:20.000Z" == created["updated"]
    clock.advance(DELAY - 0.01)
    assert _get(db, clock, created["id"])["state"] == "provisioning"
    clock.advance(0.011)
    machine = _get(db, clock, created["id"])
    assert machine["state"] == "running"
    assert machine["ips"] == ["198.18.0.10", "10.64.0.10"]
    assert machine["networks"] == [catalog.PUBLIC_NETWORK_ID, catalog.PRIVATE_NETWORK_ID]
    assert machine["primaryIp"] == "198.18.0.10"
    assert [n["primary"] for n in machine["nics"]] == [True, False]
    assert machine["nics"][0]["mac"].startswith("90:b8:d0:")
    assert machine["nics"][0]["state"] == "running"
    assert machine["compute_node"]
    assert machine["updated"] == "2023-11-14T22:13:30.000Z"
    assert machine["tags"] == {"role": "web", "n": 3}
    entry = _audit(db, clock, created["id"])[0]
    assert entry == {
        "action": "provision",
        "success": "yes",
        "time": "2023-11-14T22:13:30.000Z",
        "caller": CALLER,
    }


def test_default_name_is_the_short_id(db: Database, clock: Clock) -> None:
    plain = _create(db, clock)
    assert plain["name"] == plain["id"][:8]
    templated = _create(db, clock, name="web-{{shortId}}")
    assert templated["name"] == f"web-{templated['id'][:8]}"


def test_stop_start_reboot_with_transitional_states(db: Database, clock: Clock) -> None:
    machine_id = _running(db, clock)["id"]
    _queue(db, clock, machine_id, "stop")
    clock.advance(1)
    assert _get(db, clock, machine_id)["state"] == "stopping"
    clock.advance(DELAY / 2)
    stopped = _get(db, clock, machine_id)
    assert stopped["state"] == "stopped" and stopped["nics"][0]["state"] == "stopped"
    _queue(db, clock, machine_id, "start")
    assert _get(db, clock, machine_id)["state"] == "stopped"  # start has no in-between state
    clock.advance(DELAY / 2)
    assert _get(db, clock, machine_id)["state"] == "running"
    _queue(db, clock, machine_id, "reboot")
    clock.advance(1)
    assert _get(db, clock, machine_id)["state"] == "stopping"
    clock.advance(DELAY / 2)
    assert _get(db, clock, machine_id)["state"] == "running"
    actions = [(e["action"], e["success"]) for e in _audit(db, clock, machine_id)]
    assert actions == [("reboot", "yes"), ("start", "yes"), ("stop", "yes"), ("provision", "yes")]


def test_wrong_state_action_fails_later_in_the_audit(db: Database, clock: Clock) -> None:
    machine_id = _running(db, clock)["id"]
    _queue(db, clock, machine_id, "start")  # already running: accepted, then fails
    clock.advance(DELAY)
    assert _get(db, clock, machine_id)["state"] == "running"
    newest = _audit(db, clock, machine_id)[0]
    assert (newest["action"], newest["success"]) == ("start", "no")


def test_jobs_run_one_after_another(db: Database, clock: Clock) -> None:
    machine_id = _running(db, clock)["id"]
    _queue(db, clock, machine_id, "stop")
    _queue(db, clock, machine_id, "start")  # starts once the stop has finished
    clock.advance(DELAY)
    assert _get(db, clock, machine_id)["state"] == "running"
    actions = [(e["action"], e["success"]) for e in _audit(db, clock, machine_id)][:2]
    assert actions == [("start", "yes"), ("stop", "yes")]


def test_zero_delay_jobs_finish_strictly_after_the_request(db: Database) -> None:
    clock = Clock()
    clock.now = 1_700_000_123.0  # on a whole second, like a Date header
    created = machines.create_machine(
        db, OWNER, _spec(db), caller=CALLER, now=clock.now, provision_delay=0
    )
    machines.get_machine(db, OWNER, created["id"], clock.now + 0.001)
    machines.queue_job(
        db, OWNER, created["id"], "reboot", {}, caller=CALLER, now=clock.now, provision_delay=0
    )
    entry = machines.audit(db, OWNER, created["id"], clock.now + 0.002)[0]
    assert entry["action"] == "reboot"
    assert entry["time"] > "2023-11-14T22:15:23.000Z"


def test_actions_while_provisioning_are_refused(db: Database, clock: Clock) -> None:
    machine_id = _create(db, clock)["id"]
    with pytest.raises(EmulatorError) as caught:
        _queue(db, clock, machine_id, "stop")
    assert (caught.value.status, caught.value.code) == (409, "UnallocatedVM")
    assert caught.value.message == "Cannot call stop for a VM that has not been provisioned yet"
    with pytest.raises(EmulatorError) as caught:
        machines.delete_machine(
            db, OWNER, machine_id, caller=CALLER, now=clock.now, provision_delay=DELAY
        )
    assert (caught.value.code, caught.value.message) == (
        "Conflict",
        "Cannot delete a VM with no server_uuid",
    )
    # Tags and metadata go through other VMAPI endpoints: they wait for the provision job.
    _queue(db, clock, machine_id, "set_tags", values={"a": "b"})
    clock.advance(DELAY + DELAY / 5)
    assert _get(db, clock, machine_id)["tags"] == {"a": "b"}


def test_delete_goes_through_stopping_then_410_body(db: Database, clock: Clock) -> None:
    machine_id = _running(db, clock)["id"]
    job = machines.delete_machine(
        db, OWNER, machine_id, caller=CALLER, now=clock.now, provision_delay=DELAY
    )
    assert job is not None
    assert (
        machines.delete_machine(
            db, OWNER, machine_id, caller=CALLER, now=clock.now, provision_delay=DELAY
        )
        is None
    )
    clock.advance(1)
    assert _get(db, clock, machine_id)["state"] == "stopping"
    clock.advance(DELAY / 2)
    deleted = _get(db, clock, machine_id)
    assert deleted["state"] == "deleted"
    with pytest.raises(EmulatorError) as caught:
        machines.delete_machine(
            db, OWNER, machine_id, caller=CALLER, now=clock.now, provision_delay=DELAY
        )
    assert caught.value.status == 410 and caught.value.body["id"] == machine_id
    assert _audit(db, clock, machine_id)[0]["action"] == "destroy"
    # The address is free again for the next machine.
    again = _running(db, clock)
    assert again["ips"][0] == deleted["ips"][0]


def test_deletion_protection_blocks_delete(db: Database, clock: Clock) -> None:
    machine_id = _running(db, clock, deletion_protection=True)["id"]
    with pytest.raises(EmulatorError) as caught:
        machines.delete_machine(
            db, OWNER, machine_id, caller=CALLER, now=clock.now, provision_delay=DELAY
        )
    assert (caught.value.status, caught.value.code) == (409, "CannotDestroyMachineError")
    assert caught.value.message == (
        'Instance has "deletion_protection" enabled, preventing deletion'
    )
    _queue(db, clock, machine_id, "disable_deletion_protection")
    clock.advance(DELAY)
    assert _get(db, clock, machine_id)["deletion_protection"] is False
    assert machines.delete_machine(
        db, OWNER, machine_id, caller=CALLER, now=clock.now, provision_delay=DELAY
    )


def test_failed_provision(db: Database, clock: Clock) -> None:
    machine_id = _create(db, clock, fail_provision=True)["id"]
    clock.advance(DELAY)
    machine = _get(db, clock, machine_id)
    assert machine["state"] == "failed" and machine["ips"] == []
    assert _audit(db, clock, machine_id)[0]["success"] == "no"
    assert machines.list_machines(db, OWNER, machines.MachineQuery(), clock.now) == []
    machines.delete_machine(
        db, OWNER, machine_id, caller=CALLER, now=clock.now, provision_delay=DELAY
    )
    clock.advance(DELAY)
    assert _get(db, clock, machine_id)["state"] == "deleted"


def test_updates_land_when_the_job_finishes(db: Database, clock: Clock) -> None:
    machine_id = _running(db, clock, metadata={"a": "1"})["id"]
    _queue(db, clock, machine_id, "set_metadata", values={"b": "2"})
    _queue(db, clock, machine_id, "set_tags", values={"t": True})
    _queue(db, clock, machine_id, "rename", name="renamed")
    big = catalog.find_package_by_name(db, ACCOUNT, "g4-highcpu-2G")
    _queue(db, clock, machine_id, "resize", package=big)
    _queue(db, clock, machine_id, "unknown", enabled=True)
    assert _get(db, clock, machine_id)["metadata"] == {"a": "1"}
    clock.advance(DELAY)
    machine = _get(db, clock, machine_id)
    assert machine["metadata"] == {"a": "1", "b": "2"}
    assert machine["tags"] == {"t": True}
    assert machine["name"] == "renamed"
    assert (machine["package"], machine["memory"], machine["disk"]) == (
        "g4-highcpu-2G",
        2048,
        51200,
    )
    assert machine["firewall_enabled"] is True
    _queue(db, clock, machine_id, "remove_metadata", keys=["a"])
    _queue(db, clock, machine_id, "replace_tags", values={"x": "y"})
    clock.advance(DELAY)
    machine = _get(db, clock, machine_id)
    assert machine["metadata"] == {"b": "2"} and machine["tags"] == {"x": "y"}
    actions = [e["action"] for e in _audit(db, clock, machine_id)]
    assert actions[:2] == ["replace_tags", "remove_metadata"]


def test_names_are_validated_and_unique_per_owner(db: Database, clock: Clock) -> None:
    _create(db, clock, name="taken")
    with pytest.raises(EmulatorError) as caught:
        _create(db, clock, name="taken")
    assert (caught.value.status, caught.value.code) == (409, "ValidationFailed")
    assert caught.value.body["errors"][0]["code"] == "Duplicate"
    with pytest.raises(EmulatorError) as caught:
        _create(db, clock, name="-bad name")
    assert caught.value.message == "Invalid VM parameters: Invalid machine name"
    other_dc = machines.Owner(ACCOUNT, "dc-2")
    assert _create(db, clock, owner=other_dc, name="taken")["name"] == "taken"
    second = _running(db, clock, name="second")
    with pytest.raises(EmulatorError) as caught:
        _queue(db, clock, second["id"], "rename", name="taken")
    assert caught.value.code == "ValidationFailed"


def test_addresses_are_unique_per_datacenter(db: Database, clock: Clock) -> None:
    first = _running(db, clock)
    second = _running(db, clock)
    assert first["ips"] != second["ips"]
    assert second["ips"] == ["198.18.0.11", "10.64.0.11"]
    other = machines.create_machine(
        db,
        machines.Owner(ACCOUNT, "dc-2"),
        _spec(db),
        caller=CALLER,
        now=clock.now,
        provision_delay=0,
    )
    shown = machines.get_machine(db, machines.Owner(ACCOUNT, "dc-2"), other["id"], clock.now + 1)
    assert shown["ips"] == first["ips"]


def test_a_requested_private_address_is_honoured_once(db: Database, clock: Clock) -> None:
    private = catalog.get_network(db, ACCOUNT, catalog.PRIVATE_NETWORK_ID)
    assert private is not None
    machine = _running(db, clock, nics=[NicRequest(private, "10.64.3.3")])
    assert machine["ips"] == ["10.64.3.3"] and machine["nics"][0]["primary"] is True
    with pytest.raises(EmulatorError) as caught:
        _create(db, clock, nics=[NicRequest(private, "10.64.3.3")])
    assert caught.value.status == 422
    assert caught.value.body["errors"] == [
        {"field": "ip", "code": "UsedBy", "message": "IP in use"}
    ]


def test_other_owners_see_404(db: Database, clock: Clock) -> None:
    machine_id = _create(db, clock)["id"]
    for owner in (machines.Owner("someone-else", "dc-1"), machines.Owner(ACCOUNT, "dc-2")):
        with pytest.raises(EmulatorError) as caught:
            machines.get_machine(db, owner, machine_id, clock.now)
        assert (caught.value.status, caught.value.message) == (404, "VM not found")


def test_snapshot_lifecycle(db: Database, clock: Clock) -> None:
    machine_id = _running(db, clock)["id"]

    def snapshot(name: str) -> dict[str, Any] | None:
        return machines.get_snapshot(db, OWNER, machine_id, name, clock.now)

    created = machines.create_snapshot(
        db, OWNER, machine_id, "s1", caller=CALLER, now=clock.now, provision_delay=DELAY
    )
    assert created == {"name": "s1", "state": "queued"}
    assert snapshot("s1")["state"] == "running"  # type: ignore[index]
    assert machines.list_snapshots(db, OWNER, machine_id, clock.now) == []
    clock.advance(DELAY)
    assert snapshot("s1")["state"] == "created"  # type: ignore[index]
    listed = machines.list_snapshots(db, OWNER, machine_id, clock.now)
    assert listed == [
        {
            "name": "s1",
            "state": "created",
            "created": "2023-11-14T22:13:30.000Z",
            "updated": "2023-11-14T22:13:30.000Z",
        }
    ]
    assert snapshot("never") is None
    # A second snapshot with the same name fails.
    machines.create_snapshot(
        db, OWNER, machine_id, "s1", caller=CALLER, now=clock.now, provision_delay=DELAY
    )
    clock.advance(DELAY)
    assert _audit(db, clock, machine_id)[0] == {
        **_audit(db, clock, machine_id)[0],
        "action": "create_snapshot",
        "success": "no",
    }
    _queue(db, clock, machine_id, "stop")
    _queue(db, clock, machine_id, "rollback_snapshot", name="s1")
    clock.advance(DELAY)
    assert _get(db, clock, machine_id)["state"] == "running"
    assert _audit(db, clock, machine_id)[0]["action"] == "rollback_snapshot"
    _queue(db, clock, machine_id, "delete_snapshot", name="s1")
    clock.advance(DELAY)
    assert snapshot("s1")["state"] == "deleted"  # type: ignore[index]
    assert not machines.snapshot_exists(db, OWNER, machine_id, "s1", clock.now)


def test_kvm_cannot_be_snapshotted(db: Database, clock: Clock) -> None:
    machine_id = _running(db, clock, **_built_from(db, "centos-7", "k4-highcpu-kvm-1.75G", "kvm"))[
        "id"
    ]
    with pytest.raises(EmulatorError) as caught:
        machines.create_snapshot(
            db, OWNER, machine_id, "s", caller=CALLER, now=clock.now, provision_delay=DELAY
        )
    assert (caught.value.status, caught.value.code) == (409, "BrandNotSupported")


def test_flexible_bhyve_machine_has_disks(db: Database, clock: Clock) -> None:
    machine = _running(db, clock, **_built_from(db, "debian-11", "b1-flex-1G", "bhyve"))
    assert machine["type"] == "virtualmachine" and machine["flexible"] is True
    assert [(d.get("boot"), d["size"]) for d in machine["disks"]] == [(True, 10240), (None, 15360)]
    assert machine["free_space"] == 0


def test_list_filters_and_order(db: Database, clock: Clock) -> None:
    web = _running(db, clock, name="web", tags={"role": "web", "on": True})
    db_machine = _running(db, clock, name="db", tags={"role": "db"})
    kvm = _running(
        db, clock, name="vm", **_built_from(db, "centos-7", "k4-highcpu-kvm-1.75G", "kvm")
    )
    _queue(db, clock, db_machine["id"], "stop")
    gone = _running(db, clock, name="gone")
    machines.delete_machine(
        db, OWNER, gone["id"], caller=CALLER, now=clock.now, provision_delay=DELAY
    )
    clock.advance(DELAY)

    def names(**query: Any) -> list[str]:
        found = machines.list_machines(db, OWNER, machines.MachineQuery(**query), clock.now)
        return [m["name"] for m in found]

    everything = machines.list_machines(db, OWNER, machines.MachineQuery(), clock.now)
    assert [m["id"] for m in everything] == sorted(
        (web["id"], db_machine["id"], kvm["id"]), reverse=True
    )
    assert names(states=frozenset({"stopped"})) == ["db"]
    assert names(states=frozenset({"deleted"})) == ["gone"]
    assert sorted(names(active_only=False)) == ["db", "gone", "vm", "web"]
    assert names(type="virtualmachine") == ["vm"]
    assert sorted(names(type="smartmachine")) == ["db", "web"]
    assert names(brand="kvm") == ["vm"]
    assert names(name="web") == ["web"]
    assert names(image=kvm["image"]) == ["vm"]
    assert names(memory=1792) == ["vm"]
    assert names(docker=True) == []
    assert names(tags={"role": "web"}) == ["web"]
    assert names(tags={"on": "true"}) == ["web"]
    assert sorted(names(any_tag=True)) == ["db", "web"]


def test_listing_many_machines_is_quick(db: Database, clock: Clock) -> None:
    started = time.monotonic()
    spec = _spec(db)
    for _ in range(1100):
        machines.create_machine(db, OWNER, spec, caller=CALLER, now=clock.now, provision_delay=0)
    found = machines.list_machines(db, OWNER, machines.MachineQuery(), clock.now + 1)
    assert len(found) == 1100 and all(m["state"] == "running" for m in found)
    assert len({m["ips"][0] for m in found}) == 1100
    assert time.monotonic() - started < 20


def test_reads_commit_nothing_once_due_work_is_applied(db: Database, clock: Clock) -> None:
    commits: list[int] = []
    db.add_commit_listener(lambda: commits.append(1))

    def read_three_times(state: str) -> None:
        for _ in range(3):
            assert _get(db, clock, created["id"])["state"] == state
            listed = machines.list_machines(db, OWNER, machines.MachineQuery(), clock.now)
            assert [m["id"] for m in listed] == [created["id"]]
            _audit(db, clock, created["id"])

    created = _create(db, clock, name="quiet")
    # No scheduler runs here: the first read applies what is due (the job starting), once.
    assert _get(db, clock, created["id"])["state"] == "provisioning"
    applied = len(commits)
    read_three_times("provisioning")
    assert len(commits) == applied
    clock.advance(DELAY)
    assert _get(db, clock, created["id"])["state"] == "running"
    assert len(commits) > applied
    applied = len(commits)
    read_three_times("running")
    assert len(commits) == applied


def test_reads_go_on_while_another_connection_writes(tmp_path: Path, clock: Clock) -> None:
    db = Database(tmp_path / "emulator.sqlite3")
    try:
        created = _create(db, clock, name="busy")
        clock.advance(DELAY)
        assert _get(db, clock, created["id"])["state"] == "running"
        other = sqlite3.connect(tmp_path / "emulator.sqlite3", isolation_level=None, timeout=0)
        other.execute("BEGIN IMMEDIATE")  # holds the database's write lock
        try:
            assert _get(db, clock, created["id"])["state"] == "running"
            listed = machines.list_machines(db, OWNER, machines.MachineQuery(), clock.now)
            assert [m["id"] for m in listed] == [created["id"]]
            assert _audit(db, clock, created["id"])[0]["action"] == "provision"
        finally:
            other.execute("ROLLBACK")
            other.close()
    finally:
        db.close()


def test_the_compute_node_comes_a_fifth_into_the_provision(db: Database, clock: Clock) -> None:
    created = _create(db, clock, name="placed")
    others = [_create(db, clock) for _ in range(30)]  # provisions still owed their allocation
    # The provision starts at once; its next step is the allocation, a fifth of DELAY in.
    assert machines.settle_due(db, clock.now) == int(clock.now * 1000 + DELAY * 1000 / 5)
    clock.advance(DELAY / 5 - 0.01)
    assert "compute_node" not in _get(db, clock, created["id"])
    clock.advance(0.01)
    machine = _get(db, clock, created["id"])
    assert machine["state"] == "provisioning" and machine["compute_node"]
    assert all(_get(db, clock, m["id"])["compute_node"] for m in others)
    # Nothing but the provisions' ends is left to do.
    assert machines.settle_due(db, clock.now) == int((clock.now - DELAY / 5 + DELAY) * 1000)
    clock.advance(DELAY)
    assert _get(db, clock, created["id"])["state"] == "running"
    assert machines.settle_due(db, clock.now) is None


def test_provisions_of_a_data_directory_from_before_allocation_times_are_allocated(
    tmp_path: Path, clock: Clock
) -> None:
    path = tmp_path / "emulator.sqlite3"
    db = Database(path)
    created = _create(db, clock, name="older")
    db.close()
    old = sqlite3.connect(path)  # as an emulator without machine_jobs.allocate_ms left it
    old.executescript(
        """
        DROP TRIGGER machine_job_allocation_owed;
        DROP TRIGGER machine_job_allocation_moved;
        DROP INDEX machine_jobs_allocations;
        ALTER TABLE machine_jobs DROP COLUMN allocate_ms;
        """
    )
    old.close()
    db = Database(path)
    try:
        clock.advance(DELAY / 5 - 0.01)
        assert "compute_node" not in _get(db, clock, created["id"])
        clock.advance(0.01)
        assert _get(db, clock, created["id"])["compute_node"]
        clock.advance(DELAY)
        assert _get(db, clock, created["id"])["state"] == "running"
    finally:
        db.close()


def test_a_create_does_the_same_work_however_many_provisions_are_pending(
    db: Database, clock: Clock
) -> None:
    spec = _spec(db)

    def create() -> object:
        return machines.create_machine(
            db, OWNER, spec, caller=CALLER, now=clock.now, provision_delay=60
        )

    for _ in range(50):
        create()
    early = sqlite_steps(db, create)
    for _ in range(600):
        create()
    late = sqlite_steps(db, create)
    # Looking at every pending provision made each create's work grow with their number.
    assert late < early * 2, (early, late)


def test_a_tag_write_does_the_same_work_however_long_the_machines_history(
    db: Database, clock: Clock
) -> None:
    machine_id = _running(db, clock)["id"]

    def write_tag(n: int) -> None:
        _queue(db, clock, machine_id, "set_tags", values={f"t{n % 20}": str(n)})
        clock.advance(DELAY)
        _get(db, clock, machine_id)

    for n in range(50):
        write_tag(n)
    early = sqlite_steps(db, lambda: write_tag(50))
    for n in range(600):
        write_tag(n)
    late = sqlite_steps(db, lambda: write_tag(650))
    assert _get(db, clock, machine_id)["tags"]["t10"] == "650"
    assert len(_audit(db, clock, machine_id)) > 650
    # Reading every job the machine ever had made each write's work grow with its history.
    assert late < early * 2, (early, late)
