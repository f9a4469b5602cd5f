"""Serve a benchmark emulator from its own process, seeded with many machines.

The emulator runs apart from every client being measured, so no client shares a Python
interpreter (and its GIL) with the server it talks to.

    python bench/emulator_host.py --account bench --key id_rsa.pub --machines 3000

Prints one JSON line once serving, ``{"url", "account", "machine_ids", "seed_seconds",
"bare_url"}``, then serves until its standard input closes. :class:`EmulatorProcess` runs it.

``bare_url`` is a bare ASGI app served by uvicorn with the emulator's own settings
(:func:`smartdc.emulator.server.uvicorn_config`) in the same process: it answers every
request with the first machine's JSON and nothing else, the floor the emulator's request
path is measured against.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from smartdc.emulator.heap import freeze_heap
from smartdc.emulator.http_stack import run_event_loop
from smartdc.emulator.server import EmulatorServer, uvicorn_config
from smartdc.emulator.store import accounts, catalog, machines
from smartdc.emulator.store.nics import NicRequest

DATACENTER = "bench-1"
IMAGE_NAME = "base-64-lts"
PACKAGE_NAME = "g4-highcpu-1G"


def seed_machines(server: EmulatorServer, login: str, count: int, public_key: str) -> list[str]:
    """Create ``count`` running machines for ``login`` through the store, as CreateMachine
    would (both default networks, the account's key in ``root_authorized_keys``)."""
    db = server.db
    account = accounts.get_account(db, login)
    if account is None:
        raise SystemExit(f"account {login!r} was not created")
    owner = machines.Owner(str(account["id"]), DATACENTER)
    image = [i for i in catalog.list_images(db, owner.account) if i["name"] == IMAGE_NAME][-1]
    package = catalog.find_package_by_name(db, owner.account, PACKAGE_NAME)
    if package is None:
        raise SystemExit(f"package {PACKAGE_NAME!r} is not in the emulator's catalog")
    nic_requests = [NicRequest(record) for record in catalog.list_networks(db, owner.account)]
    now = time.time()
    # One transaction for the lot: each create joins it instead of committing on its own.
    with db.transaction():
        for index in range(count):
            spec = machines.MachineSpec(
                image=image,
                package=package,
                brand="joyent",
                nics=nic_requests,
                name=f"bench-{index:05d}",
                metadata={"root_authorized_keys": public_key},
                tags={"role": "web" if index % 2 else "db"},
            )
            machines.create_machine(db, owner, spec, caller={}, now=now, provision_delay=0)
    # Reading settles the provision jobs, so every machine is listed as running.
    listed = machines.list_machines(db, owner, machines.MachineQuery(), time.time())
    not_running = [m["id"] for m in listed if m["state"] != "running"]
    if len(listed) != count or not_running:
        raise SystemExit(f"seeding made {len(listed)} machines, {len(not_running)} not running")
    return [str(m["id"]) for m in listed]


Message = MutableMapping[str, Any]


class BareApp:
    """The least an ASGI app can do: the same JSON body for every request."""

    def __init__(self, body: bytes) -> None:
        self.headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        self.body = body

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body", False):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})


def serve_bare(body: bytes) -> str:
    """Serve :class:`BareApp` on a free loopback port from a daemon thread; its URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    server = uvicorn.Server(uvicorn_config(BareApp(body)))
    threading.Thread(
        target=lambda: run_event_loop(server.serve(sockets=[sock])), name="bare", daemon=True
    ).start()
    while not server.started:
        time.sleep(0.01)
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


@dataclass(frozen=True)
class SeededEmulator:
    """A serving benchmark emulator: where it is, whose machines, how long seeding took."""

    url: str
    account: str
    machine_ids: list[str]
    seed_seconds: float
    bare_url: str


class EmulatorProcess:
    """Runs this script in a child process for the length of a ``with`` block."""

    def __init__(
        self,
        account: str,
        public_key: Path,
        machines: int,
        workers: int = 1,
        on_disk: bool = False,
    ) -> None:
        self.command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--account",
            account,
            "--key",
            str(public_key),
            "--machines",
            str(machines),
            "--workers",
            str(workers),
            *(["--on-disk"] if on_disk else []),
        ]
        self._proc: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int | None:
        """The emulator process's id while it runs."""
        return None if self._proc is None else self._proc.pid

    def __enter__(self) -> SeededEmulator:
        self._proc = subprocess.Popen(
            self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            code = self._proc.wait()
            raise RuntimeError(f"the benchmark emulator exited with {code} before serving")
        ready = json.loads(line)
        return SeededEmulator(
            url=str(ready["url"]),
            account=str(ready["account"]),
            machine_ids=[str(i) for i in ready["machine_ids"]],
            seed_seconds=float(ready["seed_seconds"]),
            bare_url=str(ready["bare_url"]),
        )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        proc = self._proc
        if proc is None:
            return
        self._proc = None
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--account", required=True)
    parser.add_argument("--key", required=True, type=Path, help="OpenSSH public key file")
    parser.add_argument("--machines", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1, help="processes (a data dir then)")
    parser.add_argument("--on-disk", action="store_true", help="keep state in a data dir")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="smartdc-bench-emulator-") as data_dir:
        server = EmulatorServer(
            accounts={args.account: [args.key]},
            datacenters=[DATACENTER],
            provision_delay=0.0,
            data_dir=data_dir if args.workers > 1 or args.on_disk else None,
            workers=args.workers,
        )
        return _serve(server, args.account, args.key, args.machines)


def _serve(server: EmulatorServer, account_login: str, key: Path, count: int) -> int:
    with server:
        started = time.perf_counter()
        public_key = key.read_text(encoding="utf-8").strip()
        ids = seed_machines(server, account_login, count, public_key)
        sample: Any = {"id": "none"}
        account = accounts.get_account(server.db, account_login)
        if ids and account is not None:
            owner = machines.Owner(str(account["id"]), DATACENTER)
            sample = machines.get_machine(server.db, owner, ids[0], time.time())
        ready: dict[str, Any] = {
            "bare_url": serve_bare(json.dumps(sample).encode()),
            "url": server.url,
            "account": account_login,
            "machine_ids": ids,
            "seed_seconds": time.perf_counter() - started,
        }
        freeze_heap()  # as smartdc-emulator does once serving
        print(json.dumps(ready), flush=True)
        sys.stdin.read()
    return 0


if __name__ == "__main__":
    sys.exit(main())
