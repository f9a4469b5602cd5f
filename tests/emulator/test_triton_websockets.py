"""The official ``triton`` CLI (node-triton 7.17) on the emulator's WebSocket routes:
``triton changefeed`` and ``triton instance vnc``, with jobs that take real time.

Also home to two helpers the CLI comparisons use: :class:`Follower` (a long-running CLI
process whose output lines are collected as they come) and :class:`RfbClient` (the client
half of an RFB 3.8 session over a plain socket).
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from smartdc import CloudAPI, _websocket
from smartdc.emulator.server import EmulatorServer
from smartdc.errors import CloudAPIError
from tests.cli.harness import CliWorld, Result
from tests.conftest import ACCOUNT, TestKey
from tests.interop.node_peers import TRITON

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(not TRITON.exists() or shutil.which("node") is None, reason="no triton"),
]

#: Seconds a provision takes here; power actions take half.
DELAY = 1.0
PACKAGE = "g4-highcpu-128M"


# --- helpers -------------------------------------------------------------------------------


class Follower:
    """A command that runs until interrupted; its stdout lines kept with their arrival time
    (``time.time()``)."""

    def __init__(self, argv: Sequence[str], env: dict[str, str]) -> None:
        self.argv = list(argv)
        self.process = subprocess.Popen(
            self.argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.lines: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._lock:
                self.lines.append((time.time(), line))

    @property
    def text(self) -> list[str]:
        """The lines so far (with their newlines)."""
        with self._lock:
            return [line for _, line in self.lines]

    def wait_lines(self, count: int, timeout: float = 15.0) -> list[str]:
        """The lines once there are at least ``count`` (fails the test after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while len(self.text) < count:
            if self.process.poll() is not None:
                self._reader.join(2)
                if len(self.text) >= count:
                    break
                pytest.fail(f"{self.argv[:3]} exited {self.process.returncode}: {self.text}")
            if time.monotonic() > deadline:
                pytest.fail(f"{self.argv[:3]} printed {len(self.text)} lines, not {count}")
            time.sleep(0.02)
        return self.text

    def finish(self, timeout: float = 15.0) -> Result:
        """Wait for the command to end on its own."""
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"{self.argv[:3]} did not end")
        self._reader.join(5)
        assert self.process.stderr is not None
        return Result(self.process.returncode, "".join(self.text), self.process.stderr.read())

    def interrupt(self) -> Result:
        """Ctrl-C, as a user stops it; the result once it has ended."""
        self.process.send_signal(signal.SIGINT)
        return self.finish()

    def __enter__(self) -> Follower:
        return self

    def __exit__(self, *_: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def triton_argv(*args: str) -> list[str]:
    return [str(TRITON), *args]


def listening_port(follower: Follower) -> int:
    """The port from ``Listening on vnc://127.0.0.1:PORT``, the first line ``vnc`` prints."""
    line = follower.wait_lines(1)[0]
    prefix = "Listening on vnc://127.0.0.1:"
    assert line.startswith(prefix), line
    return int(line.removeprefix(prefix))


def subscribed(followers: Sequence[Follower], api: CloudAPI, machine_id: str) -> list[int]:
    """Tag ``machine_id`` until every follower has printed something (its feed is
    registered), then once more, and return each one's line count once that last change
    has been delivered (tags are set by a job, so changes come a little after the call)."""
    with api.changefeed(["tags"], vms=[machine_id], timeout=10) as oracle:
        for number in range(50):
            api.add_machine_tags(machine_id, {"feed-ping": number})
            time.sleep(0.3)
            if all(follower.text for follower in followers):
                break
        else:
            pytest.fail("the changefeed never delivered the pings")
        last = number + 1
        api.add_machine_tags(machine_id, {"feed-ping": last})
        while next(oracle)["resourceObject"]["tags"].get("feed-ping") != last:
            pass
    time.sleep(0.3)  # the followers got it at the same moment: let them print it
    return [len(follower.text) for follower in followers]


def connect_local(port: int) -> socket.socket:
    deadline = time.monotonic() + 10
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=10)
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@dataclass(frozen=True)
class ServerInit:
    width: int
    height: int
    bits_per_pixel: int
    name: str


class RfbClient:
    """The client side of RFB 3.8 (RFC 6143) with the None security type."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.init: ServerInit | None = None

    def exactly(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise EOFError(f"the server closed after {len(data)} of {size} bytes")
            data += chunk
        return data

    def handshake(self) -> ServerInit:
        """ProtocolVersion, security, ClientInit (shared): the ServerInit."""
        assert self.exactly(12) == b"RFB 003.008\n"
        self.sock.sendall(b"RFB 003.008\n")
        (count,) = self.exactly(1)
        assert count > 0, "the server refused the connection"
        assert 1 in self.exactly(count), "no None security type"
        self.sock.sendall(b"\x01")
        assert self.exactly(4) == b"\x00\x00\x00\x00", "security failed"
        self.sock.sendall(b"\x01")
        width, height = struct.unpack(">HH", self.exactly(4))
        pixel_format = self.exactly(16)
        (length,) = struct.unpack(">I", self.exactly(4))
        self.init = ServerInit(width, height, pixel_format[0], self.exactly(length).decode())
        return self.init

    def framebuffer(self) -> bytes:
        """Ask for the whole screen and return its Raw pixels (one rectangle expected)."""
        assert self.init is not None
        width, height = self.init.width, self.init.height
        self.sock.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, width, height))
        kind, count = struct.unpack(">BxH", self.exactly(4))
        assert (kind, count) == (0, 1), "one FramebufferUpdate rectangle"
        x, y, w, h, encoding = struct.unpack(">HHHHi", self.exactly(12))
        assert (x, y, w, h, encoding) == (0, 0, width, height, 0)
        return self.exactly(w * h * self.init.bits_per_pixel // 8)


def distinct_pixels(pixels: bytes, bits_per_pixel: int) -> set[bytes]:
    step = bits_per_pixel // 8
    return {pixels[i : i + step] for i in range(0, len(pixels), step)}


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(
    keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmulatorServer]:
    with EmulatorServer(
        accounts={ACCOUNT: [keys["rsa"].pub_path]},
        data_dir=tmp_path_factory.mktemp("triton-ws-data"),
        provision_delay=DELAY,
    ) as running:
        yield running


@pytest.fixture(scope="module")
def world(
    server: EmulatorServer, keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> CliWorld:
    return CliWorld(tmp_path_factory.mktemp("triton-ws-home"), server.url, keys["rsa"])


@pytest.fixture(scope="module")
def api(world: CliWorld) -> Iterator[CloudAPI]:
    with CloudAPI(world.url, ACCOUNT, key_file=world.key.path, allow_agent=False) as client:
        yield client


def running(api: CloudAPI, machine: dict[str, Any], state: str = "running") -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while (current := api.get_machine(machine["id"]))["state"] != state:
        assert time.monotonic() < deadline, f"{machine['id']} is still {current['state']}"
        time.sleep(0.05)
    return dict(current)


def container(api: CloudAPI, name: str) -> dict[str, Any]:
    images = [i for i in api.list_images() if i["name"] == "base-64-lts"]
    image = max(images, key=lambda i: i["published_at"])
    return running(api, api.create_machine(image=image["id"], package=PACKAGE, name=name))


def bhyve(api: CloudAPI, name: str) -> dict[str, Any]:
    package = next(p for p in api.list_packages() if p.get("brand") == "bhyve")
    zvols = [i for i in api.list_images() if i.get("type") == "zvol"]
    image = max(zvols, key=lambda i: i["published_at"])
    return running(api, api.create_machine(image=image["id"], package=package["id"], name=name))


# --- changefeed ----------------------------------------------------------------------------


def test_triton_changefeed_gets_a_provisions_changes_as_they_happen(
    world: CliWorld, api: CloudAPI
) -> None:
    sentinel = container(api, "tw-sentinel")
    with Follower(triton_argv("changefeed", "-j"), world.env) as feed:
        [mark] = subscribed([feed], api, sentinel["id"])
        started = time.time()
        machine = api.create_machine(image=sentinel["image"], package=PACKAGE, name="tw-new")

        def changes() -> list[tuple[float, dict[str, Any]]]:
            with feed._lock:
                lines = list(feed.lines[mark:])
            return [(at, json.loads(line)) for at, line in lines]

        deadline = time.monotonic() + 10
        while not any(c["resourceState"] == "running" for _, c in changes()):
            assert time.monotonic() < deadline, changes()
            time.sleep(0.02)
        result = feed.interrupt()
    assert result.status == 0  # Ctrl-C ends it quietly
    seen = changes()
    assert {c["changedResourceId"] for _, c in seen} == {machine["id"]}
    (first_at, first), (running_at, done) = seen[0], seen[-1]
    assert first["resourceState"] == "provisioning"
    assert first["changeKind"] == {"resource": "vm", "subResources": ["state"]}
    assert first_at - started < 0.5  # printed as the machine was created
    assert done["resourceState"] == "running"
    assert done["resourceObject"]["state"] == "running"
    assert "state" in done["changeKind"]["subResources"]
    # printed when the provision finished, not later: nobody was polling for it
    assert started + DELAY * 0.9 <= running_at < started + DELAY + 0.9
    assert abs(running_at - int(done["published"]) / 1000) < 0.5


# --- vnc -----------------------------------------------------------------------------------


def test_triton_instance_vnc_serves_the_console_on_a_local_port(
    world: CliWorld, api: CloudAPI
) -> None:
    machine = bhyve(api, "tw-hvm")
    with Follower(triton_argv("instance", "vnc", machine["name"]), world.env) as vnc:
        port = listening_port(vnc)
        with connect_local(port) as sock:
            rfb = RfbClient(sock)
            init = rfb.handshake()
            assert init.name == machine["name"]
            assert (init.width, init.height, init.bits_per_pixel) == (800, 600, 32)
            pixels = rfb.framebuffer()
            assert len(distinct_pixels(pixels, 32)) == 2  # text on a plain background
        # once the VNC client has left triton keeps its port open (and drops any other
        # client) until interrupted
        result = vnc.interrupt()
    assert (result.out, result.err) == (f"Listening on vnc://127.0.0.1:{port}\n", "")


def test_triton_instance_vnc_without_a_console_fails_as_cloudapi_answers(
    world: CliWorld, api: CloudAPI
) -> None:
    stopped = bhyve(api, "tw-hvm-stopped")
    api.stop_machine(stopped["id"])
    running(api, stopped, "stopped")
    for machine, code in (
        (container(api, "tw-zone"), "MachineHasNoVNC"),
        (stopped, "MachineStopped"),
    ):
        with pytest.raises(CloudAPIError) as answer:
            _websocket.connect(api.connect_machine_vnc(machine["id"]), timeout=10)
        assert answer.value.status == 400
        assert answer.value.code is not None and answer.value.code.startswith(code)
        # triton looks at the instance only once a VNC client connects
        vnc = Follower(triton_argv("instance", "vnc", machine["id"]), world.env)
        with vnc, connect_local(listening_port(vnc)) as sock:
            result = vnc.finish()
            assert sock.recv(10) == b""  # and it drops the client
        # triton's WebSocket client names the HTTP status, without CloudAPI's body
        assert result.status == 1
        assert result.err == "triton instance vnc: error (BadRequestError): BadRequestError\n"
