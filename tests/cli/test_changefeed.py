"""``smartdc changefeed`` and the WebSocket client under it, against a WebSocket server thread.

The emulator has no changefeed, so a small server here checks the upgrade request (path,
WebSocket headers and a valid HTTP signature by the test key), reads the subscription the
CLI sends, and plays a scripted feed: change frames (one fragmented), a ping, a binary frame,
then a close.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from smartdc.auth.httpsig import parse_authorization, verify_request
from smartdc.auth.keys import parse_public_key
from smartdc.cli import websocket
from smartdc.cli.commands.changefeed import format_change, split_instances
from tests.cli.harness import CliWorld
from tests.conftest import ACCOUNT, TestKey

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
VM = "b6979942-7d5d-4fe6-a2ec-b812e950625a"
OTHER_VM = "0e7ea7ab-0a4c-4bd4-b2e4-3cfd6fbb0f0a"


def change(published: str, sub: list[str], state: str, vm: str = VM) -> dict[str, Any]:
    return {
        "changeKind": {"resource": "vm", "subResources": sub},
        "changedResourceId": vm,
        "published": published,
        "resourceState": state,
        "resourceObject": {"uuid": vm, "state": state},
    }


CHANGE_1 = change("1590000000123", ["state"], "stopping")
CHANGE_2 = change("1590000001000", ["state", "alias"], "stopped", OTHER_VM)


def frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    """A server frame (unmasked), built here independently of the client module."""
    head = bytes([(0x80 if fin else 0) | opcode])
    if len(payload) < 126:
        head += bytes([len(payload)])
    elif len(payload) < 65536:
        head += bytes([126]) + struct.pack("!H", len(payload))
    else:
        head += bytes([127]) + struct.pack("!Q", len(payload))
    return head + payload


@dataclass
class Peer:
    """The server side of one accepted connection."""

    sock: socket.socket
    buffer: bytearray = field(default_factory=bytearray)

    def _exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("client went away")
            self.buffer += chunk
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def read_frame(self) -> tuple[int, bytes]:
        first, second = self._exactly(2)
        assert second & 0x80, "client frames must be masked"
        size = second & 0x7F
        if size == 126:
            size = struct.unpack("!H", self._exactly(2))[0]
        elif size == 127:
            size = struct.unpack("!Q", self._exactly(8))[0]
        key = self._exactly(4)
        data = self._exactly(size)
        return first & 0x0F, bytes(b ^ key[i % 4] for i, b in enumerate(data))

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)


Script = Callable[[Peer], None]


class WebSocketServer:
    """Accepts one connection at a time; checks the upgrade, then runs ``script``."""

    def __init__(self, public_key_path: str) -> None:
        self.public_key = parse_public_key(Path(public_key_path).read_text())
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.script: Script = lambda peer: None
        self.status = 101
        self.seen: list[dict[str, Any]] = []
        self.errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            sock.settimeout(10)
            try:
                self._one(sock)
            except BaseException as exc:  # reported by the test
                self.errors.append(exc)
            finally:
                sock.close()

    def _one(self, sock: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(4096)
        head, _, rest = data.partition(b"\r\n\r\n")
        request_line, *lines = head.decode("latin-1").split("\r\n")
        method, target, _ = request_line.split(" ")
        headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines)}
        parsed = parse_authorization(headers.get("authorization"), headers)
        record = {
            "method": method,
            "target": target,
            "headers": headers,
            "key_id": parsed.key_id,
            "signed": parsed.headers,
            "valid": verify_request(parsed, self.public_key, method, target, headers),
        }
        self.seen.append(record)
        if self.status != 101:
            body = json.dumps({"code": "ResourceNotFound", "message": f"{target} does not exist"})
            sock.sendall(
                f"HTTP/1.1 {self.status} Not Found\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n{body}".encode()
            )
            return
        accept = base64.b64encode(
            hashlib.sha1(headers["sec-websocket-key"].encode() + GUID).digest()
        )
        sock.sendall(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        peer = Peer(sock, bytearray(rest))
        opcode, payload = peer.read_frame()
        record["subscription"] = (opcode, json.loads(payload))
        self.script(peer)

    def close(self) -> None:
        self.listener.close()


@pytest.fixture(scope="module")
def server(keys: dict[str, TestKey]) -> Iterator[WebSocketServer]:
    ws_server = WebSocketServer(str(keys["rsa"].pub_path))
    yield ws_server
    ws_server.close()


@pytest.fixture
def feed_world(
    server: WebSocketServer, keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CliWorld]:
    server.seen.clear()
    server.errors.clear()
    server.status = 101
    yield CliWorld(tmp_path_factory.mktemp("feed-home"), server.url, keys["rsa"])
    assert server.errors == []


def play_feed(peer: Peer) -> None:
    """Two changes (the second in two fragments), a ping, a binary frame, a close."""
    peer.send(frame(websocket.OP_TEXT, json.dumps(CHANGE_1).encode()))
    second = json.dumps(CHANGE_2).encode()
    peer.send(frame(websocket.OP_TEXT, second[:20], fin=False))
    peer.send(frame(websocket.OP_PING, b"are you there"))
    peer.send(frame(websocket.OP_CONTINUATION, second[20:]))
    assert peer.read_frame() == (websocket.OP_PONG, b"are you there")
    peer.send(frame(websocket.OP_BINARY, b"\x00\x01"))
    peer.send(frame(websocket.OP_CLOSE, struct.pack("!H", 1000) + b"bye"))
    opcode, payload = peer.read_frame()
    assert opcode == websocket.OP_CLOSE and payload[:2] == struct.pack("!H", 1000)


EXPECTED_TEXT = """\
Change (2020-05-20T18:40:00.123Z) =>
    modified: state
    state: stopping
    internal state: stopping
    object: b6979942
Change (2020-05-20T18:40:01.000Z) =>
    modified: state,alias
    state: stopped
    internal state: stopped
    object: 0e7ea7ab
"""


def test_prints_each_change_as_triton_and_ends_with_the_feed(
    server: WebSocketServer, feed_world: CliWorld, keys: dict[str, TestKey]
) -> None:
    server.script = play_feed
    result = feed_world.run("changefeed")
    assert (result.status, result.out, result.err) == (0, EXPECTED_TEXT, "")

    [seen] = server.seen
    assert (seen["method"], seen["target"]) == ("GET", f"/{ACCOUNT}/changefeed")
    assert seen["valid"], "the upgrade request must carry a valid signature"
    assert seen["key_id"] == f"/{ACCOUNT}/keys/{keys['rsa'].md5}"
    assert seen["signed"] == ("(request-target)", "date")
    headers = seen["headers"]
    assert headers["upgrade"].lower() == "websocket"
    assert headers["sec-websocket-version"] == "13"
    assert headers["host"] == server.url.removeprefix("http://")
    assert headers["accept-version"]
    # the subscription triton sends: every VM sub-resource, no vms filter
    assert seen["subscription"] == (
        websocket.OP_TEXT,
        {
            "resource": "vm",
            "subResources": [
                "alias",
                "customer_metadata",
                "destroyed",
                "nics",
                "owner_uuid",
                "server_uuid",
                "state",
                "tags",
            ],
        },
    )


def test_json_prints_frames_as_received_and_instances_filter_the_subscription(
    server: WebSocketServer, feed_world: CliWorld
) -> None:
    raw = '{"changeKind": {"subResources": ["tags"]},  "published": "1"}'

    def script(peer: Peer) -> None:
        peer.send(frame(websocket.OP_TEXT, raw.encode()))
        # ends without a close frame: the CLI stops quietly too

    server.script = script
    result = feed_world.run(
        "changefeed", "-j", "--instances", f"{VM}, {OTHER_VM},", "--instances", VM
    )
    assert (result.status, result.out) == (0, raw + "\n")
    assert server.seen[0]["subscription"][1]["vms"] == [VM, OTHER_VM, VM]


def test_refused_upgrade_is_reported_with_cloudapi_error(
    server: WebSocketServer, feed_world: CliWorld
) -> None:
    server.status = 404
    result = feed_world.run("changefeed")
    assert result.status == 1  # as triton, which says only "NotFoundError"
    assert result.err == (
        f"smartdc changefeed: error (ResourceNotFound): /{ACCOUNT}/changefeed does not exist\n"
    )
    bad = feed_world.run("changefeed", "extra")
    assert (bad.status, bad.err) == (1, "smartdc changefeed: error: invalid args: extra\n")


def test_format_change_copes_with_missing_fields() -> None:
    assert format_change({}).splitlines() == [
        "Change (undefined) =>",
        "    modified: undefined",
        "    state: undefined",
        "    internal state: undefined",
        "    object: undefined",
    ]
    assert split_instances([" a ,b,,", "c"]) == ["a", "b", "c"]


# --- the WebSocket client module on its own --------------------------------------------------


def test_accept_key_and_masking_follow_rfc_6455() -> None:
    # the example of RFC 6455 section 1.3
    assert websocket.accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    key = b"\x37\xfa\x21\x3d"
    # the masked "Hello" of RFC 6455 section 5.7
    assert websocket.encode_frame(websocket.OP_TEXT, b"Hello", mask_key=key) == bytes.fromhex(
        "818537fa213d7f9f4d5158"
    )
    for size in (0, 125, 126, 65535, 65536):
        data = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
        encoded = websocket.encode_frame(websocket.OP_BINARY, data)
        assert encoded == frame(websocket.OP_BINARY, data)
        assert websocket.mask(key, websocket.mask(key, data)) == data


@dataclass
class _Target:
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    subprotocols: tuple[str, ...] = ()


def test_client_exchanges_binary_and_large_messages_and_closes(
    server: WebSocketServer, keys: dict[str, TestKey]
) -> None:
    from smartdc.api import CloudAPI

    big = bytes(range(256)) * 300  # needs the 16-bit length form
    received: list[tuple[int, bytes]] = []

    def echo(peer: Peer) -> None:
        received.append(peer.read_frame())
        peer.send(frame(websocket.OP_BINARY, big))
        peer.send(frame(websocket.OP_PONG, b"unasked"))  # dropped by the client
        peer.send(frame(websocket.OP_TEXT, "é".encode()))
        received.append(peer.read_frame())
        peer.send(frame(websocket.OP_CLOSE, received[-1][1]))

    server.script = echo
    server.seen.clear()
    server.status = 101
    with CloudAPI(server.url, ACCOUNT, key_id=keys["rsa"].md5, key_file=keys["rsa"].path) as api:
        request = api.get_changefeed()
    assert request.url == f"ws://{server.url.removeprefix('http://')}/{ACCOUNT}/changefeed"
    ws = websocket.connect(request, timeout=5)
    ws.send_text("{}")  # what the server reads as the subscription
    ws.send_binary(b"\x00" * 70000)  # the 64-bit length form
    assert ws.recv() == (websocket.OP_BINARY, big)
    assert ws.recv() == (websocket.OP_TEXT, "é".encode())
    ws.close(1000, "done")
    assert ws.closed and ws.close_code == 1000
    ws.close()  # again: nothing happens
    assert received == [
        (websocket.OP_BINARY, b"\x00" * 70000),
        (websocket.OP_CLOSE, struct.pack("!H", 1000) + b"done"),
    ]
    assert server.seen[0]["valid"]
    with pytest.raises(websocket.WebSocketError, match="closed"):
        ws.recv()


def test_handshake_rejects_a_wrong_accept() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        sock, _ = listener.accept()
        with sock:
            while b"\r\n\r\n" not in sock.recv(4096):
                pass
            sock.sendall(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: bogus\r\n\r\n"
            )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    with pytest.raises(websocket.WebSocketError, match="Sec-WebSocket-Accept"):
        websocket.connect(_Target(f"ws://127.0.0.1:{port}/x"), timeout=5)
    thread.join(5)
    listener.close()


def test_text_and_json_match_triton_on_the_same_feed(
    server: WebSocketServer, feed_world: CliWorld
) -> None:
    def plain_feed(peer: Peer) -> None:
        # triton's WebSocket client gives up on fragments and pings: whole frames only
        for item in (CHANGE_1, CHANGE_2):
            peer.send(frame(websocket.OP_TEXT, json.dumps(item).encode()))
        peer.send(frame(websocket.OP_CLOSE, struct.pack("!H", 1000)))
        peer.read_frame()

    server.script = plain_feed
    for args in (["changefeed"], ["changefeed", "-j", "--instances", f"{VM},{OTHER_VM}"]):
        theirs = feed_world.triton(*args, timeout=30)
        ours = feed_world.run(*args)
        assert (ours.status, ours.out) == (theirs.status, theirs.out), args
        mine, triton = server.seen[-1], server.seen[-2]
        assert mine["subscription"] == triton["subscription"]
        assert mine["target"] == triton["target"]
        assert mine["valid"] and triton["valid"]
