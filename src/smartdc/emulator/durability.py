"""Group commit: no answer leaves before the state it shows is on disk.

A database on disk commits without syncing (SQLite's WAL mode with ``synchronous=NORMAL``),
so a write runs on the event loop like any request and never holds the loop through an
fsync. Before its answer is sent, a request waits until every commit made so far in this
process is synced (:meth:`GroupSync.wait`). One fsync of the write-ahead log, in a worker
thread, covers every commit made before it started, so writes arriving together share it.

What this gives is what ``synchronous=FULL`` gave, each commit synced before COMMIT
returned: a write is answered only once it is on disk, and so is a read showing it. The
difference is that other requests of this process may see a commit while its sync is under
way; none of them is answered until the sync is done.
"""

from __future__ import annotations

import asyncio

from smartdc.emulator.db import Database


class GroupSync:
    """Syncs ``db``'s commits for the requests that need them durable before answering."""

    def __init__(self, db: Database) -> None:
        self.db = db
        #: :attr:`Database.commits` as of the start of the last sync that succeeded.
        self._synced = db.commits
        self._flight: asyncio.Future[None] | None = None

    def pending(self) -> bool:
        """Whether any commit of this process is not known to be synced yet."""
        return self._synced < self.db.commits

    async def wait(self) -> None:
        """Return once every commit made before this call is on disk.

        Raises the sync's ``OSError`` if the disk refuses it: the request then fails
        instead of answering for a write that may be lost.
        """
        target = self.db.commits
        while self._synced < target:
            if self._flight is None or self._flight.done():
                self._flight = asyncio.ensure_future(self._sync())
            # Shielded: a request that goes away must not cancel a sync others wait on.
            await asyncio.shield(self._flight)

    async def _sync(self) -> None:
        covers = self.db.commits
        await asyncio.get_running_loop().run_in_executor(None, self.db.sync)
        # Set before this task is done, so no waiter sees a finished sync and old figures.
        self._synced = max(self._synced, covers)
