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
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Final, TypeVar

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
    "TRANSIENT_ERRORS",
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

FailCheck = Callable[[T], "str | BaseException | None"]


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

    Raises:
        WaitTimeoutError: the deadline passed; ``.last`` is the last value fetched (or
            ``None`` if every poll failed transiently).
        ServerUnreachableError: ``max_unanswered`` polls in a row got no response; the last
            connection error is its ``__cause__``.
        WaitError: ``fail`` gave a reason.
        ValueError: bad ``interval`` or ``timeout``.
    """
    limit = check_wait_limits(interval, timeout)
    if max_unanswered is not None and max_unanswered < 1:
        raise ValueError(f"max_unanswered must be 1 or more (or None), not {max_unanswered!r}")
    deadline = clock() + limit
    last: T | None = None
    last_error: BaseException | None = None
    unanswered = 0
    while True:
        try:
            value = fetch()
        except transient as exc:
            last_error = exc
            unanswered = unanswered + 1 if isinstance(exc, TransportError) else 0
            if max_unanswered is not None and unanswered >= max_unanswered:
                raise ServerUnreachableError(
                    f"stopped waiting for {describe}: the server did not answer "
                    f"{unanswered} polls in a row; the last one failed: {exc}",
                    last=last,
                ) from exc
        else:
            last, last_error, unanswered = value, None, 0
            if fail is not None:
                reason = fail(value)
                if isinstance(reason, BaseException):
                    raise reason
                if reason:
                    raise WaitError(f"stopped waiting for {describe}: {reason}")
            if done(value):
                return value
        remaining = deadline - clock()
        if remaining <= 0:
            message = f"gave up waiting for {describe} after {limit:g}s"
            if last_error is not None:
                message += f"; the last poll failed: {last_error}"
            elif summarize is not None and last is not None:
                message += f"; last seen: {summarize(last)}"
            raise WaitTimeoutError(message, last=last)
        sleep(min(interval, remaining))
