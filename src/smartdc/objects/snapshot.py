"""``Snapshot``: one snapshot of a machine.

A snapshot's ``state`` follows the job that made it: ``queued``, ``running``, then ``created``
(or ``failed`` / ``canceled``). Attributes read the data last fetched; ``refresh()`` fetches.
``delete()``, ``refresh()`` and the polls return the snapshot; ``start()`` acts on the machine
and returns it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from smartdc.errors import ResourceNotFoundError, WaitError
from smartdc.objects.polling import DEFAULT_INTERVAL, DEFAULT_TIMEOUT, parse_time, poll_state

if TYPE_CHECKING:
    from smartdc.objects.machine import Machine

__all__ = ["Snapshot"]

_FAILED_STATES = frozenset({"failed", "canceled"})


class Snapshot:
    """A snapshot of :attr:`machine`, named :attr:`name`.

    Made by ``Machine.create_snapshot()``, ``snapshots()`` and ``snapshot(name)``. Built by
    hand, ``Snapshot(machine, name)`` fetches it. Snapshots compare equal by machine id and
    name.
    """

    def __init__(
        self, machine: Machine, name: str | None = None, data: Mapping[str, Any] | None = None
    ) -> None:
        """Wrap ``data``, or fetch the snapshot ``name`` of ``machine``.

        Raises:
            TypeError: no name, either given or inside ``data``.
        """
        self.machine = machine
        found = name or (data or {}).get("name")
        if not isinstance(found, str) or not found:
            raise TypeError("Snapshot needs a name or data with a name")
        self.name: str = found
        self._data: dict[str, Any] = (
            dict(data) if data is not None else machine.raw_snapshot_data(self.name)
        )

    @property
    def state(self) -> str | None:
        """Last state seen (``queued``, ``running``, ``created``, ``failed``, ``deleted`` ...)."""
        value = self._data.get("state")
        return value if isinstance(value, str) else None

    @property
    def size(self) -> int | None:
        """Size in MiB, when CloudAPI knows it."""
        value = self._data.get("size")
        return value if isinstance(value, int) else None

    @property
    def created(self) -> datetime | None:
        """Creation time."""
        return parse_time(self._data.get("created"))

    @property
    def updated(self) -> datetime | None:
        """Last update time."""
        return parse_time(self._data.get("updated"))

    @property
    def raw(self) -> dict[str, Any]:
        """A copy of the snapshot data as CloudAPI last returned it."""
        return dict(self._data)

    data = raw

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<Snapshot {self.name} of {self.machine.name} ({self.machine.id}) {self.state}>"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Snapshot):
            return (self.machine.id, self.name) == (other.machine.id, other.name)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.machine.id, self.name))

    def refresh(self) -> Snapshot:
        """Fetch the snapshot again."""
        self._data = self.machine.raw_snapshot_data(self.name)
        return self

    def status(self) -> str | None:
        """Refresh, then return the state."""
        return self.refresh().state

    def delete(self) -> Snapshot:
        """Delete the snapshot."""
        self.machine.api.delete_machine_snapshot(self.machine.id, self.name)
        return self

    def start(self) -> Machine:
        """Roll the machine back to this snapshot and boot it; return the machine."""
        return self.machine.start_from_snapshot(self.name)

    def poll_until(
        self, state: str, interval: float = DEFAULT_INTERVAL, timeout: float = DEFAULT_TIMEOUT
    ) -> Snapshot:
        """Poll until the snapshot is in ``state`` (``"created"`` usually).

        ``poll_until("deleted")`` also ends when CloudAPI no longer knows the snapshot (404).

        Raises:
            WaitError: the snapshot job failed or was canceled, or the snapshot vanished.
            WaitTimeoutError: ``timeout`` seconds (default 600) passed.
        """
        self._poll(state, until=True, interval=interval, timeout=timeout)
        return self

    def poll_while(
        self, state: str, interval: float = DEFAULT_INTERVAL, timeout: float = DEFAULT_TIMEOUT
    ) -> Snapshot:
        """Poll while the snapshot is in ``state`` (``"queued"`` say)."""
        self._poll(state, until=False, interval=interval, timeout=timeout)
        return self

    def _poll(self, state: str, *, until: bool, interval: float, timeout: float) -> None:
        def fetch_state() -> str | None:
            try:
                return self.status()
            except ResourceNotFoundError:
                if not (until and state == "deleted"):
                    raise
                self._data = {**self._data, "state": "deleted"}
                return "deleted"

        def failure(current: str | None) -> BaseException | None:
            if current in _FAILED_STATES and current != state:
                return WaitError(f"snapshot {self.name} of machine {self.machine.id} {current}")
            if until and current == "deleted" and state != "deleted":
                return WaitError(f"snapshot {self.name} of machine {self.machine.id} was deleted")
            return None

        poll_state(
            fetch_state,
            state=state,
            until=until,
            what=f"snapshot {self.name} of machine {self.machine.id}",
            failure=failure,
            interval=interval,
            timeout=timeout,
        )
