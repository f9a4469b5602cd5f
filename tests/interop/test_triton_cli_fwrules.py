"""``triton fwrule ...`` and ``triton instance fwrules`` against the emulator.

A private emulator keeps the rules made here out of the shared one. The tests run in order:
two tagged instances are made, then a rule goes through create, list, get, disable, enable,
update, instances and delete.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import TestKey
from tests.interop.node_peers import Triton, private_triton

pytestmark = pytest.mark.interop

WEB_RULE = 'FROM any TO tag "role" = "web" ALLOW tcp PORT 80'  # fwrule 2.x quotes tags


@pytest.fixture(scope="module")
def triton(keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Triton]:
    with private_triton(keys["rsa"], tmp_path_factory, "fwrules") as triton:
        yield triton


@pytest.fixture(scope="module")
def instances(triton: Triton) -> dict[str, dict[str, Any]]:
    """``fwweb`` tagged role=web and ``fwdb`` tagged role=db, both running."""
    image = [i for i in triton.ndjson("image", "list") if i["type"] == "zone-dataset"][-1]
    made = {}
    for name, role in (("fwweb", "web"), ("fwdb", "db")):
        made[name] = triton.json(
            "instance",
            "create",
            "-w",
            "-n",
            name,
            "-t",
            f"role={role}",
            f"{image['name']}@{image['version']}",
            "g4-highcpu-128M",
        )
        assert made[name]["state"] == "running"
    return made


def rule_by_text(triton: Triton, text: str) -> dict[str, Any]:
    matches = [r for r in triton.ndjson("fwrule", "list") if r["rule"] == text]
    assert len(matches) == 1, matches
    rule: dict[str, Any] = matches[0]
    return rule


def test_fwrule_create(triton: Triton) -> None:
    out = triton.run(
        "fwrule", "create", "-D", "web traffic", "from any to tag role = web allow TCP port 80"
    ).stdout
    assert out.startswith("Created firewall rule ")
    assert "(disabled)" not in out
    rule = rule_by_text(triton, WEB_RULE)
    assert out.split()[3] == rule["id"]
    assert (rule["enabled"], rule["log"], rule["description"]) == (True, False, "web traffic")
    disabled = triton.run("fwrule", "create", "-d", "-l", "FROM any TO all vms ALLOW udp PORT 53")
    assert "(disabled)" in disabled.stdout


def test_fwrule_create_with_bad_rule_fails_with_the_reason(triton: Triton) -> None:
    proc = triton.run("fwrule", "create", "FROM any TO all vms ALLOW tcp PORT 0", check=False)
    assert proc.returncode != 0
    assert "error (InvalidParameters): Invalid parameters" in proc.stderr
    assert 'rule: InvalidParameter: Port number "0" is invalid' in proc.stderr


def test_fwrule_list_table(triton: Triton) -> None:
    table = triton.run("fwrule", "list").stdout.splitlines()
    assert table[0].split() == ["SHORTID", "ENABLED", "GLOBAL", "LOG", "RULE"]
    rule = rule_by_text(triton, WEB_RULE)
    row = next(line for line in table if line.startswith(rule["id"][:8]))
    assert row.split()[1:4] == ["true", "-", "false"]
    assert row.endswith(WEB_RULE)


def test_fwrule_get_by_short_id(triton: Triton) -> None:
    rule = rule_by_text(triton, WEB_RULE)
    got = triton.json("fwrule", "get", rule["id"][:8])
    assert got == rule


def test_fwrule_disable_and_enable(triton: Triton) -> None:
    rule = rule_by_text(triton, WEB_RULE)
    out = triton.run("fwrule", "disable", rule["id"]).stdout
    assert out.strip() == f"Disabled firewall rule {rule['id']}"
    assert triton.json("fwrule", "get", rule["id"])["enabled"] is False
    out = triton.run("fwrule", "enable", rule["id"][:8]).stdout
    assert out.strip() == f"Enabled firewall rule {rule['id'][:8]}"
    assert triton.json("fwrule", "get", rule["id"])["enabled"] is True


def test_fwrule_update(triton: Triton) -> None:
    rule = rule_by_text(triton, WEB_RULE)
    out = triton.run("fwrule", "update", rule["id"], "description=plain http", "log=true").stdout
    assert f"Updated firewall rule {rule['id']}" in out
    got = triton.json("fwrule", "get", rule["id"])
    assert (got["rule"], got["description"], got["log"]) == (WEB_RULE, "plain http", True)
    triton.run(
        "fwrule",
        "update",
        rule["id"],
        "rule=FROM any TO tag role = web ALLOW tcp (PORT 443 AND PORT 80)",
    )
    got = triton.json("fwrule", "get", rule["id"])
    assert got["rule"] == 'FROM any TO tag "role" = "web" ALLOW tcp (PORT 80 AND PORT 443)'
    triton.run("fwrule", "update", rule["id"], f"rule={WEB_RULE}")


def test_fwrule_instances(triton: Triton, instances: dict[str, dict[str, Any]]) -> None:
    rule = rule_by_text(triton, WEB_RULE)
    listed = triton.ndjson("fwrule", "instances", rule["id"][:8])
    assert [i["id"] for i in listed] == [instances["fwweb"]["id"]]
    table = triton.run("fwrule", "instances", rule["id"]).stdout
    assert "fwweb" in table and "fwdb" not in table


def test_instance_fwrules(triton: Triton, instances: dict[str, dict[str, Any]]) -> None:
    web_rule = rule_by_text(triton, WEB_RULE)
    everyone = rule_by_text(triton, "FROM any TO all vms ALLOW udp PORT 53")
    web = {r["id"] for r in triton.ndjson("instance", "fwrules", "fwweb")}
    assert web == {web_rule["id"], everyone["id"]}
    db = {r["id"] for r in triton.ndjson("instance", "fwrules", "fwdb")}
    assert db == {everyone["id"]}
    table = triton.run("instance", "fwrules", "fwweb").stdout
    assert WEB_RULE in table


def test_fwrule_delete(triton: Triton) -> None:
    rule = rule_by_text(triton, WEB_RULE)
    out = triton.run("fwrule", "delete", "-f", rule["id"]).stdout
    assert out.strip() == f"Deleted rule {rule['id']}"
    assert WEB_RULE not in {r["rule"] for r in triton.ndjson("fwrule", "list")}
    gone = triton.run("fwrule", "get", rule["id"], check=False)
    assert gone.returncode != 0
    assert "not found" in gone.stderr
