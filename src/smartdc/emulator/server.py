"""Running the emulator: :class:`EmulatorServer` for programs and tests, ``main`` for the
``smartdc-emulator`` command.

Every datacenter gets its own port and ASGI app; all of them share one :class:`Database`,
as the datacenters of a Triton region share accounts and keys. The uvicorn servers run in
one event loop on a background thread, so signals stay with the main thread.

Each app sits behind a :class:`FrontDoor`, which does what CloudAPI's HTTP server does before
restify sees a request, and what the emulator adds around it:

1. a request head (request line and headers) over :data:`MAX_HEADER_BYTES` is refused with
   431, as Node's HTTP server refuses it;
2. with a control token, control-plane requests without it in ``X-Emulator-Token`` get 401;
3. the request is recorded for fault rules and the rate limit
   (:func:`smartdc.emulator.faults.handling`), and the connection faults rules call for are
   carried out: the connection dropped before the request is handled, the response held
   back, or the response dropped once the request is handled;
4. with the access log on, one line per request goes to the ``smartdc.emulator.access``
   logger;
5. response header names reach the wire in the case the app gave them, as Node writes them
   (:mod:`smartdc.emulator.http_stack`).

A data directory is locked while an emulator uses it (``emulator.lock`` there, holding the
owner's pid), so that two emulators never share one database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import ipaddress
import logging
import os
import re
import signal
import socket
import sqlite3
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, TextIO
from urllib.parse import parse_qs

import uvicorn

from smartdc._version import __version__
from smartdc.emulator import faults as fault_plan
from smartdc.emulator.app import DECODED_HEADERS, OPENAPI_PATH, CloudAPIApp, create_app
from smartdc.emulator.bell import CommitBell
from smartdc.emulator.clock import ManualClock
from smartdc.emulator.context import (
    API_VERSIONS,
    DEFAULT_PROVISION_DELAY,
    SERVER_VERSION,
    EmulatorConfig,
    EmulatorError,
)
from smartdc.emulator.control import PREFIX as CONTROL_PREFIX
from smartdc.emulator.control import record_registry, register, reset_state
from smartdc.emulator.cork import Cork
from smartdc.emulator.db import Database
from smartdc.emulator.faults import FaultPlan, RateLimit, RequestFacts
from smartdc.emulator.heap import freeze_heap
from smartdc.emulator.http_stack import HTTP_PROTOCOL, run_event_loop, wire_headers
from smartdc.emulator.params import MAX_BODY_BYTES, parse_query, parse_request
from smartdc.emulator.responses import identification_headers, json_bytes, request_id_for
from smartdc.emulator.router import Router, known_operations
from smartdc.emulator.scheduler import Scheduler
from smartdc.emulator.store import accounts, ids
from smartdc.emulator.versions import requested_range
from smartdc.errors import SmartDCError

if sys.platform != "win32":
    import fcntl

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_DATACENTER = "local-1"
DEFAULT_ACCOUNT = "demo"
DATABASE_FILE = "emulator.sqlite3"
LOCK_FILE = "emulator.lock"
STARTUP_TIMEOUT = 15.0
#: The largest request head (request line plus headers) accepted: Node's HTTP server limit
#: in the Node 6 releases CloudAPI runs on.
MAX_HEADER_BYTES = 8192
#: The header a control token travels in.
CONTROL_TOKEN_HEADER = "x-emulator-token"

access_log = logging.getLogger("smartdc.emulator.access")

# Names end up in URL paths, hostnames and `triton` profiles, so they stay plain.
_LOGIN_RE = re.compile(r"[A-Za-z][A-Za-z0-9_.@-]*")
_DATACENTER_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class EmulatorSetupError(ValueError):
    """The emulator cannot start with the options given (bad key file, port in use ...)."""


def read_public_key(path: str | os.PathLike[str]) -> tuple[str, str]:
    """``(OpenSSH line, key name)`` from a ``.pub`` file (``~`` is expanded); the name is the
    file name without ``.pub``. Raises :class:`EmulatorSetupError` naming the file when it is
    missing or is not a public key."""
    file = Path(path).expanduser()
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
    """Create (or, on restart, keep) each account and its keys, marked registered, and
    record them as what ``POST /__emulator/reset`` puts back."""
    keys = {login: [read_public_key(p) for p in paths] for login, paths in registry.items()}
    for login, paths in registry.items():
        _check_keys(login, paths, keys[login])
    for login, key_list in keys.items():
        try:
            register(db, login, key_list)
        except (EmulatorError, SmartDCError, ValueError) as exc:
            raise EmulatorSetupError(f"account {login}: {exc}") from None
    record_registry(db, keys)


def _check_keys(
    login: str, paths: Sequence[str | os.PathLike[str]], key_list: Sequence[tuple[str, str]]
) -> None:
    """One key given twice to an account, or two keys that would share a name (a key is
    named after its file, and the second would replace the first), is refused."""
    names: dict[str, str | os.PathLike[str]] = {}
    seen: dict[str, str | os.PathLike[str]] = {}
    for path, (line, name) in zip(paths, key_list, strict=True):
        _, fingerprint = accounts.key_fingerprint(line)
        if fingerprint in seen:
            first = seen[fingerprint]
            raise EmulatorSetupError(
                f"account {login}: key {path} is given more than once"
                if Path(first).expanduser() == Path(path).expanduser()
                else f"account {login}: {first} and {path} are the same key; give it once"
            )
        if name in names:
            raise EmulatorSetupError(
                f"account {login}: {names[name]} and {path} would both be key {name!r} (a key "
                "is named after its file); rename one of the files"
            )
        names[name] = path
        seen[fingerprint] = path


def _bind(host: str, port: int, *, shared: bool = False) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only turns on TCP_NODELAY for sockets whose protocol
    # says TCP, and without it every keep-alive response stalls on delayed ACKs (~40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        # Each worker listens on a socket of its own on the same port, and the kernel
        # spreads new connections evenly among them (one shared socket goes to whichever
        # worker happens to be waiting in accept, often the same one).
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
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


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (``localhost`` or a loopback address)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# --- the data directory lock --------------------------------------------------------------------


class DataDirLock:
    """An exclusive lock on a data directory, held from :meth:`acquire` to :meth:`release`.

    The lock is an ``flock`` on ``emulator.lock``, which also holds the owner's pid for the
    error another emulator then reports. The operating system drops it when the process
    ends, however it ends.
    """

    def __init__(self, directory: Path) -> None:
        self.path = directory / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`EmulatorSetupError` naming who holds it."""
        if sys.platform == "win32":
            return
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise EmulatorSetupError(f"cannot lock {self.path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip()
            os.close(fd)
            who = f" (pid {holder})" if holder.isdigit() else ""
            raise EmulatorSetupError(
                f"data directory {self.path.parent} is in use by another emulator{who}; "
                "stop it or give another --data-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        self._fd = fd

    def release(self) -> None:
        """Let go of the lock (safe to call when not held)."""
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None


# --- the front door ---------------------------------------------------------------------------


def _headers_of(scope: Scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _raw_path(scope: Scope) -> str:
    raw = scope.get("raw_path")
    return raw.decode("latin-1").split("?", 1)[0] if raw else str(scope.get("path", "/"))


def head_size(scope: Scope) -> int:
    """Bytes of the request line and headers as they came over the wire (near enough)."""
    target = len(scope.get("raw_path") or b"") + len(scope.get("query_string", b"")) + 1
    line = len(str(scope.get("method", "GET"))) + target + len("HTTP/1.1") + 4
    return line + sum(len(k) + len(v) + 4 for k, v in scope.get("headers", [])) + 2


_KEY_ID = re.compile(r'keyId="/([^/"]+)/')


def key_id_login(headers: Mapping[str, str], query_string: str) -> str | None:
    """The account login a request's keyId names (Authorization header, else a pre-signed
    URL's ``keyId``), unverified; sub-users' keyIds name their account."""
    found = _KEY_ID.search(headers.get("authorization", ""))
    if found:
        return found.group(1)
    values = parse_qs(query_string).get("keyId")
    if values and values[0].startswith("/"):
        return values[0].split("/")[1] or None
    return None


def _operation_of(
    router: Router,
    method: str,
    path: str,
    query_string: str,
    headers: Mapping[str, str],
    body: bytes,
) -> str | None:
    """The operation a request routes to, as the app will route it (``None``: none)."""
    try:
        group = router.resolve(method, path, requested_range(headers))
    except EmulatorError:
        return None
    try:
        params = parse_request(query_string, body, headers).params
    except EmulatorError:
        params = parse_query(query_string)
    action = params.get("action")
    route = group.select(action if isinstance(action, str) else None)
    return route.operation if route is not None else None


async def _buffer_body(receive: Receive) -> tuple[bytes, Receive]:
    """Read the request body (up to one byte past the app's limit, enough for it to answer
    413) and a ``receive`` that hands it to the app again."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = bytes(message.get("body", b""))[: MAX_BODY_BYTES + 1 - size]
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay


async def _drop_connection(send: Send) -> None:
    """Close the client's connection without an answer.

    uvicorn's ``send`` belongs to the request's cycle, which holds the transport; with
    another server, a response is started and never finished, which makes the server close
    the connection.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if isinstance(transport, asyncio.BaseTransport):
        transport.close()
        for _ in range(3):  # let the server see the connection go before the app returns
            await asyncio.sleep(0)
        return
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1")]}
    )


@dataclass
class _Outcome:
    """What the access log says of one request."""

    status: str = "-"
    request_id: str = "-"


class FrontDoor:
    """The ASGI app uvicorn serves for one datacenter: the checks and faults around ``app``
    that belong to the HTTP server (see the module docstring)."""

    def __init__(
        self,
        app: CloudAPIApp,
        datacenter: str,
        faults: FaultPlan,
        *,
        access_log: bool = False,
        control_token: str | None = None,
    ) -> None:
        self.app = app
        self.datacenter = datacenter
        self.faults = faults
        self.access_log = access_log
        self.control_token = control_token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        outcome = _Outcome()
        cork = Cork(send)
        try:
            await self._serve(scope, receive, self._observed(send, outcome, cork), send, outcome)
        finally:
            cork.open()
            if self.access_log:
                self._log(scope, outcome, started)

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, raw_send: Send, outcome: _Outcome
    ) -> None:
        headers = _headers_of(scope)
        scope[DECODED_HEADERS] = headers
        path = _raw_path(scope)
        method = "GET" if scope["type"] == "websocket" else str(scope["method"]).upper()
        if head_size(scope) > MAX_HEADER_BYTES:
            await self._refuse(scope, receive, send, 431, None, headers)
            return
        if self.control_token is not None and path.startswith(CONTROL_PREFIX):
            given = headers.get(CONTROL_TOKEN_HEADER, "")
            if not hmac.compare_digest(given.encode(), self.control_token.encode()):
                error = {
                    "code": "Unauthorized",
                    "message": f"the control plane wants the emulator's control token in "
                    f"{CONTROL_TOKEN_HEADER.title()}",
                }
                await self._refuse(scope, receive, send, 401, error, headers)
                return
        query_string = scope.get("query_string", b"").decode("latin-1")
        body = b""
        cloudapi = not path.startswith(CONTROL_PREFIX) and path != OPENAPI_PATH
        if scope["type"] == "http" and cloudapi and self.faults.has_rules:
            body, receive = await _buffer_body(receive)
        facts = RequestFacts(
            method,
            path,
            login=key_id_login(headers, query_string),
            resolve_operation=lambda: _operation_of(
                self.app.router, method, path, query_string, headers, body
            ),
        )
        with fault_plan.handling(facts):
            if scope["type"] == "websocket" or not cloudapi:
                await self.app(scope, receive, send)
                return
            await self._http(scope, receive, send, raw_send, facts, outcome)

    async def _http(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        raw_send: Send,
        facts: RequestFacts,
        outcome: _Outcome,
    ) -> None:
        planned = self.faults.connection_faults(facts)
        if planned.drop_request:
            outcome.status = "dropped before handling"
            await _drop_connection(raw_send)
            return
        if not planned.delay and not planned.drop_response:
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        if planned.delay:
            await asyncio.sleep(planned.delay)
        if planned.drop_response:
            outcome.status = "dropped after handling"
            await _drop_connection(raw_send)
            return
        for message in held:
            await send(message)

    async def _refuse(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        status: int,
        body: Any,
        headers: Mapping[str, str],
    ) -> None:
        """Answer without the app: 431 bare, as Node's HTTP server does, or a JSON error."""
        data = b"" if body is None else json_bytes(body)
        raw = [(b"content-length", str(len(data)).encode())]
        if body is not None:
            raw.append((b"content-type", b"application/json"))
        if status == 431:
            raw.append((b"connection", b"close"))
        for name, value in identification_headers(request_id_for(headers), time.monotonic()):
            raw.append((name.lower().encode(), value.encode("latin-1")))
        if scope["type"] == "websocket":
            if (await receive())["type"] != "websocket.connect":
                return
            if "websocket.http.response" not in scope.get("extensions", {}):
                await send({"type": "websocket.close", "code": 1008})
                return
            await send({"type": "websocket.http.response.start", "status": status, "headers": raw})
            await send({"type": "websocket.http.response.body", "body": data})
            return
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": data})

    @staticmethod
    def _observed(send: Send, outcome: _Outcome, cork: Cork) -> Send:
        async def observed(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.body" and not message.get("more_body", False):
                await send(message)
                cork.open()
                return
            if kind in ("http.response.start", "websocket.http.response.start"):
                outcome.status = str(message["status"])
                for name, value in message.get("headers", []):
                    if name.lower() == b"request-id":
                        outcome.request_id = value.decode("latin-1")
                if kind == "http.response.start":
                    cork.close()
                    message = {**message, "headers": wire_headers(message.get("headers", []))}
            elif kind == "websocket.accept":
                outcome.status = "101"
            elif kind == "websocket.close" and outcome.status == "-":
                outcome.status = "403"
            await send(message)

        return observed

    def _log(self, scope: Scope, outcome: _Outcome, started: float) -> None:
        method = "WEBSOCKET" if scope["type"] == "websocket" else str(scope["method"])
        query = scope.get("query_string", b"").decode("latin-1")
        target = _raw_path(scope) + (f"?{query}" if query else "")
        client = scope.get("client")
        elapsed_ms = int((time.monotonic() - started) * 1000)
        access_log.info(
            '%s %s "%s %s" %s %dms %s',
            self.datacenter,
            client[0] if client else "-",
            method,
            target,
            outcome.status,
            elapsed_ms,
            outcome.request_id,
        )


def _ignore_signal(signum: int, frame: FrameType | None) -> None:
    return None


def _check_workers(
    workers: int,
    data_dir: str | os.PathLike[str] | None,
    clock: Callable[[], float] | None,
    seed: int | None,
    rate_limit: RateLimit | None,
) -> None:
    """What several worker processes need, and what they cannot share."""
    if workers < 1:
        raise EmulatorSetupError(f"workers must be 1 or more, not {workers}")
    if workers == 1:
        return
    if data_dir is None:
        raise EmulatorSetupError("several workers share one database: give a data directory")
    for given, what in (
        (clock is not None, "a manual clock"),
        (seed is not None, "a seed (each worker would make the same ids)"),
        (rate_limit is not None, "the rate limit"),
    ):
        if given:
            raise EmulatorSetupError(
                f"several workers cannot share {what}: it is kept by each process"
            )


def uvicorn_config(app: ASGIApp) -> uvicorn.Config:
    """How the emulator has uvicorn serve ``app`` (benchmarks serve their peers alike)."""
    return uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        server_header=False,
        date_header=False,
        lifespan="off",
        ws="wsproto",
        http=HTTP_PROTOCOL,
        # Room above MAX_HEADER_BYTES, so that the front door's 431 answers an oversized
        # head rather than h11's bare 400.
        h11_max_incomplete_event_size=8 * MAX_HEADER_BYTES,
    )


class EmulatorServer:
    """A running emulator: one HTTP server per datacenter, one shared database.

    Use as a context manager, or call :meth:`start` and :meth:`stop`. ``port=0`` gives every
    datacenter a free port; otherwise datacenters count up from ``port``. ``data_dir`` keeps
    the SQLite database there, so state survives a restart; without it state is in memory.
    ``clock`` is what jobs are scheduled on: real time by default; a
    :class:`~smartdc.emulator.clock.ManualClock` makes time (and every job) move only when the
    test advances it (or ``POST /__emulator/clock``). Key paths may start with ``~``.
    ``workers`` above 1 (with ``data_dir``) forks that many serving processes in
    :meth:`start` (``smartdc-emulator --workers``): start it from a program with no other
    threads yet, as the command does.

    ``rate_limit`` turns on CloudAPI's per-account throttle (off by default);
    ``access_log`` logs one line per request to the ``smartdc.emulator.access`` logger;
    ``control_token`` makes the control plane want ``X-Emulator-Token: <token>``.
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
        rate_limit: RateLimit | None = None,
        access_log: bool = False,
        control_token: str | None = None,
        seed: int | None = None,
        workers: int = 1,
    ) -> None:
        check_names(list(accounts or {}), list(datacenters))
        _check_workers(workers, data_dir, clock, seed, rate_limit)
        if not host:
            raise EmulatorSetupError(
                "the host to listen on is empty: give an address (0.0.0.0 for every interface)"
            )
        if provision_delay < 0:
            raise EmulatorSetupError("the provision delay cannot be negative")
        if control_token is not None and not control_token.strip():
            raise EmulatorSetupError("the control token is empty")
        self.accounts: dict[str, list[str | os.PathLike[str]]] = {
            login: list(paths) for login, paths in (accounts or {}).items()
        }
        self.datacenters = list(datacenters)
        self.host = host
        self.port = port
        self.data_dir = Path(data_dir).expanduser() if data_dir is not None else None
        self.provision_delay = provision_delay
        #: What jobs are scheduled on: real time, or e.g. a :class:`ManualClock`.
        self.clock: Callable[[], float] = clock or time.time
        self.rate_limit = rate_limit
        self.access_log = access_log
        self.control_token = control_token
        #: Makes ids, MACs and IPs repeatable run to run (:mod:`smartdc.emulator.store.ids`).
        self.seed = seed
        #: Processes serving the region (see :meth:`start`).
        self.workers = workers
        self._children: list[int] = []
        self._bell: CommitBell | None = None
        self.urls: dict[str, str] = {}
        self._lock: DataDirLock | None = None
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
            ids.use_seed(db, self.seed)
            register_accounts(db, self.accounts)
            ids.mark_start(db)
            for index, _ in enumerate(self.datacenters):
                port = self.port + index if self.port else 0
                sockets.append(_bind(self.host, port, shared=self.workers > 1))
        except BaseException:
            for sock in sockets:
                sock.close()
            db.close()
            self._release_lock()
            raise
        self.urls = {
            name: _url(self.host, sock.getsockname()[1])
            for name, sock in zip(self.datacenters, sockets, strict=True)
        }
        if self.workers > 1:
            db = self._fork_workers(db, sockets)
        self._db = db
        self._config = self._region_config()
        self._servers = self._uvicorn_servers(db, self._config)
        self._failure = None
        self._scheduler = Scheduler(db, self._config.clock)
        self._thread = threading.Thread(
            target=self._run, args=(sockets,), name="smartdc-emulator", daemon=True
        )
        self._thread.start()
        self._wait_until_serving()
        return self

    def _region_config(self) -> EmulatorConfig:
        return EmulatorConfig(
            provision_delay=self.provision_delay,
            datacenters=dict(self.urls),
            clock=self.clock,
            faults=FaultPlan(self.rate_limit),
            workers=self.workers,
        )

    def _uvicorn_servers(self, db: Database, config: EmulatorConfig) -> list[uvicorn.Server]:
        return [
            uvicorn.Server(
                uvicorn_config(
                    FrontDoor(
                        create_app(db, config, name),
                        name,
                        config.faults,
                        access_log=self.access_log,
                        control_token=self.control_token,
                    )
                )
            )
            for name in self.datacenters
        ]

    # --- several worker processes -----------------------------------------------------------

    def _fork_workers(self, db: Database, sockets: list[socket.socket]) -> Database:
        """Start ``workers - 1`` more processes serving the same sockets and database; this
        one stays the first worker, the only one with a scheduler. Returns this process's
        database, opened again after the fork (an SQLite connection must not cross one)."""
        assert self.data_dir is not None
        db.close()
        for index in range(1, self.workers):
            pid = os.fork()
            if pid == 0:  # the child serves until told to stop, then leaves at once
                code = 0
                try:
                    self._serve_as_worker(sockets)
                except BaseException:
                    logging.getLogger("smartdc.emulator").exception("worker %d failed", index)
                    code = 1
                finally:
                    os._exit(code)
            self._children.append(pid)
        db = Database(self.data_dir / DATABASE_FILE, shared=True)
        self._bell = CommitBell(self.data_dir, db)
        return db

    def _serve_as_worker(self, sockets: list[socket.socket]) -> None:
        """A forked worker: its own database connection and bell, no scheduler; uvicorn
        stops it on SIGTERM or SIGINT."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            # uvicorn stops on the signal, then raises it again with this handler in place:
            # ignoring it then lets the worker clean up and leave.
            signal.signal(sig, _ignore_signal)
        assert self.data_dir is not None
        inherited, sockets = (
            sockets,
            [_bind(self.host, sock.getsockname()[1], shared=True) for sock in sockets],
        )
        for sock in inherited:
            sock.close()  # the first worker's: connections queued there are its to accept
        db = Database(self.data_dir / DATABASE_FILE, shared=True)
        bell = CommitBell(self.data_dir, db)
        servers = self._uvicorn_servers(db, self._region_config())
        freeze_heap()  # a forked worker is a process of its own that only serves

        async def serve() -> None:
            bell.listen(asyncio.get_running_loop())
            await asyncio.gather(
                *(
                    server.serve(sockets=[sock])
                    for server, sock in zip(servers, sockets, strict=True)
                )
            )

        try:
            run_event_loop(serve())
        finally:
            bell.close()
            db.close()

    def _stop_workers(self) -> None:
        children, self._children = self._children, []
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        for pid in children:
            while True:
                try:
                    done, _ = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    break
                if done or time.monotonic() > deadline:
                    if not done:
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(pid, signal.SIGKILL)
                        os.waitpid(pid, 0)
                    break
                time.sleep(0.02)

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
        lock = DataDirLock(self.data_dir)
        lock.acquire()
        self._lock = lock
        path = self.data_dir / DATABASE_FILE
        try:
            return Database(path)
        except sqlite3.Error as exc:
            self._release_lock()
            raise EmulatorSetupError(
                f"cannot open the emulator database {path}: {exc} (move it away to start afresh)"
            ) from None

    def _release_lock(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _run(self, sockets: list[socket.socket]) -> None:
        async def serve_all() -> None:
            assert self._scheduler is not None
            if self._bell is not None:
                self._bell.listen(asyncio.get_running_loop())
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
            run_event_loop(serve_all())
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
        """Stop serving (every worker) and close the database. Safe to call twice."""
        self._stop_workers()
        for server in self._servers:
            server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=STARTUP_TIMEOUT)
            self._thread = None
        self._servers = []
        if self._bell is not None:
            self._bell.close()
            self._bell = None
        if self._db is not None:
            self._db.close()
            self._db = None
        self._release_lock()

    def reset(self) -> None:
        """Forget every machine, image, key and account made through the API, put back the
        accounts and keys registered at start, and cancel pending faults and rules."""
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
        """Cancel every pending fault and rule."""
        self.config.faults.clear()

    def add_fault(self, kind: str, **spec: Any) -> dict[str, Any]:
        """Add a fault rule (:mod:`smartdc.emulator.faults`): ``kind`` is ``throttle``,
        ``unavailable``, ``slow``, ``drop_request``, ``drop_response`` or ``fail_job``;
        ``spec`` takes ``operation``, ``method``, ``path``, ``count``, ``probability``,
        ``seed``, ``after`` and the kind's ``retry_after``, ``seconds`` or ``job``. Returns
        the rule with its ``id``; raises ``ValueError`` for a bad one."""
        return self.config.faults.add_rule({"kind": kind, **spec}, known_operations())

    def fault_rules(self) -> list[dict[str, Any]]:
        """Every fault rule, with how many requests it ``matched`` and ``fired`` on."""
        return self.config.faults.rules()

    def remove_fault(self, rule_id: str) -> None:
        """Remove one fault rule; ``KeyError`` if there is none with that id."""
        if not self.config.faults.remove_rule(rule_id):
            raise KeyError(rule_id)

    def set_rate_limit(self, limit: RateLimit | None) -> None:
        """Turn CloudAPI's per-account throttle on with ``limit`` (every bucket full), or
        off with ``None``."""
        self.config.faults.rate_limiter.configure(limit)

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
    parser.add_argument("--version", action="version", version=version_text())
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help=(
            "address to listen on (default 127.0.0.1; beyond loopback, anyone who reaches the "
            "port can use the control plane unless --control-token is given)"
        ),
    )
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
        help="create this account (repeatable, each login once)",
    )
    parser.add_argument(
        "--key",
        metavar="PUBFILE",
        action=_Ordered,
        dest="key",
        help=(
            "add this public key to the preceding --account (repeatable; '~' is expanded). "
            "Keys before the first --account go to the first account, and with no --account "
            f"at all to an account named {DEFAULT_ACCOUNT}"
        ),
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
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help=(
            "serve with N processes sharing --data-dir (default 1). Fault injection, the "
            "rate limit, --manual-clock and --seed are per process, so not available then"
        ),
    )
    parser.add_argument(
        "--seed",
        type=int,
        metavar="N",
        help="derive ids, MAC addresses (and so IPs) from N: the same requests get the same ones",
    )
    parser.add_argument(
        "--manual-clock",
        action="store_true",
        help=(
            "schedule jobs on a clock that moves only when told (POST /__emulator/clock "
            '{"advance": SECONDS}), for tests that control time'
        ),
    )
    parser.add_argument(
        "--rate-limit",
        action="store_true",
        help=(
            "throttle each account as CloudAPI does: bursts of 30 requests, 10 a second, then "
            "429 TooManyRequestsError (off by default; POST /__emulator/rate-limit changes it)"
        ),
    )
    parser.add_argument(
        "--control-token",
        metavar="TOKEN",
        help="require X-Emulator-Token: TOKEN on every /__emulator/ request",
    )
    parser.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="log every request (datacenter, client, request line, status, time, request id)",
    )
    parser.set_defaults(ordered=[])
    return parser


def version_text() -> str:
    """What ``--version`` prints: this emulator's version and the CloudAPI it emulates."""
    return (
        f"smartdc-emulator {__version__} (emulates {SERVER_VERSION}, API versions "
        f"{', '.join(API_VERSIONS)})"
    )


def accounts_from_arguments(ordered: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """Pair keys with accounts: each key goes to the nearest ``--account`` before it, keys
    before any ``--account`` to the first account, and with no ``--account`` at all to
    ``demo``. Raises :class:`EmulatorSetupError` for an account named twice."""
    registry: dict[str, list[str]] = {}
    logins = [value for kind, value in ordered if kind == "account"]
    repeated = sorted({login for login in logins if logins.count(login) > 1})
    if repeated:
        raise EmulatorSetupError(
            f"--account {repeated[0]} is given more than once: give each account once, "
            "followed by all of its --key options"
        )
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


def _log_to(stream: TextIO) -> None:
    """Send the access log (and the emulator's other messages) to ``stream``."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("smartdc-emulator: %(message)s"))
    emulator_log = logging.getLogger("smartdc.emulator")
    emulator_log.addHandler(handler)
    emulator_log.setLevel(logging.INFO)


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
            rate_limit=RateLimit() if args.rate_limit else None,
            access_log=args.verbose,
            control_token=args.control_token,
            seed=args.seed,
            workers=args.workers,
        )
    except EmulatorSetupError as exc:
        parser.error(str(exc))
    if args.verbose:
        _log_to(sys.stderr)
    if not is_loopback(args.host) and args.control_token is None:
        print(
            f"smartdc-emulator: warning: listening on {args.host}, beyond this machine: the "
            f"control plane ({CONTROL_PREFIX}...) has no authentication, so anyone who can "
            "reach the port can read every account's state, reset it or inject faults; "
            "give --control-token TOKEN to protect it",
            file=sys.stderr,
            flush=True,
        )
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
        freeze_heap()
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
