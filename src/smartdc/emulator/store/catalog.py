"""The datacenter catalog, as one import: seed data, packages, networks and images.

Each subject has its own module (:mod:`~smartdc.emulator.store.seed`,
:mod:`~smartdc.emulator.store.packages`, :mod:`~smartdc.emulator.store.networks`,
:mod:`~smartdc.emulator.store.filters`, :mod:`~smartdc.emulator.store.images`); the names
callers have always used from here are kept importable.
"""

from __future__ import annotations

from smartdc.emulator.store.filters import filter_text, matches_wildcard
from smartdc.emulator.store.image_catalog import find_image, get_image, image_visible, list_images
from smartdc.emulator.store.networks import (
    NetworkRecord,
    configured_default_network,
    default_network_id,
    get_network,
    list_networks,
    network_row,
    save_network,
    set_default_network,
)
from smartdc.emulator.store.packages import (
    PackageLookup,
    find_package_by_id,
    find_package_by_name,
    list_packages,
)
from smartdc.emulator.store.seed import (
    ADMIN_UUID,
    CATALOG_NAMESPACE,
    DEFAULT_NETWORKS,
    PRIVATE_NETWORK_ID,
    PUBLIC_NETWORK_ID,
    NetworkSeed,
    catalog_uuid,
    default_images,
    default_packages,
)

__all__ = [
    "ADMIN_UUID",
    "CATALOG_NAMESPACE",
    "DEFAULT_NETWORKS",
    "PRIVATE_NETWORK_ID",
    "PUBLIC_NETWORK_ID",
    "NetworkRecord",
    "NetworkSeed",
    "PackageLookup",
    "catalog_uuid",
    "configured_default_network",
    "default_images",
    "default_network_id",
    "default_packages",
    "filter_text",
    "find_image",
    "find_package_by_id",
    "find_package_by_name",
    "get_image",
    "get_network",
    "image_visible",
    "list_images",
    "list_networks",
    "list_packages",
    "matches_wildcard",
    "network_row",
    "save_network",
    "set_default_network",
]
