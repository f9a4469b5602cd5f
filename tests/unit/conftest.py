"""Fixtures for unit tests: a real ``ssh-agent`` process holding the test keys."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from tests.conftest import TestKey

#: Keys the shared agent holds (unencrypted ones, so ``ssh-add`` needs no passphrase).
AGENT_KEYS = ("rsa", "ecdsa256", "ecdsa384", "ecdsa521", "ed25519")


class SSHAgent:
    """An ``ssh-agent -D`` process on a private socket; stop it with :meth:`stop`."""

    def __init__(self) -> None:
        if shutil.which("ssh-agent") is None or shutil.which("ssh-add") is None:
            pytest.skip("ssh-agent/ssh-add are not installed")
        # A short directory: UNIX socket paths are limited to ~100 bytes.
        self._dir = Path(tempfile.mkdtemp(prefix="sdc-agent-"))
        self.socket_path = str(self._dir / "agent.sock")
        self._process = subprocess.Popen(
            ["ssh-agent", "-D", "-a", self.socket_path],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not os.path.exists(self.socket_path):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail("ssh-agent did not start")
            time.sleep(0.01)

    def add(self, keys: Iterable[TestKey]) -> None:
        """``ssh-add`` the given (unencrypted) keys."""
        env = {**os.environ, "SSH_AUTH_SOCK": self.socket_path}
        for key in keys:
            subprocess.run(
                ["ssh-add", "-q", str(key.path)], env=env, check=True, capture_output=True
            )

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        shutil.rmtree(self._dir, ignore_errors=True)


@pytest.fixture(scope="session")
def ssh_agent(keys: dict[str, TestKey]) -> Iterator[SSHAgent]:
    """One agent for the session, holding the keys named in :data:`AGENT_KEYS`."""
    agent = SSHAgent()
    try:
        agent.add(keys[name] for name in AGENT_KEYS)
        yield agent
    finally:
        agent.stop()


@pytest.fixture
def empty_agent() -> Iterator[SSHAgent]:
    """A fresh agent holding no keys."""
    agent = SSHAgent()
    try:
        yield agent
    finally:
        agent.stop()
