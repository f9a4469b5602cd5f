"""``smartdc volume`` beside ``triton volume``, on an emulator of this module's own (volumes
are created and deleted)."""

from __future__ import annotations

import re

import pytest

from tests.cli.harness import CliWorld
from tests.cli.side_by_side import same_as_triton

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
NO_AGE = "shortid,name,size,type,state"


@pytest.fixture(scope="module")
def volumes(world: CliWorld) -> dict[str, dict[str, object]]:
    """``small`` (10G, made without waiting) and ``big`` (20G, tagged, made with ``-w``)."""
    small = world.ok("vol", "create", "-n", "small")
    assert re.fullmatch(rf"Creating volume small \({UUID}\)\n", small.out)
    big = world.ok("volume", "create", "-n", "big", "-s", "20G", "--tag", "a=1", "-w")
    match = re.fullmatch(rf"Creating volume big \(({UUID})\)\nCreated volume big \(\1\)\n", big.out)
    assert match
    return {
        "small": world.ok("vol", "get", "small", "-j").json(),
        "big": world.ok("vol", "get", match.group(1), "-j").json(),
    }


@pytest.mark.parametrize(
    "args",
    [
        ["volume", "list", "-o", NO_AGE],
        ["vols", "-l"],
        ["vol", "ls", "name=small", "-o", NO_AGE],
        ["vol", "ls", "state=ready", "type=tritonnfs", "-l", "-s", "-size"],
        ["vol", "ls", "-j"],
        ["vol", "ls", "-H", "-o", "name,size,resource,tags", "-s", "size"],
        ["vol", "get", "small"],
        ["vol", "get", "big", "-j"],
        ["vol", "sizes"],
        ["vol", "sizes", "-j"],
        ["vol", "sizes", "-H", "-s", "-size", "-o", "type"],
    ],
)
def test_output_matches_triton(world: CliWorld, volumes: object, args: list[str]) -> None:
    assert same_as_triton(world, *args).status == 0


def test_list_table_shapes(world: CliWorld, volumes: object) -> None:
    table = world.ok("vol", "ls").out.splitlines()
    assert table[0].split() == ["SHORTID", "NAME", "SIZE", "TYPE", "STATE", "AGE"]
    assert [row.split()[1:3] for row in table[1:]] == [["small", "10G"], ["big", "20G"]]


def test_create_options_reach_the_volume(
    world: CliWorld, volumes: dict[str, dict[str, object]]
) -> None:
    big = volumes["big"]
    assert big["size"] == 20480
    # tag values go as strings: volumes accept nothing else (triton sends 1 and fails)
    assert big["tags"] == {"a": "1"}
    network = world.ok("network", "get", "My-Fabric-Network", "-j").json()
    on_net = world.ok("vol", "create", "-n", "netted", "-N", network["id"][:8], "-j").json()
    assert on_net["networks"] == [network["id"]]
    waited = world.ok("vol", "create", "-n", "waited", "-j", "-w").ndjson()
    assert [v["state"] for v in waited] == ["ready"]
    world.ok("vol", "rm", "-f", "-w", "netted", "waited")


def test_get_by_short_id_and_prefix(world: CliWorld, volumes: dict[str, dict[str, object]]) -> None:
    small_id = str(volumes["small"]["id"])
    for text in (small_id[:8], small_id[:13], small_id.replace("-", "")):
        assert world.ok("vol", "get", text, "-j").json()["id"] == small_id


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["vol", "get", "nope"], 3),
        (["vol", "get"], 1),
        (["vol", "ls", "bogus=1"], 1),
        (["vol", "ls", "name="], 1),
        (["vol", "ls", "foo"], 1),
        (["vol", "ls", "bogus=1", "name="], 1),
        (["vol", "create", "x"], 1),
        (["vol", "create", "-s", "20"], 1),
        (["vol", "create", "-N", "nope", "-n", "x"], 3),
        (["vol", "create", "-t", "other", "-n", "x"], 1),
        (["vol", "create", "-n", "small"], 1),
        (["vol", "rm"], 1),
    ],
)
def test_failures_match_triton(
    world: CliWorld, volumes: object, args: list[str], status: int
) -> None:
    assert same_as_triton(world, *args).status == status


def test_size_not_available(world: CliWorld) -> None:
    result = world.run("vol", "create", "-s", "15G", "-n", "odd")
    assert result.status == 1
    assert result.err == (
        "smartdc volume create: error: volume size not available, use smartdc volume sizes "
        "command for available sizes\n"
    )


def test_delete(world: CliWorld, volumes: object) -> None:
    ids = [world.ok("vol", "create", "-n", f"tmp{n}", "-j").json()["id"] for n in (1, 2)]
    assert world.ok("vol", "rm", "-f", "tmp1", ids[1][:8]).out == (
        f"Deleting volume tmp1\nDeleting volume {ids[1][:8]}\n"
    )
    waited = world.ok("vol", "create", "-n", "tmp3", "-j").json()["id"]
    assert world.ok("vol", "delete", "-y", "-w", waited).out == f"Deleted volume {waited}\n"
    assert world.run("vol", "get", waited).status == 3
    asked = world.run("vol", "rm", "small")
    assert asked.status == 1 and "use -f" in asked.err


def test_delete_unknown(world: CliWorld, volumes: object) -> None:
    result = world.run("vol", "rm", "-f", "nope", "nada")
    assert result.status == 1
    assert result.out == "Deleting volume nope\nDeleting volume nada\n"
    # triton names each failure as node shows an error, then the first of them
    assert result.err.splitlines() == [
        "Error when deleting volume nope: ResourceNotFoundError: no volume with id, name or "
        'short id "nope" was found',
        "Error when deleting volume nada: ResourceNotFoundError: no volume with id, name or "
        'short id "nada" was found',
        "smartdc volume rm: error: first of 2 errors: no volume with id, name or short id "
        '"nope" was found',
    ]
    # one at a time, as the order triton reports several in is the order they fail in
    for args in (
        ["vol", "rm", "-f", "nope"],
        ["vol", "rm", "-f", "00000000-0000-0000-0000-000000000000"],
    ):
        assert same_as_triton(world, *args).status == 1
