"""Turning a ``location`` (a datacenter name, a hostname or a URL) into a CloudAPI URL.

The rule, in order:

1. a full URL (``https://...`` or ``http://...``) is used as is (``http`` is meant for a local
   emulator);
2. a name found in the caller's ``known_locations``, then in :data:`KNOWN_LOCATIONS`, maps to
   that URL;
3. anything else that looks like a hostname (optionally ``host:port``) becomes
   ``https://<host>``, except a single word such as ``us-est-1``: that is taken for a
   mistyped datacenter name and refused (``localhost`` and ``word:port`` are hosts; a host
   on your network named by one word is given as a URL, ``https://cloudapi``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final
from urllib.parse import urlsplit

from smartdc.errors import ConfigError

__all__ = ["DEFAULT_LOCATION", "KNOWN_LOCATIONS", "is_url", "location_url"]

KNOWN_LOCATIONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "us-east-1": "https://us-east-1.api.joyentcloud.com",
        "us-east-2": "https://us-east-2.api.joyentcloud.com",
        "us-east-3": "https://us-east-3.api.joyentcloud.com",
        "us-sw-1": "https://us-sw-1.api.joyentcloud.com",
        "us-west-1": "https://us-west-1.api.joyentcloud.com",
        "eu-ams-1": "https://eu-ams-1.api.joyentcloud.com",
    }
)
"""Datacenter names py-smartdc knew, with their CloudAPI URLs (read-only).

Private clouds pass their own ``known_locations``; those are consulted first.
"""

DEFAULT_LOCATION: Final = "us-west-1"
"""The location used when none is given (py-smartdc's default)."""

_HOSTNAME = re.compile(
    r"^(?=.{1,253}(:|$))[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?(?::\d{1,5})?$"
)
_IPV6_HOST = re.compile(r"^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$")


def is_url(location: str) -> bool:
    """True if ``location`` is an ``http://`` or ``https://`` URL."""
    return location.lower().startswith(("http://", "https://"))


def location_url(location: str, known_locations: Mapping[str, str] | None = None) -> str:
    """The CloudAPI base URL for ``location`` (no trailing slash).

    Raises:
        ConfigError: ``location`` is empty, a URL with another scheme or no host, or neither a
            known name nor a plausible hostname.
    """
    if not isinstance(location, str) or not location.strip():
        raise ConfigError(f"location must be a datacenter name, hostname or URL, not {location!r}")
    location = location.strip()
    if "://" in location:
        return _checked_url(location)
    for table in (known_locations or {}, KNOWN_LOCATIONS):
        if location in table:
            return _checked_url(table[location])
    names = sorted({*(known_locations or {}), *KNOWN_LOCATIONS})
    if _IPV6_HOST.match(location) or (_HOSTNAME.match(location) and _is_host(location)):
        return "https://" + location.rstrip("/")
    if _HOSTNAME.match(location):
        close = difflib.get_close_matches(location, names, n=3, cutoff=0.6)
        guess = f"did you mean {', '.join(close)}? " if close else ""
        raise ConfigError(
            f"unknown datacenter {location!r}: {guess}known names: {', '.join(names)}; "
            f"for a host of that name give its URL (https://{location})"
        )
    raise ConfigError(
        f"unknown location {location!r}: give a URL, a hostname, or one of {', '.join(names)}"
    )


def _is_host(location: str) -> bool:
    """True for ``name.domain``, ``host:port`` and ``localhost``, not for a lone word."""
    return "." in location.rstrip(".") or ":" in location or location.lower() == "localhost"


def _checked_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"CloudAPI URL must be http:// or https:// with a host, not {url!r}")
    if parts.query or parts.fragment:
        raise ConfigError(f"CloudAPI URL must not carry a query or fragment: {url!r}")
    return url.rstrip("/")
