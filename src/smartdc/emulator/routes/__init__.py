"""The emulator's route table: one ``ROUTES`` list per CloudAPI area."""

from __future__ import annotations

from smartdc.emulator.context import Route
from smartdc.emulator.routes import (
    access_keys,
    account,
    datacenters,
    disks,
    fabrics,
    firewall,
    images,
    keys,
    machines,
    migrations,
    networks,
    nics,
    packages,
    role_tags,
    roles,
    users,
    volumes,
    websockets,
)

_AREAS = (
    account,
    keys,
    users,
    roles,
    access_keys,
    datacenters,
    images,
    packages,
    networks,
    fabrics,
    machines,
    nics,
    disks,
    firewall,
    migrations,
    volumes,
    websockets,
    role_tags,
)


def all_routes() -> list[Route]:
    """Every route the emulator serves, area by area in table order."""
    return [route for area in _AREAS for route in area.ROUTES]
