"""Running the node CloudAPI clients (``triton``, node-smartdc) as a user would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from smartdc.emulator.server import EmulatorServer
from tests.conftest import ACCOUNT, TestKey

REPO = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO / ".node" / "node_modules"
TRITON = NODE_MODULES / ".bin" / "triton"


def client_environment(home: Path, url: str, key: TestKey) -> dict[str, str]:
    """Environment for a node client: a throwaway HOME whose ``~/.ssh`` holds ``key``.

    Both clients find the key in ``~/.ssh`` by the fingerprint they are given, and both
    read ``TRITON_*`` or ``SDC_*`` for the endpoint and account; only ours are set.
    ``SSH_AUTH_SOCK`` is removed, not emptied: an empty one crashes their agent code.
    """
    ssh = home / ".ssh"
    ssh.mkdir(parents=True)
    shutil.copy(key.path, ssh / "id_rsa")
    shutil.copy(key.pub_path, ssh / "id_rsa.pub")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRITON_", "SDC_"))}
    env.pop("SSH_AUTH_SOCK", None)
    env.update(
        HOME=str(home),
        TRITON_URL=url,
        TRITON_ACCOUNT=ACCOUNT,
        TRITON_KEY_ID=key.md5,
        SDC_URL=url,
        SDC_ACCOUNT=ACCOUNT,
        SDC_KEY_ID=key.md5,
    )
    return env


class Triton:
    """Runs ``triton`` with a throwaway HOME holding one key, configured by environment."""

    def __init__(self, home: Path, url: str, key: TestKey) -> None:
        self.env = client_environment(home, url, key)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(TRITON), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if check and proc.returncode != 0:
            pytest.fail(
                f"triton {' '.join(args)} exited {proc.returncode}\n"
                f"stdout: {proc.stdout}\nstderr: {proc.stderr}"
            )
        return proc

    def json(self, *args: str) -> Any:
        """The last JSON document printed (``create -w -j`` prints one per state seen)."""
        lines = [line for line in self.run(*args, "-j").stdout.splitlines() if line.strip()]
        return json.loads(lines[-1])

    def ndjson(self, *args: str) -> list[Any]:
        out = self.run(*args, "-j").stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]


def require_triton() -> None:
    """Skip the calling test unless the triton CLI is installed."""
    if not TRITON.exists():
        pytest.skip(f"triton CLI not installed at {TRITON} (run `make node-peers`)")


@contextmanager
def private_triton(
    key: TestKey,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    *,
    provision_delay: float = 0.0,
) -> Iterator[Triton]:
    """``triton`` against an emulator of its own: account ``test`` holding ``key`` only.

    For tests that change what other tests would see (catalog, networks, account state).
    """
    require_triton()
    with EmulatorServer(
        accounts={ACCOUNT: [key.pub_path]},
        data_dir=tmp_path_factory.mktemp(f"triton-{name}-data"),
        provision_delay=provision_delay,
    ) as server:
        yield Triton(tmp_path_factory.mktemp(f"triton-{name}-home"), server.url, key)
