"""Firewall rules as FWAPI keeps them: per datacenter, owned by one account or global.

An account sees its own rules and the datacenter's global rules (which operators make and
accounts cannot change). Rule text is stored in its canonical form (:mod:`..fwrule`).

HTTP-free: functions take a :class:`Database` and return CloudAPI-shaped FwRule dicts.
FWAPI's refusals are raised as :class:`EmulatorError` with FWAPI's status and
body: 422 ``InvalidParameters`` with ``errors``, 404 ``ResourceNotFound``, 403 ``Forbidden``.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from smartdc.emulator.context import EmulatorError, invalid_parameters, not_found
from smartdc.emulator.db import Database, loads, register_column, register_schema
from smartdc.emulator.fwrule import FwRule, RuleSyntaxError, parse_rule
from smartdc.emulator.params import parse_bool
from smartdc.emulator.store import ids
from smartdc.emulator.store.rule_lists import VISIBLE, rule_list
from smartdc.emulator.store.timestamps import to_ms

register_schema(
    """
    CREATE TABLE IF NOT EXISTS fwrules (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        owner TEXT,
        datacenter TEXT NOT NULL,
        rule TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        log INTEGER NOT NULL,
        description TEXT,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL,
        -- The rule as CloudAPI shows it, JSON kept up to date by the triggers below.
        doc TEXT
    );
    CREATE INDEX IF NOT EXISTS fwrules_by_owner ON fwrules (datacenter, owner, seq);
    """
)
#: The rule of a fwrules row as CloudAPI shows it, as JSON text: ``global`` only when true,
#: ``description`` only when set; json_quote escapes as JSON.stringify does. Kept in the
#: row's ``doc``, so that listing rules joins stored strings instead of building a Python
#: object per field of every rule.
_DOC = """'{"id":' || json_quote(id) || ',"rule":' || json_quote(rule)
    || ',"enabled":' || CASE WHEN enabled THEN 'true' ELSE 'false' END
    || ',"log":' || CASE WHEN log THEN 'true' ELSE 'false' END
    || CASE WHEN owner IS NULL THEN ',"global":true' ELSE '' END
    || CASE WHEN description IS NOT NULL AND description != ''
        THEN ',"description":' || json_quote(description) ELSE '' END
    || '}'"""
register_column("fwrules", "doc", "TEXT")
register_schema(
    f"""
    CREATE TRIGGER IF NOT EXISTS fwrules_doc_on_insert AFTER INSERT ON fwrules BEGIN
        UPDATE fwrules SET doc = {_DOC} WHERE seq = NEW.seq;
    END;
    CREATE TRIGGER IF NOT EXISTS fwrules_doc_on_update
    AFTER UPDATE OF id, rule, enabled, log, owner, description ON fwrules BEGIN
        UPDATE fwrules SET doc = {_DOC} WHERE seq = NEW.seq;
    END;
    UPDATE fwrules SET doc = {_DOC} WHERE doc IS NULL;
    """
)
#: What :mod:`.rule_lists` checks a kept rule list against: every update or deletion of a
#: rule counts as a change, and each owner's rules are counted.
register_schema(
    """
    CREATE TABLE IF NOT EXISTS fwrule_changes (n INTEGER NOT NULL);
    INSERT INTO fwrule_changes (n) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM fwrule_changes);
    -- A new row's doc is set by an update of the row just inserted (doc NULL): not a change.
    CREATE TRIGGER IF NOT EXISTS fwrule_changes_on_update AFTER UPDATE ON fwrules
    WHEN OLD.doc IS NOT NULL BEGIN
        UPDATE fwrule_changes SET n = n + 1;
    END;
    CREATE TRIGGER IF NOT EXISTS fwrule_changes_on_delete AFTER DELETE ON fwrules BEGIN
        UPDATE fwrule_changes SET n = n + 1;
    END;
    -- How many rules each owner ('' for the global rules) has in each datacenter, counted
    -- afresh on every open (in one transaction: the workers of a data directory open it
    -- together) and kept by the triggers.
    CREATE TABLE IF NOT EXISTS fwrule_counts (
        datacenter TEXT NOT NULL,
        owner TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (datacenter, owner)
    ) WITHOUT ROWID;
    BEGIN IMMEDIATE;
    DELETE FROM fwrule_counts;
    INSERT INTO fwrule_counts (datacenter, owner, n)
        SELECT datacenter, coalesce(owner, ''), count(*) FROM fwrules GROUP BY 1, 2;
    COMMIT;
    CREATE TRIGGER IF NOT EXISTS fwrule_counts_on_insert AFTER INSERT ON fwrules BEGIN
        INSERT INTO fwrule_counts (datacenter, owner, n)
            VALUES (NEW.datacenter, coalesce(NEW.owner, ''), 1)
            ON CONFLICT (datacenter, owner) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER IF NOT EXISTS fwrule_counts_on_delete AFTER DELETE ON fwrules BEGIN
        UPDATE fwrule_counts SET n = n - 1
            WHERE datacenter = OLD.datacenter AND owner = coalesce(OLD.owner, '');
    END;
    CREATE TRIGGER IF NOT EXISTS fwrule_counts_on_move
    AFTER UPDATE OF datacenter, owner ON fwrules BEGIN
        UPDATE fwrule_counts SET n = n - 1
            WHERE datacenter = OLD.datacenter AND owner = coalesce(OLD.owner, '');
        INSERT INTO fwrule_counts (datacenter, owner, n)
            VALUES (NEW.datacenter, coalesce(NEW.owner, ''), 1)
            ON CONFLICT (datacenter, owner) DO UPDATE SET n = n + 1;
    END;
    """
)

#: FWAPI's limit on ``description``.
MAX_DESCRIPTION = 255


@dataclass(frozen=True)
class Scope:
    """Whose rules, where: one account in one datacenter."""

    account: str
    datacenter: str


@dataclass(frozen=True)
class RuleChanges:
    """The fields an update sets; ``None`` leaves a field as it is."""

    rule: Any = None
    enabled: Any = None
    log: Any = None
    description: Any = None


# --- FWAPI's errors ------------------------------------------------------------------------


def _field_error(field: str, message: str) -> dict[str, str]:
    return {"field": field, "code": "InvalidParameter", "message": message}


def rule_not_found() -> EmulatorError:
    """FWAPI's 404 for a rule that does not exist in this datacenter."""
    return not_found("Rule not found")


def owner_mismatch() -> EmulatorError:
    """FWAPI's 403 for another account's rule, or a change to a global rule."""
    message = "owner does not match"
    body = {
        "code": "Forbidden",
        "message": message,
        "errors": [_field_error("owner_uuid", "owner_uuid does not match")],
    }
    return EmulatorError(403, "Forbidden", message, body=body)


# --- checks --------------------------------------------------------------------------------


def _check_id(rule_id: str) -> None:
    try:
        valid = str(uuid.UUID(rule_id)) == rule_id.lower()
    except ValueError:
        valid = False
    if not valid:
        raise invalid_parameters([_field_error("uuid", "Invalid UUID")])


def _parsed(text: Any, errors: list[dict[str, str]]) -> FwRule | None:
    if not isinstance(text, str) or not text.strip():
        errors.append(_field_error("rule", "No rule specified"))
        return None
    try:
        return parse_rule(text)
    except RuleSyntaxError as exc:
        errors.append(_field_error("rule", str(exc)))
        return None


def _flag(name: str, value: Any, errors: list[dict[str, str]]) -> bool:
    flag = parse_bool(value)
    if flag is not None:
        return flag
    errors.append(_field_error(name, f"{name} must be true or false"))
    return False


def _description(value: Any, errors: list[dict[str, str]]) -> str:
    if not isinstance(value, str):
        errors.append(_field_error("description", "description must be a string"))
        return ""
    if len(value) > MAX_DESCRIPTION:
        errors.append(
            _field_error(
                "description", f"description must be shorter than {MAX_DESCRIPTION} characters"
            )
        )
    return value


# --- rows ----------------------------------------------------------------------------------


_VISIBLE = f"{VISIBLE} ORDER BY seq"


def render(row: Any) -> dict[str, Any]:
    """A fwrules row as the rule CloudAPI shows (its ``doc``)."""
    shown: dict[str, Any] = loads(row["doc"])
    return shown


def _visible_rows(conn: sqlite3.Connection, scope: Scope) -> list[Any]:
    return conn.execute(f"SELECT * {_VISIBLE}", (scope.datacenter, scope.account)).fetchall()


def _row(conn: sqlite3.Connection, scope: Scope, rule_id: str) -> Any:
    """The rule the account may see: 422 for a bad id, 404 when missing, 403 when it is
    another account's."""
    _check_id(rule_id)
    row = conn.execute(
        "SELECT * FROM fwrules WHERE id = ? AND datacenter = ?", (rule_id.lower(), scope.datacenter)
    ).fetchone()
    if row is None:
        raise rule_not_found()
    if row["owner"] is not None and row["owner"] != scope.account:
        raise owner_mismatch()
    return row


def _owned_row(conn: sqlite3.Connection, scope: Scope, rule_id: str) -> Any:
    """As :func:`_row`, and 403 for a global rule (FWAPI refuses owner changes to those)."""
    row = _row(conn, scope, rule_id)
    if row["owner"] is None:
        raise owner_mismatch()
    return row


# --- reads ---------------------------------------------------------------------------------


def list_rules(db: Database, scope: Scope) -> bytes:
    """The account's rules and the datacenter's global rules, oldest first, as a JSON array
    (kept between calls: :mod:`.rule_lists`)."""
    with db.reading() as conn:
        return rule_list(db, conn, scope.datacenter, scope.account)


def get_rule(db: Database, scope: Scope, rule_id: str) -> dict[str, Any]:
    """One rule the account may see (its own, or global)."""
    with db.reading() as conn:
        return render(_row(conn, scope, rule_id))


def parsed_rule(db: Database, scope: Scope, rule_id: str) -> FwRule:
    """The parsed text of a rule the account may see."""
    with db.reading() as conn:
        return parse_rule(str(_row(conn, scope, rule_id)["rule"]))


def rules_for_machine(
    db: Database, scope: Scope, machine_id: str, tags: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Every visible rule, enabled or not, that names the machine: by ``vm <id>``, by one of
    its tags (with the tag's value when the rule gives one), or by ``all vms``."""
    with db.reading() as conn:
        rows = _visible_rows(conn, scope)
    return [render(r) for r in rows if parse_rule(str(r["rule"])).affects(machine_id, tags)]


# --- writes --------------------------------------------------------------------------------


def create_rule(
    db: Database,
    scope: Scope,
    text: Any,
    *,
    enabled: Any = False,
    log: Any = False,
    description: Any = None,
    now: float,
) -> dict[str, Any]:
    """Create a rule owned by the account; 422 ``InvalidParameters`` naming every bad field."""
    return _insert(db, scope.account, scope.datacenter, text, enabled, log, description, now)


def create_global_rule(
    db: Database,
    datacenter: str,
    text: Any,
    *,
    enabled: Any = False,
    description: Any = None,
    now: float,
) -> dict[str, Any]:
    """Create a global rule, as an operator does: every account of the datacenter sees it
    and none may change it."""
    return _insert(db, None, datacenter, text, enabled, False, description, now)


def _insert(
    db: Database,
    owner: str | None,
    datacenter: str,
    text: Any,
    enabled: Any,
    log: Any,
    description: Any,
    now: float,
) -> dict[str, Any]:
    errors: list[dict[str, str]] = []
    parsed = _parsed(text, errors)
    is_enabled = _flag("enabled", enabled, errors)
    is_logged = _flag("log", log, errors)
    note = None if description in (None, "") else _description(description, errors)
    if errors or parsed is None:
        raise invalid_parameters(errors)
    rule_id = ids.new_uuid(db)
    now_ms = to_ms(now)
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO fwrules (id, owner, datacenter, rule, enabled, log, description,"
            " created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                rule_id,
                owner,
                datacenter,
                parsed.text(),
                int(is_enabled),
                int(is_logged),
                note,
                now_ms,
                now_ms,
            ),
        )
        row = conn.execute("SELECT doc FROM fwrules WHERE id = ?", (rule_id,)).fetchone()
    return render(row)


def is_global(db: Database, scope: Scope, rule_id: str) -> bool:
    """Whether a rule the account may see is a global one."""
    with db.reading() as conn:
        return _row(conn, scope, rule_id)["owner"] is None


def update_rule(
    db: Database, scope: Scope, rule_id: str, changes: RuleChanges, *, now: float
) -> dict[str, Any]:
    """Set the given fields on one of the account's rules; 403 for a global rule."""
    with db.transaction() as conn:
        row = _owned_row(conn, scope, rule_id)
        errors: list[dict[str, str]] = []
        text = row["rule"]
        if changes.rule is not None:
            parsed = _parsed(changes.rule, errors)
            text = parsed.text() if parsed is not None else text
        enabled = row["enabled"]
        if changes.enabled is not None:
            enabled = int(_flag("enabled", changes.enabled, errors))
        logged = row["log"]
        if changes.log is not None:
            logged = int(_flag("log", changes.log, errors))
        description = row["description"]
        if changes.description is not None:
            description = _description(changes.description, errors) or None
        if errors:
            raise invalid_parameters(errors)
        conn.execute(
            "UPDATE fwrules SET rule = ?, enabled = ?, log = ?, description = ?, updated_ms = ?"
            " WHERE id = ?",
            (text, enabled, logged, description, to_ms(now), row["id"]),
        )
        return render(_row(conn, scope, row["id"]))


def delete_rule(db: Database, scope: Scope, rule_id: str) -> None:
    """Delete one of the account's rules; 403 for a global rule."""
    with db.transaction() as conn:
        row = _owned_row(conn, scope, rule_id)
        conn.execute("DELETE FROM fwrules WHERE id = ?", (row["id"],))
