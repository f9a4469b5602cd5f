"""Waits that follow the changefeed: the change signals :func:`smartdc.wait.wait_for` and
:func:`smartdc.wait.async_wait_for` take as ``changes``.

:func:`machine_changes` subscribes to one machine's changes on GetChangefeed, so a wait
on that machine polls again the moment CloudAPI publishes a change to it (a state, its
tags, its metadata ...) rather than at the next poll interval. Where the feed cannot be
used, the signal is ``None`` and the wait polls as before:

- the client does not talk to the server over the network (a ``transport`` such as
  ``httpx.MockTransport`` or an in-process ASGI app was given), or
  :attr:`~smartdc.CloudAPI.changefeed_waits` was turned off;
- the server refuses the feed (CloudAPI before 9.14 has no such route; a sub-user may
  lack permission): then the client stops trying, for every later wait too;
- the connection fails: this wait polls, a later one tries again.

A broken feed (the server closes it, the network drops) ends the signal and the wait
goes back to polling at its interval.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from smartdc import errors
from smartdc.wait import AsyncChangeSource, ChangeSource

if TYPE_CHECKING:
    import asyncio

    from smartdc.api import CloudAPI
    from smartdc.api.async_client import AsyncCloudAPI
    from smartdc.api.changefeed import AsyncChangefeed, Changefeed

__all__ = [
    "AsyncChangeHub",
    "AsyncHubSignal",
    "FeedSignal",
    "async_machine_changes",
    "machine_changes",
]

#: Seconds the feed's connection and registration may take before the wait just polls.
CONNECT_TIMEOUT = 5.0

#: Seconds a closing feed waits for the server's close frame.
CLOSE_WAIT = 0.5


class FeedSignal:
    """A :class:`~smartdc.wait.ChangeSignal` over an open
    :class:`~smartdc.api.changefeed.Changefeed`."""

    def __init__(self, feed: Changefeed) -> None:
        self._feed = feed

    def wait(self, seconds: float) -> bool:
        if seconds <= 0:
            return True
        self._feed.timeout = seconds
        try:
            next(self._feed)
        except errors.TimeoutError:
            return True  # no change in time: poll anyway
        except (StopIteration, errors.SmartDCError, OSError):
            return False
        return True

    def close(self) -> None:
        self._feed.close(wait=CLOSE_WAIT)


class AsyncChangeHub:
    """One changefeed per :class:`smartdc.AsyncCloudAPI`, shared by all its waits.

    Opened by the first wait that follows changes, it subscribes to every machine of the
    account (reconnecting when dropped) and wakes the waits on the machine each change
    names. Any number of concurrent waits then cost one socket and one reader thread. It
    closes with the client (:meth:`smartdc.AsyncCloudAPI.aclose`).
    """

    def __init__(self, api: AsyncCloudAPI) -> None:
        import asyncio

        self._api = api
        self._feed: AsyncChangefeed | None = None
        self._pump: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opening = asyncio.Lock()
        self._waiting: dict[str, set[asyncio.Event]] = {}
        #: Whether the feed ended (refused on reconnecting, or closed): waits then poll.
        self.broken = False

    async def signal(self, machine_id: str) -> AsyncHubSignal | None:
        """A signal for changes to ``machine_id``, or ``None`` where the feed is unusable."""
        import asyncio

        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop: what was opened belongs to the old
            self._feed, self._pump, self._loop = None, None, loop
            self._opening = asyncio.Lock()
            self._waiting = {}
            self.broken = False
        async with self._opening:
            if self._feed is None and not self.broken:
                if not getattr(self._api, "changefeed_waits", False):
                    return None
                try:
                    self._feed = await self._api.changefeed(timeout=CONNECT_TIMEOUT, reconnect=True)
                except (errors.SmartDCError, OSError) as exc:
                    _feed_failure(self._api, exc)
                    return None
                self._feed.timeout = None
                self._pump = loop.create_task(self._dispatch(self._feed))
        if self.broken:
            return None
        event = asyncio.Event()
        self._waiting.setdefault(machine_id, set()).add(event)
        return AsyncHubSignal(self, machine_id, event)

    async def _dispatch(self, feed: AsyncChangefeed) -> None:
        try:
            async for change in feed:
                for event in self._waiting.get(str(change.get("changedResourceId")), ()):
                    event.set()
        except (errors.SmartDCError, OSError) as exc:
            self._api._session._note(f"changefeed ended ({exc}); waits poll instead")
        finally:
            self.broken = True
            for events in self._waiting.values():
                for event in events:
                    event.set()  # wake every wait, to find the feed gone and poll

    def forget(self, machine_id: str, event: asyncio.Event) -> None:
        """A wait on ``machine_id`` ended."""
        events = self._waiting.get(machine_id)
        if events is not None:
            events.discard(event)
            if not events:
                del self._waiting[machine_id]

    async def close(self) -> None:
        """Close the feed (the waits still running go back to polling)."""
        feed, pump = self._feed, self._pump
        self._feed, self._pump = None, None
        if feed is not None:
            await feed.aclose(CLOSE_WAIT)
        if pump is not None:
            pump.cancel()


class AsyncHubSignal:
    """An :class:`~smartdc.wait.AsyncChangeSignal` for one machine, from an
    :class:`AsyncChangeHub`."""

    def __init__(self, hub: AsyncChangeHub, machine_id: str, event: asyncio.Event) -> None:
        self._hub = hub
        self._machine_id = machine_id
        self._event = event

    async def wait(self, seconds: float) -> bool:
        import asyncio

        if self._hub.broken:
            return False
        if seconds > 0:
            # No change in time (TimeoutError): poll anyway.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), seconds)
        self._event.clear()
        return not self._hub.broken

    async def close(self) -> None:
        self._hub.forget(self._machine_id, self._event)


def _feed_failure(api: CloudAPI | AsyncCloudAPI, exc: BaseException) -> None:
    """A failure to open the feed, said on the debug echo. A refusal (a 4xx) means the
    server will not give this client a feed: later waits stop asking. Anything else is this
    wait's alone."""
    if isinstance(exc, errors.CloudAPIError) and exc.status is not None and exc.status < 500:
        api.changefeed_waits = False
        what = " ".join(str(part) for part in (exc.status, exc.code) if part)
        api._session._note(f"changefeed refused ({what}); waits poll instead")
    else:
        api._session._note(f"changefeed unavailable ({exc}); this wait polls instead")


def machine_changes(api: CloudAPI, machine_id: str) -> ChangeSource:
    """A change source for waits on machine ``machine_id`` through ``api``."""

    def open_signal() -> FeedSignal | None:
        if not getattr(api, "changefeed_waits", False):
            return None
        try:
            feed = api.changefeed(vms=[machine_id], timeout=CONNECT_TIMEOUT)
        except (errors.SmartDCError, OSError) as exc:
            _feed_failure(api, exc)
            return None
        feed.timeout = None
        return FeedSignal(feed)

    return open_signal


def async_machine_changes(api: AsyncCloudAPI, machine_id: str) -> AsyncChangeSource:
    """:func:`machine_changes` for an :class:`smartdc.AsyncCloudAPI`: the waits of one client
    share one feed (:class:`AsyncChangeHub`)."""

    async def open_signal() -> AsyncHubSignal | None:
        if not getattr(api, "changefeed_waits", False):
            return None
        return await api.change_hub.signal(machine_id)

    return open_signal
