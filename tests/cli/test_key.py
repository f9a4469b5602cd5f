"""``smartdc key`` (list, get, add, delete) beside ``triton key`` on the same emulator."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.cli.harness import CliWorld, Result
from tests.cli.test_accesskey import run_on_terminal
from tests.conftest import TestKey


def tritons(world: CliWorld, *argsets: list[str]) -> list[Result]:
    """``triton`` for each argument list, run side by side (each takes most of a second)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda args: world.triton(*args), argsets))


def _same(ours_err: str, theirs_err: str) -> bool:
    """The first stderr line of both, with the program names aligned."""
    return ours_err.splitlines()[0].replace("smartdc", "triton") == theirs_err.splitlines()[0]


def test_list_forms_match_triton(world: CliWorld) -> None:
    argsets = (
        ["keys"],
        ["key", "ls", "-l"],
        ["key", "ls", "-A"],
        ["key", "ls", "-o", "name,fingerprint", "-s", "fingerprint"],
        ["key", "list", "-j"],
    )
    for args, theirs in zip(argsets, tritons(world, *argsets), strict=True):
        ours = world.run(*args)
        assert (ours.status, ours.out) == (theirs.status, theirs.out), args
    ours_json = world.ok("key", "ls", "-j").ndjson()
    assert [key["fingerprint"] for key in ours_json] == [world.key.md5]
    # triton prints the header even with -H; it is left out here
    assert world.ok("key", "ls", "-H").out == world.ok("key", "ls").out.split("\n", 1)[1]


def test_get_by_name_or_fingerprint_matches_triton(world: CliWorld) -> None:
    name = world.ok("keys", "-j").ndjson()[0]["name"]
    argsets = (["key", "get", name], ["key", "get", world.key.md5], ["key", "get", "-j", name])
    for args, theirs in zip(argsets, tritons(world, *argsets), strict=True):
        ours = world.run(*args)
        assert (ours.status, ours.out) == (theirs.status, theirs.out), args
    assert world.ok("key", "get", name).out.startswith("ssh-rsa AAAA")


def test_failures_exit_as_triton(world: CliWorld) -> None:
    argsets = (
        ["key", "get", "nope"],  # CloudAPI's 404: exit 1 in triton, not 3
        ["key", "get"],
        ["key", "add", "a", "b"],
        ["key", "rm", "-f", "nope"],
        ["key", "list", "--bogus"],
    )
    for args, theirs in zip(argsets, tritons(world, *argsets), strict=True):
        ours = world.run(*args)
        assert ours.status == theirs.status == 1, args
        if args[1] not in ("rm",):  # triton names the alias it was called by
            assert _same(ours.err, theirs.err), (args, ours.err, theirs.err)


def test_add_and_delete_print_what_triton_prints(world: CliWorld, keys: dict[str, TestKey]) -> None:
    pub = keys["ed25519"].pub_path
    comment = pub.read_text().split()[2]
    fingerprint = keys["ed25519"].md5

    ours = world.ok("key", "add", str(pub))
    assert ours.out == f'Added key "{comment}" ({fingerprint})\n'
    theirs_delete = world.triton("key", "rm", "-f", comment)
    assert theirs_delete.out == f'Deleted key "{comment}"\n'
    theirs = world.triton("key", "add", str(pub))
    assert ours.out == theirs.out
    assert world.ok("key", "rm", "--yes", comment).out == theirs_delete.out

    # from stdin, with a name; -j prints the key
    named = world.ok("key", "add", "-n", "laptop", "-", stdin=pub.read_text())
    assert named.out == f'Added key "laptop" ({fingerprint})\n'
    assert world.ok("key", "get", "-j", "laptop").json()["fingerprint"] == fingerprint
    world.ok("key", "rm", "-f", "laptop")
    added = world.ok("key", "add", "-j", "-n", "json", str(pub)).json()
    assert (added["name"], added["fingerprint"]) == ("json", fingerprint)

    # several at once; the first failure stops the rest, as in triton
    deleted = world.run("key", "delete", "-f", "json", "nope", world.key.md5)
    assert deleted.status == 1 and deleted.out == 'Deleted key "json"\n'
    assert "nope does not exist" in deleted.err
    assert [k["fingerprint"] for k in world.ok("keys", "-j").ndjson()] == [world.key.md5]


def test_add_converts_rfc4716_and_refuses_what_is_not_a_public_key(
    world: CliWorld, keys: dict[str, TestKey], tmp_path: Path
) -> None:
    key = keys["ecdsa256"]
    rfc4716 = tmp_path / "key.rfc4716"
    rfc4716.write_text(
        subprocess.run(
            ["ssh-keygen", "-e", "-f", str(key.pub_path)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    world.ok("key", "add", "-n", "converted", str(rfc4716))
    stored = world.ok("key", "get", "converted").out.split()
    assert stored[:2] == key.pub_path.read_text().split()[:2]
    world.ok("key", "rm", "-f", "converted")

    private = world.run("key", "add", str(key.path))
    assert private.status == 1
    assert private.err.startswith(
        f"smartdc key add: error: Failed to parse {key.path} as a valid ssh format key: "
        "it is a private key"
    )
    assert "BEGIN" not in private.err
    garbage = tmp_path / "garbage.pub"
    garbage.write_text("not a key at all\n")
    ours, theirs = world.run("key", "add", str(garbage)), world.triton("key", "add", str(garbage))
    assert ours.status == theirs.status == 1
    prefix = f"key add: error: Failed to parse {garbage} as a valid ssh format key: "
    assert ours.err.startswith("smartdc " + prefix) and theirs.err.startswith("triton " + prefix)
    missing = world.run("key", "add", str(tmp_path / "absent.pub"))
    assert missing.status == 1 and "absent.pub" in missing.err


def test_delete_asks_first(world: CliWorld, keys: dict[str, TestKey]) -> None:
    pub = keys["ecdsa256"].pub_path
    world.ok("key", "add", "-n", "asked", str(pub))
    no = run_on_terminal(world, "key", "delete", "asked", answer="n\n")
    assert (no.status, no.out, no.err) == (0, "", 'Delete key "asked"? [y/n] Aborting\n')
    piped = world.run("key", "delete", "asked", stdin="y\n")
    assert piped.status == 1 and "use -f" in piped.err
    assert "asked" in world.ok("keys").out
    yes = run_on_terminal(world, "key", "rm", "asked", "nope", answer="y\n")
    assert yes.err.startswith("Delete 2 keys (asked, nope)? [y/n] ")
    assert yes.out == 'Deleted key "asked"\n' and yes.status == 1
    assert "asked" not in world.ok("keys").out


@pytest.fixture(autouse=True)
def _only_the_test_key_left(world: CliWorld) -> None:
    """Each test starts with the account's one key, the one the CLI signs with."""
    for key in world.ok("keys", "-j").ndjson():
        if key["fingerprint"] != world.key.md5:
            world.ok("key", "rm", "-f", key["fingerprint"])
