"""Migration routes: Migrate, ListMigrations, GetMigration.

``Migrate`` with ``action=watch`` answers ``application/x-json-stream``: one JSON object per
line, the progress of the running phases, then ``{"type": "end", "phase", "state"}``. The
answer is sent once the running phases have ended (the emulator's clock decides), so a
watcher sees the same outcome a later GetMigration shows.
"""

from __future__ import annotations

import time

from smartdc.emulator.context import (
    Call,
    Reply,
    Route,
    cloudapi_route,
    invalid_argument,
    missing_parameter,
)
from smartdc.emulator.responses import json_bytes
from smartdc.emulator.routes.machine_common import fetch_live, job_context, machine_id, owner
from smartdc.emulator.store import migrations

WATCH_CONTENT_TYPE = "application/x-json-stream"
#: How often a watcher looks at the clock while a phase runs (seconds of real time).
_WATCH_POLL = 0.05
#: Real time a watcher waits beyond a phase's due time before answering anyway (a clock that
#: does not follow real time may never reach it).
_WATCH_GRACE = 2.0


def migrate(call: Call) -> Reply:
    """Migrate: 201 with the migration for begin, sync, switch, automatic, pause and abort;
    200 without a body for finalize; the progress stream for watch."""
    action = call.params.get("action")
    if action in (None, ""):
        raise missing_parameter('"action" must be specified')
    if action == "watch":
        return _watch(call)
    if not isinstance(action, str) or action not in migrations.ACTIONS:
        raise invalid_argument(f"{action} is not a valid migration action")
    machine = fetch_live(call)
    job = job_context(call)
    # ``affinity`` is accepted and, as in CloudAPI, not acted upon.
    body = migrations.migrate(call.db, owner(call), machine["id"], action, job=job)
    if body is None:
        return Reply(200)
    return Reply(201, body)


def _watch(call: Call) -> Reply:
    """Wait for the migration's running phases to end, then send their progress."""
    key, where = owner(call), machine_id(call)
    point = migrations.watch_point(call.db, key, where, call.now)
    now = call.now
    if point.running and point.due is not None:
        give_up = time.monotonic() + max(point.due - now, 0.0) + _WATCH_GRACE
        while point.running and time.monotonic() < give_up:
            wait = _WATCH_POLL if point.due is None else point.due - now
            time.sleep(min(max(wait, 0.001), _WATCH_POLL))
            now = max(call.config.clock(), now)
            point = migrations.watch_point(call.db, key, where, now)
        run: int | None = point.run
    else:
        run = None
    events = migrations.watch_events(call.db, key, where, run, now)
    body = b"".join(json_bytes(event) + b"\n" for event in events)
    return Reply(200, body, content_type=WATCH_CONTENT_TYPE)


def migrate_estimate(call: Call) -> Reply:
    """MigrateMachineEstimate: VMAPI's estimate of a migration of the machine, passed on."""
    machine = fetch_live(call)
    return Reply(200, migrations.estimate(call.db, owner(call), machine["id"], call.now))


def list_migrations(call: Call) -> Reply:
    """ListMigrations: the account's migrations, newest first."""
    return Reply(200, migrations.list_migrations(call.db, owner(call), call.now))


def get_migration(call: Call) -> Reply:
    """GetMigration: the migration of the machine the path names."""
    return Reply(200, migrations.get_migration(call.db, owner(call), machine_id(call), call.now))


ROUTES = [
    # ``action=watch`` waits for the running phase to end.
    cloudapi_route(
        "Migrate", migrate, summary="Migrate a machine to another server", blocking=True
    ),
    # sdc-cloudapi lib/migrations.js serves this route, which CloudAPI's operation list omits
    Route(
        "MigrateMachineEstimate",
        "GET",
        "/{login}/machines/{id}/migrate",
        migrate_estimate,
        summary="Estimate a machine's migration",
    ),
    cloudapi_route("ListMigrations", list_migrations, summary="List migrations"),
    cloudapi_route("GetMigration", get_migration, summary="Get a machine's migration"),
]
