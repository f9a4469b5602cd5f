"""node-smartdc (npm smartdc@9.0.1, the ``sdc-*`` tools) drives the emulator.

node-smartdc differs from ``triton`` in ways the emulator must accept: it signs ``date``
only, asks for API version ``~7.2`` and names the account ``my`` in paths.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from smartdc.emulator.server import EmulatorServer
from tests.conftest import ACCOUNT, TestKey
from tests.interop.node_peers import NODE_MODULES, client_environment

pytestmark = pytest.mark.interop

SDC_BIN = NODE_MODULES / "smartdc" / "bin"


class Sdc:
    """Runs ``sdc-*`` tools with SDC_* variables and a throwaway HOME holding one key."""

    def __init__(self, home: Path, url: str, key: TestKey) -> None:
        self.env = client_environment(home, url, key)

    def run(self, tool: str, *args: str) -> Any:
        proc = subprocess.run(
            ["node", str(SDC_BIN / tool), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if proc.returncode != 0:
            pytest.fail(f"{tool} {' '.join(args)} exited {proc.returncode}\n{proc.stderr}")
        return json.loads(proc.stdout) if proc.stdout.strip() else None


@pytest.fixture(scope="module")
def sdc(
    emulator: EmulatorServer, keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> Sdc:
    if shutil.which("node") is None or not (SDC_BIN / "sdc-getaccount").exists():
        pytest.skip(f"node-smartdc not installed under {SDC_BIN} (run `make node-peers`)")
    return Sdc(tmp_path_factory.mktemp("sdc-home"), emulator.url, keys["rsa_pem"])


def test_account_and_keys(sdc: Sdc, keys: dict[str, TestKey]) -> None:
    assert sdc.run("sdc-getaccount")["login"] == ACCOUNT
    fingerprints = {k["fingerprint"] for k in sdc.run("sdc-listkeys")}
    assert keys["rsa_pem"].md5 in fingerprints


def test_machine_round_trip(sdc: Sdc) -> None:
    image = next(i for i in sdc.run("sdc-listimages") if i["name"] == "base-64-lts")
    package = next(p for p in sdc.run("sdc-listpackages") if p["name"] == "Small 1GB")
    created = sdc.run(
        "sdc-createmachine",
        "--image",
        image["id"],
        "--package",
        package["id"],
        "--name",
        "sdc-interop",
        "--tag",
        "owner=sdc",
    )
    machine_id = created["id"]
    assert created["state"] == "provisioning"

    got = sdc.run("sdc-getmachine", machine_id)
    assert got["name"] == "sdc-interop"
    assert got["tags"] == {"owner": "sdc"}
    assert [m["id"] for m in sdc.run("sdc-listmachines") if m["name"] == "sdc-interop"] == [
        machine_id
    ]

    sdc.run("sdc-stopmachine", machine_id)
    sdc.run("sdc-deletemachine", machine_id)
    audit = [entry["action"] for entry in sdc.run("sdc-getmachineaudit", machine_id)]
    assert audit[0] == "destroy"
    assert "provision" in audit
