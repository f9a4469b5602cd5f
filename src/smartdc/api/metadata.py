"""Machine metadata operations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smartdc.api._base import ApiBase, JSONObject, Ref, _id_of, _path
from smartdc.api.machines import metadata_value


class MetadataMixin(ApiBase):
    """Customer metadata of a machine (``user-script``, ``user-data`` ...)."""

    def _metadata_path(self, machine: Ref, *rest: str) -> str:
        return _path("machines", _id_of(machine, "id"), "metadata", *rest)

    def update_machine_metadata(self, id: Ref, metadata: Mapping[str, Any]) -> JSONObject:
        """UpdateMachineMetadata: ``POST /:login/machines/:id/metadata``.

        Adds or replaces the given keys and keeps the others; returns the merged metadata.
        Strings, numbers and booleans are sent as they are; dicts and lists as JSON text.
        """
        body = {key: metadata_value(value) for key, value in metadata.items()}
        return self._object("POST", self._metadata_path(id), json=body)

    def list_machine_metadata(self, id: Ref, credentials: bool = False) -> JSONObject:
        """ListMachineMetadata: ``GET /:login/machines/:id/metadata``.

        ``credentials=True`` adds ``credentials`` (``{user: password}``).
        """
        params = {"credentials": True} if credentials else None
        return self._object("GET", self._metadata_path(id), params=params)

    def get_machine_metadata(self, id: Ref, key: str) -> Any:
        """GetMachineMetadata: ``GET /:login/machines/:id/metadata/:key``. Returns the value."""
        return self._request("GET", self._metadata_path(id, key)).body

    def delete_machine_metadata(self, id: Ref, key: str) -> None:
        """DeleteMachineMetadata: ``DELETE /:login/machines/:id/metadata/:key``."""
        self._none("DELETE", self._metadata_path(id, key))

    def delete_all_machine_metadata(self, id: Ref) -> None:
        """DeleteAllMachineMetadata: ``DELETE /:login/machines/:id/metadata``.

        CloudAPI keeps ``administrator_pw`` and ``root_authorized_keys``.
        """
        self._none("DELETE", self._metadata_path(id))
