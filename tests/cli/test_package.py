"""``smartdc package`` beside ``triton package`` (packages are read-only: the shared emulator)."""

from __future__ import annotations

import pytest

from tests.cli.harness import CliWorld
from tests.cli.side_by_side import same_as_triton


@pytest.mark.parametrize(
    "args",
    [
        ["package", "list"],
        ["pkgs", "-p"],
        ["pkg", "ls", "-l", "-s", "-memory,name"],
        ["pkg", "ls", "-p", "-l", "-H"],
        ["packages", "-o", "name,lwps,vcpus,memory,swap,disk,group,brand", "-s", "disk"],
        ["pkg", "ls", "memory=128"],
        ["pkg", "ls", "name=g4-*", "vcpus=1"],
    ],
)
def test_tables_match_triton(world: CliWorld, args: list[str]) -> None:
    assert same_as_triton(world, *args).status == 0


def test_table_shows_human_sizes_unless_p(world: CliWorld) -> None:
    human = world.ok("pkg", "ls", "name=g4-highcpu-512M", "-H").out.split()
    assert human[1:] == ["g4-highcpu-512M", "512M", "1G", "12.5G", "-"]
    exact = world.ok("pkg", "ls", "name=g4-highcpu-512M", "-H", "-p").out.split()
    assert exact[1:] == ["g4-highcpu-512M", "512", "1024", "12800", "0"]


def test_json_lines_are_the_packages_as_listed(world: CliWorld) -> None:
    ours = world.ok("pkg", "ls", "-j").ndjson()
    assert ours == world.triton("pkg", "ls", "-j").ndjson()
    assert "shortid" not in ours[0] and "memoryHuman" not in ours[0]


def test_get_by_name_short_id_and_uuid(world: CliWorld) -> None:
    pkg = same_as_triton(world, "pkg", "get", "g4-highcpu-128M").json()
    assert world.ok("pkg", "get", pkg["id"][:8], "-j").json() == pkg
    assert same_as_triton(world, "pkg", "get", "-j", pkg["id"]).json() == pkg


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["pkg", "get", "nope"], 3),
        (["pkg", "get", "1de4d2c9-8c63-5cbb-815a-0b1806c3d2c0"], 3),
        (["pkg", "get"], 1),
        (["pkg", "ls", "bogus=1"], 1),
        (["pkg", "ls", "memory"], 1),
        (["pkg", "ls", "--bogus"], 1),
    ],
)
def test_failures_match_triton(world: CliWorld, args: list[str], status: int) -> None:
    assert same_as_triton(world, *args).status == status
