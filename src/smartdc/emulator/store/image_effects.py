"""What the end of a ``create_image`` machine job does to the image it makes.

Named in :data:`smartdc.emulator.store.job_effects.EFFECTS` (success: the image becomes
``active`` with its files) and ``FAILURE_EFFECTS`` (``failed``, with the job's error). An
image deleted while it was being made is left deleted.
"""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Any

from smartdc.emulator.db import loads
from smartdc.emulator.store.image_catalog import save_image
from smartdc.emulator.store.machine_record import Machine
from smartdc.emulator.store.timestamps import iso_ms


def _files(image_id: str, image_type: str) -> list[dict[str, Any]]:
    digest = hashlib.sha1(image_id.encode(), usedforsecurity=False).hexdigest()
    size = 1_073_741_824 if image_type == "zvol" else 186_924_351
    return [{"compression": "gzip", "sha1": digest, "size": size}]


def _creating(conn: sqlite3.Connection, image_id: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT doc FROM images WHERE id = ?", (image_id,)).fetchone()
    if row is None:
        return None
    image: dict[str, Any] = loads(row["doc"])
    return image if image["state"] == "creating" else None


def image_created(
    conn: sqlite3.Connection, m: Machine, params: dict[str, Any], job: dict[str, Any]
) -> None:
    """The image is made: ``active``, published at the job's end, with its files."""
    image = _creating(conn, str(params["image"]))
    if image is None:
        return
    published = iso_ms(job["finish_ms"])
    image.update(
        state="active",
        published_at=published,
        files=_files(image["id"], str(image.get("type", ""))),
    )
    save_image(conn, image, published)


def image_failed(
    conn: sqlite3.Connection, m: Machine, params: dict[str, Any], job: dict[str, Any]
) -> None:
    """The job failed: IMGAPI keeps the image, ``failed``, with the reason."""
    image = _creating(conn, str(params["image"]))
    if image is None:
        return
    message = f"image creation failed: {job.get('error') or 'job failed'}"
    image.update(state="failed", error={"message": message})
    save_image(conn, image, iso_ms(job["finish_ms"]))
