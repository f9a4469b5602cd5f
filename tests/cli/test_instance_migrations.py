"""``smartdc instance migration`` beside ``triton``'s.

An emulator of this module's own, with a provision delay of 0.5 s, makes each migration
phase last 0.25 s, so that ``-w`` really follows a running phase.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from smartdc.api import CloudAPI
from smartdc.cli.commands.instance_migrations import EventPrinter, network_speed
from smartdc.emulator.server import EmulatorServer
from smartdc.wait import wait_for
from tests.cli.harness import CliWorld, Result
from tests.conftest import ACCOUNT, TestKey

_ELAPSED = re.compile(r"finished in [0-9.]+ seconds")
_AGE = re.compile(r"  [0-9]+[smhdwy]  ")


@pytest.fixture(scope="module")
def slow_world(
    keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CliWorld]:
    with EmulatorServer(
        accounts={ACCOUNT: [keys["rsa"].pub_path]},
        data_dir=tmp_path_factory.mktemp("migration-data"),
        provision_delay=0.5,
    ) as server:
        home: Path = tmp_path_factory.mktemp("migration-home")
        yield CliWorld(home, server.url, keys["rsa"])


@pytest.fixture(scope="module")
def machines(slow_world: CliWorld) -> dict[str, str]:
    """Running instances ``mig1`` .. ``mig4``, by name."""
    api = CloudAPI(slow_world.url, "test", key_file=slow_world.key.path)
    image = api.list_images(name="base-64-lts")[-1]
    ids = {
        name: str(api.create_machine(name=name, image=image["id"], package="g4-highcpu-128M")["id"])
        for name in ("mig1", "mig2", "mig3", "mig4")
    }
    for uuid in ids.values():
        wait_for(partial(api.get_machine, uuid), lambda m: m["state"] == "running", timeout=30)
    return ids


def _timeless(text: str) -> str:
    return _AGE.sub("  <age>  ", _ELAPSED.sub("finished in <elapsed> seconds", text))


def _first_error(result: Result) -> str:
    lines = result.err.splitlines()
    return lines[0].replace("smartdc ", "triton ") if lines else ""


class _Out:
    """Collects what an :class:`EventPrinter` prints."""

    def __init__(self) -> None:
        self.text = io.StringIO()

    def out(self, text: str = "") -> None:
        self.text.write(text + "\n")

    def write(self, text: str) -> None:
        self.text.write(text)


def test_events_print_as_triton_watcher_does() -> None:
    sink = _Out()
    options: Any = type("Options", (), {"json": False, "quiet": False})()
    printer = EventPrinter(sink, options, started=0.0)  # type: ignore[arg-type]
    for event in (
        {
            "type": "progress",
            "state": "running",
            "current_progress": 40,
            "total_progress": 100,
            "transfer_bytes_second": 1536,
        },
        {
            "type": "progress",
            "state": "successful",
            "current_progress": 100,
            "total_progress": 100,
            "message": "done syncing",
        },
        {
            "type": "progress",
            "state": "running",
            "current_progress": 50,
            "total_progress": 100,
            "message": "switching",
        },
        {"type": "progress", "state": "running", "current_progress": 1, "total_progress": 4},
    ):
        printer.print(event)
    assert sink.text.getvalue() == (
        "running: 40% 1.5kB/s\n"
        "successful: 100% done syncing\n"
        "running: 150% switching\n"  # phases add up, as in triton
        "running: 25% undefined\n"
    )
    assert [network_speed(n) for n in (0, 1024, 1025, 0.25 * 1024**3, "n/a")] == [
        "0.0B/s",
        "1024.0B/s",
        "1.0kB/s",
        "256.0MB/s",
        "n/a",
    ]


def test_begin_sync_switch_finalize(slow_world: CliWorld, machines: dict[str, str]) -> None:
    world = slow_world
    ours = world.run("instance", "migration", "begin", "-w", "mig1")
    theirs = world.triton("instance", "migration", "begin", "-w", "mig2")
    assert ours.status == theirs.status == 0
    assert (
        _timeless(ours.out)
        == _timeless(theirs.out)
        == (
            "successful: 100% reserving the target instance\n"
            "Done - begin finished in <elapsed> seconds\n"
        )
    )
    for args in (["get", "mig1"], ["get", "mig1", "-j"], ["list", "-o", "shortid,phase,state"]):
        ours, theirs = (
            world.run("instance", "migration", *args),
            world.triton("instance", "migration", *args),
        )
        assert (ours.status, _timeless(ours.out)) == (theirs.status, _timeless(theirs.out)), args
    assert world.ok("instance", "migration", "get", "mig1").out.endswith("Migration paused\n")

    ours = world.run("instance", "migration", "sync", "-w", "-j", "mig1")
    theirs = world.triton("instance", "migration", "sync", "-w", "-j", "mig1")
    assert ours.status == theirs.status == 0
    drop = ("started_timestamp", "finished_timestamp", "duration_ms")

    def strip(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in e.items() if k not in drop} for e in events]

    assert strip(ours.ndjson()) == strip(theirs.ndjson())
    assert ours.ndjson()[-1] == {"type": "end", "phase": "sync", "state": "paused"}

    assert world.ok("instance", "migration", "switch", "-w", "-q", "mig1").out == ""
    done = world.ok("instance", "migration", "get", "mig1", "-j").json()
    assert (done["machine"], done["phase"], done["state"]) == (
        machines["mig1"],
        "switch",
        "successful",
    )
    text = world.ok("instance", "migration", "get", "mig1").out
    assert text.startswith("State:         successful\n")
    assert text.endswith("Migration finished successfully\n")
    listed = world.ok("instance", "migration", "list", "-j").ndjson()
    assert machines["mig1"] in [m["machine"] for m in listed]

    assert world.ok("instance", "migration", "finalize", "mig1").out == (
        "Done - the migration is finalized\n"
    )
    ours = world.run("instance", "migration", "get", "mig1")
    theirs = world.triton("instance", "migration", "get", "mig1")
    assert ours.status == theirs.status == 1
    assert _first_error(ours) == _first_error(theirs)


def test_automatic_and_abort(slow_world: CliWorld, machines: dict[str, str]) -> None:
    world = slow_world
    automatic = world.ok("instance", "migration", "automatic", "-w", "mig3")
    assert _timeless(automatic.out) == (
        "successful: 100% reserving the target instance\n"
        "successful: 200% synchronizing the instance data\n"
        "successful: 300% switching to the target instance\n"
        "Done - switch finished in <elapsed> seconds\n"
    )
    assert world.ok("instance", "migration", "get", "mig3", "-j").json()["automatic"] is True
    ours = world.run("instance", "migration", "automatic", "mig3")
    theirs = world.triton("instance", "migration", "automatic", "mig3")
    assert ours.status == theirs.status == 1
    assert _first_error(ours) == _first_error(theirs)  # a previous migration exists

    world.ok("instance", "migration", "begin", "-w", "-q", "mig4")
    aborted = world.ok("instance", "migration", "abort", "-w", "-j", "mig4").ndjson()
    assert aborted[-1] == {"type": "end", "phase": "abort", "state": "successful"}
    assert world.run("instance", "migration", "get", "mig4").status == 1


def test_failures(slow_world: CliWorld, machines: dict[str, str]) -> None:
    world = slow_world
    for args, status in (
        (["begin", "nosuch"], 3),
        (["begin"], 1),
        (["pause", "mig1", "-q"], 1),  # pause and abort have no -q, as in triton
    ):
        ours = world.run("instance", "migration", *args)
        theirs = world.triton("instance", "migration", *args)
        assert ours.status == theirs.status == status, args
        assert _first_error(ours) == _first_error(theirs), args
    for args, message in (
        (["get", "a", "b"], "incorrect number of arguments"),
        (["list", "a", "b"], "incorrect number of arguments"),
        (["finalize"], "missing <inst> argument"),
    ):
        result = world.run("instance", "migration", *args)
        assert result.status == 1, args
        assert result.err.splitlines()[0].endswith(f"error (Usage): {message}"), args
