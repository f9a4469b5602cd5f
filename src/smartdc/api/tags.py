"""Machine tag operations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smartdc.api._base import ApiBase, JSONObject, Ref, _id_of, _path

#: A tag value CloudAPI stores.
TagValue = str | int | float | bool


class TagsMixin(ApiBase):
    """Tags of a machine (used by ``tag.<name>`` filters, firewall rules and affinity)."""

    def _tags_path(self, machine: Ref, *rest: str) -> str:
        return _path("machines", _id_of(machine, "id"), "tags", *rest)

    def add_machine_tags(self, id: Ref, tags: Mapping[str, TagValue]) -> JSONObject:
        """AddMachineTags: ``POST /:login/machines/:id/tags``. Returns the merged tags."""
        return self._object("POST", self._tags_path(id), json=dict(tags))

    def replace_machine_tags(self, id: Ref, tags: Mapping[str, TagValue]) -> JSONObject:
        """ReplaceMachineTags: ``PUT /:login/machines/:id/tags``. Returns exactly ``tags``."""
        return self._object("PUT", self._tags_path(id), json=dict(tags))

    def list_machine_tags(self, id: Ref) -> dict[str, Any]:
        """ListMachineTags: ``GET /:login/machines/:id/tags``. Returns ``{name: value}``."""
        return self._object("GET", self._tags_path(id))

    def get_machine_tag(self, id: Ref, tag: str) -> str:
        """GetMachineTag: ``GET /:login/machines/:id/tags/:tag``.

        Returns the value as text (CloudAPI answers ``""`` for non-string values).
        """
        value = self._request("GET", self._tags_path(id, tag)).body
        return "" if value is None else str(value)

    def delete_machine_tag(self, id: Ref, tag: str) -> None:
        """DeleteMachineTag: ``DELETE /:login/machines/:id/tags/:tag``."""
        self._none("DELETE", self._tags_path(id, tag))

    def delete_machine_tags(self, id: Ref) -> None:
        """DeleteMachineTags: ``DELETE /:login/machines/:id/tags``."""
        self._none("DELETE", self._tags_path(id))
