"""The node peers: where they are installed, their versions, and running their scripts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
JS_DIR = Path(__file__).resolve().parent / "js"
NODE_MODULES = Path(os.environ.get("SMARTDC_NODE_MODULES", REPO / ".node" / "node_modules"))
TRITON = NODE_MODULES / ".bin" / "triton"
PEER_PACKAGES = ("triton", "http-signature", "sshpk")


def node_executable() -> str:
    """The ``node`` on PATH, after checking the peers are installed."""
    node = shutil.which("node")
    if node is None:
        raise SystemExit("bench: node is not on PATH; the peers run on node 20")
    missing = [name for name in PEER_PACKAGES if not (NODE_MODULES / name).is_dir()]
    if missing or not TRITON.exists():
        raise SystemExit(
            f"bench: node peers missing from {NODE_MODULES} ({', '.join(missing) or 'triton'});"
            " run `make node-peers`"
        )
    return node


def versions() -> dict[str, str]:
    """node, its OpenSSL, and the peer packages' versions."""
    out = subprocess.run(
        [node_executable(), "-p", "process.version + ' ' + process.versions.openssl"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    found = {"node": out[0], "node openssl": out[1]}
    for name in PEER_PACKAGES:
        manifest = json.loads((NODE_MODULES / name / "package.json").read_text(encoding="utf-8"))
        found[name] = str(manifest["version"])
    return found


def _failure(script: str, returncode: int | None, stderr: str) -> RuntimeError:
    return RuntimeError(f"node {script} failed (exit {returncode}):\n{stderr.strip()}")


class Session:
    """A long-lived ``js/<script>`` that answers each line written to it with a JSON line."""

    def __init__(self, script: str, env: Mapping[str, str] | None = None) -> None:
        self.script = script
        self._proc = subprocess.Popen(
            [node_executable(), str(JS_DIR / script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=None if env is None else dict(env),
        )

    def ask(self, message: Any) -> Any:
        """Send ``message`` (a string as is, anything else as JSON); the decoded answer."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        line = message if isinstance(message, str) else json.dumps(message)
        self._proc.stdin.write(line + "\n")
        self._proc.stdin.flush()
        answer = self._proc.stdout.readline()
        if not answer:
            stderr = self._proc.stderr.read() if self._proc.stderr is not None else ""
            raise _failure(self.script, self._proc.wait(), stderr)
        return json.loads(answer)

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        for stream in (self._proc.stdout, self._proc.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
