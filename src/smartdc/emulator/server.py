"""Running the emulator: :class:`EmulatorServer` for programs and tests, ``main`` for the
``smartdc-emulator`` command.

Every datacenter gets its own port and ASGI app; all of them share one :class:`Database`,
as the datacenters of a Triton region share accounts and keys. The uvicorn servers run in
one event loop on a background thread, so signals stay with the main thread.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import uvicorn

from smartdc.emulator.app import create_app
from smartdc.emulator.clock import ManualClock
from smartdc.emulator.context import DEFAULT_PROVISION_DELAY, EmulatorConfig, EmulatorError
from smartdc.emulator.control import reset_state
from smartdc.emulator.db import Database
from smartdc.emulator.scheduler import Scheduler
from smartdc.emulator.store import accounts
from smartdc.errors import SmartDCError

DEFAULT_DATACENTER = "local-1"
DEFAULT_ACCOUNT = "demo"
DATABASE_FILE = "emulator.sqlite3"
STARTUP_TIMEOUT = 15.0

# Names end up in URL paths, hostnames and `triton` profiles, so they stay plain.
_LOGIN_RE = re.compile(r"[A-Za-z][A-Za-z0-9_.@-]*")
_DATACENTER_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class EmulatorSetupError(ValueError):
    """The emulator cannot start with the options given (bad key file, port in use ...)."""


def read_public_key(path: str | os.PathLike[str]) -> tuple[str, str]:
    """``(OpenSSH line, key name)`` from a ``.pub`` file; the name is the file name without
    ``.pub``. Raises :class:`EmulatorSetupError` naming the file when it is missing or is
    not a public key."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EmulatorSetupError(f"public key file not found: {file}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EmulatorSetupError(f"cannot read public key file {file}: {exc}") from None
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if not lines:
        raise EmulatorSetupError(f"{file} is empty: expected an OpenSSH public key")
    try:
        accounts.key_fingerprint(lines[0])
    except Exception:
        raise EmulatorSetupError(f"{file} is not an OpenSSH public key") from None
    name = file.name.removesuffix(".pub")
    return lines[0], name


def check_names(logins: Sequence[str], datacenters: Sequence[str]) -> None:
    """Raise :class:`EmulatorSetupError` naming the first login or datacenter name that is
    malformed, or the datacenter named twice."""
    if not datacenters:
        raise EmulatorSetupError("at least one datacenter is needed")
    for login in logins:
        if not _LOGIN_RE.fullmatch(login):
            raise EmulatorSetupError(
                f"invalid account login {login!r}: a login starts with a letter and goes on "
                "with letters, digits, '_', '.', '@' or '-'"
            )
    for name in datacenters:
        if not _DATACENTER_RE.fullmatch(name):
            raise EmulatorSetupError(
                f"invalid datacenter name {name!r}: use letters, digits, '-', '_' and '.', "
                "starting with a letter or digit (e.g. us-east-1)"
            )
    repeated = sorted({name for name in datacenters if datacenters.count(name) > 1})
    if repeated:
        raise EmulatorSetupError(f"datacenter named more than once: {', '.join(repeated)}")


def register_accounts(
    db: Database, registry: Mapping[str, Sequence[str | os.PathLike[str]]]
) -> None:
    """Create (or, on restart, keep) each account and its keys; marks them registered."""
    keys = {login: [read_public_key(p) for p in paths] for login, paths in registry.items()}
    for login, paths in registry.items():
        _check_key_names(login, paths, keys[login])
    for login, key_list in keys.items():
        try:
            account = accounts.register_account(db, login)
            for line, name in key_list:
                accounts.register_key(db, str(account["id"]), line, name)
        except (EmulatorError, SmartDCError, ValueError) as exc:
            raise EmulatorSetupError(f"account {login}: {exc}") from None


def _check_key_names(
    login: str, paths: Sequence[str | os.PathLike[str]], key_list: Sequence[tuple[str, str]]
) -> None:
    """Two different keys of one account cannot share a name (the second would replace the
    first); the same key given twice is harmless."""
    seen: dict[str, tuple[str, str | os.PathLike[str]]] = {}
    for path, (line, name) in zip(paths, key_list, strict=True):
        if name in seen and seen[name][0] != line:
            raise EmulatorSetupError(
                f"account {login}: {seen[name][1]} and {path} would both be key {name!r} (a key "
                "is named after its file); rename one of the files"
            )
        seen.setdefault(name, (line, path))


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only turns on TCP_NODELAY for sockets whose protocol
    # says TCP, and without it every keep-alive response stalls on delayed ACKs (~40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise EmulatorSetupError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class EmulatorServer:
    """A running emulator: one HTTP server per datacenter, one shared database.

    Use as a context manager, or call :meth:`start` and :meth:`stop`. ``port=0`` gives every
    datacenter a free port; otherwise datacenters count up from ``port``. ``data_dir`` keeps
    the SQLite database there, so state survives a restart; without it state is in memory.
    ``clock`` is what jobs are scheduled on: real time by default; a
    :class:`~smartdc.emulator.clock.ManualClock` makes time (and every job) move only when the
    test advances it (or ``POST /__emulator/clock``).
    """

    def __init__(
        self,
        accounts: Mapping[str, Sequence[str | os.PathLike[str]]] | None = None,
        datacenters: Sequence[str] = (DEFAULT_DATACENTER,),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        data_dir: str | os.PathLike[str] | None = None,
        provision_delay: float = DEFAULT_PROVISION_DELAY,
        clock: Callable[[], float] | None = None,
    ) -> None:
        check_names(list(accounts or {}), list(datacenters))
        if not host:
            raise EmulatorSetupError(
                "the host to listen on is empty: give an address (0.0.0.0 for every interface)"
            )
        if provision_delay < 0:
            raise EmulatorSetupError("the provision delay cannot be negative")
        self.accounts: dict[str, list[str | os.PathLike[str]]] = {
            login: list(paths) for login, paths in (accounts or {}).items()
        }
        self.datacenters = list(datacenters)
        self.host = host
        self.port = port
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.provision_delay = provision_delay
        #: What jobs are scheduled on: real time, or e.g. a :class:`ManualClock`.
        self.clock: Callable[[], float] = clock or time.time
        self.urls: dict[str, str] = {}
        self._db: Database | None = None
        self._config: EmulatorConfig | None = None
        self._servers: list[uvicorn.Server] = []
        self._scheduler: Scheduler | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    # --- attributes available once started ------------------------------------------------

    @property
    def db(self) -> Database:
        """The shared database (after :meth:`start`)."""
        if self._db is None:
            raise RuntimeError("the emulator is not started")
        return self._db

    @property
    def config(self) -> EmulatorConfig:
        """The settings every datacenter shares (after :meth:`start`)."""
        if self._config is None:
            raise RuntimeError("the emulator is not started")
        return self._config

    @property
    def url(self) -> str:
        """The first datacenter's base URL."""
        if not self.urls:
            raise RuntimeError("the emulator is not started")
        return self.urls[self.datacenters[0]]

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> EmulatorServer:
        """Open the database, register accounts, and serve until every port accepts."""
        if self._thread is not None:
            raise RuntimeError("the emulator is already running")
        db = self._open_database()
        sockets: list[socket.socket] = []
        try:
            register_accounts(db, self.accounts)
            for index, _ in enumerate(self.datacenters):
                sockets.append(_bind(self.host, self.port + index if self.port else 0))
        except BaseException:
            for sock in sockets:
                sock.close()
            db.close()
            raise
        self.urls = {
            name: _url(self.host, sock.getsockname()[1])
            for name, sock in zip(self.datacenters, sockets, strict=True)
        }
        self._db = db
        self._config = EmulatorConfig(
            provision_delay=self.provision_delay, datacenters=dict(self.urls), clock=self.clock
        )
        self._servers = [
            uvicorn.Server(
                uvicorn.Config(
                    create_app(db, self._config, name),
                    log_level="warning",
                    access_log=False,
                    server_header=False,
                    date_header=False,
                    lifespan="off",
                    ws="wsproto",
                )
            )
            for name in self.datacenters
        ]
        self._failure = None
        self._scheduler = Scheduler(db, self._config.clock)
        self._thread = threading.Thread(
            target=self._run, args=(sockets,), name="smartdc-emulator", daemon=True
        )
        self._thread.start()
        self._wait_until_serving()
        return self

    def _open_database(self) -> Database:
        if self.data_dir is None:
            return Database(None)
        if self.data_dir.exists() and not self.data_dir.is_dir():
            raise EmulatorSetupError(
                f"cannot use data directory {self.data_dir}: it is a file, not a directory"
            )
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EmulatorSetupError(f"cannot use data directory {self.data_dir}: {exc}") from None
        path = self.data_dir / DATABASE_FILE
        try:
            return Database(path)
        except sqlite3.Error as exc:
            raise EmulatorSetupError(
                f"cannot open the emulator database {path}: {exc} (move it away to start afresh)"
            ) from None

    def _run(self, sockets: list[socket.socket]) -> None:
        async def serve_all() -> None:
            assert self._scheduler is not None
            scheduler = asyncio.create_task(self._scheduler.run())
            try:
                await asyncio.gather(
                    *(
                        server.serve(sockets=[sock])
                        for server, sock in zip(self._servers, sockets, strict=True)
                    )
                )
            finally:
                self._scheduler.stop()
                await scheduler

        try:
            asyncio.run(serve_all())
        except BaseException as exc:  # reported to start() or stop()
            self._failure = exc
        finally:
            for sock in sockets:
                sock.close()

    def _wait_until_serving(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not all(server.started for server in self._servers):
            thread = self._thread
            if thread is None or not thread.is_alive() or time.monotonic() > deadline:
                failure = self._failure
                self.stop()
                raise EmulatorSetupError(f"the emulator did not start: {failure!r}")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop serving and close the database. Safe to call twice."""
        for server in self._servers:
            server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=STARTUP_TIMEOUT)
            self._thread = None
        self._servers = []
        if self._db is not None:
            self._db.close()
            self._db = None

    def reset(self) -> None:
        """Forget every machine, image, key and account made through the API, and cancel
        pending faults."""
        reset_state(self.db, self.config.faults)

    def inject(
        self,
        *,
        fail_provision: int | None = None,
        throttle: int | None = None,
        unavailable: int | None = None,
        retry_after: int | None = None,
    ) -> dict[str, int]:
        """Make coming events fail, region-wide (see :mod:`smartdc.emulator.faults`):

        * ``fail_provision``: the next N machines created end ``failed``;
        * ``throttle``: the next N signed requests answer 429 ``TooManyRequestsError``;
        * ``unavailable``: the next N signed requests answer 503 ``ServiceUnavailableError``
          with ``Retry-After: retry_after`` seconds (default 1).

        Each count given replaces the pending one (0 cancels); those not given stay.
        Returns the pending faults. Raises ``ValueError`` for a negative count.
        """
        given = {
            "fail_provision": fail_provision,
            "throttle": throttle,
            "unavailable": unavailable,
            "retry_after": retry_after,
        }
        return self.config.faults.set(**{k: v for k, v in given.items() if v is not None})

    def pending_faults(self) -> dict[str, int]:
        """Faults not used up yet: ``{"fail_provision", "throttle", "unavailable",
        "retry_after"}``."""
        return self.config.faults.pending()

    def clear_faults(self) -> None:
        """Cancel every pending fault."""
        self.config.faults.clear()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# --- command line --------------------------------------------------------------------------


class _Ordered(argparse.Action):
    """Record ``--account`` and ``--key`` in command-line order, so a key belongs to the
    account before it."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        sequence: list[tuple[str, str]] = list(getattr(namespace, "ordered", None) or [])
        sequence.append((self.dest, str(values)))
        namespace.ordered = sequence


def build_parser() -> argparse.ArgumentParser:
    """The ``smartdc-emulator`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="smartdc-emulator",
        description="A local, stateful Triton CloudAPI for testing Triton tools offline.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port", type=int, default=8080, help="port of the first datacenter (0: any free port)"
    )
    parser.add_argument(
        "--data-dir", metavar="DIR", help="keep state in DIR (default: in memory only)"
    )
    parser.add_argument(
        "--account",
        metavar="LOGIN",
        action=_Ordered,
        dest="account",
        help="create this account (repeatable)",
    )
    parser.add_argument(
        "--key",
        metavar="PUBFILE",
        action=_Ordered,
        dest="key",
        help="add this public key to the preceding --account (repeatable)",
    )
    parser.add_argument(
        "--datacenter",
        metavar="NAME",
        action="append",
        help=f"serve this datacenter, each on the next port (default {DEFAULT_DATACENTER})",
    )
    parser.add_argument(
        "--provision-delay",
        type=float,
        default=DEFAULT_PROVISION_DELAY,
        metavar="SECONDS",
        help=(
            "seconds a provision takes; stop, start, reboot and delete take half, updates a "
            f"fifth (default {DEFAULT_PROVISION_DELAY:g}, about a real SmartOS container; "
            "0 for tests)"
        ),
    )
    parser.add_argument(
        "--manual-clock",
        action="store_true",
        help=(
            "schedule jobs on a clock that moves only when told (POST /__emulator/clock "
            '{"advance": SECONDS}), for tests that control time'
        ),
    )
    parser.set_defaults(ordered=[])
    return parser


def accounts_from_arguments(ordered: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """Pair keys with accounts: each key goes to the nearest ``--account`` before it, keys
    before any ``--account`` to the first account, and with no ``--account`` at all to
    ``demo``."""
    registry: dict[str, list[str]] = {}
    logins = [value for kind, value in ordered if kind == "account"]
    current = logins[0] if logins else DEFAULT_ACCOUNT
    for kind, value in ordered:
        if kind == "account":
            current = value
            registry.setdefault(value, [])
        else:
            registry.setdefault(current, []).append(value)
    return registry


def registered_key_ids(
    registry: Mapping[str, Sequence[str | os.PathLike[str]]],
) -> list[tuple[str, str]]:
    """``(login, keyId)`` for every key registered at start-up; the keyId names the key by its
    MD5 fingerprint, the form ``TRITON_KEY_ID`` and ssh-agent look-ups need."""
    found = []
    for login, paths in registry.items():
        for path in paths:
            line, _ = read_public_key(path)
            _, fingerprint = accounts.key_fingerprint(line)
            found.append((login, f"/{login}/keys/{fingerprint}"))
    return found


def main(argv: list[str] | None = None) -> int:
    """Run the emulator until SIGINT or SIGTERM; 2 for bad options."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be 0..65535, not {args.port}")
    if args.provision_delay < 0:
        parser.error("--provision-delay cannot be negative")
    datacenters = args.datacenter or [DEFAULT_DATACENTER]
    if args.port and args.port + len(datacenters) - 1 > 65535:
        parser.error(f"{len(datacenters)} datacenters do not fit above port {args.port}")
    try:
        server = EmulatorServer(
            accounts_from_arguments(args.ordered),
            datacenters,
            host=args.host,
            port=args.port,
            data_dir=args.data_dir,
            provision_delay=args.provision_delay,
            clock=ManualClock() if args.manual_clock else None,
        )
    except EmulatorSetupError as exc:
        parser.error(str(exc))
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            server.start()
        except EmulatorSetupError as exc:
            print(f"smartdc-emulator: error: {exc}", file=sys.stderr, flush=True)
            return 2
        for name, url in server.urls.items():
            print(f"smartdc-emulator: datacenter {name} listening on {url}", flush=True)
        for login, key_id in registered_key_ids(server.accounts):
            print(f"smartdc-emulator: account {login} key {key_id}", flush=True)
        while not stop.wait(0.5):
            pass
        return 0
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    sys.exit(main())
