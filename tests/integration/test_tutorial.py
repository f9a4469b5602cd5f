"""``make demo``: the py-smartdc tutorial against a freshly started emulator subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from smartdc.emulator.server import EmulatorServer
from tests.conftest import ACCOUNT, TestKey

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.timeout(180)
def test_make_demo_runs_the_whole_tutorial() -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "run_demo.py"), "--machines", "2"],
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    for line in (
        "datacenter us-sw-1 listening on http://127.0.0.1:",
        "== east = sdc.datacenter('us-east-1')",
        "image: smartos64@1.6.3",
        "ok: the machine is running",
        "ok: the listed machine equals the created one",
        "ok: the machine has a public IP",
        "ok: every machine is stopped",
        "ok: east.num_machines() == 0",
        "tutorial: every step did what the original tutorial says it does",
    ):
        assert line in output, output
    # DEBUG_CONFIG echoes each CloudAPI call to stderr
    assert "smartdc: POST /demo/machines -> 201" in done.stderr


def test_tutorial_fails_loudly_on_an_unmet_step(
    emulator: EmulatorServer, keys: dict[str, TestKey]
) -> None:
    key = keys["ed25519"]
    done = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "tutorial.py"),
            "--url",
            emulator.url,
            "--location",
            "us-test-1",
            "--datacenter",
            "us-test-2",
            "--account",
            ACCOUNT,
            "--key-id",
            key.md5,
            "--secret",
            str(key.path),
            "--dataset",
            "sdc:sdc:smartos46:",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "ResourceNotFoundError" in done.stderr
    assert "smartos64" in done.stderr  # the close name is suggested
    assert "ok: the datacenter offers a package" in done.stdout


def test_tutorial_needs_a_key_id() -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "tutorial.py"), "--url", "http://127.0.0.1:9"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 2
    assert "--key-id" in done.stderr
