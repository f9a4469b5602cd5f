"""Volume jobs over HTTP on a manual clock: the scheduler's engine moves volumes on only when
time moves, and ``fail_job`` fault rules fail a volume's creation (``provision``) or deletion
(``destroy``), as they fail machine jobs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from smartdc.emulator.clock import ManualClock
from smartdc.emulator.server import EmulatorServer
from tests.conftest import ACCOUNT, TestKey
from tests.emulator.checks import error_of
from tests.emulator.signing import SignedClient, Signer

DELAY = 10.0
RULES = "/__emulator/faults/rules"


@pytest.fixture(scope="module")
def client(
    keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SignedClient]:
    with EmulatorServer(
        accounts={ACCOUNT: [keys["rsa"].pub_path]},
        data_dir=tmp_path_factory.mktemp("volume-jobs"),
        provision_delay=DELAY,
        clock=ManualClock(),
    ) as server:
        signed = SignedClient(server.url, Signer(keys["rsa"]))
        try:
            yield signed
        finally:
            signed.close()


@pytest.fixture(autouse=True)
def no_faults(client: SignedClient) -> Iterator[None]:
    yield
    assert client.delete("/__emulator/faults").status_code == 204


def advance(client: SignedClient, seconds: float) -> None:
    """Move the emulator's clock; the jobs that became due run before this returns."""
    assert client.post("/__emulator/clock", json={"advance": seconds}).status_code == 200


def rule(client: SignedClient, **spec: Any) -> str:
    made = client.post(RULES, json={"kind": "fail_job", **spec})
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def fired(client: SignedClient, rule_id: str) -> int:
    return int(client.get(f"{RULES}/{rule_id}").json()["fired"])


def state(client: SignedClient, volume: dict[str, Any]) -> str:
    return str(client.get(f"/my/volumes/{volume['id']}").json()["state"])


def create(client: SignedClient, name: str) -> dict[str, Any]:
    made = client.post("/my/volumes", json={"type": "tritonnfs", "name": name})
    assert made.status_code == 201, made.text
    volume: dict[str, Any] = made.json()
    return volume


def test_a_volume_is_creating_until_its_job_is_due(client: SignedClient) -> None:
    volume = create(client, "patient")
    advance(client, DELAY - 0.01)
    assert state(client, volume) == "creating"
    advance(client, 0.01)
    assert state(client, volume) == "ready"


def test_a_fail_job_rule_for_provisions_fails_the_creation(client: SignedClient) -> None:
    rule_id = rule(client, job="provision", operation="CreateVolume", count=1)
    doomed = create(client, "doomed")
    fine = create(client, "fine")
    advance(client, DELAY)
    assert (state(client, doomed), state(client, fine)) == ("failed", "ready")
    assert fired(client, rule_id) == 1


def test_a_failed_deletion_leaves_a_ready_volume_ready(client: SignedClient) -> None:
    volume = create(client, "stubborn")
    advance(client, DELAY)
    rule_id = rule(client, job="destroy", operation="DeleteVolume", count=1)
    assert client.delete(f"/my/volumes/{volume['id']}").status_code == 204
    assert state(client, volume) == "deleting"
    advance(client, DELAY / 2)
    assert state(client, volume) == "ready"
    assert fired(client, rule_id) == 1
    # The name is still taken, and the next deletion (the rule is used up) goes through.
    assert error_of(client.post("/my/volumes", json={"type": "tritonnfs", "name": "stubborn"}))[
        :2
    ] == (409, "VolumeAlreadyExists")
    assert client.delete(f"/my/volumes/{volume['id']}").status_code == 204
    advance(client, DELAY / 2)
    assert error_of(client.get(f"/my/volumes/{volume['id']}"))[:2] == (404, "VolumeNotFound")


def test_a_failed_deletion_leaves_a_failed_volume_failed(client: SignedClient) -> None:
    assert client.post("/__emulator/faults", json={"fail_provision": 1}).status_code == 200
    volume = create(client, "broken")
    advance(client, DELAY)
    assert state(client, volume) == "failed"
    rule(client, job="destroy")
    assert client.delete(f"/my/volumes/{volume['id']}").status_code == 204
    advance(client, DELAY / 2)
    assert state(client, volume) == "failed"
    listed = client.get("/my/volumes", params={"state": "failed"}).json()
    assert "broken" in [v["name"] for v in listed]


def test_a_refused_deletion_does_not_use_the_rule_up(client: SignedClient) -> None:
    rule_id = rule(client, job="destroy", count=1)
    missing = "/my/volumes/9d1f5e3c-2b4a-4c6d-8e7f-0a1b2c3d4e5f"
    assert error_of(client.delete(missing))[:2] == (404, "VolumeNotFound")
    volume = create(client, "twice")
    advance(client, DELAY)
    assert client.delete(f"/my/volumes/{volume['id']}").status_code == 204
    # Deleting a volume already being deleted queues nothing.
    assert client.delete(f"/my/volumes/{volume['id']}").status_code == 204
    assert fired(client, rule_id) == 1
    advance(client, DELAY / 2)
    assert state(client, volume) == "ready"


def test_a_machine_rule_does_not_fail_volume_deletions(client: SignedClient) -> None:
    rule_id = rule(client, job="destroy", operation="DeleteMachine")
    volume = create(client, "ephemeral")
    advance(client, DELAY)
    assert client.delete(f"/my/volumes/{volume['id']}").status_code == 204
    advance(client, DELAY / 2)
    assert error_of(client.get(f"/my/volumes/{volume['id']}"))[:2] == (404, "VolumeNotFound")
    assert fired(client, rule_id) == 0
