"""ConnectMachineVNC's WebSocket session: the machine's console, as a small RFB server.

Real CloudAPI relays the socket's binary frames to the VNC server of the machine's hypervisor
(sdc-cloudapi lib/endpoints/vnc.js); here the other end is :class:`~smartdc.emulator.rfb.RfbServer`,
which completes the RFB handshake and shows the machine's name, state and id. When the
machine's state changes the picture changes with it; when it stops running the console goes
away and the socket is closed, as the hypervisor's VNC server would close.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import anyio.to_thread

from smartdc.emulator.db import Database
from smartdc.emulator.rfb import RfbServer, machine_lines
from smartdc.emulator.store import changes
from smartdc.emulator.websockets import Channel

#: The sub-protocols CloudAPI accepts for the console, in its order of preference.
SUBPROTOCOLS = ("binary", "rfb")
#: The close reason when the console goes away (the far end of CloudAPI's relay closed).
REMOTE_CLOSED = "Remote connection closed"


class VncSession:
    """One console connection to one machine."""

    def __init__(
        self, db: Database, account: str, datacenter: str, machine: Mapping[str, Any]
    ) -> None:
        self._db = db
        self._account = account
        self._datacenter = datacenter
        self._machine_id = str(machine["id"])
        self._seq = changes.last_seq(db)
        self._rfb = RfbServer(name=str(machine["name"]), lines=_lines(machine))

    def subprotocol(self, offered: Sequence[str]) -> str | None:
        """``binary`` or ``rfb``, whichever the client offers first (none if neither)."""
        return next((p for p in offered if p in SUBPROTOCOLS), None)

    async def run(self, channel: Channel) -> None:
        """Relay RFB between the client and the console until either side is done."""
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()

        def poke() -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(wake.set)

        self._db.add_commit_listener(poke)
        await channel.send_bytes(self._rfb.initial_bytes())
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
                    if isinstance(frame, bytes):
                        await self._send(channel, self._rfb.receive(frame))
                        if self._rfb.closed:
                            await channel.close(reason=self._rfb.error or "")
                            return
                    reader = asyncio.create_task(channel.receive())
                if waiter in done:
                    wake.clear()
                    if not await self._follow_machine(channel):
                        return
                else:
                    waiter.cancel()
        finally:
            self._db.remove_commit_listener(poke)
            reader.cancel()
            if waiter is not None:
                waiter.cancel()

    async def _follow_machine(self, channel: Channel) -> bool:
        """Redraw on the machine's changes; ``False`` once it no longer runs (socket closed)."""
        found = await anyio.to_thread.run_sync(
            changes.changes_after, self._db, self._seq, self._account, self._datacenter
        )
        for change in found:
            self._seq = change.seq
            if change.resource_id != self._machine_id:
                continue
            await self._send(channel, self._rfb.update(_lines(change.object)))
            if change.object.get("state") != "running":
                await channel.close(reason=REMOTE_CLOSED)
                return False
        return True

    @staticmethod
    async def _send(channel: Channel, data: bytes) -> None:
        if data:
            await channel.send_bytes(data)


def _lines(machine: Mapping[str, Any]) -> list[str]:
    return machine_lines(
        name=str(machine["name"]), state=str(machine["state"]), machine_id=str(machine["id"])
    )
