"""Image operations: list, get, create from a machine, import, update, export, clone, delete."""

from __future__ import annotations

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
)
from smartdc.api._operation import Call, operation
from smartdc.wire import IMAGE_FILTERS as IMAGE_FILTERS


class ImagesMixin(ApiBase):
    """Machine images."""

    @operation
    def list_images(self, /, **filters: Any) -> Call[list[JSONObject]]:
        """ListImages: ``GET /:login/images``.

        Filters (exact matches): ``name``, ``os``, ``version``, ``public`` (bool), ``state``
        (``"all"`` lists every state; default active only), ``owner``, ``type`` (docker images
        are listed only when ``type`` is given), ``account``.
        """
        _check_names("list_images", filters, IMAGE_FILTERS)
        return self._objects("GET", "images", params=filters)

    @operation
    def get_image(self, id: Ref) -> Call[JSONObject]:
        """GetImage: ``GET /:login/images/:id``."""
        return self._object("GET", _path("images", _id_of(id, "id")))

    @operation
    def delete_image(self, id: Ref) -> Call[None]:
        """DeleteImage: ``DELETE /:login/images/:id``. Only the image's owner may delete it."""
        return self._none("DELETE", _path("images", _id_of(id, "id")))

    @operation
    def create_image_from_machine(
        self,
        *,
        machine: Ref,
        name: str,
        version: str,
        description: str | None = None,
        homepage: str | None = None,
        eula: str | None = None,
        acl: Sequence[Ref] | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> Call[JSONObject]:
        """CreateImageFromMachine: ``POST /:login/images``.

        ``machine`` (id or dict) must be a prepared, stopped machine; ``name`` and ``version``
        name the new image; ``acl`` lists account UUIDs allowed to use it; ``tags`` are image
        tags. Returns the new image in state ``creating``; poll :meth:`get_image`.
        """
        body = _fields(
            machine=_id_of(machine, "id"),
            name=name,
            version=version,
            description=description,
            homepage=homepage,
            eula=eula,
            acl=None if acl is None else _ids(acl, "id"),
            tags=None if tags is None else dict(tags),
        )
        return self._object("POST", "images", json=body)

    @operation
    def import_image_from_datacenter(self, *, datacenter: str, id: Ref) -> Call[JSONObject]:
        """ImportImageFromDatacenter:
        ``POST /:login/images?action=import-from-datacenter&datacenter=...&id=...``.

        Copies the account's own image ``id`` from the datacenter named ``datacenter`` (of the
        same cloud) into this one. CloudAPI answers once the copy is done (200, not the
        documented 201). Returns the imported image.
        """
        params = {
            "action": "import-from-datacenter",
            "datacenter": datacenter,
            "id": _id_of(id, "id"),
        }
        return self._object("POST", "images", params=params, json={})

    @operation
    def update_image(
        self,
        id: Ref,
        *,
        name: str | None = None,
        version: str | None = None,
        description: str | None = None,
        homepage: str | None = None,
        eula: str | None = None,
        acl: Sequence[Ref] | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> Call[JSONObject]:
        """UpdateImage: ``POST /:login/images/:id?action=update``.

        Changes the given fields (``name``, ``version``, ``description``, ``homepage``,
        ``eula``, ``acl`` account UUIDs, ``tags``); at least one is needed. Returns the image.
        """
        body = _fields(
            name=name,
            version=version,
            description=description,
            homepage=homepage,
            eula=eula,
            acl=None if acl is None else _ids(acl, "id"),
            tags=None if tags is None else dict(tags),
        )
        if not body:
            raise ValueError("update_image() needs at least one field to change")
        return self._image_action(id, "update", body)

    @operation
    def export_image(self, id: Ref, manta_path: str) -> Call[JSONObject]:
        """ExportImage: ``POST /:login/images/:id?action=export`` with ``manta_path``.

        Writes the image file and manifest under ``manta_path`` in Manta. Returns
        ``{"manta_url", "image_path", "manifest_path"}``.
        """
        if not manta_path:
            raise ValueError("export_image() needs a manta_path such as '/<login>/stor/images'")
        return self._image_action(id, "export", {"manta_path": manta_path})

    @operation
    def clone_image(self, id: Ref) -> Call[JSONObject]:
        """CloneImage: ``POST /:login/images/:id?action=clone``.

        Copies an image shared with the account into an image it owns. Returns the new image.
        """
        return self._image_action(id, "clone", None)

    def _image_action(self, id: Ref, action: str, body: JSONObject | None) -> Call[JSONObject]:
        return self._object(
            "POST", _path("images", _id_of(id, "id")), params={"action": action}, json=body
        )
