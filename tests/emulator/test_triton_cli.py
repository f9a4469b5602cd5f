"""The official ``triton`` CLI (node-triton 7.17) against the emulator."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from smartdc.emulator.server import EmulatorServer
from tests.conftest import ACCOUNT, TestKey

TRITON = Path(__file__).resolve().parents[2] / ".node" / "node_modules" / ".bin" / "triton"

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(not TRITON.exists() or shutil.which("node") is None, reason="no triton"),
]


def triton(emulator: EmulatorServer, key: TestKey, home: Path, *args: str) -> str:
    ssh = home / ".ssh"
    ssh.mkdir(parents=True, exist_ok=True)
    shutil.copy(key.path, ssh / "id_test")
    shutil.copy(key.pub_path, ssh / "id_test.pub")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SSH_AUTH_SOCK", "TRITON_"))}
    env.update(
        HOME=str(home),
        TRITON_URL=emulator.url,
        TRITON_ACCOUNT=ACCOUNT,
        TRITON_KEY_ID=key.md5,
    )
    result = subprocess.run(
        [str(TRITON), *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_account_keys_and_datacenters(
    emulator: EmulatorServer, keys: dict[str, TestKey], tmp_path: Path
) -> None:
    key = keys["rsa"]
    account = json.loads(triton(emulator, key, tmp_path, "account", "get", "-j"))
    assert account["login"] == ACCOUNT
    listed = [
        json.loads(line) for line in triton(emulator, key, tmp_path, "keys", "-j").splitlines()
    ]
    assert key.md5 in {k["fingerprint"] for k in listed}
    datacenters = triton(emulator, key, tmp_path, "datacenters", "-H")
    assert "us-test-1" in datacenters
    assert "us-test-2" in datacenters
