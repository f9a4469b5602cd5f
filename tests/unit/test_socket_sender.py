"""The socket sender the CLI uses: HTTP/1.1 framing, keep-alive, stale connections, failures."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from smartdc import errors
from smartdc._socket_sender import SocketSender
from smartdc.transport import SendError

Reply = Callable[[bytes], bytes | None]


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


def test_a_response_is_read_by_its_content_length_and_headers_ignore_case() -> None:
    with server(ok()) as (url, _):
        sender = SocketSender(url)
        response = sender.send("GET", "/x", {"Host": "h"}, None)
        sender.close()
    assert (response.status, response.content) == (200, b'{"ok":true}')
    assert response.headers["request-id"] == response.headers["REQUEST-ID"] == "r1"


def test_chunked_bodies_are_reassembled() -> None:
    def chunked(head: bytes) -> bytes:
        return (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n"
        )

    with server(chunked) as (url, _):
        sender = SocketSender(url)
        assert sender.send("GET", "/", {}, None).content == b"hello world"
        assert sender.send("GET", "/", {}, None).content == b"hello world"
        sender.close()


def test_requests_share_one_kept_alive_connection() -> None:
    with server(ok()) as (url, seen):
        sender = SocketSender(url)
        for _ in range(3):
            sender.send("GET", "/", {}, None)
        sender.close()
    assert seen == [1, 1, 1]


def test_a_connection_the_server_closed_is_reopened_once_transparently() -> None:
    with server(ok(), close_after=1) as (url, seen):
        sender = SocketSender(url)
        first = sender.send("GET", "/", {}, None)
        second = sender.send("POST", "/", {}, b"{}")
        sender.close()
    assert first.status == second.status == 200
    assert seen == [1, 2]


def test_a_refused_connection_is_a_retryable_connect_error() -> None:
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    sender = SocketSender(f"http://127.0.0.1:{port}")
    with pytest.raises(SendError) as caught:
        sender.send("GET", "/my", {}, None)
    assert caught.value.retryable
    error = caught.value.build(" after 2 attempts")
    assert isinstance(error, errors.ConnectError)
    assert f"could not connect to http://127.0.0.1:{port}" in str(error)
    assert "after 2 attempts" in str(error)


def test_garbage_instead_of_http_is_a_transport_error() -> None:
    with server(lambda head: b"SSH-2.0-OpenSSH_9.2\r\n\r\n") as (url, _):
        sender = SocketSender(url)
        with pytest.raises(SendError) as caught:
            sender.send("GET", "/", {}, None)
    assert "not an HTTP/1.x status line" in str(caught.value.build(""))


def test_https_to_a_plain_http_server_names_the_http_url() -> None:
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
    sender = SocketSender(f"https://127.0.0.1:{port}", verify=False, timeout=5)
    with pytest.raises(SendError) as caught:
        sender.send("GET", "/", {}, None)
    listener.close()
    assert not caught.value.retryable
    message = str(caught.value.build(""))
    assert f"use http://127.0.0.1:{port}" in message


def test_a_short_body_is_reported_not_returned() -> None:
    def short(head: bytes) -> bytes:
        return b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nabc"

    with server(short, close_after=1) as (url, _):
        sender = SocketSender(url)
        with pytest.raises(SendError) as caught:
            sender.send("GET", "/", {}, None)
    assert "3 of 10 bytes" in str(caught.value.build(""))
