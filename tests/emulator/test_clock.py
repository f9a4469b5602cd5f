"""The manual clock: jobs wait until time is moved, through the API or the control plane."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from smartdc import _websocket as websocket
from smartdc.api import CloudAPI
from smartdc.emulator.clock import ManualClock
from smartdc.emulator.server import EmulatorServer
from tests.conftest import ACCOUNT, TestKey
from tests.emulator.own_emulator import PACKAGE

DELAY = 30.0


@pytest.fixture(scope="module")
def manual(keys: dict[str, TestKey]) -> Iterator[tuple[EmulatorServer, ManualClock]]:
    clock = ManualClock()
    with EmulatorServer(
        accounts={ACCOUNT: [keys["rsa"].pub_path]}, provision_delay=DELAY, clock=clock
    ) as server:
        yield server, clock


@pytest.fixture(scope="module")
def api(manual: tuple[EmulatorServer, ManualClock], keys: dict[str, TestKey]) -> Iterator[CloudAPI]:
    with CloudAPI(manual[0].url, ACCOUNT, key_file=keys["rsa"].path, allow_agent=False) as c:
        yield c


def _image(api: CloudAPI) -> str:
    images = [i for i in api.list_images() if i["name"] == "base-64-lts"]
    return str(max(images, key=lambda i: i["published_at"])["id"])


def test_jobs_wait_for_the_clock(manual: tuple[EmulatorServer, ManualClock], api: CloudAPI) -> None:
    server, clock = manual
    feed = websocket.connect(api.get_changefeed(), timeout=10)
    feed.settimeout(10)
    feed.send_text(json.dumps({"resource": "vm", "subResources": ["state"]}))
    try:
        machine = api.create_machine(image=_image(api), package=PACKAGE)
        assert json.loads(feed.recv()[1])["resourceState"] == "provisioning"
        time.sleep(0.5)  # real time passes; the emulator's does not
        assert api.get_machine(machine["id"])["state"] == "provisioning"
        before = clock()
        moved = httpx.post(f"{server.url}/__emulator/clock", json={"advance": DELAY})
        assert moved.status_code == 200
        assert moved.json() == {"mode": "manual", "now": pytest.approx(before + DELAY)}
        # The provision ran when time moved, and the feed heard of it then.
        assert json.loads(feed.recv()[1])["resourceState"] == "running"
        assert api.get_machine(machine["id"])["state"] == "running"
        api.stop_machine(machine["id"])
        clock.advance(DELAY)  # moving the clock object directly works as well
        deadline = time.monotonic() + 5
        while api.get_machine(machine["id"])["state"] != "stopped":
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        feed.close()


def test_clock_control_errors(manual: tuple[EmulatorServer, ManualClock]) -> None:
    server, _ = manual
    url = f"{server.url}/__emulator/clock"
    assert httpx.get(url).json()["mode"] == "manual"
    for bad in ({"advance": -1}, {"advance": "10"}, {"forward": 1}, [1]):
        response = httpx.post(url, json=bad)
        assert response.status_code == 400, bad
    wrong = httpx.delete(url)
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "GET, POST"
    assert httpx.delete(f"{server.url}/__emulator/state").headers["allow"] == "GET"
    assert httpx.get(f"{server.url}/__emulator/nothing").status_code == 404


def test_the_real_clock_cannot_be_moved(emulator: EmulatorServer) -> None:
    url = f"{emulator.url}/__emulator/clock"
    assert httpx.get(url).json()["mode"] == "real"
    refused = httpx.post(url, json={"advance": 5})
    assert refused.status_code == 409
    assert "--manual-clock" in refused.json()["message"]


def test_command_line_flag() -> None:
    from smartdc.emulator.server import build_parser

    assert build_parser().parse_args(["--manual-clock"]).manual_clock is True
    assert build_parser().parse_args([]).manual_clock is False
