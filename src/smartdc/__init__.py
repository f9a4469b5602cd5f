"""smartdc: Python SDK, CLI and local emulator for Triton DataCenter CloudAPI."""

from smartdc._version import __version__
from smartdc.api import CloudAPI, prompt_passphrase
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
from smartdc.wait import wait_for

__all__ = [
    "DEBUG_CONFIG",
    "DEFAULT_CONFIG",
    "DEFAULT_LOCATION",
    "KNOWN_LOCATIONS",
    "CloudAPI",
    "CloudAPIError",
    "ConfigError",
    "ConnectError",
    "DataCenter",
    "Machine",
    "MachineFailedError",
    "MachineGoneError",
    "ResourceNotFoundError",
    "SigningError",
    "SmartDCError",
    "Snapshot",
    "TransportError",
    "WaitError",
    "WaitTimeoutError",
    "__version__",
    "prompt_passphrase",
    "wait_for",
]
