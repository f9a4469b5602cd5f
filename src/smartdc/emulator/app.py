"""The emulator's ASGI application: one per datacenter, all sharing one :class:`Database`.

A request goes through CloudAPI's steps in CloudAPI's order, so that the
error a client sees is the one CloudAPI would send:

1. routing (404, 405, 400 ``InvalidVersion``, 415),
2. the Accept check (406),
3. the Authorization parse and clock skew (400 ``InvalidHeader``),
4. the Date check (400 ``RequestExpired``),
5. query and body parsing (400, 413),
6. signature verification (401),
7. the account the path names: ``my`` is the caller; another existing account is 403 and an
   unknown one 404,
8. for a sub-user, RBAC (:mod:`smartdc.emulator.rbac`): 403 unless its active roles, the role
   tags of the resource and their policies allow the route's action,
9. the handler; a resource it creates is role-tagged (the ``role-tag`` header, else a
   sub-user's active roles), and a GET of a role-tagged resource answers with ``role-tag``.

Errors of steps 1-5 carry the reduced header set (no CORS headers, but ``Request-Id``,
``Api-Version``, ``Server`` and ``Response-Time`` like every response); everything later
carries CloudAPI's full set (:mod:`smartdc.emulator.responses`). The body is parsed before
the signature is verified, as CloudAPI's restify chain does (sdc-cloudapi lib/app.js runs
bodyParser before signatureAuth), so a malformed or oversized body is 400/413 even unsigned.

Routes marked ``anonymous`` (Ping) answer unsigned requests at step 6. Injected faults
(:mod:`smartdc.emulator.faults`) step in once a request is authenticated: a pending
``throttle`` answers 429 right after step 6, a pending ``unavailable`` answers 503 just
before step 8, where CloudAPI's read-only check sits.

Outside CloudAPI's namespace the app also serves ``GET /openapi.json`` and the control plane
for tests and tools, with no authentication (:mod:`smartdc.emulator.control`).
"""

from __future__ import annotations

import contextvars
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

import anyio.to_thread

from smartdc.auth import httpsig
from smartdc.emulator import auth, rbac, websockets
from smartdc.emulator.context import (
    Call,
    EmulatorConfig,
    EmulatorError,
    Reply,
    Route,
    not_found,
)
from smartdc.emulator.control import PREFIX as CONTROL_PREFIX
from smartdc.emulator.control import control
from smartdc.emulator.db import Database
from smartdc.emulator.durability import GroupSync
from smartdc.emulator.faults import THROTTLE, UNAVAILABLE
from smartdc.emulator.openapi import build_openapi
from smartdc.emulator.params import (
    MAX_BODY_BYTES,
    RequestParams,
    check_content_type,
    parse_request,
)
from smartdc.emulator.rbac_actions import rbac_action
from smartdc.emulator.responses import (
    DEFAULT_TYPE,
    Outgoing,
    ResponseContext,
    early_error,
    full_response,
    json_bytes,
    negotiate_media_type,
    request_id_for,
)
from smartdc.emulator.router import RouteGroup, Router
from smartdc.emulator.routes import all_routes
from smartdc.emulator.store import accounts, machines
from smartdc.emulator.versions import requested_range

log = logging.getLogger("smartdc.emulator")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

OPENAPI_PATH = "/openapi.json"
#: Where the front door leaves the request headers it decoded, in the ASGI scope.
DECODED_HEADERS = "smartdc.headers"
#: Methods answered on the event loop rather than in a worker thread.
_INLINE_METHODS = frozenset({"GET", "HEAD"})
DOCS_URL = "http://apidocs.tritondatacenter.com/cloudapi/"
FAVICON_URL = "http://apidocs.tritondatacenter.com/favicon.ico"


@dataclass(frozen=True)
class Incoming:
    """One HTTP request, read off the wire."""

    method: str
    #: The path exactly as sent (still percent-encoded), without the query string.
    path: str
    query_string: str
    headers: dict[str, str]
    body: bytes
    body_too_large: bool
    client_ip: str
    started: float
    #: Arrived as a WebSocket upgrade.
    websocket: bool = False

    @property
    def target(self) -> str:
        """The request URL as signed in ``(request-target)``: raw path plus query."""
        return f"{self.path}?{self.query_string}" if self.query_string else self.path


@dataclass(frozen=True)
class _Encoded:
    """A body already encoded as JSON."""

    data: bytes


def _plain(status: int, body: Any, now: float, headers: Mapping[str, str] = {}) -> Outgoing:
    """A response outside CloudAPI's namespace (control plane, OpenAPI, redirects)."""
    out = Outgoing(status, [("Date", httpsig.format_http_date(now))])
    out.headers.extend(headers.items())
    if body is not None:
        data = body.data if isinstance(body, _Encoded) else json_bytes(body)
        out.headers += [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
        out.body = data
    else:
        out.headers.append(("Content-Length", "0"))
    return out


class CloudAPIApp:
    """The ASGI application serving one datacenter."""

    def __init__(
        self,
        db: Database,
        config: EmulatorConfig,
        datacenter: str,
        routes: list[Route] | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.datacenter = datacenter
        self.router = Router(all_routes() if routes is None else routes)
        self.openapi = build_openapi(
            self.router.routes, server_url=config.datacenters.get(datacenter)
        )
        self._openapi_bytes = json_bytes(self.openapi)
        #: Syncs commits before their answers go out (a database on disk only).
        self._durable = None if db.in_memory else GroupSync(db)
        self._blocking_reads = any(
            route.blocking and route.method in _INLINE_METHODS for route in self.router.routes
        )

    # --- ASGI -----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            return
        body, too_large = await _read_body(receive)
        incoming = _incoming(scope, body, too_large)
        if self._on_the_loop(incoming):
            outgoing = contextvars.copy_context().run(self.handle, incoming)
        else:
            outgoing = await anyio.to_thread.run_sync(self.handle, incoming)
        await self._until_durable()
        await send(
            {
                "type": "http.response.start",
                "status": outgoing.status,
                "headers": _raw_headers(outgoing.headers),
            }
        )
        await send({"type": "http.response.body", "body": outgoing.body})

    async def _until_durable(self) -> None:
        """Wait until what the request committed, or read, is synced (on disk only)."""
        if self._durable is not None and self._durable.pending():
            await self._durable.wait()

    def _on_the_loop(self, request: Incoming) -> bool:
        """Whether to answer on the event loop rather than in a worker thread.

        Handlers are short and CPU-bound, so a thread buys nothing but the hop and a fight
        over the GIL, except for a ``blocking`` route, which may sleep. Nothing else waits:
        a commit does not sync, the answer waits for the sync instead (:attr:`_durable`).
        """
        if request.method in _INLINE_METHODS:
            return not self._blocking_reads
        try:
            group = self.router.resolve(
                request.method, request.path, requested_range(request.headers)
            )
        except EmulatorError:
            return True  # answered with a routing error, at once
        return not any(route.blocking for route in group.routes)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket upgrade: the request pipeline decides, then the route's session runs.

        A refusal goes back as the HTTP error response it is when the server supports the
        ASGI ``websocket.http.response`` extension, else as a close before acceptance (403).
        """
        connect = await receive()
        if connect["type"] != "websocket.connect":
            return
        incoming = dataclasses.replace(
            _incoming({**scope, "method": "GET"}, b"", False), websocket=True
        )
        outgoing = await anyio.to_thread.run_sync(self.handle, incoming)
        await self._until_durable()
        session = outgoing.session
        if outgoing.status != 101 or session is None:
            if "websocket.http.response" in scope.get("extensions", {}):
                await send(
                    {
                        "type": "websocket.http.response.start",
                        "status": outgoing.status,
                        "headers": _raw_headers(outgoing.headers),
                    }
                )
                await send({"type": "websocket.http.response.body", "body": outgoing.body})
            else:
                await send({"type": "websocket.close", "code": 1008})
            return
        offered = websockets.offered_subprotocols(incoming.headers)
        await send(
            {
                "type": "websocket.accept",
                "subprotocol": session.subprotocol(offered),
                "headers": _raw_headers(
                    [(k, v) for k, v in outgoing.headers if k.lower() != "content-length"]
                ),
            }
        )
        channel = websockets.Channel(receive, send)
        try:
            await session.run(channel)
        except Exception:
            log.exception("WebSocket session on %s failed", incoming.path)
        finally:
            await channel.close()

    @staticmethod
    async def _lifespan(receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    # --- request handling -----------------------------------------------------------------

    def handle(self, request: Incoming) -> Outgoing:
        """Answer one request (synchronous: handlers and the database are)."""
        try:
            return self._dispatch(request)
        except Exception:
            log.exception("unhandled error in %s %s", request.method, request.path)
            error = EmulatorError(500, "InternalError", "Internal error")
            return early_error(
                error,
                now=self.config.clock(),
                request_id=request_id_for(request.headers),
                started=request.started,
            )

    def _dispatch(self, request: Incoming) -> Outgoing:
        now = self.config.clock()
        path, method = request.path, request.method
        if method in ("GET", "HEAD"):
            if path == "/" or path == "/docs" or path.startswith("/docs/"):
                return _plain(302, None, now, {"Location": DOCS_URL, "Server": "Cloud API"})
            if path == "/favicon.ico":
                return _plain(302, None, now, {"Location": FAVICON_URL, "Server": "Cloud API"})
            if path == OPENAPI_PATH:
                return _plain(200, _Encoded(self._openapi_bytes), now)
        if path.startswith(CONTROL_PREFIX):
            reply = control(
                method,
                path[len(CONTROL_PREFIX) :],
                request.body,
                db=self.db,
                faults=self.config.faults,
                workers=self.config.workers,
                state_header={
                    "datacenter": self.datacenter,
                    "datacenters": dict(self.config.datacenters),
                },
                clock=self.config.clock,
            )
            return _plain(reply.status, reply.body, now, reply.headers)
        return self._cloudapi(request, now)

    def _cloudapi(self, request: Incoming, now: float) -> Outgoing:
        headers = request.headers
        request_id = request_id_for(headers)
        media = negotiate_media_type(headers.get("accept"))
        version_range = requested_range(headers)
        try:
            group = self.router.resolve(request.method, request.path, version_range)
            check_content_type(headers.get("content-type"), group.content_types)
            if media is None:
                raise EmulatorError(
                    406,
                    "NotAcceptableError",
                    "Server accepts: "
                    "application/json,text/plain,application/octet-stream,application/javascript",
                )
            # Clients sign with their real clock, whatever clock the emulator's jobs run on.
            wall = time.time()
            parsed = auth.parse_credentials(headers, wall)
            auth.check_date(headers, wall)
            inputs = parse_request(
                request.query_string, request.body, headers, too_large=request.body_too_large
            )
        except EmulatorError as error:
            return early_error(
                error,
                now=now,
                request_id=request_id,
                started=request.started,
                media_type=media or DEFAULT_TYPE,
            )

        context = ResponseContext(
            request_id=request_id,
            started=request.started,
            allow_methods=group.allow_methods,
            media_type=media,
            head=request.method == "HEAD",
        )
        # Date is the request's arrival time, the clock jobs are scheduled from: a client that
        # waits for an audit entry "newer than the response Date" (triton reboot -w) must
        # never see a Date later than a job that was due at once.
        try:
            reply = self._authorised_reply(request, group, parsed, inputs, now)
        except EmulatorError as error:
            return full_response(error.status, None, error.headers, context, now=now, error=error)
        except Exception:
            log.exception("unhandled error in %s %s", request.method, request.path)
            crash = EmulatorError(500, "InternalError", "Internal error")
            return full_response(500, None, {}, context, now=now, error=crash)
        if reply.status == 101:
            upgraded = full_response(101, None, reply.headers, context, now=now)
            upgraded.session = reply.body
            return upgraded
        if reply.content_type is not None:
            context = dataclasses.replace(context, media_type=reply.content_type)
        return full_response(reply.status, reply.body, reply.headers, context, now=now)

    def _authorised_reply(
        self,
        request: Incoming,
        group: RouteGroup,
        parsed: httpsig.ParsedSignature | None,
        inputs: RequestParams,
        now: float,
    ) -> Reply:
        first = group.routes[0]
        if first.anonymous and parsed is None:
            return first.handler(self._call(request, group, inputs, now, {}, {}))
        caller = auth.authenticate(
            self.db,
            parsed,
            method=request.method,
            target=request.target,
            headers=request.headers,
            version_range=group.version_range,
        )
        if first.anonymous:
            caller_info = caller.caller(request.client_ip)
            return first.handler(
                self._call(request, group, inputs, now, caller.account, caller_info)
            )
        self._inject(THROTTLE)
        action = inputs.params.get("action")
        route = group.select(action if isinstance(action, str) else None)
        rbac_name = rbac_action((route or first).operation, request.method)
        login = group.path_params.get("login")
        account = self._path_account(caller, login, request.path, rbac_name)
        if route is None:
            raise first.action_errors.error(action)
        call = self._call(request, group, inputs, now, account, caller.caller(request.client_ip))
        resource = rbac.resource_name(request.path, call.login)
        if caller.user is not None or account["id"] != caller.account["id"]:
            call.user = caller.user
            principal = caller.user or caller.account
            call.active_roles = self._authorize(request, call, route, resource, principal)
        self._inject(UNAVAILABLE)
        reply = route.handler(call)
        self._tag(request, call, route, reply, resource)
        return reply

    def _authorize(
        self,
        request: Incoming,
        call: Call,
        route: Route,
        resource: str,
        principal: dict[str, Any],
    ) -> list[dict[str, Any]]:
        """RBAC for a sub-user's request, or for an account acting on another (``principal``
        is the user or the calling account); the active roles when it is allowed."""
        machine: dict[str, Any] | None = None
        machine_id = rbac.machine_id_of(resource)
        if machine_id is not None:
            try:
                machine = machines.get_machine(
                    self.db,
                    machines.Owner(call.account_uuid, self.datacenter),
                    machine_id,
                    call.now,
                )
            except EmulatorError:
                return []  # CloudAPI loads the machine first: the handler answers 404/409
        as_role = call.params.get("as-role")
        return rbac.authorize(
            self.db,
            rbac.Request(
                account=call.account,
                user=principal,
                cross_account=call.user is None,
                as_role=as_role if isinstance(as_role, str) else None,
                path=request.path,
                action=rbac_action(route.operation, request.method),
                method=request.method,
                user_agent=request.headers.get("user-agent", ""),
                source_ip=rbac.source_ip(request.headers.get("x-forwarded-for"), request.client_ip),
                datacenter=self.datacenter,
                now=call.now,
            ),
            resource,
            machine,
        )

    def _tag(
        self, request: Incoming, call: Call, route: Route, reply: Reply, resource: str
    ) -> None:
        """Role tags after the handler: on what it created or updated, or named in a header."""
        if reply.status not in (200, 201):
            return
        header = rbac.tag_after(
            self.db,
            rbac.Outcome(
                account_uuid=call.account_uuid,
                operation=route.operation,
                method=request.method,
                body=reply.body,
                resource=resource,
                role_tag_header=request.headers.get("role-tag"),
                active_roles=call.active_roles,
            ),
        )
        if header:
            reply.headers["role-tag"] = header

    def _inject(self, kind: str) -> None:
        """Raise the error of a pending request fault of ``kind``, using it up."""
        fault = self.config.faults.take_request_fault(kind)
        if fault is not None:
            raise EmulatorError(fault.status, fault.code, fault.message, headers=fault.headers)

    def _call(
        self,
        request: Incoming,
        group: RouteGroup,
        inputs: RequestParams,
        now: float,
        account: dict[str, Any],
        caller: dict[str, Any],
    ) -> Call:
        """The handler's view of the request (an unsigned one has no account or caller)."""
        path_params = dict(group.path_params)
        if "login" in path_params:
            path_params["login"] = str(account["login"])
        return Call(
            method=request.method,
            path=request.path,
            path_params=path_params,
            query={k: v if isinstance(v, str) else str(v[0]) for k, v in inputs.query.items()},
            body=inputs.body,
            params=inputs.params,
            headers=request.headers,
            version_range=group.version_range,
            datacenter=self.datacenter,
            account={**account, "uuid": account["id"]} if account else {},
            caller=caller,
            db=self.db,
            config=self.config,
            now=now,
            websocket=request.websocket,
        )

    def _path_account(
        self, caller: auth.Authenticated, login: str | None, path: str, action: str
    ) -> dict[str, Any]:
        """The account the path names: the caller's own, or for an account caller another
        one, which RBAC then decides on (sdc-cloudapi lib/auth.js ``loadAccount`` and
        ``authorize``: roles of that account may list other accounts as members). A sub-user
        never reaches beyond its own account."""
        if login is None or login in ("my", caller.account["login"]):
            return caller.account
        other = accounts.get_account(self.db, login)
        if other is None:
            raise not_found(f"{login} does not exist")
        if caller.user is None:
            return other
        raise rbac.forbidden(f"{path} ({action})")


def create_app(db: Database, config: EmulatorConfig, datacenter: str) -> CloudAPIApp:
    """The ASGI application serving ``datacenter`` from ``db``."""
    return CloudAPIApp(db, config, datacenter)


def _raw_headers(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The whole body, or as much as fits the limit and a flag that it did not."""
    chunks: list[bytes] = []
    size = 0
    too_large = False
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            too_large = True
        elif chunk:
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), too_large


def _incoming(scope: Scope, body: bytes, too_large: bool) -> Incoming:
    decoded = scope.get(DECODED_HEADERS)
    headers: dict[str, str] = dict(decoded) if decoded is not None else {}
    for raw_name, raw_value in scope.get("headers", []) if decoded is None else ():
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    # ASGI servers differ on whether raw_path carries the query string; drop it if so.
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1").split("?", 1)[0] if raw_path else str(scope["path"])
    client = scope.get("client")
    return Incoming(
        method=str(scope["method"]).upper(),
        path=path,
        query_string=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body=body,
        body_too_large=too_large,
        client_ip=str(client[0]) if client else "127.0.0.1",
        started=time.monotonic(),
    )
