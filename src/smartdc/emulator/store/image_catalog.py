"""Which images an account sees, and finding one: the default catalog and API-made images.

A leaf module (only the database), so the catalog and the image store can both use it.
:mod:`smartdc.emulator.store.images` makes, changes and deletes images.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from smartdc.emulator.db import Database, dumps, loads


def _visible(owner: str, public: bool, account_uuid: str, acl: Iterable[str]) -> bool:
    return public or owner == account_uuid or account_uuid in acl


#: Images with no ``image_locations`` row (the default catalog) are in every datacenter;
#: images made through the API are only in the datacenters their rows name.
_IN_DATACENTER = (
    "(NOT EXISTS (SELECT 1 FROM image_locations l WHERE l.image = images.id)"
    " OR EXISTS (SELECT 1 FROM image_locations l WHERE l.image = images.id"
    " AND l.datacenter = ?))"
)


def _located(datacenter: str | None) -> tuple[str, tuple[Any, ...]]:
    if datacenter is None:
        return "1 = 1", ()
    return _IN_DATACENTER, (datacenter,)


def list_images(
    db: Database, account_uuid: str, datacenter: str | None = None
) -> list[dict[str, Any]]:
    """Every image the account may see (in ``datacenter`` when given), in any state but
    ``destroyed``, oldest ``published_at`` first."""
    where, args = _located(datacenter)
    rows = db.query(
        f"SELECT doc FROM images WHERE {where} ORDER BY published_at, name, version", args
    )
    images = [loads(r["doc"]) for r in rows]
    return [
        i
        for i in images
        if _visible(i["owner"], i["public"], account_uuid, i.get("acl", ()))
        and i["state"] != "destroyed"
    ]


def find_image(db: Database, image_id: str, datacenter: str | None = None) -> dict[str, Any] | None:
    """The image (in ``datacenter`` when given) whoever may see it, or ``None``."""
    where, args = _located(datacenter)
    row = db.one(f"SELECT doc FROM images WHERE id = ? AND {where}", (image_id, *args))
    if row is None:
        return None
    image: dict[str, Any] = loads(row["doc"])
    return image


def image_visible(image: Mapping[str, Any], account_uuid: str) -> bool:
    """Whether the account may see the image: public, its own, or shared with it (acl)."""
    return image["state"] != "destroyed" and _visible(
        image["owner"], image["public"], account_uuid, image.get("acl", ())
    )


def get_image(
    db: Database, account_uuid: str, image_id: str, datacenter: str | None = None
) -> dict[str, Any] | None:
    """The image if it exists (in ``datacenter`` when given), is not destroyed and the account
    may see it."""
    image = find_image(db, image_id, datacenter)
    if image is None or not image_visible(image, account_uuid):
        return None
    return image


def save_image(conn: sqlite3.Connection, image: Mapping[str, Any], published_at: str) -> None:
    """Write the image row (insert or replace)."""
    conn.execute(
        "INSERT OR REPLACE INTO images (id, name, version, owner, state, public, published_at,"
        " doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            image["id"],
            image["name"],
            image["version"],
            image["owner"],
            image["state"],
            int(bool(image["public"])),
            published_at,
            dumps(dict(image)),
        ),
    )
