"""``smartdc instance list`` and ``get`` beside ``triton``'s, on the same emulator."""

from __future__ import annotations

import json
import os
import time

import pytest

from tests.cli.harness import CliWorld, without_volatile


@pytest.fixture(scope="module")
def two_instances(world: CliWorld) -> list[str]:
    ids = []
    for name in ("web1", "db1"):
        result = world.ok(
            "instance", "create", "-w", "-j", "-n", name, "base-64-lts", "g4-highcpu-128M"
        )
        ids.append(result.ndjson()[-1]["id"])
    return ids


def _without_age(table: str) -> list[str]:
    """The table minus its last (AGE) column, which depends on the second it is printed."""
    return [line.rsplit(None, 1)[0] for line in table.splitlines()]


def test_list_table_matches_triton(world: CliWorld, two_instances: list[str]) -> None:
    ours, theirs = world.run("ls"), world.triton("ls")
    assert ours.status == theirs.status == 0
    assert _without_age(ours.out) == _without_age(theirs.out)
    for args in (
        ["instance", "list", "-H", "-o", "name,state,img"],
        ["insts", "-s", "-name", "-o", "shortid,name"],
        ["ls", "-l", "-o", "id,name,brand,package,state,flags,primaryIp"],
        ["inst", "ls", "-s", "name", "-o", "name,tags.role,memory"],
    ):
        ours, theirs = world.run(*args), world.triton(*args)
        assert (ours.status, ours.out) == (theirs.status, theirs.out), args


def test_list_json_is_one_object_per_line_like_triton(
    world: CliWorld, two_instances: list[str]
) -> None:
    ours = [without_volatile(i, "age") for i in world.ok("ls", "-j").ndjson()]
    theirs = [without_volatile(i, "age") for i in world.triton("ls", "-j").ndjson()]
    assert ours == theirs
    assert len(ours) == 2


def test_get_by_name_and_short_id(world: CliWorld, two_instances: list[str]) -> None:
    web = world.ok("instance", "get", "web1").json()
    assert web["id"] == two_instances[0]
    assert world.ok("inst", "get", web["id"][:8], "-j").json() == web
    ours, theirs = world.run("inst", "get", "web1"), world.triton("inst", "get", "web1")
    assert ours.out == theirs.out


def test_unknown_instance_exits_3_like_triton(world: CliWorld) -> None:
    ours, theirs = world.run("inst", "get", "nope"), world.triton("inst", "get", "nope")
    assert ours.status == theirs.status == 3
    assert ours.err.replace("smartdc", "triton") == theirs.err


def test_bad_filter_and_bad_option_exit_1(world: CliWorld) -> None:
    for args in (["ls", "foo"], ["ls", "bogus=1"], ["ls", "--bogus"]):
        ours, theirs = world.run(*args), world.triton(*args)
        assert ours.status == theirs.status == 1, args
        assert ours.err.splitlines()[0].replace("smartdc", "triton") == theirs.err.splitlines()[0]


def test_the_image_list_is_cached_in_tritons_file_for_five_minutes(
    world: CliWorld, two_instances: list[str]
) -> None:
    world.ok("ls")
    cache = next(world.home.glob(".triton/cache/*/images.json"))
    images = json.loads(cache.read_text())
    # Rename the instances' image in the cache only: whoever shows the new name read it.
    used = world.ok("inst", "get", "web1").json()["image"]
    for image in images:
        if image["id"] == used:
            image["name"] = "from-the-cache"
    cache.write_text(json.dumps(images))
    traced = world.ok("-v", "ls", "-H", "-o", "img")
    assert "GET /test/images" not in traced.err
    assert set(traced.out.split()) == {f"from-the-cache@{image_version(images, used)}"}
    assert world.triton("ls", "-H", "-o", "img").out == traced.out
    stale = time.time() - 301
    os.utime(cache, (stale, stale))
    refetched = world.ok("-v", "ls", "-H", "-o", "img")
    assert "GET /test/images?state=all" in refetched.err
    assert "from-the-cache" not in refetched.out


def image_version(images: list[dict[str, str]], image_id: str) -> str:
    return next(image["version"] for image in images if image["id"] == image_id)
