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
GET      /__emulator/clock      200: ``{"mode": "real"|"manual", "now": <epoch seconds>}``
POST     /__emulator/clock      200 as GET after moving a manual clock forward by the body's
                                ``{"advance": <seconds>}`` and running everything that
                                became due; 409 on the real clock, 400 for a bad body
=======  =====================  =========================================================

A known path asked with another method answers 405 with ``Allow``; an unknown one 404.

What each fault does is described in :mod:`smartdc.emulator.faults`.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from smartdc.emulator import clock as clocks
from smartdc.emulator.db import Database, loads
from smartdc.emulator.faults import FaultPlan, FaultSpecError
from smartdc.emulator.scheduler import settle_everything
from smartdc.emulator.store import accounts

PREFIX = "/__emulator/"
#: Tables a reset keeps (their unregistered rows are dropped separately).
ACCOUNT_TABLES = ("accounts", "account_keys")


@dataclass(frozen=True)
class ControlReply:
    """A control-plane answer: status and JSON body (``None``: no body)."""

    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


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


def _clock_reply(clock: Callable[[], float]) -> ControlReply:
    return ControlReply(200, {"mode": clocks.mode(clock), "now": clock()})


def _advance(db: Database, clock: Callable[[], float], body: bytes) -> ControlReply:
    if not isinstance(clock, clocks.ManualClock):
        return _error(
            409,
            "Conflict",
            "the emulator runs on the real clock; start it with a "
            "manual clock (--manual-clock) to move time by hand",
        )
    try:
        spec = json.loads(body or b"{}")
    except ValueError:
        spec = None
    seconds = spec.get("advance") if isinstance(spec, dict) else None
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        return _error(400, "InvalidArgument", 'the body must be {"advance": <seconds, >= 0>}')
    clock.advance(float(seconds))
    settle_everything(db, clock())
    return _clock_reply(clock)


#: Every control path and the methods it answers.
_METHODS = {
    "state": ("GET",),
    "reset": ("POST",),
    "faults": ("GET", "POST", "DELETE"),
    "clock": ("GET", "POST"),
}


def control(
    method: str,
    action: str,
    body: bytes,
    *,
    db: Database,
    faults: FaultPlan,
    state_header: dict[str, Any],
    clock: Callable[[], float] = time.time,
) -> ControlReply:
    """Answer ``method /__emulator/<action>``; ``state_header`` heads the state dump."""
    allowed = _METHODS.get(action)
    if allowed is None:
        return _error(
            404, "ResourceNotFound", f"{method} {PREFIX}{action} is not a control operation"
        )
    if method not in allowed:
        reply = _error(405, "MethodNotAllowedError", f"{method} is not allowed")
        return ControlReply(reply.status, reply.body, {"Allow": ", ".join(allowed)})
    if action == "state":
        return ControlReply(200, {**state_header, "tables": dump_state(db)})
    if action == "reset":
        reset_state(db, faults)
        return ControlReply(204)
    if action == "clock":
        return _clock_reply(clock) if method == "GET" else _advance(db, clock, body)
    if method == "GET":
        return ControlReply(200, faults.pending())
    if method == "POST":
        return _set_faults(faults, body)
    faults.clear()
    return ControlReply(204)
