"""WebSocket sessions over ASGI: what a route answers with when it upgrades the connection.

A handler for a WebSocket route (GetChangefeed, ConnectMachineVNC) runs through the same
pipeline as every request — routing, the signature, the account, RBAC — and, when it accepts,
answers ``Reply(101, body=<Session>)``. The app then accepts the socket and hands the session a
:class:`Channel` over the ASGI messages; a refusal is sent as the plain HTTP error it is.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Awaitable, Callable, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from smartdc.emulator import wakeup

if TYPE_CHECKING:
    from smartdc.emulator.db import Database

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

CLOSE_NORMAL = 1000


class Channel:
    """One accepted WebSocket, as a session uses it."""

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send
        self.closed = False

    async def receive(self) -> str | bytes | None:
        """The next message from the client; ``None`` once it has gone."""
        while not self.closed:
            message = await self._receive()
            if message["type"] == "websocket.disconnect":
                self.closed = True
                return None
            if message["type"] == "websocket.receive":
                if message.get("text") is not None:
                    return str(message["text"])
                return bytes(message.get("bytes") or b"")
        return None

    async def send_text(self, text: str) -> None:
        """Send one text frame (ignored once the socket is closed)."""
        if not self.closed:
            await self._send({"type": "websocket.send", "text": text})

    async def send_json(self, value: Any) -> None:
        """Send ``value`` as one JSON text frame."""
        await self.send_text(json.dumps(value, separators=(",", ":")))

    async def send_bytes(self, data: bytes) -> None:
        """Send one binary frame (ignored once the socket is closed)."""
        if not self.closed:
            await self._send({"type": "websocket.send", "bytes": data})

    async def close(self, code: int = CLOSE_NORMAL, reason: str = "") -> None:
        """Close the socket (once)."""
        if not self.closed:
            self.closed = True
            await self._send({"type": "websocket.close", "code": code, "reason": reason})


class Session(Protocol):
    """What an accepted WebSocket route runs."""

    def subprotocol(self, offered: Sequence[str]) -> str | None:
        """The sub-protocol to accept among those the client offered (``None``: none)."""
        ...

    async def run(self, channel: Channel) -> None:
        """Serve the socket until either side is done."""
        ...


def offered_subprotocols(headers: MutableMapping[str, str] | dict[str, str]) -> list[str]:
    """The sub-protocols a client offers (``Sec-WebSocket-Protocol``, lower-case names)."""
    raw = headers.get("sec-websocket-protocol", "")
    return [part.strip() for part in raw.split(",") if part.strip()]


class Committed:
    """What :func:`events` yields when a write has been committed to the database."""


COMMITTED = Committed()


async def events(channel: Channel, db: Database) -> AsyncGenerator[str | bytes | Committed, None]:
    """The client's frames and the database's commits, in the order they happen, until the
    client goes away; a session's whole input. Use it under ``contextlib.aclosing`` so that
    leaving early stops listening at once."""
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()

    def poke() -> None:
        wakeup.wake(loop, wake)

    db.add_commit_listener(poke)
    reader: asyncio.Task[str | bytes | None] = asyncio.create_task(channel.receive())
    waiter: asyncio.Task[Any] | None = None
    try:
        while True:
            waiter = asyncio.create_task(wake.wait())
            done, _ = await asyncio.wait({reader, waiter}, return_when=asyncio.FIRST_COMPLETED)
            if reader in done:
                frame = reader.result()
                if frame is None:
                    return
                yield frame
                reader = asyncio.create_task(channel.receive())
            if waiter in done:
                wake.clear()
                yield COMMITTED
            else:
                waiter.cancel()
    finally:
        db.remove_commit_listener(poke)
        reader.cancel()
        if waiter is not None:
            waiter.cancel()
