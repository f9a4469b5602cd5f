"""RBAC sub-users of an account, as UFDS keeps them (``sdcPerson`` under the account).

HTTP-free. A user belongs to one account; its login is unique within that account only. The
password is kept as a salted hash (with the last few, for UFDS's history rule) and never leaves
the store. Users' SSH keys live in
``user_keys`` and go with the user when it is deleted; so do its access keys, its role
memberships (:mod:`.roles`) and nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from typing import Any

from smartdc.emulator.context import invalid_argument, missing_parameter, not_found
from smartdc.emulator.db import Database, dumps, loads, register_schema
from smartdc.emulator.store import ids
from smartdc.emulator.store.timestamps import iso_now
from smartdc.wire import USER_PROFILE_FIELDS

register_schema(
    """
    CREATE TABLE IF NOT EXISTS users (
        uuid TEXT PRIMARY KEY,
        account_uuid TEXT NOT NULL REFERENCES accounts(uuid) ON DELETE CASCADE,
        login TEXT NOT NULL,
        doc TEXT NOT NULL,
        passwords TEXT NOT NULL,
        seq INTEGER NOT NULL,
        UNIQUE (account_uuid, login)
    );
    CREATE TABLE IF NOT EXISTS user_keys (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        user_uuid TEXT NOT NULL REFERENCES users(uuid) ON DELETE CASCADE,
        name TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        openssh TEXT NOT NULL,
        created REAL NOT NULL,
        registered INTEGER NOT NULL DEFAULT 0,
        UNIQUE (user_uuid, fingerprint),
        UNIQUE (user_uuid, name)
    );
    -- The account's users in order, and by login whatever its case (logins are ASCII):
    -- without them each CreateUser read every user of the account twice.
    CREATE INDEX IF NOT EXISTS users_in_order ON users (account_uuid, seq);
    CREATE INDEX IF NOT EXISTS users_by_lower_login ON users (account_uuid, lower(login));
    """
)

#: UFDS's login rule for people (sdc-ufds lib/schema/sdcperson.js and its add checks): a
#: letter, then letters, digits, ``_``, ``.`` or ``@``; 3 to 32 characters in all.
LOGIN_CHARACTERS = re.compile(r"[a-zA-Z][a-zA-Z0-9_.@]+")
LOGIN_LENGTH = range(3, 33)
#: UFDS's password policy (``cn=pwdpolicy, o=smartdc``): at least 7 characters, with a letter
#: and a digit, and none of the last 4 passwords again.
PASSWORD_MIN_LENGTH = 7
PASSWORD_HISTORY = 4
#: CloudAPI's own e-mail check (sdc-cloudapi lib/users.js).
_EMAIL = re.compile(r"[a-zA-Z0-9.!#$%&'*+\-/=?^_`{|}~]+@[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*")
#: Required CreateUser fields, in the order CloudAPI names them when missing.
_REQUIRED = ("email", "login", "password")
#: The User object's fields in CloudAPI's order (sdc-cloudapi lib/membership.js).
_USER_FIELDS = (
    "companyName",
    "firstName",
    "lastName",
    "postalCode",
    "address",
    "city",
    "state",
)
_USER_FIELDS_LATE = ("country", "phone")


def _hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 1000)
    return f"{salt.hex()}${digest.hex()}"


def _password_matches(stored: str, password: str) -> bool:
    salt, _, _ = stored.partition("$")
    return hmac.compare_digest(stored, _hash_password(password, bytes.fromhex(salt)))


def render_user(
    doc: Mapping[str, Any], membership: tuple[list[str], list[str]] | None = None
) -> dict[str, Any]:
    """The User object in CloudAPI's field order; profile fields only when set.

    ``membership`` (role names, default role names) adds ``roles`` and ``default_roles``.
    """
    user: dict[str, Any] = {"id": doc["id"], "login": doc["login"], "email": doc["email"]}
    for name in _USER_FIELDS:
        if doc.get(name):
            user[name] = doc[name]
    if membership is not None:
        user["roles"], user["default_roles"] = membership
    for name in _USER_FIELDS_LATE:
        if doc.get(name):
            user[name] = doc[name]
    user["updated"] = doc["updated"]
    user["created"] = doc["created"]
    return user


def _missing(params: Mapping[str, Any], names: tuple[str, ...]) -> None:
    """One ``MissingParameter`` naming every missing field, as CloudAPI words it."""
    missing = [f"{name} is required" for name in names if params.get(name) in (None, "")]
    if missing:
        raise missing_parameter(f"Request is missing required parameters: {', '.join(missing)}")


def _check_login(login: Any) -> str:
    if not isinstance(login, str) or not LOGIN_CHARACTERS.fullmatch(login):
        raise invalid_argument("Login is invalid")
    if len(login) not in LOGIN_LENGTH or login == "local":
        raise invalid_argument(f"login: {login} is invalid")
    return login


def _check_email(email: Any) -> str:
    if not isinstance(email, str) or not _EMAIL.fullmatch(email):
        raise invalid_argument(f"email: {email} is invalid")
    return email


def check_password(password: Any) -> str:
    """UFDS's password policy; 409 ``InvalidArgument`` with UFDS's word for the problem."""
    text = password if isinstance(password, str) else str(password)
    if len(text) < PASSWORD_MIN_LENGTH:
        raise invalid_argument("passwordTooShort")
    if not re.search(r"[A-Za-z]", text) or not re.search(r"[0-9]", text):
        raise invalid_argument("insufficientPasswordQuality")
    return text


def _login_taken(conn: Any, account_uuid: str, login: str, own: str | None = None) -> None:
    """Logins are unique within the account, whatever their case (UFDS)."""
    row = conn.execute(
        "SELECT uuid FROM users WHERE account_uuid = ? AND lower(login) = lower(?)",
        (account_uuid, login),
    ).fetchone()
    if row is not None and row["uuid"] != own:
        raise invalid_argument("Login is already taken")


def _row_doc(row: Any) -> dict[str, Any]:
    doc: dict[str, Any] = loads(row["doc"])
    return doc


def list_users(db: Database, account_uuid: str) -> list[dict[str, Any]]:
    """The account's users, oldest first."""
    rows = db.query("SELECT doc FROM users WHERE account_uuid = ? ORDER BY seq", (account_uuid,))
    return [render_user(_row_doc(r)) for r in rows]


def find_user(db: Database, account_uuid: str, ref: str) -> dict[str, Any] | None:
    """The user whose UUID or login is ``ref`` (as stored, with ``account``), or ``None``."""
    row = db.one(
        "SELECT doc FROM users WHERE account_uuid = ? AND (uuid = ? OR login = ?)",
        (account_uuid, ref, ref),
    )
    return None if row is None else _row_doc(row)


def user_or_404(db: Database, account_uuid: str, ref: str) -> dict[str, Any]:
    """:func:`find_user`, or 404 ``ResourceNotFound`` as CloudAPI words it."""
    user = find_user(db, account_uuid, ref)
    if user is None:
        raise not_found(f"{ref} does not exist")
    return user


def create_user(
    db: Database, account_uuid: str, params: Mapping[str, Any], *, now: float | None = None
) -> dict[str, Any]:
    """CreateUser: required fields first, then the e-mail, login and password rules."""
    _missing(params, _REQUIRED)
    email = _check_email(params["email"])
    login = _check_login(params["login"])
    password = check_password(params["password"])
    stamp = iso_now(now)
    doc: dict[str, Any] = {"id": ids.new_uuid(db), "login": login, "email": email}
    for name in USER_PROFILE_FIELDS:
        value = params.get(name)
        if value not in (None, ""):
            doc[name] = str(value)
    doc.update(created=stamp, updated=stamp)
    with db.transaction() as conn:
        _login_taken(conn, account_uuid, login)
        seq = conn.execute(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM users WHERE account_uuid = ?", (account_uuid,)
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO users (uuid, account_uuid, login, doc, passwords, seq)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (doc["id"], account_uuid, login, dumps(doc), dumps([_hash_password(password)]), seq),
        )
    return render_user(doc)


def update_user(
    db: Database,
    account_uuid: str,
    ref: str,
    params: Mapping[str, Any],
    *,
    now: float | None = None,
) -> dict[str, Any]:
    """UpdateUser: ``login``, ``email`` and profile fields; ``""`` clears a profile field."""
    with db.transaction() as conn:
        doc = user_or_404(db, account_uuid, ref)
        if params.get("email") not in (None, ""):
            doc["email"] = _check_email(params["email"])
        if params.get("login") not in (None, "") and params["login"] != doc["login"]:
            doc["login"] = _check_login(params["login"])
            _login_taken(conn, account_uuid, doc["login"], own=doc["id"])
        for name in USER_PROFILE_FIELDS:
            if name not in params:
                continue
            value = params[name]
            if value in (None, ""):
                doc.pop(name, None)
            else:
                doc[name] = str(value)
        doc["updated"] = iso_now(now)
        conn.execute(
            "UPDATE users SET login = ?, doc = ? WHERE uuid = ?",
            (doc["login"], dumps(doc), doc["id"]),
        )
    return render_user(doc)


def change_password(
    db: Database,
    account_uuid: str,
    ref: str,
    params: Mapping[str, Any],
    *,
    now: float | None = None,
) -> dict[str, Any]:
    """ChangeUserPassword: both fields required and equal, then UFDS's policy and history."""
    _missing(params, ("password", "password_confirmation"))
    if params["password"] != params["password_confirmation"]:
        raise invalid_argument("password and password_confirmation must have the same value")
    with db.transaction() as conn:
        doc = user_or_404(db, account_uuid, ref)
        password = check_password(params["password"])
        row = conn.execute("SELECT passwords FROM users WHERE uuid = ?", (doc["id"],)).fetchone()
        history: list[str] = loads(row["passwords"])
        if any(_password_matches(old, password) for old in history):
            raise invalid_argument("passwordInHistory")
        history = [_hash_password(password), *history][: PASSWORD_HISTORY + 1]
        doc["updated"] = iso_now(now)
        conn.execute(
            "UPDATE users SET doc = ?, passwords = ? WHERE uuid = ?",
            (dumps(doc), dumps(history), doc["id"]),
        )
    return render_user(doc)


def delete_user(db: Database, account_uuid: str, ref: str) -> None:
    """DeleteUser: the user, its keys, access keys and role memberships.

    UFDS may refuse to delete a user entry that still has keys below it; the emulator takes
    them with the user, which is what ``triton rbac user -d`` (deleting no keys first) needs.
    """
    with db.transaction() as conn:
        doc = user_or_404(db, account_uuid, ref)
        conn.execute("DELETE FROM role_members WHERE member_uuid = ?", (doc["id"],))
        conn.execute("DELETE FROM users WHERE uuid = ?", (doc["id"],))
