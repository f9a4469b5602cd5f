"""``smartdc profile`` and ``smartdc env`` beside ``triton``'s, sharing one HOME.

Each test has its own HOME (so its own ``~/.triton``); both CLIs read and write it, and
their outputs are compared. Profiles that point at the module's emulator are used for a
real ``ls`` by both tools.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from smartdc.cli.commands.profile import _inspect_list
from smartdc.emulator.server import EmulatorServer
from tests.cli.harness import SMARTDC, CliWorld, Result
from tests.conftest import ACCOUNT, TestKey

_ENV_VARS = ("TRITON_URL", "TRITON_ACCOUNT", "TRITON_KEY_ID")


@pytest.fixture(scope="module")
def key_md5(keys: dict[str, TestKey]) -> str:
    return keys["rsa"].md5


@pytest.fixture
def home(
    cli_emulator: EmulatorServer, keys: dict[str, TestKey], tmp_path: Path
) -> Iterator[CliWorld]:
    """A fresh HOME with the test key and no ``env`` profile (no TRITON_* variables)."""
    world = CliWorld(tmp_path / "home", cli_emulator.url, keys["rsa"])
    yield world.with_env(**dict.fromkeys(_ENV_VARS))


def _write(world: CliWorld, name: str, data: dict[str, Any]) -> Path:
    path = world.home / f"{name}-input.json"
    path.write_text(json.dumps(data))
    return path


def _emu(world: CliWorld, name: str, key_md5: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "url": world.url, "account": ACCOUNT, "keyId": key_md5, **extra}


_FANCY = {
    "name": "fancy",
    "url": "https://fancy.example.com",
    "account": "alice",
    "keyId": "aa:bb:cc",
    "insecure": True,
    "user": "bob",
    "roles": ["ops", "it's"],
    "actAsAccount": "corp",
}


def _triton_text(text: str) -> str:
    """triton's output with the program named as smartdc names itself."""
    return text.replace("triton", "smartdc")


def _same(ours: Result, theirs: Result) -> None:
    assert ours.status == theirs.status, (ours, theirs)
    assert ours.out == theirs.out


def _config(world: CliWorld) -> Any:
    return json.loads((world.home / ".triton" / "config.json").read_text())


# --- profiles made by one tool, used by the other ---------------------------------------------


def test_profile_created_by_triton_is_listed_got_and_used_by_smartdc(
    home: CliWorld, key_md5: str
) -> None:
    made = home.triton(
        "profile", "create", "--no-docker", "-f", str(_write(home, "e", _emu(home, "emu", key_md5)))
    )
    assert made.status == 0, made.err
    assert made.out == (
        'Saved profile "emu".\n\nSet "emu" as current profile (because it is your only profile).\n'
    )

    _same(home.run("profile", "list"), home.triton("profile", "list"))
    _same(home.run("profile", "get"), home.triton("profile", "get"))
    ours = home.ok("profile", "get", "-j", "emu")
    assert ours.out == home.triton("profile", "get", "-j", "emu").out
    assert ours.json() == {**_emu(home, "emu", key_md5), "curr": True} | {"name": "emu"}

    listed = home.run("-p", "emu", "ls", "-j")
    assert listed.status == 0, listed.err
    assert home.run("ls").status == 0  # the current profile, without -p


def test_profile_created_by_smartdc_is_the_file_triton_writes(
    home: CliWorld, key_md5: str, tmp_path: Path
) -> None:
    data = _emu(home, "emu", key_md5)
    ours = home.run("profile", "create", "-f", "-", "--no-docker", stdin=json.dumps(data))
    assert ours.status == 0, ours.err
    assert ours.err == ""
    twin = CliWorld(tmp_path / "twin", home.url, home.key).with_env(**dict.fromkeys(_ENV_VARS))
    theirs = twin.triton("profile", "create", "-f", "-", "--no-docker", stdin=json.dumps(data))
    assert ours.out == theirs.out
    for part in ("profiles.d/emu.json", "config.json"):
        assert (home.home / ".triton" / part).read_bytes() == (
            twin.home / ".triton" / part
        ).read_bytes()

    used = home.triton("-p", "emu", "ls", "-j")
    assert used.status == 0, used.err
    assert home.triton("profile", "get", "-j").json()["name"] == "emu"


def test_create_mentions_skipped_docker_setup(home: CliWorld) -> None:
    result = home.run("profile", "create", "-f", str(_write(home, "f", _FANCY)))
    assert result.status == 0
    assert result.out.startswith('Saved profile "fancy".\n')
    assert "skipping Docker setup" in result.err
    assert "triton profile docker-setup fancy" in result.err


def test_create_errors_match_triton(home: CliWorld) -> None:
    home.ok("profile", "create", "--no-docker", "-f", str(_write(home, "f", _FANCY)))
    again = ["profile", "create", "--no-docker", "-f", str(_write(home, "f", _FANCY))]
    cases = [
        again,
        ["profile", "create", "-f", "-", "--copy", "fancy"],
        ["profile", "create", "--copy", "nope"],
        ["profile", "create", "--no-docker"],  # stdin is not a terminal
        ["profile", "create", "extra"],
    ]
    for args in cases:
        ours, theirs = home.run(*args), home.triton(*args)
        assert ours.status == theirs.status == 1, args
        assert ours.err == _triton_text(theirs.err), args
    bogus = {**_FANCY, "name": "other", "bogus": 1}
    ours = home.run("profile", "create", "-f", "-", stdin=json.dumps(bogus))
    assert ours.status == 1
    assert 'extraneous fields in "other" profile' in ours.err
    missing = home.run("profile", "create", "-f", str(home.home / "nope.json"))
    assert missing.status == 1
    assert "cannot read" in missing.err  # triton crashes here


# --- list and get ----------------------------------------------------------------------------


@pytest.fixture
def several(home: CliWorld, key_md5: str) -> CliWorld:
    """Two file profiles (``emu`` current, ``fancy``) and the ``env`` profile."""
    home.ok(
        "profile", "create", "--no-docker", "-f", "-", stdin=json.dumps(_emu(home, "emu", key_md5))
    )
    home.ok("profile", "create", "--no-docker", "-f", "-", stdin=json.dumps(_FANCY))
    return home.with_env(TRITON_URL=home.url, TRITON_ACCOUNT=ACCOUNT, TRITON_KEY_ID=key_md5)


def test_list_table_and_json_match_triton(several: CliWorld) -> None:
    for args in (
        ["profile", "list"],
        ["profile", "ls", "-l"],
        ["profiles", "-j"],
        ["-a", "zed", "profile", "ls", "-o", "name,account,curr"],
        ["profile", "ls", "-H", "-s-name"],
    ):
        ours, theirs = several.run(*args), several.triton(*args)
        _same(ours, theirs)
    table = several.ok("profile", "ls").out.splitlines()
    assert [line.split()[:2] for line in table] == [
        ["NAME", "CURR"],
        ["emu", "*"],
        ["env", "test"],
        ["fancy", "alice"],
    ]


def test_list_warns_when_there_is_no_current_profile(home: CliWorld) -> None:
    ours, theirs = home.run("profile", "ls"), home.triton("profile", "ls")
    _same(ours, theirs)
    assert ours.err == _triton_text(theirs.err)
    assert "There is no current profile" in ours.err

    path = home.home / ".triton" / "profiles.d" / "lost.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({k: v for k, v in _FANCY.items() if k != "name"}))
    ours, theirs = home.run("profile", "ls"), home.triton("profile", "ls")
    _same(ours, theirs)
    assert ours.err == _triton_text(theirs.err)


def test_broken_profile_file_is_skipped_with_a_warning(several: CliWorld) -> None:
    (several.home / ".triton" / "profiles.d" / "broken.json").write_text('{"url": "x"}')
    result = several.run("profile", "ls")
    assert result.status == 0
    assert "broken" not in result.out
    assert 'warning: invalid "broken" profile' in result.err


def test_get_text_and_json_match_triton(several: CliWorld) -> None:
    for args in (
        ["profile", "get", "fancy"],
        ["profile", "get", "-j", "fancy"],
        ["-a", "zed", "-r", "x,y", "profile", "get", "-j"],
        ["profile", "get", "env"],
    ):
        _same(several.run(*args), several.triton(*args))
    text = several.ok("profile", "get", "fancy").out
    assert "roles: [ 'ops', \"it's\" ]\n" in text
    ours, theirs = several.run("profile", "get", "nope"), several.triton("profile", "get", "nope")
    assert ours.status == theirs.status == 1
    assert ours.err == _triton_text(theirs.err)


def test_roles_print_as_node_prints_arrays() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    cases = [
        [],
        ["a"],
        ["it's"],
        ["x'y\"z"],
        ["tab\there", "back\\slash"],
        [f"role{i}" for i in range(12)],
        list("abcdefg"),
        ["a" * 30, "b" * 38, "c" * 18],
        ["x" * 65],
        ["x" * 66],
    ]
    script = (
        "const u=require('util');"
        "for (const a of JSON.parse(process.argv[1]))"
        " console.log(JSON.stringify(u.format('%s', a)));"
    )
    out = subprocess.run(
        [node, "-e", script, json.dumps(cases)], capture_output=True, text=True, check=True
    ).stdout
    assert [json.loads(line) for line in out.splitlines()] == [_inspect_list(c) for c in cases]


# --- set-current -------------------------------------------------------------------------------


def test_set_current_crosses_over(several: CliWorld) -> None:
    assert several.ok("profile", "set-current", "fancy").out == 'Set "fancy" as current profile\n'
    assert several.triton("profile", "get", "-j").json()["name"] == "fancy"
    assert _config(several) == {"profile": "fancy", "oldProfile": "emu"}

    assert several.triton("profile", "set", "-").out == 'Set "emu" as current profile\n'
    assert several.ok("profile", "get", "-j").json()["name"] == "emu"

    _same(several.run("profile", "set", "emu"), several.triton("profile", "set", "emu"))
    assert several.ok("profile", "set", "emu").out == '"emu" is already the current profile\n'

    for args in (["profile", "set", "nope"], ["profile", "set"], ["profile", "set", "a", "b"]):
        ours, theirs = several.run(*args), several.triton(*args)
        assert ours.status == theirs.status == 1, args
        assert (
            ours.err.splitlines()[0].replace("set-current:", "set:")
            == _triton_text(theirs.err).splitlines()[0]
        )


def test_set_current_warns_that_triton_profile_wins(several: CliWorld) -> None:
    shell = several.with_env(TRITON_PROFILE="emu")
    result = shell.ok("profile", "set-current", "fancy")
    assert result.out == 'Set "fancy" as current profile\n'
    assert 'TRITON_PROFILE="emu"' in result.err
    assert shell.ok("profile", "get", "-j").json()["name"] == "emu"


def test_set_current_dash_without_previous_profile(home: CliWorld) -> None:
    result = home.run("profile", "set", "-")
    assert result.status == 1
    assert '"oldProfile" is not set' in result.err


# --- delete ----------------------------------------------------------------------------------


def test_delete_current_profile_and_others(several: CliWorld) -> None:
    ours, theirs = several.run("profile", "rm", "emu"), several.triton("profile", "rm", "emu")
    assert ours.status == theirs.status == 1
    assert ours.err.replace("profile delete:", "profile rm:") == _triton_text(theirs.err)

    result = several.ok("profile", "rm", "-f", "emu")
    assert result.out == 'Set "env" as current profile\nDeleted profile "emu"\n'
    assert _config(several) == {"profile": "env", "oldProfile": "emu"}
    listed = several.triton("profile", "ls", "-j").ndjson()
    assert [(p["name"], p["curr"]) for p in listed] == [("env", True), ("fancy", False)]

    for args in (["profile", "rm", "env"], ["profile", "rm"], ["profile", "rm", "nope"]):
        ours, theirs = several.run(*args), several.triton(*args)
        assert ours.status == theirs.status == 1, args
        assert (
            ours.err.splitlines()[0].replace("profile delete:", "profile rm:")
            == _triton_text(theirs.err).splitlines()[0]
        )
    assert several.run("profile", "rm", "-f", "nope").status == 0

    kept = several.run("profile", "rm", "fancy", stdin="n\n")
    assert (kept.status, kept.err) == (0, "Aborting\n")
    asked = several.run("profile", "rm", "fancy", stdin="maybe\ny\n")
    assert asked.out == (
        'Delete profile "fancy"? [y/n] Please enter "y", "yes", "n" or "no".\n'
        'Delete profile "fancy"? [y/n] Deleted profile "fancy"\n'
    )
    assert [p["name"] for p in several.triton("profile", "ls", "-j").ndjson()] == ["env"]


def test_delete_current_without_env_profile_explains(home: CliWorld, key_md5: str) -> None:
    home.ok(
        "profile", "create", "--no-docker", "-f", "-", stdin=json.dumps(_emu(home, "emu", key_md5))
    )
    result = home.run("profile", "rm", "-f", "emu")
    assert result.status == 1
    assert "set-current" in result.err
    assert (home.home / ".triton" / "profiles.d" / "emu.json").exists()


# --- edit ------------------------------------------------------------------------------------


_EDITOR = """\
import json, os, sys
path = sys.argv[-1]
data = json.load(open(path))
data.update(json.loads(os.environ["EDIT_WITH"]))
open(path, "w").write(json.dumps(data, indent=4))
"""


def test_edit_saves_valid_changes_and_refuses_invalid_ones(several: CliWorld) -> None:
    script = several.home / "editor.py"
    script.write_text(_EDITOR)
    editor = f"{sys.executable} {script}"
    good = several.with_env(EDITOR=editor, EDIT_WITH=json.dumps({"user": "carol", "roles": ["r9"]}))
    result = good.ok("profile", "edit", "fancy")
    assert result.out == 'Saved profile "fancy".\n'
    got = several.triton("profile", "get", "-j", "fancy").json()
    assert (got["user"], got["roles"]) == ("carol", ["r9"])

    before = (several.home / ".triton" / "profiles.d" / "fancy.json").read_bytes()
    bad = several.with_env(EDITOR=editor, EDIT_WITH=json.dumps({"insecure": "yes"}))
    result = bad.run("profile", "edit", "fancy")
    assert "Error with your changes" in result.err
    assert "Aborting. No change made to profile" in result.out
    assert (several.home / ".triton" / "profiles.d" / "fancy.json").read_bytes() == before

    same = several.with_env(EDITOR=editor, EDIT_WITH="{}")
    assert same.ok("profile", "edit").out == "No change to profile\n"  # the current, "emu"
    assert several.run("profile", "edit", "env").status == 1


# --- env -------------------------------------------------------------------------------------


def test_env_output_matches_triton(several: CliWorld) -> None:
    for args in (
        ["env"],
        ["env", "-u"],
        ["env", "-t", "fancy"],
        ["env", "-s", "fancy"],
        ["-a", "zed", "env", "-ts"],
        ["env", "emu"],
    ):
        ours, theirs = several.run(*args), several.triton(*args)
        assert ours.status == theirs.status == 0, args
        assert ours.out == theirs.out.replace('"$(triton env', '"$(smartdc env'), args
    assert several.ok("env", "-t").out.splitlines()[-1] == '#     eval "$(smartdc env -t)"'


def test_env_docker_section(several: CliWorld) -> None:
    ours, theirs = several.run("env", "-d"), several.triton("env", "-d")
    assert ours.status == theirs.status == 1
    assert ours.err == _triton_text(theirs.err)
    assert ours.out == ""  # triton prints the other sections first

    slug = f"{ACCOUNT}@{several.url.split('://', 1)[1]}"
    for char in "!#$%^&*:'\"?/\\.":
        slug = slug.replace(char, "_")
    setup = several.home / ".triton" / "docker" / slug / "setup.json"
    setup.parent.mkdir(parents=True)
    setup.write_text(
        json.dumps({"env": {"DOCKER_HOST": "tcp://d:2376", "DOCKER_TLS_VERIFY": None}})
    )
    for args in (["env", "-d"], ["env"]):
        ours, theirs = several.run(*args), several.triton(*args)
        assert ours.status == theirs.status == 0
        assert ours.out == theirs.out.replace('"$(triton env', '"$(smartdc env')
    assert "export DOCKER_HOST=tcp://d:2376\n" in ours.out


# --- show --sources (smartdc only) -----------------------------------------------------------


def _sources(world: CliWorld, *args: str) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = world.ok(*args, "profile", "show", "--sources", "-j").json()
    return result


def test_show_sources_names_flag_env_and_profile(several: CliWorld) -> None:
    fancy_file = str(several.home / ".triton" / "profiles.d" / "fancy.json")
    shown = _sources(several.with_env(TRITON_PROFILE="fancy"), "-a", "zed")
    assert shown["profile"] == {"value": "fancy", "source": "TRITON_PROFILE environment variable"}
    assert shown["account"] == {"value": "zed", "source": "-a flag"}
    assert shown["url"]["value"] == "https://fancy.example.com"
    assert "'fancy'" in shown["url"]["source"] and fancy_file in shown["url"]["source"]
    assert shown["roles"]["value"] == ["ops", "it's"]

    shown = _sources(several)
    assert shown["profile"]["source"].startswith("config.json")
    shown = _sources(several, "-p", "env", "-U", "https://flag.example.com")
    assert shown["profile"] == {"value": "env", "source": "-p flag"}
    assert shown["url"] == {"value": "https://flag.example.com", "source": "-U flag"}
    assert shown["keyId"]["source"] == "TRITON_KEY_ID environment variable"
    assert shown["insecure"] == {"value": False, "source": "default"}

    # TRITON_URL feeds only the "env" profile, never a named one
    shown = _sources(several.with_env(TRITON_URL="https://other.example.com"))
    assert shown["url"]["value"] == several.url


def test_show_table_is_aligned(several: CliWorld) -> None:
    lines = several.ok("profile", "show", "fancy", "--sources").out.splitlines()
    assert lines[0].split() == ["SETTING", "VALUE", "SOURCE"]
    value_at, source_at = lines[0].index("VALUE"), lines[0].index("SOURCE")
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {
        "profile",
        "url",
        "account",
        "keyId",
        "user",
        "roles",
        "actAsAccount",
        "insecure",
        "caBundle",
    }
    for line in lines[1:]:
        assert line[value_at - 2 : value_at] == "  " and line[value_at] != " "
        assert line[source_at - 2 : source_at] == "  " and line[source_at] != " "
    assert rows["profile"][value_at:].split()[0] == "fancy"
    assert rows["profile"][source_at:] == "PROFILE argument"
    assert rows["actAsAccount"][value_at:].split()[0] == "corp"
    assert several.ok("profile", "show").out.splitlines()[0].split() == ["SETTING", "VALUE"]


def test_profile_commands_need_no_working_profile(home: CliWorld) -> None:
    assert home.run("profile", "ls").status == 0
    assert (
        home.run("profile", "create", "--no-docker", "-f", "-", stdin=json.dumps(_FANCY)).status
        == 0
    )
    assert home.ok("profile", "get", "fancy", "-j").json()["name"] == "fancy"
    assert home.ok("env", "fancy").out.endswith('#     eval "$(smartdc env)"\n')


# --- interactive create on a terminal --------------------------------------------------------


class _Pty:
    """A command on a pseudo-terminal, answered as a person would."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        import pty

        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # pragma: no cover - the child
            os.execve(argv[0], argv, env)
        self.seen = ""

    def expect(self, text: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"never saw {text!r} in:\n{self.seen}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"ended before {text!r}:\n{self.seen}")
                self.seen += chunk.decode("utf-8", "replace")
        self.seen = self.seen[self.seen.index(text) + len(text) :]

    def send(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def wait(self) -> int:
        try:
            while os.read(self.fd, 4096):
                pass
        except OSError:
            pass
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status)


def test_interactive_create_on_a_terminal(home: CliWorld, key_md5: str) -> None:
    env = dict(home.env, TERM="dumb", COLUMNS="80")
    term = _Pty([str(SMARTDC), "profile", "create", "--no-docker"], env)
    term.expect("name: ")
    term.send("Bad\r")
    term.expect("Must start with a lowercase letter")
    term.expect("name: ")
    term.send("typed\r")
    term.expect("url: ")
    term.send("\x15" + home.url + "\r")  # Ctrl+U clears the offered default
    term.expect("account: ")
    term.send("ab\r")
    term.expect("Must be at least 3 characters")
    term.send(ACCOUNT + "\r")
    term.expect(f'1. Fingerprint "{key_md5}" (2048-bit RSA)')
    term.expect("keyId: ")
    term.send("1\r")
    term.expect(f"Using key 1: {key_md5}")
    term.expect('Saved profile "typed".')
    term.expect('Set "typed" as current profile (because it is your only profile).')
    assert term.wait() == 0
    saved = json.loads((home.home / ".triton" / "profiles.d" / "typed.json").read_text())
    assert saved == {"url": home.url, "account": ACCOUNT, "keyId": key_md5}
    assert home.triton("ls").status == 0
