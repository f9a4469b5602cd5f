"""Running a few independent requests at once (``instance list`` fetches machines and images
together, as triton does), each on its own kept-alive connection."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def run_parallel(*calls: Callable[[], Any]) -> list[Any]:
    """Each call's result, in order; the first call's error wins if several fail.

    The first call runs on this thread, the others on worker threads.
    """
    results: list[Any] = [None] * len(calls)
    failures: list[BaseException | None] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            results[index] = calls[index]()
        except BaseException as exc:  # re-raised below, on the caller's thread
            failures[index] = exc

    workers = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(1, len(calls))]
    for worker in workers:
        worker.start()
    run(0)
    for worker in workers:
        worker.join()
    for failure in failures:
        if failure is not None:
            raise failure
    return results
