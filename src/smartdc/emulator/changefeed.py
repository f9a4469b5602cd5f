"""GetChangefeed's WebSocket session: machine changes pushed as they are logged.

The protocol, as CloudAPI speaks it (sdc-cloudapi lib/changefeed.js; node-triton
lib/do_changefeed.js):

1. The client sends one JSON text frame, the registration:
   ``{"resource": "vm", "subResources": [...], "vms": [<uuid>, ...]}``; ``subResources`` must
   be a non-empty subset of :data:`~smartdc.wire.CHANGEFEED_SUB_RESOURCES` and
   ``vms`` (optional) limits the feed to those machines. An invalid registration is ignored
   (nothing is answered); a later valid one replaces the current one.
2. Nothing is sent before a valid registration; from then on every change to the account's
   machines in this datacenter since the socket opened whose sub-resources overlap the
   registration is sent as one text frame (:meth:`~smartdc.emulator.store.changes.Change.message`),
   a consecutive duplicate excepted.
3. Changes come from the change log the job engine writes in the same transaction as each
   state change; the session wakes on every committed write, so a change is sent within
   milliseconds of it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence

import anyio.to_thread

from smartdc.emulator.db import Database
from smartdc.emulator.store import changes
from smartdc.emulator.websockets import Channel, Committed, events
from smartdc.wire import CHANGEFEED_SUB_RESOURCES


def parse_registration(text: str | bytes) -> tuple[frozenset[str], frozenset[str] | None] | None:
    """``(sub-resources, vms or None)`` from a registration frame; ``None`` if invalid."""
    try:
        message = json.loads(text)
    except ValueError:
        return None
    if not isinstance(message, dict) or message.get("resource") != "vm":
        return None
    wanted = message.get("subResources")
    if (
        not isinstance(wanted, list)
        or not wanted
        or not all(isinstance(name, str) and name in CHANGEFEED_SUB_RESOURCES for name in wanted)
    ):
        return None
    vms = message.get("vms")
    if vms is None:
        return frozenset(wanted), None
    if not isinstance(vms, list) or not all(isinstance(vm, str) for vm in vms):
        return None
    return frozenset(wanted), frozenset(vms)


class ChangefeedSession:
    """One subscriber: the account's machine changes in one datacenter."""

    def __init__(self, db: Database, account: str, datacenter: str) -> None:
        self._db = db
        self._account = account
        self._datacenter = datacenter
        # Changes logged from the moment the socket opens count, even before registration.
        self._seq = changes.last_seq(db)

    def subprotocol(self, offered: Sequence[str]) -> str | None:
        """The changefeed has no sub-protocol."""
        return None

    async def run(self, channel: Channel) -> None:
        """Read registrations and send matching changes until the client goes away."""
        registration: tuple[frozenset[str], frozenset[str] | None] | None = None
        last: str | None = None
        async with contextlib.aclosing(events(channel, self._db)) as stream:
            async for event in stream:
                if not isinstance(event, Committed):
                    registration = parse_registration(event) or registration
                if registration is None:
                    continue
                found = await anyio.to_thread.run_sync(
                    changes.changes_after, self._db, self._seq, self._account, self._datacenter
                )
                for change in found:
                    self._seq = change.seq
                    if not _matches(change, *registration):
                        continue
                    text = json.dumps(change.message(), separators=(",", ":"))
                    if text != last:
                        await channel.send_text(text)
                        last = text


def _matches(change: changes.Change, wanted: frozenset[str], vms: frozenset[str] | None) -> bool:
    if change.resource != "vm" or not wanted.intersection(change.sub_resources):
        return False
    return vms is None or change.resource_id in vms
