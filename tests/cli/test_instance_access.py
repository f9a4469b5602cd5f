"""``smartdc instance ssh``, ``ip`` and ``vnc`` beside ``triton``'s, on the same emulator.

``ssh`` is compared by the argv each CLI hands to ``ssh``: a stand-in ``ssh`` on PATH prints
its arguments. ``vnc`` runs against a WebSocket echo server started here (the emulator has no
VNC route), reached through the signed request the library makes.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import pytest

from smartdc.api import CloudAPI
from smartdc.api.websockets import WebSocketRequest
from smartdc.cli.commands import instance_access
from smartdc.cli.websocket import accept_key, encode_frame
from tests.cli.harness import CliWorld, Result

FAKE_SSH = """#!/bin/sh
for a in "$@"; do printf '[%s]' "$a"; done
echo
exit 7
"""


@pytest.fixture(scope="module")
def fake_ssh_world(world: CliWorld, tmp_path_factory: pytest.TempPathFactory) -> CliWorld:
    """The world with an ``ssh`` on PATH that prints its arguments and exits 7."""
    bin_dir = tmp_path_factory.mktemp("fake-bin")
    script = bin_dir / "ssh"
    script.write_text(FAKE_SSH)
    script.chmod(0o755)
    return world.with_env(PATH=f"{bin_dir}{os.pathsep}{world.env.get('PATH', '')}")


@pytest.fixture(scope="module")
def machines(api: CloudAPI) -> dict[str, dict[str, Any]]:
    """web (joyent), jump (its proxy), ubu (from an image tagged default_user=ubuntu), hv
    (bhyve)."""
    base = api.list_images(name="base-64-lts")[-1]
    flex = api.list_images(name="ubuntu-certified-22.04")[-1]
    made: dict[str, dict[str, Any]] = {}
    for name in ("web", "jump", "seed"):
        made[name] = api.create_machine(image=base["id"], package="g4-highcpu-128M", name=name)
    api.stop_machine(made["seed"]["id"])
    _wait(lambda: api.get_machine(made["seed"]["id"])["state"] == "stopped")
    image = api.create_image_from_machine(
        machine=made["seed"]["id"], name="ubu-img", version="1.0", tags={"default_user": "ubuntu"}
    )
    _wait(lambda: api.get_image(image["id"])["state"] == "active")
    made["ubu"] = api.create_machine(image=image["id"], package="g4-highcpu-128M", name="ubu")
    made["hv"] = api.create_machine(
        image=flex["id"], package="b1-flex-1G", name="hv", brand="bhyve"
    )
    del made["seed"]
    for name, machine in made.items():
        _wait(lambda m=machine: api.get_machine(m["id"])["state"] == "running")
        made[name] = api.get_machine(machine["id"])
    return made


def _wait(check: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail("the emulator did not get there in time")
        time.sleep(0.05)


def _both(world: CliWorld, *args: str) -> tuple[Result, Result]:
    return world.subprocess(*args), world.triton(*args)


def _same_first_error(ours: Result, theirs: Result) -> None:
    assert ours.status == theirs.status
    assert ours.err.splitlines()[0].replace("smartdc", "triton") == theirs.err.splitlines()[0]


# --- ssh ---------------------------------------------------------------------------------------


def test_ssh_execs_ssh_with_the_same_argv_as_triton(
    fake_ssh_world: CliWorld, machines: dict[str, Any]
) -> None:
    # a real exec (the stand-in's exit status comes back) for a few argument shapes
    for args in (
        ["ssh", "web"],
        ["instance", "ssh", "admin@web", "-v", "--", "ls", "-l"],
        ["ssh", "web", "--no-proxy", "-h"],
        ["ssh", "--", "ubu", "uptime"],
        ["ssh", "ubu"],
    ):
        ours, theirs = _both(fake_ssh_world, *args)
        assert (ours.status, ours.out) == (theirs.status, theirs.out) == (7, theirs.out), args
    home = fake_ssh_world.home
    assert fake_ssh_world.subprocess("ssh", "ubu").out == (
        f"[-o][ControlMaster=no][-o][ControlPath={home}/.triton/tmp/nullSshControlPath]"
        f"[-p][22][-l][ubuntu][{machines['ubu']['primaryIp']}]\n"
    )


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    runs: list[list[str]] = []

    def fake_exec(program: str, argv: list[str]) -> int:
        assert program == "ssh"
        runs.append(argv[1:])
        return 0

    monkeypatch.setattr(instance_access, "exec_program", fake_exec)
    return runs


def test_ssh_tags_choose_ip_port_and_proxy_like_triton(
    world: CliWorld,
    fake_ssh_world: CliWorld,
    api: CloudAPI,
    machines: dict[str, Any],
    captured: list[list[str]],
) -> None:
    web, jump = machines["web"]["id"], machines["jump"]["id"]
    jump_private = machines["jump"]["ips"][-1]
    api.add_machine_tags(web, {"tritoncli.ssh.proxy": "jump", "tritoncli.ssh.port": 2222})
    api.add_machine_tags(jump, {"tritoncli.ssh.ip": jump_private})
    try:
        world.ok("ssh", "web", "date")
        world.ok("ssh", "bob@web")
        world.ok("ssh", "--no-proxy", "web")
        # the proxy's proxyuser tag wins over USER@
        api.add_machine_tags(jump, {"tritoncli.ssh.proxyuser": "gate"})
        world.ok("ssh", "bob@web")
        web_ip = machines["web"]["primaryIp"]
        assert [run[4:] for run in captured] == [
            ["-p", "2222", "-o", f"ProxyJump=root@{jump_private}", "-l", "root", web_ip, "date"],
            ["-p", "2222", "-o", f"ProxyJump=bob@{jump_private}", "-l", "bob", web_ip],
            ["-p", "2222", "-l", "root", web_ip],
            ["-p", "2222", "-o", f"ProxyJump=gate@{jump_private}", "-l", "bob", web_ip],
        ]
        # and triton builds the same command line
        triton_argv = fake_ssh_world.triton("ssh", "bob@web").out
        assert triton_argv == "".join(f"[{arg}]" for arg in captured[-1]) + "\n"

        # an ssh.ip tag that is not the instance's own address is refused, as by triton
        api.add_machine_tags(jump, {"tritoncli.ssh.ip": "192.0.2.1"})
        ours, theirs = world.run("ssh", "web"), fake_ssh_world.triton("ssh", "web")
        _same_first_error(ours, theirs)
        assert "IP address 192.0.2.1 not attached to the instance" in ours.err
        assert len(captured) == 4
    finally:
        api.delete_machine_tags(web)
        api.delete_machine_tags(jump)


def test_ssh_usage_errors_match_triton(fake_ssh_world: CliWorld, machines: dict[str, Any]) -> None:
    for args in (["ssh"], ["ssh", "nope"], ["instance", "ssh", "-x", "web"]):
        ours, theirs = fake_ssh_world.run(*args), fake_ssh_world.triton(*args)
        _same_first_error(ours, theirs)
    assert fake_ssh_world.run("ssh", "nope").status == 3


def test_ssh_falls_back_to_root_when_the_image_is_gone(
    world: CliWorld, machines: dict[str, Any], captured: list[list[str]], monkeypatch: Any
) -> None:
    from smartdc.cli import resolve

    def missing(*_: Any, **__: Any) -> Any:
        raise resolve.NotFoundError("image with id x was not found")

    monkeypatch.setattr(resolve, "image", missing)
    world.ok("ssh", "ubu")
    assert captured[-1][-3:] == ["-l", "root", machines["ubu"]["primaryIp"]]


# --- ip ----------------------------------------------------------------------------------------


def test_ip_prints_the_primary_ip_like_triton(world: CliWorld, machines: dict[str, Any]) -> None:
    ours, theirs = world.run("ip", "web"), world.triton("ip", "web")
    assert (ours.status, ours.out) == (theirs.status, theirs.out) == (0, theirs.out)
    assert ours.out == machines["web"]["primaryIp"] + "\n"
    short = machines["web"]["id"][:8]
    assert world.ok("instance", "ip", short).out == ours.out
    for args in (["ip"], ["ip", "web", "jump"], ["ip", "nope"]):
        _same_first_error(world.run(*args), world.triton(*args))


def test_ip_without_a_primary_ip_is_an_error(world: CliWorld, monkeypatch: Any) -> None:
    from smartdc.cli import resolve

    monkeypatch.setattr(resolve, "instance", lambda api, text: {"id": "x", "name": text})
    result = world.run("ip", "lonely")
    assert result.status == 1
    assert result.err == 'smartdc instance ip: error: primaryIp not found for instance "lonely"\n'


# --- vnc ---------------------------------------------------------------------------------------


class EchoWebSocketServer:
    """A one-connection WebSocket server: records the upgrade request, pings the client,
    then echoes binary frames back until the client closes (or, with ``close_after``, sends
    that many echoes and closes itself). ``refuse`` answers the upgrade with an error."""

    def __init__(self, refuse: tuple[int, dict[str, Any]] | None = None, close_after: int = 0):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.refuse = refuse
        self.close_after = close_after
        self.request_line = ""
        self.headers: dict[str, str] = {}
        self.received: list[bytes] = []
        self.pong: bytes | None = None
        self.close_code: int | None = None
        self.all_masked = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        self.listener.close()
        with conn:
            conn.settimeout(10)
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(4096)
            head, _, rest = data.partition(b"\r\n\r\n")
            self.request_line, *lines = head.decode("latin-1").split("\r\n")
            self.headers = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines)}
            if self.refuse is not None:
                status, body = self.refuse
                payload = json.dumps(body).encode()
                conn.sendall(
                    f"HTTP/1.1 {status} Bad Request\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
                return
            accept = accept_key(self.headers["sec-websocket-key"])
            conn.sendall(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n".encode()
                + encode_frame(0x9, b"are-you-there")
            )
            buffer = bytearray(rest)
            echoes = 0
            while True:
                for opcode, payload in self._frames(conn, buffer):
                    if opcode == 0xA:
                        self.pong = payload
                    elif opcode == 0x2:
                        self.received.append(payload)
                        conn.sendall(encode_frame(0x2, payload.upper()))
                        echoes += 1
                        if self.close_after and echoes >= self.close_after:
                            conn.sendall(encode_frame(0x8, (1000).to_bytes(2, "big")))
                    elif opcode == 0x8:
                        self.close_code = int.from_bytes(payload[:2], "big")
                        conn.sendall(encode_frame(0x8, payload[:2]))
                        return

    def _frames(self, conn: socket.socket, buffer: bytearray) -> list[tuple[int, bytes]]:
        while True:
            frames = self._decode(buffer)
            if frames:
                return frames
            chunk = conn.recv(65536)
            if not chunk:
                raise ConnectionError("client went away")
            buffer += chunk

    def _decode(self, buffer: bytearray) -> list[tuple[int, bytes]]:
        """The whole frames at the start of ``buffer`` (removed from it), unmasked."""
        frames = []
        while len(buffer) >= 2:
            opcode, masked, size = buffer[0] & 0x0F, bool(buffer[1] & 0x80), buffer[1] & 0x7F
            head = {126: 4, 127: 10}.get(size, 2)
            if len(buffer) < head + 4:
                break
            if head > 2:
                size = int.from_bytes(buffer[2:head], "big")
            key = bytes(buffer[head : head + 4]) if masked else b"\0\0\0\0"
            head += 4 if masked else 0
            if len(buffer) < head + size:
                break
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(buffer[head : head + size]))
            del buffer[: head + size]
            self.all_masked = self.all_masked and masked
            frames.append((opcode, payload))
        return frames


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port: int = probe.getsockname()[1]
    return port


def _run_vnc(world: CliWorld, *args: str) -> tuple[threading.Thread, list[Result]]:
    results: list[Result] = []
    thread = threading.Thread(
        target=lambda: results.append(world.run("instance", "vnc", *args)), daemon=True
    )
    thread.start()
    return thread, results


def _connect(port: int) -> socket.socket:
    deadline = time.monotonic() + 10
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=10)
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _set_target(monkeypatch: pytest.MonkeyPatch, server: EchoWebSocketServer) -> None:
    original = CloudAPI.connect_machine_vnc

    def connect(self: CloudAPI, id: Any) -> WebSocketRequest:
        request = original(self, id)
        url = f"ws://127.0.0.1:{server.port}{urlsplit(request.url).path}"
        return WebSocketRequest(url, request.headers, request.subprotocols)

    monkeypatch.setattr(CloudAPI, "connect_machine_vnc", connect)


def test_vnc_pipes_bytes_both_ways_over_a_signed_websocket(
    world: CliWorld, machines: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = EchoWebSocketServer()
    _set_target(monkeypatch, server)
    port = _free_port()
    thread, results = _run_vnc(world, "-p", str(port), "hv")
    client = _connect(port)
    client.sendall(b"rfb 003.008\n")
    assert _recv_exactly(client, 12) == b"RFB 003.008\n"
    big = os.urandom(70000)  # a 64-bit length frame
    client.sendall(big)
    assert _recv_exactly(client, len(big)) == big.upper()
    client.close()
    thread.join(10)
    server.thread.join(10)

    assert results and results[0].status == 0, results
    assert results[0].out == f"Listening on vnc://127.0.0.1:{port}\n"
    assert server.request_line == f"GET /test/machines/{machines['hv']['id']}/vnc HTTP/1.1"
    headers = server.headers
    assert headers["authorization"].startswith(f'Signature keyId="/test/keys/{world.key.md5}"')
    assert 'headers="(request-target) date"' in headers["authorization"]
    assert headers["date"] and headers["upgrade"] == "websocket"
    assert headers["sec-websocket-version"] == "13"
    assert headers["sec-websocket-protocol"] == "binary, rfb"
    assert b"".join(server.received) == b"rfb 003.008\n" + big
    assert server.all_masked
    assert server.pong == b"are-you-there"
    assert server.close_code == 1000


def test_vnc_ends_when_the_console_closes(
    world: CliWorld, machines: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = EchoWebSocketServer(close_after=1)
    _set_target(monkeypatch, server)
    port = _free_port()
    thread, results = _run_vnc(world, "hv", "--port", str(port))
    client = _connect(port)
    client.sendall(b"hello")
    assert _recv_exactly(client, 5) == b"HELLO"
    assert client.recv(10) == b""  # the local client is disconnected too
    thread.join(10)
    assert results[0].status == 0
    assert results[0].out == f"Listening on vnc://127.0.0.1:{port}\n"


def test_vnc_reports_what_cloudapi_refused(
    world: CliWorld, machines: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    refusal = {
        "code": "MachineStopped",
        "message": "Specified machine is stopped and cannot be connected to",
    }
    server = EchoWebSocketServer(refuse=(400, refusal))
    _set_target(monkeypatch, server)
    port = _free_port()
    thread, results = _run_vnc(world, "-p", str(port), machines["hv"]["id"][:8])
    client = _connect(port)
    assert client.recv(10) == b""
    thread.join(10)
    assert results[0].status == 1
    assert results[0].err == (
        "smartdc instance vnc: error (MachineStopped): "
        "Specified machine is stopped and cannot be connected to\n"
    )


def test_vnc_refuses_instances_without_a_console(world: CliWorld, machines: dict[str, Any]) -> None:
    result = world.run("instance", "vnc", "web")
    assert result.status == 1
    assert result.out == ""
    assert result.err == (
        "smartdc instance vnc: error (MachineHasNoVNC): Specified machine does not have a VNC "
        "console\n"
    )


def test_vnc_usage_errors_match_triton(world: CliWorld) -> None:
    for args in (
        ["instance", "vnc"],
        ["instance", "vnc", "-p", "0", "hv"],
        ["instance", "vnc", "--port=x1", "hv"],
    ):
        _same_first_error(world.run(*args), world.triton(*args))
    assert world.run("instance", "vnc", "nope").status == 3
