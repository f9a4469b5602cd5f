"""More everyday ``triton`` commands against the emulator: short ids, list filters, tags and
metadata given at create and then deleted, snapshot deletion, rollback, ``instance wait``.

One instance goes through these tests in order and is deleted by the last one.
"""

from __future__ import annotations

from typing import Any

import pytest

from smartdc.emulator.server import EmulatorServer
from tests.conftest import TestKey
from tests.interop.node_peers import Triton, require_triton

pytestmark = pytest.mark.interop

NAME = "more1"


@pytest.fixture(scope="module")
def triton(
    emulator: EmulatorServer, keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> Triton:
    require_triton()
    return Triton(tmp_path_factory.mktemp("triton-more-home"), emulator.url, keys["ed25519"])


@pytest.fixture(scope="module")
def instance(triton: Triton) -> dict[str, Any]:
    """An instance made with tags (of three JSON types) and metadata on the command line."""
    images = [i for i in triton.ndjson("image", "list") if i["type"] == "zone-dataset"]
    image = images[-1]
    created: dict[str, Any] = triton.json(
        "instance",
        "create",
        "-w",
        "-n",
        NAME,
        "-t",
        "role=db",
        "-t",
        "count=3",
        "-t",
        "flag=true",
        "-m",
        "foo=bar",
        "-m",
        "user-script=echo hi",
        f"{image['name']}@{image['version']}",
        "Small 1GB",
    )
    assert created["state"] == "running"
    return created


def test_create_sets_typed_tags_and_metadata(triton: Triton, instance: dict[str, Any]) -> None:
    assert triton.json("instance", "tag", "list", NAME) == {
        "role": "db",
        "count": 3,
        "flag": True,
    }
    metadata = triton.json("instance", "metadata", "list", NAME)
    assert metadata["foo"] == "bar"
    assert metadata["user-script"] == "echo hi"


def test_get_by_short_id_and_list_by_state(triton: Triton, instance: dict[str, Any]) -> None:
    short = instance["id"].split("-")[0]
    assert triton.json("instance", "get", short)["id"] == instance["id"]
    long_listing = triton.run("instance", "list", "-l").stdout
    assert instance["id"] in long_listing
    running = [i["id"] for i in triton.ndjson("instance", "list", "state=running")]
    assert instance["id"] in running
    stopped = [i["id"] for i in triton.ndjson("instance", "list", "state=stopped")]
    assert instance["id"] not in stopped


def test_tag_delete_one_then_all(triton: Triton, instance: dict[str, Any]) -> None:
    triton.run("instance", "tag", "delete", "-w", NAME, "role")
    assert triton.json("instance", "tag", "list", NAME) == {"count": 3, "flag": True}
    missing = triton.run("instance", "tag", "delete", NAME, "role", check=False)
    assert missing.returncode != 0
    assert 'tag "role" not found' in missing.stderr
    triton.run("instance", "tag", "delete", "-w", "-a", NAME)
    assert triton.json("instance", "tag", "list", NAME) == {}


def test_metadata_delete_one_then_all(triton: Triton, instance: dict[str, Any]) -> None:
    triton.run("instance", "metadata", "delete", "-f", "-w", NAME, "foo")
    assert "foo" not in triton.json("instance", "metadata", "list", NAME)
    kept = triton.run(
        "instance", "metadata", "delete", "-f", NAME, "root_authorized_keys", check=False
    )
    assert "Metadata key root_authorized_keys can not be deleted" in kept.stderr
    triton.run("instance", "metadata", "delete", "-f", "-w", "-a", NAME)
    assert list(triton.json("instance", "metadata", "list", NAME)) == ["root_authorized_keys"]


def test_snapshot_delete_and_rollback(triton: Triton, instance: dict[str, Any]) -> None:
    triton.run("instance", "snapshot", "create", "-w", "-n", "gone", NAME)
    triton.run("instance", "snapshot", "create", "-w", "-n", "keep", NAME)
    triton.run("instance", "snapshot", "delete", "-f", "-w", NAME, "gone")
    names = [s["name"] for s in triton.ndjson("instance", "snapshot", "list", NAME)]
    assert names == ["keep"]
    triton.run("instance", "stop", "-w", NAME)
    triton.run("instance", "start", "-w", "--snapshot", "keep", NAME)
    assert triton.json("instance", "get", NAME)["state"] == "running"
    actions = [entry["action"] for entry in triton.ndjson("instance", "audit", NAME)]
    assert "rollback_snapshot" in actions and "delete_snapshot" in actions
    unknown = triton.run("instance", "start", "--snapshot", "nosuch", NAME, check=False)
    assert "Snapshot does not exist" in unknown.stderr


def test_instance_wait_and_delete(triton: Triton, instance: dict[str, Any]) -> None:
    out = triton.run("instance", "wait", NAME).stdout
    assert "already running" in out
    triton.run("instance", "stop", NAME)
    out = triton.run("instance", "wait", "-s", "stopped", NAME).stdout
    assert "stopped" in out
    triton.run("instance", "delete", "-w", "-f", NAME)
    assert triton.run("instance", "get", instance["id"], check=False).returncode != 0
