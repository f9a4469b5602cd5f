"""The py-smartdc-compatible object layer: ``DataCenter``, ``Machine``, ``Snapshot``."""

from __future__ import annotations

from smartdc.objects.config import DEBUG_CONFIG, DEFAULT_CONFIG
from smartdc.objects.datacenter import DataCenter
from smartdc.objects.locations import DEFAULT_LOCATION, KNOWN_LOCATIONS
from smartdc.objects.machine import Machine
from smartdc.objects.snapshot import Snapshot

__all__ = [
    "DEBUG_CONFIG",
    "DEFAULT_CONFIG",
    "DEFAULT_LOCATION",
    "KNOWN_LOCATIONS",
    "DataCenter",
    "Machine",
    "Snapshot",
]
