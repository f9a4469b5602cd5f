"""Keep the garbage collector's full passes short in a process that only serves.

CPython's cyclic collector now and then walks every tracked object the process holds (a
full, "generation 2", pass). In a serving emulator that is tens of thousands of objects
made at start-up (modules, routes, schemas, the apps) which live until the process ends,
and every request in flight waits for the walk: measured under 50 clients, a full pass
took 15-38 ms, three to five times in 15 seconds, which is where the slowest hundredth of
requests came from. :func:`gc.freeze` moves the objects alive now out of the collector's
reach, so later passes walk only what was made since.

Only a process that exists to serve should do this (``smartdc-emulator`` and its forked
workers): an emulator started inside someone's program or test run leaves that program's
collector alone, since freezing would keep whatever cyclic garbage it holds forever.
"""

from __future__ import annotations

import gc


def freeze_heap() -> int:
    """Collect once, then move every object still alive out of the cyclic collector's
    later passes; returns how many objects the collector now leaves alone."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
