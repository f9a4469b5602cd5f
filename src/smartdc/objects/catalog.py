"""Choosing an image or a package from the lists CloudAPI returns (no I/O here).

Image references (:func:`find_image`), tried in this order:

``<uuid>``
    that image.
``name@version``
    the image with that name and exactly that version.
``sdc:<owner>:<name>:<version-prefix>`` (a legacy dataset URN, e.g. ``sdc:sdc:smartos64:``)
    images whose ``urn`` starts with the reference; or, for images without a ``urn`` (every
    image CloudAPI 7+ lists), images with that name whose version starts with the prefix. The
    owner part is ignored: it named a login, which today's images no longer carry.
``name``
    images with exactly that name.

When several images match, the newest wins: latest ``published_at``, then highest version.

Defaults, since CloudAPI no longer marks any package or image as the default:

* :func:`default_image`: an image flagged ``default`` (old datasets) if any, else the newest
  ``base-64-lts``, else the newest ``base-64``, else the newest SmartOS zone image; ``None``
  when none of those exist.
* :func:`default_package`: a package flagged ``default`` if any, else the one with the least
  memory (then disk, then name), preferring container packages (no brand, or a zone brand)
  over hardware-VM ones; ``None`` for an empty list.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from smartdc.errors import CloudAPIError, ResourceNotFoundError
from smartdc.objects.refs import is_uuid
from smartdc.wire import HVM_BRANDS

__all__ = [
    "default_image",
    "default_package",
    "find_image",
    "image_matches",
    "newest",
    "not_found",
    "version_key",
]

Image = Mapping[str, Any]


def version_key(version: object) -> tuple[tuple[int, int | str], ...]:
    """Sort key for version strings: ``"1.10.0" > "1.9.2"``, ``"20210826T002459Z"`` works too.

    Numeric runs compare as numbers, other runs as text; a number sorts after text at the
    same position, so ``1.0.0`` outranks ``1.0.0-rc1``'s ``rc`` part.
    """
    parts = re.findall(r"\d+|[A-Za-z]+", str(version or ""))
    return tuple((1, int(p)) if p.isdigit() else (0, p.lower()) for p in parts)


def _age_key(image: Image) -> tuple[str, tuple[tuple[int, int | str], ...]]:
    return (str(image.get("published_at") or ""), version_key(image.get("version")))


def newest(images: Iterable[Image]) -> Image | None:
    """The newest image (latest ``published_at``, then highest ``version``), or ``None``."""
    return max(images, key=_age_key, default=None)


def image_matches(image: Image, ref: str) -> bool:
    """True if ``image`` answers to ``ref`` (see the module docstring for the forms)."""
    if is_uuid(ref):
        return str(image.get("id", "")).lower() == ref.lower()
    name = str(image.get("name", ""))
    version = str(image.get("version", ""))
    if ref.startswith("sdc:") or ref.count(":") >= 2:
        urn = image.get("urn")
        if isinstance(urn, str) and urn:
            return urn.startswith(ref)
        parts = ref.split(":")
        if len(parts) < 3 or not parts[2]:
            return False
        wanted_version = parts[3] if len(parts) > 3 else ""
        return name == parts[2] and version.startswith(wanted_version)
    if "@" in ref:
        wanted_name, _, wanted_version = ref.rpartition("@")
        return name == wanted_name and version == wanted_version
    return name == ref


def find_image(images: Sequence[Image], ref: str) -> Image:
    """The newest image in ``images`` that ``ref`` names.

    Raises:
        ResourceNotFoundError: nothing matches; the message lists close names.
    """
    found = newest(image for image in images if image_matches(image, ref))
    if found is None:
        raise not_found("image", ref, [str(i.get("name", "")) for i in images])
    return found


def not_found(kind: str, ref: str, names: Iterable[str]) -> CloudAPIError:
    """A 404-style error for a local lookup, suggesting close names."""
    known = sorted({n for n in names if n})
    wanted = ref.split(":")[2] if ref.count(":") >= 2 else ref.rpartition("@")[0] or ref
    close = difflib.get_close_matches(wanted, known, n=5, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    if not close and known:
        shown = ", ".join(known[:10]) + (" ..." if len(known) > 10 else "")
        hint = f"; available: {shown}"
    return ResourceNotFoundError(f"no {kind} matches {ref!r}{hint}", status=404)


def default_image(images: Sequence[Image]) -> Image | None:
    """The image to use when none is named (rule in the module docstring)."""
    flagged = [image for image in images if image.get("default") is True]
    if flagged:
        return newest(flagged)
    for name in ("base-64-lts", "base-64"):
        found = newest(image for image in images if image.get("name") == name)
        if found is not None:
            return found
    return newest(
        image
        for image in images
        if image.get("os") == "smartos"
        and image.get("type") in (None, "zone-dataset", "smartmachine")
    )


def default_package(packages: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The package to use when none is named (rule in the module docstring)."""
    flagged = [package for package in packages if package.get("default") is True]
    if flagged:
        return flagged[0]
    containers = [p for p in packages if p.get("brand") not in HVM_BRANDS]
    pool = containers or list(packages)
    if not pool:
        return None
    return min(
        pool,
        key=lambda p: (_number(p.get("memory")), _number(p.get("disk")), str(p.get("name", ""))),
    )


def _number(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return float("inf")
