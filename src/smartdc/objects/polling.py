"""What :class:`~smartdc.Machine` and :class:`~smartdc.Snapshot` share: cached data, timestamps
and the ``poll_until`` / ``poll_while`` state waits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Self

from smartdc.errors import ResourceNotFoundError, WaitError
from smartdc.wait import DEFAULT_INTERVAL, DEFAULT_TIMEOUT, ChangeSource, wait_for

__all__ = ["DEFAULT_INTERVAL", "DEFAULT_TIMEOUT", "PolledResource", "parse_time", "poll_state"]

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
    changes: ChangeSource | None = None,
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
        changes=changes,
    )


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp from CloudAPI as an aware datetime (``None`` if absent or bad)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


class PolledResource:
    """A CloudAPI object with a ``state`` that changes in the background.

    Attributes read the data last fetched (``_data``); :meth:`refresh` fetches it again.
    Subclasses implement :meth:`refresh` and :attr:`_label`, and may refine
    :meth:`_failed_error` to say which states end a wait as a failure.
    """

    _data: dict[str, Any]

    #: The states CloudAPI can report for this kind of object; a poll for any other state
    #: could never end, so it is refused at once. Empty: any state is accepted.
    _known_states: frozenset[str] = frozenset()

    @property
    def _label(self) -> str:
        """How errors name this object (``machine web-1 (<id>)``)."""
        raise NotImplementedError

    @property
    def _identity(self) -> tuple[Any, ...]:
        """What names the CloudAPI resource (its id; with its machine's for a machine's
        disk, NIC or snapshot): objects of one kind with the same identity are equal."""
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if isinstance(other, type(self)):
            return self._identity == other._identity
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._identity)

    @property
    def state(self) -> str | None:
        """The state last seen (``provisioning``, ``running``, ``queued``, ``created`` ...)."""
        value = self._data.get("state")
        return value if isinstance(value, str) else None

    @property
    def raw(self) -> dict[str, Any]:
        """A copy of the data as CloudAPI last returned it."""
        return dict(self._data)

    data = raw

    @property
    def created(self) -> datetime | None:
        """Creation time."""
        return parse_time(self._data.get("created"))

    @property
    def updated(self) -> datetime | None:
        """Last update time."""
        return parse_time(self._data.get("updated"))

    def _merge(self, **fields: Any) -> None:
        # One assignment, so that threads sharing the object never see half an update.
        self._data = {**self._data, **fields}

    def refresh(self) -> Self:
        """Fetch the data again and return the object."""
        raise NotImplementedError

    def status(self) -> str | None:
        """Refresh, then return the state."""
        return self.refresh().state

    def poll_until(
        self, state: str, interval: float = DEFAULT_INTERVAL, timeout: float = DEFAULT_TIMEOUT
    ) -> Self:
        """Poll every ``interval`` seconds until the object is in ``state``; return it.

        ``poll_until("deleted")`` also ends when CloudAPI no longer knows the object (404,
        or a machine's 410 Gone).

        Raises:
            WaitError: the object went to a failed state (for a machine,
                :class:`~smartdc.errors.MachineFailedError`), or was deleted while waiting for
                another state.
            WaitTimeoutError: ``timeout`` seconds (default 600) passed.
            ServerUnreachableError: five polls in a row got no response at all.
            ValueError: ``state`` is not one this kind of object can be in.
        """
        self._poll(state, until=True, interval=interval, timeout=timeout)
        return self

    def poll_while(
        self, state: str, interval: float = DEFAULT_INTERVAL, timeout: float = DEFAULT_TIMEOUT
    ) -> Self:
        """Poll every ``interval`` seconds while the object is in ``state``; return it.

        Raises:
            WaitError: the object went to a failed state (for a machine,
                :class:`~smartdc.errors.MachineFailedError`), unless leaving that state.
            WaitTimeoutError: ``timeout`` seconds (default 600) passed.
            ServerUnreachableError: five polls in a row got no response at all.
            ValueError: ``state`` is not one this kind of object can be in.
        """
        self._poll(state, until=False, interval=interval, timeout=timeout)
        return self

    def _changes(self) -> ChangeSource | None:
        """What tells a wait on this object that it changed (``None``: polling only)."""
        return None

    def _failed_error(self, current: str, goal: str, until: bool) -> BaseException | None:
        """The error ending a wait for ``goal`` now that the state is ``current``, if any."""
        if current == "failed" and goal != "failed":
            return WaitError(f"{self._label} failed")
        return None

    def _poll(self, state: str, *, until: bool, interval: float, timeout: float) -> None:
        if self._known_states and isinstance(state, str) and state not in self._known_states:
            raise ValueError(
                f"{state!r} is not a state CloudAPI reports for a {type(self).__name__.lower()}; "
                f"expected one of: {', '.join(sorted(self._known_states))}"
            )

        def fetch_state() -> str | None:
            try:
                return self.status()
            except ResourceNotFoundError:
                if not (until and state == "deleted"):
                    raise
                self._merge(state="deleted")
                return "deleted"

        def failure(current: str | None) -> BaseException | None:
            if current is None:
                return None
            if until and current == "deleted" and state != "deleted":
                return WaitError(f"{self._label} was deleted while waiting for {state!r}")
            return self._failed_error(current, state, until)

        poll_state(
            fetch_state,
            state=state,
            until=until,
            what=self._label,
            failure=failure,
            interval=interval,
            timeout=timeout,
            changes=self._changes(),
        )
