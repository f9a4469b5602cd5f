"""The migration store on an in-memory database with a hand-driven clock.

With a provision delay of 10 s each of begin, sync and switch takes 5 s and abort 2 s.
"""

from __future__ import annotations

from typing import Any

import pytest

from smartdc.emulator.context import EmulatorError
from smartdc.emulator.db import Database
from smartdc.emulator.store import catalog, machines, migrations
from smartdc.emulator.store.nics import NicRequest
from tests.emulator.clock import Clock

ACCOUNT = "6f1d7c3b-7f0a-4a5e-9b1c-2d3e4f5a6b7c"
OWNER = machines.Owner(ACCOUNT, "dc-1")
STRANGER = machines.Owner("7a2e8d4c-8a1b-4b6f-8c2d-3e4f5a6b7c8d", "dc-1")
CALLER = {"type": "signature", "ip": "127.0.0.1", "keyId": "/test/keys/aa"}
DELAY = 10.0
PHASE = DELAY / 2


def _machine(db: Database, clock: Clock, *, settle: bool = True) -> dict[str, Any]:
    image = [i for i in catalog.list_images(db, ACCOUNT) if i["name"] == "base-64-lts"][-1]
    package = catalog.find_package_by_name(db, ACCOUNT, "g4-highcpu-1G")
    assert package is not None
    spec = machines.MachineSpec(
        image=image,
        package=package,
        brand="joyent",
        nics=[NicRequest(r) for r in catalog.list_networks(db, ACCOUNT)],
    )
    created = machines.create_machine(
        db, OWNER, spec, caller=CALLER, now=clock.now, provision_delay=DELAY
    )
    if not settle:
        return created
    clock.advance(DELAY)
    return machines.get_machine(db, OWNER, created["id"], clock.now)


def _migrate(db: Database, clock: Clock, machine: dict[str, Any], action: str) -> Any:
    job = machines.JobContext(CALLER, clock.now, DELAY)
    return migrations.migrate(db, OWNER, machine["id"], action, job=job)


def _get(db: Database, clock: Clock, machine: dict[str, Any]) -> dict[str, Any]:
    return migrations.get_migration(db, OWNER, machine["id"], clock.now)


def _refusal(db: Database, clock: Clock, machine: dict[str, Any], action: str) -> tuple[Any, ...]:
    with pytest.raises(EmulatorError) as caught:
        _migrate(db, clock, machine, action)
    return caught.value.status, caught.value.code, caught.value.message


def _compute_node(db: Database, clock: Clock, machine: dict[str, Any]) -> str:
    return str(machines.get_machine(db, OWNER, machine["id"], clock.now)["compute_node"])


def test_begin_sync_switch_finalize(db: Database, clock: Clock) -> None:
    machine = _machine(db, clock)
    source = machine["compute_node"]
    begun = _migrate(db, clock, machine, "begin")
    assert begun["machine"] == machine["id"]
    assert (begun["phase"], begun["state"], begun["automatic"]) == ("begin", "running", False)
    assert list(begun) == [
        "automatic",
        "created_timestamp",
        "duration_ms",
        "phase",
        "state",
        "progress_history",
        "machine",
    ]
    assert begun["progress_history"][0]["current_progress"] == 0

    clock.advance(PHASE * 0.4)
    halfway = _get(db, clock, machine)["progress_history"]
    assert [(e["phase"], e["state"], e["current_progress"]) for e in halfway] == [
        ("begin", "running", 40)
    ]
    clock.advance(PHASE * 0.6)
    paused = _get(db, clock, machine)
    assert (paused["phase"], paused["state"]) == ("begin", "paused")
    assert paused["finished_timestamp"] == paused["progress_history"][0]["finished_timestamp"]
    assert paused["duration_ms"] == PHASE * 1000

    assert _migrate(db, clock, machine, "sync")["phase"] == "sync"
    clock.advance(PHASE)
    assert _get(db, clock, machine)["state"] == "paused"
    assert _compute_node(db, clock, machine) == source

    switched = _migrate(db, clock, machine, "switch")
    assert (switched["phase"], switched["state"]) == ("switch", "running")
    clock.advance(PHASE)
    done = _get(db, clock, machine)
    assert (done["phase"], done["state"]) == ("switch", "successful")
    assert [(e["phase"], e["state"]) for e in done["progress_history"]] == [
        ("begin", "successful"),
        ("sync", "successful"),
        ("switch", "successful"),
    ]
    target = _compute_node(db, clock, machine)
    assert target != source
    assert target in machines.compute_nodes("dc-1")

    assert _migrate(db, clock, machine, "finalize") is None
    assert migrations.list_migrations(db, OWNER, clock.now) == []
    assert _refusal(db, clock, machine, "sync") == (404, "ResourceNotFound", "migration not found")
    audit = machines.audit(db, OWNER, machine["id"], clock.now)
    assert [e["action"] for e in audit[:3]] == ["migrate-switch", "migrate-sync", "migrate-begin"]
    assert all(e["success"] == "yes" for e in audit)


def test_automatic_runs_every_phase(db: Database, clock: Clock) -> None:
    machine = _machine(db, clock)
    started = _migrate(db, clock, machine, "automatic")
    assert (started["phase"], started["state"], started["automatic"]) == (
        "begin",
        "running",
        True,
    )
    clock.advance(PHASE + 1)
    assert (_get(db, clock, machine)["phase"], _get(db, clock, machine)["state"]) == (
        "sync",
        "running",
    )
    clock.advance(PHASE * 2)
    done = _get(db, clock, machine)
    assert (done["phase"], done["state"]) == ("switch", "successful")
    assert _compute_node(db, clock, machine) != machine["compute_node"]


def test_pause_stops_an_automatic_migration_during_sync(db: Database, clock: Clock) -> None:
    machine = _machine(db, clock)
    _migrate(db, clock, machine, "automatic")
    assert _refusal(db, clock, machine, "pause") == (
        412,
        "PreconditionFailed",
        "Pause requires a running migration sync action",
    )
    clock.advance(PHASE + 1)
    paused = _migrate(db, clock, machine, "pause")
    assert (paused["phase"], paused["state"]) == ("sync", "paused")
    assert paused["progress_history"][-1]["duration_ms"] == 1000
    clock.advance(PHASE * 3)
    assert _get(db, clock, machine)["state"] == "paused"
    assert _compute_node(db, clock, machine) == machine["compute_node"]
    assert _migrate(db, clock, machine, "switch")["phase"] == "switch"


def test_abort_returns_to_the_source(db: Database, clock: Clock) -> None:
    machine = _machine(db, clock)
    _migrate(db, clock, machine, "begin")
    assert _refusal(db, clock, machine, "abort") == (
        412,
        "PreconditionFailed",
        "Abort cannot work on a running migration",
    )
    clock.advance(PHASE)
    aborting = _migrate(db, clock, machine, "abort")
    assert (aborting["phase"], aborting["state"]) == ("abort", "running")
    watched = migrations.watch_point(db, OWNER, machine["id"], clock.now)
    assert watched.running and watched.due == pytest.approx(clock.now + DELAY / 5)
    clock.advance(DELAY / 5)
    assert migrations.list_migrations(db, OWNER, clock.now) == []
    with pytest.raises(EmulatorError, match="migration not found"):
        _get(db, clock, machine)
    end = migrations.watch_events(db, OWNER, machine["id"], None, clock.now)
    assert end == [{"type": "end", "phase": "abort", "state": "successful"}]
    assert _compute_node(db, clock, machine) == machine["compute_node"]
    again = _migrate(db, clock, machine, "begin")
    assert [e["phase"] for e in again["progress_history"]] == ["begin"]


def test_state_refusals(db: Database, clock: Clock) -> None:
    machine = _machine(db, clock)
    for action in ("sync", "switch", "pause", "abort", "finalize"):
        assert _refusal(db, clock, machine, action)[:2] == (404, "ResourceNotFound")
    _migrate(db, clock, machine, "begin")
    assert _refusal(db, clock, machine, "begin") == (
        412,
        "PreconditionFailed",
        "An active migration already exists for this instance",
    )
    assert _refusal(db, clock, machine, "sync")[2] == "Cannot sync in migration state: running"
    assert _refusal(db, clock, machine, "finalize")[2] == (
        "Finalize only works on a successful migration"
    )
    clock.advance(PHASE)
    assert _refusal(db, clock, machine, "switch")[2] == (
        'You must perform at least one "migration sync" operation before switching'
    )
    _migrate(db, clock, machine, "sync")
    clock.advance(PHASE)
    _migrate(db, clock, machine, "switch")
    clock.advance(PHASE)
    assert _refusal(db, clock, machine, "begin")[2] == (
        "A previous migration exists for this instance, use migration finalize to complete it."
    )
    assert _refusal(db, clock, machine, "abort")[2] == "Abort cannot work on a successful migration"
    assert _refusal(db, clock, machine, "switch")[2] == "Cannot switch in migration phase: switch"


def test_machine_checks(db: Database, clock: Clock) -> None:
    provisioning = _machine(db, clock, settle=False)
    assert _refusal(db, clock, provisioning, "begin") == (
        409,
        "UnallocatedVM",
        "Cannot call migrate for a VM that has not been provisioned yet",
    )
    clock.advance(DELAY)
    _migrate(db, clock, provisioning, "begin")
    with pytest.raises(EmulatorError, match="VM not found"):
        migrations.get_migration(db, STRANGER, provisioning["id"], clock.now)
    assert migrations.list_migrations(db, STRANGER, clock.now) == []


def test_a_failed_begin_can_be_retried(db: Database, clock: Clock) -> None:
    machine = _machine(db, clock)
    machines.queue_job(
        db, OWNER, machine["id"], "destroy", {}, caller=CALLER, now=clock.now, provision_delay=0
    )
    _migrate(db, clock, machine, "automatic")
    clock.advance(PHASE * 3)
    failed = _get(db, clock, machine)
    assert (failed["phase"], failed["state"]) == ("begin", "failed")
    assert failed["error"] == "Cannot migrate-begin a VM from a 'deleted' state"
    assert [e["phase"] for e in failed["progress_history"]] == ["begin"]
    end = migrations.watch_events(db, OWNER, machine["id"], None, clock.now)
    assert end[-1]["message"] == failed["error"]
    audit = machines.audit(db, OWNER, machine["id"], clock.now)
    assert [e["action"] for e in audit] == ["migrate-begin", "destroy", "provision"]
    retried = _migrate(db, clock, machine, "begin")
    assert (retried["phase"], retried["state"], retried["automatic"]) == ("begin", "running", False)
    assert retried["created_timestamp"] == failed["created_timestamp"]
    clock.advance(PHASE)
    history = _get(db, clock, machine)["progress_history"]
    assert [(e["phase"], e["state"]) for e in history] == [("begin", "failed")] * 2
