"""Package operations: ListPackages, GetPackage."""

from __future__ import annotations

from typing import Any

from smartdc.api._base import ApiBase, JSONObject, Ref, _check_names, _id_of, _path
from smartdc.api._operation import Call, operation
from smartdc.wire import PACKAGE_FILTERS as PACKAGE_FILTERS


class PackagesMixin(ApiBase):
    """Packages: the sizes (memory, disk, CPU) a machine can have."""

    @operation
    def list_packages(self, /, **filters: Any) -> Call[list[JSONObject]]:
        """ListPackages: ``GET /:login/packages``.

        Filters (all must match; string filters accept ``*`` wildcards): ``name``, ``memory``,
        ``disk``, ``swap``, ``lwps``, ``vcpus``, ``version``, ``group``, ``brand``,
        ``flexible_disk`` (bool).
        """
        _check_names("list_packages", filters, PACKAGE_FILTERS)
        return self._objects("GET", "packages", params=filters)

    @operation
    def get_package(self, id_or_name: Ref) -> Call[JSONObject]:
        """GetPackage: ``GET /:login/packages/:id``.

        ``id_or_name`` is a UUID, or a name (CloudAPI picks the highest active version).
        """
        return self._object("GET", _path("packages", _id_of(id_or_name, "id", "name")))
