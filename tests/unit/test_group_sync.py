"""Group commit: answers wait for the sync of the commits before them, and share it."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import cast

import pytest

from smartdc.emulator.db import Database
from smartdc.emulator.durability import GroupSync


class FakeDisk:
    """A database stand-in: counts commits and syncs; a sync takes a little while."""

    def __init__(self, fail: int = 0) -> None:
        self.commits = 0
        self.synced_up_to: list[int] = []
        self.fail = fail
        self._lock = threading.Lock()

    def sync(self) -> None:
        seen = self.commits
        time.sleep(0.005)
        with self._lock:
            if self.fail:
                self.fail -= 1
                raise OSError(5, "Input/output error")
            self.synced_up_to.append(seen)


def group(disk: FakeDisk) -> GroupSync:
    return GroupSync(cast(Database, disk))


def test_wait_returns_after_a_sync_that_covers_the_commit() -> None:
    disk = FakeDisk()
    syncer = group(disk)
    assert not syncer.pending()
    disk.commits += 1
    assert syncer.pending()
    asyncio.run(syncer.wait())
    assert disk.synced_up_to and disk.synced_up_to[-1] >= 1
    assert not syncer.pending()


def test_nothing_to_sync_means_no_sync() -> None:
    disk = FakeDisk()
    asyncio.run(group(disk).wait())
    assert disk.synced_up_to == []


def test_concurrent_writers_share_syncs() -> None:
    disk = FakeDisk()
    syncer = group(disk)

    async def writer() -> None:
        for _ in range(10):
            disk.commits += 1
            await syncer.wait()
            assert disk.synced_up_to[-1] >= 1

    async def main() -> None:
        await asyncio.gather(*(writer() for _ in range(20)))

    asyncio.run(main())
    assert disk.commits == 200
    assert not syncer.pending()
    assert len(disk.synced_up_to) < 100  # one sync serves the commits made before it


def test_a_failed_sync_fails_its_waiters_and_the_next_wait_tries_again() -> None:
    disk = FakeDisk(fail=1)
    syncer = group(disk)
    disk.commits += 1
    with pytest.raises(OSError):
        asyncio.run(syncer.wait())
    assert syncer.pending()
    asyncio.run(syncer.wait())
    assert not syncer.pending()


def test_a_waiter_that_goes_away_does_not_cancel_the_sync_of_the_others() -> None:
    disk = FakeDisk()
    syncer = group(disk)

    async def main() -> None:
        disk.commits += 1
        leaving = asyncio.ensure_future(syncer.wait())
        staying = asyncio.ensure_future(syncer.wait())
        await asyncio.sleep(0.001)
        leaving.cancel()
        await staying
        assert leaving.cancelled()

    asyncio.run(main())
    assert not syncer.pending()


def test_database_sync_on_disk_and_in_memory(tmp_path: Path) -> None:
    on_disk = Database(tmp_path / "db.sqlite")
    try:
        on_disk.execute("CREATE TABLE t (x INTEGER)")
        before = on_disk.commits
        on_disk.execute("INSERT INTO t VALUES (1)")
        on_disk.execute("UPDATE t SET x = 2 WHERE x = 3")  # changed nothing: no commit
        assert on_disk.commits == before + 1
        on_disk.sync()
    finally:
        on_disk.close()
    in_memory = Database(None)
    in_memory.sync()  # nothing to do
    in_memory.close()
