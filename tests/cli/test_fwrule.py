"""``smartdc fwrule`` beside ``triton fwrule``, on an emulator of this module's own (rules are
created, changed and deleted)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from smartdc.api import CloudAPI
from tests.cli.harness import CliWorld, without_volatile
from tests.cli.side_by_side import run_on_terminal, same_as_triton
from tests.conftest import ACCOUNT

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture(scope="module")
def web(world: CliWorld) -> str:
    """A running instance tagged ``role=web``."""
    with CloudAPI(world.url, ACCOUNT, key_file=world.key.path) as api:
        image = api.list_images(name="base-64-lts")[-1]
        machine = api.create_machine(
            image=image["id"], package="g4-highcpu-128M", name="web0", tags={"role": "web"}
        )
        deadline = time.monotonic() + 30
        while api.get_machine(machine["id"])["state"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
    return str(machine["id"])


@pytest.fixture(scope="module")
def rules(world: CliWorld, web: str) -> dict[str, str]:
    """Three rules made with smartdc: ssh (enabled, described), web (disabled, logged) and
    one made with -j."""
    ssh = world.ok("fwrule", "create", "-D", "ssh", "FROM any TO all vms ALLOW tcp PORT 22")
    ssh_id = re.fullmatch(rf"Created firewall rule ({UUID})\n", ssh.out)
    web_rule = world.ok(
        "fwrule", "create", "-d", "-l", "FROM any TO tag role=web ALLOW tcp PORT 80"
    )
    web_id = re.fullmatch(rf"Created firewall rule ({UUID}) \(disabled\)\n", web_rule.out)
    assert ssh_id and web_id
    made = world.ok("fwrule", "create", "-j", f"FROM any TO vm {web} ALLOW udp PORT 53").json()
    return {"ssh": ssh_id.group(1), "web": web_id.group(1), "dns": made["id"]}


def test_create_sends_the_options(world: CliWorld, rules: dict[str, str]) -> None:
    ssh = world.ok("fwrule", "get", rules["ssh"][:8], "-j").json()
    assert (ssh["enabled"], ssh["log"], ssh["description"]) == (True, False, "ssh")
    web = world.ok("fwrule", "get", rules["web"], "-j").json()
    assert (web["enabled"], web["log"]) == (False, True)
    assert "description" not in web


@pytest.mark.parametrize(
    "args",
    [
        ["fwrule", "list"],
        ["fwrules", "-l"],
        ["fwrule", "ls", "-o", "ID,Rule,ENABLED", "-s", "ENABLED,-rule"],
        ["fwrule", "ls", "-H", "-o", "shortid,log"],
        ["fwrule", "ls", "-j"],
    ],
)
def test_lists_match_triton(world: CliWorld, rules: dict[str, str], args: list[str]) -> None:
    assert same_as_triton(world, *args).status == 0


def test_get_matches_triton(world: CliWorld, rules: dict[str, str]) -> None:
    same_as_triton(world, "fwrule", "get", rules["ssh"])
    same_as_triton(world, "fwrule", "get", "-j", rules["web"][:8])


def test_instances_match_triton(world: CliWorld, rules: dict[str, str], web: str) -> None:
    for args in (
        ["fwrule", "instances", rules["web"][:8], "-o", "shortid,name,img,state,flags"],
        ["fwrule", "insts", rules["ssh"], "-l"],
        ["fwrule", "instances", rules["dns"], "-o", "name,tags.role", "-H"],
    ):
        same_as_triton(world, *args)
    ours = [
        without_volatile(i, "age") for i in world.ok("fwrule", "insts", "-j", rules["web"]).ndjson()
    ]
    theirs = [
        without_volatile(i, "age")
        for i in world.triton("fwrule", "insts", "-j", rules["web"]).ndjson()
    ]
    assert ours == theirs
    assert [(i["id"], i["img"], i["shortid"]) for i in ours] == [
        (web, "base-64-lts@23.4.0", web[:8])
    ]


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["fwrule", "ls", "x"], 1),
        (["fwrule", "get", "nope"], 3),
        (["fwrule", "get", "12345678"], 3),
        (["fwrule", "get"], 1),
        (["fwrule", "get", "a", "b"], 1),
        (["fwrule", "create", "garbage"], 1),
        (["fwrule", "create"], 1),
        (["fwrule", "create", "a", "b"], 1),
        (["fwrule", "update"], 1),
        (["fwrule", "update", "nope", "log=true"], 3),
        (["fwrule", "enable"], 1),
        (["fwrule", "disable"], 1),
        (["fwrule", "rm"], 1),
        (["fwrule", "instances", "nope"], 3),
        # parallel actions report "first of N errors: ..." and exit 1, whatever the errors
        (["fwrule", "rm", "-f", "nope"], 1),
        (["fwrule", "rm", "-f", "nope", "nada"], 1),
        (["fwrule", "enable", "nope"], 1),
        (["fwrule", "disable", "nope", "nada"], 1),
        (["fwrule", "enable", "00000000-0000-0000-0000-000000000000"], 1),
        (["fwrule", "rm", "-f", "00000000-0000-0000-0000-000000000000"], 1),
        (["fwrule", "instances"], 1),
    ],
)
def test_failures_match_triton(
    world: CliWorld, rules: dict[str, str], args: list[str], status: int
) -> None:
    assert same_as_triton(world, *args).status == status


def test_update(world: CliWorld, rules: dict[str, str], tmp_path: Path) -> None:
    short = rules["ssh"][:8]
    result = same_as_triton(world, "fwrule", "update", short, "description=new words", "log=true")
    assert result.out == f"Updated firewall rule {short} (fields: description, log)\n"
    changes = tmp_path / "rule.json"
    changes.write_text(json.dumps({"enabled": False}))
    world.ok("fwrule", "update", "-f", str(changes), rules["ssh"])
    rule = world.ok("fwrule", "get", short, "-j").json()
    assert (rule["enabled"], rule["log"], rule["description"]) == (False, True, "new words")
    assert rule["rule"] == "FROM any TO all vms ALLOW tcp PORT 22"
    piped = world.ok("fwrule", "update", short, "-f", "-", stdin='{"enabled": true}')
    assert piped.out == f"Updated firewall rule {short} (fields: enabled)\n"
    for args in (
        ["fwrule", "update", short, "enabled=yes"],
        ["fwrule", "update", short, "enabled="],  # null: typeof says "object"
        ["fwrule", "update", short],
        ["fwrule", "update", short, "bogus=1"],
    ):
        assert same_as_triton(world, *args).status == 1
    bad = tmp_path / "bad.json"
    bad.write_text("x")
    broken = world.run("fwrule", "update", "-f", str(bad), short)
    assert broken.status == 1
    assert f'invalid JSON for firewall rule update in "{bad}": ' in broken.err


def test_enable_and_disable(world: CliWorld, rules: dict[str, str]) -> None:
    web, dns = rules["web"][:8], rules["dns"]
    assert world.ok("fwrule", "enable", web, dns).out == (
        f"Enabled firewall rule {web}\nEnabled firewall rule {dns}\n"
    )
    assert world.ok("fwrule", "get", web, "-j").json()["enabled"] is True
    result = world.run("fwrule", "disable", web, "nope")
    assert result.status == 1
    assert result.out == f"Disabled firewall rule {web}\n"
    assert result.err == (
        'smartdc fwrule disable: error: first of 1 error: no firewall rule with short id "nope"'
        " was found\n"
    )
    assert world.ok("fwrule", "get", web, "-j").json()["enabled"] is False


def test_delete(world: CliWorld, rules: dict[str, str]) -> None:
    ids = [
        world.ok("fwrule", "create", "-j", f"FROM any TO all vms ALLOW tcp PORT {port}").json()[
            "id"
        ]
        for port in (1000, 1001, 1002)
    ]
    refused = run_on_terminal(world, "n\n", "fwrule", "rm", ids[0])
    assert (refused.status, refused.out) == (0, "")
    assert refused.err == f'Delete firewall rule "{ids[0]}"? [y/n] Aborting\n'
    asked = run_on_terminal(world, "y\n", "fwrule", "delete", ids[0], ids[1][:8])
    assert asked.err == f"Delete 2 firewall rules ({ids[0]}, {ids[1][:8]})? [y/n] "
    assert asked.out == f"Deleted rule {ids[0]}\nDeleted rule {ids[1][:8]}\n"
    assert world.run("fwrule", "rm", ids[2]).status == 1
    assert world.ok("fwrule", "rm", "-f", ids[2]).out == f"Deleted rule {ids[2]}\n"
    assert world.run("fwrule", "get", ids[2]).status == 3
    unknown = world.run("fwrule", "rm", "-f", "nope")
    assert unknown.status == 1
