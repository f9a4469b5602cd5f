"""Machine disk operations (bhyve machines with flexible disk packages)."""

from __future__ import annotations

from typing import Literal

from smartdc.api._base import ApiBase, JSONObject, Ref, _fields, _id_of, _path
from smartdc.api._operation import Call, operation
from smartdc.transport import Response

#: A disk size: MiB, or ``"remaining"`` for the rest of a flexible package's space.
DiskSize = int | Literal["remaining"]


def _size(size: DiskSize) -> DiskSize:
    if size == "remaining":
        return size
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise ValueError(f"disk size must be a positive number of MiB or 'remaining', not {size!r}")
    return size


def _disk_or_none(response: Response) -> JSONObject | None:
    """CreateMachineDisk's disk (with ``pci_slot``), or ``None`` for its bodiless 202."""
    disk: JSONObject | None = response.body or None
    return disk


class DisksMixin(ApiBase):
    """The disks of a bhyve machine."""

    def _disks_path(self, machine: Ref, *rest: str) -> str:
        return _path("machines", _id_of(machine, "id"), "disks", *rest)

    @operation
    def list_machine_disks(self, id: Ref) -> Call[list[JSONObject]]:
        """ListMachineDisks: ``GET /:login/machines/:id/disks``.

        Returns ``[{"id", "pci_slot", "size", "block_size", "boot", "state"}, ...]``.
        """
        return self._objects("GET", self._disks_path(id))

    @operation
    def get_machine_disk(self, id: Ref, disk_id: Ref) -> Call[JSONObject]:
        """GetMachineDisk: ``GET /:login/machines/:id/disks/:disk_id``."""
        return self._object("GET", self._disks_path(id, _id_of(disk_id, "id")))

    @operation
    def create_machine_disk(
        self, id: Ref, *, size: DiskSize, pci_slot: str | None = None
    ) -> Call[JSONObject | None]:
        """CreateMachineDisk: ``POST /:login/machines/:id/disks``.

        Adds a disk of ``size`` MiB (or ``"remaining"``) to the stopped machine, optionally
        at ``pci_slot`` (``"0:5:0"`` form). With ``pci_slot`` CloudAPI answers 200 with the
        disk (state ``creating``), which is returned; without it, 202 and no body: ``None``.
        """
        body = _fields(size=_size(size), pci_slot=pci_slot)
        return Call("POST", self._disks_path(id), json=body, decode=_disk_or_none)

    @operation
    def resize_machine_disk(
        self, id: Ref, disk_id: Ref, *, size: int, dangerous_allow_shrink: bool = False
    ) -> Call[JSONObject]:
        """ResizeMachineDisk: ``POST /:login/machines/:id/disks/:disk_id``.

        Sets the disk to ``size`` MiB; making it smaller also needs
        ``dangerous_allow_shrink=True`` (data past the new end is lost). Returns the disk
        (state ``resizing``; its ``size`` changes when the job finishes).
        """
        body: JSONObject = {"size": _size(size)}
        if dangerous_allow_shrink:
            body["dangerous_allow_shrink"] = True
        return self._object("POST", self._disks_path(id, _id_of(disk_id, "id")), json=body)

    @operation
    def delete_machine_disk(self, id: Ref, disk_id: Ref) -> Call[None]:
        """DeleteMachineDisk: ``DELETE /:login/machines/:id/disks/:disk_id``.

        The machine must be stopped. Asynchronous.
        """
        return self._none("DELETE", self._disks_path(id, _id_of(disk_id, "id")))
