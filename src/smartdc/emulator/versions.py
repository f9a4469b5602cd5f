"""API version negotiation, as restify 4 does it for CloudAPI.

A request names a semver range in ``Accept-Version`` (else ``X-Api-Version``; absent means
``*``). Each route serves a list of versions; the router picks the highest one the range
satisfies. Handlers that change behaviour by version test the *range* itself with
:func:`satisfies`, :func:`reaches` and :func:`entirely_below`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping

import semantic_version

ANY_VERSION = "*"


def requested_range(headers: Mapping[str, str]) -> str:
    """The range a request asks for: ``accept-version``, then ``x-api-version``, else ``*``.

    ``headers`` must have lower-case names. ``Api-Version`` is deliberately ignored, as
    CloudAPI ignores it.
    """
    for name in ("accept-version", "x-api-version"):
        value = headers.get(name)
        if value is not None and value.strip():
            return value.strip()
    return ANY_VERSION


@functools.lru_cache(maxsize=256)
def _spec(range_text: str) -> semantic_version.NpmSpec | None:
    try:
        return semantic_version.NpmSpec(range_text)
    except ValueError:
        return None


@functools.lru_cache(maxsize=64)
def _version(text: str) -> semantic_version.Version:
    return semantic_version.Version(text)


@functools.lru_cache(maxsize=1024)
def satisfies(range_text: str, version: str) -> bool:
    """Whether ``version`` lies in the range (an unparseable range matches nothing)."""
    spec = _spec(range_text)
    return spec is not None and spec.match(_version(version))


def best_version(range_text: str, versions: Iterable[str]) -> str | None:
    """The highest of ``versions`` the range satisfies, or ``None``."""
    return _best_version(range_text, tuple(versions))


@functools.lru_cache(maxsize=1024)
def _best_version(range_text: str, versions: tuple[str, ...]) -> str | None:
    matching = [v for v in versions if satisfies(range_text, v)]
    return max(matching, key=_version) if matching else None


#: Versions used to tell where a range lies relative to a version: every major.minor up
#: to 20.20 with patch 0 and 1 is dense enough for any range a client sends CloudAPI.
_PROBES: tuple[semantic_version.Version, ...] = tuple(
    semantic_version.Version(major=major, minor=minor, patch=patch)
    for major in range(21)
    for minor in range(21)
    for patch in (0, 1)
)


def _matching_probes(range_text: str) -> list[semantic_version.Version]:
    spec = _spec(range_text)
    if spec is None:
        return []
    return [probe for probe in _PROBES if spec.match(probe)]


@functools.lru_cache(maxsize=256)
def reaches(range_text: str, version: str) -> bool:
    """True when the range includes ``version`` or lies wholly above it.

    This is CloudAPI's ``semver.satisfies(v, range) || semver.ltr(v, range)`` test, used
    e.g. for "range includes 7.2.0 or lies above it".
    """
    if satisfies(range_text, version):
        return True
    matched = _matching_probes(range_text)
    target = _version(version)
    return bool(matched) and all(probe > target for probe in matched)


@functools.lru_cache(maxsize=256)
def entirely_below(range_text: str, version: str) -> bool:
    """True when every version in the range is below ``version`` (``~8``, ``~7.2``, ...)."""
    matched = _matching_probes(range_text)
    target = _version(version)
    return bool(matched) and all(probe < target for probe in matched)
