"""smartdc: Python SDK, CLI and local emulator for Triton DataCenter CloudAPI.

The public names load on first use (PEP 562), so ``import smartdc`` stays cheap for the
``smartdc`` command line, which needs only a few of them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from smartdc._version import __version__

if TYPE_CHECKING:
    from smartdc.api import CloudAPI, prompt_passphrase
    from smartdc.api.async_client import AsyncCloudAPI
    from smartdc.errors import (
        CloudAPIError,
        ConfigError,
        ConnectError,
        MachineFailedError,
        MachineGoneError,
        ResourceNotFoundError,
        SigningError,
        SmartDCError,
        TransportError,
        WaitError,
        WaitTimeoutError,
    )
    from smartdc.objects import (
        DEBUG_CONFIG,
        DEFAULT_CONFIG,
        DEFAULT_LOCATION,
        KNOWN_LOCATIONS,
        DataCenter,
        Machine,
        Snapshot,
    )
    from smartdc.objects.disk import Disk
    from smartdc.objects.fabric import FabricVlan
    from smartdc.objects.firewall import FirewallRule
    from smartdc.objects.image import Image
    from smartdc.objects.migration import Migration
    from smartdc.objects.nic import Nic
    from smartdc.objects.volume import Volume
    from smartdc.wait import wait_for

#: Where each public name lives.
_HOMES = {
    "CloudAPI": "smartdc.api",
    "AsyncCloudAPI": "smartdc.api.async_client",
    "prompt_passphrase": "smartdc.api",
    "CloudAPIError": "smartdc.errors",
    "ConfigError": "smartdc.errors",
    "ConnectError": "smartdc.errors",
    "MachineFailedError": "smartdc.errors",
    "MachineGoneError": "smartdc.errors",
    "ResourceNotFoundError": "smartdc.errors",
    "SigningError": "smartdc.errors",
    "SmartDCError": "smartdc.errors",
    "TransportError": "smartdc.errors",
    "WaitError": "smartdc.errors",
    "WaitTimeoutError": "smartdc.errors",
    "DEBUG_CONFIG": "smartdc.objects",
    "DEFAULT_CONFIG": "smartdc.objects",
    "DEFAULT_LOCATION": "smartdc.objects",
    "KNOWN_LOCATIONS": "smartdc.objects",
    "DataCenter": "smartdc.objects",
    "Machine": "smartdc.objects",
    "Snapshot": "smartdc.objects",
    "Disk": "smartdc.objects.disk",
    "FabricVlan": "smartdc.objects.fabric",
    "FirewallRule": "smartdc.objects.firewall",
    "Image": "smartdc.objects.image",
    "Migration": "smartdc.objects.migration",
    "Nic": "smartdc.objects.nic",
    "Volume": "smartdc.objects.volume",
    "wait_for": "smartdc.wait",
}

__all__ = [
    "DEBUG_CONFIG",
    "DEFAULT_CONFIG",
    "DEFAULT_LOCATION",
    "KNOWN_LOCATIONS",
    "AsyncCloudAPI",
    "CloudAPI",
    "CloudAPIError",
    "ConfigError",
    "ConnectError",
    "DataCenter",
    "Disk",
    "FabricVlan",
    "FirewallRule",
    "Image",
    "Machine",
    "MachineFailedError",
    "MachineGoneError",
    "Migration",
    "Nic",
    "ResourceNotFoundError",
    "SigningError",
    "SmartDCError",
    "Snapshot",
    "TransportError",
    "Volume",
    "WaitError",
    "WaitTimeoutError",
    "__version__",
    "prompt_passphrase",
    "wait_for",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'smartdc' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
