"""Accounts and their SSH keys, as UFDS keeps them for CloudAPI.

HTTP-free: functions take a :class:`Database` and return CloudAPI-shaped dicts.
Accounts and keys registered when the emulator starts are marked ``registered``; a reset of
the emulator's state keeps them and forgets everything created through the API.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from smartdc.auth.keys import md5_fingerprint, parse_public_key
from smartdc.emulator.context import invalid_argument, not_found
from smartdc.emulator.db import Database, dumps, loads, register_schema
from smartdc.emulator.params import parse_bool
from smartdc.emulator.store import ids
from smartdc.emulator.store.timestamps import iso_now
from smartdc.errors import SmartDCError
from smartdc.wire import ACCOUNT_PROFILE_FIELDS

register_schema(
    """
    CREATE TABLE IF NOT EXISTS accounts (
        uuid TEXT PRIMARY KEY,
        login TEXT NOT NULL UNIQUE,
        doc TEXT NOT NULL,
        registered INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE IF NOT EXISTS account_keys (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        account_uuid TEXT NOT NULL REFERENCES accounts(uuid) ON DELETE CASCADE,
        name TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        openssh TEXT NOT NULL,
        created REAL NOT NULL,
        registered INTEGER NOT NULL DEFAULT 0,
        UNIQUE (account_uuid, fingerprint),
        UNIQUE (account_uuid, name)
    );
    """
)

KEY_INVALID = "key is invalid"
KEY_CONFLICT = "key already exists or is invalid"


# --- accounts ------------------------------------------------------------------------------


def _account_from_row(row: Any) -> dict[str, Any]:
    doc: dict[str, Any] = loads(row["doc"])
    return render_account(doc)


def render_account(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The Account object in CloudAPI's field order; profile fields only when set."""
    account: dict[str, Any] = {"id": doc["id"], "login": doc["login"], "email": doc["email"]}
    for name in ACCOUNT_PROFILE_FIELDS[1:]:
        if doc.get(name):
            account[name] = doc[name]
    account["triton_cns_enabled"] = bool(doc.get("triton_cns_enabled", False))
    account["updated"] = doc["updated"]
    account["created"] = doc["created"]
    return account


def create_account(
    db: Database,
    login: str,
    *,
    email: str | None = None,
    uuid: str | None = None,
    registered: bool = False,
    now: float | None = None,
) -> dict[str, Any]:
    """Create an account; 409 ``InvalidArgument`` if the login is taken or malformed."""
    if not login or "/" in login or login in ("my", "--ping"):
        raise invalid_argument(f"login: {login} is invalid")
    stamp = iso_now(now)
    doc = {
        "id": uuid or ids.new_uuid(db),
        "login": login,
        "email": email or f"{login}@example.com",
        "triton_cns_enabled": False,
        "created": stamp,
        "updated": stamp,
    }
    with db.transaction() as conn:
        if conn.execute("SELECT 1 FROM accounts WHERE login = ?", (login,)).fetchone():
            raise invalid_argument(f"login: {login} already exists")
        conn.execute(
            "INSERT INTO accounts (uuid, login, doc, registered) VALUES (?, ?, ?, ?)",
            (doc["id"], login, dumps(doc), int(registered)),
        )
    return render_account(doc)


def register_account(db: Database, login: str) -> dict[str, Any]:
    """Create an account at start-up, or mark the existing one (a restart) as registered."""
    existing = get_account(db, login)
    if existing is None:
        return create_account(db, login, registered=True)
    db.execute("UPDATE accounts SET registered = 1 WHERE login = ?", (login,))
    return existing


def get_account(db: Database, login: str) -> dict[str, Any] | None:
    """The account with this login, or ``None``."""
    row = db.one("SELECT doc FROM accounts WHERE login = ?", (login,))
    return None if row is None else _account_from_row(row)


def get_account_by_uuid(db: Database, account_uuid: str) -> dict[str, Any] | None:
    """The account with this UUID, or ``None``."""
    row = db.one("SELECT doc FROM accounts WHERE uuid = ?", (account_uuid,))
    return None if row is None else _account_from_row(row)


def _parse_bool(name: str, value: Any) -> bool:
    flag = parse_bool(value)
    if flag is None:
        raise invalid_argument(f"{name} must be true or false")
    return flag


def update_account(
    db: Database, login: str, changes: Mapping[str, Any], *, now: float | None = None
) -> dict[str, Any]:
    """Apply UpdateAccount's inputs: empty values are ignored, as CloudAPI ignores them.

    Raises 404 ``ResourceNotFound`` for an unknown login and 409 ``InvalidArgument`` for a
    ``triton_cns_enabled`` that is neither a boolean nor "true"/"false".
    """
    cns: bool | None = None
    if changes.get("triton_cns_enabled") not in (None, ""):
        cns = _parse_bool("triton_cns_enabled", changes["triton_cns_enabled"])
    with db.transaction() as conn:
        row = conn.execute("SELECT doc FROM accounts WHERE login = ?", (login,)).fetchone()
        if row is None:
            raise not_found(f"{login} does not exist")
        doc: dict[str, Any] = loads(row["doc"])
        for name in ACCOUNT_PROFILE_FIELDS:
            value = changes.get(name)
            if value not in (None, ""):
                doc[name] = str(value)
        if cns is not None:
            doc["triton_cns_enabled"] = cns
        doc["updated"] = iso_now(now)
        conn.execute("UPDATE accounts SET doc = ? WHERE login = ?", (dumps(doc), login))
    return render_account(doc)


# --- keys ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyTable:
    """Where one kind of owner keeps its SSH keys: the table and its owner column."""

    table: str
    owner: str


#: The account owner's keys.
ACCOUNT_KEYS = KeyTable("account_keys", "account_uuid")
#: RBAC sub-users' keys (the table lives with the users, :mod:`.users`).
USER_KEYS = KeyTable("user_keys", "user_uuid")


def _key_from_row(row: Any) -> dict[str, Any]:
    return {"name": row["name"], "fingerprint": row["fingerprint"], "key": row["openssh"]}


def list_keys(
    db: Database, account_uuid: str, *, table: KeyTable = ACCOUNT_KEYS
) -> list[dict[str, Any]]:
    """The owner's keys, oldest first, as Key objects ``{name, fingerprint, key}``."""
    rows = db.query(
        f"SELECT name, fingerprint, openssh FROM {table.table} WHERE {table.owner} = ?"
        " ORDER BY seq",
        (account_uuid,),
    )
    return [_key_from_row(r) for r in rows]


def get_key(
    db: Database, account_uuid: str, name_or_fp: str, *, table: KeyTable = ACCOUNT_KEYS
) -> dict[str, Any] | None:
    """The key whose name or MD5 fingerprint (colon hex) is ``name_or_fp``, or ``None``."""
    row = db.one(
        f"SELECT name, fingerprint, openssh FROM {table.table}"
        f" WHERE {table.owner} = ? AND (fingerprint = ? OR name = ?) ORDER BY seq",
        (account_uuid, name_or_fp.lower(), name_or_fp),
    )
    return None if row is None else _key_from_row(row)


def key_fingerprint(openssh_line: str) -> tuple[str, str]:
    """Check an OpenSSH public key line; return ``(normalised line, MD5 fingerprint)``.

    Raises 409 ``InvalidArgument`` "key is invalid" when the line has fewer than two
    space-separated fields, and "key already exists or is invalid" when it does not parse
    (UFDS gives the same answer for both).
    """
    line = openssh_line.strip()
    if len(line.split(" ")) < 2:
        raise invalid_argument(KEY_INVALID)
    try:
        fingerprint = md5_fingerprint(parse_public_key(line))
    except (ValueError, SmartDCError) as exc:
        raise invalid_argument(KEY_CONFLICT) from exc
    return line, fingerprint


def _default_key_name(line: str, fingerprint: str) -> str:
    fields = line.split(None, 2)
    comment = fields[2].strip() if len(fields) > 2 else ""
    return comment or fingerprint


def add_key(
    db: Database,
    account_uuid: str,
    openssh_line: str,
    name: str | None = None,
    *,
    registered: bool = False,
    now: float | None = None,
    table: KeyTable = ACCOUNT_KEYS,
) -> dict[str, Any]:
    """Add a key to an account (or, with ``table=USER_KEYS``, a sub-user) and return it.

    The name defaults to the key's comment, else its fingerprint. A name or fingerprint the
    account already has gives 409 ``InvalidArgument`` "key already exists or is invalid".
    """
    line, fingerprint = key_fingerprint(openssh_line)
    key_name = name or _default_key_name(line, fingerprint)
    with db.transaction() as conn:
        clash = conn.execute(
            f"SELECT 1 FROM {table.table} WHERE {table.owner} = ?"
            " AND (fingerprint = ? OR name = ?)",
            (account_uuid, fingerprint, key_name),
        ).fetchone()
        if clash:
            raise invalid_argument(KEY_CONFLICT)
        conn.execute(
            f"INSERT INTO {table.table} ({table.owner}, name, fingerprint, openssh, created,"
            " registered) VALUES (?, ?, ?, ?, ?, ?)",
            (
                account_uuid,
                key_name,
                fingerprint,
                line,
                time.time() if now is None else now,
                int(registered),
            ),
        )
    return {"name": key_name, "fingerprint": fingerprint, "key": line}


def register_key(db: Database, account_uuid: str, openssh_line: str, name: str) -> dict[str, Any]:
    """Add a key at start-up. A key the account already has (same fingerprint) is kept as
    is, so restarting on the same data is no error; another key under the same name (the
    key file was regenerated) is replaced."""
    _, fingerprint = key_fingerprint(openssh_line)
    with db.transaction() as conn:
        existing = get_key(db, account_uuid, fingerprint)
        if existing is not None and existing["fingerprint"] == fingerprint:
            conn.execute(
                "UPDATE account_keys SET registered = 1 WHERE account_uuid = ? AND fingerprint = ?",
                (account_uuid, fingerprint),
            )
            return existing
        conn.execute(
            "DELETE FROM account_keys WHERE account_uuid = ? AND name = ?", (account_uuid, name)
        )
        return add_key(db, account_uuid, openssh_line, name, registered=True)


def delete_key(
    db: Database, account_uuid: str, name_or_fp: str, *, table: KeyTable = ACCOUNT_KEYS
) -> dict[str, Any] | None:
    """Remove the key named (or fingerprinted) ``name_or_fp``; return it, or ``None``."""
    with db.transaction() as conn:
        key = get_key(db, account_uuid, name_or_fp, table=table)
        if key is None:
            return None
        conn.execute(
            f"DELETE FROM {table.table} WHERE {table.owner} = ? AND fingerprint = ?",
            (account_uuid, key["fingerprint"]),
        )
    return key


def forget_unregistered(db: Database) -> None:
    """Drop accounts and keys created through the API; keep those registered at start-up."""
    with db.transaction() as conn:
        conn.execute("DELETE FROM account_keys WHERE registered = 0")
        conn.execute("DELETE FROM accounts WHERE registered = 0")
