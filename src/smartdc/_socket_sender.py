"""A :class:`~smartdc.transport.Sender` written on the socket module, for fast-starting tools.

The ``smartdc`` CLI sends a handful of requests and exits, so what it pays for most is start-up:
importing httpx takes about 0.13 s and ``http.client`` (with its email parser) about 0.05 s on
a 2-core machine, while this module needs only ``socket`` (and ``ssl`` for https URLs). It
speaks the HTTP/1.1 subset CloudAPI uses: one request at a time on a keep-alive connection,
bodies framed by ``Content-Length`` or chunked transfer coding, no compression, no redirects
followed. A kept connection the server has closed meanwhile is reopened, transparently: when
the close is seen before sending, for any request; when it is seen only after sending, for
idempotent methods only, since a POST may have been acted on.
Each thread gets a connection of its own, so one client can send from several threads at once.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING

from smartdc import _http11
from smartdc._http11 import MAX_LINE, ProtocolError, StaleConnection, send_error
from smartdc.transport import (
    IDEMPOTENT_METHODS,
    Headers,
    RawResponse,
    SendError,
    failure,
    tls_context,
)

if TYPE_CHECKING:
    import ssl


class _Connection:
    """One kept-alive TCP (or TLS) connection."""

    __slots__ = ("reader", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader: IO[bytes] = sock.makefile("rb")

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


class SocketSender:
    """Sends requests over kept-alive TCP (or TLS) connections, one per thread."""

    def __init__(
        self,
        base_url: str,
        *,
        verify: bool | str | ssl.SSLContext = True,
        timeout: float = 30.0,
    ) -> None:
        """``verify``: ``True`` (system CAs), ``False`` (no checks), a CA bundle path (file
        or directory; read only when a TLS connection is first made) or a ready context."""
        self._tls, self._host, self._port, self._origin = _http11.endpoint(base_url)
        self._verify = verify
        self._timeout = timeout
        self._local = threading.local()
        self._open: set[_Connection] = set()
        self._lock = threading.Lock()

    @property
    def _sock(self) -> socket.socket | None:
        connection: _Connection | None = getattr(self._local, "connection", None)
        return connection.sock if connection else None

    @property
    def _reader(self) -> IO[bytes] | None:
        connection: _Connection | None = getattr(self._local, "connection", None)
        return connection.reader if connection else None

    def send(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes | None
    ) -> RawResponse:
        """Send one request and read the whole answer; failures raise :class:`SendError`."""
        payload = _http11.request_bytes(method, target, headers, body)
        url = self._origin + target
        for reused in (self._sock is not None, False):
            try:
                return self._exchange(payload, method, reused)
            except StaleConnection:
                continue
            except (OSError, ProtocolError) as exc:
                self._drop()
                raise send_error(exc, method, url) from exc
        raise AssertionError("unreachable: a fresh connection is never stale")

    def _exchange(self, payload: bytes, method: str, reused: bool) -> RawResponse:
        if self._sock is not None and _closed_by_peer(self._sock):
            self._drop()  # the server closed the idle connection: nothing was sent on it
        if self._sock is None:
            self._connect(method)
        assert self._sock is not None and self._reader is not None
        try:
            self._sock.sendall(payload)
            status_line = self._reader.readline(MAX_LINE + 1)
        except (BrokenPipeError, ConnectionResetError):
            if not reused:
                raise
            status_line = b""
        if not status_line:
            self._drop()
            # Sending again is safe only where the request may be repeated: a POST that
            # reached the server may have been acted on (transport's retry table).
            if reused and method in IDEMPOTENT_METHODS:
                raise StaleConnection()
            raise ProtocolError("the server closed the connection without answering")
        status, headers = self._read_head(status_line)
        content = self._read_body(method, status, headers)
        if headers.get("connection", "").lower() == "close":
            self._drop()
        return RawResponse(status, headers, content)

    def _connect(self, method: str) -> None:
        try:
            # An ASCII host goes as bytes, so that socket does not load the idna codec.
            host: str | bytes = self._host.encode("ascii") if self._host.isascii() else self._host
            sock = socket.create_connection((host, self._port), timeout=self._timeout)  # type: ignore[arg-type]
        except TimeoutError as exc:
            url = self._origin
            raise SendError(
                failure("timeout", method, url, "connect timed out"), retryable=True
            ) from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._tls:
            sock = self._wrap_tls(sock)
        connection = _Connection(sock)
        self._local.connection = connection
        with self._lock:
            self._open.add(connection)

    def _wrap_tls(self, sock: socket.socket) -> socket.socket:
        context = self._verify = tls_context(self._verify)  # made once, on first use
        try:
            return context.wrap_socket(sock, server_hostname=self._host)
        except BaseException:
            sock.close()
            raise

    def _read_head(self, status_line: bytes) -> tuple[int, Headers]:
        assert self._reader is not None
        status = _http11.status_of(status_line)
        items: list[tuple[str, str]] = []
        while True:
            line = self._reader.readline(MAX_LINE + 1)
            if _http11.is_end_of_head(line):
                return status, Headers(items)
            items.append(_http11.header_of(line, len(items)))

    def _read_body(self, method: str, status: int, headers: Headers) -> bytes:
        assert self._reader is not None
        framed, length = _http11.framing(method, status, headers)
        if framed == "none":
            return b""
        if framed == "length":
            return _http11.check_length(self._reader.read(length), length)
        if framed == "chunked":
            return self._read_chunked()
        content = self._reader.read()
        self._drop()
        return content

    def _read_chunked(self) -> bytes:
        assert self._reader is not None
        chunks: list[bytes] = []
        while True:
            size = _http11.chunk_size(self._reader.readline(MAX_LINE + 1))
            if size == 0:
                while self._reader.readline(MAX_LINE + 1) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(_http11.check_length(self._reader.read(size), size))
            self._reader.readline(MAX_LINE + 1)

    def _drop(self) -> None:
        """Close this thread's connection, if any."""
        connection: _Connection | None = getattr(self._local, "connection", None)
        if connection is not None:
            self._local.connection = None
            with self._lock:
                self._open.discard(connection)
            connection.close()

    def close(self) -> None:
        """Close every kept connection."""
        self._drop()
        with self._lock:
            connections, self._open = self._open, set()
        for connection in connections:
            connection.close()


def _closed_by_peer(sock: socket.socket) -> bool:
    """Whether an idle kept connection was closed by the server (readable means EOF or a
    stray byte; either way it cannot carry a request)."""
    import select

    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)
