"""A small RFC 6455 WebSocket client on the socket module, for CloudAPI's WebSocket routes.

:func:`connect` opens the socket a :class:`smartdc.api.WebSocketRequest` describes (its URL,
signed headers and sub-protocols) and returns a :class:`WebSocket`: text and binary messages
(fragments joined), client-side masking, pings answered with pongs, and the closing handshake.
:meth:`smartdc.api.CloudAPI.changefeed` and ``smartdc changefeed`` read the changefeed's JSON
text frames with it; ``smartdc instance vnc`` relays binary RFB frames (see
:meth:`WebSocket.fileno` and :meth:`WebSocket.pending` for ``select``).

Only the standard library is used (``ssl`` is imported for ``wss://`` URLs only), so the
command line can load it quickly. No extensions are offered, so a server that insists on one
(``permessage-deflate``) is refused. One thread may call :meth:`WebSocket.recv` while another
sends: sends are serialized.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import socket
import struct
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, NoReturn, Protocol
from urllib.parse import urlsplit

from smartdc import errors

if TYPE_CHECKING:
    import ssl
    from types import TracebackType

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA

#: Close codes used here: normal closure, and "no close frame came" (never sent on the wire).
CLOSE_NORMAL = 1000
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_ABNORMAL = 1006

#: The GUID that the server appends to our key to prove it speaks WebSocket (RFC 6455 1.3).
_ACCEPT_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_MAX_HANDSHAKE = 65536
#: Largest message accepted; CloudAPI's changefeed and VNC frames are far smaller.
MAX_MESSAGE = 64 * 1024 * 1024


class WebSocketError(errors.TransportError):
    """The WebSocket connection failed: a bad handshake, a protocol violation, a reset."""


class WebSocketReset(WebSocketError):
    """The peer reset the connection (no close frame)."""


class WebSocketTarget(Protocol):
    """What :func:`connect` needs: :class:`smartdc.api.WebSocketRequest` has these."""

    @property
    def url(self) -> str: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def subprotocols(self) -> Sequence[str]: ...


def accept_key(key: str) -> str:
    """The ``Sec-WebSocket-Accept`` value a server must answer to ``Sec-WebSocket-Key: key``."""
    digest = hashlib.sha1(key.encode("ascii") + _ACCEPT_GUID).digest()
    return base64.b64encode(digest).decode("ascii")


def mask(key: bytes, data: bytes) -> bytes:
    """``data`` XOR-ed with the 4-byte ``key`` repeated (masking and unmasking alike)."""
    if not data:
        return b""
    size = len(data)
    repeated = (key * (size // 4 + 1))[:size]
    return (int.from_bytes(data, "big") ^ int.from_bytes(repeated, "big")).to_bytes(size, "big")


def encode_frame(
    opcode: int, payload: bytes, *, fin: bool = True, mask_key: bytes | None = None
) -> bytes:
    """One frame on the wire; masked with ``mask_key`` when given (clients must mask)."""
    head = bytearray([(0x80 if fin else 0) | opcode])
    bit = 0x80 if mask_key is not None else 0
    size = len(payload)
    if size < 126:
        head.append(bit | size)
    elif size < 1 << 16:
        head.append(bit | 126)
        head += struct.pack("!H", size)
    else:
        head.append(bit | 127)
        head += struct.pack("!Q", size)
    if mask_key is None:
        return bytes(head) + payload
    return bytes(head) + mask_key + mask(mask_key, payload)


class WebSocket:
    """An open client WebSocket (see :func:`connect`)."""

    def __init__(
        self,
        sock: socket.socket,
        *,
        buffered: bytes = b"",
        subprotocol: str | None = None,
        response_headers: Mapping[str, str] | None = None,
    ) -> None:
        self._sock = sock
        self._buffer = bytearray(buffered)
        self._send_lock = threading.Lock()
        self._fragments: list[bytes] = []
        self._fragment_opcode: int | None = None
        self._fragment_size = 0
        self._close_sent = False
        #: The sub-protocol the server chose, if any.
        self.subprotocol = subprotocol
        #: The handshake response's headers (names in lower case).
        self.response_headers: dict[str, str] = dict(response_headers or {})
        #: Set once the connection is over: ``close_code`` 1006 means it ended without a
        #: close frame.
        self.closed = False
        self.close_code: int | None = None
        self.close_reason = ""

    # --- plumbing for select() ---------------------------------------------------------

    def fileno(self) -> int:
        """The socket's descriptor, to wait on with ``select``."""
        return self._sock.fileno()

    def pending(self) -> bool:
        """Whether bytes already read are waiting (check before blocking in ``select``)."""
        return bool(self._buffer)

    def settimeout(self, timeout: float | None) -> None:
        """Seconds :meth:`recv` may block before raising ``TimeoutError`` (``None``: forever).

        A timeout loses nothing: a partly received frame stays buffered for the next call.
        """
        self._sock.settimeout(timeout)

    # --- sending -------------------------------------------------------------------------

    def send_text(self, text: str) -> None:
        """Send one text message."""
        self.send_frame(OP_TEXT, text.encode("utf-8"))

    def send_binary(self, data: bytes) -> None:
        """Send one binary message."""
        self.send_frame(OP_BINARY, bytes(data))

    def ping(self, payload: bytes = b"") -> None:
        """Send a ping (the server's pong is read and dropped by :meth:`recv`)."""
        self.send_frame(OP_PING, payload)

    def send_frame(self, opcode: int, payload: bytes, *, fin: bool = True) -> None:
        """Send one masked frame."""
        if opcode >= OP_CLOSE and (len(payload) > 125 or not fin):
            raise ValueError("control frames carry at most 125 bytes and cannot be fragmented")
        if self._close_sent:
            raise WebSocketError("the WebSocket is closed")
        frame = encode_frame(opcode, payload, fin=fin, mask_key=os.urandom(4))
        with self._send_lock:
            try:
                self._sock.sendall(frame)
            except OSError as exc:
                raise WebSocketError(f"WebSocket send failed: {exc}") from exc
            if opcode == OP_CLOSE:
                self._close_sent = True

    # --- receiving -----------------------------------------------------------------------

    def recv(self) -> tuple[int, bytes]:
        """The next message: ``(OP_TEXT, utf-8 bytes)`` or ``(OP_BINARY, bytes)``.

        Pings are answered and pongs dropped. When the server closes, returns
        ``(OP_CLOSE, payload)`` (after answering its close frame); an end of the connection
        without a close frame also returns ``(OP_CLOSE, b"")``, with ``close_code`` 1006.
        Raises :class:`WebSocketError` on a protocol violation or a reset connection, and
        when called again after the close.
        """
        if self.closed:
            raise WebSocketError("the WebSocket is closed")
        while True:
            frame = self._read_frame()
            if frame is None:
                self._finish(CLOSE_ABNORMAL, "")
                return OP_CLOSE, b""
            fin, opcode, payload = frame
            if opcode == OP_PING:
                self._answer(OP_PONG, payload)
            elif opcode == OP_PONG:
                continue
            elif opcode == OP_CLOSE:
                code, reason = _parse_close(payload)
                if not self._close_sent:
                    self._answer(OP_CLOSE, payload[:2])
                self._finish(code, reason)
                return OP_CLOSE, payload
            elif opcode in (OP_TEXT, OP_BINARY):
                if self._fragment_opcode is not None:
                    self._fail("a new message started inside a fragmented one")
                if fin:
                    return opcode, payload
                self._fragment_opcode = opcode
                self._fragments = [payload]
                self._fragment_size = len(payload)
            elif opcode == OP_CONTINUATION:
                if self._fragment_opcode is None:
                    self._fail("a continuation frame arrived outside a fragmented message")
                self._fragments.append(payload)
                self._fragment_size += len(payload)
                if self._fragment_size > MAX_MESSAGE:
                    self._fail(f"a message is larger than {MAX_MESSAGE} bytes")
                if fin:
                    whole = b"".join(self._fragments)
                    kind = self._fragment_opcode
                    self._fragments, self._fragment_opcode, self._fragment_size = [], None, 0
                    return kind, whole
            else:
                self._fail(f"unknown frame opcode {opcode:#x}")

    def _read_frame(self) -> tuple[bool, int, bytes] | None:
        """One whole frame, or ``None`` at the end of the connection. Nothing is consumed
        from the buffer until the whole frame is there, so a timeout can be retried."""
        if not self._fill(2):
            return None
        first, second = self._buffer[0], self._buffer[1]
        if first & 0x70:
            self._fail("a frame uses reserved bits (no extension was agreed)")
        fin, opcode = bool(first & 0x80), first & 0x0F
        masked, size = bool(second & 0x80), second & 0x7F
        head = 2
        if size == 126:
            if not self._fill(4):
                return None
            size = struct.unpack_from("!H", self._buffer, 2)[0]
            head = 4
        elif size == 127:
            if not self._fill(10):
                return None
            size = struct.unpack_from("!Q", self._buffer, 2)[0]
            head = 10
        if opcode >= OP_CLOSE and (size > 125 or not fin):
            self._fail("a control frame is fragmented or longer than 125 bytes")
        if size > MAX_MESSAGE:
            self._fail(f"a frame is larger than {MAX_MESSAGE} bytes")
        key = b""
        if masked:  # servers must not mask, but reading one costs nothing
            if not self._fill(head + 4):
                return None
            key = bytes(self._buffer[head : head + 4])
            head += 4
        if not self._fill(head + size):
            return None
        payload = bytes(self._buffer[head : head + size])
        del self._buffer[: head + size]
        return fin, opcode, mask(key, payload) if masked else payload

    def _fill(self, size: int) -> bool:
        """Read until ``size`` bytes are buffered; ``False`` if the connection ends first."""
        while len(self._buffer) < size:
            try:
                chunk = self._sock.recv(max(65536, size - len(self._buffer)))
            except ConnectionError as exc:  # reset, aborted: gone without a close frame
                self._finish(CLOSE_ABNORMAL, "")
                raise WebSocketReset("connection reset by peer") from exc
            if not chunk:
                return False
            self._buffer += chunk
        return True

    def _answer(self, opcode: int, payload: bytes) -> None:
        with contextlib.suppress(WebSocketError):  # the peer is gone; the next read says so
            self.send_frame(opcode, payload)

    def _fail(self, message: str) -> NoReturn:
        if not self._close_sent:
            self._answer(OP_CLOSE, struct.pack("!H", CLOSE_PROTOCOL_ERROR))
        self._finish(CLOSE_PROTOCOL_ERROR, message)
        raise WebSocketError(f"WebSocket protocol error: {message}")

    def _finish(self, code: int, reason: str) -> None:
        self.closed = True
        self.close_code = code
        self.close_reason = reason
        with contextlib.suppress(OSError):
            self._sock.close()

    # --- closing -------------------------------------------------------------------------

    def send_close(self, code: int = CLOSE_NORMAL, reason: str = "") -> None:
        """Start the closing handshake without waiting: send a close frame (once).

        For a thread other than the one in :meth:`recv`: that one then receives the server's
        answering close frame as ``(OP_CLOSE, payload)``. Errors are ignored (the peer may be
        gone already).
        """
        if not self.closed and not self._close_sent:
            payload = struct.pack("!H", code) + reason.encode("utf-8")[:123]
            self._answer(OP_CLOSE, payload)

    def abort(self) -> None:
        """Drop the connection at once, without a closing handshake; a thread blocked in
        :meth:`recv` then returns ``(OP_CLOSE, b"")`` (or raises :class:`WebSocketReset`)."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)

    def close(self, code: int = CLOSE_NORMAL, reason: str = "", *, wait: float = 2.0) -> None:
        """Send a close frame, wait up to ``wait`` seconds for the server's, and disconnect.

        Afterwards ``close_code`` and ``close_reason`` are those of the server's answering
        close frame, or 1006 if none came. Safe to call more than once, and after the server
        closed. Not while another thread is in :meth:`recv` (use :meth:`send_close` there).
        """
        if self.closed:
            return
        self.send_close(code, reason)
        # The wait is for the whole of it: a server that goes on sending frames and never
        # answers the close must not hold the caller (a Ctrl-C'd `smartdc changefeed`).
        deadline = time.monotonic() + wait
        try:
            while not self.closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._sock.settimeout(left)
                frame = self._read_frame()
                if frame is None:
                    break
                if frame[1] == OP_CLOSE:
                    self._finish(*_parse_close(frame[2]))
        except (OSError, WebSocketError):
            pass
        if not self.closed:
            self._finish(CLOSE_ABNORMAL, "")

    def __enter__(self) -> WebSocket:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _parse_close(payload: bytes) -> tuple[int, str]:
    if len(payload) < 2:
        return CLOSE_NORMAL if not payload else CLOSE_PROTOCOL_ERROR, ""
    code = struct.unpack_from("!H", payload)[0]
    return code, payload[2:].decode("utf-8", "replace")


def connect(
    request: WebSocketTarget,
    timeout: float | None = 30.0,
    *,
    verify: bool | str | ssl.SSLContext = True,
    headers: Mapping[str, str] | None = None,
) -> WebSocket:
    """Open the WebSocket ``request`` describes and complete the opening handshake.

    ``request.headers`` (the signed ``Date`` and ``Authorization``, ``Accept-Version``,
    ``User-Agent``) are sent as given, with ``headers`` after them; ``request.subprotocols``
    are offered. ``timeout`` bounds connecting and the handshake; the socket then blocks
    without limit (see :meth:`WebSocket.settimeout`). ``verify`` is for ``wss://``: ``True``
    (system CAs), ``False`` (no checks), a CA bundle path or a ready ``ssl.SSLContext``.

    Raises:
        smartdc.errors.CloudAPIError: the server answered the upgrade with an HTTP error
            (its JSON error body decoded as for any request).
        smartdc.errors.ConnectError, smartdc.errors.TimeoutError: no connection.
        WebSocketError: the server's answer is not a valid WebSocket handshake.
    """
    parts = urlsplit(request.url)
    if parts.scheme not in ("ws", "wss", "http", "https") or not parts.hostname:
        raise ValueError(f"not a WebSocket URL: {request.url!r}")
    secure = parts.scheme in ("wss", "https")
    port = parts.port or (443 if secure else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    where = f"{parts.scheme}://{parts.netloc}"
    try:
        sock = socket.create_connection((parts.hostname, port), timeout=timeout)
    except TimeoutError as exc:
        raise errors.TimeoutError(f"connecting to {where} timed out") from exc
    except OSError as exc:
        raise errors.ConnectError(f"could not connect to {where}: {exc}") from exc
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if secure:
            sock = _wrap_tls(sock, parts.hostname, verify)
        ws = _handshake(sock, request, target, parts.netloc, headers or {})
        sock.settimeout(None)
        return ws
    except TimeoutError as exc:
        sock.close()
        raise errors.TimeoutError(f"the WebSocket handshake with {where} timed out") from exc
    except (errors.SmartDCError, ValueError):
        sock.close()
        raise
    except OSError as exc:
        sock.close()
        raise errors.ConnectError(f"WebSocket connection to {where} failed: {exc}") from exc


def _wrap_tls(sock: socket.socket, host: str, verify: bool | str | ssl.SSLContext) -> socket.socket:
    from smartdc.transport import tls_context

    return tls_context(verify).wrap_socket(sock, server_hostname=host)


def _handshake(
    sock: socket.socket,
    request: WebSocketTarget,
    target: str,
    netloc: str,
    extra: Mapping[str, str],
) -> WebSocket:
    key = base64.b64encode(os.urandom(16)).decode("ascii")
    given = {**request.headers, **extra}
    lines = [f"GET {target} HTTP/1.1"]
    if not any(name.lower() == "host" for name in given):
        lines.append(f"Host: {netloc}")
    lines += [
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    offered = list(request.subprotocols)
    if offered:
        lines.append(f"Sec-WebSocket-Protocol: {', '.join(offered)}")
    lines += [f"{name}: {value}" for name, value in given.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    data = bytearray()
    while b"\r\n\r\n" not in data:
        if len(data) > _MAX_HANDSHAKE:
            raise WebSocketError("the WebSocket handshake response is too large")
        chunk = sock.recv(4096)
        if not chunk:
            raise WebSocketError("the server closed the connection during the WebSocket handshake")
        data += chunk
    head, _, rest = bytes(data).partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    bits = status_line.split(" ", 2)
    if (
        len(bits) < 2
        or not bits[0].startswith("HTTP/1.")
        or not (bits[1].isascii() and bits[1].isdigit())
    ):
        raise WebSocketError(f"not an HTTP answer to the WebSocket upgrade: {status_line[:80]!r}")
    status = int(bits[1])
    response: dict[str, str] = {}
    for line in header_lines:
        name, sep, value = line.partition(":")
        if sep:
            response[name.strip().lower()] = value.strip()
    if status != 101:
        raise _http_error(sock, status, response, rest)
    if response.get("upgrade", "").lower() != "websocket" or "upgrade" not in [
        token.strip().lower() for token in response.get("connection", "").split(",")
    ]:
        raise WebSocketError("the server answered 101 without upgrading to WebSocket")
    if response.get("sec-websocket-accept") != accept_key(key):
        raise WebSocketError("the server's Sec-WebSocket-Accept does not match our key")
    if response.get("sec-websocket-extensions"):
        raise WebSocketError(
            f"the server wants WebSocket extensions ({response['sec-websocket-extensions']}) "
            "that were not offered"
        )
    chosen = response.get("sec-websocket-protocol") or None
    if chosen is not None and chosen not in offered:
        raise WebSocketError(f"the server chose sub-protocol {chosen!r}, which was not offered")
    return WebSocket(sock, buffered=rest, subprotocol=chosen, response_headers=response)


def _http_error(
    sock: socket.socket, status: int, headers: Mapping[str, str], rest: bytes
) -> errors.CloudAPIError:
    """The error for a refused upgrade, from its (JSON) body when it has one."""
    from smartdc.transport import decode_body

    body = bytearray(rest)
    sock.settimeout(5.0)
    length = headers.get("content-length", "")
    wanted = int(length) if length.strip().isascii() and length.strip().isdigit() else None
    try:
        while (wanted is None or len(body) < wanted) and len(body) < _MAX_HANDSHAKE:
            if wanted is None and "chunked" in headers.get("transfer-encoding", ""):
                break  # not worth decoding for an error message
            chunk = sock.recv(4096)
            if not chunk:
                break
            body += chunk
    except OSError:
        pass
    content = bytes(body[:wanted] if wanted is not None else body)
    return errors.error_for_response(status, decode_body(content), headers.get("request-id"))
