"""Volume operations (NFS shared volumes, where the datacenter offers them)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from smartdc.api._base import (
    ApiBase,
    JSONObject,
    Ref,
    _check_names,
    _fields,
    _id_of,
    _ids,
    _path,
    _str_list,
)
from smartdc.api._operation import Call, operation
from smartdc.wire import VOLUME_FILTERS as VOLUME_FILTERS


def volume_query(filters: Mapping[str, Any]) -> dict[str, Any]:
    """ListVolumes query parameters: names checked, ``predicate`` objects sent as JSON text."""
    _check_names("list_volumes", filters, VOLUME_FILTERS)
    query = {name: value for name, value in filters.items() if value is not None}
    if isinstance(query.get("predicate"), Mapping):
        query["predicate"] = json.dumps(query["predicate"])
    return query


class VolumesMixin(ApiBase):
    """Shared ``tritonnfs`` volumes that machines can mount."""

    @operation
    def list_volumes(self, /, **filters: Any) -> Call[list[JSONObject]]:
        """ListVolumes: ``GET /:login/volumes``.

        Filters: ``name`` (exact, or with a leading or trailing ``*``), ``size`` (MiB),
        ``state`` (``creating``, ``ready``, ``failed``, ``deleting``), ``type``
        (``tritonnfs``), ``predicate`` (a dict such as ``{"eq": ["name", "data"]}``, sent as
        JSON). Failed volumes are listed only when ``state`` or ``predicate`` asks for them.
        """
        return self._objects("GET", "volumes", params=volume_query(filters))

    @operation
    def create_volume(
        self,
        *,
        name: str | None = None,
        size: int | None = None,
        networks: Sequence[Ref] | None = None,
        affinity: str | Sequence[str] | None = None,
        tags: Mapping[str, str] | None = None,
        type: str = "tritonnfs",
    ) -> Call[JSONObject]:
        """CreateVolume: ``POST /:login/volumes``.

        All optional: ``name`` (generated if absent), ``size`` in MiB (default 10240; see
        :meth:`list_volume_sizes`), ``networks`` (fabric network ids; default the account's
        default fabric network), ``affinity`` rules, ``tags``, ``type`` (``tritonnfs``).
        Returns the volume in state ``creating``; poll :meth:`get_volume` for ``ready``.
        """
        body = _fields(
            name=name,
            type=type,
            size=size,
            networks=None if networks is None else _ids(networks, "id"),
            affinity=_str_list(affinity),
            tags=None if tags is None else dict(tags),
        )
        return self._object("POST", "volumes", json=body)

    @operation
    def get_volume(self, id: Ref) -> Call[JSONObject]:
        """GetVolume: ``GET /:login/volumes/:id``. A deleted volume raises ``VolumeNotFound``."""
        return self._object("GET", _path("volumes", _id_of(id, "id")))

    @operation
    def update_volume(self, id: Ref, *, name: str) -> Call[JSONObject]:
        """UpdateVolume: ``POST /:login/volumes/:id`` with ``name`` (the only changeable field).

        Returns the renamed volume (CloudAPI answers 200 with it, not the documented 204).
        """
        if not name:
            raise ValueError("update_volume() needs a non-empty name")
        return self._object("POST", _path("volumes", _id_of(id, "id")), json={"name": name})

    @operation
    def delete_volume(self, id: Ref) -> Call[None]:
        """DeleteVolume: ``DELETE /:login/volumes/:id``.

        Asynchronous: the volume is gone when :meth:`get_volume` raises ``VolumeNotFound``.
        A volume still used by machines cannot be deleted (``VolumeInUse``).
        """
        return self._none("DELETE", _path("volumes", _id_of(id, "id")))

    @operation
    def list_volume_sizes(self, type: str | None = None) -> Call[list[JSONObject]]:
        """ListVolumeSizes: ``GET /:login/volumesizes``. Returns ``[{"size", "type"}, ...]``."""
        return self._objects("GET", "volumesizes", params=_fields(type=type))
