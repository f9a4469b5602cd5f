"""Running ``smartdc`` in tests: in-process (fast) or as a subprocess, and ``triton`` beside it.

A :class:`CliWorld` is a throwaway HOME whose ``~/.ssh`` holds one test key, environment
variables pointing at an emulator, and runners for both CLIs with exactly that environment,
so their outputs can be compared.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from smartdc.cli import main
from smartdc.cli.context import Streams
from tests.conftest import ACCOUNT, TestKey
from tests.interop.node_peers import TRITON

SMARTDC = Path(sys.executable).with_name("smartdc")


@dataclass(frozen=True)
class Result:
    """A finished command: exit status and what it printed."""

    status: int
    out: str
    err: str

    def json(self) -> Any:
        """Standard output as one JSON document."""
        return json.loads(self.out)

    def ndjson(self) -> list[Any]:
        """Standard output as JSON lines."""
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


class CliWorld:
    """A HOME with one key and the environment for ``url``; runs smartdc and triton."""

    def __init__(self, home: Path, url: str, key: TestKey, account: str = ACCOUNT) -> None:
        self.home = home
        self.url = url
        self.key = key
        ssh = home / ".ssh"
        ssh.mkdir(parents=True, exist_ok=True)
        shutil.copy(key.path, ssh / "id_rsa")
        shutil.copy(key.pub_path, ssh / "id_rsa.pub")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TRITON_", "SDC_"))}
        env.pop("SSH_AUTH_SOCK", None)
        env.pop("XDG_CONFIG_HOME", None)
        env.update(HOME=str(home), TRITON_URL=url, TRITON_ACCOUNT=account, TRITON_KEY_ID=key.md5)
        self.env: dict[str, str] = env

    def with_env(self, **changes: str | None) -> CliWorld:
        """A copy whose environment has ``changes`` (``None`` removes a variable)."""
        other = object.__new__(CliWorld)
        other.home, other.url, other.key = self.home, self.url, self.key
        other.env = dict(self.env)
        for name, value in changes.items():
            if value is None:
                other.env.pop(name, None)
            else:
                other.env[name] = value
        return other

    @contextmanager
    def _environment(self) -> Iterator[None]:
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(self.env)
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def run(self, *args: str, stdin: str = "") -> Result:
        """``smartdc ARGS`` in this process (stdin, stdout and stderr are not terminals)."""
        streams = Streams(stdin=io.StringIO(stdin), stdout=io.StringIO(), stderr=io.StringIO())
        with self._environment():
            status = main(list(args), streams)
        assert isinstance(streams.stdout, io.StringIO)
        assert isinstance(streams.stderr, io.StringIO)
        return Result(status, streams.stdout.getvalue(), streams.stderr.getvalue())

    def ok(self, *args: str, stdin: str = "") -> Result:
        """Like :meth:`run`, failing the test unless the command exits 0."""
        result = self.run(*args, stdin=stdin)
        if result.status != 0:
            pytest.fail(f"smartdc {' '.join(args)} exited {result.status}\n{result.err}")
        return result

    def subprocess(self, *args: str, stdin: str = "", timeout: float = 120) -> Result:
        """``smartdc ARGS`` as its own process, as a user runs it."""
        proc = subprocess.run(
            [str(SMARTDC), *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def triton(self, *args: str, stdin: str = "", timeout: float = 180) -> Result:
        """The real ``triton ARGS`` with the same environment (skips if not installed)."""
        if not TRITON.exists():
            pytest.skip(f"triton CLI not installed at {TRITON} (run `make node-peers`)")
        proc = subprocess.run(
            [str(TRITON), *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)


def without_volatile(item: Mapping[str, Any], *names: str) -> dict[str, Any]:
    """``item`` minus fields that change between two reads (``age`` and the like)."""
    return {key: value for key, value in item.items() if key not in names}
