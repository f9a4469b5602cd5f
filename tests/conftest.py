"""Fixtures shared by every test: throwaway SSH keys and a running emulator."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from smartdc.emulator.server import EmulatorServer

ACCOUNT = "test"
PASSPHRASE = "correct horse"


@dataclass(frozen=True)
class TestKey:
    """A private key file, its ``.pub`` beside it, and facts about it."""

    __test__ = False

    name: str
    path: Path
    kind: str
    passphrase: str | None = None

    @property
    def pub_path(self) -> Path:
        return self.path.with_name(self.path.name + ".pub")

    @property
    def md5(self) -> str:
        return _fingerprint(self.pub_path, "md5").removeprefix("MD5:")

    @property
    def sha256(self) -> str:
        return _fingerprint(self.pub_path, "sha256")


def _fingerprint(pub: Path, hash_name: str) -> str:
    out = subprocess.run(
        ["ssh-keygen", "-l", "-E", hash_name, "-f", str(pub)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.split()[1]


# (name, ssh-keygen -t, -b, private key format, passphrase)
KEY_SPECS = [
    ("rsa", "rsa", "2048", "RFC4716", None),
    ("rsa_pem", "rsa", "2048", "PEM", None),
    ("rsa_pkcs8", "rsa", "2048", "PKCS8", None),
    ("ecdsa256", "ecdsa", "256", "RFC4716", None),
    ("ecdsa384", "ecdsa", "384", "PEM", None),
    ("ecdsa521", "ecdsa", "521", "RFC4716", None),
    ("ed25519", "ed25519", "256", "RFC4716", None),
    ("rsa_encrypted", "rsa", "2048", "RFC4716", PASSPHRASE),
    ("ecdsa_encrypted_pem", "ecdsa", "256", "PEM", PASSPHRASE),
]


#: Every test key's name, for parametrizing over all key types and formats.
KEY_NAMES = [spec[0] for spec in KEY_SPECS]


def make_key(
    directory: Path, name: str, kind: str, bits: str, fmt: str, passphrase: str | None
) -> TestKey:
    """Create a key with ``ssh-keygen`` (RFC4716 means OpenSSH's own private-key format)."""
    path = directory / name
    subprocess.run(
        [
            "ssh-keygen",
            "-q",
            "-t",
            kind,
            "-b",
            bits,
            "-m",
            fmt,
            "-N",
            passphrase or "",
            "-C",
            f"{name}@smartdc-tests",
            "-f",
            str(path),
        ],
        check=True,
    )
    return TestKey(name=name, path=path, kind=kind, passphrase=passphrase)


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, TestKey]:
    """Every key type the suite exercises, by name (see ``KEY_SPECS``)."""
    directory = tmp_path_factory.mktemp("keys")
    return {spec[0]: make_key(directory, *spec) for spec in KEY_SPECS}


@pytest.fixture(scope="session")
def emulator(
    keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmulatorServer]:
    """Real emulator on loopback: two datacenters, instant lifecycle, all test keys on ``test``"""
    server = EmulatorServer(
        accounts={ACCOUNT: [k.pub_path for k in keys.values()]},
        datacenters=["us-test-1", "us-test-2"],
        data_dir=tmp_path_factory.mktemp("emulator-data"),
        provision_delay=0.0,
    )
    with server:
        yield server
