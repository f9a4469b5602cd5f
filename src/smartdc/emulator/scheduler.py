"""The server's scheduler: applies every due job step at its due time, with nobody asking.

Reads do not write: a machine that finishes provisioning changes when its step falls due,
here, and the change reaches the changefeed then. A read that comes before the scheduler got
to a step already due applies it itself (:func:`smartdc.emulator.store.jobs.catch_up`), so a
request still sees the state as of its own clock; with a manual clock, advancing it settles
everything due before the control plane answers.

One asyncio task per server. It settles what is due, asks when the next step is due, and sleeps
until then, or until a committed write (a new job, most often) wakes it, whichever comes first;
it never sleeps longer than :data:`MAX_SLEEP`. Volume jobs
(:mod:`smartdc.emulator.store.volume_jobs`) are applied here too. A database on disk is used
from a worker thread, as by the request handlers that write; one in memory from the event
loop. The clock is the
emulator's (:class:`~smartdc.emulator.context.EmulatorConfig`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import anyio.to_thread

from smartdc.emulator import wakeup
from smartdc.emulator.db import Database
from smartdc.emulator.store import jobs

log = logging.getLogger("smartdc.emulator")

#: The longest the scheduler sleeps without looking, in seconds.
MAX_SLEEP = 1.0


def settle_everything(db: Database, now: float) -> float | None:
    """Apply every due job (image creations are machine jobs too, volume creations and
    deletions volume jobs of the same engine); the next due time in
    seconds (epoch), or ``None`` when nothing is scheduled."""
    due = jobs.catch_up(db, now)  # a write that queued nothing due yet costs one read
    return None if due is None else due / 1000


class Scheduler:
    """Runs due work on time; :meth:`run` until :meth:`stop`."""

    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False

    def _poke(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            wakeup.wake(loop, wake)

    async def run(self) -> None:
        """Settle due work, then sleep until the next due time or a write, until stopped."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._db.add_commit_listener(self._poke)
        try:
            while not self._stopping:
                self._wake.clear()
                try:
                    if self._db.in_memory:  # nothing to wait for: no thread needed
                        due = settle_everything(self._db, self._clock())
                    else:
                        due = await anyio.to_thread.run_sync(
                            settle_everything, self._db, self._clock()
                        )
                except Exception:  # a broken row must not stop the clock for everyone
                    log.exception("the scheduler could not settle due work")
                    due = None
                delay = MAX_SLEEP if due is None else min(MAX_SLEEP, due - self._clock())
                if delay > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=delay)
        finally:
            self._db.remove_commit_listener(self._poke)

    def stop(self) -> None:
        """Ask :meth:`run` to return (from any thread)."""
        self._stopping = True
        self._poke()
