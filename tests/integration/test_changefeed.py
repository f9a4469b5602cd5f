"""``CloudAPI.changefeed`` against the emulator over real WebSockets: changes as they happen,
filters, a clean close, and reconnecting after the network or the server drops the feed."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from smartdc import CloudAPI, errors
from smartdc.api._base import JSONObject
from smartdc.api.changefeed import Changefeed
from smartdc.emulator.server import EmulatorServer
from tests.conftest import ACCOUNT, TestKey

#: Seconds a provision takes; power actions take half.
DELAY = 0.6
PACKAGE = "g4-highcpu-128M"


def _server(keys: dict[str, TestKey], data_dir: Path, port: int = 0) -> EmulatorServer:
    return EmulatorServer(
        accounts={ACCOUNT: [keys["rsa"].pub_path]},
        data_dir=data_dir,
        provision_delay=DELAY,
        port=port,
    )


@pytest.fixture(scope="module")
def server(
    keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmulatorServer]:
    with _server(keys, tmp_path_factory.mktemp("feed-data")) as running:
        yield running


def _client(url: str, key: TestKey) -> CloudAPI:
    return CloudAPI(url, ACCOUNT, key_file=key.path, allow_agent=False)


@pytest.fixture(scope="module")
def api(server: EmulatorServer, keys: dict[str, TestKey]) -> Iterator[CloudAPI]:
    with _client(server.url, keys["rsa"]) as client:
        yield client


def _image_id(api: CloudAPI) -> str:
    images = [i for i in api.list_images() if i["name"] == "base-64-lts"]
    return str(max(images, key=lambda i: i["published_at"])["id"])


@pytest.fixture(scope="module")
def image(api: CloudAPI) -> str:
    return _image_id(api)


def _running(api: CloudAPI, image: str, name: str) -> dict[str, Any]:
    machine = api.create_machine(image=image, package=PACKAGE, name=name)
    deadline = time.monotonic() + 10
    while api.get_machine(machine["id"])["state"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return dict(machine)


def test_changes_arrive_as_they_happen_and_close_is_clean(api: CloudAPI, image: str) -> None:
    with api.changefeed(timeout=5) as feed:
        started = time.monotonic()
        machine = api.create_machine(image=image, package=PACKAGE, name="feed-one")
        created = next(feed)
        assert created["changedResourceId"] == machine["id"]
        assert created["resourceState"] == "provisioning"
        running = next(feed)
        while running["resourceState"] == "provisioning":  # e.g. its server is chosen
            running = next(feed)
        waited = time.monotonic() - started
        assert running["resourceState"] == "running"
        assert running["resourceObject"]["id"] == machine["id"]
        assert DELAY * 0.9 <= waited < DELAY + 0.9  # when the job finished, not later
        # nothing else happens: the wait ends, and the feed is still there afterwards
        with pytest.raises(errors.TimeoutError):
            feed_wait(feed, 0.3)
        api.add_machine_tags(machine["id"], {"role": "db"})
        tagged = next(feed)
        assert tagged["changeKind"]["subResources"] == ["tags"]
        assert tagged["resourceObject"]["tags"] == {"role": "db"}
    # the server answered our close frame with its own: a normal close
    assert feed.closed and feed.close_code == 1000
    assert list(feed) == []


def feed_wait(feed: Changefeed, seconds: float) -> JSONObject:
    """``next(feed)`` with another timeout for this one call."""
    saved, feed.timeout = feed.timeout, seconds
    try:
        return next(feed)
    finally:
        feed.timeout = saved


def test_sub_resources_and_vms_choose_the_changes(api: CloudAPI, image: str) -> None:
    watched = _running(api, image, "feed-watched")
    other = _running(api, image, "feed-other")
    with api.changefeed(["tags", "alias"], vms=[watched], timeout=5) as feed:
        api.add_machine_tags(other["id"], {"a": "1"})
        api.stop_machine(watched["id"])  # a state change: not asked for
        api.rename_machine(watched["id"], "feed-watched-2")
        change = next(feed)
        assert change["changedResourceId"] == watched["id"]
        assert change["changeKind"]["subResources"] == ["alias"]
        assert change["resourceObject"]["name"] == "feed-watched-2"
        with pytest.raises(errors.TimeoutError):
            feed_wait(feed, DELAY)  # the stop finishes meanwhile: still nothing


def test_a_refused_feed_raises_at_once(server: EmulatorServer, keys: dict[str, TestKey]) -> None:
    stranger = _client(server.url, keys["ed25519"])  # a key the account does not have
    with stranger, pytest.raises(errors.CloudAPIError) as caught:
        stranger.changefeed()
    assert caught.value.status == 401
    with pytest.raises(ValueError, match="colour"):
        stranger.changefeed(["state", "colour"])
    with pytest.raises(ValueError, match="non-empty"):
        stranger.changefeed([])


class Relay:
    """A TCP relay to the emulator whose connections the test can cut (a network drop)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.accepted = 0
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self.accepted += 1
                self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Drop every open connection, without a close frame."""
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._open.clear()

    def close(self) -> None:
        self.cut()
        self.listener.close()


def test_reconnect_after_the_network_drops(
    server: EmulatorServer, keys: dict[str, TestKey], api: CloudAPI, image: str
) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    relay = Relay((host, int(port)))
    machine = _running(api, image, "feed-relay")
    try:
        with (
            _client(relay.url, keys["rsa"]) as through,
            through.changefeed(["tags"], timeout=10, reconnect=True) as feed,
        ):
            api.add_machine_tags(machine["id"], {"n": "1"})
            assert next(feed)["resourceObject"]["tags"] == {"n": "1"}
            relay.cut()
            api.add_machine_tags(machine["id"], {"n": "2"})  # as the feed is down: lost
            # once the feed is back (signed again and registered again) changes flow
            sent = 3
            while True:
                api.add_machine_tags(machine["id"], {"n": str(sent)})
                try:
                    change = feed_wait(feed, 0.5)
                except errors.TimeoutError:
                    sent += 1
                    assert sent < 20, "the feed did not come back"
                    continue
                break
            # CloudAPI does not send what happened while no feed was open
            assert int(change["resourceObject"]["tags"]["n"]) >= 3
            assert feed.reconnects == 1 and feed.close_code == 1006
            assert relay.accepted >= 2
    finally:
        relay.close()


def test_reconnect_after_the_server_restarts(keys: dict[str, TestKey], tmp_path: Path) -> None:
    first = _server(keys, tmp_path).start()
    port = int(first.url.rsplit(":", 1)[1])
    with _client(first.url, keys["rsa"]) as client:
        feed = client.changefeed(["state"], timeout=15, reconnect=True)
        first.stop()  # the server closes every feed as it goes (1012, service restart)
        with _server(keys, tmp_path, port=port):
            machine = client.create_machine(image=_image_id(client), package=PACKAGE)
            try:
                change = next(feed)
            finally:
                feed.close()
    assert change["changedResourceId"] == machine["id"]
    assert change["resourceState"] == "running"  # the provisioning one came while away
    assert feed.reconnects == 1
