"""Packages as PAPI holds them: listing and finding by id or name.

HTTP-free: functions take a :class:`Database` and return CloudAPI-shaped dicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import semantic_version

from smartdc.emulator.db import Database, loads


def _semver_key(version: str) -> tuple[int, Any]:
    try:
        return (1, semantic_version.Version.coerce(version))
    except ValueError:
        return (0, version)


def _package_from_row(row: Any) -> dict[str, Any]:
    package: dict[str, Any] = loads(row["doc"])
    return package


def list_packages(db: Database, account_uuid: str) -> list[dict[str, Any]]:
    """Active packages that are public or owned by the account, in catalog order."""
    rows = db.query(
        "SELECT doc FROM packages WHERE active = 1 AND (owner IS NULL OR owner = ?) ORDER BY rowid",
        (account_uuid,),
    )
    return [_package_from_row(r) for r in rows]


@dataclass(frozen=True)
class PackageLookup:
    """A package found by id or name, and whether it may still be used."""

    package: dict[str, Any]
    active: bool


def find_package_by_id(db: Database, account_uuid: str, package_id: str) -> PackageLookup | None:
    """The package with this UUID (active or not) if the account may use it."""
    row = db.one(
        "SELECT doc, active FROM packages WHERE id = ? AND (owner IS NULL OR owner = ?)",
        (package_id, account_uuid),
    )
    if row is None:
        return None
    return PackageLookup(_package_from_row(row), bool(row["active"]))


def find_package_by_name(db: Database, account_uuid: str, name: str) -> dict[str, Any] | None:
    """The active package with this name and the highest version, or ``None``."""
    rows = db.query(
        "SELECT doc FROM packages WHERE name = ? AND active = 1 AND (owner IS NULL OR owner = ?)",
        (name, account_uuid),
    )
    if not rows:
        return None
    packages = [_package_from_row(r) for r in rows]
    return max(packages, key=lambda p: _semver_key(str(p.get("version", ""))))
