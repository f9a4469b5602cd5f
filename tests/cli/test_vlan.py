"""``smartdc vlan`` beside ``triton vlan``, on an emulator of this module's own (VLANs are
created, renamed and deleted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.harness import CliWorld
from tests.cli.side_by_side import same_as_triton


@pytest.fixture(scope="module")
def vlans(world: CliWorld) -> None:
    """VLAN 10 ``ten`` (described) and VLAN 11 ``eleven``, made with smartdc."""
    assert world.ok("vlan", "create", "10", "-n", "ten", "-D", "the tenth").out == (
        "Created vlan ten (10)\n"
    )
    assert world.ok("vlan", "create", "-j", "--name", "eleven", "11").json() == {
        "vlan_id": 11,
        "name": "eleven",
    }


@pytest.mark.parametrize(
    "args",
    [
        ["vlan", "list"],
        ["vlan", "ls", "-H", "-s", "-name"],
        ["vlan", "ls", "vlan_id=10"],
        ["vlan", "ls", "vlan_id=abc"],
        ["vlan", "ls", "name=eleven", "-j"],
        ["vlan", "ls", "description=the tenth", "-o", "name"],
        ["vlan", "ls", "name=10"],
        ["vlan", "get", "ten"],
        ["vlan", "get", "11", "-j"],
        ["vlan", "networks", "2"],
        ["vlan", "networks", "My-Fabric-VLAN", "-j"],
        ["vlan", "networks", "2", "-l", "-o", "name,subnet", "-s", "-name"],
    ],
)
def test_output_matches_triton(world: CliWorld, vlans: None, args: list[str]) -> None:
    assert same_as_triton(world, *args).status == 0


def test_filters_are_applied_here(world: CliWorld, vlans: None) -> None:
    assert world.ok("vlan", "ls", "-H", "-o", "vlan_id", "name=ten").out == "10\n"
    assert world.ok("vlan", "ls", "-H", "vlan_id=12").out == ""


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["vlan", "ls", "bogus=1"], 1),
        (["vlan", "ls", "-l"], 1),
        (["vlan", "get", "7"], 3),
        (["vlan", "get", "nope"], 3),
        (["vlan", "get"], 1),
        (["vlan", "get", "a", "b"], 1),
        (["vlan", "create", "12"], 1),
        (["vlan", "create", "x", "-n", "a"], 1),
        (["vlan", "create", "10", "-n", "again"], 1),
        (["vlan", "create", "5000", "-n", "big"], 1),
        (["vlan", "create"], 1),
        (["vlan", "rm"], 1),
        (["vlan", "update"], 1),
        (["vlan", "networks", "5"], 3),
        (["vlan", "networks"], 1),
    ],
)
def test_failures_match_triton(world: CliWorld, vlans: None, args: list[str], status: int) -> None:
    ours, theirs = world.run(*args), world.triton(*args)
    assert ours.status == theirs.status == status
    # triton names "network list" where "vlan networks" fails to find the VLAN
    theirs_first = theirs.err.splitlines()[0].replace("network list", "vlan networks")
    assert ours.err.splitlines()[0].replace("smartdc", "triton") == theirs_first


def test_update(world: CliWorld, vlans: None, tmp_path: Path) -> None:
    # triton 7.17 crashes on "vlan update"; the message follows its code
    result = world.ok("vlan", "update", "ten", "name=tenth", "description=renamed")
    assert result.out == "Updated vlan ten (fields: name, description)\n"
    assert world.ok("vlan", "get", "10", "-j").json() == {
        "vlan_id": 10,
        "name": "tenth",
        "description": "renamed",
    }
    changes = tmp_path / "vlan.json"
    changes.write_text('{"name": "ten"}')
    assert world.ok("vlan", "update", "-f", str(changes), "10").out == (
        "Updated vlan 10 (fields: name)\n"
    )
    from_stdin = world.ok("vlan", "update", "10", "-f", "-", stdin='{"description": "x"}')
    assert from_stdin.out == "Updated vlan 10 (fields: description)\n"
    assert world.ok("vlan", "update", "10").out == "No fields given for VLAN update\n"
    assert world.ok("vlan", "get", "ten", "-j").json()["description"] == "x"


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["ten", "vlan_id=3"], "", "unknown or unupdateable field: vlan_id"),
        (["ten", "-f", "-"], '{"name": 3}', 'field "name" must be of type "string"'),
        (["ten", "-f", "-"], "[]", "the update must be a JSON object"),
        (["ten", "-f", "-"], "{", "invalid JSON for VLAN update on stdin"),
        (["nope", "name=x"], "", 'no vlan with name "nope" was found'),
    ],
)
def test_update_failures(
    world: CliWorld, vlans: None, args: list[str], stdin: str, message: str
) -> None:
    result = world.run("vlan", "update", *args, stdin=stdin)
    assert result.status != 0 and message in result.err


def test_delete(world: CliWorld, vlans: None) -> None:
    world.ok("vlan", "create", "20", "-n", "twenty")
    world.ok("vlan", "create", "21", "-n", "twenty-one")
    result = world.ok("vlan", "rm", "twenty", "21")
    assert result.out == "Deleted vlan twenty\nDeleted vlan 21\n"
    assert world.run("vlan", "get", "20").status == 3
    # as triton: "first of N errors: ...", exit 1 (CloudAPI's words for an unknown number)
    for args in (["vlan", "delete", "nope"], ["vlan", "rm", "77"], ["vlan", "rm", "nope", "78"]):
        assert same_as_triton(world, *args).status == 1
    unknown = world.run("vlan", "delete", "nope")
    assert unknown.err == (
        'smartdc vlan delete: error: first of 1 error: no vlan with name "nope" was found\n'
    )
    busy = world.run("vlan", "rm", "2")
    assert busy.status == 1
