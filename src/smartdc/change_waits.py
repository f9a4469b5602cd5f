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

from typing import TYPE_CHECKING

from smartdc import errors
from smartdc.wait import AsyncChangeSource, ChangeSource

if TYPE_CHECKING:
    from smartdc.api import CloudAPI
    from smartdc.api.async_client import AsyncCloudAPI
    from smartdc.api.changefeed import AsyncChangefeed, Changefeed

__all__ = ["AsyncFeedSignal", "FeedSignal", "async_machine_changes", "machine_changes"]

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


class AsyncFeedSignal:
    """An :class:`~smartdc.wait.AsyncChangeSignal` over an open
    :class:`~smartdc.api.changefeed.AsyncChangefeed` (read by a worker thread)."""

    def __init__(self, feed: AsyncChangefeed) -> None:
        self._feed = feed

    async def wait(self, seconds: float) -> bool:
        if seconds <= 0:
            return True
        import asyncio

        signal = FeedSignal(self._feed.feed)
        return await asyncio.to_thread(signal.wait, seconds)

    async def close(self) -> None:
        await self._feed.aclose(CLOSE_WAIT)


def _refused(api: CloudAPI | AsyncCloudAPI, error: errors.CloudAPIError) -> None:
    """The server will not give this client a feed: stop asking (said on the debug echo)."""
    api.changefeed_waits = False
    api._session._note(
        f"changefeed refused ({error.status} {error.code or ''}); waits poll instead".replace(
            "  ", " "
        )
    )


def _feed_failure(api: CloudAPI | AsyncCloudAPI, exc: BaseException) -> None:
    """A failure to open the feed: a refusal stops later tries; anything else is this time's."""
    if isinstance(exc, errors.CloudAPIError) and exc.status is not None and exc.status < 500:
        _refused(api, exc)
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
    """:func:`machine_changes` for an :class:`smartdc.AsyncCloudAPI`."""

    async def open_signal() -> AsyncFeedSignal | None:
        if not getattr(api, "changefeed_waits", False):
            return None
        try:
            feed = await api.changefeed(vms=[machine_id], timeout=CONNECT_TIMEOUT)
        except (errors.SmartDCError, OSError) as exc:
            _feed_failure(api, exc)
            return None
        feed.feed.timeout = None
        return AsyncFeedSignal(feed)

    return open_signal
