"""``Disk``: one disk of a bhyve machine with a flexible disk package.

A disk shows ``creating``, ``resizing`` or ``deleting`` while a job works on it, and
otherwise follows its machine's state. Disks change only while the machine is stopped::

    disk = machine.add_disk(10240)
    disk.poll_while("creating")
    disk.resize(20480).poll_while("resizing")
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self

from smartdc.objects.polling import PolledResource
from smartdc.objects.refs import ref_value

if TYPE_CHECKING:
    from smartdc.objects.machine import Machine

__all__ = ["Disk"]


class Disk(PolledResource):
    """A disk of :attr:`machine`.

    Made by ``Machine.disks()``, ``get_disk()`` and ``add_disk()``. Disks compare equal by
    machine id and disk id. Any state is accepted by the polls, since an idle disk shows
    its machine's state.
    """

    def __init__(self, machine: Machine, data: Mapping[str, Any]) -> None:
        """Wrap ``data`` (a disk dict with ``id``)."""
        self.machine = machine
        self.id: str = ref_value(data, "id", what="disk")
        self._data: dict[str, Any] = dict(data)

    @property
    def size(self) -> int | None:
        """Size in MiB."""
        value = self._data.get("size")
        return value if isinstance(value, int) else None

    @property
    def pci_slot(self) -> str | None:
        """Where the disk sits (``"0:4:0"``)."""
        value = self._data.get("pci_slot")
        return value if isinstance(value, str) else None

    @property
    def boot(self) -> bool:
        """Whether the machine boots from this disk."""
        return bool(self._data.get("boot"))

    @property
    def block_size(self) -> int | None:
        """Block size in bytes."""
        value = self._data.get("block_size")
        return value if isinstance(value, int) else None

    @property
    def _label(self) -> str:
        return f"disk {self.id} of machine {self.machine.id}"

    def __str__(self) -> str:
        return self.id

    def __repr__(self) -> str:
        return f"<Disk {self.id} {self.size} MiB of {self.machine.name} {self.state}>"

    @property
    def _identity(self) -> tuple[Any, ...]:
        return (self.machine.id, self.id)

    def refresh(self) -> Self:
        """Fetch the disk again (``GetMachineDisk``)."""
        self._data = dict(self.machine.api.get_machine_disk(self.machine.id, self.id))
        return self

    def resize(self, size: int, dangerous_allow_shrink: bool = False) -> Self:
        """Set the disk to ``size`` MiB (the machine must be stopped); shrinking, which loses
        the data past the new end, also needs ``dangerous_allow_shrink=True``."""
        answer = self.machine.api.resize_machine_disk(
            self.machine.id, self.id, size=size, dangerous_allow_shrink=dangerous_allow_shrink
        )
        self._data = dict(answer)
        return self

    def delete(self) -> Self:
        """Delete the disk (the machine must be stopped); ``poll_until("deleted")`` waits."""
        self.machine.api.delete_machine_disk(self.machine.id, self.id)
        return self
