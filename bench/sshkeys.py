"""Throwaway SSH keys made with ``ssh-keygen``, and a throwaway HOME that holds one."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from smartdc.auth import load_private_key, md5_fingerprint


@dataclass(frozen=True)
class KeyType:
    """A key type as ``ssh-keygen -t TYPE -b BITS`` makes it."""

    label: str
    type: str
    bits: int


#: The key types CloudAPI users sign with, in the order the table lists them.
SIGNING_KEY_TYPES = (
    KeyType("RSA 2048", "rsa", 2048),
    KeyType("ECDSA P-256", "ecdsa", 256),
    KeyType("ECDSA P-521", "ecdsa", 521),
    KeyType("Ed25519", "ed25519", 256),
)


@dataclass(frozen=True)
class KeyFile:
    """A private key file (OpenSSH format, no passphrase) with its ``.pub`` beside it."""

    path: Path
    md5: str

    @property
    def pub_path(self) -> Path:
        return self.path.with_name(self.path.name + ".pub")


def generate(path: Path, key_type: KeyType) -> KeyFile:
    """Make a new key at ``path`` (and ``path.pub``)."""
    if shutil.which("ssh-keygen") is None:
        raise SystemExit("bench: ssh-keygen is needed to make throwaway keys")
    comment = f"{path.name}@smartdc-bench"
    command = ["ssh-keygen", "-q", "-t", key_type.type, "-b", str(key_type.bits), "-N", ""]
    subprocess.run([*command, "-C", comment, "-f", str(path)], check=True)
    return KeyFile(path, md5_fingerprint(load_private_key(path)))


def make_home(directory: Path, *, ed25519: bool = False) -> tuple[Path, KeyFile]:
    """A HOME whose ``~/.ssh/id_rsa`` is a new RSA 2048 key (or ``id_ed25519`` an Ed25519
    key), the one both CloudAPI clients find by its fingerprint."""
    ssh = directory / ".ssh"
    ssh.mkdir(parents=True, mode=0o700)
    if ed25519:
        return directory, generate(ssh / "id_ed25519", SIGNING_KEY_TYPES[3])
    return directory, generate(ssh / "id_rsa", SIGNING_KEY_TYPES[0])


def client_environment(home: Path, url: str, account: str, key: KeyFile) -> dict[str, str]:
    """The environment both clients run in: the throwaway HOME, the ``TRITON_*`` profile,
    no ssh-agent (so the key comes from ``~/.ssh``), no inherited ``TRITON_``/``SDC_``
    settings."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TRITON_", "SDC_")) and name != "SSH_AUTH_SOCK"
    }
    env.update(HOME=str(home), TRITON_URL=url, TRITON_ACCOUNT=account, TRITON_KEY_ID=key.md5)
    return env
