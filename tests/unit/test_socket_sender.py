"""The socket senders (blocking, and asyncio): HTTP/1.1 framing, keep-alive, stale
connections, failures. Every test runs against both."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

import pytest

from smartdc import errors
from smartdc._async_socket_sender import AsyncSocketSender
from smartdc._socket_sender import SocketSender
from smartdc.transport import RawResponse, SendError

Reply = Callable[[bytes], bytes | None]


class Sender(Protocol):
    def send(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes | None
    ) -> RawResponse: ...

    def close(self) -> None: ...


class AsyncOnOneLoop:
    """An :class:`AsyncSocketSender` driven from plain code, on one event loop of its own
    (its kept connections belong to that loop)."""

    def __init__(self, url: str, **options: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._sender = AsyncSocketSender(url, **options)

    def send(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes | None
    ) -> RawResponse:
        return self._loop.run_until_complete(self._sender.send(method, target, headers, body))

    def close(self) -> None:
        self._loop.run_until_complete(self._sender.close())
        self._loop.close()


Make = Callable[..., Sender]


@pytest.fixture(params=["blocking", "asyncio"])
def make(request: pytest.FixtureRequest) -> Make:
    """Makes the sender under test: :class:`SocketSender` or :class:`AsyncSocketSender`."""
    if request.param == "blocking":
        return SocketSender
    return AsyncOnOneLoop


@contextmanager
def server(reply: Reply, *, close_after: int | None = None) -> Iterator[tuple[str, list[int]]]:
    """A loopback server answering each request with ``reply(request_head)``; yields its URL
    and the list of connection numbers each request arrived on."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    seen: list[int] = []
    stop = threading.Event()

    def serve() -> None:
        connection_number = 0
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            connection_number += 1
            handled = 0
            reader = conn.makefile("rb")
            with conn, reader:  # both: the file object alone keeps the socket open
                while True:
                    head = b""
                    while not head.endswith(b"\r\n\r\n"):
                        line = reader.readline()
                        if not line:
                            break
                        head += line
                    if not head:
                        break
                    length = 0
                    for line in head.split(b"\r\n"):
                        if line.lower().startswith(b"content-length:"):
                            length = int(line.split(b":")[1])
                    reader.read(length)
                    seen.append(connection_number)
                    answer = reply(head)
                    if answer is None:
                        break
                    conn.sendall(answer)
                    handled += 1
                    if close_after is not None and handled >= close_after:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        stop.set()
        listener.close()


def ok(body: bytes = b'{"ok":true}') -> Reply:
    return lambda head: (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nRequest-Id: r1\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


def test_a_response_is_read_by_its_content_length_and_headers_ignore_case(make: Make) -> None:
    with server(ok()) as (url, _):
        sender = make(url)
        response = sender.send("GET", "/x", {"Host": "h"}, None)
        sender.close()
    assert (response.status, response.content) == (200, b'{"ok":true}')
    assert response.headers["request-id"] == response.headers["REQUEST-ID"] == "r1"


def test_chunked_bodies_are_reassembled(make: Make) -> None:
    def chunked(head: bytes) -> bytes:
        return (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n"
        )

    with server(chunked) as (url, _):
        sender = make(url)
        assert sender.send("GET", "/", {}, None).content == b"hello world"
        assert sender.send("GET", "/", {}, None).content == b"hello world"
        sender.close()


def test_requests_share_one_kept_alive_connection(make: Make) -> None:
    with server(ok()) as (url, seen):
        sender = make(url)
        for _ in range(3):
            sender.send("GET", "/", {}, None)
        sender.close()
    assert seen == [1, 1, 1]


def test_a_connection_the_server_closed_is_reopened_once_transparently(make: Make) -> None:
    with server(ok(), close_after=1) as (url, seen):
        sender = make(url)
        first = sender.send("GET", "/", {}, None)
        time.sleep(0.1)  # the server's close arrives before the next request is sent
        second = sender.send("POST", "/", {}, b"{}")
        sender.close()
    assert first.status == second.status == 200
    assert seen == [1, 2]


def test_a_refused_connection_is_a_retryable_connect_error(make: Make) -> None:
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    sender = make(f"http://127.0.0.1:{port}")
    with pytest.raises(SendError) as caught:
        sender.send("GET", "/my", {}, None)
    assert caught.value.retryable
    error = caught.value.build(" after 2 attempts")
    assert isinstance(error, errors.ConnectError)
    assert f"could not connect to http://127.0.0.1:{port}" in str(error)
    assert "after 2 attempts" in str(error)


def test_garbage_instead_of_http_is_a_transport_error(make: Make) -> None:
    with server(lambda head: b"SSH-2.0-OpenSSH_9.2\r\n\r\n") as (url, _):
        sender = make(url)
        with pytest.raises(SendError) as caught:
            sender.send("GET", "/", {}, None)
    assert "not an HTTP/1.x status line" in str(caught.value.build(""))


def test_https_to_a_plain_http_server_names_the_http_url(make: Make) -> None:
    # A plain HTTP server answers a TLS ClientHello with an HTTP error and hangs up.
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def answer_plainly() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=answer_plainly, daemon=True)
    thread.start()
    sender = make(f"https://127.0.0.1:{port}", verify=False, timeout=5)
    with pytest.raises(SendError) as caught:
        sender.send("GET", "/", {}, None)
    listener.close()
    assert not caught.value.retryable
    message = str(caught.value.build(""))
    assert f"use http://127.0.0.1:{port}" in message


def test_a_short_body_is_reported_not_returned(make: Make) -> None:
    def short(head: bytes) -> bytes:
        return b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nabc"

    with server(short, close_after=1) as (url, _):
        sender = make(url)
        with pytest.raises(SendError) as caught:
            sender.send("GET", "/", {}, None)
    assert "3 of 10 bytes" in str(caught.value.build(""))


def test_a_server_that_does_not_answer_is_a_timeout(make: Make) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True)
    thread.start()
    sender = make(f"http://127.0.0.1:{port}", timeout=0.3)
    with pytest.raises(SendError) as caught:
        sender.send("GET", "/", {}, None)
    sender.close()
    listener.close()
    for conn in accepted:
        conn.close()
    assert not caught.value.retryable
    assert isinstance(caught.value.build(""), errors.TimeoutError)


def test_concurrent_async_requests_are_capped_by_the_pool() -> None:
    connections = 0
    busy = 0
    most_busy = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections, busy, most_busy
        connections += 1
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while await reader.readuntil(b"\r\n\r\n"):
                busy += 1
                most_busy = max(most_busy, busy)
                await asyncio.sleep(0.005)
                busy -= 1
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
                await writer.drain()
        writer.close()

    async def scenario() -> list[int]:
        listener = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        sender = AsyncSocketSender(f"http://127.0.0.1:{port}", max_connections=4)
        answers = await asyncio.gather(*(sender.send("GET", f"/{n}", {}, None) for n in range(40)))
        await sender.close()
        listener.close()
        return [answer.status for answer in answers]

    statuses = asyncio.run(scenario())
    assert statuses == [200] * 40
    assert connections == 4  # kept alive and reused, never more than the cap
    assert most_busy == 4


def test_clients_choose_the_socket_senders_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch, keys: dict[str, Any]
) -> None:
    import httpx

    from smartdc import AsyncCloudAPI, CloudAPI
    from smartdc._async_socket_sender import AsyncSocketSender
    from smartdc._httpx_sender import AsyncHttpxSender, HttpxSender

    key = keys["ed25519"]
    options: dict[str, Any] = {"key_id": key.sha256, "key_file": key.path, "allow_agent": False}
    for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("ALL_PROXY", raising=False)
    assert isinstance(CloudAPI("https://h", "a", **options)._session._sender, SocketSender)
    assert isinstance(
        AsyncCloudAPI("https://h", "a", **options)._session._sender, AsyncSocketSender
    )
    mocked = CloudAPI("https://h", "a", transport=httpx.MockTransport(lambda r: None), **options)  # type: ignore[arg-type]
    assert isinstance(mocked._session._sender, HttpxSender)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert isinstance(CloudAPI("https://h", "a", **options)._session._sender, HttpxSender)
    assert isinstance(AsyncCloudAPI("https://h", "a", **options)._session._sender, AsyncHttpxSender)


def test_a_post_whose_connection_closes_unanswered_is_not_sent_again(make: Make) -> None:
    answers = iter([ok()(b""), None])
    with server(lambda head: next(answers, None)) as (url, seen):
        sender = make(url)
        sender.send("GET", "/", {}, None)
        with pytest.raises(SendError) as caught:
            sender.send("POST", "/my/machines/x?action=stop", {}, b"{}")
        sender.close()
    assert seen == [1, 1]  # the POST reached the server once and was not repeated
    assert "closed the connection without answering" in str(caught.value.build(""))


def test_a_get_whose_connection_closes_unanswered_is_sent_again(make: Make) -> None:
    answers = iter([ok()(b""), None, ok()(b"")])
    with server(lambda head: next(answers, None)) as (url, seen):
        sender = make(url)
        sender.send("GET", "/", {}, None)
        again = sender.send("GET", "/", {}, None)
        sender.close()
    assert again.status == 200
    assert seen == [1, 1, 2]


def test_the_async_sender_serves_one_event_loop_after_another() -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    peers: set[tuple[str, int]] = set()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive

        def do_GET(self) -> None:
            peers.add(self.client_address)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            return None

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        sender = AsyncSocketSender(f"http://127.0.0.1:{httpd.server_address[1]}")
        first = asyncio.run(sender.send("GET", "/", {}, None))
        second = asyncio.run(sender.send("GET", "/", {}, None))  # another loop: a new connection
        asyncio.run(sender.close())
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert first.status == second.status == 200
    assert len(peers) == 2
