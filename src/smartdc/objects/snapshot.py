"""``Snapshot``: one snapshot of a machine.

A snapshot's ``state`` follows the job that made it: ``queued``, ``running``, then ``created``
(or ``failed`` / ``canceled``). Attributes read the data last fetched; ``refresh()`` fetches.
``delete()``, ``refresh()`` and the polls return the snapshot; ``start()`` acts on the machine
and returns it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self

from smartdc.errors import WaitError
from smartdc.objects.polling import PolledResource

if TYPE_CHECKING:
    from smartdc.objects.machine import Machine

__all__ = ["Snapshot"]

_FAILED_STATES = frozenset({"failed", "canceled"})


class Snapshot(PolledResource):
    """A snapshot of :attr:`machine`, named :attr:`name`.

    Made by ``Machine.create_snapshot()``, ``snapshots()`` and ``snapshot(name)``. Built by
    hand, ``Snapshot(machine, name)`` fetches it. Snapshots compare equal by machine id and
    name.
    """

    _known_states = frozenset({"queued", "running", "created", "failed", "canceled", "deleted"})

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
    def size(self) -> int | None:
        """Size in MiB, when CloudAPI knows it."""
        value = self._data.get("size")
        return value if isinstance(value, int) else None

    @property
    def _label(self) -> str:
        """``snapshot <name> of machine <id>``, as errors name the snapshot."""
        return f"snapshot {self.name} of machine {self.machine.id}"

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<Snapshot {self.name} of {self.machine.name} ({self.machine.id}) {self.state}>"

    @property
    def _identity(self) -> tuple[Any, ...]:
        return (self.machine.id, self.name)

    def refresh(self) -> Self:
        """Fetch the snapshot again."""
        self._data = self.machine.raw_snapshot_data(self.name)
        return self

    def delete(self) -> Snapshot:
        """Delete the snapshot."""
        self.machine.api.delete_machine_snapshot(self.machine.id, self.name)
        return self

    def start(self) -> Machine:
        """Roll the machine back to this snapshot and boot it; return the machine."""
        return self.machine.start_from_snapshot(self.name)

    def _failed_error(self, current: str, goal: str, until: bool) -> BaseException | None:
        if current in _FAILED_STATES and current != goal:
            return WaitError(f"{self._label} {current}")
        return None
