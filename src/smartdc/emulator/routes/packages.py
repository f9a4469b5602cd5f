"""Package routes: ListPackages with PAPI's filters, and GetPackage."""

from __future__ import annotations

from typing import Any

from smartdc.emulator.context import Call, Reply, cloudapi_route, not_found
from smartdc.emulator.store import catalog
from smartdc.wire import PACKAGE_FILTERS


def _matches(package: dict[str, Any], params: dict[str, Any]) -> bool:
    for name in PACKAGE_FILTERS:
        wanted = params.get(name)
        if wanted is None or wanted == "":
            continue
        value = package.get(name, False if name == "flexible_disk" else None)
        if not catalog.matches_wildcard(catalog.filter_text(wanted), value):
            return False
    return True


def list_packages(call: Call) -> Reply:
    """ListPackages: active packages, public or the account's own, matching every filter."""
    packages = catalog.list_packages(call.db, call.account_uuid)
    return Reply(200, [p for p in packages if _matches(p, call.params)])


def get_package(call: Call) -> Reply:
    """GetPackage: by UUID, or by name (the highest version among active packages)."""
    wanted = call.path_params["id"]
    found = catalog.find_package_by_id(call.db, call.account_uuid, wanted)
    if found is not None:
        return Reply(200, found.package)
    package = catalog.find_package_by_name(call.db, call.account_uuid, wanted)
    if package is None:
        raise not_found(f"{wanted} not found")
    return Reply(200, package)


ROUTES = [
    cloudapi_route("ListPackages", list_packages, head=True, summary="List packages"),
    cloudapi_route("GetPackage", get_package, head=True, summary="Get a package"),
]
