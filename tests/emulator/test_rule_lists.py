"""ListFirewallRules' kept bodies: after any change, the same bytes and MD5 as a fresh list."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import time
import uuid
from pathlib import Path

import pytest

from smartdc.emulator.db import Database
from smartdc.emulator.responses import content_md5
from smartdc.emulator.store import firewall, rule_lists
from tests.emulator.sqlite_work import sqlite_steps

DC = "dc-1"
ACCOUNTS = ("acct-a", "acct-b")


def fresh(db: Database, scope: firewall.Scope) -> bytes:
    """The list as the rows give it now, with nothing kept."""
    rows = db.query(
        "SELECT doc FROM fwrules WHERE datacenter = ? AND (owner = ? OR owner IS NULL)"
        " ORDER BY seq",
        (scope.datacenter, scope.account),
    )
    return b"[" + b",".join(str(row["doc"]).encode() for row in rows) + b"]"


def assert_lists_right(db: Database, scopes: list[firewall.Scope]) -> None:
    for scope in scopes:
        listed = firewall.list_rules(db, scope)
        assert listed == fresh(db, scope)
        assert content_md5(listed) == base64.b64encode(hashlib.md5(listed).digest()).decode()


def test_a_kept_list_follows_every_kind_of_change(db: Database) -> None:
    scopes = [firewall.Scope(account, DC) for account in ACCOUNTS]
    foreign = firewall.Scope("acct-a", "dc-2")
    owned: dict[str, list[str]] = {account: [] for account in ACCOUNTS}
    chance = random.Random(7)
    steps = {"create": 0, "global": 0, "update": 0, "delete": 0, "elsewhere": 0}
    for step in range(300):
        scope = chance.choice(scopes)
        mine = owned[scope.account]
        action = chance.choice(["create"] * 4 + ["global", "update", "delete", "elsewhere"])
        if action in ("update", "delete") and not mine:
            action = "create"
        if action == "create":
            text = f"FROM any TO all vms ALLOW tcp PORT {step + 1}"
            mine.append(firewall.create_rule(db, scope, text, now=time.time())["id"])
        elif action == "global":
            text = f"FROM any TO all vms ALLOW udp PORT {step + 1}"
            firewall.create_global_rule(db, DC, text, now=time.time())
        elif action == "update":
            changes = firewall.RuleChanges(
                enabled=chance.choice([True, False]), description=f"step {step}"
            )
            firewall.update_rule(db, scope, chance.choice(mine), changes, now=time.time())
        elif action == "delete":
            rule_id = mine.pop(chance.randrange(len(mine)))
            firewall.delete_rule(db, scope, rule_id)
        else:
            firewall.create_rule(db, foreign, "FROM any TO all vms BLOCK tcp PORT 1", now=0)
        steps[action] += 1
        assert_lists_right(db, [*scopes, foreign])
    assert min(steps.values()) > 10
    assert len(json.loads(firewall.list_rules(db, scopes[0]))) > 50


def test_an_unchanged_list_is_the_body_kept(db: Database) -> None:
    scope = firewall.Scope(ACCOUNTS[0], DC)
    firewall.create_rule(db, scope, "FROM any TO all vms ALLOW tcp PORT 22", now=0)
    first = firewall.list_rules(db, scope)
    assert firewall.list_rules(db, scope) is first
    firewall.create_rule(db, scope, "FROM any TO all vms ALLOW tcp PORT 80", now=0)
    grown = firewall.list_rules(db, scope)
    assert grown is not first
    assert [rule["rule"] for rule in json.loads(grown)] == [
        "FROM any TO all vms ALLOW tcp PORT 22",
        "FROM any TO all vms ALLOW tcp PORT 80",
    ]


def test_a_list_read_in_a_write_that_rolls_back_is_not_kept(db: Database) -> None:
    scope = firewall.Scope(ACCOUNTS[0], DC)
    firewall.create_rule(db, scope, "FROM any TO all vms ALLOW tcp PORT 22", now=0)
    assert len(json.loads(firewall.list_rules(db, scope))) == 1
    with pytest.raises(RuntimeError), db.transaction():
        firewall.create_rule(db, scope, "FROM any TO all vms ALLOW tcp PORT 80", now=0)
        assert len(json.loads(firewall.list_rules(db, scope))) == 2
        raise RuntimeError("roll back")
    # The rolled-back rule's seq is free again: a new rule takes it.
    firewall.create_rule(db, scope, "FROM any TO all vms ALLOW tcp PORT 443", now=0)
    assert_lists_right(db, [scope])


def test_a_reset_leaves_no_kept_rule_behind(db: Database) -> None:
    scope = firewall.Scope(ACCOUNTS[0], DC)
    for port in (22, 80):
        firewall.create_rule(db, scope, f"FROM any TO all vms ALLOW tcp PORT {port}", now=0)
    assert len(json.loads(firewall.list_rules(db, scope))) == 2
    db.clear()
    firewall.create_rule(db, scope, "FROM any TO all vms ALLOW tcp PORT 443", now=0)
    assert [rule["rule"] for rule in json.loads(firewall.list_rules(db, scope))] == [
        "FROM any TO all vms ALLOW tcp PORT 443"
    ]


def test_workers_of_one_data_directory_list_each_others_changes(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    first, second = Database(path, shared=True), Database(path, shared=True)
    scope = firewall.Scope(ACCOUNTS[0], DC)
    try:
        made = [
            firewall.create_rule(first, scope, f"FROM any TO all vms ALLOW tcp PORT {port}", now=0)
            for port in (22, 80, 443)
        ]
        assert_lists_right(second, [scope])
        firewall.create_rule(first, scope, "FROM any TO all vms ALLOW tcp PORT 8080", now=0)
        assert_lists_right(second, [scope])
        firewall.update_rule(first, scope, made[1]["id"], firewall.RuleChanges(enabled=True), now=0)
        assert_lists_right(second, [scope])
        firewall.delete_rule(first, scope, made[0]["id"])
        assert_lists_right(second, [scope])
        assert len(json.loads(firewall.list_rules(second, scope))) == 3
    finally:
        first.close()
        second.close()


def test_bodies_are_kept_for_a_bounded_number_of_accounts(db: Database) -> None:
    scopes = [firewall.Scope(str(uuid.uuid4()), DC) for _ in range(rule_lists.KEPT_LISTS + 5)]
    for scope in scopes:
        firewall.create_rule(db, scope, "FROM any TO all vms ALLOW tcp PORT 22", now=0)
        firewall.list_rules(db, scope)
    assert len(rule_lists._BODIES[db]) == rule_lists.KEPT_LISTS
    assert_lists_right(db, scopes)


def test_listing_again_and_after_a_new_rule_costs_the_same_at_50_or_650_rules(db: Database) -> None:
    scope = firewall.Scope(ACCOUNTS[0], DC)
    port = iter(range(1, 10_000))

    def add() -> None:
        firewall.create_rule(db, scope, f"FROM any TO all vms ALLOW tcp PORT {next(port)}", now=0)

    def costs() -> tuple[int, int]:
        firewall.list_rules(db, scope)
        again = sqlite_steps(db, lambda: firewall.list_rules(db, scope))
        add()
        grown = sqlite_steps(db, lambda: firewall.list_rules(db, scope))
        return again, grown

    for _ in range(50):
        add()
    early = costs()
    for _ in range(600):
        add()
    late = costs()
    assert_lists_right(db, [scope])
    # Counting the rules seen, or joining them all, grew with their number.
    assert late[0] < early[0] * 2 and late[1] < early[1] * 2, (early, late)
