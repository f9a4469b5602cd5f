"""The HTTP/1.1 subset CloudAPI speaks, as bytes in and facts out, without I/O.

Shared by the blocking sender (:mod:`smartdc._socket_sender`) and the asyncio one
(:mod:`smartdc._async_socket_sender`): where to connect, how a request is written, how a
status line and header lines are read, how the body is framed (``Content-Length``, chunked
transfer coding, or until the connection closes), whether the connection may be kept, and
how a failed exchange reads to the caller.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from typing import Literal, NamedTuple
from urllib.parse import urlsplit

from smartdc.transport import Headers, SendError, failure

#: Longest status, header or chunk-size line accepted, and most header lines.
MAX_LINE = 65536
MAX_HEADERS = 200

#: How a response body is delimited.
Framing = Literal["none", "chunked", "length", "close"]


class ProtocolError(Exception):
    """The server's answer is not the HTTP/1.x this client reads."""


class StaleConnection(Exception):
    """A reused connection was closed by the server before it answered."""


class Endpoint(NamedTuple):
    """Where a sender connects: TLS or not, host, port, and the origin URLs start with."""

    tls: bool
    host: str
    port: int
    origin: str


def endpoint(base_url: str) -> Endpoint:
    """The endpoint of an ``http://`` or ``https://`` URL.

    Raises:
        ValueError: another scheme, or no host.
    """
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {base_url!r}")
    tls = parts.scheme == "https"
    return Endpoint(
        tls, parts.hostname, parts.port or (443 if tls else 80), f"{parts.scheme}://{parts.netloc}"
    )


def send_error(exc: OSError | ProtocolError, method: str, url: str) -> SendError:
    """A failed exchange as the caller sees it: a timeout (never retried), an answer that is
    not HTTP, a refused connection, a TLS failure (never retried), or another socket error."""
    if isinstance(exc, TimeoutError):
        return SendError(failure("timeout", method, url, str(exc) or "timed out"), retryable=False)
    if isinstance(exc, ProtocolError):
        return SendError(failure("other", method, url, str(exc)), retryable=True)
    detail = str(exc) or type(exc).__name__
    tls_failed = type(exc).__module__ == "ssl"
    if isinstance(exc, ConnectionRefusedError | socket.gaierror) or tls_failed:
        return SendError(
            failure("connect", method, url, detail, tls_failed=tls_failed),
            retryable=not tls_failed,
        )
    return SendError(failure("other", method, url, detail), retryable=True)


def request_bytes(
    method: str, target: str, headers: Mapping[str, str], body: bytes | None
) -> bytes:
    """The request as it goes on the wire; ``Content-Length`` is added for bodies (and for
    POST/PUT/PATCH without one, which some servers require)."""
    lines = [f"{method} {target} HTTP/1.1"]
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    if body is not None or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body or b'')}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def status_of(line: bytes) -> int:
    """The status code of a status line such as ``HTTP/1.1 200 OK``."""
    parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    if (
        len(parts) < 2
        or not parts[0].startswith("HTTP/1.")
        or not (parts[1].isascii() and parts[1].isdigit())
    ):
        raise ProtocolError(f"not an HTTP/1.x status line: {line[:80]!r}")
    return int(parts[1])


def is_end_of_head(line: bytes) -> bool:
    """Whether ``line`` is the blank line after the headers."""
    return line in (b"\r\n", b"\n")


def header_of(line: bytes, count: int) -> tuple[str, str]:
    """One header line as ``(name, value)``; ``count`` headers were read before it."""
    if not line or len(line) > MAX_LINE or count >= MAX_HEADERS:
        raise ProtocolError("the response headers are truncated or too large")
    name, sep, value = line.decode("latin-1").partition(":")
    if not sep:
        raise ProtocolError(f"malformed header line: {line[:80]!r}")
    return name.strip(), value.strip()


def framing(method: str, status: int, headers: Headers) -> tuple[Framing, int]:
    """How the body of this response is delimited, and its length when that is known."""
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return "none", 0
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return "chunked", 0
    length = headers.get("content-length")
    if length is not None:
        text = length.strip()
        if not (text.isascii() and text.isdigit()):
            raise ProtocolError(f"bad Content-Length {length!r}")
        return "length", int(text)
    return "close", 0


def chunk_size(line: bytes) -> int:
    """The size in a chunk-size line (extensions after ``;`` ignored)."""
    try:
        return int(line.split(b";", 1)[0].strip(), 16)
    except ValueError:
        raise ProtocolError(f"bad chunk size line {line[:40]!r}") from None


def check_length(data: bytes, size: int) -> bytes:
    """``data`` if it holds all ``size`` bytes the framing promised."""
    if len(data) != size:
        raise ProtocolError(f"the body ended after {len(data)} of {size} bytes")
    return data


def keeps_alive(headers: Headers, framed: Framing) -> bool:
    """Whether the connection may carry another request after this response."""
    return framed != "close" and headers.get("connection", "").lower() != "close"
