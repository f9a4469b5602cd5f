"""Package routes: ListPackages with PAPI's filters, and GetPackage (digest §4.11)."""

from __future__ import annotations

from typing import Any

from smartdc.emulator.context import Call, EmulatorError, Reply, cloudapi_route
from smartdc.emulator.store import catalog

#: ListPackages filters; each one given must match (``*`` is a wildcard).
FILTERS = (
    "name",
    "memory",
    "disk",
    "swap",
    "lwps",
    "vcpus",
    "version",
    "group",
    "brand",
    "flexible_disk",
)


def _matches(package: dict[str, Any], params: dict[str, Any]) -> bool:
    for name in FILTERS:
        wanted = params.get(name)
        if wanted is None or wanted == "":
            continue
        pattern = catalog.matches_wildcard
        value = package.get(name, False if name == "flexible_disk" else None)
        if not pattern(_text(wanted), value):
            return False
    return True


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def list_packages(call: Call) -> Reply:
    """ListPackages: active packages, public or the account's own, matching every filter."""
    packages = catalog.list_packages(call.db, call.account_uuid)
    return Reply(200, [p for p in packages if _matches(p, call.params)])


def package_not_found(name: str) -> EmulatorError:
    """The 404 for a package that does not exist."""
    return EmulatorError(404, "ResourceNotFound", f"{name} not found")


def get_package(call: Call) -> Reply:
    """GetPackage: by UUID, or by name (the highest version among active packages)."""
    wanted = call.path_params["id"]
    found = catalog.find_package_by_id(call.db, call.account_uuid, wanted)
    if found is not None:
        return Reply(200, found.package)
    package = catalog.find_package_by_name(call.db, call.account_uuid, wanted)
    if package is None:
        raise package_not_found(wanted)
    return Reply(200, package)


ROUTES = [
    cloudapi_route("ListPackages", list_packages, head=True, summary="List packages"),
    cloudapi_route("GetPackage", get_package, head=True, summary="Get a package"),
]
