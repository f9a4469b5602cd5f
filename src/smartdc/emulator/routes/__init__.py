"""The emulator's route table: one ``ROUTES`` list per CloudAPI area."""

from __future__ import annotations

from smartdc.emulator.context import Route
from smartdc.emulator.routes import (
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
    volumes,
)

_AREAS = (
    account,
    keys,
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
)


def all_routes() -> list[Route]:
    """Every route the emulator serves, area by area in table order."""
    return [route for area in _AREAS for route in area.ROUTES]
