"""Machine snapshot operations."""

from __future__ import annotations

from smartdc.api._base import ApiBase, JSONObject, Ref, _id_of, _path
from smartdc.api._operation import Call, operation


class SnapshotsMixin(ApiBase):
    """Snapshots of a machine's disks (not available for kvm)."""

    def _snapshots_path(self, machine: Ref, *rest: str) -> str:
        return _path("machines", _id_of(machine, "id"), "snapshots", *rest)

    @operation
    def create_machine_snapshot(self, id: Ref, name: str | None = None) -> Call[JSONObject]:
        """CreateMachineSnapshot: ``POST /:login/machines/:id/snapshots`` with optional ``name``.

        Without a name CloudAPI uses the UTC time (``YYYYMMDDTHHMMSSZ``). Returns
        ``{"name", "state": "queued"}``; poll :meth:`get_machine_snapshot` for ``created``.

        CloudAPI does not refuse a name already in use: it answers ``queued`` for a second
        job under that name, which cannot make a second snapshot of it, and the name keeps
        finding the old snapshot (sdc-cloudapi lib/snapshots.js). This method sends what it
        is given; :meth:`smartdc.Machine.create_snapshot` checks
        :meth:`list_machine_snapshots` first and raises
        :class:`~smartdc.errors.SnapshotExistsError`.
        """
        body = {"name": name} if name is not None else None
        return self._object("POST", self._snapshots_path(id), json=body)

    @operation
    def list_machine_snapshots(self, id: Ref) -> Call[list[JSONObject]]:
        """ListMachineSnapshots: ``GET /:login/machines/:id/snapshots``."""
        return self._objects("GET", self._snapshots_path(id))

    @operation
    def get_machine_snapshot(self, id: Ref, name: Ref) -> Call[JSONObject]:
        """GetMachineSnapshot: ``GET /:login/machines/:id/snapshots/:name``."""
        return self._object("GET", self._snapshots_path(id, _id_of(name, "name")))

    @operation
    def delete_machine_snapshot(self, id: Ref, name: Ref) -> Call[None]:
        """DeleteMachineSnapshot: ``DELETE /:login/machines/:id/snapshots/:name``."""
        return self._none("DELETE", self._snapshots_path(id, _id_of(name, "name")))

    @operation
    def start_machine_from_snapshot(self, id: Ref, name: Ref) -> Call[None]:
        """StartMachineFromSnapshot: ``POST /:login/machines/:id/snapshots/:name``.

        Rolls the (stopped) machine back to the snapshot and boots it. Asynchronous.
        """
        return self._none("POST", self._snapshots_path(id, _id_of(name, "name")))
