"""The one waiter every poll in smartdc goes through.

:func:`wait_for` calls ``fetch`` until ``done`` accepts what it returned, with three ways out:

* ``fail`` names a reason (or hands back an exception): the wait raises at once;
* the deadline passes: :class:`~smartdc.errors.WaitTimeoutError`, carrying the last value seen;
* ``fetch`` raises something that is not ``transient``: that exception propagates;
* ``max_unanswered`` polls in a row get no response at all:
  :class:`~smartdc.errors.ServerUnreachableError`.

Transient errors (no response at all, 503, 429) are swallowed and polled through, because a
cloud under load answers them while the machine keeps changing state. A server that does
not answer at all is given a bounded run of polls (each already retried by the request
path), not the whole deadline: a wrong URL or a lost network then fails in seconds with
the connection error, instead of ten minutes later with a timeout.

There is no "wait forever": ``timeout`` must be a finite number of seconds.

Given ``changes`` (a :data:`ChangeSource`), a wait that is not over at the first poll
follows the server's changes instead of sleeping: it opens the source (for a machine, a
changefeed subscription to it), polls once more, then polls again as soon as a change is
signalled, and otherwise only every :data:`FEED_SAFETY_INTERVAL` seconds as a safety net.
Where the source cannot be opened, or breaks, the wait goes back to polling every
``interval``. :func:`async_wait_for` is the same wait for asyncio.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from typing import Final, Generic, Protocol, TypeVar

from smartdc.errors import (
    ServerUnreachableError,
    ServiceUnavailableError,
    TooManyRequestsError,
    TransportError,
    WaitError,
    WaitTimeoutError,
)

__all__ = [
    "DEFAULT_INTERVAL",
    "DEFAULT_MAX_UNANSWERED",
    "DEFAULT_TIMEOUT",
    "FEED_SAFETY_INTERVAL",
    "TRANSIENT_ERRORS",
    "AsyncChangeSignal",
    "ChangeSignal",
    "async_wait_for",
    "wait_for",
]

T = TypeVar("T")

DEFAULT_INTERVAL: Final = 2.0
"""Seconds between polls unless told otherwise (py-smartdc's default)."""

DEFAULT_TIMEOUT: Final = 600.0
"""Seconds before a wait gives up unless told otherwise."""

DEFAULT_MAX_UNANSWERED: Final = 5
"""Polls in a row that may get no response at all before a wait gives up."""

TRANSIENT_ERRORS: Final[tuple[type[BaseException], ...]] = (
    TransportError,
    ServiceUnavailableError,
    TooManyRequestsError,
)
"""Errors that mean "ask again later" rather than "this will never happen"."""

FEED_SAFETY_INTERVAL: Final = 10.0
"""Seconds between polls while changes are followed (a change wakes the wait sooner)."""

FailCheck = Callable[[T], "str | BaseException | None"]


class ChangeSignal(Protocol):
    """Tells a wait when what it waits for may have changed (see the module docstring)."""

    def wait(self, seconds: float) -> bool:
        """Return when a change comes, or after ``seconds``; ``False`` (at once) when the
        signal broke and can no longer tell."""
        ...

    def close(self) -> None:
        """Stop following changes."""
        ...


class AsyncChangeSignal(Protocol):
    """:class:`ChangeSignal` for :func:`async_wait_for`."""

    async def wait(self, seconds: float) -> bool:
        """As :meth:`ChangeSignal.wait`, without blocking the event loop."""
        ...

    async def close(self) -> None:
        """Stop following changes."""
        ...


#: Opens a :class:`ChangeSignal`, or gives ``None`` where changes cannot be followed.
ChangeSource = Callable[[], ChangeSignal | None]
#: Opens an :class:`AsyncChangeSignal`, or gives ``None``.
AsyncChangeSource = Callable[[], Awaitable[AsyncChangeSignal | None]]


def check_wait_limits(interval: float, timeout: float | None) -> float:
    """Validate a poll interval and deadline; return the timeout as a float.

    Raises:
        ValueError: ``interval`` is negative, or ``timeout`` is missing, not positive or not
            finite (a wait must be able to end).
    """
    if not isinstance(interval, int | float) or not math.isfinite(interval) or interval < 0:
        raise ValueError(f"interval must be a finite number of seconds >= 0, not {interval!r}")
    if timeout is None or isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise ValueError(
            f"timeout must be a finite number of seconds, not {timeout!r}: every wait needs a "
            "deadline (pass a large number to wait long)"
        )
    if not math.isfinite(timeout) or timeout <= 0:
        raise ValueError(f"timeout must be a finite number of seconds > 0, not {timeout!r}")
    return float(timeout)


class _Waiting(Generic[T]):
    """The decisions of one wait, shared by :func:`wait_for` and :func:`async_wait_for`:
    what a value or a failure means, and how long until the next poll."""

    def __init__(
        self,
        done: Callable[[T], bool],
        *,
        interval: float,
        timeout: float,
        fail: FailCheck[T] | None,
        describe: str,
        summarize: Callable[[T], str] | None,
        clock: Callable[[], float],
        max_unanswered: int | None,
    ) -> None:
        self.limit = check_wait_limits(interval, timeout)
        if max_unanswered is not None and max_unanswered < 1:
            raise ValueError(f"max_unanswered must be 1 or more (or None), not {max_unanswered!r}")
        self.interval = interval
        self._done = done
        self._fail = fail
        self._describe = describe
        self._summarize = summarize
        self._clock = clock
        self._max_unanswered = max_unanswered
        self._deadline = clock() + self.limit
        self.last: T | None = None
        self._last_error: BaseException | None = None
        self._unanswered = 0
        #: Whether the change source was tried (it is opened at most once).
        self.followed = False

    def answered(self, value: T) -> bool:
        """Whether ``value`` ends the wait; raises what ``fail`` names."""
        self.last, self._last_error, self._unanswered = value, None, 0
        if self._fail is not None:
            reason = self._fail(value)
            if isinstance(reason, BaseException):
                raise reason
            if reason:
                raise WaitError(f"stopped waiting for {self._describe}: {reason}")
        return self._done(value)

    def unanswered(self, exc: BaseException) -> None:
        """A transient failure of a poll; raises once too many in a row got no response."""
        self._last_error = exc
        self._unanswered = self._unanswered + 1 if isinstance(exc, TransportError) else 0
        if self._max_unanswered is not None and self._unanswered >= self._max_unanswered:
            raise ServerUnreachableError(
                f"stopped waiting for {self._describe}: the server did not answer "
                f"{self._unanswered} polls in a row; the last one failed: {exc}",
                last=self.last,
            ) from exc

    def remaining(self) -> float:
        """Seconds left before the deadline; raises :class:`WaitTimeoutError` at it."""
        remaining = self._deadline - self._clock()
        if remaining > 0:
            return remaining
        message = f"gave up waiting for {self._describe} after {self.limit:g}s"
        if self._last_error is not None:
            message += f"; the last poll failed: {self._last_error}"
        elif self._summarize is not None and self.last is not None:
            message += f"; last seen: {self._summarize(self.last)}"
        raise WaitTimeoutError(message, last=self.last)

    def follow_interval(self, remaining: float) -> float:
        """How long to wait for a change before polling anyway."""
        return min(max(self.interval, FEED_SAFETY_INTERVAL), remaining)


def wait_for(
    fetch: Callable[[], T],
    done: Callable[[T], bool],
    *,
    interval: float = DEFAULT_INTERVAL,
    timeout: float = DEFAULT_TIMEOUT,
    fail: FailCheck[T] | None = None,
    transient: tuple[type[BaseException], ...] = TRANSIENT_ERRORS,
    describe: str = "the condition",
    summarize: Callable[[T], str] | None = None,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    max_unanswered: int | None = DEFAULT_MAX_UNANSWERED,
    changes: ChangeSource | None = None,
) -> T:
    """Poll ``fetch()`` until ``done(value)`` is true and return that value.

    Args:
        fetch: gets the current value (usually one GET request).
        done: true when the value is what we are waiting for.
        interval: seconds to sleep between polls (never sleeps past the deadline).
        timeout: seconds from the first poll until the wait gives up; must be finite and > 0.
        fail: checked before ``done`` on each value; a string or an exception means the goal
            can no longer be reached. A string raises :class:`~smartdc.errors.WaitError` with
            that reason, an exception is raised as is.
        transient: exception types from ``fetch`` that are retried until the deadline.
        describe: what is awaited, for error messages ("machine web-1 to be running").
        summarize: renders the last value for the timeout message (default: not shown).
        sleep, clock: injectable for tests.
        max_unanswered: how many polls in a row may fail with
            :class:`~smartdc.errors.TransportError` (no response at all) before the wait
            gives up; ``None`` polls through them until the deadline.
        changes: follow changes rather than sleep (see the module docstring), e.g.
            :func:`smartdc.change_waits.machine_changes`.

    Raises:
        WaitTimeoutError: the deadline passed; ``.last`` is the last value fetched (or
            ``None`` if every poll failed transiently).
        ServerUnreachableError: ``max_unanswered`` polls in a row got no response; the last
            connection error is its ``__cause__``.
        WaitError: ``fail`` gave a reason.
        ValueError: bad ``interval`` or ``timeout``.
    """
    waiting = _Waiting(
        done,
        interval=interval,
        timeout=timeout,
        fail=fail,
        describe=describe,
        summarize=summarize,
        clock=clock,
        max_unanswered=max_unanswered,
    )
    signal: ChangeSignal | None = None
    try:
        while True:
            try:
                value = fetch()
            except transient as exc:
                waiting.unanswered(exc)
            else:
                if waiting.answered(value):
                    return value
                if changes is not None and not waiting.followed:
                    waiting.followed = True
                    signal = changes()
                    if signal is not None:
                        continue  # changes made before the subscription: poll once more
            remaining = waiting.remaining()
            if signal is not None:
                if signal.wait(waiting.follow_interval(remaining)):
                    continue
                signal.close()
                signal = None
            sleep(min(interval, remaining))
    finally:
        if signal is not None:
            signal.close()


async def async_wait_for(
    fetch: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    *,
    interval: float = DEFAULT_INTERVAL,
    timeout: float = DEFAULT_TIMEOUT,
    fail: FailCheck[T] | None = None,
    transient: tuple[type[BaseException], ...] = TRANSIENT_ERRORS,
    describe: str = "the condition",
    summarize: Callable[[T], str] | None = None,
    sleep: Callable[[float], Awaitable[object]] | None = None,
    clock: Callable[[], float] = time.monotonic,
    max_unanswered: int | None = DEFAULT_MAX_UNANSWERED,
    changes: AsyncChangeSource | None = None,
) -> T:
    """:func:`wait_for` for asyncio: ``fetch`` is a coroutine function (such as
    ``lambda: api.get_machine(id)`` on an :class:`smartdc.AsyncCloudAPI`), and the waits
    between polls never block the event loop. Arguments and errors are those of
    :func:`wait_for`; ``changes`` opens an :class:`AsyncChangeSignal`, e.g.
    :func:`smartdc.change_waits.async_machine_changes`. ``sleep`` defaults to
    ``asyncio.sleep``.
    """
    waiting = _Waiting(
        done,
        interval=interval,
        timeout=timeout,
        fail=fail,
        describe=describe,
        summarize=summarize,
        clock=clock,
        max_unanswered=max_unanswered,
    )
    if sleep is None:
        import asyncio  # not at the top: the command line never needs it

        sleep = asyncio.sleep
    signal: AsyncChangeSignal | None = None
    try:
        while True:
            try:
                value = await fetch()
            except transient as exc:
                waiting.unanswered(exc)
            else:
                if waiting.answered(value):
                    return value
                if changes is not None and not waiting.followed:
                    waiting.followed = True
                    signal = await changes()
                    if signal is not None:
                        continue
            remaining = waiting.remaining()
            if signal is not None:
                if await signal.wait(waiting.follow_interval(remaining)):
                    continue
                await signal.close()
                signal = None
            await sleep(min(interval, remaining))
    finally:
        if signal is not None:
            await signal.close()
