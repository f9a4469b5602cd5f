"""GetChangefeed and ConnectMachineVNC over real WebSockets, against a private emulator whose
jobs take real time, so changes arrive with nobody polling."""

from __future__ import annotations

import json
import struct
import time
from collections.abc import Iterator
from typing import Any

import pytest

from smartdc import _websocket as websocket
from smartdc.api import CloudAPI
from smartdc.emulator.server import EmulatorServer
from smartdc.errors import CloudAPIError
from tests.conftest import ACCOUNT, TestKey
from tests.emulator.own_emulator import PACKAGE, two_account_server

#: Seconds a provision takes here; power actions take half.
DELAY = 1.0
SUBSCRIPTION = {"resource": "vm", "subResources": ["state", "alias", "tags", "destroyed"]}


@pytest.fixture(scope="module")
def server(
    keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmulatorServer]:
    with two_account_server(keys, tmp_path_factory.mktemp("ws"), provision_delay=DELAY) as running:
        yield running


@pytest.fixture(scope="module")
def api(server: EmulatorServer, keys: dict[str, TestKey]) -> Iterator[CloudAPI]:
    with CloudAPI(server.url, ACCOUNT, key_file=keys["rsa"].path, allow_agent=False) as client:
        yield client


def _image(api: CloudAPI, name: str) -> str:
    images = [i for i in api.list_images() if i["name"] == name]
    return str(max(images, key=lambda i: i["published_at"])["id"])


def _feed(api: CloudAPI, subscription: dict[str, Any] = SUBSCRIPTION) -> websocket.WebSocket:
    socket = websocket.connect(api.get_changefeed(), timeout=10)
    socket.settimeout(10)
    socket.send_text(json.dumps(subscription))
    return socket


def _next_change(socket: websocket.WebSocket) -> dict[str, Any]:
    opcode, payload = socket.recv()
    assert opcode == 1, opcode
    return dict(json.loads(payload))


def test_changes_arrive_when_they_happen(api: CloudAPI) -> None:
    socket = _feed(api)
    try:
        started = time.monotonic()
        machine = api.create_machine(image=_image(api, "base-64-lts"), package=PACKAGE)
        created = _next_change(socket)
        assert created["changedResourceId"] == machine["id"]
        assert created["changeKind"] == {"resource": "vm", "subResources": ["state"]}
        assert created["resourceState"] == "provisioning"
        running = _next_change(socket)
        waited = time.monotonic() - started
        assert running["resourceState"] == "running"
        assert running["resourceObject"]["state"] == "running"
        assert running["resourceObject"]["id"] == machine["id"]
        assert "state" in running["changeKind"]["subResources"]
        # Nobody read the machine: the scheduler ran the job at its due time.
        assert DELAY * 0.9 <= waited < DELAY + 0.9
        published = int(running["published"])
        assert abs(published / 1000 - time.time()) < 1.5

        api.add_machine_tags(machine["id"], {"role": "web"})
        tagged = _next_change(socket)
        assert tagged["changeKind"]["subResources"] == ["tags"]
        assert tagged["resourceObject"]["tags"] == {"role": "web"}

        api.delete_machine(machine["id"])
        states: list[str] = []
        while not states or states[-1] != "destroyed":
            change = _next_change(socket)
            states.append(change["resourceState"])
        assert "destroyed" in change["changeKind"]["subResources"]
        assert change["resourceObject"]["state"] == "deleted"
    finally:
        socket.close()


def test_registration_filters_and_can_be_replaced(api: CloudAPI) -> None:
    image = _image(api, "base-64-lts")
    first = api.create_machine(image=image, package=PACKAGE, name="cf-first")
    second = api.create_machine(image=image, package=PACKAGE, name="cf-second")
    time.sleep(DELAY + 0.2)
    socket = websocket.connect(api.get_changefeed(), timeout=10)
    socket.settimeout(10)
    try:
        socket.send_text("not json")  # ignored, as CloudAPI ignores it
        socket.send_text(json.dumps({"resource": "vm", "subResources": ["bogus"]}))
        socket.send_text(
            json.dumps({"resource": "vm", "subResources": ["alias"], "vms": [second["id"]]})
        )
        api.rename_machine(first["id"], "cf-first-renamed")
        api.rename_machine(second["id"], "cf-second-renamed")
        change = _next_change(socket)
        assert change["changedResourceId"] == second["id"]
        assert change["changeKind"]["subResources"] == ["alias"]
        assert change["resourceObject"]["name"] == "cf-second-renamed"
    finally:
        socket.close()


def test_changes_are_the_accounts_own(
    server: EmulatorServer, api: CloudAPI, keys: dict[str, TestKey]
) -> None:
    socket = _feed(api)
    try:
        with CloudAPI(
            server.url, "other", key_file=keys["ed25519"].path, allow_agent=False
        ) as theirs:
            theirs.create_machine(image=_image(theirs, "base-64-lts"), package=PACKAGE)
        mine = api.create_machine(image=_image(api, "base-64-lts"), package=PACKAGE)
        assert _next_change(socket)["changedResourceId"] == mine["id"]
    finally:
        socket.close()


def test_plain_get_is_refused_as_cloudapi_does(api: CloudAPI) -> None:
    with pytest.raises(CloudAPIError) as caught:
        api.request("GET", "changefeed")
    assert caught.value.status == 500
    assert caught.value.body == {"message": "Connection Must Upgrade For WebSockets"}


# --- VNC -----------------------------------------------------------------------------------


def _hvm(api: CloudAPI) -> dict[str, Any]:
    packages = [p for p in api.list_packages() if p.get("brand") == "bhyve"]
    candidates = [i for i in api.list_images() if i.get("type") == "zvol"]
    image = max(candidates, key=lambda i: i["published_at"])["id"]
    machine = api.create_machine(image=image, package=packages[0]["id"])
    deadline = time.monotonic() + 10
    while api.get_machine(machine["id"])["state"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return dict(api.get_machine(machine["id"]))


def test_vnc_console_speaks_rfb(api: CloudAPI) -> None:
    machine = _hvm(api)
    socket = websocket.connect(api.connect_machine_vnc(machine["id"]), timeout=10)
    socket.settimeout(10)
    try:
        opcode, greeting = socket.recv()
        assert (opcode, greeting) == (2, b"RFB 003.008\n")
        socket.send_binary(b"RFB 003.008\n")
        _, security = socket.recv()
        assert security == b"\x01\x01"  # one type: None
        socket.send_binary(b"\x01")
        _, result = socket.recv()
        assert result == b"\x00\x00\x00\x00"
        socket.send_binary(b"\x01")  # ClientInit, shared
        _, init = socket.recv()
        width, height = struct.unpack(">HH", init[:4])
        (name_length,) = struct.unpack(">I", init[20:24])
        assert init[24 : 24 + name_length].decode() == machine["name"]
        assert width > 0 and height > 0

        api.stop_machine(machine["id"])
        # The console goes away when the machine stops: the socket is closed.
        with pytest.raises((websocket.WebSocketError, OSError)):
            for _ in range(20):
                socket.recv()
    finally:
        socket.close()


def test_vnc_refusals(api: CloudAPI) -> None:
    container = api.create_machine(image=_image(api, "base-64-lts"), package=PACKAGE)
    time.sleep(DELAY + 0.2)
    with pytest.raises(CloudAPIError) as caught:
        websocket.connect(api.connect_machine_vnc(container["id"]), timeout=10)
    assert caught.value.status == 400
    assert caught.value.code == "MachineHasNoVNC"
    assert caught.value.message == "Specified machine does not have a VNC console"
    machine = _hvm(api)
    with pytest.raises(CloudAPIError) as plain:
        api.request("GET", f"machines/{machine['id']}/vnc", headers={"Accept-Version": "~8"})
    assert plain.value.code == "UpgradeRequired"
    api.stop_machine(machine["id"])
    time.sleep(DELAY + 0.2)
    with pytest.raises(CloudAPIError) as stopped:
        websocket.connect(api.connect_machine_vnc(machine["id"]), timeout=10)
    assert (stopped.value.status, stopped.value.code) == (400, "MachineStopped")


def test_vnc_route_serves_api_8_4_only(api: CloudAPI) -> None:
    machine = _hvm(api)
    with pytest.raises(CloudAPIError) as caught:
        api.request("GET", f"machines/{machine['id']}/vnc", headers={"Accept-Version": "~9"})
    assert caught.value.status == 400
    assert caught.value.code == "InvalidVersion"
