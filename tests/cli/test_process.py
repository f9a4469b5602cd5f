"""``smartdc`` as its own process: start-up, what it loads, pipes, help, versions, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from smartdc import __version__
from tests.cli.harness import SMARTDC, CliWorld

#: Modules no command may load: the emulator's server stack, httpx, and heavy helpers.
NEVER_LOADED = (
    "httpx",
    "uvicorn",
    "smartdc.emulator",
    "smartdc.objects",
    "dataclasses",
    "email",
    "shutil",
    "click",
)


@pytest.fixture(scope="module")
def running(world: CliWorld) -> str:
    """One instance, ``proc1``, for the commands below."""
    result = world.ok("create", "-w", "-j", "-n", "proc1", "base-64-lts", "g4-highcpu-128M")
    machine_id: str = result.ndjson()[-1]["id"]
    return machine_id


def _loaded_by(world: CliWorld, *args: str) -> set[str]:
    code = (
        "import sys, json, io\n"
        "from smartdc.cli import main\n"
        "from smartdc.cli.context import Streams\n"
        f"status = main({list(args)!r}, Streams(stdout=io.StringIO(), stderr=io.StringIO()))\n"
        "print(json.dumps([status, sorted(sys.modules)]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=world.env, capture_output=True, text=True, check=True
    )
    status, modules = json.loads(proc.stdout)
    assert status == 0, args
    return set(modules)


@pytest.mark.parametrize(
    "args",
    [("ls",), ("inst", "get", "proc1"), ("profile", "list"), ("--version",), ("pkgs",)],
)
def test_commands_load_only_what_they_need(
    world: CliWorld, running: str, args: tuple[str, ...]
) -> None:
    loaded = _loaded_by(world, *args)
    heavy = sorted(m for m in loaded for h in NEVER_LOADED if m == h or m.startswith(h + "."))
    assert heavy == []
    if args[0] in ("profile", "--version"):
        # Nothing that signs or talks to CloudAPI.
        assert not {"smartdc.api", "cryptography", "socket"} & loaded


def test_list_and_get_run_as_a_process(world: CliWorld, running: str) -> None:
    listed = world.subprocess("ls", "-H", "-o", "id,name,state")
    assert (listed.status, listed.err) == (0, "")
    assert listed.out.split() == [running, "proc1", "running"]
    got = world.subprocess("inst", "get", "-j", "proc1")
    assert json.loads(got.out)["id"] == running


def test_python_dash_m_runs_the_same_cli(world: CliWorld, running: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "smartdc.cli", "ls", "-H", "-o", "name"],
        env=world.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (proc.returncode, proc.stdout) == (0, "proc1\n")


def test_a_closed_pipe_ends_quietly(world: CliWorld, running: str) -> None:
    # `smartdc ls | head -0`: the reader leaves before the output is written.
    proc = subprocess.run(
        f"{SMARTDC} ls -o name | head -c 0",
        shell=True,
        env=world.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


def test_version_and_help(world: CliWorld) -> None:
    assert world.subprocess("--version").out == f"smartdc {__version__}\n"
    top = world.subprocess("--help")
    assert top.status == 0
    for command in ("instance (inst)", "image (img)", "profile", "fwrule", "volume (vol)"):
        assert command in top.out
    assert "rbac" not in top.out  # hidden, as in triton
    assert world.run("help", "instance").out.startswith("List and manage Triton instances.")
    assert "usage: smartdc instance ls" in world.run("help", "inst", "ls").out
    assert world.run("inst", "ls", "-h").out.count("usage:") == 1


def test_unknown_commands_exit_1_like_triton(world: CliWorld) -> None:
    for args in (["frob"], ["instance", "frob"], ["image", "frob"]):
        ours, theirs = world.run(*args), world.triton(*args)
        assert ours.status == theirs.status == 1, args
        assert ours.err.replace("smartdc", "triton").splitlines()[0] == theirs.err.splitlines()[0]


def test_verbose_traces_requests_without_secrets(world: CliWorld, running: str) -> None:
    result = world.run("-v", "inst", "get", "proc1")
    assert result.status == 0
    assert "GET /test/machines" in result.err
    assert "request-id=" in result.err
    assert "Signature" not in result.err and "signature=" not in result.err
    assert "PRIVATE KEY" not in result.err


def test_no_key_names_what_was_tried(world: CliWorld) -> None:
    wrong = "11:22:33:44:55:66:77:88:99:00:11:22:33:44:55:66"
    result = world.with_env(TRITON_KEY_ID=wrong).run("ls")
    assert result.status == 1
    assert result.err.startswith(
        f"smartdc instance list: error (Signing): no key with fingerprint {wrong}"
    )
    assert f"id_rsa ({world.key.md5})" in result.err


def test_p384_keys_sign(world: CliWorld, keys: dict[str, object], cli_emulator: object) -> None:
    from smartdc.api import CloudAPI
    from tests.conftest import ACCOUNT, TestKey

    p384 = keys["ecdsa384"]
    assert isinstance(p384, TestKey)
    with CloudAPI(world.url, ACCOUNT, key_file=world.key.path) as api:
        api.create_key(key=p384.pub_path.read_text(), name="p384")
    try:
        other = CliWorld(world.home.parent / "p384-home", world.url, p384)
        result = other.run("account", "get", "-j")
        assert result.status == 0, result.err
        assert result.json()["login"] == ACCOUNT
    finally:
        with CloudAPI(world.url, ACCOUNT, key_file=world.key.path) as api:
            api.delete_key("p384")
