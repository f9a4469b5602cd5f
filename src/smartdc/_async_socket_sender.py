"""An :class:`~smartdc.async_transport.AsyncSender` on asyncio streams: the default of
:class:`smartdc.AsyncCloudAPI`.

It speaks the HTTP/1.1 subset of :mod:`smartdc._http11` over a pool of kept-alive
connections, one request at a time on each, up to ``max_connections`` at once (further
requests wait for a free one). A kept connection the server has closed meanwhile is
reopened, transparently, as :mod:`smartdc._socket_sender` does (after sending, only for
idempotent methods). Measured against
``httpx.AsyncClient`` on the same emulator with 64 requests in flight, it spends a fraction
of the CPU per request (bench/README.md).

``timeout`` bounds connecting, and each wait for more of the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

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
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        # A connection whose event loop has ended is already gone with it.
        with contextlib.suppress(RuntimeError):
            self.writer.close()


class AsyncSocketSender:
    """Sends requests over a pool of kept-alive asyncio connections."""

    def __init__(
        self,
        base_url: str,
        *,
        verify: bool | str | ssl.SSLContext = True,
        timeout: float = 30.0,
        max_connections: int = 100,
    ) -> None:
        if max_connections < 1:
            raise ValueError(f"max_connections must be 1 or more, not {max_connections}")
        self._tls, self._host, self._port, self._origin = _http11.endpoint(base_url)
        self._verify = verify
        self._timeout = timeout
        self._max_connections = max_connections
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(max_connections)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    async def send(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes | None
    ) -> RawResponse:
        """Send one request and read the whole answer; failures raise :class:`SendError`."""
        if self._closed:
            raise RuntimeError("the sender is closed")
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._moved_to(loop)
        payload = _http11.request_bytes(method, target, headers, body)
        url = self._origin + target
        async with self._slots:
            while True:
                if self._idle:
                    # One turn of the loop first, so that a close the server sent while the
                    # connection was idle is seen before a request is written to it.
                    await asyncio.sleep(0)
                connection = self._take_idle()
                reused = connection is not None
                try:
                    if connection is None:
                        connection = await self._connect(method)
                    return await self._exchange(connection, payload, method, reused)
                except StaleConnection:
                    continue
                except (OSError, ProtocolError) as exc:
                    raise send_error(exc, method, url) from exc

    def _moved_to(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start over on another event loop (a second ``asyncio.run``): connections and the
        pool's slots belong to the loop they were made on."""
        if self._loop is not None:
            for connection in self._idle:
                connection.close()
            self._idle = []
            self._slots = asyncio.Semaphore(self._max_connections)
        self._loop = loop

    def _take_idle(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()
            if not connection.reader.at_eof() and not connection.writer.is_closing():
                return connection
            connection.close()
        return None

    async def _connect(self, method: str) -> _Connection:
        context = None
        if self._tls:
            context = self._verify = tls_context(self._verify)  # made once, on first use
        try:
            async with asyncio.timeout(self._timeout):
                reader, writer = await asyncio.open_connection(
                    self._host,
                    self._port,
                    ssl=context,
                    server_hostname=self._host if context is not None else None,
                    limit=MAX_LINE + 1,
                )
        except TimeoutError as exc:
            raise SendError(
                failure("timeout", method, self._origin, "connect timed out"), retryable=True
            ) from exc
        return _Connection(reader, writer)

    async def _exchange(
        self, connection: _Connection, payload: bytes, method: str, reused: bool
    ) -> RawResponse:
        reader = connection.reader
        kept = False
        try:
            async with asyncio.timeout(self._timeout) as deadline:
                try:
                    connection.writer.write(payload)
                    await connection.writer.drain()
                    status_line = await reader.readline()
                except (BrokenPipeError, ConnectionResetError):
                    if not reused:
                        raise
                    status_line = b""
                if not status_line:
                    if reused and method in IDEMPOTENT_METHODS:
                        raise StaleConnection()  # closed while idle; a POST may have been acted on
                    raise ProtocolError("the server closed the connection without answering")
                status = _http11.status_of(status_line)
                items: list[tuple[str, str]] = []
                while not _http11.is_end_of_head(line := await reader.readline()):
                    items.append(_http11.header_of(line, len(items)))
                response_headers = Headers(items)
                framed, length = _http11.framing(method, status, response_headers)
                deadline.reschedule(asyncio.get_running_loop().time() + self._timeout)
                if framed == "none":
                    content = b""
                elif framed == "length":
                    content = await reader.readexactly(length)
                elif framed == "chunked":
                    content = await self._read_chunked(reader)
                else:
                    content = await reader.read()
            kept = _http11.keeps_alive(response_headers, framed)
            return RawResponse(status, response_headers, content)
        except asyncio.IncompleteReadError as exc:
            raise ProtocolError(
                f"the body ended after {len(exc.partial)} of {exc.expected} bytes"
            ) from None
        except (asyncio.LimitOverrunError, ValueError):
            # StreamReader.readline reports a line longer than its limit as ValueError
            raise ProtocolError("a response line is too long") from None
        finally:
            if kept and not self._closed:
                self._idle.append(connection)
            else:
                connection.close()

    @staticmethod
    async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
        chunks: list[bytes] = []
        while True:
            size = _http11.chunk_size(await reader.readline())
            if size == 0:
                while await reader.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(await reader.readexactly(size))
            await reader.readline()

    async def close(self) -> None:
        """Close every kept connection."""
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
        for connection in idle:
            with contextlib.suppress(OSError, RuntimeError):
                await connection.writer.wait_closed()
