"""``smartdc rbac apply`` and ``rbac reset`` on the emulator.

These check the plan, the requests and the state they leave; tests/emulator/test_triton_rbac.py
runs triton's own apply.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from smartdc.api import CloudAPI
from smartdc.emulator.server import EmulatorServer
from tests.cli.harness import CliWorld
from tests.cli.test_rbac import Sent, add_user, md5_fingerprint, seed
from tests.cli.test_rbac import clean as clean  # an emptied emulator for each test
from tests.cli.test_rbac import sent as sent  # the requests the CLI sends
from tests.conftest import TestKey


def write_config(directory: Path, config: dict[str, Any], name: str = "rbac.json") -> Path:
    path = directory / name
    path.write_text(json.dumps(config))
    return path


@pytest.fixture()
def sample(
    api: CloudAPI, keys: dict[str, TestKey], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """The seeded account and a config that changes users, keys, policies and roles."""
    monkeypatch.chdir(tmp_path)
    state = seed(api, keys)
    (tmp_path / "keys").mkdir()
    dan_key = keys["ecdsa384"].pub_path.read_text()
    (tmp_path / "keys" / "dan.pub").write_text(dan_key)
    alice_key = keys["ecdsa256"].pub_path.read_text().strip()
    config = {
        "users": [
            {"login": "bob", "email": "bob@example.com", "firstName": "Robert"},
            {
                "login": "alice",
                "email": "alice@example.com",
                "keys": [{"key": alice_key, "name": "work"}],
            },
            {"login": "dan", "email": "dan@example.com", "keys": "keys"},
        ],
        "policies": [
            {
                "name": "read",
                "description": "read-only",
                "rules": ["CAN getmachine", "CAN listmachines"],
            },
            {"name": "boot", "rules": ["CAN rebootmachine"]},
        ],
        "roles": [
            {
                "name": "ops",
                "members": ["bob", "dan"],
                "default_members": ["bob"],
                "policies": ["read", "boot"],
            },
            {"name": "administrator", "default_members": ["alice"]},
            {"name": "devs", "members": ["dan"], "policies": ["boot"]},
        ],
    }
    return {
        **state,
        "path": str(write_config(tmp_path, config)),
        "alice_fp": md5_fingerprint(alice_key),
        "dan_fp": md5_fingerprint(dan_key),
        "dan_key": dan_key.strip(),
        "alice_key": alice_key,
    }


def plan_lines(s: dict[str, Any]) -> list[str]:
    laptop = s["key"]["fingerprint"]
    return [
        "Update user bob (update firstName)",
        f"Create user alice key {s['alice_fp']}",
        f"Delete user alice key {laptop}",
        "Create user dan",
        f"Create user dan key {s['dan_fp']}",
        "Update policy read (update description)",
        "Create policy boot",
        "Update role ops (update members, update policies)",
        "Create role devs",
        "Delete role lonely",
        "Delete policy empty",
        "Delete user carl",
    ]


def test_plan_is_listed_and_no_answer_aborts(
    sent: Sent, world: CliWorld, sample: dict[str, Any]
) -> None:
    listing = "\nThis will make the following RBAC config changes:\n" + "".join(
        f"    {line}\n" for line in plan_lines(sample)
    )
    for answer in ("n\n", ""):
        result = world.ok("rbac", "apply", "-f", sample["path"], stdin=answer)
        assert result.out == listing + "\nAborting update\n"
        assert result.err == "Would you like to continue? [y/N] \n"
        reads = sent.take()
        assert {r.method for r in reads} == {"GET"}
        assert len(reads) == 3 + 3  # users, policies, roles, and each user's keys


def test_dry_run_sends_no_writes(sent: Sent, world: CliWorld, sample: dict[str, Any]) -> None:
    dry = []
    for line in plan_lines(sample):
        word, rest = line.split(" ", 1)
        dry.append(f"[dry-run] {word.lower()} {rest.split(' (')[0]}")
    result = world.ok("rbac", "apply", "-n", "-y", "-f", sample["path"])
    assert result.out.splitlines() == dry
    assert sent.writes() == []
    asked = world.ok("rbac", "apply", "--dry-run", "-f", sample["path"], stdin="y\n")
    assert asked.err == "Would you like to continue (dry-run)? [y/N] \n"
    assert asked.out.endswith("\n\n" + "".join(f"{line}\n" for line in dry))
    assert sent.writes() == []


def test_apply_sends_the_changes_then_has_nothing_to_do(
    api: CloudAPI, sent: Sent, world: CliWorld, sample: dict[str, Any]
) -> None:
    s = sample
    result = world.ok("rbac", "apply", "-f", s["path"], stdin="yes\n")
    done = result.out.split("\n\n\n")[1]
    assert done.splitlines() == [
        "Updated user bob: firstName=Robert",
        f"Created user alice key {s['alice_fp']} (work)",
        f"Deleted user alice key {s['key']['fingerprint']}",
        "Created user dan (with a random password)",
        f"Created user dan key {s['dan_fp']} ({s['dan_key'].split()[2]})",
        "Updated policy read: description=read-only",
        "Created policy boot (1 rule)",
        "Updated role ops: members=bob,dan, policies=read,boot",
        "Created role devs (1 member)",
        "Deleted role lonely",
        "Deleted policy empty",
        "Deleted user carl",
    ]
    writes = sent.writes()
    create_dan = writes[3]
    assert create_dan[:2] == ("POST", "/test/users")
    password = create_dan[2].pop("password")
    assert len(password) == 20 and password not in result.out
    assert writes == [
        ("POST", f"/test/users/{s['bob']['id']}", {"firstName": "Robert"}),
        ("POST", "/test/users/alice/keys", {"key": s["alice_key"], "name": "work"}),
        ("DELETE", f"/test/users/alice/keys/{s['key']['fingerprint']}", None),
        ("POST", "/test/users", {"login": "dan", "email": "dan@example.com"}),
        ("POST", "/test/users/dan/keys", {"key": s["dan_key"], "name": s["dan_key"].split()[2]}),
        ("POST", f"/test/policies/{s['read']['id']}", {"description": "read-only"}),
        ("POST", "/test/policies", {"name": "boot", "rules": ["CAN rebootmachine"]}),
        (
            "POST",
            f"/test/roles/{s['ops']['id']}",
            {
                "members": [
                    {"type": "subuser", "login": "bob", "default": True},
                    {"type": "subuser", "login": "dan"},
                ],
                "policies": [{"name": "read"}, {"name": "boot"}],
            },
        ),
        (
            "POST",
            "/test/roles",
            {
                "name": "devs",
                "members": [{"type": "subuser", "login": "dan"}],
                "policies": [{"name": "boot"}],
            },
        ),
        ("DELETE", f"/test/roles/{s['lonely']['id']}", None),
        ("DELETE", f"/test/policies/{s['empty']['id']}", None),
        ("DELETE", "/test/users/carl", None),
    ]
    assert [u["login"] for u in api.list_users()] == ["bob", "alice", "dan"]
    assert api.get_user("bob")["firstName"] == "Robert"
    assert [k["name"] for k in api.list_user_keys("alice")] == ["work"]
    assert [k["fingerprint"] for k in api.list_user_keys("dan")] == [s["dan_fp"]]
    assert {p["name"]: p.get("description") for p in api.list_policies()} == {
        "read": "read-only",
        "boot": None,
    }
    members = {
        r["name"]: [(m["login"], m.get("default", False)) for m in r["members"]]
        for r in api.list_roles()
    }
    assert members == {
        "ops": [("bob", True), ("dan", False)],
        "administrator": [("alice", True)],
        "devs": [("dan", False)],
    }
    again = world.ok("rbac", "apply", "-f", s["path"])
    assert (again.out, again.err) == ("", "")
    assert sent.writes() == []
    info = world.ok("rbac", "info").out
    assert "    dan: roles [devs, ops]\n" in info
    assert "    ops: policies read, boot\n" in info


def test_user_keys_from_the_default_directory(
    api: CloudAPI,
    sent: Sent,
    world: CliWorld,
    keys: dict[str, TestKey],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    add_user(api, "bob")
    kept = api.create_user_key("bob", keys["ed25519"].pub_path.read_text(), "old")
    add_user(api, "carl")
    api.create_user_key("carl", keys["ecdsa521"].pub_path.read_text(), "kept")
    (tmp_path / "rbac-user-keys").mkdir()
    new = keys["ecdsa256"].pub_path.read_text()
    (tmp_path / "rbac-user-keys" / "bob.pub").write_text(new)
    # carl says nothing about keys and has no file: his keys are left alone; an empty
    # field matches a missing one, so it is not "updated" on every run
    write_config(tmp_path, {"users": [{"login": "bob", "firstName": ""}, {"login": "carl"}]})
    result = world.ok("rbac", "apply", "-n", "-y")
    assert result.out.splitlines() == [
        f"[dry-run] create user bob key {md5_fingerprint(new)}",
        f"[dry-run] delete user bob key {kept['fingerprint']}",
    ]


def test_reset_deletes_everything(
    api: CloudAPI, sent: Sent, world: CliWorld, keys: dict[str, TestKey]
) -> None:
    s = seed(api, keys)
    assert world.ok("rbac", "reset", stdin="n\n").out.endswith("Aborting update\n")
    sent.take()
    out = world.ok("rbac", "reset", "-y").out
    assert out.splitlines() == [
        "Deleted role ops",
        "Deleted role administrator",
        "Deleted role lonely",
        "Deleted policy read",
        "Deleted policy empty",
        "Deleted user bob",
        f"Deleted user alice key {s['key']['fingerprint']}",
        "Deleted user alice",
        "Deleted user carl",
    ]
    assert [(m, p) for m, p, _ in sent.writes()][-4:] == [
        ("DELETE", "/test/users/bob"),
        ("DELETE", f"/test/users/alice/keys/{s['key']['fingerprint']}"),
        ("DELETE", "/test/users/alice"),
        ("DELETE", "/test/users/carl"),
    ]
    assert (api.list_users(), api.list_roles(), api.list_policies()) == ([], [], [])
    assert world.ok("rbac", "reset").out == ""


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("{bad", "RBAC config file, {path}, is not valid JSON: Expecting property name"),
        ({"polices": []}, 'invalid RBAC config file "{path}": top level: unknown field "polices"'),
        ({"users": [{"login": "a", "mail": "x"}]}, 'user "a": unknown field "mail"'),
        ({"users": [{"login": "a"}, {"login": "a"}]}, 'users[1]: duplicate login "a"'),
        (
            {"roles": [{"name": "r", "members": ["zed"]}]},
            'role "r": member "zed" is not one of the users',
        ),
        (
            {"roles": [{"name": "r", "policies": ["p"]}]},
            'role "r": policy "p" is not one of the policies',
        ),
        ({"users": [{"login": "a", "keys": "nowhere"}]}, 'User a keys not found in "nowhere"'),
        (
            {"users": [{"login": "a", "keys": [{"key": "junk"}]}]},
            'invalid SSH public key in "user "a": keys[0]"',
        ),
        ({"users": [{"login": "newbie"}]}, 'user "newbie" needs an "email" to be created'),
    ],
)
def test_bad_configs_change_nothing(
    api: CloudAPI,
    sent: Sent,
    world: CliWorld,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    config: Any,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "rbac.json"
    path.write_text(config if isinstance(config, str) else json.dumps(config))
    result = world.run("rbac", "apply", "-y", "-f", str(path))
    assert result.status == 1
    assert message.format(path=path) in result.err
    assert sent.writes() == []


def test_missing_config_file(
    world: CliWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = world.run("rbac", "apply")
    assert result.status == 1
    assert result.err == (
        "smartdc rbac apply: error (ENOENT): "
        "ENOENT: no such file or directory, open './rbac.json'\n"
    )


def test_dev_create_keys_and_profiles(
    api: CloudAPI,
    sent: Sent,
    cli_emulator: EmulatorServer,
    keys: dict[str, TestKey],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    world = CliWorld(tmp_path / "home", cli_emulator.url, keys["rsa"])
    add_user(api, "bob")
    write_config(tmp_path, {"users": [{"login": "bob", "email": "bob@example.com"}]})
    out = world.ok("rbac", "apply", "-y", "--dev-create-keys-and-profiles").out
    key_path = tmp_path / "home" / ".ssh" / "env-user-bob.id_rsa"
    public = (tmp_path / "rbac-user-keys" / "bob.pub").read_text()
    fp = md5_fingerprint(public)
    assert out.splitlines() == [
        "Generating and adding new SSH key for user bob:",
        f"    Generate 4096 bit RSA key: {key_path}[.pub]",
        "    Copy pubkey to rbac-user-keys/bob.pub",
        f"    Created user bob key {fp} (env user bob)",
        'Created CLI profile "env-user-bob"',
    ]
    assert public == Path(f"{key_path}.pub").read_text()
    assert sent.writes() == [
        ("POST", "/test/users/bob/keys", {"key": public.strip(), "name": "env user bob"})
    ]
    profile = json.loads(
        (tmp_path / "home" / ".triton" / "profiles.d" / "env-user-bob.json").read_text()
    )
    assert profile == {"url": cli_emulator.url, "account": "test", "keyId": fp, "user": "bob"}
    # the key file is now the user's key, the profile is up to date: nothing left to do
    again = world.ok("rbac", "apply", "-y", "--dev-create-keys-and-profiles")
    assert again.out == ""
    assert sent.writes() == []


def test_apply_agrees_with_triton(
    api: CloudAPI,
    world: CliWorld,
    keys: dict[str, TestKey],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a config triton 7.17 can apply (its roles cannot have members on CloudAPI 9), both
    plan the same, and each finds nothing to do after the other applied it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rbac-user-keys").mkdir()
    (tmp_path / "rbac-user-keys" / "bill.pub").write_text(keys["ecdsa256"].pub_path.read_text())
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "jill.pub").write_text(keys["ed25519"].pub_path.read_text())
    empty_role: dict[str, list[str]] = {"members": [], "default_members": [], "policies": []}
    config = {
        "users": [
            {"login": "bill", "email": "bill@example.com", "firstName": "Bill"},
            {"login": "jill", "email": "jill@example.com", "keys": "keys"},
        ],
        "policies": [{"name": "readonly", "rules": ["CAN listmachines", "CAN getmachine"]}],
        "roles": [{"name": "ops", **empty_role}, {"name": "devs", **empty_role}],
    }
    write_config(tmp_path, config)
    plan = world.ok("rbac", "apply", "-n", "-y").out
    assert plan == world.triton("rbac", "apply", "-n", "-y").out
    assert plan.splitlines()[:2] == [
        "[dry-run] create user bill",
        f"[dry-run] create user bill key {md5_fingerprint(keys['ecdsa256'].pub_path.read_text())}",
    ]
    assert world.triton("rbac", "apply", "-y").status == 0
    assert world.ok("rbac", "apply", "-y").out == ""
    assert [u["login"] for u in api.list_users()] == ["bill", "jill"]
    # triton deletes users first, smartdc roles first (so nothing goes while referenced)
    ours = world.ok("rbac", "reset", "-n", "-y").out.splitlines()
    theirs = world.triton("rbac", "reset", "-n", "-y").out.splitlines()
    assert sorted(ours) == sorted(theirs) and len(ours) == 7
    assert api.list_roles() != []
    world.ok("rbac", "reset", "-y")
    assert (api.list_users(), api.list_policies(), api.list_roles()) == ([], [], [])
    # and after smartdc applies, triton has nothing to do
    world.ok("rbac", "apply", "-y")
    again = world.triton("rbac", "apply", "-y")
    assert (again.status, again.out) == (0, "")
