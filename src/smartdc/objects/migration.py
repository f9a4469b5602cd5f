"""``Migration``: moving one machine to another server of the same datacenter.

A migration runs in phases (``begin``, ``sync``, ``switch``; ``abort`` undoes it); its
``state`` is that of the latest phase run: ``running``, then ``paused`` (after begin or
sync), ``successful`` (after switch), ``failed`` or ``aborted``. Once finalized (or, on
some datacenters, aborted) CloudAPI no longer knows the migration: ``refresh()`` then
records state ``deleted``. Each action returns the migration, so calls chain::

    migration = machine.migrate()            # begin
    migration.wait().sync().wait().switch().wait()
    migration.finalize()

``machine.migrate("automatic")`` runs every phase in turn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Self

from smartdc.errors import ResourceNotFoundError
from smartdc.objects.polling import DEFAULT_INTERVAL, DEFAULT_TIMEOUT, PolledResource

if TYPE_CHECKING:
    from smartdc.api import CloudAPI
    from smartdc.objects.machine import Machine

__all__ = ["Migration"]


class Migration(PolledResource):
    """The migration of :attr:`machine`; its id is the machine's id.

    Made by ``Machine.migrate()``, ``Machine.migration()`` and ``DataCenter.migrations()``.
    Built by hand, ``Migration(machine)`` fetches the machine's migration.
    """

    _known_states = frozenset({"running", "paused", "aborted", "failed", "successful", "deleted"})

    def __init__(self, machine: Machine, data: Mapping[str, Any] | None = None) -> None:
        """Wrap ``data``, or fetch ``machine``'s migration.

        Raises:
            ResourceNotFoundError: the machine has no migration.
        """
        self.machine = machine
        self.id: str = machine.id
        self._data: dict[str, Any] = (
            dict(data) if data is not None else dict(machine.api.get_migration(machine.id))
        )

    @property
    def api(self) -> CloudAPI:
        """The CloudAPI client of the machine's datacenter."""
        return self.machine.api

    @property
    def phase(self) -> str | None:
        """``begin``, ``sync``, ``switch`` or ``abort``: the phase last run."""
        value = self._data.get("phase")
        return value if isinstance(value, str) else None

    @property
    def automatic(self) -> bool:
        """Whether the phases run on their own (``migrate("automatic")``)."""
        return bool(self._data.get("automatic"))

    @property
    def progress_history(self) -> list[dict[str, Any]]:
        """The progress events of the phases run so far."""
        return [dict(e) for e in self._data.get("progress_history") or []]

    @property
    def error(self) -> str | None:
        """Why the migration failed, when it did."""
        value = self._data.get("error")
        return None if value is None else str(value)

    @property
    def _label(self) -> str:
        return f"migration of machine {self.machine.name} ({self.id})"

    def __repr__(self) -> str:
        return f"<Migration of {self.machine.name} ({self.id}) {self.phase} {self.state}>"

    @property
    def _identity(self) -> tuple[Any, ...]:
        return (self.id,)

    def refresh(self) -> Self:
        """Fetch the migration again (``GetMigration``); a 404 records state ``deleted``."""
        try:
            self._data = dict(self.api.get_migration(self.id))
        except ResourceNotFoundError:
            self._merge(state="deleted")
        return self

    def wait(self, interval: float = DEFAULT_INTERVAL, timeout: float = DEFAULT_TIMEOUT) -> Self:
        """Poll while the running phase runs (``poll_while("running")``); return the migration.

        Raises:
            WaitError: the phase failed.
            WaitTimeoutError: ``timeout`` seconds passed.
        """
        return self.poll_while("running", interval=interval, timeout=timeout)

    def _act(self, action: str, affinity: str | Sequence[str] | None = None) -> Self:
        answer = self.api.migrate(self.id, action, affinity=affinity)
        if isinstance(answer, Mapping):
            self._data = dict(answer)
        return self

    def begin(self, affinity: str | Sequence[str] | None = None) -> Self:
        """Reserve the target instance on another server (``affinity``: rules such as
        ``"instance!=db*"``); the migration is ``paused`` afterwards."""
        return self._act("begin", affinity)

    def sync(self) -> Self:
        """Copy the machine's data to the target (may be repeated before the switch)."""
        return self._act("sync")

    def switch(self) -> Self:
        """Move the machine to the target server; the migration is then ``successful``."""
        return self._act("switch")

    def pause(self) -> Self:
        """Stop a running sync."""
        return self._act("pause")

    def abort(self) -> Self:
        """Give up: remove the target instance; the machine stays where it is."""
        return self._act("abort")

    def finalize(self) -> Self:
        """Remove the source instance after a successful switch; CloudAPI then stops listing
        the migration (state ``deleted`` here once GetMigration no longer finds it)."""
        self.api.migrate(self.id, "finalize")
        return self.refresh()

    def watch(self) -> list[dict[str, Any]]:
        """Wait for the running phase to end; return its progress events, the last being
        ``{"type": "end", "phase", "state"}``. Refreshes the migration afterwards."""
        events = [dict(e) for e in self.api.watch_migration(self.id)]
        self.refresh()
        return events
