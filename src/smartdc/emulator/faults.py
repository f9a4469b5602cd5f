"""Faults the emulator injects on request: failed provisions, throttling, maintenance.

A :class:`FaultPlan` counts, per kind, how many of the coming events go wrong:

``fail_provision``
    The next N CreateMachine requests that create a machine queue a provision job that
    fails: the machine ends ``failed`` and its audit says ``provision`` ``success: "no"``,
    as when a datacenter runs out of capacity. CreateVolume uses the same count: the volume
    ends ``failed``. Refused creates do not use one up.
``throttle``
    The next N authenticated CloudAPI requests answer 429 ``TooManyRequestsError`` "You have
    exceeded your request rate of 10 r/s.", as CloudAPI's throttle does, with no
    ``Retry-After``.
``unavailable``
    The next N authenticated CloudAPI requests answer 503 ``ServiceUnavailableError`` with
    ``Retry-After: <retry_after>`` (default 1 second), as CloudAPI in maintenance (read-only)
    mode does.

One plan serves the whole region: every datacenter of an emulator shares it, and a request
to any of them uses a fault up. Counts live in memory only (a restart forgets them); the
control plane's reset clears them with the rest of the state. Ping (signed or not) and
requests that fail before authentication completes never use a fault up, and a throttled
request does not also use up an ``unavailable`` one.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FAIL_PROVISION = "fail_provision"
THROTTLE = "throttle"
UNAVAILABLE = "unavailable"
#: The counted fault kinds, in the order requests meet them.
KINDS: tuple[str, ...] = (FAIL_PROVISION, THROTTLE, UNAVAILABLE)
RETRY_AFTER = "retry_after"
DEFAULT_RETRY_AFTER = 1
#: The rate CloudAPI names in its throttling message (its default: 10 requests/s).
THROTTLE_RATE = 10


@dataclass(frozen=True)
class RequestFault:
    """The error response an authenticated request meets instead of its answer."""

    status: int
    code: str
    message: str
    headers: Mapping[str, str]


def throttled() -> RequestFault:
    """CloudAPI's 429 for a caller over its request rate (restify sends no Retry-After)."""
    message = f"You have exceeded your request rate of {THROTTLE_RATE} r/s."
    return RequestFault(429, "TooManyRequestsError", message, {})


def unavailable(retry_after: int) -> RequestFault:
    """CloudAPI's 503 in maintenance mode, telling the client when to come back."""
    message = "CloudAPI is in maintenance mode; try again later"
    return RequestFault(503, "ServiceUnavailableError", message, {"Retry-After": str(retry_after)})


class FaultSpecError(ValueError):
    """A fault request that names an unknown fault or gives a count that is not one."""


class FaultPlan:
    """Pending faults: a thread-safe counter per kind, plus the 503 ``Retry-After``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending = dict.fromkeys(KINDS, 0)
        self._retry_after = DEFAULT_RETRY_AFTER

    def set(self, **counts: int) -> dict[str, int]:
        """Set the named counts (and ``retry_after``); the others stay. Returns
        :meth:`pending`. Raises :class:`FaultSpecError` for unknown names or bad values."""
        checked = validate(counts)
        with self._lock:
            for name, value in checked.items():
                if name == RETRY_AFTER:
                    self._retry_after = value
                else:
                    self._pending[name] = value
            return self._snapshot()

    def clear(self) -> None:
        """Cancel every pending fault and restore the default ``Retry-After``."""
        with self._lock:
            self._pending = dict.fromkeys(KINDS, 0)
            self._retry_after = DEFAULT_RETRY_AFTER

    def pending(self) -> dict[str, int]:
        """``{kind: count, ..., "retry_after": seconds}``."""
        with self._lock:
            return self._snapshot()

    def take(self, kind: str) -> bool:
        """Use up one fault of ``kind``: whether one was pending."""
        if not self._pending[kind]:  # the common case, without the lock
            return False
        with self._lock:
            if self._pending[kind] <= 0:
                return False
            self._pending[kind] -= 1
            return True

    def give_back(self, kind: str) -> None:
        """Return a fault taken for an event that did not happen after all."""
        with self._lock:
            self._pending[kind] += 1

    def take_request_fault(self, kind: str) -> RequestFault | None:
        """The error of a pending ``throttle`` or ``unavailable`` fault, using it up, or
        ``None`` when none of that kind is pending."""
        if not self.take(kind):
            return None
        return throttled() if kind == THROTTLE else unavailable(self._retry_after)

    def _snapshot(self) -> dict[str, int]:
        return {**self._pending, RETRY_AFTER: self._retry_after}


def validate(spec: Mapping[str, Any]) -> dict[str, int]:
    """The spec's counts as ints; :class:`FaultSpecError` names the first problem."""
    known = (*KINDS, RETRY_AFTER)
    checked: dict[str, int] = {}
    for name, value in spec.items():
        if name not in known:
            raise FaultSpecError(f"unknown fault {name!r}: expected one of {', '.join(known)}")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise FaultSpecError(f"{name} must be a whole number 0 or more, not {value!r}")
        checked[name] = value
    return checked
