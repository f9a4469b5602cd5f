"""Role tags: which roles a resource is tagged with, by the resource's name.

HTTP-free. CloudAPI names every resource by its path with the real login
(``/<login>/machines``, ``/<login>/machines/<uuid>``, ``/<login>/users/<login>/keys``, ``/<login>``
...; see :func:`smartdc.emulator.rbac.resource_name`). Real CloudAPI keeps a machine's tags on the
VM and everything else in UFDS ``sdcAccountResource`` entries; here one table holds both, keyed by
that name. Tags point at roles by UUID, so renaming a role renames its tags and deleting it
removes them.
"""

from __future__ import annotations

from collections.abc import Sequence

from smartdc.emulator.db import Database, register_schema

register_schema(
    """
    CREATE TABLE IF NOT EXISTS role_tags (
        account_uuid TEXT NOT NULL REFERENCES accounts(uuid) ON DELETE CASCADE,
        resource TEXT NOT NULL,
        role_uuid TEXT NOT NULL REFERENCES roles(uuid) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        PRIMARY KEY (account_uuid, resource, role_uuid)
    );
    """
)


def tag_uuids(db: Database, account_uuid: str, resource: str) -> list[str]:
    """The UUIDs of the roles ``resource`` is tagged with, in the order they were set."""
    rows = db.query(
        "SELECT role_uuid FROM role_tags WHERE account_uuid = ? AND resource = ? ORDER BY seq",
        (account_uuid, resource),
    )
    return [str(r["role_uuid"]) for r in rows]


def tag_names(db: Database, account_uuid: str, resource: str) -> list[str]:
    """The names of the roles ``resource`` is tagged with."""
    rows = db.query(
        "SELECT r.name FROM role_tags t JOIN roles r ON r.uuid = t.role_uuid"
        " WHERE t.account_uuid = ? AND t.resource = ? ORDER BY t.seq",
        (account_uuid, resource),
    )
    return [str(r["name"]) for r in rows]


def set_tags(db: Database, account_uuid: str, resource: str, role_uuids: Sequence[str]) -> None:
    """Replace the resource's tags (an empty list clears them)."""
    with db.transaction() as conn:
        conn.execute(
            "DELETE FROM role_tags WHERE account_uuid = ? AND resource = ?",
            (account_uuid, resource),
        )
        for seq, role_uuid in enumerate(dict.fromkeys(role_uuids)):
            conn.execute(
                "INSERT INTO role_tags (account_uuid, resource, role_uuid, seq)"
                " VALUES (?, ?, ?, ?)",
                (account_uuid, resource, role_uuid, seq),
            )


def forget(db: Database, account_uuid: str, resource: str) -> None:
    """Drop the tags of a resource that is gone (sdc-cloudapi's deleteResource)."""
    db.execute(
        "DELETE FROM role_tags WHERE account_uuid = ? AND resource = ?", (account_uuid, resource)
    )
