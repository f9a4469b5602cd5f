"""``smartdc network`` (and ``network ip``) beside ``triton network``, on an emulator of this
module's own (networks are created and deleted, the default network changes)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from smartdc.cli.commands.network import ipv4_sort_key
from tests.cli.harness import CliWorld, Result
from tests.cli.side_by_side import same_as_triton

FABRIC = "My-Fabric-Network"


@pytest.fixture(scope="module")
def extra_networks(world: CliWorld) -> dict[str, str]:
    """Two fabric networks made with smartdc: one with everything, one without NAT."""
    full = world.ok(
        "network",
        "create",
        "2",
        "-n",
        "full",
        "-s",
        "10.1.0.0/24",
        "-S",
        "10.1.0.10",
        "-E",
        "10.1.0.200",
        "-g",
        "10.1.0.1",
        "-r",
        "8.8.8.8",
        "-r",
        "8.8.4.4",
        "-r",
        "8.8.8.8",
        "-R",
        "10.2.0.0/24=10.1.0.2",
        "-D",
        "all options",
    )
    match = re.fullmatch(r"Created network full \(([0-9a-f-]{36})\)\n", full.out)
    assert match
    bare = world.ok(
        "network",
        "create",
        "2",
        "--name",
        "bare",
        "--subnet",
        "10.3.0.0/24",
        "--start-ip",
        "10.3.0.10",
        "--end-ip",
        "10.3.0.200",
        "--no-nat",
        "-j",
    ).json()
    return {"full": match.group(1), "bare": bare["id"]}


# --- list, get ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["network", "list"],
        ["networks", "-l"],
        ["network", "ls", "public=true"],
        ["network", "ls", "public=0", "-H", "-o", "name,vlan,fabric"],
        ["network", "ls", "-o", "id,name,vlan_id,internet_nat,resolvers,routes", "-s", "-vlan"],
        ["network", "ls", "-j"],
    ],
)
def test_lists_match_triton(
    world: CliWorld, extra_networks: dict[str, str], args: list[str]
) -> None:
    assert same_as_triton(world, *args).status == 0


def test_create_sends_every_option(world: CliWorld, extra_networks: dict[str, str]) -> None:
    full = world.ok("network", "get", "full", "-j").json()
    assert full["resolvers"] == ["8.8.8.8", "8.8.4.4"]
    assert full["routes"] == {"10.2.0.0/24": "10.1.0.2"}
    assert (full["gateway"], full["internet_nat"], full["description"]) == (
        "10.1.0.1",
        True,
        "all options",
    )
    bare = world.ok("network", "get", extra_networks["bare"][:8]).json()
    assert bare["internet_nat"] is False and "gateway" not in bare


def test_create_json_is_the_network_triton_shows(world: CliWorld) -> None:
    def create(run: Callable[..., Result], name: str, net: int) -> dict[str, Any]:
        result = run(
            "network",
            "create",
            "-n",
            name,
            "-s",
            f"10.{net}.0.0/24",
            "-S",
            f"10.{net}.0.10",
            "-E",
            f"10.{net}.0.20",
            "-x",
            "-j",
            "2",
        )
        assert result.status == 0, result.err
        created: dict[str, Any] = result.json()
        return created

    ours, theirs = create(world.run, "ours", 9), create(world.triton, "theirs", 10)
    assert list(ours) == list(theirs)
    assert ours["resolvers"] == theirs["resolvers"] == []
    assert world.ok("network", "get", "ours", "-j").json()["id"] == ours["id"]


def test_get_matches_triton(world: CliWorld, extra_networks: dict[str, str]) -> None:
    for args in (["network", "get", "full"], ["network", "get", "-j", extra_networks["bare"]]):
        same_as_triton(world, *args)
    assert same_as_triton(world, "network", "get", "nope").status == 3
    assert same_as_triton(world, "network", "get").status == 1


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["network", "ls", "bogus=1"], 1),
        (["network", "ls", "public"], 1),
        (["network", "create", "x"], 1),
        (["network", "create"], 1),
        (["network", "create", "2", "3"], 1),
        (["network", "create", "2"], 1),
        (["network", "create", "2", "-s", "10.0.0.0/24"], 1),
        (["network", "create", "2", "-s", "10.0.0.0/24", "-n", "a"], 1),
        (["network", "create", "2", "-s", "10.0.0.0/24", "-n", "a", "-S", "10.0.0.1"], 1),
        (
            ["network", "create", "2", "-s", "1", "-n", "a", "-S", "1", "-E", "2", "-x", "-R", "x"],
            1,
        ),
        (
            [
                "network",
                "create",
                "2",
                "-n",
                "a",
                "-s",
                "10.4.0.0/24",
                "-S",
                "10.4.0.9",
                "-E",
                "10.4.0.20",
            ],
            1,
        ),
        (
            [
                "network",
                "create",
                "99",
                "-n",
                "a",
                "-s",
                "10.4.0.0/24",
                "-S",
                "10.4.0.9",
                "-E",
                "10.4.0.20",
                "-x",
            ],
            1,
        ),
        (
            [
                "network",
                "create",
                "2",
                "-n",
                "a",
                "-s",
                "10.4.0.0/24",
                "-S",
                "10.5.0.9",
                "-E",
                "10.4.0.20",
                "-x",
            ],
            1,
        ),
        (["network", "set-default"], 1),
        (["network", "set-default", "a", "b"], 1),
        (["network", "set-default", "nope"], 3),
        (["network", "get-default", "x"], 1),
        (["network", "rm"], 1),
    ],
)
def test_failures_match_triton(world: CliWorld, args: list[str], status: int) -> None:
    assert same_as_triton(world, *args).status == status


def test_public_filter_needs_a_boolean(world: CliWorld) -> None:
    result = world.run("network", "ls", "public=yes")
    assert result.status == 1
    assert result.err.endswith('error: invalid boolean value for public: "yes"\n')


# --- default network ---------------------------------------------------------------------------


def test_set_and_get_default(world: CliWorld, extra_networks: dict[str, str]) -> None:
    result = world.ok("network", "set-default", "full")
    assert result.out == f"Set network full ({extra_networks['full']}) as default.\n"
    assert same_as_triton(world, "network", "get-default").json()["name"] == "full"
    same_as_triton(world, "network", "get-default", "-j")
    same_as_triton(world, "network", "set-default", FABRIC)
    assert world.ok("network", "get-default", "-j").json()["name"] == FABRIC


# --- delete ------------------------------------------------------------------------------------


def test_delete_fabric_networks(world: CliWorld) -> None:
    ids = []
    for n in (1, 2):
        created = world.ok(
            "network",
            "create",
            "2",
            "-n",
            f"temp{n}",
            "-s",
            f"10.{20 + n}.0.0/24",
            "-S",
            f"10.{20 + n}.0.5",
            "-E",
            f"10.{20 + n}.0.9",
            "-x",
            "-j",
        )
        ids.append(created.json()["id"])
    result = world.ok("network", "rm", "temp1", ids[1][:8])
    assert result.out == f"Deleted network temp1\nDeleted network {ids[1][:8]}\n"
    assert world.run("network", "get", "temp1").status == 3


def test_delete_failures(world: CliWorld) -> None:
    for args in (
        ["network", "delete", "nope"],
        ["network", "rm", "nope", "nada"],
        ["network", "rm", "00000000-0000-0000-0000-000000000000"],
    ):
        assert same_as_triton(world, *args).status == 1
    unknown = world.run("network", "delete", "nope")
    assert unknown.err == (
        "smartdc network delete: error: first of 1 error: no network with name or short id"
        ' "nope" was found\n'
    )
    public = world.run("network", "rm", "Joyent-SDC-Public")
    assert public.status == 1 and "it is not a fabric network" in public.err
    default = world.run("network", "rm", FABRIC)
    assert default.status == 1 and "cannot delete default network" in default.err
    both = world.run("network", "rm", "nope", "Joyent-SDC-Public")
    assert both.status == 1 and both.err.startswith(
        "smartdc network rm: error: first of 2 errors: "
    )


# --- network ip --------------------------------------------------------------------------------


def test_ip_list_and_get_match_triton(world: CliWorld) -> None:
    for args in (
        ["network", "ip", "list", FABRIC],
        ["network", "ip", "ls", FABRIC, "-s", "-ip", "-o", "ip,reserved"],
        ["network", "ip", "ls", FABRIC, "-j"],
        ["network", "ip", "get", FABRIC, "192.168.128.1"],
        ["network", "ip", "get", FABRIC, "192.168.128.20", "-j"],
    ):
        assert same_as_triton(world, *args).status == 0
    for args, status in (
        (["network", "ip", "ls", "nope"], 3),
        (["network", "ip", "ls"], 1),
        (["network", "ip", "get", FABRIC], 1),
        (["network", "ip", "get", FABRIC, "bogus"], 1),
    ):
        assert same_as_triton(world, *args).status == status


def test_ip_get_unknown_ip_names_the_ip(world: CliWorld) -> None:
    result = world.run("network", "ip", "get", FABRIC, "10.0.0.1")
    assert result.status == 3
    assert "IP 10.0.0.1 was not found in network " in result.err
    missing = "8a841985-324f-568d-8ed5-92197805ba17"
    gone = world.run("network", "ip", "get", missing, "10.0.0.1")
    assert gone.status == 3 and f"network with id {missing} was not found" in gone.err


def test_ip_update(world: CliWorld, tmp_path: Path) -> None:
    net = world.ok("network", "get", FABRIC, "-j").json()["id"]
    result = same_as_triton(
        world, "network", "ip", "update", FABRIC, "192.168.128.30", "reserved=true"
    )
    assert result.out == f"Updated network {net} IP 192.168.128.30 (fields: reserved)\n"
    updated = world.ok("network", "ip", "update", FABRIC, "192.168.128.31", "reserved=true", "-j")
    assert updated.json()["reserved"] is True
    changes = tmp_path / "ip.json"
    changes.write_text(json.dumps({"reserved": False}))
    world.ok("network", "ip", "update", FABRIC, "192.168.128.31", "-f", str(changes))
    same_as_triton(
        world,
        "network",
        "ip",
        "update",
        FABRIC,
        "192.168.128.30",
        "-f",
        "-",
        stdin='{"reserved": false}',
    )
    for ip in ("192.168.128.30", "192.168.128.31"):
        assert world.ok("network", "ip", "get", FABRIC, ip, "-j").json()["reserved"] is False


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["192.168.128.30", "reserved=yes"], 1),
        (["192.168.128.30", "foo=1"], 1),
        (["192.168.128.30"], 1),
        (["10.0.0.1", "reserved=true"], 3),
    ],
)
def test_ip_update_failures_match_triton(world: CliWorld, args: list[str], status: int) -> None:
    assert same_as_triton(world, "network", "ip", "update", FABRIC, *args).status == status


def test_ip_sort_key_is_triton_s_signed_32_bit_number() -> None:
    assert ipv4_sort_key("10.0.0.1") == 167772161
    assert ipv4_sort_key("192.168.128.1") == 3232268289 - 2**32
    assert ipv4_sort_key("fd00::1") is None
    assert ipv4_sort_key("1.2.3.256") is None
