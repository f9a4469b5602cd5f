"""The installed smartdc version."""

__version__ = "0.1.0"
