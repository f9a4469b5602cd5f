"""A :class:`~smartdc.transport.Sender` written on the socket module, for fast-starting tools.

The ``smartdc`` CLI sends a handful of requests and exits, so what it pays for most is start-up:
importing httpx takes about 0.13 s and ``http.client`` (with its email parser) about 0.05 s on
a 2-core machine, while this module needs only ``socket`` (and ``ssl`` for https URLs). It
speaks the HTTP/1.1 subset CloudAPI uses: one request at a time on a keep-alive connection,
bodies framed by ``Content-Length`` or chunked transfer coding, no compression, no redirects
followed. A kept connection the server has closed meanwhile is reopened once, transparently.
Each thread gets a connection of its own, so one client can send from several threads at once.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING
from urllib.parse import urlsplit

from smartdc.transport import Headers, RawResponse, SendError, failure, tls_context

if TYPE_CHECKING:
    import ssl

#: Longest status or header line accepted, and most header lines, before the answer is refused.
_MAX_LINE = 65536
_MAX_HEADERS = 200


class _StaleConnection(Exception):
    """A reused connection was closed by the server before it answered."""


class _ProtocolError(Exception):
    """The server's answer is not HTTP/1.x."""


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
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._origin = f"{parts.scheme}://{parts.netloc}"
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
        lines = [f"{method} {target} HTTP/1.1"]
        lines.extend(f"{name}: {value}" for name, value in headers.items())
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body or b'')}")
        payload = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
        url = self._origin + target
        for reused in (self._sock is not None, False):
            try:
                return self._exchange(payload, method, reused)
            except _StaleConnection:
                continue
            except TimeoutError as exc:
                self._drop()
                raise SendError(
                    failure("timeout", method, url, str(exc) or "timed out"), retryable=False
                ) from exc
            except _ProtocolError as exc:
                self._drop()
                raise SendError(failure("other", method, url, str(exc)), retryable=True) from exc
            except OSError as exc:
                self._drop()
                raise _send_error(exc, method, url) from exc
        raise AssertionError("unreachable: a fresh connection is never stale")

    def _exchange(self, payload: bytes, method: str, reused: bool) -> RawResponse:
        if self._sock is None:
            self._connect(method)
        assert self._sock is not None and self._reader is not None
        try:
            self._sock.sendall(payload)
            status_line = self._reader.readline(_MAX_LINE + 1)
        except (BrokenPipeError, ConnectionResetError):
            if not reused:
                raise
            status_line = b""
        if not status_line:
            self._drop()
            if reused:
                raise _StaleConnection()
            raise _ProtocolError("the server closed the connection without answering")
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
        if self._scheme == "https":
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
        parts = status_line.decode("latin-1").rstrip("\r\n").split(" ", 2)
        if (
            len(parts) < 2
            or not parts[0].startswith("HTTP/1.")
            or not (parts[1].isascii() and parts[1].isdigit())
        ):
            raise _ProtocolError(f"not an HTTP/1.x status line: {status_line[:80]!r}")
        items: list[tuple[str, str]] = []
        while True:
            line = self._reader.readline(_MAX_LINE + 1)
            if line in (b"\r\n", b"\n"):
                break
            if not line or len(line) > _MAX_LINE or len(items) >= _MAX_HEADERS:
                raise _ProtocolError("the response headers are truncated or too large")
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep:
                raise _ProtocolError(f"malformed header line: {line[:80]!r}")
            items.append((name.strip(), value.strip()))
        return int(parts[1]), Headers(items)

    def _read_body(self, method: str, status: int, headers: Headers) -> bytes:
        assert self._reader is not None
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return b""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return self._read_chunked()
        length = headers.get("content-length")
        if length is not None:
            if not (length.strip().isascii() and length.strip().isdigit()):
                raise _ProtocolError(f"bad Content-Length {length!r}")
            return self._read_exactly(int(length))
        content = self._reader.read()
        self._drop()
        return content

    def _read_chunked(self) -> bytes:
        assert self._reader is not None
        chunks: list[bytes] = []
        while True:
            size_line = self._reader.readline(_MAX_LINE + 1)
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _ProtocolError(f"bad chunk size line {size_line[:40]!r}") from None
            if size == 0:
                while self._reader.readline(_MAX_LINE + 1) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(self._read_exactly(size))
            self._reader.readline(_MAX_LINE + 1)

    def _read_exactly(self, size: int) -> bytes:
        assert self._reader is not None
        data = self._reader.read(size)
        if len(data) != size:
            raise _ProtocolError(f"the body ended after {len(data)} of {size} bytes")
        return data

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


def _send_error(exc: OSError, method: str, url: str) -> SendError:
    """A socket failure as the caller sees it; TLS handshake failures are never retried."""
    detail = str(exc) or type(exc).__name__
    tls_failed = type(exc).__module__ == "ssl"
    if isinstance(exc, ConnectionRefusedError | socket.gaierror) or tls_failed:
        return SendError(
            failure("connect", method, url, detail, tls_failed=tls_failed),
            retryable=not tls_failed,
        )
    return SendError(failure("other", method, url, detail), retryable=True)
