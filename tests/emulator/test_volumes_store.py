"""The volume store's timeline on an in-memory database with a hand-driven clock: creating
for one provision delay, then ready; deleting for half of one, then gone. The job engine
applies volume jobs when told the time (as the server's scheduler does); reads only read."""

from __future__ import annotations

import pytest

from smartdc.emulator.context import EmulatorError
from smartdc.emulator.db import Database
from smartdc.emulator.store import catalog, fabrics, jobs, volumes

ACCOUNT = "5e1d7c3b-7f0a-4a5e-9b1c-2d3e4f5a6b7c"
OWNER = volumes.Owner(ACCOUNT, "dc-1")
DELAY = 10.0
T0 = 1_700_000_000.0


@pytest.fixture
def db() -> Database:
    database = Database(None)
    fabrics.ensure_account_fabric(database, ACCOUNT)
    return database


def at(db: Database, now: float) -> float:
    """Apply the jobs due at ``now``, as the scheduler would at that time."""
    jobs.settle_due(db, now)
    return now


def fabric(db: Database) -> catalog.NetworkRecord:
    found = catalog.get_network(db, ACCOUNT, fabrics.default_network_id(ACCOUNT))
    assert found is not None
    return found


def test_creating_until_one_provision_delay_has_passed(db: Database) -> None:
    made = volumes.create_volume(
        db,
        OWNER,
        volumes.VolumeSpec(name="data", size=10240, networks=[fabric(db)]),
        now=T0,
        provision_delay=DELAY,
    )
    assert made["state"] == "creating"
    assert made["created"] == "2023-11-14T22:13:20.000Z"
    assert jobs.settle_due(db, T0) == round((T0 + DELAY) * 1000)
    assert volumes.get_volume(db, OWNER, made["id"], at(db, T0 + DELAY - 0.01))["state"] == (
        "creating"
    )
    # Reads do not settle: only the engine moves the volume on.
    assert volumes.get_volume(db, OWNER, made["id"], T0 + DELAY)["state"] == "creating"
    assert volumes.get_volume(db, OWNER, made["id"], at(db, T0 + DELAY))["state"] == "ready"
    assert jobs.settle_due(db, T0 + DELAY) is None


def test_a_failed_provision_ends_failed(db: Database) -> None:
    made = volumes.create_volume(
        db,
        OWNER,
        volumes.VolumeSpec(name="data", size=10240, networks=[fabric(db)], fail=True),
        now=T0,
        provision_delay=DELAY,
    )
    assert volumes.get_volume(db, OWNER, made["id"], at(db, T0 + 1))["state"] == "creating"
    assert volumes.get_volume(db, OWNER, made["id"], at(db, T0 + DELAY))["state"] == "failed"


def test_deleting_for_half_a_delay_then_gone(db: Database) -> None:
    made = volumes.create_volume(
        db,
        OWNER,
        volumes.VolumeSpec(name=None, size=10240, networks=[fabric(db)]),
        now=T0,
        provision_delay=DELAY,
    )
    start = at(db, T0 + DELAY)
    assert volumes.delete_volume(db, OWNER, made["id"], now=start, provision_delay=DELAY)
    # A second delete while deleting changes nothing.
    assert not volumes.delete_volume(db, OWNER, made["id"], now=start + 1, provision_delay=DELAY)
    assert volumes.get_volume(db, OWNER, made["id"], at(db, start + 4.9))["state"] == "deleting"
    assert [v["state"] for v in volumes.list_volumes(db, OWNER, start + 4.9)] == ["deleting"]
    with pytest.raises(EmulatorError) as raised:
        volumes.get_volume(db, OWNER, made["id"], at(db, start + DELAY / 2))
    assert (raised.value.status, raised.value.code) == (404, "VolumeNotFound")
    assert volumes.list_volumes(db, OWNER, start + DELAY) == []
    assert jobs.settle_due(db, start + DELAY) is None


def test_a_failed_deletion_gives_the_volume_its_state_back(db: Database) -> None:
    ready = volumes.create_volume(
        db,
        OWNER,
        volumes.VolumeSpec(name="kept", size=10240, networks=[fabric(db)]),
        now=T0,
        provision_delay=DELAY,
    )
    broken = volumes.create_volume(
        db,
        OWNER,
        volumes.VolumeSpec(name="broken", size=10240, networks=[fabric(db)], fail=True),
        now=T0,
        provision_delay=DELAY,
    )
    start = at(db, T0 + DELAY)
    for volume in (ready, broken):
        volumes.delete_volume(db, OWNER, volume["id"], now=start, provision_delay=DELAY, fail=True)
    assert {v["state"] for v in volumes.list_volumes(db, OWNER, at(db, start + 1))} == {"deleting"}
    at(db, start + DELAY / 2)
    states = {v["name"]: v["state"] for v in volumes.list_volumes(db, OWNER, start + DELAY)}
    assert states == {"kept": "ready", "broken": "failed"}


def test_deleting_a_creating_volume_waits_for_its_creation(db: Database) -> None:
    made = volumes.create_volume(
        db,
        OWNER,
        volumes.VolumeSpec(name="early", size=10240, networks=[fabric(db)]),
        now=T0,
        provision_delay=DELAY,
    )
    volumes.delete_volume(db, OWNER, made["id"], now=at(db, T0 + 1), provision_delay=DELAY)
    # The storage VM's destroy runs after its provision, as VMAPI runs a VM's jobs in turn.
    assert volumes.get_volume(db, OWNER, made["id"], at(db, T0 + DELAY))["state"] == "deleting"
    assert volumes.list_volumes(db, OWNER, at(db, T0 + DELAY * 1.5)) == []


def test_volumes_belong_to_one_datacenter(db: Database) -> None:
    made = volumes.create_volume(
        db,
        OWNER,
        volumes.VolumeSpec(name="data", size=10240, networks=[fabric(db)]),
        now=T0,
        provision_delay=DELAY,
    )
    elsewhere = volumes.Owner(ACCOUNT, "dc-2")
    assert volumes.list_volumes(db, elsewhere, T0) == []
    with pytest.raises(EmulatorError):
        volumes.get_volume(db, elsewhere, made["id"], T0)
