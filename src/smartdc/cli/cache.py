"""The per-profile cache ``triton`` keeps, shared with it: ``<cache dir>/images.json`` here,
and the completion lists of :mod:`smartdc.cli.complete`.

node-triton lib/tritonapi.js ``listImages({useCache})`` keeps the full image list
(ListImages with ``state=all``) as compact JSON for five minutes and reuses it for the IMG
column of ``instance list``; smartdc reads and writes the same file the same way, so
whichever tool ran last saves the other a request. A damaged file is ignored and replaced.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from smartdc.cli.context import Context

#: How long the image list is reused, in seconds (triton's TTL for listing).
IMAGES_TTL = 5 * 60.0
IMAGES_FILE = "images.json"


def read_fresh(path: Path, ttl: float) -> str | None:
    """The text of the cache file ``path`` if it was written less than ``ttl`` seconds ago."""
    try:
        if path.stat().st_mtime + ttl < time.time():
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def store(path: Path, text: str) -> None:
    """Write a cache file whole (a reader never sees half of it); failures are ignored."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    except OSError:
        pass  # an unwritable cache only costs the next command a request


def _cached_list(path: Path, ttl: float) -> list[Any] | None:
    text = read_fresh(path, ttl)
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, list) else None


def all_images(context: Context) -> list[dict[str, Any]]:
    """Every image in any state (ListImages ``state=all``), from the cache when fresh."""
    path = Path(context.settings.cache_dir) / IMAGES_FILE
    cached = _cached_list(path, IMAGES_TTL)
    if cached is not None:
        context.trace(f"images from the cache {path}")
        return cached
    images: list[dict[str, Any]] = context.api.list_images(state="all")
    store(path, json.dumps(images, separators=(",", ":")))
    return images
