"""The changefeed iterator: its sans-IO tracker, then the iterator over the real WebSocket
client, with the test playing the server's end of a socket pair frame by frame (fragments,
pings, drops and replays that the emulator never produces)."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from smartdc import _websocket, errors
from smartdc.api.changefeed import Changefeed, FeedTracker, change_key, is_retryable
from smartdc.api.websockets import WebSocketRequest, changefeed_subscription

VM = "b6979942-7d5d-4fe6-a2ec-b812e950625a"
SUBSCRIPTION = changefeed_subscription(["state", "tags"], vms=[VM])


def change(
    published: int, state: str = "running", sub: tuple[str, ...] = ("state",)
) -> dict[str, Any]:
    return {
        "changeKind": {"resource": "vm", "subResources": list(sub)},
        "changedResourceId": VM,
        "published": str(published),
        "resourceState": state,
        "resourceObject": {"id": VM, "state": state},
    }


def steady(**options: Any) -> FeedTracker:
    """A tracker without jitter and with short waits."""
    settings: dict[str, Any] = {"first_delay": 0.01, "max_delay": 0.05, "jitter": lambda: 1.0}
    return FeedTracker(SUBSCRIPTION, **{**settings, **options})


# --- the tracker ---------------------------------------------------------------------------


def test_tracker_registers_compactly_and_drops_replays_of_delivered_changes() -> None:
    tracker = steady()
    assert json.loads(tracker.registration) == {
        "resource": "vm",
        "subResources": ["state", "tags"],
        "vms": [VM],
    }
    assert " " not in tracker.registration
    first = change(1)
    assert tracker.receive(json.dumps(first)) == first
    # the same change again, even with the machine as it is now, is not a new one
    replay = {**first, "resourceObject": {"id": VM, "state": "stopped"}}
    assert tracker.receive(json.dumps(replay)) is None
    assert tracker.receive(json.dumps(change(1, sub=("state", "tags")))) is not None
    assert tracker.receive(json.dumps(change(2))) is not None
    assert tracker.replayed == 1
    # frames that are not changes are not delivered
    assert tracker.receive("not json") is None
    assert tracker.receive("[1, 2]") is None
    assert change_key(first) == change_key(replay) != change_key(change(2))


def test_tracker_remembers_only_recent_changes() -> None:
    tracker = steady(remember=2)
    for published in (1, 2, 3):
        assert tracker.receive(json.dumps(change(published))) is not None
    assert tracker.receive(json.dumps(change(1))) is not None  # forgotten: new again
    assert tracker.receive(json.dumps(change(3))) is None


def test_tracker_waits_longer_after_each_failure_and_starts_over_after_a_good_connection() -> None:
    tracker = FeedTracker(SUBSCRIPTION, first_delay=1.0, max_delay=4.0, jitter=lambda: 1.0)
    tracker.opened(0.0)
    assert tracker.lost(1.0) == 1.0  # a connection that delivered nothing, dropped early
    assert [tracker.failed() for _ in range(4)] == [2.0, 4.0, 4.0, 4.0]
    tracker.opened(10.0)
    tracker.receive(json.dumps(change(1)))
    assert tracker.lost(10.5) == 1.0  # it delivered a change: back to the first wait
    tracker.failed()
    tracker.opened(20.0)
    assert tracker.lost(40.0) == 1.0  # it lasted: back to the first wait
    jittered = FeedTracker(SUBSCRIPTION, first_delay=1.0, jitter=lambda: 0.0)
    assert jittered.failed() == 0.5


def test_only_failures_that_may_pass_are_retried() -> None:
    def api_error(status: int) -> errors.CloudAPIError:
        return errors.error_for_response(status, {"code": "X", "message": "x"}, None)

    assert not any(is_retryable(api_error(status)) for status in (400, 401, 403, 404))
    assert all(is_retryable(api_error(status)) for status in (429, 500, 503))
    assert is_retryable(errors.ConnectError("refused"))
    assert is_retryable(_websocket.WebSocketReset("reset"))
    assert is_retryable(ConnectionRefusedError())
    assert not is_retryable(errors.KeyFileError("no key"))
    assert not is_retryable(ValueError("bug"))


# --- the iterator over a socket pair -------------------------------------------------------


def server_frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    """An unmasked server frame, built here independently of the client module."""
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
    """The server's end of one connection."""

    sock: socket.socket
    buffer: bytearray = field(default_factory=bytearray)

    def _exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the client went away")
            self.buffer += chunk
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def read(self) -> tuple[int, bytes]:
        """One client frame, unmasked (clients must mask)."""
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

    def registration(self) -> Any:
        opcode, payload = self.read()
        assert opcode == _websocket.OP_TEXT
        return json.loads(payload)

    def send(self, opcode: int, payload: bytes, fin: bool = True) -> None:
        self.sock.sendall(server_frame(opcode, payload, fin))

    def send_change(self, item: dict[str, Any]) -> None:
        self.send(_websocket.OP_TEXT, json.dumps(item).encode())

    def drop(self) -> None:
        """Gone without a close frame."""
        self.sock.close()


class Connections:
    """A ``connect`` for :class:`Changefeed` that makes socket pairs; or fails, when told."""

    def __init__(self) -> None:
        self.peers: list[Peer] = []
        self.requests: list[WebSocketRequest] = []
        self.failures: list[BaseException] = []
        self.signed = 0

    def sign(self) -> WebSocketRequest:
        self.signed += 1
        return WebSocketRequest("ws://cloudapi/test/changefeed", {"Date": str(self.signed)})

    def connect(self, request: WebSocketRequest, **options: Any) -> _websocket.WebSocket:
        self.requests.append(request)
        if self.failures:
            raise self.failures.pop(0)
        ours, theirs = socket.socketpair()
        theirs.settimeout(10)
        self.peers.append(Peer(theirs))
        return _websocket.WebSocket(ours)

    def feed(self, **options: Any) -> Changefeed:
        settings: dict[str, Any] = {"tracker": steady(), "connect": self.connect, "timeout": 5}
        return Changefeed(self.sign, SUBSCRIPTION, **{**settings, **options})


@pytest.fixture
def connections() -> Iterator[Connections]:
    made = Connections()
    yield made
    for peer in made.peers:
        peer.sock.close()


def test_changes_are_read_whole_through_fragments_and_pings(connections: Connections) -> None:
    feed = connections.feed()
    [peer] = connections.peers
    assert peer.registration() == SUBSCRIPTION
    big = change(1)
    big["resourceObject"]["customer_metadata"] = {"blob": "x" * 70000}  # 64-bit length form
    sender = threading.Thread(target=peer.send_change, args=(big,))
    sender.start()  # more than a socket pair buffers: sent while the feed reads
    assert next(feed) == big
    sender.join(5)
    second = json.dumps(change(2)).encode()
    peer.send(_websocket.OP_TEXT, second[:20], fin=False)
    peer.send(_websocket.OP_PING, b"are you there")
    peer.send(_websocket.OP_CONTINUATION, second[20:])
    peer.send(_websocket.OP_BINARY, b"\x00\x01")  # not a change
    peer.send(_websocket.OP_TEXT, b"no json")  # not a change either
    peer.send_change(change(3))
    assert next(feed) == change(2)
    assert peer.read() == (_websocket.OP_PONG, b"are you there")
    assert next(feed) == change(3)
    assert feed.reconnects == 0


def test_close_sends_a_normal_close_frame_and_ends_iteration(connections: Connections) -> None:
    feed = connections.feed()
    [peer] = connections.peers
    peer.registration()
    answered: list[tuple[int, bytes]] = []

    def answer() -> None:
        answered.append(peer.read())
        peer.send(_websocket.OP_CLOSE, answered[-1][1][:2])

    thread = threading.Thread(target=answer)
    thread.start()
    with feed:
        pass
    thread.join(5)
    assert answered == [(_websocket.OP_CLOSE, struct.pack("!H", 1000))]
    assert feed.closed and feed.close_code == 1000  # the server's answer
    feed.close()  # again: nothing happens
    assert list(feed) == []


def test_close_waits_no_longer_than_asked_when_the_server_sends_on(
    connections: Connections,
) -> None:
    ws = connections.connect(connections.sign())
    [peer] = connections.peers
    stop = threading.Event()

    def chatter() -> None:  # frames every 50 ms for up to 10 s, and never a close
        ends = time.monotonic() + 10
        while not stop.is_set() and time.monotonic() < ends:
            try:
                peer.send(_websocket.OP_TEXT, b'{"tick":1}')
            except OSError:
                return
            time.sleep(0.05)

    thread = threading.Thread(target=chatter, daemon=True)
    thread.start()
    started = time.monotonic()
    ws.close(wait=0.5)
    waited = time.monotonic() - started
    stop.set()
    thread.join(5)
    assert ws.closed and ws.close_code == _websocket.CLOSE_ABNORMAL
    assert waited < 5, waited


def test_close_from_another_thread_ends_a_waiting_next(connections: Connections) -> None:
    feed = connections.feed()
    [peer] = connections.peers
    peer.registration()
    results: list[Any] = []

    def iterate() -> None:
        results.append(list(feed))

    thread = threading.Thread(target=iterate)
    thread.start()
    time.sleep(0.1)
    closer = threading.Thread(target=feed.close)
    closer.start()
    assert peer.read() == (_websocket.OP_CLOSE, struct.pack("!H", 1000))
    peer.send(_websocket.OP_CLOSE, struct.pack("!H", 1000))
    thread.join(5)
    closer.join(5)
    assert results == [[]]
    # a server that never answers the close does not keep the reader waiting
    silent = connections.feed()
    connections.peers[-1].registration()
    results.clear()
    thread = threading.Thread(target=lambda: results.append(list(silent)))
    thread.start()
    time.sleep(0.1)
    started = time.monotonic()
    silent.close(wait=0.2)
    thread.join(5)
    assert results == [[]] and time.monotonic() - started < 2
    assert silent.close_code == 1006  # no close frame came back


def test_without_reconnect_the_feed_ends_with_the_server_or_fails_with_the_network(
    connections: Connections,
) -> None:
    feed = connections.feed()
    peer = connections.peers[0]
    peer.registration()
    peer.send_change(change(1))
    peer.send(_websocket.OP_CLOSE, struct.pack("!H", 1001) + b"going away")
    assert list(feed) == [change(1)]
    assert (feed.close_code, feed.close_reason) == (1001, "going away")
    assert peer.read()[0] == _websocket.OP_CLOSE  # the close was answered

    dropped = connections.feed()
    connections.peers[1].registration()
    connections.peers[1].drop()
    with pytest.raises(_websocket.WebSocketError, match="without a close frame"):
        next(dropped)
    assert dropped.closed and len(connections.peers) == 2


def test_reconnect_signs_again_registers_again_and_skips_a_replayed_change(
    connections: Connections,
) -> None:
    registrations.clear()
    feed = connections.feed(reconnect=True)
    first = connections.peers[0]
    assert first.registration() == SUBSCRIPTION
    first.send_change(change(1))
    assert next(feed) == change(1)
    first.drop()  # the network goes away

    # the change last seen comes again, then a new one; then the server closes the feed
    # (as CloudAPI does when it loses VMAPI's feed)
    replay = change(1), change(2, "stopping")
    thread = threading.Thread(
        target=_send_when_connected, args=(connections, 2, *replay), kwargs={"close": 1011}
    )
    thread.start()
    assert next(feed) == change(2, "stopping")
    thread.join(5)
    assert feed.reconnects == 1
    assert feed.close_code == 1006  # how the first connection ended
    thread = threading.Thread(target=_send_when_connected, args=(connections, 3, change(3)))
    thread.start()
    assert next(feed) == change(3)
    thread.join(5)
    assert feed.close_code == 1011
    assert feed.reconnects == 2
    assert registrations == [SUBSCRIPTION] * 2
    # each connection had its own, freshly signed request
    assert [request.headers["Date"] for request in connections.requests] == ["1", "2", "3"]
    feed.close(wait=0)


def test_reconnect_retries_failures_that_may_pass_and_raises_refusals(
    connections: Connections,
) -> None:
    feed = connections.feed(reconnect=True)
    connections.peers[0].registration()
    connections.peers[0].drop()
    connections.failures = [errors.ConnectError("refused"), ConnectionResetError()]
    started = time.monotonic()
    sender = threading.Thread(target=_send_when_connected, args=(connections, 2, change(5)))
    sender.start()
    assert next(feed) == change(5)
    sender.join(5)
    # three attempts with the doubling waits between them (0.01 s, then 0.02 s, 0.04 s)
    assert len(connections.requests) == 4
    assert time.monotonic() - started >= 0.06
    assert feed.reconnects == 1

    connections.peers[1].drop()
    connections.failures = [
        errors.error_for_response(403, {"code": "NotAuthorized", "message": "no"}, None)
    ]
    with pytest.raises(errors.NotAuthorizedError):
        next(feed)
    assert feed.closed
    with pytest.raises(StopIteration):
        next(feed)


def _send_when_connected(
    connections: Connections, count: int, *items: dict[str, Any], close: int | None = None
) -> None:
    """Once the ``count``-th connection is made, check its registration and send ``items``
    (then a close frame with code ``close``)."""
    deadline = time.monotonic() + 5
    while len(connections.peers) < count and time.monotonic() < deadline:
        time.sleep(0.005)
    peer = connections.peers[count - 1]
    registrations.append(peer.registration())
    for item in items:
        peer.send_change(item)
    if close is not None:
        peer.send(_websocket.OP_CLOSE, struct.pack("!H", close))


#: What the servers started by _send_when_connected were sent first.
registrations: list[Any] = []


def test_a_timeout_leaves_the_feed_open_and_loses_nothing(connections: Connections) -> None:
    feed = connections.feed(timeout=0.2)
    peer = connections.peers[0]
    peer.registration()
    frame = server_frame(_websocket.OP_TEXT, json.dumps(change(7)).encode())
    peer.sock.sendall(frame[:10])  # half a change
    started = time.monotonic()
    with pytest.raises(errors.TimeoutError):
        next(feed)
    assert 0.15 < time.monotonic() - started < 1.5
    assert isinstance(errors.TimeoutError("x"), TimeoutError)
    peer.sock.sendall(frame[10:])
    assert next(feed) == change(7)
    assert not feed.closed


def test_a_timeout_while_reconnecting_keeps_trying_on_the_next_call(
    connections: Connections,
) -> None:
    tracker = FeedTracker(SUBSCRIPTION, first_delay=1.0, jitter=lambda: 1.0)
    feed = connections.feed(timeout=0.3, reconnect=True, tracker=tracker)
    connections.peers[0].registration()
    connections.peers[0].drop()
    for _ in range(2):
        with pytest.raises(errors.TimeoutError, match="reconnecting"):
            next(feed)
        assert len(connections.peers) == 1  # still waiting before the next attempt
    sender = threading.Thread(target=_send_when_connected, args=(connections, 2, change(8)))
    sender.start()
    time.sleep(0.5)  # the wait is over now: the next call connects at once
    assert next(feed) == change(8)
    sender.join(5)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="timeout"):
        Changefeed(lambda: WebSocketRequest("ws://x/", {}), SUBSCRIPTION, timeout=0)


# --- the WebSocket layer under it ----------------------------------------------------------


def test_accept_key_and_masking_follow_rfc_6455() -> None:
    # the example of RFC 6455 section 1.3
    assert _websocket.accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    key = b"\x37\xfa\x21\x3d"
    # the masked "Hello" of RFC 6455 section 5.7
    assert _websocket.encode_frame(_websocket.OP_TEXT, b"Hello", mask_key=key) == bytes.fromhex(
        "818537fa213d7f9f4d5158"
    )
    for size in (0, 125, 126, 65535, 65536):
        data = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
        assert _websocket.encode_frame(_websocket.OP_BINARY, data) == server_frame(0x2, data)
        assert _websocket.mask(key, _websocket.mask(key, data)) == data


def test_handshake_rejects_a_wrong_accept() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def answer() -> None:
            sock, _ = listener.accept()
            with sock:
                while b"\r\n\r\n" not in sock.recv(4096):
                    pass
                sock.sendall(
                    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    b"Connection: Upgrade\r\nSec-WebSocket-Accept: bogus\r\n\r\n"
                )

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        with pytest.raises(_websocket.WebSocketError, match="Sec-WebSocket-Accept"):
            _websocket.connect(WebSocketRequest(f"ws://127.0.0.1:{port}/x", {}), timeout=5)
        thread.join(5)
