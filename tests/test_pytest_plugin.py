"""The smartdc pytest plugin: its worked example runs, and ``--smartdc-profile`` points the same
fixtures at another cloud (here: a second emulator standing in for a real one)."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

from smartdc.emulator.server import EmulatorServer
from tests.conftest import ACCOUNT, TestKey

ROOT = Path(__file__).resolve().parents[1]


def _plugin_args() -> list[str]:
    """``-p`` for the plugin unless the installed entry point already loads it."""
    registered = any(ep.name == "smartdc" for ep in entry_points(group="pytest11"))
    return [] if registered else ["-p", "smartdc.pytest_plugin"]


def _pytest(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *_plugin_args(), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )


def test_the_worked_example_passes() -> None:
    done = _pytest("examples/pytest_plugin")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed" in done.stdout


def test_a_profile_runs_the_same_tests_against_another_cloud(
    emulator: EmulatorServer, keys: dict[str, TestKey], tmp_path: Path
) -> None:
    (tmp_path / "test_cloud.py").write_text(
        "def test_keys(smartdc_api):\n"
        f"    assert smartdc_api.account == {ACCOUNT!r}\n"
        "    assert smartdc_api.list_keys()\n"
        "\n"
        "def test_faults_need_the_emulator(smartdc_faults):\n"
        "    raise AssertionError('not reached')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRITON_", "SDC_"))}
    env.update(
        TRITON_URL=emulator.url,
        TRITON_ACCOUNT=ACCOUNT,
        TRITON_KEY_ID=keys["ed25519"].md5,
        SSH_AUTH_SOCK="",
        HOME=str(tmp_path),
    )
    ssh = tmp_path / ".ssh"
    ssh.mkdir()
    (ssh / "id_ed25519").write_bytes(Path(keys["ed25519"].path).read_bytes())
    (ssh / "id_ed25519").chmod(0o600)
    (ssh / "id_ed25519.pub").write_bytes(Path(keys["ed25519"].pub_path).read_bytes())
    env.pop("SSH_AUTH_SOCK")
    done = _pytest(str(tmp_path / "test_cloud.py"), "--smartdc-profile", "env", "-rs", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed, 1 skipped" in done.stdout
    assert "needs the emulator" in done.stdout
