"""The per-profile cache ``triton`` keeps, shared with it: ``<cache dir>/images.json``.

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


def _read(path: Path, ttl: float) -> list[Any] | None:
    try:
        if path.stat().st_mtime + ttl < time.time():
            return None
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, list) else None


def _write(path: Path, value: list[Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        temporary.write_text(json.dumps(value, separators=(",", ":")), encoding="utf-8")
        temporary.replace(path)
    except OSError:
        pass  # an unwritable cache only costs the next command a request


def all_images(context: Context) -> list[dict[str, Any]]:
    """Every image in any state (ListImages ``state=all``), from the cache when fresh."""
    path = Path(context.settings.cache_dir) / IMAGES_FILE
    cached = _read(path, IMAGES_TTL)
    if cached is not None:
        context.trace(f"images from the cache {path}")
        return cached
    images: list[dict[str, Any]] = context.api.list_images(state="all")
    _write(path, images)
    return images
