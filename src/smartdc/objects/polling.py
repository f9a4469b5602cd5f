"""State polling shared by :class:`~smartdc.Machine` and :class:`~smartdc.Snapshot`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from smartdc.wait import DEFAULT_INTERVAL, DEFAULT_TIMEOUT, wait_for

__all__ = ["DEFAULT_INTERVAL", "DEFAULT_TIMEOUT", "parse_time", "poll_state"]

StateFailure = Callable[[str | None], BaseException | None]


def poll_state(
    fetch_state: Callable[[], str | None],
    *,
    state: str,
    until: bool,
    what: str,
    failure: StateFailure,
    interval: float,
    timeout: float,
) -> None:
    """Poll ``fetch_state`` until it equals ``state`` (``until``) or differs from it.

    ``failure`` inspects each state first and returns the exception to raise when the goal
    can no longer be reached. See :func:`smartdc.wait.wait_for` for the other errors.
    """
    if not isinstance(state, str) or not state:
        raise ValueError(f"state must be a non-empty string, not {state!r}")
    goal = f"be {state!r}" if until else f"leave {state!r}"

    def done(current: str | None) -> bool:
        return (current == state) if until else (current != state)

    wait_for(
        fetch_state,
        done,
        fail=failure,
        interval=interval,
        timeout=timeout,
        describe=f"{what} to {goal}",
        summarize=lambda current: f"state {current!r}",
    )


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp from CloudAPI as an aware datetime (``None`` if absent or bad)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
