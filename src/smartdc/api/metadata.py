"""Machine metadata operations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smartdc.api._base import ApiBase, JSONObject, Ref, _id_of, _path
from smartdc.api._operation import Call, operation
from smartdc.api.machines import metadata_value


class MetadataMixin(ApiBase):
    """Customer metadata of a machine (``user-script``, ``user-data`` ...)."""

    def _metadata_path(self, machine: Ref, *rest: str) -> str:
        return _path("machines", _id_of(machine, "id"), "metadata", *rest)

    @operation
    def update_machine_metadata(self, id: Ref, metadata: Mapping[str, Any]) -> Call[JSONObject]:
        """UpdateMachineMetadata: ``POST /:login/machines/:id/metadata``.

        Adds or replaces the given keys and keeps the others; returns the merged metadata.
        Strings, numbers and booleans are sent as they are; dicts and lists as JSON text.
        """
        body = {key: metadata_value(value) for key, value in metadata.items()}
        return self._object("POST", self._metadata_path(id), json=body)

    @operation
    def list_machine_metadata(self, id: Ref, credentials: bool = False) -> Call[JSONObject]:
        """ListMachineMetadata: ``GET /:login/machines/:id/metadata``.

        ``credentials=True`` adds ``credentials`` (``{user: password}``).
        """
        params = {"credentials": True} if credentials else None
        return self._object("GET", self._metadata_path(id), params=params)

    @operation
    def get_machine_metadata(self, id: Ref, key: str) -> Call[Any]:
        """GetMachineMetadata: ``GET /:login/machines/:id/metadata/:key``. Returns the value."""
        return Call("GET", self._metadata_path(id, key))

    @operation
    def delete_machine_metadata(self, id: Ref, key: str) -> Call[None]:
        """DeleteMachineMetadata: ``DELETE /:login/machines/:id/metadata/:key``."""
        return self._none("DELETE", self._metadata_path(id, key))

    @operation
    def delete_all_machine_metadata(self, id: Ref) -> Call[None]:
        """DeleteAllMachineMetadata: ``DELETE /:login/machines/:id/metadata``.

        CloudAPI keeps ``administrator_pw`` and ``root_authorized_keys``.
        """
        return self._none("DELETE", self._metadata_path(id))
