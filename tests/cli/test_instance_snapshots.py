"""``smartdc instance snapshot`` beside ``triton``'s, on one emulator."""

from __future__ import annotations

import json
import re

import pytest

from smartdc.api import CloudAPI
from tests.cli.harness import CliWorld, Result

_DURATION = re.compile(r" in [0-9][0-9a-z]*$", re.MULTILINE)


def _timeless(text: str) -> str:
    return _DURATION.sub(" in <duration>", text)


@pytest.fixture(scope="module")
def machine(world: CliWorld) -> str:
    """The id of instance ``snappy`` (a joyent zone, so it can have snapshots)."""
    api = CloudAPI(world.url, "test", key_file=world.key.path)
    image = api.list_images(name="base-64-lts")[-1]
    return str(
        api.create_machine(name="snappy", image=image["id"], package="g4-highcpu-128M")["id"]
    )


def _first_error(result: Result) -> str:
    lines = result.err.splitlines()
    return lines[0].replace("smartdc ", "triton ") if lines else ""


def test_create_prints_what_triton_prints(world: CliWorld, machine: str) -> None:
    ours = world.run("instance", "snapshot", "create", "-n", "one", "snappy")
    theirs = world.triton("instance", "snapshot", "create", "-n", "two", "snappy")
    assert ours.status == theirs.status == 0
    assert ours.out == "Creating snapshot one of instance snappy\n"
    assert theirs.out == ours.out.replace("one", "two")

    waited = world.run("instance", "snapshot", "create", "--name", "three", "-w", machine)
    theirs = world.triton("instance", "snapshot", "create", "--name", "four", "-w", machine)
    assert _timeless(waited.out) == _timeless(theirs.out).replace("four", "three")
    assert _timeless(waited.out) == (
        f'Creating snapshot three of instance {machine}\nCreated snapshot "three" in <duration>\n'
    )

    as_json = world.ok("instance", "snapshot", "create", "-n", "five", "-w", "-j", "snappy")
    creating, created = as_json.out.splitlines()
    assert creating == "Creating snapshot five of instance snappy"
    assert json.loads(created)["name"] == "five"
    assert json.loads(created)["state"] == "created"

    unnamed = world.ok("instance", "snapshot", "create", "snappy")
    assert re.fullmatch(r"Creating snapshot [0-9]{8}T[0-9]{6}Z of instance snappy\n", unnamed.out)


def test_list_and_get_match_triton(world: CliWorld, machine: str) -> None:
    world.ok("instance", "snapshot", "create", "-n", "listed", "-w", "snappy")
    for args in (
        ["instance", "snapshot", "list", "snappy"],
        ["instance", "snapshots", machine, "-j"],
        ["instance", "snapshot", "ls", "snappy", "-H", "-o", "state,name", "-s", "-name"],
        ["instance", "snapshot", "get", "snappy", "listed"],
    ):
        ours, theirs = world.run(*args), world.triton(*args)
        assert (ours.status, ours.out) == (theirs.status, theirs.out), args
    names = [s["name"] for s in world.ok("instance", "snapshot", "ls", "snappy", "-j").ndjson()]
    assert "listed" in names
    assert world.ok("inst", "snapshot", "get", "snappy", "listed", "-j").json()["name"] == "listed"


def test_delete_waits_and_reports_like_triton(world: CliWorld, machine: str) -> None:
    for name in ("d1", "d2", "d3"):
        world.ok("instance", "snapshot", "create", "-n", name, "-w", "snappy")
    ours = world.run("instance", "snapshot", "delete", "-f", "-w", "snappy", "d1", "d2")
    theirs = world.triton("instance", "snapshot", "delete", "-f", "-w", "snappy", "d3")
    assert ours.status == theirs.status == 0
    assert _timeless(ours.out) == (
        f'Deleting snapshot "d1" of instance "{machine}"\n'
        f'Deleting snapshot "d2" of instance "{machine}"\n'
        'Deleted snapshot "d1" in <duration>\n'
        'Deleted snapshot "d2" in <duration>\n'
    )
    assert _timeless(theirs.out) == (
        f'Deleting snapshot "d3" of instance "{machine}"\nDeleted snapshot "d3" in <duration>\n'
    )
    left = [s["name"] for s in world.ok("instance", "snapshot", "list", "snappy", "-j").ndjson()]
    assert not {"d1", "d2", "d3"} & set(left)


def test_failures_like_triton(world: CliWorld, machine: str) -> None:
    world.ok("instance", "snapshot", "create", "-n", "kept", "-w", "snappy")
    for args, status in (
        (["get", "snappy", "nope"], 1),  # CloudAPI's 404, passed through
        (["delete", "-f", "snappy", "nope"], 1),  # "first of 1 error: ..."
        (["list", "nosuch"], 3),
        (["create"], 1),
        (["create", "a", "b"], 1),
    ):
        ours = world.run("instance", "snapshot", *args)
        theirs = world.triton("instance", "snapshot", *args)
        assert ours.status == theirs.status == status, args
        assert _first_error(ours) == _first_error(theirs), args

    # one missing name does not stop the others
    partly = world.run("instance", "snapshot", "delete", "-f", "snappy", "nope", "kept")
    assert partly.status == 1
    assert partly.out == f'Deleting snapshot "kept" of instance "{machine}"\n'
    assert partly.err.endswith("error: first of 1 error: nope not found\n")

    # without -f the delete asks, and without a terminal it cannot
    world.ok("instance", "snapshot", "create", "-n", "asked", "-w", "snappy")
    refused = world.run("instance", "snapshot", "delete", "snappy", "asked")
    assert refused.status == 1 and "-f" in refused.err
    assert world.ok("instance", "snapshot", "get", "snappy", "asked").json()["name"] == "asked"
    for args, message in (
        (["get", "snappy"], "missing INST and/or SNAPNAME arguments"),
        (["delete", "snappy"], "missing INST and SNAPNAME argument(s)"),
        (["list"], "missing INST argument"),
    ):
        result = world.run("instance", "snapshot", *args)
        assert result.status == 1
        assert result.err.splitlines()[0].endswith(f"error (Usage): {message}"), args
