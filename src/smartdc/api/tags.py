"""Machine tag operations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smartdc.api._base import ApiBase, JSONObject, Ref, _id_of, _path
from smartdc.api._operation import Call, operation

#: A tag value CloudAPI stores.
TagValue = str | int | float | bool


def _tag_text(value: Any) -> str:
    return "" if value is None else str(value)


class TagsMixin(ApiBase):
    """Tags of a machine (used by ``tag.<name>`` filters, firewall rules and affinity)."""

    def _tags_path(self, machine: Ref, *rest: str) -> str:
        return _path("machines", _id_of(machine, "id"), "tags", *rest)

    @operation
    def add_machine_tags(self, id: Ref, tags: Mapping[str, TagValue]) -> Call[JSONObject]:
        """AddMachineTags: ``POST /:login/machines/:id/tags``. Returns the merged tags."""
        return self._object("POST", self._tags_path(id), json=dict(tags))

    @operation
    def replace_machine_tags(self, id: Ref, tags: Mapping[str, TagValue]) -> Call[JSONObject]:
        """ReplaceMachineTags: ``PUT /:login/machines/:id/tags``. Returns exactly ``tags``."""
        return self._object("PUT", self._tags_path(id), json=dict(tags))

    @operation
    def list_machine_tags(self, id: Ref) -> Call[dict[str, Any]]:
        """ListMachineTags: ``GET /:login/machines/:id/tags``. Returns ``{name: value}``."""
        return self._object("GET", self._tags_path(id))

    @operation
    def get_machine_tag(self, id: Ref, tag: str) -> Call[str]:
        """GetMachineTag: ``GET /:login/machines/:id/tags/:tag``.

        Returns the value as text (CloudAPI answers ``""`` for non-string values).
        """
        return Call("GET", self._tags_path(id, tag)).then(_tag_text)

    @operation
    def delete_machine_tag(self, id: Ref, tag: str) -> Call[None]:
        """DeleteMachineTag: ``DELETE /:login/machines/:id/tags/:tag``."""
        return self._none("DELETE", self._tags_path(id, tag))

    @operation
    def delete_machine_tags(self, id: Ref) -> Call[None]:
        """DeleteMachineTags: ``DELETE /:login/machines/:id/tags``."""
        return self._none("DELETE", self._tags_path(id))
