"""RBAC roles: who may assume them (members) and what they allow (policies).

HTTP-free. A role (UFDS ``sdcAccountRole``) links to its members and policies by UUID, so
renaming a user or a policy shows up in every role at once, and deleting one drops the link.
Members are the account's sub-users (``type: "subuser"``) or other accounts
(``type: "account"``); a member may hold the role by default (its *default roles* are active
when a request names none with ``as-role``).

Two wire shapes, chosen by the request's version range (sdc-cloudapi lib/roles.js):

* API 9 and later: ``members: [{type, id, login, default?: true}]`` and
  ``policies: [{id, name}]`` on output; the same objects (``id`` or ``login``/``name``) on input;
* earlier: ``members``, ``default_members`` and ``policies`` as name lists, on input given as a
  list, a single string or a JSON-encoded list.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from smartdc.emulator.context import EmulatorError, invalid_argument, missing_parameter, not_found
from smartdc.emulator.db import Database, dumps, loads, register_schema
from smartdc.emulator.store import accounts, ids
from smartdc.emulator.store.images import is_uuid

register_schema(
    """
    CREATE TABLE IF NOT EXISTS roles (
        uuid TEXT PRIMARY KEY,
        account_uuid TEXT NOT NULL REFERENCES accounts(uuid) ON DELETE CASCADE,
        name TEXT NOT NULL,
        doc TEXT NOT NULL,
        seq INTEGER NOT NULL,
        UNIQUE (account_uuid, name)
    );
    CREATE TABLE IF NOT EXISTS role_members (
        role_uuid TEXT NOT NULL REFERENCES roles(uuid) ON DELETE CASCADE,
        member_uuid TEXT NOT NULL,
        member_type TEXT NOT NULL,
        is_default INTEGER NOT NULL DEFAULT 0,
        seq INTEGER NOT NULL,
        PRIMARY KEY (role_uuid, member_uuid)
    );
    CREATE TABLE IF NOT EXISTS role_policies (
        role_uuid TEXT NOT NULL REFERENCES roles(uuid) ON DELETE CASCADE,
        policy_uuid TEXT NOT NULL REFERENCES policies(uuid) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        PRIMARY KEY (role_uuid, policy_uuid)
    );
    """
)

#: The role whose default members may do everything on the account (node-mahi's
#: ADMIN_ROLE_NAME); it takes no policies.
ADMINISTRATOR = "administrator"
SUBUSER = "subuser"
#: UFDS's 404 for a delete of an entry that is not there.
GONE = "The resource you requested does not exist"
ACCOUNT = "account"
_V9_MEMBER_KEYS = frozenset({"type", "id", "login", "default"})


@dataclass(frozen=True)
class Member:
    """One resolved role member."""

    uuid: str
    type: str
    login: str
    default: bool


# --- reading -------------------------------------------------------------------------------


def _members(db: Database, role_uuid: str) -> list[Member]:
    rows = db.query(
        "SELECT m.member_uuid, m.member_type, m.is_default,"
        " COALESCE(u.login, a.login) AS login"
        " FROM role_members m LEFT JOIN users u ON u.uuid = m.member_uuid"
        " LEFT JOIN accounts a ON a.uuid = m.member_uuid"
        " WHERE m.role_uuid = ? ORDER BY m.seq",
        (role_uuid,),
    )
    return [
        Member(r["member_uuid"], r["member_type"], r["login"], bool(r["is_default"]))
        for r in rows
        if r["login"] is not None
    ]


def _policies(db: Database, role_uuid: str) -> list[dict[str, str]]:
    rows = db.query(
        "SELECT p.uuid, p.name FROM role_policies rp JOIN policies p ON p.uuid = rp.policy_uuid"
        " WHERE rp.role_uuid = ? ORDER BY rp.seq",
        (role_uuid,),
    )
    return [{"id": r["uuid"], "name": r["name"]} for r in rows]


def policy_uuids(db: Database, role_uuid: str) -> list[str]:
    """The UUIDs of the role's policies, in order."""
    return [p["id"] for p in _policies(db, role_uuid)]


def render_role(db: Database, doc: Mapping[str, Any], *, v9: bool) -> dict[str, Any]:
    """The Role object in the shape the request's version range asks for."""
    members = _members(db, doc["id"])
    policies = _policies(db, doc["id"])
    if not members and not policies:
        return {
            "name": doc["name"],
            "id": doc["id"],
            "members": [],
            "default_members": [],
            "policies": [],
        }
    if v9:
        rendered: list[dict[str, Any]] = []
        for m in members:
            entry: dict[str, Any] = {"id": m.uuid, "login": m.login}
            if m.default:
                entry["default"] = True
            entry["type"] = m.type
            rendered.append(entry)
        return {"name": doc["name"], "id": doc["id"], "policies": policies, "members": rendered}
    members = [m for m in members if m.type == SUBUSER]
    return {
        "name": doc["name"],
        "id": doc["id"],
        "members": [m.login for m in members],
        "default_members": [m.login for m in members if m.default],
        "policies": [p["name"] for p in policies],
    }


def list_roles(db: Database, account_uuid: str, *, v9: bool) -> list[dict[str, Any]]:
    """The account's roles, oldest first."""
    rows = db.query("SELECT doc FROM roles WHERE account_uuid = ? ORDER BY seq", (account_uuid,))
    return [render_role(db, loads(r["doc"]), v9=v9) for r in rows]


def find_role(db: Database, account_uuid: str, ref: str) -> dict[str, Any] | None:
    """The stored role whose UUID or name is ``ref``, or ``None``."""
    row = db.one(
        "SELECT doc FROM roles WHERE account_uuid = ? AND (uuid = ? OR name = ?)",
        (account_uuid, ref, ref),
    )
    return None if row is None else dict(loads(row["doc"]))


def role_or_404(db: Database, account_uuid: str, ref: str) -> dict[str, Any]:
    """:func:`find_role`, or 404 ``ResourceNotFound``."""
    role = find_role(db, account_uuid, ref)
    if role is None:
        raise not_found(f"{ref} does not exist")
    return role


def roles_of_member(
    db: Database, member_uuid: str, account_uuid: str | None = None
) -> list[tuple[dict[str, Any], bool]]:
    """Every role the user (or account) is a member of — of ``account_uuid``'s roles only,
    when given — with whether it is a default role."""
    rows = db.query(
        "SELECT r.doc, m.is_default FROM role_members m JOIN roles r ON r.uuid = m.role_uuid"
        " WHERE m.member_uuid = ? AND (? IS NULL OR r.account_uuid = ?) ORDER BY r.seq",
        (member_uuid, account_uuid, account_uuid),
    )
    return [(dict(loads(r["doc"])), bool(r["is_default"])) for r in rows]


def role_names(db: Database, role_uuids: Sequence[str]) -> list[str]:
    """Names of these roles, in the given order (unknown UUIDs are skipped)."""
    names = []
    for role_uuid in role_uuids:
        row = db.one("SELECT name FROM roles WHERE uuid = ?", (role_uuid,))
        if row is not None:
            names.append(str(row["name"]))
    return names


def roles_by_name(db: Database, account_uuid: str, names: Sequence[str]) -> list[dict[str, Any]]:
    """The roles with these names, in order; 409 ``InvalidArgument`` "Role(s) X not found"
    naming every unknown one (sdc-cloudapi lib/membership.js)."""
    found: list[dict[str, Any]] = []
    unknown: list[str] = []
    for name in names:
        role = find_role(db, account_uuid, name)
        if role is None or role["name"] != name:
            unknown.append(name)
        else:
            found.append(role)
    if unknown:
        raise invalid_argument(f"Role(s) {', '.join(unknown)} not found")
    return found


# --- input ---------------------------------------------------------------------------------


def _name_list(value: Any, field: str) -> list[str]:
    """A legacy list input: a list of strings, one string, or a JSON-encoded list."""
    if value is None or value == "":
        return []
    items: Any = value
    if isinstance(value, str):
        try:
            items = json.loads(value)
        except ValueError:
            items = [value]
        if isinstance(items, str):
            items = [items]
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise invalid_argument(f"{field} must be an array of strings")
    return list(items)


def _v9_policies(value: Any) -> list[str]:
    """API 9 policy references, checked as sdc-cloudapi lib/roles.js checks them."""
    if not isinstance(value, list) or not all(isinstance(i, dict) for i in value):
        raise invalid_argument('Role "policies" must be an array of objects')
    refs: list[str] = []
    for item in value:
        for key in item:
            if key not in ("id", "name"):
                raise invalid_argument(
                    f'Policy references may only contain "name" or "id" properties, not "{key}"'
                )
        if "id" in item:
            if not isinstance(item["id"], str) or not is_uuid(item["id"]):
                raise invalid_argument('Policy "id" property must be a string UUID')
            refs.append(item["id"])
        elif "name" in item:
            if not isinstance(item["name"], str):
                raise invalid_argument('Policy "name" property must be a string')
            refs.append(item["name"])
    return refs


def _v9_members(value: Any) -> list[tuple[str, str, bool]]:
    """API 9 member references as ``(type, id or login, default)``."""
    if not isinstance(value, list) or not all(isinstance(i, dict) for i in value):
        raise invalid_argument('Role "members" must be an array of objects')
    refs: list[tuple[str, str, bool]] = []
    for item in value:
        if not isinstance(item.get("type"), str):
            raise invalid_argument('Role "member" references must have a string "type" property')
        if item["type"] not in (SUBUSER, ACCOUNT):
            raise invalid_argument(f'Member "type" is not supported: "{item["type"]}"')
        for key in item:
            if key not in _V9_MEMBER_KEYS:
                raise invalid_argument(
                    'Member references may only contain "type", "login", "id", or "default"'
                    f' properties, not "{key}"'
                )
        if "id" in item and (not isinstance(item["id"], str) or not is_uuid(item["id"])):
            raise invalid_argument('Member "id" property must be a string UUID')
        if "login" in item and not isinstance(item["login"], str):
            raise invalid_argument('Member "login" property must be a string')
        if "default" in item and not isinstance(item["default"], bool):
            raise invalid_argument('Member "default" property must be a boolean')
        ref = item.get("id") or item.get("login")
        if ref:
            refs.append((item["type"], str(ref), item.get("default") is True))
    return refs


@dataclass
class _Resolution:
    members: list[Member]
    policies: list[str]
    invalid: list[str]


def _resolve_member(
    db: Database, account_uuid: str, kind: str, ref: str, default: bool, out: _Resolution
) -> None:
    if kind == ACCOUNT:
        account = accounts.get_account(db, ref) or accounts.get_account_by_uuid(db, ref)
        if account is None:
            out.invalid.append(f"Invalid account: {ref}")
            return
        out.members.append(Member(account["id"], ACCOUNT, account["login"], default))
        return
    row = db.one(
        "SELECT uuid, login FROM users WHERE account_uuid = ? AND (uuid = ? OR login = ?)",
        (account_uuid, ref, ref),
    )
    if row is None:
        out.invalid.append(f"Invalid subuser: {ref}")
        return
    out.members.append(Member(row["uuid"], SUBUSER, row["login"], default))


def _resolve_policy(db: Database, account_uuid: str, ref: str, out: _Resolution) -> None:
    row = db.one(
        "SELECT uuid FROM policies WHERE account_uuid = ? AND (name = ? OR uuid = ?)",
        (account_uuid, ref, ref),
    )
    if row is None:
        out.invalid.append(f"Invalid policy: {ref}")
    elif row["uuid"] not in out.policies:
        out.policies.append(row["uuid"])


def _resolve(
    db: Database,
    account_uuid: str,
    params: Mapping[str, Any],
    *,
    v9: bool,
    administrator: bool,
) -> tuple[list[Member] | None, list[str] | None]:
    """Members and policy UUIDs the input names (``None``: not given, keep the old).

    Every problem is collected, in CloudAPI's order, into one 409 ``InvalidArgument``:
    the name ``true``, unknown members, policies on the administrator role, unknown policies.
    """
    out = _Resolution([], [], [])
    if v9:
        if "name" in params and not isinstance(params["name"], str):
            raise invalid_argument('Role "name" must be a string')
        policy_refs = _v9_policies(params["policies"]) if "policies" in params else None
        member_refs = _v9_members(params["members"]) if "members" in params else None
    else:
        policy_refs = (
            [p for p in _name_list(params.get("policies"), "policies") if p]
            if "policies" in params
            else None
        )
        member_refs = None
        if "members" in params or "default_members" in params:
            defaults = _name_list(params.get("default_members"), "default_members")
            names = _name_list(params.get("members"), "members")
            member_refs = [
                (SUBUSER, login, login in defaults)
                for login in names + [d for d in defaults if d not in names]
            ]
    if params.get("name") == "true":
        out.invalid.append('"true" is not a valid role name')
    for kind, ref, default in member_refs or ():
        _resolve_member(db, account_uuid, kind, ref, default, out)
    if administrator and policy_refs is not None:
        out.invalid.append("Administrator role cannot have policies")
    for ref in policy_refs or ():
        _resolve_policy(db, account_uuid, ref, out)
    if out.invalid:
        raise invalid_argument(", ".join(out.invalid))
    return (
        out.members if member_refs is not None else None,
        out.policies if policy_refs is not None else None,
    )


def _store_links(
    conn: Any, role_uuid: str, members: list[Member] | None, policies: list[str] | None
) -> None:
    if members is not None:
        conn.execute("DELETE FROM role_members WHERE role_uuid = ?", (role_uuid,))
        seen: set[str] = set()
        for seq, m in enumerate(members):
            if m.uuid in seen:
                continue
            seen.add(m.uuid)
            conn.execute(
                "INSERT INTO role_members (role_uuid, member_uuid, member_type, is_default, seq)"
                " VALUES (?, ?, ?, ?, ?)",
                (role_uuid, m.uuid, m.type, int(m.default), seq),
            )
    if policies is not None:
        conn.execute("DELETE FROM role_policies WHERE role_uuid = ?", (role_uuid,))
        for seq, policy_uuid in enumerate(policies):
            conn.execute(
                "INSERT INTO role_policies (role_uuid, policy_uuid, seq) VALUES (?, ?, ?)",
                (role_uuid, policy_uuid, seq),
            )


def _clash(db: Database, account_uuid: str, name: str, own: str | None = None) -> None:
    row = db.one("SELECT uuid FROM roles WHERE account_uuid = ? AND name = ?", (account_uuid, name))
    if row is not None and row["uuid"] != own:
        raise EmulatorError(409, "InvalidArgument", f"role {name} already exists")


def create_role(
    db: Database, account_uuid: str, params: Mapping[str, Any], *, v9: bool
) -> dict[str, Any]:
    """CreateRole: ``name`` required; ``members`` and ``policies`` resolved by id or name."""
    members, policies = _resolve(
        db, account_uuid, params, v9=v9, administrator=params.get("name") == ADMINISTRATOR
    )
    if params.get("name") in (None, ""):
        raise missing_parameter("Request is missing required parameter: name")
    name = str(params["name"])
    doc = {"id": ids.new_uuid(db), "name": name}
    with db.transaction() as conn:
        _clash(db, account_uuid, name)
        seq = conn.execute(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM roles WHERE account_uuid = ?", (account_uuid,)
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO roles (uuid, account_uuid, name, doc, seq) VALUES (?, ?, ?, ?, ?)",
            (doc["id"], account_uuid, name, dumps(doc), seq),
        )
        _store_links(conn, doc["id"], members, policies)
    return render_role(db, doc, v9=v9)


def update_role(
    db: Database, account_uuid: str, ref: str, params: Mapping[str, Any], *, v9: bool
) -> dict[str, Any]:
    """UpdateRole: each of ``name``, ``members`` and ``policies`` given replaces the old."""
    doc = role_or_404(db, account_uuid, ref)
    members, policies = _resolve(
        db, account_uuid, params, v9=v9, administrator=doc["name"] == ADMINISTRATOR
    )
    if params.get("name") not in (None, ""):
        doc["name"] = str(params["name"])
    with db.transaction() as conn:
        _clash(db, account_uuid, doc["name"], own=doc["id"])
        conn.execute(
            "UPDATE roles SET name = ?, doc = ? WHERE uuid = ?",
            (doc["name"], dumps(doc), doc["id"]),
        )
        _store_links(conn, doc["id"], members, policies)
    return render_role(db, doc, v9=v9)


def delete_role(db: Database, account_uuid: str, role_uuid: str) -> None:
    """DeleteRole: the role, its links, and every role tag naming it. Only a UUID names the
    role here (UFDS deletes by DN), else 404 as UFDS words it."""
    deleted = db.execute(
        "DELETE FROM roles WHERE account_uuid = ? AND uuid = ?", (account_uuid, role_uuid)
    )
    if not deleted:
        raise not_found(GONE)
