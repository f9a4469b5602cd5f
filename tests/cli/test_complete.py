"""Shell completion: scripts for bash, zsh and fish, and the words they are offered."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from smartdc.api import CloudAPI
from tests.cli.harness import SMARTDC, CliWorld
from tests.conftest import ACCOUNT


@pytest.fixture(scope="module")
def named(world: CliWorld) -> dict[str, str]:
    """Two instances, ``web-a`` and ``web-b``, by name → id."""
    with CloudAPI(world.url, ACCOUNT, key_file=world.key.path) as api:
        image = max(api.list_images(name="base-64-lts"), key=lambda i: i["published_at"])
        made = {
            name: api.create_machine(image=image["id"], package="g4-highcpu-128M", name=name)
            for name in ("web-a", "web-b")
        }
    return {name: machine["id"] for name, machine in made.items()}


def words(world: CliWorld, *line: str) -> list[str]:
    result = world.ok("__complete", "--", "smartdc", *line)
    assert result.err == ""
    return result.out.splitlines()


def test_commands_and_subcommands_complete_from_the_command_tree(world: CliWorld) -> None:
    assert words(world, "in") == ["info", "inst", "instance", "instances", "insts"]
    assert "snapshot" in words(world, "instance", "")
    assert words(world, "inst", "sn") == ["snapshot"]
    assert words(world, "-") and all(w.startswith("-") for w in words(world, "-"))


def test_options_complete_for_the_command_being_typed(world: CliWorld) -> None:
    offered = words(world, "ls", "--")
    assert {"--json", "--long", "--credentials"} <= set(offered)
    assert "--wait" not in offered


def test_instance_names_complete_and_are_cached_for_five_minutes(
    world: CliWorld, named: dict[str, str]
) -> None:
    offered = words(world, "inst", "get", "web-")
    assert offered == ["web-a", "web-b"]
    short_ids = words(world, "instance", "get", named["web-a"][:3])
    assert named["web-a"][:8] in short_ids
    cache = next(Path(world.home, ".triton", "cache").glob("*/instances.completions"))
    assert "web-a" in cache.read_text().splitlines()
    # A name made after the cache was written is not fetched until the cache is stale ...
    with CloudAPI(world.url, ACCOUNT, key_file=world.key.path) as api:
        image = max(api.list_images(name="base-64-lts"), key=lambda i: i["published_at"])
        api.create_machine(image=image["id"], package="g4-highcpu-128M", name="web-c")
    assert words(world, "inst", "get", "web-") == ["web-a", "web-b"]
    stale = time.time() - 301
    os.utime(cache, (stale, stale))
    assert words(world, "inst", "get", "web-") == ["web-a", "web-b", "web-c"]


def test_packages_and_images_complete_in_create(world: CliWorld) -> None:
    assert "base-64-lts" in words(world, "create", "base-64")
    assert "g4-highcpu-128M" in words(world, "create", "base-64-lts", "g4-highcpu-1")


def test_completion_never_prints_errors_into_the_shell(world: CliWorld) -> None:
    broken = world.with_env(TRITON_URL="http://127.0.0.1:1")
    result = broken.ok("__complete", "--", "smartdc", "-p", "env", "inst", "get", "x")
    assert (result.out, result.err) == ("", "")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_each_shell_gets_a_script_naming_the_command(world: CliWorld, shell: str) -> None:
    script = world.ok("completion", shell, "--name", "triton").out
    assert "__complete" in script
    assert "smartdc" in script and "triton" in script


def test_the_bash_script_completes_in_a_real_bash(world: CliWorld, named: dict[str, str]) -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    script = world.ok("completion", "bash").out
    probe = (
        script
        + f"\nCOMP_WORDS=({SMARTDC} inst get web-); COMP_CWORD=3; _smartdc_complete;"
        + ' printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    out = subprocess.run(
        [bash, "--norc", "-c", probe], env=world.env, capture_output=True, text=True, check=True
    ).stdout
    assert {"web-a", "web-b"} <= set(out.split())
