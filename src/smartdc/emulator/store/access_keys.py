"""Access keys (an id and a secret) of an account or of one of its sub-users.

HTTP-free. CloudAPI 9.11 added them for services that authenticate with a key id and secret
rather than an SSH signature; UFDS keeps them under the owner (``accesskey`` entries). The
secret is returned once, when the key is created; listings and reads leave it out.
"""

from __future__ import annotations

import base64
import secrets
import zlib
from collections.abc import Mapping
from typing import Any

from smartdc.emulator.context import EmulatorError, invalid_argument, not_found
from smartdc.emulator.db import Database, dumps, loads, register_schema
from smartdc.emulator.store import ids
from smartdc.emulator.store.timestamps import iso_now

register_schema(
    """
    CREATE TABLE IF NOT EXISTS access_keys (
        accesskeyid TEXT PRIMARY KEY,
        account_uuid TEXT NOT NULL REFERENCES accounts(uuid) ON DELETE CASCADE,
        user_uuid TEXT REFERENCES users(uuid) ON DELETE CASCADE,
        doc TEXT NOT NULL,
        seq INTEGER NOT NULL
    );
    """
)

#: The states an access key can be in (node-triton 7.18 ``triton accesskey update --status``).
STATUSES = ("Active", "Inactive", "Expired")
SECRET_PREFIX = "tdc_"
#: The longest description UFDS stores for an access key.
DESCRIPTION_MAX = 150
#: How many permanent keys one owner may have (sdc-cloudapi lib/endpoints/accesskeys.js).
MAX_KEYS = 100
CREDENTIAL_TYPE = "permanent"


def _forbidden(message: str) -> EmulatorError:
    return EmulatorError(403, "Forbidden", message)


def new_secret() -> str:
    """``tdc_`` and the base64url (unpadded) of 32 random bytes and their CRC-32, little
    endian, over the prefix and the bytes: the form CloudAPI hands out."""
    raw = secrets.token_bytes(32)
    check = zlib.crc32(SECRET_PREFIX.encode() + raw).to_bytes(4, "little")
    return SECRET_PREFIX + base64.urlsafe_b64encode(raw + check).decode().rstrip("=")


def render_key(doc: Mapping[str, Any], *, with_secret: bool = False) -> dict[str, Any]:
    """The AccessKey object in CloudAPI's field order; the secret (last) only on creation."""
    key: dict[str, Any] = {
        "accesskeyid": doc["accesskeyid"],
        "credentialtype": CREDENTIAL_TYPE,
        "status": doc["status"],
    }
    if doc.get("description"):
        key["description"] = doc["description"]
    key["created"] = doc["created"]
    key["updated"] = doc["updated"]
    key["expiration"] = None
    if with_secret:
        key["accesskeysecret"] = doc["accesskeysecret"]
    return key


def _owner_clause(user_uuid: str | None) -> tuple[str, tuple[Any, ...]]:
    if user_uuid is None:
        return "user_uuid IS NULL", ()
    return "user_uuid = ?", (user_uuid,)


def list_keys(db: Database, account_uuid: str, user_uuid: str | None) -> list[dict[str, Any]]:
    """The owner's access keys, oldest first, without secrets."""
    clause, args = _owner_clause(user_uuid)
    rows = db.query(
        f"SELECT doc FROM access_keys WHERE account_uuid = ? AND {clause} ORDER BY seq",
        (account_uuid, *args),
    )
    return [render_key(loads(r["doc"])) for r in rows]


def _stored(
    db: Database, account_uuid: str, user_uuid: str | None, accesskeyid: str
) -> dict[str, Any]:
    clause, args = _owner_clause(user_uuid)
    row = db.one(
        f"SELECT doc FROM access_keys WHERE account_uuid = ? AND {clause} AND accesskeyid = ?",
        (account_uuid, *args, accesskeyid),
    )
    if row is None:
        raise not_found(f"{accesskeyid} does not exist")
    return dict(loads(row["doc"]))


def get_key(
    db: Database, account_uuid: str, user_uuid: str | None, accesskeyid: str
) -> dict[str, Any]:
    """One access key without its secret; 404 when the owner has no such key."""
    return render_key(_stored(db, account_uuid, user_uuid, accesskeyid))


def _status(value: Any) -> str:
    if value not in STATUSES:
        raise invalid_argument(f"status must be one of: {', '.join(STATUSES)}")
    return str(value)


def _description(value: Any) -> str:
    if not isinstance(value, str):
        raise invalid_argument("description must be a string")
    if len(value) > DESCRIPTION_MAX:
        raise invalid_argument(
            f"description must be {DESCRIPTION_MAX} characters in length or less"
        )
    return value


def _check_fixed_fields(params: Mapping[str, Any]) -> None:
    """What CloudAPI refuses to let a client choose."""
    if params.get("credentialtype") not in (None, CREDENTIAL_TYPE):
        raise _forbidden("credentialtype cannot be set via CloudAPI")
    if "expiration" in params:
        raise _forbidden("expiration cannot be set via CloudAPI")


def create_key(
    db: Database,
    account_uuid: str,
    user_uuid: str | None,
    params: Mapping[str, Any],
    *,
    now: float,
) -> dict[str, Any]:
    """A new key, ``Active`` unless ``status`` says otherwise; returned with its secret."""
    _check_fixed_fields(params)
    if len(list_keys(db, account_uuid, user_uuid)) >= MAX_KEYS:
        raise _forbidden(
            f"Account already has the maximum allowed number of access keys ({MAX_KEYS})"
        )
    stamp = iso_now(now)
    doc: dict[str, Any] = {
        "accesskeyid": ids.new_bytes(db, 16).hex(),
        "accesskeysecret": new_secret(),
        "created": stamp,
        "updated": stamp,
        "status": _status(params["status"]) if params.get("status") else "Active",
    }
    if params.get("description"):
        doc["description"] = _description(params["description"])
    with db.transaction() as conn:
        seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM access_keys").fetchone()[0]
        conn.execute(
            "INSERT INTO access_keys (accesskeyid, account_uuid, user_uuid, doc, seq)"
            " VALUES (?, ?, ?, ?, ?)",
            (doc["accesskeyid"], account_uuid, user_uuid, dumps(doc), seq),
        )
    return render_key(doc, with_secret=True)


def update_key(
    db: Database,
    account_uuid: str,
    user_uuid: str | None,
    accesskeyid: str,
    params: Mapping[str, Any],
    *,
    now: float,
) -> dict[str, Any]:
    """Change ``status`` and/or ``description``; empty values are ignored, as CloudAPI
    ignores them (a description cannot be cleared). An unknown key is UFDS's 409."""
    _check_fixed_fields(params)
    with db.transaction() as conn:
        try:
            doc = _stored(db, account_uuid, user_uuid, accesskeyid)
        except EmulatorError as missing:
            raise invalid_argument(missing.message) from None
        if params.get("status"):
            doc["status"] = _status(params["status"])
        if params.get("description"):
            doc["description"] = _description(params["description"])
        doc["updated"] = iso_now(now)
        conn.execute(
            "UPDATE access_keys SET doc = ? WHERE accesskeyid = ?", (dumps(doc), accesskeyid)
        )
    return render_key(doc)


def delete_key(db: Database, account_uuid: str, user_uuid: str | None, accesskeyid: str) -> None:
    """Remove the key; 404 when the owner has no such key."""
    _stored(db, account_uuid, user_uuid, accesskeyid)
    db.execute("DELETE FROM access_keys WHERE accesskeyid = ?", (accesskeyid,))
