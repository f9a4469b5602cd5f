"""Image operations: ListImages, GetImage."""

from __future__ import annotations

from typing import Any

from smartdc.api._base import ApiBase, JSONObject, Ref, _check_names, _id_of, _path

#: Filters ListImages documents.
IMAGE_FILTERS = frozenset({"name", "os", "version", "public", "state", "owner", "type", "account"})


class ImagesMixin(ApiBase):
    """Machine images."""

    def list_images(self, **filters: Any) -> list[JSONObject]:
        """ListImages: ``GET /:login/images``.

        Filters (exact matches): ``name``, ``os``, ``version``, ``public`` (bool), ``state``
        (``"all"`` lists every state; default active only), ``owner``, ``type`` (docker images
        are listed only when ``type`` is given), ``account``.
        """
        _check_names("list_images", filters, IMAGE_FILTERS)
        return self._objects("GET", "images", params=filters)

    def get_image(self, id: Ref) -> JSONObject:
        """GetImage: ``GET /:login/images/:id``."""
        return self._object("GET", _path("images", _id_of(id, "id")))
