"""RBAC policies: named lists of Aperture rules (UFDS ``sdcAccountPolicy``).

HTTP-free. Each rule is checked with :mod:`smartdc.emulator.aperture` when it is written, so
a policy in the store always parses; a role links to policies by UUID (:mod:`.roles`), and
deleting a policy drops those links.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from smartdc.emulator import aperture
from smartdc.emulator.context import EmulatorError, invalid_argument, missing_parameter, not_found
from smartdc.emulator.db import Database, dumps, loads, register_schema
from smartdc.emulator.store import ids
from smartdc.emulator.store.roles import GONE

register_schema(
    """
    CREATE TABLE IF NOT EXISTS policies (
        uuid TEXT PRIMARY KEY,
        account_uuid TEXT NOT NULL REFERENCES accounts(uuid) ON DELETE CASCADE,
        name TEXT NOT NULL,
        doc TEXT NOT NULL,
        seq INTEGER NOT NULL,
        UNIQUE (account_uuid, name)
    );
    """
)


def render_policy(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The Policy object: ``id``, ``name``, ``rules`` and ``description`` when set."""
    policy: dict[str, Any] = {"name": doc["name"], "id": doc["id"], "rules": list(doc["rules"])}
    if doc.get("description"):
        policy["description"] = doc["description"]
    return policy


def parse_rules(value: Any, *, decode_json: bool = True) -> list[str]:
    """``rules`` as CloudAPI takes them: a list of strings, a JSON-encoded list (on create
    only: UpdatePolicy checks the raw value), or anything else as one rule.

    Every rule must parse as Aperture: the parser's messages, joined, make one 409
    ``InvalidArgument``; so does a rule given twice (UFDS: "<rule> is not unique").
    """
    rules: Any = value
    if decode_json and isinstance(value, str):
        try:
            rules = json.loads(value)
        except ValueError:
            rules = value
    if not isinstance(rules, list):
        rules = [value if isinstance(value, str) else json.dumps(value)]
    texts = [r if isinstance(r, str) else json.dumps(r) for r in rules]
    problems: list[str] = []
    for rule in texts:
        try:
            aperture.parse_rule(rule)
        except aperture.RuleSyntaxError as exc:
            problems.append(str(exc))
    if problems:
        raise invalid_argument(", ".join(problems))
    for index, rule in enumerate(texts):
        if rule in texts[:index]:
            raise invalid_argument(f"{rule} is not unique")
    return texts


def list_policies(db: Database, account_uuid: str) -> list[dict[str, Any]]:
    """The account's policies, oldest first."""
    rows = db.query("SELECT doc FROM policies WHERE account_uuid = ? ORDER BY seq", (account_uuid,))
    return [render_policy(loads(r["doc"])) for r in rows]


def find_policy(db: Database, account_uuid: str, ref: str) -> dict[str, Any] | None:
    """The stored policy whose UUID or name is ``ref``, or ``None``."""
    row = db.one(
        "SELECT doc FROM policies WHERE account_uuid = ? AND (uuid = ? OR name = ?)",
        (account_uuid, ref, ref),
    )
    return None if row is None else dict(loads(row["doc"]))


def policy_or_404(db: Database, account_uuid: str, ref: str) -> dict[str, Any]:
    """:func:`find_policy`, or 404 ``ResourceNotFound``."""
    policy = find_policy(db, account_uuid, ref)
    if policy is None:
        raise not_found(f"{ref} does not exist")
    return policy


def policy_rules(db: Database, policy_uuids: Sequence[str]) -> list[str]:
    """Every rule of these policies, in policy order."""
    rules: list[str] = []
    for policy_uuid in policy_uuids:
        row = db.one("SELECT doc FROM policies WHERE uuid = ?", (policy_uuid,))
        if row is not None:
            rules.extend(loads(row["doc"])["rules"])
    return rules


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise invalid_argument("name must be a non-empty string")
    return value


def _clash(db: Database, account_uuid: str, name: str, own: str | None = None) -> None:
    row = db.one(
        "SELECT uuid FROM policies WHERE account_uuid = ? AND name = ?", (account_uuid, name)
    )
    if row is not None and row["uuid"] != own:
        raise EmulatorError(409, "InvalidArgument", f"policy {name} already exists")


def create_policy(db: Database, account_uuid: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """CreatePolicy: ``name`` and ``rules`` required, ``description`` optional."""
    missing = [name for name in ("name", "rules") if params.get(name) in (None, "")]
    if missing:
        raise missing_parameter(
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} required"
        )
    doc: dict[str, Any] = {
        "id": ids.new_uuid(db),
        "name": _name(params["name"]),
        "rules": parse_rules(params["rules"]),
    }
    if params.get("description"):
        doc["description"] = str(params["description"])
    with db.transaction() as conn:
        _clash(db, account_uuid, doc["name"])
        seq = conn.execute(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM policies WHERE account_uuid = ?",
            (account_uuid,),
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO policies (uuid, account_uuid, name, doc, seq) VALUES (?, ?, ?, ?, ?)",
            (doc["id"], account_uuid, doc["name"], dumps(doc), seq),
        )
    return render_policy(doc)


def update_policy(
    db: Database, account_uuid: str, ref: str, params: Mapping[str, Any]
) -> dict[str, Any]:
    """UpdatePolicy: replaces what is given; ``description: ""`` removes the description."""
    with db.transaction() as conn:
        doc = policy_or_404(db, account_uuid, ref)
        if params.get("name") not in (None, ""):
            doc["name"] = _name(params["name"])
            _clash(db, account_uuid, doc["name"], own=doc["id"])
        if params.get("rules") not in (None, ""):
            doc["rules"] = parse_rules(params["rules"], decode_json=False)
        if "description" in params:
            if params["description"] in (None, ""):
                doc.pop("description", None)
            else:
                doc["description"] = str(params["description"])
        conn.execute(
            "UPDATE policies SET name = ?, doc = ? WHERE uuid = ?",
            (doc["name"], dumps(doc), doc["id"]),
        )
    return render_policy(doc)


def delete_policy(db: Database, account_uuid: str, policy_uuid: str) -> None:
    """DeletePolicy: the policy and every role's link to it. Only a UUID names the policy
    here (UFDS deletes by DN); CloudAPI does not check whether a role still uses it."""
    deleted = db.execute(
        "DELETE FROM policies WHERE account_uuid = ? AND uuid = ?", (account_uuid, policy_uuid)
    )
    if not deleted:
        raise not_found(GONE)
