"""smartdc: Python SDK, CLI and local emulator for Triton DataCenter CloudAPI."""

from smartdc._version import __version__

__all__ = ["__version__"]
