"""``triton instance migration`` (npm triton@7.17.0) against the emulator.

A private emulator with a provision delay of 0.5 s makes each migration phase last 0.25 s, so
``-w`` really waits on the ``watch`` stream. One instance goes through begin, sync, switch
and finalize; a second one through automatic; a third is begun and aborted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import TestKey
from tests.interop.node_peers import Triton, private_triton

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def triton(keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Triton]:
    with private_triton(keys["rsa"], tmp_path_factory, "migrations", provision_delay=0.5) as triton:
        yield triton


def create(triton: Triton, name: str) -> dict[str, Any]:
    images = [i for i in triton.ndjson("image", "list") if i["type"] == "zone-dataset"]
    image = images[-1]
    created: dict[str, Any] = triton.json(
        "instance", "create", "-w", "-n", name, f"{image['name']}@{image['version']}", "Small 1GB"
    )
    assert created["state"] == "running"
    return created


def migration(triton: Triton, name: str) -> dict[str, Any]:
    found: dict[str, Any] = triton.json("instance", "migration", "get", name)
    return found


def test_begin_sync_switch_finalize(triton: Triton) -> None:
    inst = create(triton, "mig1")
    begun = triton.run("instance", "migration", "begin", "-w", "mig1").stdout
    assert "Done - begin finished" in begun
    assert (migration(triton, "mig1")["phase"], migration(triton, "mig1")["state"]) == (
        "begin",
        "paused",
    )

    refused = triton.run("instance", "migration", "switch", "mig1", check=False)
    assert refused.returncode != 0
    assert 'at least one "migration sync"' in refused.stderr

    synced = triton.ndjson("instance", "migration", "sync", "-w", "mig1")
    assert synced[-1] == {"type": "end", "phase": "sync", "state": "paused"}
    assert [e["phase"] for e in synced if e["type"] == "progress"] == ["sync"]

    assert (
        "Done - switch finished"
        in triton.run("instance", "migration", "switch", "-w", "mig1").stdout
    )
    done = migration(triton, "mig1")
    assert (done["machine"], done["phase"], done["state"]) == (inst["id"], "switch", "successful")
    assert [p["phase"] for p in done["progress_history"]] == ["begin", "sync", "switch"]
    details = triton.run("instance", "migration", "get", "mig1").stdout
    assert "Migration finished successfully" in details
    table = triton.run("instance", "migration", "list").stdout
    assert inst["id"].split("-")[0] in table

    moved = triton.json("instance", "get", "mig1")
    assert moved["compute_node"] != inst["compute_node"]

    finalized = triton.run("instance", "migration", "finalize", "mig1").stdout
    assert "Done - the migration is finalized" in finalized
    listed = triton.ndjson("instance", "migration", "list")
    assert inst["id"] not in [m["machine"] for m in listed]


def test_automatic(triton: Triton) -> None:
    inst = create(triton, "mig2")
    events = triton.ndjson("instance", "migration", "automatic", "-w", "mig2")
    assert [e["phase"] for e in events if e["type"] == "progress"] == ["begin", "sync", "switch"]
    assert events[-1] == {"type": "end", "phase": "switch", "state": "successful"}
    assert migration(triton, "mig2")["automatic"] is True
    assert triton.json("instance", "get", "mig2")["compute_node"] != inst["compute_node"]


def test_abort(triton: Triton) -> None:
    inst = create(triton, "mig3")
    triton.run("instance", "migration", "begin", "-w", "mig3")
    events = triton.ndjson("instance", "migration", "abort", "-w", "mig3")
    assert events[-1] == {"type": "end", "phase": "abort", "state": "successful"}
    gone = triton.run("instance", "migration", "get", "mig3", check=False)
    assert gone.returncode != 0
    assert "migration not found" in gone.stderr
    assert triton.json("instance", "get", "mig3")["compute_node"] == inst["compute_node"]
