"""Image, disk, migration, volume, service and WebSocket requests."""

from __future__ import annotations

from typing import Any

import pytest

from smartdc.api import WebSocketRequest, changefeed_subscription
from smartdc.auth.httpsig import parse_authorization, verify_request
from smartdc.errors import SmartDCError
from tests.conftest import TestKey
from tests.unit.cloudapi_mock import Recorder, make_api, reply, signer_for
from tests.unit.test_api_operations import (
    ACCEPTED,
    IMG,
    MACHINE,
    MID,
    NET,
    NET2,
    NO_CONTENT,
    Case,
    check_case,
)

IMAGE = {"id": IMG, "name": "base-64", "version": "1.0.0", "state": "active"}
ACCOUNT2 = "7a3e1b0c-3c7d-4f1e-9d8c-0e6b8d3f2a11"
DISK_ID = "a2b1c0d9-6d1e-4c2b-8f3a-7e9d0c1b2a34"
DISK = {"id": DISK_ID, "pci_slot": "0:5:1", "size": 10240, "boot": False, "state": "creating"}
MIGRATION = {"machine": MID, "phase": "begin", "state": "running", "automatic": False}
VOL_ID = "e435d72a-2498-8d49-a042-87b222a8b63f"
VOLUME = {"id": VOL_ID, "name": "data", "type": "tritonnfs", "size": 10240, "state": "creating"}

CASES: dict[str, Case] = {
    # images
    "delete_image": Case(
        lambda a: a.delete_image(IMAGE),
        "DELETE",
        f"/test/images/{IMG}",
        answer=NO_CONTENT,
        returns=None,
    ),
    "create_image_from_machine": Case(
        lambda a: a.create_image_from_machine(
            machine=MACHINE,
            name="web-golden",
            version="1.2.0",
            description="prepared web server",
            acl=[ACCOUNT2, {"id": MID}],
            tags={"role": "web"},
        ),
        "POST",
        "/test/images",
        body={
            "machine": MID,
            "name": "web-golden",
            "version": "1.2.0",
            "description": "prepared web server",
            "acl": [ACCOUNT2, MID],
            "tags": {"role": "web"},
        },
        answer=reply(201, {**IMAGE, "state": "creating"}),
        returns={**IMAGE, "state": "creating"},
    ),
    "import_image_from_datacenter": Case(
        lambda a: a.import_image_from_datacenter(datacenter="us-west-1", id=IMAGE),
        "POST",
        "/test/images",
        query=[("action", "import-from-datacenter"), ("datacenter", "us-west-1"), ("id", IMG)],
        body={},
        answer=reply(200, IMAGE),
        returns=IMAGE,
    ),
    "update_image": Case(
        lambda a: a.update_image(IMG, version="1.0.1", homepage="https://example.com", eula=None),
        "POST",
        f"/test/images/{IMG}",
        query=[("action", "update")],
        body={"version": "1.0.1", "homepage": "https://example.com"},
        answer=reply(200, IMAGE),
        returns=IMAGE,
    ),
    "export_image": Case(
        lambda a: a.export_image(IMG, "/test/stor/images"),
        "POST",
        f"/test/images/{IMG}",
        query=[("action", "export")],
        body={"manta_path": "/test/stor/images"},
    ),
    "clone_image": Case(
        lambda a: a.clone_image({"id": IMG}),
        "POST",
        f"/test/images/{IMG}",
        query=[("action", "clone")],
        answer=reply(200, {**IMAGE, "id": NET2}),
        returns={**IMAGE, "id": NET2},
    ),
    # services
    "list_services": Case(
        lambda a: a.list_services(),
        "GET",
        "/test/services",
        answer=reply(
            200, {"cloudapi": "https://cloudapi.test", "docker": "tcp://docker.test:2376"}
        ),
        returns={"cloudapi": "https://cloudapi.test", "docker": "tcp://docker.test:2376"},
    ),
    # disks
    "list_machine_disks": Case(
        lambda a: a.list_machine_disks(MID),
        "GET",
        f"/test/machines/{MID}/disks",
        answer=reply(200, [DISK]),
        returns=[DISK],
    ),
    "get_machine_disk": Case(
        lambda a: a.get_machine_disk(MACHINE, DISK), "GET", f"/test/machines/{MID}/disks/{DISK_ID}"
    ),
    "create_machine_disk at a slot answers 200 with the disk": Case(
        lambda a: a.create_machine_disk(MID, size=10240, pci_slot="0:5:1"),
        "POST",
        f"/test/machines/{MID}/disks",
        body={"size": 10240, "pci_slot": "0:5:1"},
        answer=reply(200, DISK),
        returns=DISK,
    ),
    "create_machine_disk without a slot answers 202": Case(
        lambda a: a.create_machine_disk(MID, size="remaining"),
        "POST",
        f"/test/machines/{MID}/disks",
        body={"size": "remaining"},
        answer=ACCEPTED,
        returns=None,
    ),
    "resize_machine_disk": Case(
        lambda a: a.resize_machine_disk(MID, DISK_ID, size=20480),
        "POST",
        f"/test/machines/{MID}/disks/{DISK_ID}",
        body={"size": 20480},
        answer=reply(200, {**DISK, "state": "resizing"}),
        returns={**DISK, "state": "resizing"},
    ),
    "resize_machine_disk smaller": Case(
        lambda a: a.resize_machine_disk(MID, DISK_ID, size=512, dangerous_allow_shrink=True),
        "POST",
        f"/test/machines/{MID}/disks/{DISK_ID}",
        body={"size": 512, "dangerous_allow_shrink": True},
    ),
    "delete_machine_disk": Case(
        lambda a: a.delete_machine_disk(MID, DISK_ID),
        "DELETE",
        f"/test/machines/{MID}/disks/{DISK_ID}",
        answer=NO_CONTENT,
        returns=None,
    ),
    # migrations
    "migrate": Case(
        lambda a: a.migrate(MACHINE, "begin", affinity="instance!=db*"),
        "POST",
        f"/test/machines/{MID}/migrate",
        body={"action": "begin", "affinity": ["instance!=db*"]},
        answer=reply(201, MIGRATION),
        returns=MIGRATION,
    ),
    "migrate finalize has no body": Case(
        lambda a: a.migrate(MID, "finalize"),
        "POST",
        f"/test/machines/{MID}/migrate",
        body={"action": "finalize"},
        answer=reply(200),
        returns=None,
    ),
    "watch_migration": Case(
        lambda a: a.watch_migration(MID),
        "POST",
        f"/test/machines/{MID}/migrate",
        body={"action": "watch"},
        answer=reply(
            200,
            b'{"type":"progress","phase":"sync","current_progress":50}\n'
            b'{"type":"end","phase":"sync","state":"paused"}\n',
            {"content-type": "application/x-json-stream"},
        ),
        returns=[
            {"type": "progress", "phase": "sync", "current_progress": 50},
            {"type": "end", "phase": "sync", "state": "paused"},
        ],
    ),
    "list_migrations": Case(
        lambda a: a.list_migrations(),
        "GET",
        "/test/migrations",
        answer=reply(200, [MIGRATION]),
        returns=[MIGRATION],
    ),
    "get_migration from a migration": Case(
        lambda a: a.get_migration(MIGRATION), "GET", f"/test/migrations/{MID}"
    ),
    # volumes
    "list_volumes": Case(
        lambda a: a.list_volumes(name="data*", state="ready", size=None),
        "GET",
        "/test/volumes",
        query=[("name", "data*"), ("state", "ready")],
        answer=reply(200, [VOLUME]),
        returns=[VOLUME],
    ),
    "list_volumes with a predicate": Case(
        lambda a: a.list_volumes(predicate={"eq": ["name", "data"]}),
        "GET",
        "/test/volumes",
        query=[("predicate", '{"eq": ["name", "data"]}')],
    ),
    "create_volume": Case(
        lambda a: a.create_volume(
            name="data",
            size=20480,
            networks=[{"id": NET}],
            affinity="instance==web*",
            tags={"a": "b"},
        ),
        "POST",
        "/test/volumes",
        body={
            "name": "data",
            "type": "tritonnfs",
            "size": 20480,
            "networks": [NET],
            "affinity": ["instance==web*"],
            "tags": {"a": "b"},
        },
        answer=reply(201, VOLUME),
        returns=VOLUME,
    ),
    "create_volume with defaults": Case(
        lambda a: a.create_volume(), "POST", "/test/volumes", body={"type": "tritonnfs"}
    ),
    "get_volume": Case(lambda a: a.get_volume(VOLUME), "GET", f"/test/volumes/{VOL_ID}"),
    "update_volume answers 200 with the volume": Case(
        lambda a: a.update_volume(VOL_ID, name="data2"),
        "POST",
        f"/test/volumes/{VOL_ID}",
        body={"name": "data2"},
        answer=reply(200, {**VOLUME, "name": "data2"}),
        returns={**VOLUME, "name": "data2"},
    ),
    "delete_volume": Case(
        lambda a: a.delete_volume(VOL_ID),
        "DELETE",
        f"/test/volumes/{VOL_ID}",
        answer=NO_CONTENT,
        returns=None,
    ),
    "list_volume_sizes": Case(
        lambda a: a.list_volume_sizes(type="tritonnfs"),
        "GET",
        "/test/volumesizes",
        query=[("type", "tritonnfs")],
        answer=reply(200, [{"size": 10240, "type": "tritonnfs"}]),
        returns=[{"size": 10240, "type": "tritonnfs"}],
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_compute_operation_sends_the_documented_request(
    keys: dict[str, TestKey], case: Case
) -> None:
    check_case(keys["rsa"], case)


def _verified(key: TestKey, request: WebSocketRequest, target: str) -> bool:
    parsed = parse_authorization(request.headers["Authorization"], request.headers)
    assert parsed.headers == ("(request-target)", "date")
    return verify_request(parsed, signer_for(key).public_key, "GET", target, request.headers)


@pytest.mark.parametrize("key_name", ["rsa", "ed25519"])
def test_connect_machine_vnc_gives_a_signed_websocket_request_without_connecting(
    keys: dict[str, TestKey], key_name: str
) -> None:
    recorder = Recorder()
    with make_api(keys[key_name], recorder) as api:
        request = api.connect_machine_vnc(MACHINE)
    assert recorder.requests == []
    target = f"/test/machines/{MID}/vnc"
    assert request.url == f"wss://cloudapi.test{target}"
    assert request.subprotocols == ("binary", "rfb")
    assert request.headers["Accept-Version"] == "~9||~8"
    assert request.headers["User-Agent"].startswith("smartdc/")
    assert _verified(keys[key_name], request, target)
    assert not _verified(keys[key_name], request, f"/test/machines/{MID}/audit")


def test_get_changefeed_over_plain_http_uses_ws_and_keeps_the_base_path(
    keys: dict[str, TestKey],
) -> None:
    with make_api(keys["rsa"], Recorder(), url="http://127.0.0.1:8080/api/") as api:
        request = api.get_changefeed()
    assert request.url == "ws://127.0.0.1:8080/api/test/changefeed"
    assert request.subprotocols == ()
    assert _verified(keys["rsa"], request, "/api/test/changefeed")


def test_changefeed_subscription_is_checked_because_the_server_ignores_bad_ones() -> None:
    assert changefeed_subscription(["state"], vms=[MACHINE, NET]) == {
        "resource": "vm",
        "subResources": ["state"],
        "vms": [MID, NET],
    }
    assert len(changefeed_subscription()["subResources"]) == 8
    with pytest.raises(ValueError, match="unknown: colour"):
        changefeed_subscription(["state", "colour"])
    with pytest.raises(ValueError, match="non-empty"):
        changefeed_subscription([])


def test_watch_migration_rejects_a_stream_that_is_not_json(keys: dict[str, TestKey]) -> None:
    recorder = Recorder().add(reply(200, b'{"type":"progress"}\nnot json\n'))
    with make_api(keys["rsa"], recorder) as api, pytest.raises(SmartDCError, match="not JSON"):
        api.watch_migration(MID)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda a: a.update_image(IMG), ValueError, "at least one field"),
        (lambda a: a.export_image(IMG, ""), ValueError, "manta_path"),
        (lambda a: a.create_machine_disk(MID, size=0), ValueError, "positive"),
        (lambda a: a.create_machine_disk(MID, size="all"), ValueError, "remaining"),
        (lambda a: a.resize_machine_disk(MID, DISK_ID, size=-1), ValueError, "positive"),
        (lambda a: a.migrate(MID, "watch"), ValueError, "watch_migration"),
        (lambda a: a.migrate(MID, "start"), ValueError, "not a migration action"),
        (lambda a: a.migrate(MID, "sync", affinity=["x==y"]), ValueError, "affinity"),
        (lambda a: a.list_volumes(owner="me"), TypeError, "owner"),
        (lambda a: a.update_volume(VOL_ID, name=""), ValueError, "name"),
        (lambda a: a.get_volume({"name": "data"}), TypeError, "'id'"),
    ],
)
def test_bad_compute_arguments_are_refused_before_sending(
    keys: dict[str, TestKey], call: Any, error: type[Exception], message: str
) -> None:
    recorder = Recorder()
    with make_api(keys["rsa"], recorder) as api, pytest.raises(error, match=message):
        call(api)
    assert recorder.requests == []
