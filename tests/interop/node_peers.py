"""Running the node CloudAPI clients (``triton``, node-smartdc) as a user would."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.conftest import ACCOUNT, TestKey

REPO = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO / ".node" / "node_modules"


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
