"""Following GetChangefeed: :meth:`CloudAPI.changefeed` and the iterator it returns.

The work is split in two. :class:`FeedTracker` holds the protocol's state and decisions
without touching a socket: the registration to send on every (re)connection, which frames
are changes and which repeat one already delivered, which failures are worth another
connection and how long to wait before it. :class:`Changefeed` does the I/O around it with
:mod:`smartdc._websocket`, opening a freshly signed :meth:`CloudAPI.get_changefeed` request
each time.

CloudAPI sends only the changes made after the socket opened (sdc-cloudapi
lib/changefeed.js), and when it loses its own feed from VMAPI it closes every socket and
expects clients to connect again: that is what ``reconnect=True`` does. Changes made while
no socket was open are not sent again; a client that must not miss any should re-read the
machines it cares about after :attr:`Changefeed.reconnects` grows.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from smartdc import _websocket, errors
from smartdc.api._base import JSONObject, Ref
from smartdc.api.websockets import (
    WebSocketRequest,
    WebSocketsMixin,
    changefeed_subscription,
)
from smartdc.transport import AsyncCloseable

if TYPE_CHECKING:
    import asyncio
    import ssl
    from types import TracebackType

#: Seconds allowed for connecting and the handshake when no ``timeout`` is given.
CONNECT_TIMEOUT = 30.0

#: The key that tells one change from another: a replayed change has the same one.
ChangeKey = tuple[Any, ...]


def change_key(change: Mapping[str, Any]) -> ChangeKey:
    """What identifies ``change``: its machine, publish time, kind and state.

    The machine object is left out on purpose: a server replaying a change may send the
    machine as it is now rather than as it was.
    """
    kind = change.get("changeKind")
    kind_text = json.dumps(kind, sort_keys=True, default=str)
    return (
        change.get("changedResourceId"),
        str(change.get("published")),
        kind_text,
        change.get("resourceState"),
    )


def is_retryable(error: BaseException) -> bool:
    """Whether a new connection might succeed where this failure happened.

    Network failures, protocol failures, throttling and server errors may pass; a refusal
    of the request itself (bad credentials, no permission, no such route) will not.
    """
    if isinstance(error, errors.CloudAPIError):
        return error.status is None or error.status >= 500 or error.status in (408, 429)
    return isinstance(error, errors.TransportError | OSError)


class FeedTracker:
    """The changefeed's state, without I/O (see the module docstring).

    Args:
        subscription: the registration message (:func:`changefeed_subscription`).
        remember: how many recent changes are remembered to recognise a replay.
        first_delay: seconds before the first reconnection attempt (before jitter).
        max_delay: the longest wait between attempts; each failed attempt doubles it.
        stable_after: a connection that lasted this long, or delivered a change, resets
            the wait to ``first_delay``.
        jitter: returns a number in ``[0, 1)``; the wait is scaled into ``[50%, 100%)``
            of itself so that clients dropped together do not come back together.
    """

    def __init__(
        self,
        subscription: Mapping[str, Any],
        *,
        remember: int = 256,
        first_delay: float = 0.25,
        max_delay: float = 30.0,
        stable_after: float = 10.0,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.registration = json.dumps(dict(subscription), separators=(",", ":"))
        self._recent: deque[ChangeKey] = deque(maxlen=remember)
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._stable_after = stable_after
        self._jitter = jitter
        self._delay = first_delay
        self._opened_at: float | None = None
        self._delivered = False
        #: Changes dropped because they had been delivered already.
        self.replayed = 0

    def opened(self, now: float) -> None:
        """A connection is open and registered."""
        self._opened_at = now
        self._delivered = False

    def receive(self, text: str | bytes) -> JSONObject | None:
        """The change a text frame carries, or ``None`` when it is not a new one.

        Frames that are not JSON objects are not changes and are skipped, as are changes
        among the last ``remember`` delivered (a server replaying them after a reconnect).
        """
        try:
            change = json.loads(text)
        except ValueError:
            return None
        if not isinstance(change, dict):
            return None
        key = change_key(change)
        if key in self._recent:
            self.replayed += 1
            return None
        self._recent.append(key)
        self._delivered = True
        return change

    def lost(self, now: float) -> float:
        """The connection ended: seconds to wait before the next attempt."""
        stable = self._opened_at is not None and now - self._opened_at >= self._stable_after
        if self._delivered or stable:
            self._delay = self._first_delay
        self._opened_at = None
        self._delivered = False
        return self._next_delay()

    def failed(self) -> float:
        """An attempt to connect failed: seconds to wait before the next one."""
        return self._next_delay()

    def _next_delay(self) -> float:
        delay = self._delay * (0.5 + self._jitter() / 2)
        self._delay = min(self._delay * 2, self._max_delay)
        return delay


class Changefeed(Iterator[JSONObject]):
    """An open changefeed: iterate for changes; close it (or use ``with``) when done.

    Made by :meth:`CloudAPI.changefeed`, which documents the arguments. Each change is a
    dict as CloudAPI sends it (``changeKind``, ``changedResourceId``, ``published``,
    ``resourceState``, ``resourceObject``).

    Iteration ends when :meth:`close` is called, or, without ``reconnect``, when the server
    closes the feed. Without ``reconnect`` a connection lost without a close frame raises
    a :class:`smartdc.errors.TransportError` (``WebSocketError``). With a ``timeout``,
    ``next()`` raises :class:`smartdc.errors.TimeoutError` when no change came in time; the
    feed stays open and iterating again goes on waiting.

    :meth:`close` may be called from another thread while one waits in ``next()``: that
    one then stops iterating once the server answers the close (or after ``wait``).
    """

    def __init__(
        self,
        open_request: Callable[[], WebSocketRequest],
        subscription: Mapping[str, Any],
        *,
        timeout: float | None = None,
        reconnect: bool = False,
        verify: bool | str | ssl.SSLContext = True,
        tracker: FeedTracker | None = None,
        connect: Callable[..., _websocket.WebSocket] = _websocket.connect,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._timeout = _check_timeout(timeout)
        self._open_request = open_request
        self._tracker = tracker or FeedTracker(subscription)
        self._reconnect = reconnect
        self._verify = verify
        self._connect = connect
        self._clock = clock
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ws: _websocket.WebSocket | None = None
        self._reading = False
        self._idle = threading.Event()
        self._idle.set()
        self._retry_at: float | None = None
        #: How many times the feed was opened again after a drop.
        self.reconnects = 0
        #: How the last connection ended: the close code (1006: no close frame) and reason.
        self.close_code: int | None = None
        self.close_reason = ""
        deadline = None if timeout is None else clock() + timeout
        # The first connection is made now, so that every change after this returns is
        # delivered; its failure is raised rather than retried.
        self._ws = self._open(deadline)

    @property
    def timeout(self) -> float | None:
        """Seconds each ``next()`` may wait for a change (``None``: no limit); may be
        changed between calls."""
        return self._timeout

    @timeout.setter
    def timeout(self, value: float | None) -> None:
        self._timeout = _check_timeout(value)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called or the feed ended."""
        return self._stop.is_set()

    def __iter__(self) -> Changefeed:
        return self

    def __next__(self) -> JSONObject:
        with self._lock:
            if self._stop.is_set():
                raise StopIteration
            self._reading = True
            self._idle.clear()
        try:
            return self._next_change()
        finally:
            with self._lock:
                self._reading = False
                self._idle.set()

    def _next_change(self) -> JSONObject:
        deadline = None if self._timeout is None else self._clock() + self._timeout
        while True:
            ws = self._ws
            if ws is None:
                ws = self._ws = self._reopen(deadline)
            try:
                ws.settimeout(self._remaining(deadline))
                opcode, payload = ws.recv()
            except builtins.TimeoutError:
                if self._stop.is_set():  # closed meanwhile and the server never answered
                    self._shutdown()
                    raise StopIteration from None
                # nothing lost: a partly read frame stays buffered for the next call
                raise errors.TimeoutError(f"no change within {self._timeout} seconds") from None
            except (_websocket.WebSocketError, OSError) as exc:
                self._ended(ws)
                if self._stop.is_set():
                    raise StopIteration from None
                if not self._reconnect:
                    self._shutdown()
                    raise _as_websocket_error(exc) from exc
                continue
            if opcode == _websocket.OP_CLOSE:
                self._ended(ws)
                closing = self._stop.is_set()
                if closing or not self._reconnect:
                    self._shutdown()
                    if not closing and ws.close_code == _websocket.CLOSE_ABNORMAL:
                        raise _websocket.WebSocketError(
                            "the changefeed connection ended without a close frame"
                        )
                    raise StopIteration
                continue
            if opcode != _websocket.OP_TEXT:
                continue  # the feed is JSON text
            change = self._tracker.receive(payload)
            if change is not None:
                return change

    def _ended(self, ws: _websocket.WebSocket) -> None:
        """Note how ``ws`` ended and when to try again."""
        self.close_code, self.close_reason = ws.close_code, ws.close_reason
        if not ws.closed:
            ws.close(wait=0)
        self._ws = None
        self._retry_at = self._clock() + self._tracker.lost(self._clock())

    def _reopen(self, deadline: float | None) -> _websocket.WebSocket:
        """Connect again, waiting between attempts, until it works, fails for good, the
        deadline passes (``TimeoutError``) or the feed is closed (``StopIteration``)."""
        while True:
            wait = max(0.0, (self._retry_at or 0.0) - self._clock())
            remaining = self._remaining(deadline)
            if remaining is not None and remaining < wait:
                self._stop.wait(remaining)
                self._check_stopped()
                raise errors.TimeoutError(
                    f"no change within {self._timeout} seconds (reconnecting)"
                )
            if self._stop.wait(wait):
                raise StopIteration
            try:
                ws = self._open(deadline)
            except Exception as exc:
                if not is_retryable(exc):
                    self._shutdown()
                    raise
                self._retry_at = self._clock() + self._tracker.failed()
                self._check_stopped()
                continue
            self.reconnects += 1
            return ws

    def _open(self, deadline: float | None) -> _websocket.WebSocket:
        remaining = self._remaining(deadline)
        limit = CONNECT_TIMEOUT if remaining is None else min(CONNECT_TIMEOUT, remaining)
        ws = self._connect(self._open_request(), timeout=limit, verify=self._verify)
        try:
            ws.send_text(self._tracker.registration)
        except BaseException:
            ws.close(wait=0)
            raise
        self._tracker.opened(self._clock())
        with self._lock:
            stopped = self._stop.is_set()
        if stopped:  # closed from another thread while connecting
            ws.close()
            raise StopIteration
        return ws

    def _remaining(self, deadline: float | None) -> float | None:
        if deadline is None:
            return None
        return max(0.001, deadline - self._clock())

    def _check_stopped(self) -> None:
        if self._stop.is_set():
            raise StopIteration

    def _shutdown(self) -> None:
        self._stop.set()
        ws, self._ws = self._ws, None
        if ws is not None:
            ws.close(wait=1.0)

    def close(self, wait: float = 2.0) -> None:
        """Close the feed with a normal close frame, waiting up to ``wait`` seconds for the
        server's answer. Safe to call more than once."""
        with self._lock:
            self._stop.set()
            ws = self._ws
            reading = self._reading
        if ws is None:
            return
        if not reading:
            self._ws = None
            ws.close(wait=wait)
            self.close_code, self.close_reason = ws.close_code, ws.close_reason
            return
        ws.send_close()  # the reading thread receives the answer and stops
        if not self._idle.wait(wait):
            ws.abort()

    def __enter__(self) -> Changefeed:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _check_timeout(value: float | None) -> float | None:
    if value is not None and value <= 0:
        raise ValueError(f"timeout must be positive, not {value}")
    return value


def _as_websocket_error(exc: BaseException) -> _websocket.WebSocketError:
    if isinstance(exc, _websocket.WebSocketError):
        return exc
    return _websocket.WebSocketError(f"the changefeed connection failed: {exc}")


#: What :meth:`smartdc.CloudAPI.changefeed` and :meth:`smartdc.AsyncCloudAPI.changefeed` say.
CHANGEFEED_DOC = """Follow the account's machine changes as they happen (GetChangefeed).

        Opens the feed's WebSocket now and registers for changes to ``sub_resources``
        (some of :data:`~smartdc.api.websockets.CHANGEFEED_SUB_RESOURCES`; all by default)
        of the machines ``vms`` (ids or machine dicts; all of the account's by default), so
        every change made after this returns is delivered. Returns a :class:`Changefeed`:
        an iterator of change dicts, and a context manager that closes the socket with a
        normal close frame (on :class:`smartdc.AsyncCloudAPI`, an awaitable of an
        :class:`AsyncChangefeed`: ``async for`` and ``async with``).

        Args:
            timeout: seconds connecting may take, and each ``next()`` may wait for a change
                before raising :class:`smartdc.errors.TimeoutError` (the feed stays open).
                ``None``: 30 seconds to connect, then wait for changes without limit.
            reconnect: when the server or the network drops the feed, connect again (with
                a fresh signature, waiting longer after each failed attempt, up to 30 s)
                and register again. A change delivered before the drop is not delivered
                twice should the server send it again. Refusals (401, 403, 404) still
                raise. Changes made while disconnected are not sent by CloudAPI.
            verify: TLS verification for ``wss://``: ``True`` (system CAs), ``False``,
                a CA bundle path or an ``ssl.SSLContext``.

        Raises:
            ValueError: an unknown sub-resource, or none.
            smartdc.errors.CloudAPIError: the server refused the upgrade.
            smartdc.errors.ConnectError, smartdc.errors.TimeoutError: no connection.

        Example::

            with api.changefeed(["state"], vms=[machine], reconnect=True) as feed:
                for change in feed:
                    print(change["changedResourceId"], change["resourceState"])
                    if change["resourceState"] == "running":
                        break
        """


class AsyncChangefeed(AsyncCloseable):
    """A :class:`Changefeed` for asyncio: ``async for change in feed``, ``async with``.

    A thread of its own reads the socket and hands each change to the event loop, so
    waiting for a change never blocks the loop nor holds one of asyncio's worker threads
    (any number of feeds may wait at once). ``timeout`` bounds each wait for a change, as
    :meth:`Changefeed.__next__` does: :class:`smartdc.errors.TimeoutError`, the feed stays
    open. :meth:`aclose` ends a wait in progress.
    """

    def __init__(self, feed: Changefeed, loop: asyncio.AbstractEventLoop) -> None:
        import asyncio

        self._feed = feed
        self._timeout = feed.timeout
        feed.timeout = None  # the reader waits for ever; waits here are bounded instead
        self._loop = loop
        self._queue: asyncio.Queue[JSONObject | BaseException | None] = asyncio.Queue()
        self._ended = False
        self._reader = threading.Thread(target=self._read, name="smartdc-changefeed", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        ending: BaseException | None = None
        try:
            for change in self._feed:
                self._hand_over(change)
        except BaseException as exc:  # handed to the loop, raised from __anext__
            ending = exc
        self._hand_over(ending)

    def _hand_over(self, item: JSONObject | BaseException | None) -> None:
        # A RuntimeError: the event loop is gone, so nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)

    @property
    def feed(self) -> Changefeed:
        """The underlying feed (``reconnects``, ``close_code`` ...)."""
        return self._feed

    @property
    def timeout(self) -> float | None:
        """Seconds each wait for a change may take (``None``: no limit)."""
        return self._timeout

    @timeout.setter
    def timeout(self, value: float | None) -> None:
        self._timeout = _check_timeout(value)

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called or the feed ended."""
        return self._ended or self._feed.closed

    def __aiter__(self) -> AsyncChangefeed:
        return self

    async def __anext__(self) -> JSONObject:
        import asyncio

        if self._ended:
            raise StopAsyncIteration
        try:
            item = await asyncio.wait_for(self._queue.get(), self._timeout)
        except TimeoutError:
            raise errors.TimeoutError(
                f"no change on the changefeed within {self._timeout:g} s"
            ) from None
        if item is None:
            self._ended = True
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            self._ended = True
            raise item
        return item

    async def aclose(self, wait: float = 2.0) -> None:
        """Close the socket with a normal close frame (see :meth:`Changefeed.close`)."""
        import asyncio

        await asyncio.to_thread(self._feed.close, wait)


class ChangefeedMixin(WebSocketsMixin):
    """Opening GetChangefeed as an iterator of changes (the clients' ``changefeed()``)."""

    #: TLS verification for the feed's ``wss://`` socket when ``verify`` is not given.
    _websocket_verify: bool | str | ssl.SSLContext = True

    def _open_changefeed(
        self,
        sub_resources: str | Sequence[str],
        vms: Sequence[Ref] | None,
        timeout: float | None,
        reconnect: bool,
        verify: bool | str | ssl.SSLContext | None,
    ) -> Changefeed:
        """Connect and register now (blocking); see :data:`CHANGEFEED_DOC`."""
        wanted = (sub_resources,) if isinstance(sub_resources, str) else tuple(sub_resources)
        subscription = changefeed_subscription(wanted, None if vms is None else list(vms))
        return Changefeed(
            lambda: self._websocket("changefeed"),
            subscription,
            timeout=timeout,
            reconnect=reconnect,
            verify=self._websocket_verify if verify is None else verify,
        )
