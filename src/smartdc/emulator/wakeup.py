"""Waking an asyncio task from code that may or may not run on its event loop."""

from __future__ import annotations

import asyncio


def wake(loop: asyncio.AbstractEventLoop, event: asyncio.Event) -> None:
    """Set ``event``, which belongs to ``loop``, from any thread.

    On the loop's own thread it is set at once; from another thread through
    ``call_soon_threadsafe``, which writes to the loop's wake-up socket, and only when the
    event is not already set (a commit listener fires on every write, and each of those
    writes is a system call).
    """
    if loop.is_closed():
        return
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        event.set()
    elif not event.is_set():
        loop.call_soon_threadsafe(event.set)
