"""ConnectMachineVNC's WebSocket session: the machine's console, as a small RFB server.

Real CloudAPI relays the socket's binary frames to the VNC server of the machine's hypervisor
(sdc-cloudapi lib/endpoints/vnc.js); here the other end is :class:`~smartdc.emulator.rfb.RfbServer`,
which completes the RFB handshake and shows the machine's name, state and id. When the
machine's state changes the picture changes with it; when it stops running the console goes
away and the socket is closed, as the hypervisor's VNC server would close.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

import anyio.to_thread

from smartdc.emulator.db import Database
from smartdc.emulator.rfb import RfbServer, machine_lines
from smartdc.emulator.store import changes
from smartdc.emulator.websockets import Channel, Committed, events

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
        await channel.send_bytes(self._rfb.initial_bytes())
        async with contextlib.aclosing(events(channel, self._db)) as stream:
            async for event in stream:
                if isinstance(event, Committed):
                    if not await self._follow_machine(channel):
                        return
                elif isinstance(event, bytes):
                    await self._send(channel, self._rfb.receive(event))
                    if self._rfb.closed:
                        await channel.close(reason=self._rfb.error or "")
                        return

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
