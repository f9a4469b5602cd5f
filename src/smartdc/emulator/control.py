"""The emulator's control plane: ``/__emulator/...``, for tests and tools.

Not part of CloudAPI (``/openapi.json`` leaves it out), and unauthenticated unless the
emulator was started with a control token (the server's front door then wants it in
``X-Emulator-Token``). Every datacenter's port serves it, and every datacenter shares what
it controls: the database and the :class:`~smartdc.emulator.faults.FaultPlan`.

=======  ===========================  ====================================================
method   path                         effect
=======  ===========================  ====================================================
GET      /__emulator/state            200: this datacenter's name, the region's URLs, and
                                      every table's rows
POST     /__emulator/reset            204: forget everything made through the API, put
                                      back the accounts and keys registered at start
                                      (even those deleted through the API), cancel
                                      pending faults and rules, refill the rate limit
GET      /__emulator/faults           200: pending faults,
                                      ``{"fail_provision": n, "throttle": n,
                                      "unavailable": n, "retry_after": seconds}``
POST     /__emulator/faults           200 with the pending faults after setting those the
                                      JSON object body names (the others stay; 0 cancels
                                      one); 400 for an unknown name or a value that is not
                                      a whole number
DELETE   /__emulator/faults           204: cancel every pending fault and rule
GET      /__emulator/faults/rules     200: every rule, with ``matched`` and ``fired``
POST     /__emulator/faults/rules     201: the rule the body describes, with its ``id``;
                                      400 naming what is wrong with it
DELETE   /__emulator/faults/rules     204: remove every rule
GET      /__emulator/faults/rules/ID  200: that rule; 404 if there is none
DELETE   /__emulator/faults/rules/ID  204: remove it; 404 if there is none
GET      /__emulator/rate-limit       200: ``{"enabled": bool, "burst": n, "rate": r}``
POST     /__emulator/rate-limit       200 as GET after applying the body's ``enabled``,
                                      ``burst`` and ``rate`` (those left out stay); every
                                      bucket starts full again
GET      /__emulator/clock            200: ``{"mode": "real"|"manual", "now": <epoch
                                      seconds>}``
POST     /__emulator/clock            200 as GET after moving a manual clock forward by
                                      the body's ``{"advance": <seconds>}`` and running
                                      everything that became due; 409 on the real clock,
                                      400 for a bad body
=======  ===========================  ====================================================

A known path asked with another method answers 405 with ``Allow``; an unknown one 404.

What each fault and rule does is described in :mod:`smartdc.emulator.faults`.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from smartdc.emulator import clock as clocks
from smartdc.emulator.db import Database, loads, register_schema
from smartdc.emulator.faults import FaultPlan, FaultSpecError, RateLimit
from smartdc.emulator.router import known_operations
from smartdc.emulator.scheduler import settle_everything
from smartdc.emulator.store import accounts, ids

PREFIX = "/__emulator/"
#: What was registered at start, so that a reset can put it back: one row per key, or one
#: without a key for an account that has none, in command-line order.
REGISTRY_TABLE = "emulator_registry"
#: Tables a reset keeps (their unregistered rows are dropped separately).
ACCOUNT_TABLES = ("accounts", "account_keys", REGISTRY_TABLE, "id_source")

register_schema(
    f"""
    CREATE TABLE IF NOT EXISTS {REGISTRY_TABLE} (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        login TEXT NOT NULL,
        name TEXT,
        openssh TEXT
    );
    """
)


@dataclass(frozen=True)
class ControlReply:
    """A control-plane answer: status and JSON body (``None``: no body)."""

    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


#: An account's keys as registered: ``(OpenSSH line, key name)`` each.
RegisteredKeys = Sequence[tuple[str, str]]


def register(db: Database, login: str, keys: RegisteredKeys, *, afresh: bool = False) -> None:
    """Create (or keep) account ``login`` with these keys registered; keys added through the
    API stay. ``afresh`` adds the registered keys again, so that they come back in their
    first order. Raises the store's errors for a refused login or key."""
    account = accounts.register_account(db, login)
    account_id = str(account["id"])
    if afresh:
        wanted = {accounts.key_fingerprint(line)[1] for line, _ in keys}
        for key in accounts.list_keys(db, account_id):
            if key["fingerprint"] in wanted:
                accounts.delete_key(db, account_id, key["fingerprint"])
    for line, name in keys:
        accounts.register_key(db, account_id, line, name)


def record_registry(db: Database, registry: Mapping[str, RegisteredKeys]) -> None:
    """Remember ``registry`` (login -> keys) as what a reset restores, replacing what an
    earlier start recorded."""
    with db.transaction() as conn:
        conn.execute(f"DELETE FROM {REGISTRY_TABLE}")
        for login, keys in registry.items():
            rows: list[tuple[str, str | None, str | None]] = [
                (login, name, line) for line, name in keys
            ] or [(login, None, None)]
            conn.executemany(
                f"INSERT INTO {REGISTRY_TABLE} (login, name, openssh) VALUES (?, ?, ?)", rows
            )


def recorded_registry(db: Database) -> dict[str, list[tuple[str, str]]]:
    """What :func:`record_registry` remembered, in its order."""
    registry: dict[str, list[tuple[str, str]]] = {}
    for row in db.query(f"SELECT login, name, openssh FROM {REGISTRY_TABLE} ORDER BY seq"):
        keys = registry.setdefault(str(row["login"]), [])
        if row["openssh"] is not None:
            keys.append((str(row["openssh"]), str(row["name"])))
    return registry


def reset_state(db: Database, faults: FaultPlan | None = None) -> None:
    """Forget everything made through the API and put back the accounts and keys registered
    at start. Pending ``faults`` and rules are cancelled, and the rate limit refilled."""
    accounts.forget_unregistered(db)
    db.clear(keep=ACCOUNT_TABLES)
    ids.restart(db)
    for login, keys in recorded_registry(db).items():
        register(db, login, keys, afresh=True)
    if faults is not None:
        faults.clear()
        faults.rate_limiter.refill()


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


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        spec = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        return None
    return spec if isinstance(spec, dict) else None


def _set_faults(faults: FaultPlan, body: bytes) -> ControlReply:
    spec = _json_object(body)
    if spec is None:
        return _error(400, "InvalidContent", "the body must be a JSON object of fault counts")
    try:
        return ControlReply(200, faults.set(**spec))
    except FaultSpecError as exc:
        return _error(400, "InvalidArgument", str(exc))


def _rules(faults: FaultPlan, method: str, body: bytes) -> ControlReply:
    if method == "GET":
        return ControlReply(200, faults.rules())
    if method == "DELETE":
        faults.clear_rules()
        return ControlReply(204)
    spec = _json_object(body)
    if spec is None:
        return _error(400, "InvalidContent", "the body must be a JSON object describing a rule")
    try:
        return ControlReply(201, faults.add_rule(spec, known_operations()))
    except FaultSpecError as exc:
        return _error(400, "InvalidArgument", str(exc))


def _one_rule(faults: FaultPlan, method: str, rule_id: str) -> ControlReply:
    found = faults.rule(rule_id)
    if found is None:
        return _error(404, "ResourceNotFound", f"no fault rule {rule_id}")
    if method == "GET":
        return ControlReply(200, found)
    faults.remove_rule(rule_id)
    return ControlReply(204)


def _rate_limit_reply(faults: FaultPlan) -> ControlReply:
    limit = faults.rate_limiter.limit
    shown = limit or RateLimit()
    return ControlReply(
        200, {"enabled": limit is not None, "burst": shown.burst, "rate": shown.rate}
    )


def _set_rate_limit(faults: FaultPlan, body: bytes) -> ControlReply:
    spec = _json_object(body)
    if spec is None:
        return _error(400, "InvalidContent", "the body must be a JSON object")
    unknown = sorted(set(spec) - {"enabled", "burst", "rate"})
    if unknown:
        return _error(
            400, "InvalidArgument", f"unknown setting {unknown[0]!r}: expected enabled, burst, rate"
        )
    current = faults.rate_limiter.limit
    enabled = spec.get("enabled", current is not None)
    if not isinstance(enabled, bool):
        return _error(400, "InvalidArgument", f"enabled must be true or false, not {enabled!r}")
    base = current or RateLimit()
    try:
        limit = RateLimit(spec.get("burst", base.burst), spec.get("rate", base.rate))
    except FaultSpecError as exc:
        return _error(400, "InvalidArgument", str(exc))
    faults.rate_limiter.configure(limit if enabled else None)
    return _rate_limit_reply(faults)


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
    "faults/rules": ("GET", "POST", "DELETE"),
    "faults/rules/*": ("GET", "DELETE"),
    "rate-limit": ("GET", "POST"),
    "clock": ("GET", "POST"),
}
RULE_PREFIX = "faults/rules/"


def control(
    method: str,
    action: str,
    body: bytes,
    *,
    db: Database,
    faults: FaultPlan,
    state_header: dict[str, Any],
    clock: Callable[[], float] = time.time,
    workers: int = 1,
) -> ControlReply:
    """Answer ``method /__emulator/<action>``; ``state_header`` heads the state dump.

    With several ``workers`` the faults, rules and the rate limit are refused (409): each
    process would keep its own, and a request reaches whichever process accepts it.
    """
    rule_id = action[len(RULE_PREFIX) :] if action.startswith(RULE_PREFIX) else None
    allowed = _METHODS.get("faults/rules/*" if rule_id and "/" not in rule_id else action)
    if allowed is None:
        return _error(
            404, "ResourceNotFound", f"{method} {PREFIX}{action} is not a control operation"
        )
    if method not in allowed:
        reply = _error(405, "MethodNotAllowedError", f"{method} is not allowed")
        return ControlReply(reply.status, reply.body, {"Allow": ", ".join(allowed)})
    if workers > 1 and (action.startswith("faults") or action == "rate-limit"):
        return _error(
            409,
            "InvalidState",
            f"{PREFIX}{action} is not available with --workers {workers}: faults and the "
            "rate limit are kept by each worker process; run the emulator with one worker to "
            "inject them",
        )
    if action == "state":
        return ControlReply(200, {**state_header, "tables": dump_state(db)})
    if action == "reset":
        reset_state(db, faults)
        return ControlReply(204)
    if action == "clock":
        return _clock_reply(clock) if method == "GET" else _advance(db, clock, body)
    if rule_id:
        return _one_rule(faults, method, rule_id)
    if action == "faults/rules":
        return _rules(faults, method, body)
    if action == "rate-limit":
        return _rate_limit_reply(faults) if method == "GET" else _set_rate_limit(faults, body)
    if method == "GET":
        return ControlReply(200, faults.pending())
    if method == "POST":
        return _set_faults(faults, body)
    faults.clear()
    return ControlReply(204)
