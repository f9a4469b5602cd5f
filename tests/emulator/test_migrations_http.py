"""Migrate, ListMigrations and GetMigration over HTTP, raw and through ``smartdc.CloudAPI``.

The emulator runs with a provision delay of 0.4 s, so each of begin, sync and switch takes
0.2 s of real time and a ``watch`` answers once the running phases are over.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from smartdc import CloudAPI, errors
from smartdc.emulator.server import EmulatorServer
from smartdc.wait import wait_for
from tests.conftest import ACCOUNT, TestKey
from tests.emulator.checks import error_of
from tests.emulator.own_emulator import OTHER, PACKAGE, two_account_server
from tests.emulator.signing import SignedClient, Signer

DELAY = 0.4


@pytest.fixture(scope="module")
def server(keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data_dir = tmp_path_factory.mktemp("migrations-data")
    with two_account_server(keys, data_dir, provision_delay=DELAY) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def mine(server: EmulatorServer, keys: dict[str, TestKey]) -> Iterator[SignedClient]:
    client = SignedClient(server.url, Signer(keys["rsa"]))
    yield client
    client.close()


@pytest.fixture(scope="module")
def theirs(server: EmulatorServer, keys: dict[str, TestKey]) -> Iterator[SignedClient]:
    client = SignedClient(server.url, Signer(keys["ed25519"], login=OTHER))
    yield client
    client.close()


@pytest.fixture(scope="module")
def api(server: EmulatorServer, keys: dict[str, TestKey]) -> Iterator[CloudAPI]:
    key = keys["rsa"]
    with CloudAPI(
        server.url, ACCOUNT, key_id=key.sha256, key_file=key.path, allow_agent=False
    ) as client:
        yield client


def running_machine(client: SignedClient) -> dict[str, Any]:
    images = client.get("/my/images", params={"name": "base-64-lts"}).json()
    image = max(images, key=lambda i: i["published_at"])
    created = client.post("/my/machines", json={"image": image["id"], "package": PACKAGE})
    assert created.status_code == 201, created.text
    url = f"/my/machines/{created.json()['id']}"
    machine: dict[str, Any] = wait_for(
        lambda: client.get(url).json(),
        lambda m: m["state"] == "running",
        interval=0.05,
        timeout=10,
        describe="the machine to run",
    )
    return machine


def migrate(client: SignedClient, machine: dict[str, Any], action: str | None) -> Any:
    body = {} if action is None else {"action": action}
    return client.post(f"/my/machines/{machine['id']}/migrate", json=body)


def watch(client: SignedClient, machine: dict[str, Any]) -> tuple[Any, list[dict[str, Any]]]:
    response = client.post(f"/my/machines/{machine['id']}/migrate?action=watch")
    lines = [json.loads(line) for line in response.text.splitlines()]
    return response, lines


def test_begin_watch_sync_switch_finalize(mine: SignedClient) -> None:
    machine = running_machine(mine)
    begun = migrate(mine, machine, "begin")
    assert begun.status_code == 201
    assert (begun.json()["phase"], begun.json()["state"]) == ("begin", "running")

    started = time.monotonic()
    response, events = watch(mine, machine)
    assert time.monotonic() - started >= DELAY / 2 * 0.5
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-json-stream"
    assert [(e["type"], e["phase"], e["state"]) for e in events] == [
        ("progress", "begin", "successful"),
        ("end", "begin", "paused"),
    ]
    assert events[0]["current_progress"] == events[0]["total_progress"] == 100

    # Watching a migration that is not running answers at once with the end event only.
    assert watch(mine, machine)[1] == [{"type": "end", "phase": "begin", "state": "paused"}]

    assert migrate(mine, machine, "sync").json()["phase"] == "sync"
    assert watch(mine, machine)[1][-1] == {"type": "end", "phase": "sync", "state": "paused"}
    assert migrate(mine, machine, "switch").status_code == 201
    assert watch(mine, machine)[1][-1] == {
        "type": "end",
        "phase": "switch",
        "state": "successful",
    }

    moved = mine.get(f"/my/machines/{machine['id']}").json()
    assert moved["compute_node"] != machine["compute_node"]
    assert moved["state"] == "running"
    listed = mine.get("/my/migrations").json()
    assert [(m["machine"], m["state"]) for m in listed] == [(machine["id"], "successful")]
    assert mine.get(f"/my/migrations/{machine['id']}").json() == listed[0]

    finalized = migrate(mine, machine, "finalize")
    assert (finalized.status_code, finalized.content) == (200, b"")
    assert mine.get("/my/migrations").json() == []
    assert error_of(mine.get(f"/my/migrations/{machine['id']}")) == (
        404,
        "ResourceNotFound",
        "migration not found",
    )
    audit = mine.get(f"/my/machines/{machine['id']}/audit").json()
    assert [e["action"] for e in audit[:3]] == ["migrate-switch", "migrate-sync", "migrate-begin"]


def test_action_errors(mine: SignedClient, theirs: SignedClient) -> None:
    machine = running_machine(mine)
    assert error_of(migrate(mine, machine, None)) == (
        409,
        "MissingParameter",
        '"action" must be specified',
    )
    assert error_of(migrate(mine, machine, "teleport")) == (
        409,
        "InvalidArgument",
        "teleport is not a valid migration action",
    )
    assert error_of(migrate(mine, machine, "switch")) == (
        404,
        "ResourceNotFound",
        "migration not found",
    )
    assert migrate(mine, machine, "begin").status_code == 201
    assert error_of(migrate(mine, machine, "begin")) == (
        412,
        "PreconditionFailed",
        "An active migration already exists for this instance",
    )
    assert error_of(theirs.get(f"/{OTHER}/migrations/{machine['id']}")) == (
        404,
        "ResourceNotFound",
        "VM not found",
    )
    assert error_of(theirs.post(f"/{OTHER}/machines/{machine['id']}/migrate?action=watch")) == (
        404,
        "ResourceNotFound",
        "VM not found",
    )
    assert theirs.get(f"/{OTHER}/migrations").json() == []
    assert error_of(mine.get("/my/migrations/not-a-uuid"))[:2] == (409, "ValidationFailed")


def test_automatic_and_abort(mine: SignedClient) -> None:
    moving = running_machine(mine)
    staying = running_machine(mine)
    automatic = migrate(mine, moving, "automatic").json()
    assert (automatic["phase"], automatic["automatic"]) == ("begin", True)
    assert migrate(mine, staying, "begin").status_code == 201

    _, events = watch(mine, moving)
    assert [(e["phase"], e["state"]) for e in events] == [
        ("begin", "successful"),
        ("sync", "successful"),
        ("switch", "successful"),
        ("switch", "successful"),
    ]
    listed = [m["machine"] for m in mine.get("/my/migrations").json()]
    assert listed.index(staying["id"]) < listed.index(moving["id"])  # newest first

    aborting = migrate(mine, staying, "abort").json()
    assert (aborting["phase"], aborting["state"]) == ("abort", "running")
    assert watch(mine, staying)[1][-1] == {"type": "end", "phase": "abort", "state": "successful"}
    listed = [m["machine"] for m in mine.get("/my/migrations").json()]
    assert moving["id"] in listed and staying["id"] not in listed
    back = mine.get(f"/my/machines/{staying['id']}").json()
    assert back["compute_node"] == staying["compute_node"]


def test_client_methods(api: CloudAPI, mine: SignedClient) -> None:
    machine = running_machine(mine)
    begun = api.migrate(machine["id"], "begin", affinity="instance!=db*")
    assert begun is not None and begun["state"] == "running"
    events = api.watch_migration(machine["id"])
    assert events[-1] == {"type": "end", "phase": "begin", "state": "paused"}
    assert api.watch_migration(machine["id"]) == [events[-1]]
    assert api.get_migration(machine["id"])["state"] == "paused"
    assert machine["id"] in [m["machine"] for m in api.list_migrations()]
    with pytest.raises(errors.CloudAPIError) as refused:
        api.migrate(machine["id"], "switch")
    assert refused.value.status == 412
    assert "migration sync" in str(refused.value)
    assert api.migrate(machine["id"], "abort") is not None
