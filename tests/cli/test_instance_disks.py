"""``smartdc instance disk`` beside ``triton``'s, on one emulator (a bhyve instance with a
flexible disk package)."""

from __future__ import annotations

import re

import pytest

from smartdc.api import CloudAPI
from smartdc.errors import MachineGoneError
from smartdc.wait import wait_for
from tests.cli.harness import CliWorld, Result

_DURATION = re.compile(r" in [0-9][0-9a-z]*$", re.MULTILINE)


@pytest.fixture(scope="module")
def api(world: CliWorld) -> CloudAPI:
    return CloudAPI(world.url, "test", key_file=world.key.path)


@pytest.fixture(scope="module")
def machine(api: CloudAPI) -> str:
    """The id of ``disky``, stopped (disks change only then), with a boot disk and one
    more taking the rest of the package's space."""
    image = api.list_images(name="debian-11")[-1]
    created = api.create_machine(
        name="disky", image=image["id"], package="b1-flex-1G", brand="bhyve"
    )
    uuid = str(created["id"])
    wait_for(lambda: api.get_machine(uuid), lambda m: m["state"] == "running", timeout=30)
    api.stop_machine(uuid)
    wait_for(lambda: api.get_machine(uuid), lambda m: m["state"] == "stopped", timeout=30)
    return uuid


def _ids(world: CliWorld) -> list[str]:
    return [d["id"] for d in world.ok("instance", "disk", "list", "disky", "-j").ndjson()]


def _first_error(result: Result) -> str:
    lines = result.err.splitlines()
    return lines[0].replace("smartdc ", "triton ") if lines else ""


def test_list_and_get_match_triton(world: CliWorld, machine: str) -> None:
    boot = _ids(world)[0]
    for args in (
        ["instance", "disk", "list", "disky"],
        ["instance", "disks", machine, "-l"],
        ["instance", "disk", "ls", "disky", "-j"],
        ["instance", "disk", "get", "disky", boot[:8]],
    ):
        ours, theirs = world.run(*args), world.triton(*args)
        assert (ours.status, ours.out) == (theirs.status, theirs.out), args
    disks = world.ok("instance", "disk", "ls", "disky", "-j").ndjson()
    assert all("state" not in d and d["shortid"] == d["id"][:8] for d in disks)
    assert world.ok("instance", "disk", "get", "disky", boot, "-j").json() == {
        k: v for k, v in disks[0].items() if k != "shortid"
    }


def test_delete_add_resize(world: CliWorld, machine: str) -> None:
    boot, rest = _ids(world)
    deleted = world.ok("instance", "disk", "delete", "disky", rest[:8], "-w")
    assert _DURATION.sub("", deleted.out) == (
        f'Deleting disk "{rest[:8]}" from instance disky\nDeleted disk "{rest[:8]}"\n'
    )
    assert _ids(world) == [boot]

    added = world.ok("instance", "disk", "add", "disky", "1024", "-w")
    (new,) = set(_ids(world)) - {boot}
    assert _DURATION.sub("", added.out) == f'Adding disk to instance disky\nAdded disk "{new}"\n'
    theirs = world.triton("instance", "disk", "add", "-w", machine, "512")
    assert theirs.status == 0
    (other,) = set(_ids(world)) - {boot, new}
    assert _DURATION.sub("", theirs.out) == (
        f'Adding disk to instance {machine}\nAdded disk "{other}"\n'
    )
    # triton waits for a disk whose size is "remaining" and times out; here it is found
    rest_added = world.ok("instance", "disk", "add", "disky", "remaining", "-w")
    assert rest_added.out.splitlines()[1].startswith('Added disk "')

    for run in (world.run, world.triton):
        shrink = run("instance", "disk", "resize", "disky", new[:8], "256")
        assert shrink.status == 1
        assert shrink.err.endswith(
            "error: --dangerous-allow-shrink must be specified when shrinking a disk\n"
        )
    resized = world.ok(
        "instance", "disk", "resize", "disky", new[:8], "256", "--dangerous-allow-shrink", "-w"
    )
    assert _DURATION.sub("", resized.out) == f'Resizing disk "{new}"\nResized disk "{new}"\n'
    assert world.ok("instance", "disk", "get", "disky", new).json()["size"] == 256


def test_failures_like_triton(world: CliWorld, machine: str) -> None:
    for args, status in (
        (["get", "disky", "nope"], 3),
        (["delete", "disky", "nope"], 3),
        (["add", "disky", "abc"], 1),
        (["add", "disky", "1.5"], 1),
        (["resize", "disky", "nope", "x"], 1),
        (["resize", "disky", "a", "1", "2"], 1),
        (["add", "nosuch", "10"], 3),
    ):
        ours = world.run("instance", "disk", *args)
        theirs = world.triton("instance", "disk", *args)
        assert ours.status == theirs.status == status, args
        assert _first_error(ours) == _first_error(theirs), args
    for args, message in (
        (["add", "disky", "0"], "SIZE must be a positive number of MiB, not 0"),
        (["add", "disky"], "missing INST and/or SIZE arguments"),
        (["get", "disky"], "missing INST and/or DISKID arguments"),
        (["resize", "disky", "a"], "missing INST, DISK and/or SIZE arguments"),
        (["list"], "missing INST argument"),
    ):
        result = world.run("instance", "disk", *args)
        assert result.status == 1, args
        assert result.err.splitlines()[0].endswith(f"error (Usage): {message}"), args


def test_changing_disks_of_a_deleted_instance_fails_as_in_triton(
    world: CliWorld, api: CloudAPI
) -> None:
    image = api.list_images(name="debian-11")[-1]
    created = api.create_machine(
        name="gone", image=image["id"], package="b1-flex-1G", brand="bhyve"
    )
    uuid = str(created["id"])
    wait_for(lambda: api.get_machine(uuid), lambda m: m["state"] == "running", timeout=30)
    api.delete_machine(uuid)
    wait_for(lambda: _state(api, uuid), lambda state: state == "deleted", timeout=30)
    # CloudAPI answers 410 with the machine: triton passes it through (exit 1, no code),
    # where a deleted instance it looked up itself would be InstanceDeleted (exit 3)
    ours = world.run("instance", "disk", "add", uuid, "100")
    theirs = world.triton("instance", "disk", "add", uuid, "100")
    assert ours.status == theirs.status == 1
    assert ours.err.startswith("smartdc instance disk add: error: ")
    assert theirs.err.startswith("triton instance disk add: error: ")


def _state(api: CloudAPI, uuid: str) -> str:
    try:
        return str(api.get_machine(uuid)["state"])
    except MachineGoneError:
        return "deleted"
