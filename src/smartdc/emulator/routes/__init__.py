"""The emulator's route table: one ``ROUTES`` list per CloudAPI area."""

from __future__ import annotations

from smartdc.emulator.context import Route
from smartdc.emulator.routes import (
    account,
    datacenters,
    fabrics,
    firewall,
    images,
    keys,
    machines,
    networks,
    nics,
    packages,
)

_AREAS = (account, keys, datacenters, images, packages, networks, fabrics, machines, nics, firewall)


def all_routes() -> list[Route]:
    """Every route the emulator serves, area by area in table order."""
    return [route for area in _AREAS for route in area.ROUTES]
