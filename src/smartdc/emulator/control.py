"""The emulator's control plane: ``/__emulator/...``, for tests and tools on loopback.

No authentication, and not part of CloudAPI (``/openapi.json`` leaves it out). Every
datacenter's port serves it, and every datacenter shares what it controls: the database and
the :class:`~smartdc.emulator.faults.FaultPlan`.

=======  =====================  =========================================================
method   path                   effect
=======  =====================  =========================================================
GET      /__emulator/state      200: this datacenter's name, the region's URLs, and every
                                table's rows
POST     /__emulator/reset      204: forget everything made through the API (accounts and
                                keys registered at start stay) and cancel pending faults
GET      /__emulator/faults     200: pending faults,
                                ``{"fail_provision": n, "throttle": n, "unavailable": n,
                                "retry_after": seconds}``
POST     /__emulator/faults     200 with the pending faults after setting those the JSON
                                object body names (the others stay; 0 cancels one); 400
                                for an unknown name or a value that is not a whole number
DELETE   /__emulator/faults     204: cancel every pending fault
=======  =====================  =========================================================

What each fault does is described in :mod:`smartdc.emulator.faults`.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

from smartdc.emulator.db import Database, loads
from smartdc.emulator.faults import FaultPlan, FaultSpecError
from smartdc.emulator.store import accounts

PREFIX = "/__emulator/"
#: Tables a reset keeps (their unregistered rows are dropped separately).
ACCOUNT_TABLES = ("accounts", "account_keys")


@dataclass(frozen=True)
class ControlReply:
    """A control-plane answer: status and JSON body (``None``: no body)."""

    status: int
    body: Any = None


def reset_state(db: Database, faults: FaultPlan | None = None) -> None:
    """Forget everything made through the API; keep accounts and keys registered at start.
    Pending ``faults`` are cancelled too."""
    accounts.forget_unregistered(db)
    db.clear(keep=ACCOUNT_TABLES)
    if faults is not None:
        faults.clear()


#: Secrets the state dump never shows: table -> column, or (column, key) inside a document.
REDACTED: dict[str, tuple[str | tuple[str, str], ...]] = {
    "users": ("passwords",),
    "access_keys": (("doc", "accesskeysecret"),),
}
HIDDEN = "[redacted]"


def _redact(table: str, record: dict[str, Any]) -> None:
    for secret in REDACTED.get(table, ()):
        if isinstance(secret, str):
            record[secret] = HIDDEN
        elif isinstance(record.get(secret[0]), dict) and secret[1] in record[secret[0]]:
            record[secret[0]][secret[1]] = HIDDEN


def dump_state(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows, JSON document columns decoded; passwords and access-key secrets
    are replaced by ``[redacted]``."""
    dump: dict[str, list[dict[str, Any]]] = {}
    for table in db.tables():
        rows = []
        for row in db.query(f'SELECT * FROM "{table}"'):
            record = dict(zip(row.keys(), tuple(row), strict=True))
            for key, value in record.items():
                if isinstance(value, str) and value[:1] in ("{", "["):
                    with contextlib.suppress(ValueError):
                        record[key] = loads(value)
            _redact(table, record)
            rows.append(record)
        dump[table] = rows
    return dump


def _error(status: int, code: str, message: str) -> ControlReply:
    return ControlReply(status, {"code": code, "message": message})


def _set_faults(faults: FaultPlan, body: bytes) -> ControlReply:
    try:
        spec = json.loads(body or b"{}")
    except ValueError:
        spec = None
    if not isinstance(spec, dict):
        return _error(400, "InvalidContent", "the body must be a JSON object of fault counts")
    try:
        return ControlReply(200, faults.set(**spec))
    except FaultSpecError as exc:
        return _error(400, "InvalidArgument", str(exc))


def control(
    method: str,
    action: str,
    body: bytes,
    *,
    db: Database,
    faults: FaultPlan,
    state_header: dict[str, Any],
) -> ControlReply:
    """Answer ``method /__emulator/<action>``; ``state_header`` heads the state dump."""
    if action == "state" and method == "GET":
        return ControlReply(200, {**state_header, "tables": dump_state(db)})
    if action == "reset" and method == "POST":
        reset_state(db, faults)
        return ControlReply(204)
    if action == "faults":
        if method == "GET":
            return ControlReply(200, faults.pending())
        if method == "POST":
            return _set_faults(faults, body)
        if method == "DELETE":
            faults.clear()
            return ControlReply(204)
    return _error(404, "ResourceNotFound", f"{method} {PREFIX}{action} is not a control operation")
