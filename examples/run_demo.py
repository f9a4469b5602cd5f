"""``make demo``: run the py-smartdc tutorial against a throwaway local emulator.

1. make a fresh Ed25519 key and a data directory in a temporary directory;
2. start ``smartdc-emulator`` as a subprocess with account ``demo``, that key, and the two
   datacenters the tutorial uses (``us-sw-1`` and ``us-east-1``), machines taking 1 s per
   state change;
3. wait until every datacenter answers ``GET /--ping``;
4. run ``examples/tutorial.py`` against it;
5. stop the emulator, remove the temporary directory, and exit with the tutorial's status.

Extra arguments are passed to the tutorial (``--quiet``, ``--machines 5`` ...).
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx

ACCOUNT = "demo"
KEY_NAME = "demo_key"
DATACENTERS = ("us-sw-1", "us-east-1")
START_TIMEOUT = 30.0
LISTENING = re.compile(r"^smartdc-emulator: datacenter (\S+) listening on (\S+)\s*$")
TUTORIAL = Path(__file__).with_name("tutorial.py")


class DemoError(Exception):
    """The demo could not be set up."""


def make_key(directory: Path) -> Path:
    """A new unencrypted Ed25519 key pair; returns the private key path (``.pub`` beside)."""
    path = directory / KEY_NAME
    try:
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "smartdc-demo", "-f", str(path)],
            check=True,
            capture_output=True,
        )
    except FileNotFoundError:
        raise DemoError("ssh-keygen is not installed (it comes with OpenSSH)") from None
    except subprocess.CalledProcessError as exc:
        raise DemoError(f"ssh-keygen failed: {exc.stderr.decode(errors='replace')}") from None
    return path


def emulator_command(pub_key: Path, data_dir: Path) -> list[str]:
    command = [sys.executable, "-m", "smartdc.emulator.server"]
    command += ["--account", ACCOUNT, "--key", str(pub_key)]
    for name in DATACENTERS:
        command += ["--datacenter", name]
    command += ["--port", "0", "--provision-delay", "1", "--data-dir", str(data_dir)]
    return command


@contextlib.contextmanager
def running_emulator(pub_key: Path, data_dir: Path) -> Iterator[dict[str, str]]:
    """Start the emulator; yield ``{datacenter: url}`` once all answer; stop it afterwards."""
    command = emulator_command(pub_key, data_dir)
    print("demo: starting", " ".join(command), flush=True)
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    lines: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=_pump, args=(process, lines), daemon=True)
    reader.start()
    try:
        urls = _wait_for_urls(process, lines)
        for url in urls.values():
            _wait_for_ping(url, process)
        yield urls
    finally:
        _stop(process)


def _pump(process: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.put(line)
        print(f"   [emulator] {line.rstrip()}", flush=True)
    lines.put(None)


def _wait_for_urls(
    process: subprocess.Popen[str], lines: queue.Queue[str | None]
) -> dict[str, str]:
    urls: dict[str, str] = {}
    deadline = time.monotonic() + START_TIMEOUT
    while len(urls) < len(DATACENTERS):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DemoError(f"the emulator did not report its URLs within {START_TIMEOUT:g}s")
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            continue
        if line is None:
            raise DemoError(f"the emulator exited early with status {process.wait()}")
        match = LISTENING.match(line)
        if match:
            urls[match[1]] = match[2]
    return urls


def _wait_for_ping(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DemoError(f"the emulator exited with status {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/--ping", timeout=2.0).status_code == 200:
                return
        time.sleep(0.1)
    raise DemoError(f"{url}/--ping did not answer within {START_TIMEOUT:g}s")


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(argv: Sequence[str] | None = None) -> int:
    extra = list(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="smartdc-demo-") as tmp:
        workdir = Path(tmp)
        try:
            key = make_key(workdir)
            data_dir = workdir / "data"
            data_dir.mkdir()
            with running_emulator(key.with_name(key.name + ".pub"), data_dir) as urls:
                first, second = DATACENTERS
                command = [
                    sys.executable,
                    str(TUTORIAL),
                    "--url",
                    urls[first],
                    "--location",
                    first,
                    "--datacenter",
                    second,
                    "--key-id",
                    f"/{ACCOUNT}/keys/{KEY_NAME}",
                    "--secret",
                    str(key),
                    *extra,
                ]
                print("demo: running", " ".join(command), flush=True)
                env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
                status = subprocess.run(command, env=env, check=False).returncode
        except DemoError as exc:
            print(f"demo: {exc}", file=sys.stderr, flush=True)
            return 2
    print(f"demo: tutorial exited with status {status}", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
