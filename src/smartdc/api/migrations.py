"""Machine migration operations: Migrate, ListMigrations, GetMigration."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from smartdc import errors
from smartdc.api._base import ApiBase, JSONObject, Ref, _id_of, _path, _str_list
from smartdc.api._operation import Call, operation

#: The Migrate actions that answer with the migration object.
MIGRATE_ACTIONS = frozenset({"begin", "sync", "switch", "automatic", "pause", "abort", "finalize"})

#: The actions that may carry ``affinity`` rules.
AFFINITY_ACTIONS = frozenset({"begin", "automatic"})


def _events(body: Any) -> list[JSONObject]:
    """The events of a ``watch`` response (``application/x-json-stream``: one per line)."""
    if body is None:
        return []
    if isinstance(body, dict):
        return [body]
    if not isinstance(body, str):
        raise errors.SmartDCError(f"migration watch answered with unexpected body {body!r}")
    events: list[JSONObject] = []
    for line in body.splitlines():
        if line.strip():
            try:
                events.append(json.loads(line))
            except ValueError:
                raise errors.SmartDCError(
                    f"migration watch sent a line that is not JSON: {line!r}"
                ) from None
    return events


class MigrationsMixin(ApiBase):
    """Moving a machine to another server in the same datacenter."""

    @operation
    def migrate(
        self, id: Ref, action: str, *, affinity: str | Sequence[str] | None = None
    ) -> Call[JSONObject | None]:
        """Migrate: ``POST /:login/machines/:id/migrate`` with ``action``.

        ``action`` is ``begin``, ``sync``, ``switch``, ``automatic`` (all phases in turn),
        ``pause``, ``abort`` or ``finalize``; ``affinity`` rules (``"instance!=db*"``) are
        allowed with ``begin`` and ``automatic``. Returns the migration object, or ``None``
        for ``finalize`` (which has no body). For progress use :meth:`watch_migration`.
        """
        if action == "watch":
            raise ValueError("use watch_migration() to follow a migration's progress")
        if action not in MIGRATE_ACTIONS:
            raise ValueError(
                f"{action!r} is not a migration action; expected one of: "
                + ", ".join(sorted(MIGRATE_ACTIONS))
            )
        body: JSONObject = {"action": action}
        if affinity is not None:
            if action not in AFFINITY_ACTIONS:
                raise ValueError(f"affinity is only allowed with begin or automatic, not {action}")
            body["affinity"] = _str_list(affinity)
        return Call("POST", self._migrate_path(id), json=body)

    @operation
    def watch_migration(self, id: Ref) -> Call[list[JSONObject]]:
        """Migrate with ``action=watch``: ``POST /:login/machines/:id/migrate``.

        Waits for the running migration phase to end (subject to the client's read timeout)
        and returns its events: ``{"type": "progress", ...}`` entries, then
        ``{"type": "end", "phase", "state"}``.
        """
        return Call("POST", self._migrate_path(id), json={"action": "watch"}).then(_events)

    @operation
    def list_migrations(self) -> Call[list[JSONObject]]:
        """ListMigrations: ``GET /:login/migrations``. Finalized migrations are not listed."""
        return self._objects("GET", "migrations")

    @operation
    def get_migration(self, id: Ref) -> Call[JSONObject]:
        """GetMigration: ``GET /:login/migrations/:id``; ``id`` is the machine's id."""
        return self._object("GET", _path("migrations", _id_of(id, "id", "machine")))

    def _migrate_path(self, machine: Ref) -> str:
        return _path("machines", _id_of(machine, "id"), "migrate")
