"""The volume store's timeline on an in-memory database with a hand-driven clock: creating
for one provision delay, then ready; deleting for half of one, then gone."""

from __future__ import annotations

import pytest

from smartdc.emulator.context import EmulatorError
from smartdc.emulator.db import Database
from smartdc.emulator.store import catalog, fabrics, volumes

ACCOUNT = "5e1d7c3b-7f0a-4a5e-9b1c-2d3e4f5a6b7c"
OWNER = volumes.Owner(ACCOUNT, "dc-1")
DELAY = 10.0
T0 = 1_700_000_000.0


@pytest.fixture
def db() -> Database:
    database = Database(None)
    fabrics.ensure_account_fabric(database, ACCOUNT)
    return database


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
    assert volumes.get_volume(db, OWNER, made["id"], T0 + DELAY - 0.01)["state"] == "creating"
    assert volumes.get_volume(db, OWNER, made["id"], T0 + DELAY)["state"] == "ready"


def test_a_failed_provision_ends_failed(db: Database) -> None:
    made = volumes.create_volume(
        db,
        OWNER,
        volumes.VolumeSpec(name="data", size=10240, networks=[fabric(db)], fail=True),
        now=T0,
        provision_delay=DELAY,
    )
    assert volumes.get_volume(db, OWNER, made["id"], T0 + 1)["state"] == "creating"
    assert volumes.get_volume(db, OWNER, made["id"], T0 + DELAY)["state"] == "failed"


def test_deleting_for_half_a_delay_then_gone(db: Database) -> None:
    made = volumes.create_volume(
        db,
        OWNER,
        volumes.VolumeSpec(name=None, size=10240, networks=[fabric(db)]),
        now=T0,
        provision_delay=DELAY,
    )
    start = T0 + DELAY
    volumes.delete_volume(db, OWNER, made["id"], now=start, provision_delay=DELAY)
    # A second delete while deleting changes nothing.
    volumes.delete_volume(db, OWNER, made["id"], now=start + 1, provision_delay=DELAY)
    assert volumes.get_volume(db, OWNER, made["id"], start + 4.9)["state"] == "deleting"
    assert [v["state"] for v in volumes.list_volumes(db, OWNER, start + 4.9)] == ["deleting"]
    with pytest.raises(EmulatorError) as raised:
        volumes.get_volume(db, OWNER, made["id"], start + DELAY / 2)
    assert (raised.value.status, raised.value.code) == (404, "VolumeNotFound")
    assert volumes.list_volumes(db, OWNER, start + DELAY) == []


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
